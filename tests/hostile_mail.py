"""Hypothesis strategies that build hostile RFC 822 messages as bytes, for the fuzz suite (tests/test_fuzz.py).

Two families:

- from scratch: headers and MIME trees assembled by hand, with broken encoded-words, unknown
  charsets, raw 8-bit and NUL bytes, absurd dates, missing/duplicate/huge headers, deep nesting,
  many parts, wrong boundaries, bad base64/quoted-printable, zip/xlsx bombs and size lies, and
  iCalendar (BCOP) parts with NUL in SUMMARY and absurd DTSTART;
- from the corpus of real provider mail: a real notification with its headers damaged, its body
  wrapped in deep multiparts, or its bytes flipped, inserted, deleted and truncated.

`pinned_batch()` adds one mail per case issue 6 reports, with the outcome each must get: the fuzz
test checks it on every run, whatever the seed.

Each family comes in a "known sender" variant (a From that a provider of
`tests.sample_data.create_providers_and_circuits` claims, so the provider's parser runs) and an
"unknown sender" variant (`@fuzz.invalid`, never claimed).

Identity. The app stores a mail once per key (Message-ID plus a hash of the body, else a hash of
the whole mail), and the suite checks that every delivered file is stored exactly once. So each
message starts with an *identity line* that `HostileMail.render` fills with a token unique in its
batch and that mutations never touch: a Message-ID (plain, with a NUL, as an encoded-word, 4 KB
long) or, for mail without Message-ID, an `X-Fuzz-Id` header that makes the bytes unique. The
corpus messages lose their own Message-ID, so a damaged copy is never taken for the real one.

The corpus mail in `GOOD_MAILS` is kept out of the hostile family, with every mail that speaks
about one of their maintenances, and the iCalendar parts use `FUZZ-` maintenance ids: no hostile
message can legitimately change a good mail's maintenance.
"""

from __future__ import annotations

import base64
import email
import io
import quopri
import struct
import zipfile
from dataclasses import dataclass
from functools import cache

from hypothesis import strategies as st

from tests.sample_data import corpus_messages, expected_maintenances, sender_address

TOKEN = b"@@TOKEN@@"
CRLF = b"\r\n"
MIB = 1024 * 1024

# Real mail delivered alongside the hostile batch; their maintenances must come out exactly as alone.
GOOD_MAILS = ("aws2", "crowncastle1", "gtt7", "sparkle1", "zayo5")

UNKNOWN_SENDERS = (
    "spam@fuzz.invalid",
    "noc@carrier.fuzz.invalid",
    "maintenance@zayo.com.fuzz.invalid",
)
FUZZ_DOMAIN = "fuzz.invalid"

# Identity lines: the first line of every message (see the module docstring).
IDENTITIES = (
    b"Message-ID: <fuzz-@@TOKEN@@@fuzz.invalid>\r\n",
    b"Message-ID: <fuzz-@@TOKEN@@@fuzz.invalid>\n",
    b"X-Fuzz-Id: @@TOKEN@@\r\n",
    b"Message-ID: <fuzz-@@TOKEN@@\x00nul@fuzz.invalid>\r\n",
    b"Message-ID: =?utf-8?q?<fuzz-@@TOKEN@@=00=FF@fuzz.invalid>?=\r\n",
    b"Message-ID: <fuzz-@@TOKEN@@" + b"x" * 4000 + b"@fuzz.invalid>\r\n",
    b"Message-ID: <fuzz-@@TOKEN@@@\xff\xfe.fuzz.invalid>\r\n",
)

BAD_ENCODED_WORDS = (
    b"=?x-unknown?q?hi?=",
    b"=?utf-8?q?=FF=FE?=",
    b"=?utf-8?b?YWJj?= =?utf-8?b?Y?=",
    b"=?utf-8?b?????=",
    b"=?utf-8?q?a=00b?=",
    b"=?utf-8?B?AA==?=",
    b"=?utf-7?q?+AGEAYgBj-?=",
    b"=??q?empty-charset?=",
    b"=?utf-8?x?unknown-encoding?=",
    b"=?utf-8?q?unterminated",
    b"=?utf-8*en?q?with-language?=",
    b"=?\x00?q?nul-charset?=",
    b"=?utf-16?b?//4=?=",
    b"=?utf-8?q?=E2=82?=",
    b"=?us-ascii?q?=80=81?=",
    b"=?utf-8?q?=C0=AF?=",
    b"=?utf-8?b?7aCA?=",
    b"=?iso-2022-jp?b?GyRCJCIbKEI=?=",
    b"=?gb18030?b?gTCBMA==?=",
    b"=?utf-8?b?" + b"QUFB" * 3000 + b"?=",
    b"=?utf-8?q?" + b"=00" * 500 + b"?=",
    b"=?utf-8?Q?Maintenance_=E2=80=93_window?= =?x-unknown?b?AAAA?=",
)

ABSURD_DATES = (
    b"Mon, 1 Jan 0000 00:00:00 +0000",
    b"Fri, 31 Dec 9999 23:59:59 -1200",
    b"Sat, 1 Jan 10000 00:00:00 +0000",
    b"Fri, 31 Dec 9999 23:59:59 +1400",
    b"Fri, 31 Dec 8999 23:59:59 +0000",
    b"-1",
    b"0",
    b"99999999999999999999",
    b"Thu, 01 Jan 1970 00:00:00 +0000",
    b"Wed, 31 Dec 1969 23:59:59 +0000",
    b"Tue, 19 Jan 2038 03:14:08 +0000",
    b"Mon, 01 Jan 1900 00:00:00 +0000",
    b"Fri, 1 Jan 1 00:00:00 -2359",
    b"1 Jan 69 00:00 GMT",
    b"Mon, 32 Foo 2024 25:61:61 +9999",
    b"Sun, 29 Feb 2023 10:00:00 +0000",
    b"Mon, 1 Jan 2024 00:00:00 +99999999999",
    b"=?utf-8?q?Mon=2C_1_Jan_2024_10=3A00=3A00_+0000?=",
    b"",
    b"\x00",
    b"Mon, 1 Jan 2024 10:00:00 +0000\x00",
    b"Mon, 1 Jan 2024 10:00:00 +0000 (\xff\xfe)",
)

CHARSETS = (
    b"utf-8",
    b"us-ascii",
    b"iso-8859-1",
    b"x-unknown",
    b"utf-7",
    b"utf-16",
    b"utf-32",
    b"",
    b"\x00",
    b'utf-8"; evil="',
    b"cp1252",
    b"gb2312",
    b"koi8-r",
    b"unicode-1-1-utf-7",
    b"\xff\xfe",
)

TRANSFER_ENCODINGS = ("none", "7bit", "8bit", "binary", "base64", "base64-bad", "qp", "qp-bad", "x-uuencode", "x-bogus")

ICAL_DATES = (
    b"20300101T000000Z",
    b"20300101T040000Z",
    b"00000101T000000Z",
    b"00010101T000000Z",
    b"89991231T235959Z",
    b"99991231T235959Z",
    b"19691231T235959Z",
    b"19700101T000000Z",
    b"20300101",
    b"garbage",
    b"",
    b"20301301T250000Z",
    b"99991231T235959",
    b"+100000101T000000Z",
    b"20300101T000000Z\x00",
)

ICAL_SENDERS = ("maintenance@eunetworks.com", "gsoc-planned-event@pccwglobal.com", "infraco.cm@exainfra.net")
ATT_SENDER = "g31654@att.com"
XLSX_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class HostileMail:
    """One generated message: its identity line, the rest of its bytes, and what it claims to be."""

    recipe: str
    identity: bytes
    rest: bytes
    known_sender: bool
    # A real provider mail damaged only where the app promises to cope (its Date): it must still yield maintenances.
    expects_maintenance: bool = False
    # The outcomes it may end with (empty: any outcome of the vocabulary).
    outcomes: frozenset[str] = frozenset()

    def render(self, token: str) -> bytes:
        """The message's bytes, its identity line carrying `token` (unique within a batch)."""
        return self.identity.replace(TOKEN, token.encode("ascii")) + self.rest

    def __repr__(self) -> str:
        return f"HostileMail({self.recipe!r}, {len(self.rest)} bytes, head={self.rest[:120]!r})"

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # what hypothesis prints for a failing example
        printer.text(repr(self))


# -- the corpus -------------------------------------------------------------------------------------


@cache
def _corpus() -> dict[str, tuple[bytes, dict]]:
    return {name: (raw, entry) for name, raw, entry in corpus_messages()}


@cache
def known_senders() -> tuple[str, ...]:
    """Every address a provider of the test fixtures claims."""
    return tuple(sorted({sender_address(entry) for raw, entry in _corpus().values()}))


@cache
def base_mails() -> tuple[str, ...]:
    """Corpus mail that may be damaged: none that shares a maintenance with `GOOD_MAILS`."""
    good_ids = {m["maintenance_id"] for name in GOOD_MAILS for m in expected_maintenances(name)}
    return tuple(
        name
        for name in sorted(_corpus())
        if name not in GOOD_MAILS and not {m["maintenance_id"] for m in expected_maintenances(name)} & good_ids
    )


def good_mail(name: str) -> bytes:
    return _corpus()[name][0]


def split_message(raw: bytes) -> tuple[list[bytes], bytes, bytes]:
    """(header lines with their line ends, the separator, the body); a message without body has b"" for both."""
    ends = [(raw.find(sep), sep) for sep in (b"\r\n\r\n", b"\n\n") if raw.find(sep) >= 0]
    if not ends:
        return raw.splitlines(keepends=True), b"", b""
    position, sep = min(ends)
    half = len(sep) // 2
    return raw[: position + half].splitlines(keepends=True), sep[half:], raw[position + len(sep) :]


def without_headers(lines: list[bytes], *names: bytes) -> list[bytes]:
    """The header lines without the named fields (and their continuation lines)."""
    wanted = {name.lower() for name in names}
    kept: list[bytes] = []
    dropping = False
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        dropping = line.split(b":", 1)[0].strip().lower() in wanted
        if not dropping:
            kept.append(line)
    return kept


def header_values(lines: list[bytes], name: bytes) -> list[bytes]:
    """The named fields' lines, continuation lines included."""
    wanted = name.lower()
    found: list[bytes] = []
    taking = False
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if taking:
                found.append(line)
            continue
        taking = line.split(b":", 1)[0].strip().lower() == wanted
        if taking:
            found.append(line)
    return found


@cache
def corpus_base(name: str) -> bytes:
    """A corpus mail as a mailbox holds it, without its Message-ID (the identity line gives one)."""
    lines, sep, body = split_message(good_mail(name))
    return b"".join(without_headers(lines, b"Message-ID")) + sep + body


@cache
def corpus_xlsx() -> bytes:
    """The real spreadsheet attached to an AT&T notice."""
    message = email.message_from_bytes(good_mail("att2"))
    for part in message.walk():
        data = part.get_payload(decode=True)
        if isinstance(data, bytes) and data.startswith(b"PK\x03\x04"):
            return data
    raise LookupError("no xlsx attachment in att2")


# -- zip bombs and size lies ------------------------------------------------------------------------------


@cache
def zip_of_zeros(size: int, member: str = "xl/worksheets/sheet1.xml") -> bytes:
    """A real zip whose one member inflates to `size` bytes of zeros (about size/1000 bytes compressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        with archive.open(member, "w", force_zip64=False) as stream:
            chunk = bytes(MIB)
            for _ in range(size // MIB):
                stream.write(chunk)
            stream.write(bytes(size % MIB))
    return buffer.getvalue()


def lie_about_sizes(data: bytes, declared: int) -> bytes:
    """The zip with every member's declared uncompressed size replaced (local headers and central directory)."""
    patched = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = patched.find(signature)
        while start >= 0:
            struct.pack_into("<I", patched, start + offset, declared & 0xFFFFFFFF)
            start = patched.find(signature, start + 4)
    return bytes(patched)


@st.composite
def zip_payload(draw) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(("bomb-80MiB", "small", "lie-up", "lie-down", "real-xlsx-lie-up", "real-xlsx", "junk")))
    if kind == "bomb-80MiB":
        return zip_of_zeros(80 * MIB), kind
    if kind == "small":
        return zip_of_zeros(4096), kind
    if kind == "lie-up":
        return lie_about_sizes(zip_of_zeros(4096), 0xFFFFFFF0), kind
    if kind == "lie-down":
        return lie_about_sizes(zip_of_zeros(80 * MIB), 1000), kind
    if kind == "real-xlsx-lie-up":
        return lie_about_sizes(corpus_xlsx(), 0x7FFFFFFF), kind
    if kind == "real-xlsx":
        return corpus_xlsx(), kind
    return b"PK\x03\x04" + draw(st.binary(max_size=64)), kind


# -- header pieces ------------------------------------------------------------------------------------


def huge(size: int, unit: bytes = b"A") -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


header_text = st.one_of(
    st.sampled_from(BAD_ENCODED_WORDS),
    st.text(max_size=60).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=60),
    st.integers(min_value=1000, max_value=200_000).map(huge),
    st.integers(min_value=1, max_value=400).map(lambda n: b"=?utf-8?q?=00?= " * n),
    st.just(b"Scheduled maintenance\r\n folded\r\n\tover lines"),
    st.just(b"<script>alert(1)</script> caf\xc3\xa9 \xff\xfe \x00 end"),
)


@st.composite
def from_value(draw, address: str) -> bytes:
    name = draw(
        st.sampled_from(
            (b"", b"NOC ", b"=?utf-8?q?N=C3=B6C?= ", b"=?x-unknown?q?hi?= ", b'"\x00NUL" ', b"=?utf-8?q?=FF=FE?= ")
        )
    )
    bare = address.encode()
    form = draw(st.sampled_from(("angle", "bare", "quoted-local", "two-addresses")))
    if form == "bare":
        return bare
    if form == "quoted-local":
        return name + b"<" + bare + b"> (comment \xff)"
    if form == "two-addresses":
        return name + b"<" + bare + b">, other <x@" + FUZZ_DOMAIN.encode() + b">"
    return name + b"<" + bare + b">"


@st.composite
def date_headers(draw) -> tuple[list[tuple[bytes, bytes]], str]:
    mode = draw(st.sampled_from(("absurd", "generated", "missing", "duplicate")))
    if mode == "missing":
        return [], "date=missing"
    if mode == "generated":
        year = draw(st.integers(min_value=-5, max_value=100_000))
        zone = draw(st.sampled_from((b"+0000", b"-1200", b"+1400", b"+9959", b"-9999", b"GMT", b"XYZ", b"")))
        value = b"Mon, %d Jan %d 10:00:00 %s" % (draw(st.integers(0, 40)), year, zone)
        return [(b"Date", value)], f"date={value!r}"
    first = draw(st.sampled_from(ABSURD_DATES))
    if mode == "duplicate":
        second = draw(st.sampled_from(ABSURD_DATES))
        return [(b"Date", first), (b"Date", second)], f"date=dup({first!r},{second!r})"
    return [(b"Date", first)], f"date={first!r}"


@st.composite
def extra_headers(draw) -> tuple[list[bytes], str]:
    """Raw header lines: huge, many, without colon, with NUL or 8-bit names, duplicates."""
    kinds = draw(
        st.lists(
            st.sampled_from(("huge", "many", "no-colon", "nul-name", "8bit-name", "dup-subject", "long-line", "empty")),
            max_size=3,
            unique=True,
        )
    )
    lines: list[bytes] = []
    for kind in kinds:
        if kind == "huge":
            lines.append(b"X-Huge: " + huge(draw(st.integers(10_000, 300_000)), b"huge ") + CRLF)
        elif kind == "many":
            lines.extend(b"X-Many-%d: value %d\r\n" % (i, i) for i in range(draw(st.integers(100, 5000))))
        elif kind == "no-colon":
            lines.append(b"This line has no colon at all\r\n")
        elif kind == "nul-name":
            lines.append(b"X-\x00Nul: \x00\r\n")
        elif kind == "8bit-name":
            lines.append(b"X-\xff\xfe: \xc3\x28\r\n")
        elif kind == "dup-subject":
            lines.append(b"Subject: second subject =?x-unknown?q?dup?=\r\n")
        elif kind == "long-line":
            lines.append(b"X-Long: " + huge(draw(st.integers(1000, 100_000)), b"x") + CRLF)
        elif kind == "empty":
            lines.append(b":\r\n")
    return lines, "+".join(kinds)


# -- MIME bodies --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """A MIME entity: its header lines (each ending in CRLF) and its body."""

    headers: bytes
    body: bytes
    recipe: str

    def serialize(self) -> bytes:
        return self.headers + CRLF + self.body


def encode(payload: bytes, encoding: str) -> tuple[bytes, bytes]:
    """(Content-Transfer-Encoding header line, encoded payload)."""
    if encoding == "none":
        return b"", payload
    if encoding == "base64":
        return b"Content-Transfer-Encoding: base64\r\n", base64.encodebytes(payload)
    if encoding == "base64-bad":
        good = base64.encodebytes(payload)
        return b"Content-Transfer-Encoding: base64\r\n", b"!!" + good[: len(good) // 2] + b"=*=\x00" + good[-3:]
    if encoding == "qp":
        return b"Content-Transfer-Encoding: quoted-printable\r\n", quopri.encodestring(payload)
    if encoding == "qp-bad":
        return b"Content-Transfer-Encoding: quoted-printable\r\n", b"=ZZ=Q=\r\n=0" + payload + b"="
    if encoding == "x-uuencode":
        return b"Content-Transfer-Encoding: x-uuencode\r\n", b"begin 644 x\r\n" + payload[:40] + b"\r\nend\r\n"
    return b"Content-Transfer-Encoding: " + encoding.encode() + CRLF, payload


payload_bytes = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.just(b"Planned maintenance\x00 with NUL \x00\x00 and 8-bit \xff\xfe\x80"),
    st.just(b"<html><body><script>alert(1)</script><img src=x onerror=alert(2)>work</body></html>"),
    st.integers(1000, 200_000).map(lambda n: huge(n, b"no newline ")),
)


@st.composite
def text_part(draw) -> Part:
    subtype = draw(st.sampled_from((b"plain", b"html", b"calendar", b"", b"x-unknown")))
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(TRANSFER_ENCODINGS))
    cte, body = encode(draw(payload_bytes), encoding)
    headers = b"Content-Type: text/" + subtype + b'; charset="' + charset + b'"\r\n' + cte
    return Part(headers, body, f"text/{subtype.decode(errors='replace')};{charset!r};{encoding}")


def build_ical(
    *,
    maintenance_id: bytes,
    summary: bytes = b"Planned work",
    start: bytes = b"20300101T000000Z",
    end: bytes = b"20300101T040000Z",
    status: bytes = b"CONFIRMED",
    sequence: bytes = b"1",
    stamp: bytes = b"20250101T000000Z",
    circuits: int = 1,
    impact: bytes = b"OUTAGE",
) -> bytes:
    """A BCOP iCalendar maintenance notice (the format of the parser's ICal data parser)."""
    lines = [
        b"BEGIN:VCALENDAR",
        b"VERSION:2.0",
        b"PRODID:-//fuzz//hostile//EN",
        b"METHOD:PUBLISH",
        b"BEGIN:VEVENT",
        b"SUMMARY:" + summary,
        b"DTSTART;VALUE=DATE-TIME:" + start,
        b"DTEND;VALUE=DATE-TIME:" + end,
        b"DTSTAMP;VALUE=DATE-TIME:" + stamp,
        b"UID:fuzz-" + maintenance_id,
        b"SEQUENCE:" + sequence,
        b"X-MAINTNOTE-PROVIDER:fuzz.invalid",
        b"X-MAINTNOTE-ACCOUNT:fuzz account",
        b"X-MAINTNOTE-MAINTENANCE-ID:" + maintenance_id,
        *(b"X-MAINTNOTE-OBJECT-ID;X-MAINTNOTE-OBJECT-IMPACT=" + impact + b":FUZZ-CID-%d" % i for i in range(circuits)),
        b"X-MAINTNOTE-IMPACT:" + impact,
        b"X-MAINTNOTE-STATUS:" + status,
        b"ORGANIZER;CN=fuzz:mailto:noc@fuzz.invalid",
        b"END:VEVENT",
        b"END:VCALENDAR",
    ]
    return CRLF.join(lines) + CRLF


@st.composite
def ical_text(draw) -> tuple[bytes, str]:
    """A BCOP iCalendar maintenance with hostile fields; its id starts with FUZZ- (never a good mail's)."""
    fields = {
        "summary": draw(st.sampled_from((b"Planned work\x00 with NUL", b"", b"=?x-unknown?q?hi?=", huge(5000, b"S")))),
        "start": draw(st.sampled_from(ICAL_DATES)),
        "end": draw(st.sampled_from(ICAL_DATES)),
        "maintenance_id": draw(
            st.sampled_from((b"FUZZ-A", b"FUZZ-B", b"FUZZ-\x00NUL", b"FUZZ-" + huge(300, b"9"), b"", b"FUZZ-\xff\xfe"))
        ),
        "status": draw(
            st.sampled_from((b"CONFIRMED", b"CANCELLED", b"TENTATIVE", b"IN-PROCESS", b"COMPLETED", b"X", b""))
        ),
        "sequence": draw(st.sampled_from((b"0", b"1", b"2", b"-1", b"2147483648", b"99999999999999999999", b"x"))),
        "stamp": draw(st.sampled_from((b"20250101T000000Z", b"99991231T235959Z", b"00000101T000000Z", b"junk"))),
        "circuits": draw(st.sampled_from((0, 1, 2, 3, 3000))),
        "impact": draw(st.sampled_from((b"OUTAGE", b"NO-IMPACT", b"DEGRADED", b"BOGUS"))),
    }
    shown = ",".join(
        f"{key}={value[:16]!r}" if isinstance(value, bytes) else f"{key}={value}" for key, value in fields.items()
    )
    return build_ical(**fields), f"ical({shown})"


@st.composite
def ical_part(draw) -> Part:
    text, recipe = draw(ical_text())
    encoding = draw(st.sampled_from(("none", "8bit", "base64", "qp", "base64-bad")))
    cte, body = encode(text, encoding)
    headers = b'Content-Type: text/calendar; charset="utf-8"; method=PUBLISH\r\n' + cte
    return Part(headers, body, f"{recipe};{encoding}")


@st.composite
def zip_part(draw) -> Part:
    data, kind = draw(zip_payload())
    content_type = draw(st.sampled_from((XLSX_TYPE, b"application/zip", b"application/octet-stream")))
    encoding = draw(st.sampled_from(("base64", "base64", "base64-bad", "binary")))
    cte, body = encode(data, encoding)
    headers = b"Content-Type: " + content_type + b'; name="maintenance.xlsx"\r\n'
    headers += b'Content-Disposition: attachment; filename="maintenance.xlsx"\r\n' + cte
    return Part(headers, body, f"zip({kind},{content_type.decode()},{encoding})")


leaf_part = st.one_of(text_part(), text_part(), ical_part(), zip_part())


def multipart(children: list[Part], *, declared: bytes, used: bytes, close: bool, subtype: bytes = b"mixed") -> Part:
    """A multipart entity; `declared` and `used` boundaries may differ, `close` writes the final delimiter."""
    body = b"preamble\r\n"
    for child in children:
        body += b"--" + used + CRLF + child.serialize() + CRLF
    if close:
        body += b"--" + used + b"--\r\n"
    headers = b"Content-Type: multipart/" + subtype + b'; boundary="' + declared + b'"\r\n'
    return Part(headers, body, f"multipart[{len(children)}]")


boundary_fault = st.sampled_from(("none", "none", "none", "wrong", "missing", "unclosed", "empty", "huge"))


def faulty_multipart(children: list[Part], name: bytes, fault: str) -> Part:
    if fault == "wrong":
        return multipart(children, declared=name, used=name + b"-other", close=True)
    if fault == "missing":
        part = multipart(children, declared=name, used=name, close=True)
        return Part(b"Content-Type: multipart/mixed\r\n", part.body, part.recipe)
    if fault == "unclosed":
        return multipart(children, declared=name, used=name, close=False)
    if fault == "empty":
        return multipart(children, declared=b"", used=b"", close=True)
    if fault == "huge":
        return multipart(children, declared=huge(5000, b"b"), used=huge(5000, b"b"), close=True)
    return multipart(children, declared=name, used=name, close=True)


@st.composite
def nested_body(draw) -> Part:
    """`leaf` wrapped in up to 60 levels of multipart, one level possibly with a boundary fault."""
    depth = draw(st.integers(min_value=1, max_value=60))
    leaf = draw(leaf_part)
    fault_level = draw(st.integers(min_value=0, max_value=depth - 1))
    fault = draw(boundary_fault)
    part = leaf
    for level in range(depth):
        part = faulty_multipart([part], b"fz%d" % level, fault if level == fault_level else "none")
    return Part(part.headers, part.body, f"nested({depth},{fault}@{fault_level}):{leaf.recipe}")


@st.composite
def many_parts_body(draw) -> Part:
    count = draw(st.integers(min_value=2, max_value=800))
    leaf = draw(leaf_part)
    tiny = Part(b"Content-Type: text/plain\r\n", b"x", "tiny")
    children = [leaf, *([tiny] * (count - 1))]
    part = faulty_multipart(children, b"many", draw(boundary_fault))
    return Part(part.headers, part.body, f"parts({count}):{leaf.recipe}")


@st.composite
def alternative_body(draw) -> Part:
    children = draw(st.lists(leaf_part, min_size=1, max_size=4))
    part = faulty_multipart(children, b"alt", draw(boundary_fault))
    return Part(part.headers, part.body, "alt[" + ",".join(child.recipe for child in children) + "]")


oversize_body = st.integers(min_value=2 * MIB + 1, max_value=3 * MIB).map(
    lambda n: Part(b"Content-Type: text/plain\r\n", huge(n, b"padding line\r\n"), f"oversize({n})")
)

mime_body = st.one_of(leaf_part, leaf_part, nested_body(), many_parts_body(), alternative_body(), oversize_body)


# -- byte mutations -----------------------------------------------------------------------------------


mutation = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from((b"\x00", b"\r\n", b"\n\n", b"=?", b"\xff", b"--"))),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 64)),
    # Truncation keeps at least a tenth of the message: an (almost) empty one is garbage_mail's job.
    st.tuples(st.just("truncate"), st.floats(0.1, 1), st.just(0)),
    st.tuples(st.just("duplicate"), st.floats(0, 1), st.integers(1, 2000)),
)


def mutate(data: bytes, mutations: list[tuple]) -> tuple[bytes, str]:
    """Apply (op, where in 0..1, argument) mutations in order; return the bytes and a short description."""
    done = []
    buffer = bytearray(data)
    for op, where, argument in mutations:
        at = min(int(where * len(buffer)), max(len(buffer) - 1, 0))
        if op == "flip" and buffer:
            buffer[at] ^= argument
        elif op == "insert":
            buffer[at:at] = argument
        elif op == "delete":
            del buffer[at : at + argument]
        elif op == "truncate":
            del buffer[at:]
        elif op == "duplicate":
            buffer[at:at] = buffer[at : at + argument]
        done.append(f"{op}@{at}")
    return bytes(buffer), ",".join(done)


# -- whole messages -----------------------------------------------------------------------------------


def assemble(headers: list[tuple[bytes, bytes]], raw_lines: list[bytes], body: Part, *, mime_version: bool) -> bytes:
    block = b"".join(name + b": " + value + CRLF for name, value in headers) + b"".join(raw_lines)
    if mime_version:
        block += b"MIME-Version: 1.0\r\n"
    return block + body.headers + CRLF + body.body


@st.composite
def scratch_mail(draw) -> HostileMail:
    """A message built from scratch, hostile in its headers, its MIME tree and its bytes."""
    known = draw(st.booleans())
    body = draw(mime_body)
    if known:
        # iCalendar reaches an iCalendar parser, a spreadsheet the AT&T one.
        preferred = ICAL_SENDERS if "ical(" in body.recipe else (ATT_SENDER,) if "zip(" in body.recipe else ()
        sender = draw(st.sampled_from(preferred or known_senders()))
    else:
        sender = draw(st.sampled_from(UNKNOWN_SENDERS))
    headers: list[tuple[bytes, bytes]] = []
    if draw(st.integers(0, 9)):  # mostly with a From
        headers.append((b"From", draw(from_value(sender))))
    if draw(st.integers(0, 9)):
        headers.append((b"Subject", draw(header_text)))
    dates, date_recipe = draw(date_headers())
    headers.extend(dates)
    if draw(st.booleans()):
        headers.append((b"From", draw(from_value(draw(st.sampled_from(UNKNOWN_SENDERS))))))
    lines, extras = draw(extra_headers())
    raw = assemble(headers, lines, body, mime_version=draw(st.booleans()))
    raw, mutated = mutate(raw, draw(st.lists(mutation, max_size=3)))
    identity = draw(st.sampled_from(IDENTITIES))
    sender_recipe = f"{'known' if known else 'unknown'}:{sender}"
    recipe = f"scratch from={sender_recipe} {date_recipe} extra={extras} body={body.recipe} mutations={mutated}"
    return HostileMail(recipe, identity, raw, known_sender=known)


CORPUS_EDITS = (
    "date-missing",
    "date-absurd",
    "subject-hostile",
    "from-encoded",
    "nul-in-body",
    "charset-lie",
    "wrap-nested",
    "lf-only",
    "drop-content-type",
    "attach-bomb",
)


def edit_corpus(raw: bytes, edit: str, draw, sender: bytes) -> bytes:
    """One damage done to a corpus mail (see CORPUS_EDITS); `sender` is the From address to keep."""
    lines, sep, body = split_message(raw)
    if edit == "date-missing":
        lines = without_headers(lines, b"Date")
    elif edit == "date-absurd":
        lines = [*without_headers(lines, b"Date"), b"Date: " + draw(st.sampled_from(ABSURD_DATES)) + CRLF]
    elif edit == "subject-hostile":
        lines = [*without_headers(lines, b"Subject"), b"Subject: " + draw(header_text) + CRLF]
    elif edit == "from-encoded":
        lines = [*without_headers(lines, b"From"), b"From: =?x-unknown?q?hi?= <" + sender + b">\r\n"]
    elif edit == "nul-in-body":
        body = body.replace(b"\n", b"\x00\n", draw(st.integers(1, 50)))
    elif edit == "charset-lie":
        body_lines = header_values(lines, b"Content-Type")
        lines = [
            *without_headers(lines, b"Content-Type"),
            *(line.replace(b"utf-8", b"x-unknown") for line in body_lines),
        ]
        body = body.replace(b"charset=", b"charset=x-unknown-", 3)
    elif edit == "wrap-nested":
        inner = header_values(lines, b"Content-Type") + header_values(lines, b"Content-Transfer-Encoding")
        part = Part(b"".join(inner), body, "corpus")
        for level in range(draw(st.integers(1, 60))):
            part = multipart([part], declared=b"wrap%d" % level, used=b"wrap%d" % level, close=True)
        lines = [*without_headers(lines, b"Content-Type", b"Content-Transfer-Encoding"), part.headers]
        body = part.body
        sep = CRLF
    elif edit == "lf-only":
        return raw.replace(b"\r\n", b"\n")
    elif edit == "drop-content-type":
        lines = without_headers(lines, b"Content-Type", b"Content-Transfer-Encoding", b"MIME-Version")
    elif edit == "attach-bomb":
        data, _ = draw(zip_payload())
        bomb = Part(
            b"Content-Type: " + XLSX_TYPE + b"\r\nContent-Transfer-Encoding: base64\r\n", base64.encodebytes(data), ""
        )
        inner = header_values(lines, b"Content-Type") + header_values(lines, b"Content-Transfer-Encoding")
        part = multipart([Part(b"".join(inner), body, ""), bomb], declared=b"bomb", used=b"bomb", close=True)
        lines = [*without_headers(lines, b"Content-Type", b"Content-Transfer-Encoding"), part.headers]
        body = part.body
        sep = CRLF
    return b"".join(lines) + (sep or CRLF) + body


@st.composite
def corpus_mail(draw) -> HostileMail:
    """A real provider notification, damaged."""
    name = draw(st.sampled_from(base_mails()))
    known = draw(st.integers(0, 3)) > 0
    raw = corpus_base(name)
    sender = sender_address(_corpus()[name][1]).encode()
    if not known:
        lines, sep, body = split_message(raw)
        sender = draw(st.sampled_from(UNKNOWN_SENDERS)).encode()
        raw = b"".join([b"From: NOC <" + sender + b">\r\n", *without_headers(lines, b"From", b"Sender")]) + sep + body
    edits = draw(st.lists(st.sampled_from(CORPUS_EDITS), max_size=3, unique=True))
    for edit in edits:
        raw = edit_corpus(raw, edit, draw, sender)
    mutations = draw(st.lists(mutation, max_size=6))
    raw, mutated = mutate(raw, mutations)
    identity = draw(st.sampled_from(IDENTITIES[:3]))
    expects = known and not mutations and set(edits) <= {"date-missing", "date-absurd"}
    recipe = (
        f"corpus {name} {'known' if known else 'unknown'} edits={'+'.join(edits) or '-'} mutations={mutated or '-'}"
    )
    return HostileMail(recipe, identity, raw, known_sender=known, expects_maintenance=expects)


@st.composite
def garbage_mail(draw) -> HostileMail:
    """Bytes that are hardly a message at all."""
    raw = draw(
        st.one_of(
            st.binary(max_size=300),
            st.just(b"\x00\xff\xfe not a mail \x89PNG\r\n\x1a\n"),
            st.just(b"\r\n\r\n"),
            st.just(b""),
            st.just(b"From: " + b"<" * 5000 + b"\r\n\r\n"),
            st.just(b"From: =?utf-8?q?=00?=@=?x?q?y?=\r\nSubject: \x00\r\n\r\n\x00"),
            st.just(b" continuation first\r\n\tand more\r\n\r\nbody"),
        )
    )
    return HostileMail(f"garbage {raw[:40]!r}", IDENTITIES[2], raw, known_sender=False)


hostile_mail = st.one_of(scratch_mail(), corpus_mail(), corpus_mail(), garbage_mail())


def hostile_batches(size: int) -> st.SearchStrategy[list[HostileMail]]:
    """`size` hostile messages, delivered and synced together."""
    return st.lists(hostile_mail, min_size=size, max_size=size, unique_by=lambda mail: mail.recipe)


# -- the cases of issue 6, always in the batch CI runs ---------------------------------------------------------


def _fixed(value):
    """A stand-in for hypothesis' `draw` that always gives `value` (to reuse `edit_corpus` outside a strategy)."""
    return lambda strategy: value


def _scratch(headers: list[tuple[bytes, bytes]], body: Part) -> bytes:
    return assemble(headers, [], body, mime_version=True)


def _damaged(name: str, *edits: tuple[str, object]) -> bytes:
    raw = corpus_base(name)
    sender = sender_address(_corpus()[name][1]).encode()
    for edit, value in edits:
        raw = edit_corpus(raw, edit, _fixed(value), sender)
    return raw


def pinned_batch() -> list[HostileMail]:
    """One hostile mail per case the issue reports, with the outcome each must get where it is certain."""
    plain = Part(b"Content-Type: text/plain; charset=utf-8\r\n", b"Maintenance tonight.\r\n", "text")
    unknown = (b"From", b"NOC <spam@fuzz.invalid>")
    date = (b"Date", b"Mon, 1 Jan 2024 10:00:00 +0000")
    eunetworks = (b"From", b"Maintenance <maintenance@eunetworks.com>")
    ical = b'Content-Type: text/calendar; charset="utf-8"; method=PUBLISH\r\n'
    tiny = Part(b"Content-Type: text/plain\r\n", b"x", "tiny")
    deep = plain
    for level in range(50):
        deep = multipart([deep], declared=b"d%d" % level, used=b"d%d" % level, close=True)
    too_large = frozenset({"too-large"})
    stranger = frozenset({"unknown-provider"})
    with_maintenance = frozenset({"parsed", "unknown-cids", "out-of-sequence"})
    cases = [
        (
            "unknown sender, Subject =?x-unknown?q?hi?=",
            [unknown, date, (b"Subject", b"=?x-unknown?q?hi?=")],
            plain,
            stranger,
        ),
        (
            "unknown sender, Subject =?utf-8?q?=FF=FE?=",
            [unknown, date, (b"Subject", b"=?utf-8?q?=FF=FE?=")],
            plain,
            stranger,
        ),
        (
            "unknown sender, split base64 words in From",
            [(b"From", b"=?utf-8?b?YWJj?= =?utf-8?b?Y?= <spam@fuzz.invalid>"), date, (b"Subject", b"hello")],
            plain,
            stranger,
        ),
        ("unknown sender, raw NUL in Subject", [unknown, date, (b"Subject", b"a\x00b \xff")], plain, stranger),
        (
            "iCal with NUL in SUMMARY, encoded NUL in Subject",
            [eunetworks, date, (b"Subject", b"=?utf-8?q?=00maintenance?=")],
            Part(ical, build_ical(maintenance_id=b"FUZZ-PIN-NUL", summary=b"Planned\x00 work"), "ical"),
            with_maintenance,
        ),
        (
            "iCal with 3000 unknown circuit ids",
            [eunetworks, date, (b"Subject", b"Many circuits")],
            Part(ical, build_ical(maintenance_id=b"FUZZ-PIN-MANY", circuits=3000), "ical"),
            frozenset({"unknown-cids"}),
        ),
        (
            "iCal from year 0 to year 9999",
            [eunetworks, date, (b"Subject", b"Absurd window")],
            Part(
                ical,
                build_ical(maintenance_id=b"FUZZ-PIN-ABSURD", start=b"00000101T000000Z", end=b"99991231T235959Z"),
                "ical",
            ),
            frozenset(),
        ),
        ("4 KB message nested 50 deep, known sender", [(b"From", b"mr@zayo.com"), date], deep, too_large),
        (
            "800 parts, known sender",
            [(b"From", b"mr@zayo.com"), date],
            multipart([tiny] * 800, declared=b"m", used=b"m", close=True),
            too_large,
        ),
        (
            "2.5 MB message, known sender",
            [(b"From", b"mr@zayo.com"), date],
            Part(plain.headers, huge(2_500_000, b"pad\r\n"), ""),
            too_large,
        ),
    ]
    mails = [
        HostileMail(
            f"pinned: {title}",
            IDENTITIES[0],
            _scratch(headers, body),
            known_sender=FUZZ_DOMAIN.encode() not in headers[0][1],
            outcomes=outcomes,
        )
        for title, headers, body, outcomes in cases
    ]
    damaged = [
        ("zayo7 wrapped in 50 multiparts", _damaged("zayo7", ("wrap-nested", 50)), too_large, False),
        (
            "att2 with an xlsx that inflates to 80 MiB",
            _damaged("att2", ("attach-bomb", (zip_of_zeros(80 * MIB), ""))),
            too_large,
            False,
        ),
        (
            "att3 with a zip that claims 4 GiB",
            _damaged("att3", ("attach-bomb", (lie_about_sizes(zip_of_zeros(4096), 0xFFFFFFF0), ""))),
            too_large,
            False,
        ),
        (
            "windstream1 dated year 10000 UTC",
            _damaged("windstream1", ("date-absurd", b"Fri, 31 Dec 9999 23:59:59 -1200")),
            with_maintenance,
            True,
        ),
        ("momentum1 without Date", _damaged("momentum1", ("date-missing", None)), with_maintenance, True),
        ("aws1 with raw NUL in its body", _damaged("aws1", ("nul-in-body", 20)), frozenset(), False),
        ("zayo4 with a broken encoded From", _damaged("zayo4", ("from-encoded", None)), frozenset(), False),
    ]
    mails += [
        HostileMail(
            f"pinned: {title}", IDENTITIES[0], raw, known_sender=True, expects_maintenance=expects, outcomes=outcomes
        )
        for title, raw, outcomes, expects in damaged
    ]
    mails.append(
        HostileMail("pinned: not a mail", IDENTITIES[2], b"\x00\xff\xfe not a mail \x89PNG", known_sender=False)
    )
    return mails
