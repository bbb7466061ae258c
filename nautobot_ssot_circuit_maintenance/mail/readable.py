"""Stored mail read back for a person.

`read_mail` turns the bytes into what a person reads: decoded headers, the text part
(quoted-printable, base64, charsets), the HTML part sanitized by nh3 (no script, no event
handler, no `javascript:`, no remote image, no style sheet), and the attachments listed. It never
raises: a message too deep or too wide for its bounds, or parts that cannot be decoded, become
`problems` shown beside what could be read.
"""

from __future__ import annotations

import codecs
import email
import email.policy
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message

import nh3

from nautobot_ssot_circuit_maintenance.mail.bounds import MessageBounds, OverBound, check_structure
from nautobot_ssot_circuit_maintenance.mail.headers import header_bytes

# What a page shows of one text or HTML part, and of the raw header block.
TEXT_LIMIT = 1024 * 1024
SUMMARY_HEADERS = ("From", "To", "Cc", "Reply-To", "Date", "Subject", "Message-ID")


@dataclass(frozen=True)
class Attachment:
    """A part that is not the readable text or HTML: listed, downloadable, never rendered."""

    index: int
    filename: str
    content_type: str
    size: int


@dataclass
class ReadableMail:
    """A message as a person reads it. Every string is text to escape, except `html`, which nh3 cleaned."""

    headers: dict[str, str] = field(default_factory=dict)
    header_block: str = ""
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _text(value: object) -> str:
    """Text fit for a page: raw 8-bit bytes read as UTF-8, no NUL, no lone surrogate."""
    text = str(value)
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text.replace("\x00", "\ufffd")


def decode_header_text(value: object) -> str:
    """A header value as readable text: encoded-words decoded; a malformed one is kept as written."""
    text = str(value)
    if "=?" in text:
        try:
            text = str(make_header(decode_header(text)))
        except Exception:  # noqa: BLE001, S110 - unknown charset, bad base64: keep the text as written
            pass
    return _text(" ".join(text.split()))


def _header(message: Message, name: str) -> str:
    try:
        return ", ".join(decode_header_text(value) for value in message.get_all(name) or [])
    except Exception:  # noqa: BLE001 - a header that cannot be read is shown empty; raw headers keep it
        return ""


def _decoded(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - an undecodable transfer encoding gives nothing
        return b""
    return payload if isinstance(payload, bytes) else b""


def _charset(part: Message) -> str:
    try:
        charset = part.get_content_charset() or "utf-8"
        codecs.lookup(charset)
        return charset
    except (LookupError, ValueError, TypeError):
        return "utf-8"


def _as_text(part: Message) -> str:
    data = _decoded(part)
    try:
        return _text(data.decode(_charset(part), errors="replace"))
    except Exception:  # noqa: BLE001 - a codec that fails in its own way: read it as UTF-8
        return _text(data.decode("utf-8", errors="replace"))


def _filename(part: Message) -> str:
    try:
        return decode_header_text(part.get_filename() or "")
    except Exception:  # noqa: BLE001
        return ""


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001
        disposition = ""
    return disposition == "attachment" or bool(_filename(part))


def _leaves(message: Message) -> list[Message]:
    """The non-multipart parts in reading order, walked without recursion (bounds are checked first)."""
    leaves = []
    stack = [message]
    while stack:
        part = stack.pop()
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(reversed([child for child in payload if isinstance(child, Message)]))
        elif isinstance(payload, Message):
            stack.append(payload)
        else:
            leaves.append(part)
    return leaves


def _content_type(part: Message) -> str:
    try:
        return _text(part.get_content_type())
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _roles(leaves: list[Message]) -> Iterator[tuple[str, Message, str]]:
    """Each leaf as ("text" | "html" | "attachment", part, content type).

    The first inline text/plain part is the text, the first inline text/html part the HTML, every
    other leaf an attachment: the one rule by which `read_mail` lists attachments and `attachment`
    finds them again by index.
    """
    taken: set[str] = set()
    for part in leaves:
        content_type = _content_type(part)
        role = "attachment"
        if not _is_attachment(part) and content_type in ("text/plain", "text/html"):
            role = "text" if content_type == "text/plain" else "html"
            if role in taken:
                role = "attachment"
            taken.add(role)
        yield role, part, content_type


def _limited(text: str, what: str, problems: list[str]) -> str:
    if len(text) > TEXT_LIMIT:
        problems.append(f"The {what} is {len(text):,} characters long; the first {TEXT_LIMIT:,} are shown.")
        return text[:TEXT_LIMIT]
    return text


def _load(raw: bytes) -> Message:
    # compat32, as the parser reads mail: the default policy's header parser takes seconds on some real
    # provider headers (5 s on one Zayo mail of the corpus), and a page must not.
    return email.message_from_bytes(raw, policy=email.policy.compat32)


_TAG = re.compile(r"<[^>]{0,2000}>")
SEARCHED_TYPES = ("text/plain", "text/html", "text/calendar")


def searchable_text(message: Message, limit: int = TEXT_LIMIT) -> str:
    """The subject and every text part (HTML without its tags, iCalendar as written), at most `limit` characters each.

    What the app reads out of a notice besides the parser (intake/notice_facts.py) is looked for in it.

    Only for a message whose structure was checked (`check_structure`); never raises for what a part holds.
    """
    texts = [_header(message, "Subject")]
    for part in _leaves(message):
        content_type = _content_type(part)
        if content_type not in SEARCHED_TYPES:
            continue
        text = _as_text(part)[:limit]
        if content_type == "text/html":
            text = html.unescape(_TAG.sub(" ", text)).replace("\xa0", " ")
        texts.append(text)
    return "\n".join(texts)


def read_mail(raw: bytes, bounds: MessageBounds | None = None) -> ReadableMail:
    """What a person reads of a message; never raises."""
    mail = ReadableMail()
    head = header_bytes(raw)
    mail.header_block = _text(head.decode("utf-8", errors="replace"))
    try:
        message = _load(raw)
        mail.headers = {name: _header(message, name) for name in SUMMARY_HEADERS}
        check_structure(message, bounds or MessageBounds())
        leaves = _leaves(message)
    except OverBound as error:
        mail.problems.append(f"The message is not shown part by part: {error}.")
        return mail
    except Exception as error:  # noqa: BLE001 - RecursionError and friends: the raw headers remain
        mail.problems.append(f"The message could not be read part by part ({type(error).__name__}).")
        return mail
    for role, part, content_type in _roles(leaves):
        if role == "text":
            mail.text = _limited(_as_text(part), "text part", mail.problems)
        elif role == "html":
            mail.html = sanitize_html(_limited(_as_text(part), "HTML part", mail.problems))
        else:
            mail.attachments.append(
                Attachment(len(mail.attachments), _filename(part), content_type, len(_decoded(part)))
            )
    return mail


def attachment(raw: bytes, index: int, bounds: MessageBounds | None = None) -> tuple[Attachment, bytes] | None:
    """The attachment `index` of `read_mail(raw).attachments` and its decoded bytes; None if there is none."""
    try:
        message = _load(raw)
        check_structure(message, bounds or MessageBounds())
        leaves = _leaves(message)
    except Exception:  # noqa: BLE001 - no part can be read: no attachment either
        return None
    attachments = (part_and_type for role, *part_and_type in _roles(leaves) if role == "attachment")
    for position, (part, content_type) in enumerate(attachments):
        if position == index:
            data = _decoded(part)
            return Attachment(index, _filename(part), content_type, len(data)), data
    return None


def _drop_remote_sources(tag: str, attribute: str, value: str) -> str | None:
    """No image loads anything: its source goes, its alt text stays."""
    if tag == "img" and attribute in ("src", "srcset"):
        return None
    return value


def sanitize_html(html: str) -> str:
    """The mail's HTML with nothing active left: nh3's allow-list, links kept inert, images without source."""
    return nh3.clean(
        html,
        url_schemes={"http", "https", "mailto"},
        attribute_filter=_drop_remote_sources,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


# A sandboxed frame runs no script; this policy also forbids every load, inside the frame's own document.
FRAME_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
FRAME_STYLE = "body{font-family:sans-serif;font-size:14px;overflow-wrap:anywhere;margin:8px}img{max-width:100%}"


def html_document(clean_html: str) -> str:
    """The sanitized HTML as the document of a sandboxed iframe (`srcdoc`)."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{FRAME_POLICY}\">"
        f"<style>{FRAME_STYLE}</style></head><body>{clean_html}</body></html>"
    )
