"""Notices a colleague forwarded: the provider's mail taken out of the forward that carries it.

Pure: no database, no network, no clock. A forward carries the notice either attached whole (a
`message/rfc822` part) or inline, as Gmail and Outlook write it: a line that says it is a forward, the
quoted From, Date (Outlook: Sent), To and Subject, then the original body, in the text part and in the
HTML part (Gmail's `gmail_quote`/`gmail_attr` divs, new Outlook's `divRplyFwdMsg`, Outlook for Windows'
top-bordered div), with the original attachments attached again. `unwrap` gives the notice back as a Message
the parser reads like the provider's own mail; what it cannot read becomes a `problem`, never an
exception. Whose mail is unwrapped at all (the source's `forwarders`) is decided by the caller.

Every scan is bounded: at most `MAX_ATTACHED` attached messages are looked at, the forward's header
block is looked for only in the first `SCAN_CHARS` characters of a body, and it may hold at most
`MAX_QUOTED_LINES` lines of at most `MAX_QUOTED_CHARS` characters each.
"""

from __future__ import annotations

import base64
import email
import email.header
import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime

from nautobot_ssot_circuit_maintenance.mail.headers import believable, message_sender, sender_of
from nautobot_ssot_circuit_maintenance.providers import claims, sender_address

ATTACHED = "attached"
GMAIL = "gmail"
OUTLOOK = "outlook"
# How many attached messages are looked at, how far into a body the forward's header block is looked for, how
# many lines it may have and how long each may be.
MAX_ATTACHED = 20
SCAN_CHARS = 64 * 1024
MAX_QUOTED_LINES = 40
MAX_QUOTED_CHARS = 2000
# The parts of a message walked to find its bodies and attachments (the MIME bounds are checked before).
MAX_WALKED_PARTS = 1000

# Gmail: "---------- Forwarded message ---------". Outlook: a rule of underscores, or "-----Original Message-----".
GMAIL_LINE = re.compile(r"^[ \t]*-{5,}[ \t]*Forwarded message[ \t]*-{5,}[ \t\r]*$", re.MULTILINE | re.IGNORECASE)
OUTLOOK_LINE = re.compile(r"^[ \t]*(?:_{10,}|-{3,}[ \t]*Original Message[ \t]*-{3,})[ \t\r]*$", re.MULTILINE | re.I)
QUOTED_HEADER = re.compile(r"^[ \t]*([A-Za-z][A-Za-z-]{0,30})[ \t]*:[ \t]*(.*)$")
# The quoted header names, and the header of the notice each becomes (Outlook writes Sent for the date).
QUOTED_NAMES = {"from": "From", "date": "Date", "sent": "Date", "subject": "Subject", "to": "To", "cc": "Cc"}
# Where the quoted header block sits in the HTML: Gmail's attribution div, new Outlook's reply header div.
GMAIL_HTML = re.compile(r"""<div\b[^>]{0,500}?class\s*=\s*["'][^"']{0,200}?\bgmail_attr\b""", re.IGNORECASE)
OUTLOOK_HTML = re.compile(r"""<div\b[^>]{0,500}?id\s*=\s*["']?divRplyFwdMsg\b""", re.IGNORECASE)
# Outlook for Windows: the quoted lines in a div with a thin top border.
OUTLOOK_DESKTOP_HTML = re.compile(r"<div\b[^>]{0,500}?border-top:\s*solid\s+#(?:E1E1E1|B5C4DF)", re.IGNORECASE)
SAME_NAME = re.compile(r'^\s*"?([^"<>\s@]+@[^"<>\s@]+)"?\s*<([^<>\s@]+@[^<>\s@]+)>\s*$')
DIV_TAG = re.compile(r"<(/?)div\b[^>]{0,2000}>", re.IGNORECASE)
LEADING_BREAKS = re.compile(r"\A(?:\s|<br\s*/?>)+", re.IGNORECASE)
TAG = re.compile(r"<[^>]{0,2000}>")
BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
# How mail clients write the quoted date when it is not RFC 5322 (Gmail, then Outlook), in the forwarder's zone.
QUOTED_DATE_FORMATS = (
    "%a, %b %d, %Y at %I:%M %p",
    "%a, %b %d, %Y at %H:%M",
    "%a, %d %b %Y at %H:%M",
    "%A, %B %d, %Y %I:%M %p",
    "%A, %B %d, %Y %H:%M",
    "%A, %d %B %Y %H:%M",
    "%d %B %Y %H:%M",
)


@dataclass
class Forward:
    """What a forward carries: the notice as a Message, or why it could not be taken out."""

    style: str
    notice: Message | None = None
    problem: str = ""
    # The quoted headers of an inline forward (lower-case name → value), for the record.
    quoted: dict[str, str] = field(default_factory=dict)


def unwrap(message: Message, known: Callable[[str], bool] = lambda address: False) -> Forward | None:
    """The notice `message` forwards, None when it forwards nothing.

    An attached message wins over an inline one; of several attached, the first whose sender is `known`
    (a provider claims it), else the first. Never raises.
    """
    try:
        bodies, attached, attachments = _parts(message)
        if attached:
            return _attached(attached, known)
        return _inline(message, bodies, attachments)
    except RecursionError:
        return Forward(ATTACHED, problem="the forward is nested too deep to read")
    except Exception as error:  # noqa: BLE001 - a forward that cannot be read is this message's outcome only
        return Forward(ATTACHED, problem=f"the forward cannot be read ({type(error).__name__})")


def notice_sender(raw: bytes, header: str, forwarders: Iterable[str]) -> str:
    """The sender address classification reads from a whole message ("" when none; never raises).

    For a forward from one of `forwarders`, the address of the notice it carries; else the address of `header`.
    """
    address = message_sender(raw, header)
    if not address or not claims(forwarders, address):
        return address
    try:
        message = email.message_from_string(raw.decode("utf-8"))
    except UnicodeDecodeError:
        message = email.message_from_bytes(raw)
    except Exception:  # noqa: BLE001 - a message that cannot be read names no notice
        return ""
    forward = unwrap(message)
    if forward is None:
        return address
    inner = sender_of(forward.notice, "From")[0] if forward.notice is not None else ""
    # A forward is unwrapped once: a forwarder's address is never a notice's sender.
    return "" if claims(forwarders, inner) else inner


def _is_attachment(part: Message) -> bool:
    return (part.get("Content-Disposition") or "").strip().lower().startswith("attachment")


def _parts(message: Message) -> tuple[dict[str, Message], list[Message], list[Message]]:
    """(the first text/plain and text/html bodies, the attached messages, every other leaf part) of `message`.

    Attached messages are not walked into: what they hold is theirs.
    """
    bodies: dict[str, Message] = {}
    attached: list[Message] = []
    attachments: list[Message] = []
    stack = [message]
    walked = 0
    while stack and walked < MAX_WALKED_PARTS:
        part = stack.pop()
        walked += 1
        content_type = part.get_content_type()
        payload = part.get_payload()
        if content_type == "message/rfc822":
            attached.append(part)
            continue
        if isinstance(payload, list):
            stack.extend(reversed([child for child in payload if isinstance(child, Message)]))
            continue
        if content_type in ("text/plain", "text/html") and content_type not in bodies and not _is_attachment(part):
            bodies[content_type] = part
        else:
            attachments.append(part)
    return bodies, attached, attachments


def _attached(parts: list[Message], known: Callable[[str], bool]) -> Forward:
    notices = []
    for part in parts[:MAX_ATTACHED]:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and len(payload) == 1 else payload
        if isinstance(inner, Message) and inner.keys():
            notices.append(inner)
    if not notices:
        return Forward(ATTACHED, problem="the attached message cannot be read")
    for notice in notices:
        if known(sender_of(notice, "From")[0]):
            return Forward(ATTACHED, notice=notice)
    return Forward(ATTACHED, notice=notices[0])


def _text(part: Message) -> str:
    """A text part decoded with its charset (a charset Python does not know is read as UTF-8)."""
    data = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _inline(message: Message, bodies: dict[str, Message], attachments: list[Message]) -> Forward | None:
    text = _quoted_in_text(_text(bodies["text/plain"])) if "text/plain" in bodies else None
    markup = _quoted_in_html(_text(bodies["text/html"])) if "text/html" in bodies else None
    found = [item for item in (text, markup) if item is not None]
    if not found:
        return None
    # The text part's header block is read first: the HTML's is the same, written for the eye. A body whose
    # header block cannot be read is left out; the parser reads the other.
    readable = [item for item in found if not isinstance(item[1], str)]
    if not readable:
        return Forward(found[0][0], problem=found[0][1])
    style, quoted, _ = readable[0]
    address = _quoted_sender(quoted.get("from", ""))
    if not address:
        shown = quoted.get("from", "")[:200]
        return Forward(style, problem=f"the forward's quoted From line names no single address ({shown!r})")
    if address != sender_address(quoted["from"]):
        quoted["from"] = address
    notice = _notice(
        quoted,
        _forward_date(quoted.get("date", ""), message),
        text[2] if text in readable else None,
        markup[2] if markup in readable else None,
        attachments,
    )
    return Forward(style, notice=notice, quoted=quoted)


def _quoted_sender(value: str) -> str:
    """The one address of a quoted From line, read as a From header is (see `sender_address`).

    Also `a@x.example <a@x.example>`, as clients quote a sender whose display name is its address: the name
    names the same address, so nothing is ambiguous.
    """
    address = sender_address(value)
    if address:
        return address
    match = SAME_NAME.match(value)
    return match.group(1).lower() if match and match.group(1).lower() == match.group(2).lower() else ""


def _quoted_headers(lines: list[str]) -> dict[str, str] | str:
    """The quoted header block: lower-case name → value, continuation lines joined; or why it cannot be read."""
    quoted: dict[str, str] = {}
    last = ""
    for line in lines[:MAX_QUOTED_LINES]:
        if len(line) > MAX_QUOTED_CHARS:
            return f"a quoted header line of the forward is longer than {MAX_QUOTED_CHARS} characters"
        if not line.strip():
            if quoted:
                break
            continue
        match = QUOTED_HEADER.match(line)
        name = match.group(1).lower() if match else ""
        if name in QUOTED_NAMES:
            last = QUOTED_NAMES[name].lower()
            quoted.setdefault(last, " ".join(match.group(2).split()))
        elif last and line[:1] in " \t":
            quoted[last] = " ".join(f"{quoted[last]} {line}".split())[:MAX_QUOTED_CHARS]
        elif quoted:
            break
        else:
            return "the forward's quoted headers do not begin with a header line"
    else:
        if len(lines) > MAX_QUOTED_LINES:
            return f"the forward's quoted headers run past {MAX_QUOTED_LINES} lines"
    if "from" not in quoted:
        return "the forward quotes no From line"
    return quoted


def _quoted_in_text(text: str) -> tuple[str, dict[str, str] | str, str] | None:
    """(style, quoted headers or a problem, the original text after them) of a forward's text part, or None."""
    head = text[:SCAN_CHARS]
    found = _first(head, ((GMAIL, GMAIL_LINE), (OUTLOOK, OUTLOOK_LINE)))
    if found is None:
        return None
    style, match = found
    rest = text[match.end() :].lstrip("\r\n")
    lines = rest[: MAX_QUOTED_LINES * (MAX_QUOTED_CHARS + 2)].splitlines()
    quoted = _quoted_headers(lines)
    if isinstance(quoted, str):
        return style, quoted, ""
    # The original text begins after the header block and the blank line(s) that end it.
    return style, quoted, rest[_after_block(rest) :].lstrip("\r\n")


def _first(head: str, patterns: tuple[tuple[str, re.Pattern], ...]) -> tuple[str, re.Match] | None:
    """The style whose marker comes first in `head`, and its match: the forward's own, not one it quotes."""
    matches = [(match.start(), style, match) for style, pattern in patterns if (match := pattern.search(head))]
    if not matches:
        return None
    _, style, match = min(matches, key=lambda item: item[0])
    return style, match


def _after_block(text: str) -> int:
    """Where the text after a header block begins: after its first blank line (the end of the text if none)."""
    match = re.search(r"\r?\n[ \t]*\r?\n", text[: MAX_QUOTED_LINES * (MAX_QUOTED_CHARS + 2)])
    return match.end() if match else len(text)


def _element_end(markup: str, start: int) -> int:
    """Where the div that opens at `start` ends (after its closing tag); the end of the markup if it never does."""
    depth = 0
    for tag in DIV_TAG.finditer(markup, start):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return len(markup)


def _quoted_in_html(markup: str) -> tuple[str, dict[str, str] | str, str] | None:
    """(style, quoted headers or a problem, the original HTML after them) of a forward's HTML part, or None."""
    found = _first(markup[:SCAN_CHARS], ((GMAIL, GMAIL_HTML), (OUTLOOK, OUTLOOK_HTML), (OUTLOOK, OUTLOOK_DESKTOP_HTML)))
    if found is None:
        return None
    style, match = found
    end = _element_end(markup, match.start())
    block = BREAK.sub("\n", markup[match.start() : end][: MAX_QUOTED_LINES * MAX_QUOTED_CHARS])
    lines = [html.unescape(TAG.sub("", line)).replace("\xa0", " ") for line in block.splitlines()]
    lines = [line for line in lines if not GMAIL_LINE.match(line)]
    quoted = _quoted_headers([line for line in lines if line.strip()])
    if isinstance(quoted, str):
        return style, quoted, ""
    return style, quoted, LEADING_BREAKS.sub("", markup[end:])


def _forward_date(quoted: str, message: Message) -> datetime | None:
    """The quoted date: RFC 5322 as written, else as Gmail or Outlook write it, in the forward's own time zone."""
    quoted = " ".join(quoted.split())[:200]
    if not quoted:
        return None
    for pattern in QUOTED_DATE_FORMATS:
        try:
            written = datetime.strptime(quoted, pattern)  # noqa: DTZ007 - the zone is the forward's, set below
        except ValueError:
            continue
        return believable(written.replace(tzinfo=_zone_of(message)))
    try:
        written = parsedate_to_datetime(quoted)
    except Exception:  # noqa: BLE001 - no date we can read
        return None
    # Only a date with its zone: RFC 5322's reader takes much for a date (Outlook's "10:49 PM" for 10:49 in zone PM).
    return believable(written) if written.tzinfo is not None else None


def _zone_of(message: Message) -> timezone:
    """The time zone of the forward's own Date: the forwarder's mail client wrote the quoted date in it."""
    try:
        zone = parsedate_to_datetime(str(message.get("Date") or "")).tzinfo
    except Exception:  # noqa: BLE001 - no readable Date: UTC
        zone = None
    return zone if isinstance(zone, timezone) else timezone.utc


def _text_part(subtype: str, text: str) -> Message:
    part = Message()
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(text.encode("utf-8", "replace")).decode("ascii"))
    return part


def _multipart(subtype: str, parts: list[Message]) -> Message:
    container = Message()
    container["Content-Type"] = f"multipart/{subtype}"
    container.set_payload(parts)
    return container


def _notice(
    quoted: dict[str, str], date: datetime | None, text: str | None, markup: str | None, attachments: list[Message]
) -> Message:
    """The notice an inline forward quotes: its quoted headers, the original bodies, the attachments again."""
    bodies = [_text_part(subtype, body) for subtype, body in (("plain", text), ("html", markup)) if body is not None]
    notice = bodies[0] if len(bodies) == 1 else _multipart("alternative", bodies)
    if attachments:
        notice = _multipart("mixed", [notice, *attachments])
    headers = Message()
    for name in ("from", "to", "cc", "subject"):
        if quoted.get(name):
            value = quoted[name]
            headers[QUOTED_NAMES[name]] = value if value.isascii() else email.header.Header(value, "utf-8").encode()
    if date is not None:
        headers["Date"] = format_datetime(date)
    headers["MIME-Version"] = "1.0"
    for name, value in notice.items():
        headers[name] = value
    headers.set_payload(notice.get_payload())
    return headers
