"""A message's header block as the app reads it: who sent it, when, and the key it is stored under.

The sender is read from the header as written (never from a display name), the date is believed only
between 1970 and 9000, and nothing here raises on a malformed header: it names no sender, or no date.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import hashlib
from datetime import datetime, timezone
from email.message import Message
from email.parser import BytesHeaderParser, HeaderParser
from email.utils import getaddresses, parsedate_to_datetime

from nautobot_ssot_circuit_maintenance.mail.storable import storable_text
from nautobot_ssot_circuit_maintenance.providers import sender_address, sender_addresses
from nautobot_ssot_circuit_maintenance.validation import EARLIEST, LATEST

# How much of a message is read as its header block, at most.
HEADER_BLOCK_LIMIT = 256 * 1024


def header_bytes(raw: bytes) -> bytes:
    """The header block of a message as bytes: up to the first blank line, within HEADER_BLOCK_LIMIT."""
    return raw[:HEADER_BLOCK_LIMIT].replace(b"\r\n", b"\n").partition(b"\n\n")[0]


def decoded_header(message: Message, name: str) -> str:
    """A header as readable text; a malformed encoded-word or charset falls back to the text as written."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - some header defects raise on access
        return ""
    if value is None:
        return ""
    return storable_text(decoded_words(str(value)))


def decoded_words(text: str) -> str:
    """`text` with its encoded-words decoded; a malformed encoded-word or charset leaves the text as written."""
    if "=?" in text:
        try:
            return str(email.header.make_header(email.header.decode_header(text)))
        except Exception:  # noqa: BLE001, S110 - unknown charset, bad base64: keep the text as written
            pass
    return text


def written_headers(message: Message, name: str) -> list[str]:
    """Every instance of header `name` as the sender wrote it: encoded-words not decoded, folding undone."""
    try:
        return [" ".join(str(value).split()) for key, value in message.raw_items() if key.lower() == name.lower()]
    except Exception:  # noqa: BLE001 - some header defects raise on access
        return []


def shown_sender(written: str, address: str, limit: int = 255) -> str:
    """A sender as a person reads it and as the stored `sender` keeps it: the decoded display name and the address.

    Written so that the address read back from it is the one that was used, whatever the display name says
    (`MR Zayo <mr@zayo.com>`, but `"mr@zayo.com" <attacker@evil.example>`: quoted when it would read otherwise).
    At most `limit` characters, the address always whole.
    """
    try:
        name = getaddresses([written])[0][0]
    except Exception:  # noqa: BLE001 - the address was read from this value: a name that will not parse is none
        name = ""
    name = storable_text(decoded_words(name))
    room = max(limit - len(address) - 5, 0)
    if not name or not room:
        return address[:limit]
    plain = f"{name[:room]} <{address}>"
    if sender_addresses(plain) == [address]:
        return plain
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')[:room].rstrip("\\")
    return f'"{escaped}" <{address}>'


def sender_of(message: Message, name: str) -> tuple[str, str]:
    """(the sender address of header `name`, what to show and store as the sender).

    The address is read from the header as written, before any encoded-word is decoded, and only from its one
    instance: a header written twice, or holding no address or several, names no sender ("" — the message then
    belongs to no provider). The text shown is the decoded header, with the address made unambiguous.
    """
    written = written_headers(message, name)
    address = sender_address(written[0]) if len(written) == 1 else ""
    if address:
        return address, shown_sender(written[0], address)
    if len(written) > 1:  # every instance shown: the one a reader or parser takes first is not the sender either
        return "", storable_text(", ".join(decoded_words(value) for value in written), 255)
    return "", decoded_header(message, name)[:255]


def sender_problem(message: Message, name: str) -> str:
    """Why header `name` names no sender (for the stored error of an unknown-provider message)."""
    count = len(written_headers(message, name))
    if count == 0:
        return f"the message has no {name} header"
    if count > 1:
        return f"the {name} header appears {count} times"
    return f"the {name} header holds no single address (a display name or comment is never taken for one)"


def header_block(raw: bytes) -> Message:
    """The header block of a message (its first HEADER_BLOCK_LIMIT bytes at most), read as the parser would.

    As UTF-8 text when it is, else as bytes. Raises on a header block `email` cannot read.
    """
    head = header_bytes(raw)
    try:
        return HeaderParser(policy=email.policy.compat32).parsestr(head.decode("utf-8"))
    except UnicodeDecodeError:
        return BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)


def message_sender(raw: bytes, header: str = "From") -> str:
    """The sender address of a whole or stored message, read as classification reads it ("" if none; never raises)."""
    try:
        return sender_of(header_block(raw), header)[0]
    except Exception:  # noqa: BLE001 - a header block that cannot be read names no sender
        return ""


def message_key(message: Message, raw: bytes) -> str:
    """Message-ID plus a hash of the body, else a hash of the whole message.

    The same mail reaching two mailboxes differs only in its transport headers, so it keeps its key;
    senders that reuse one Message-ID for different notices (seen in real provider mail) do not collide.
    """
    message_id = storable_text(str(message.get("Message-ID") or ""))
    if message_id:
        _, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
        return f"mid:{message_id[:200]}#{hashlib.sha256(body).hexdigest()[:16]}"
    return raw_key(raw)


def raw_key(raw: bytes) -> str:
    """The key of a message without a Message-ID: the SHA-256 of its bytes."""
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def believable(value: datetime | None) -> datetime | None:
    """The date in UTC if it lies between 1970 and 9000, else None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        value = value.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
    return value if EARLIEST <= value < LATEST else None


def message_date(message: Message, received: datetime | None) -> tuple[datetime, bool]:
    """The Date header (stable across mailboxes and arrival orders), else when the mailbox received it.

    Returns the date and whether it came from the header.
    """
    try:
        header = believable(parsedate_to_datetime(str(message.get("Date") or "")))
    except Exception:  # noqa: BLE001 - any unreadable Date is no Date
        header = None
    if header is not None:
        return header, True
    return believable(received) or datetime.now(timezone.utc), False
