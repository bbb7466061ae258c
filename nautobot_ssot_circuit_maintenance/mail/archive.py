"""Stored mail as a zip archive written as it streams: one `.eml` per message and a `manifest.json`.

For a bug report to the parser's maintainers: the messages as received, with what became of each. The archive
is written to an unseekable sink (zipfile then uses data descriptors), and each message's bytes are handed on
as soon as they are compressed, so memory holds one message and the manifest, however many are exported.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ArchivedMail:
    """One message to archive: its file name inside the zip, its bytes, and its manifest entry."""

    filename: str
    data: bytes
    entry: dict[str, Any]


class _Sink:
    """A write-only file that keeps what was written until it is taken (zipfile sees it cannot seek)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the parts wait for `take`."""

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def zip_stream(mails: Iterable[ArchivedMail]) -> Iterator[bytes]:
    """The archive's bytes, piece by piece: each message's file, then `manifest.json` (a JSON list, in order).

    Each manifest entry gets the message's `file` name first.
    """
    sink = _Sink()
    manifest: list[dict[str, Any]] = []
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for mail in mails:
            archive.writestr(mail.filename, mail.data)
            manifest.append({"file": mail.filename, **mail.entry})
            yield sink.take()
        archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, ensure_ascii=False))
    yield sink.take()
