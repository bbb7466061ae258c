"""Classify and parse one message: no database, no network."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from email.utils import parsedate_to_datetime

from circuit_maintenance_parser import NotificationData, init_provider

from .choices import OutcomeChoices
from .providers import ProviderEntry, SenderDirectory
from .sources.base import FetchedMessage

# The parser library logs whole raw messages at ERROR on some failures; we record our own error instead.
logging.getLogger("circuit_maintenance_parser").setLevel(logging.CRITICAL)

FALLBACK_PARSER = "genericprovider"
MAINTENANCE_ID_MAX_LENGTH = 255  # CircuitMaintenance.maintenance_id


@dataclass
class ParsedMessage:
    """One fetched message after classification and parsing, ready to be stored."""

    message_key: str
    sender: str
    subject: str
    date: datetime
    raw: bytes
    raw_size: int
    raw_truncated: bool
    location: str
    outcome: str
    provider: ProviderEntry | None = None
    error: str = ""
    # The parser's maintenances, as JSON-able dicts (the library's own JSON form).
    maintenances: list[dict] = field(default_factory=list)


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    text = str(email.header.make_header(email.header.decode_header(str(value)))) if "=?" in str(value) else str(value)
    return " ".join(text.split())


def message_key(message: Message, raw: bytes) -> str:
    """Message-ID plus a hash of the body, else a hash of the whole message.

    The same mail reaching two mailboxes differs only in its transport headers, so it keeps its key;
    senders that reuse one Message-ID for different notices (seen in real provider mail) do not collide.
    """
    message_id = " ".join((message.get("Message-ID") or "").split())
    if message_id:
        _, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
        return f"mid:{message_id[:200]}#{hashlib.sha256(body).hexdigest()[:16]}"
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def message_date(message: Message, fallback: datetime | None) -> datetime:
    """The Date header (stable across mailboxes and arrival orders), else when the mailbox received it."""
    try:
        parsed = parsedate_to_datetime(message.get("Date", ""))
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is not None:
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return fallback or datetime.now(timezone.utc)


def _load_message(raw: bytes) -> Message:
    # The parser library reads mail as UTF-8 text; do the same when we can so results match it exactly.
    try:
        return email.message_from_string(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return email.message_from_bytes(raw)


def parse_maintenances(message: Message, parser_name: str) -> list[dict]:
    """Run one parser; raises whatever the library raises."""
    provider = init_provider(parser_name)
    data = NotificationData.init_from_emailmessage(message)
    if data is None:
        raise ValueError("the message has no readable parts")
    return [json.loads(maintenance.to_json()) for maintenance in provider.get_maintenances(data)]


def check_maintenance_id(value: object) -> None:
    """A maintenance id is the record's identity: it must be text that fits the database column."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"the parser gave no maintenance id ({value!r})")
    if len(value) > MAINTENANCE_ID_MAX_LENGTH:
        raise ValueError(f"maintenance id is {len(value)} characters long, more than {MAINTENANCE_ID_MAX_LENGTH}")


def _error_text(error: Exception) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}"[:2000]


def process_message(
    fetched: FetchedMessage, *, directory: SenderDirectory, source_header: str, raw_size_limit: int
) -> ParsedMessage:
    """Classify by sender, parse with the provider's parser; every failure becomes an outcome, not an exception."""
    raw = fetched.raw
    try:
        message = _load_message(raw)
    except Exception as error:  # noqa: BLE001 - a broken message must not stop the run
        return ParsedMessage(
            message_key=f"sha256:{hashlib.sha256(raw).hexdigest()}",
            sender="",
            subject="",
            date=fetched.received or datetime.now(timezone.utc),
            raw=raw[:raw_size_limit],
            raw_size=len(raw),
            raw_truncated=len(raw) > raw_size_limit,
            location=fetched.location,
            outcome=OutcomeChoices.PARSING_FAILED,
            error=f"unreadable message: {_error_text(error)}",
        )

    sender = _header(message, source_header) or _header(message, "From")
    result = ParsedMessage(
        message_key=message_key(message, raw),
        sender=sender[:255],
        subject=_header(message, "Subject")[:255],
        date=message_date(message, fetched.received),
        raw=raw[:raw_size_limit],
        raw_size=len(raw),
        raw_truncated=len(raw) > raw_size_limit,
        location=fetched.location[:255],
        outcome=OutcomeChoices.UNKNOWN_PROVIDER,
    )
    provider = directory.lookup(_header(message, source_header))
    if provider is None:
        result.error = f"no provider attached to this source claims the sender ({source_header}: {sender or 'none'})"
        return result
    result.provider = provider
    try:
        maintenances = parse_maintenances(message, provider.parser or FALLBACK_PARSER)
        for maintenance in maintenances:
            check_maintenance_id(maintenance.get("maintenance_id"))
    except Exception as error:  # noqa: BLE001 - a parser crash is an outcome of this message only
        result.outcome = OutcomeChoices.PARSING_FAILED
        result.error = _error_text(error)
        return result
    result.maintenances = maintenances
    result.outcome = OutcomeChoices.PARSED if result.maintenances else OutcomeChoices.IGNORED
    return result
