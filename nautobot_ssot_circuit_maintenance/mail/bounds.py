"""What one message may cost: size, MIME shape, inflated attachments, parse time, worker memory.

Mail is input from the whole internet. A message over one of these bounds is not parsed: it is
stored with outcome `too-large` (or `parse-timeout`) and the run goes on.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from email.message import Message
from typing import Any

MIB = 1024 * 1024

# Container formats the parser opens (xlsx is a zip); their members are what inflates.
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class MessageBounds:
    """The per-message limits of one run, from the app settings (see docs/install.md)."""

    max_message_bytes: int = 25 * MIB
    max_mime_depth: int = 12
    max_mime_parts: int = 500
    max_inflated_bytes: int = 64 * MIB
    parse_timeout_seconds: float = 60.0
    worker_memory_bytes: int = 2048 * MIB

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> MessageBounds:
        """The bounds of the app's `message_limits` setting, each missing one at its default."""
        limits = settings.get("message_limits") or {}
        defaults = cls()
        return cls(
            max_message_bytes=int(limits.get("max_message_mb", defaults.max_message_bytes / MIB) * MIB),
            max_mime_depth=int(limits.get("max_mime_depth", defaults.max_mime_depth)),
            max_mime_parts=int(limits.get("max_mime_parts", defaults.max_mime_parts)),
            max_inflated_bytes=int(limits.get("max_inflated_mb", defaults.max_inflated_bytes / MIB) * MIB),
            parse_timeout_seconds=float(limits.get("parse_timeout_seconds", defaults.parse_timeout_seconds)),
            worker_memory_bytes=int(limits.get("worker_memory_mb", defaults.worker_memory_bytes / MIB) * MIB),
        )


class OverBound(Exception):
    """The message exceeds one of its bounds; the text says which and by how much."""


def check_size(size: int, bounds: MessageBounds) -> None:
    """Raise OverBound when the message is larger than `max_message_bytes`."""
    if size > bounds.max_message_bytes:
        raise OverBound(f"message is {size:,} bytes, more than the limit of {bounds.max_message_bytes:,}")


def check_structure(message: Message, bounds: MessageBounds) -> None:
    """Depth and part count of the MIME tree, walked without recursion; inflated size of zip attachments.

    Runs before the parser, whose own walk grows exponentially with the nesting depth.
    """
    parts = 0
    inflated = 0
    stack: list[tuple[Message, int]] = [(message, 1)]
    while stack:
        part, depth = stack.pop()
        parts += 1
        if depth > bounds.max_mime_depth:
            raise OverBound(f"MIME parts nested {depth} deep, more than the limit of {bounds.max_mime_depth}")
        if parts > bounds.max_mime_parts:
            raise OverBound(f"more than {bounds.max_mime_parts} MIME parts")
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend((child, depth + 1) for child in payload if isinstance(child, Message))
            continue
        if isinstance(payload, Message):
            stack.append((payload, depth + 1))
            continue
        inflated += _inflated_size(part, bounds.max_inflated_bytes - inflated)
        if inflated > bounds.max_inflated_bytes:
            raise OverBound(f"attachments inflate to more than {bounds.max_inflated_bytes:,} bytes")


def _inflated_size(part: Message, allowance: int) -> int:
    """Bytes a zip attachment (xlsx, zip) would inflate to, from its directory; 0 for anything else."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - an undecodable part inflates nothing; the parser reports it
        return 0
    if not isinstance(data, bytes) or not data.startswith(ZIP_MAGIC):
        return 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = 0
            for member in archive.infolist():
                total += member.file_size
                if total > allowance:
                    break
            return total
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return 0
