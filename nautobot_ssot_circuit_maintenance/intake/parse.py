"""The per-message boundary: classify and parse one message, whatever it holds.

No database, no network. Everything done to one message — its headers, dates, Message-ID, bounds,
the parser, what PostgreSQL will accept — happens inside `process_message`, and every failure
becomes that message's outcome with a readable error. It runs in a worker process (see workers.py),
so a parser that never returns or eats memory is stopped there.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.message import Message
from email.utils import format_datetime
from typing import Any

from nautobot_ssot_circuit_maintenance.choices import MessageKeptChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.intake.notice_facts import add_notice_facts
from nautobot_ssot_circuit_maintenance.intake.sources.base import HEAD_BYTES, FetchedMessage
from nautobot_ssot_circuit_maintenance.mail.bounds import MessageBounds, OverBound, check_size, check_structure
from nautobot_ssot_circuit_maintenance.mail.forwards import unwrap
from nautobot_ssot_circuit_maintenance.mail.headers import (
    believable,
    decoded_header,
    header_block,
    message_date,
    message_key,
    raw_key,
    sender_of,
    sender_problem,
    written_headers,
)
from nautobot_ssot_circuit_maintenance.mail.packing import pack, parser_version
from nautobot_ssot_circuit_maintenance.mail.readable import searchable_text
from nautobot_ssot_circuit_maintenance.mail.storable import storable_json, storable_text
from nautobot_ssot_circuit_maintenance.notice_templates.extract import template_maintenances
from nautobot_ssot_circuit_maintenance.providers import ProviderEntry, SenderDirectory, claims
from nautobot_ssot_circuit_maintenance.site_parsers import site_parser
from nautobot_ssot_circuit_maintenance.validation import LATEST, MAX_CIRCUIT_ID_LENGTH, MAX_CIRCUIT_IDS

FALLBACK_PARSER = "genericprovider"
MAINTENANCE_ID_MAX_LENGTH = 255  # CircuitMaintenance.maintenance_id
# A mail's date, and a maintenance's times, outside [EARLIEST, LATEST) are not believed.
LATEST_EPOCH = int(LATEST.timestamp())


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
    # The message compressed (mail/packing.py) and how much of it that is (MessageKeptChoices).
    message: bytes = b""
    message_kept: str = MessageKeptChoices.WHOLE
    # circuit-maintenance-parser's version when the parser ran on it, else "".
    parser_version: str = ""
    # When the mailbox received it (FetchedMessage.received), if known and believable.
    received: datetime | None = None
    # Whether the sender proved who it is (intake/authenticate.py); None when the source does not ask.
    sender_authenticated: bool | None = None
    # Unauthenticated under the source's `confirm` policy: a change that matters waits for a person (history.py).
    confirm_changes: bool = False
    # A stored notice a person excluded, read again (re-parse, reprocess): stored, never folded.
    excluded: bool = False
    # When a stored notice read again was first stored (None for new mail): a deletion before then outranks it.
    stored_at: datetime | None = None
    # The last time another copy of this new message reached a mailbox in the same run (intake/fold.py: sent again).
    seen_again: datetime | None = None
    # A notice one of the source's `forwarders` forwarded: who (as shown) and when (the forward's date); the
    # sender, subject and date above are then the notice's own (mail/forwards.py).
    forwarded_by: str = ""
    forwarded_at: datetime | None = None

    def stored_fields(self) -> dict[str, Any]:
        """The RawNotification fields that hold the message itself."""
        return {
            "raw": self.raw,
            "raw_truncated": self.raw_truncated,
            "raw_size": self.raw_size,
            "message": self.message,
            "message_kept": self.message_kept,
            "parser_version": self.parser_version,
            "received": self.received,
            "last_seen": self.seen_again,
            "sender_authenticated": self.sender_authenticated,
            "forwarded_by": self.forwarded_by,
            "forwarded_at": self.forwarded_at,
        }


def kept_message(fetched: FetchedMessage, raw_size_limit: int) -> dict[str, Any]:
    """How a fetched message is stored: its head for display, and the whole of it compressed.

    The compressed copy is the head only if the message is over the size bound.
    """
    raw = fetched.raw
    return {
        "raw": raw[:raw_size_limit],
        "raw_size": fetched.full_size,
        "raw_truncated": fetched.full_size > min(len(raw), raw_size_limit),
        "message": pack(raw),
        "message_kept": MessageKeptChoices.WHOLE if fetched.size is None else MessageKeptChoices.HEAD,
    }


def _load_message(raw: bytes) -> Message:
    # The parser library reads mail as UTF-8 text; do the same when we can so results match it exactly.
    try:
        return email.message_from_string(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return email.message_from_bytes(raw)


def parse_maintenances(message: Message, parser_name: str) -> list[dict]:
    """Run one parser, the library's or a site parser (site_parsers.py); raises what it raises."""
    from circuit_maintenance_parser import NotificationData, init_provider

    provider = init_provider(parser_name) or site_parser(parser_name)
    data = NotificationData.init_from_emailmessage(message)
    if data is None:
        raise ValueError("the message has no readable parts")
    return [json.loads(maintenance.to_json()) for maintenance in provider.get_maintenances(data)]


def parse_with_template(
    message: Message, template: str, provider: ProviderEntry, sender: str, date: datetime
) -> list[dict]:
    """Read the message with the provider's notice template (JSON text); TemplateError says what it missed."""
    maintenances = template_maintenances(
        json.loads(template), message, provider=provider.name, organizer=sender, stamp=int(date.timestamp())
    )
    return [json.loads(maintenance.to_json()) for maintenance in maintenances]


def check_maintenance_id(value: object) -> None:
    """A maintenance id is the record's identity: it must be text that fits the database column."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"the parser gave no maintenance id ({value!r})")
    if len(value) > MAINTENANCE_ID_MAX_LENGTH:
        raise ValueError(f"maintenance id is {len(value)} characters long, more than {MAINTENANCE_ID_MAX_LENGTH}")


def check_maintenance(maintenance: dict) -> None:
    """What the fold and the records rely on: an id that fits, times and counters in a storable range."""
    check_maintenance_id(maintenance.get("maintenance_id"))
    for name in ("start", "end", "stamp"):
        value = maintenance.get(name)
        if value is None and name == "stamp":
            continue
        if not isinstance(value, int) or not 0 <= value < LATEST_EPOCH:
            raise ValueError(f"{name} {value!r} is not a time between 1970 and 9000")
    if maintenance["end"] < maintenance["start"]:
        raise ValueError("the maintenance ends before it starts")
    sequence = maintenance.get("sequence")
    if sequence is not None and (not isinstance(sequence, int) or not -(2**31) <= sequence < 2**31):
        raise ValueError(f"sequence {sequence!r} is out of range")
    circuits = maintenance.get("circuits") or []
    if len(circuits) > MAX_CIRCUIT_IDS:
        raise ValueError(f"{len(circuits):,} circuits, more than the {MAX_CIRCUIT_IDS:,} a maintenance may name")
    for circuit in circuits:
        cid = circuit.get("circuit_id") if isinstance(circuit, dict) else None
        if not isinstance(cid, str) or len(cid) > MAX_CIRCUIT_ID_LENGTH:
            raise ValueError(f"circuit id {str(cid)[:40]!r} is not text of at most {MAX_CIRCUIT_ID_LENGTH} characters")
        if any(ord(char) < 32 and not char.isspace() for char in cid):
            raise ValueError(f"circuit id {cid[:40]!r} holds a control character")


def error_text(error: BaseException) -> str:
    """An exception as stored on a notification: its type and text, at most 2000 characters."""
    return storable_text(f"{type(error).__name__}: {error}", 2000)


def headers_only(
    fetched: FetchedMessage,
    raw_size_limit: int,
    outcome: str,
    error: str,
    parsed_with: str = "",
    source_header: str = "From",
) -> ParsedMessage:
    """A message we will not parse, described from its header block alone (bounded, never raises).

    Also one whose parse was stopped: `parsed_with` is then the parser's version.
    """
    raw = fetched.raw
    sender = subject = ""
    key = raw_key(raw)
    date = believable(fetched.received) or datetime.now(timezone.utc)
    try:
        headers = header_block(raw)
        sender = displayed_sender(headers, source_header)
        subject = decoded_header(headers, "Subject")
        key = message_key(headers, raw)
        date = message_date(headers, fetched.received)[0]
    except Exception:  # noqa: BLE001, S110 - the header block itself is broken: keep the hash key
        pass
    return ParsedMessage(
        message_key=key,
        sender=sender[:255],
        subject=subject[:255],
        date=date,
        location=storable_text(fetched.location, 255),
        outcome=outcome,
        error=storable_text(error, 2000),
        parser_version=parsed_with,
        received=believable(fetched.received),
        **kept_message(fetched, raw_size_limit),
    )


def displayed_sender(message: Message, source_header: str, of_source: tuple[str, str] | None = None) -> str:
    """The stored `sender`: the source header's sender when the message has that header, else the From's.

    `of_source` is `sender_of(message, source_header)` when the caller has it already.
    """
    if source_header.lower() == "from" or written_headers(message, source_header):
        return (of_source or sender_of(message, source_header))[1]
    return sender_of(message, "From")[1]


def process_message(
    fetched: FetchedMessage,
    *,
    directory: SenderDirectory,
    source_header: str,
    raw_size_limit: int,
    bounds: MessageBounds | None = None,
    forwarders: tuple[str, ...] = (),
) -> ParsedMessage:
    """Classify by sender, parse with the provider's parser; every failure becomes an outcome, never an exception.

    Mail from one of `forwarders` (addresses, `@domain`s) that carries a notice is read as that notice.
    """
    bounds = bounds or MessageBounds()
    try:
        check_size(fetched.full_size, bounds)
    except OverBound as error:
        # Over the size bound, only the head is kept, even when the source handed over more.
        head = replace(fetched, raw=fetched.raw[:HEAD_BYTES], size=fetched.full_size)
        return headers_only(head, raw_size_limit, OutcomeChoices.TOO_LARGE, str(error), source_header=source_header)
    try:
        return _process(fetched, directory, source_header, raw_size_limit, bounds, forwarders)
    except OverBound as error:
        return headers_only(fetched, raw_size_limit, OutcomeChoices.TOO_LARGE, str(error), source_header=source_header)
    except MemoryError:
        error_message = "parsing needed more memory than the worker may use"
        return headers_only(
            fetched, raw_size_limit, OutcomeChoices.TOO_LARGE, error_message, source_header=source_header
        )
    except BaseException as error:  # noqa: BLE001 - RecursionError and friends too: this message's outcome only
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        error_message = f"unreadable message: {error_text(error)}"
        return headers_only(
            fetched, raw_size_limit, OutcomeChoices.PARSING_FAILED, error_message, source_header=source_header
        )


def _process(
    fetched: FetchedMessage,
    directory: SenderDirectory,
    source_header: str,
    raw_size_limit: int,
    bounds: MessageBounds,
    forwarders: tuple[str, ...] = (),
) -> ParsedMessage:
    raw = fetched.raw
    message = _load_message(raw)
    # The address decides; the decoded text is only shown (see sender_of).
    of_source = sender_of(message, source_header)
    claimed_by = of_source[0]
    sender = displayed_sender(message, source_header, of_source)
    date, dated = message_date(message, fetched.received)
    result = ParsedMessage(
        message_key=message_key(message, raw),
        sender=sender[:255],
        subject=decoded_header(message, "Subject")[:255],
        date=date,
        location=storable_text(fetched.location, 255),
        outcome=OutcomeChoices.UNKNOWN_PROVIDER,
        received=believable(fetched.received),
        **kept_message(fetched, raw_size_limit),
    )
    if forwarders and claims(forwarders, claimed_by):
        check_structure(message, bounds)
        forward = unwrap(message, lambda address: directory.provider_of(address) is not None)
        if forward is not None:
            result.forwarded_by, result.forwarded_at = result.sender, date
            if forward.notice is None:
                result.error = storable_text(f"forwarded by {claimed_by}, but {forward.problem}", 2000)
                return result
            # From here on the notice is the message: its sender decides, its date orders it (held by the fold to
            # when we received the forward, like any date a sender writes).
            message = forward.notice
            source_header = "From"
            of_source = sender_of(message, source_header)
            claimed_by = of_source[0]
            result.sender = displayed_sender(message, source_header, of_source)[:255]
            result.subject = decoded_header(message, "Subject")[:255]
            date, dated = message_date(message, date)
            result.date = date
            if claims(forwarders, claimed_by):
                why = f"forwarded by {result.forwarded_by}, the notice is itself from a forwarder ({claimed_by})"
                result.error = storable_text(f"{why}: a forward is unwrapped once", 2000)
                return result
    provider = directory.provider_of(claimed_by)
    if provider is None:
        why = f"{source_header}: {claimed_by}" if claimed_by else sender_problem(message, source_header)
        forwarded = f" (forwarded by {result.forwarded_by})" if result.forwarded_by else ""
        result.error = storable_text(f"no provider attached to this source claims the sender ({why}){forwarded}", 2000)
        return result
    result.provider = provider
    check_structure(message, bounds)
    if not dated:
        # The parser needs a Date to stamp the notice: give it the one we use.
        del message["Date"]
        message["Date"] = format_datetime(date)
    result.parser_version = parser_version()
    try:
        if provider.template:
            maintenances = parse_with_template(message, provider.template, provider, claimed_by, date)
        else:
            maintenances = parse_maintenances(message, provider.parser or FALLBACK_PARSER)
        for maintenance in maintenances:
            check_maintenance(maintenance)
    except (OverBound, MemoryError):
        raise
    except Exception as error:  # noqa: BLE001 - a parser crash is an outcome of this message only
        result.outcome = OutcomeChoices.PARSING_FAILED
        result.error = error_text(error)
        return result
    result.maintenances = storable_json(maintenances)
    try:
        add_notice_facts(result.maintenances, searchable_text(message))
    except Exception:  # noqa: BLE001, S110 - what the app could not read is not kept; the parser's reading stands
        pass
    result.outcome = OutcomeChoices.PARSED if result.maintenances else OutcomeChoices.IGNORED
    return result
