"""Mail for the readable-mail and timeline tests: a 3-notice Zayo series from the corpus, and a hostile HTML mail."""

from __future__ import annotations

import base64
import quopri

from tests.sample_data import corpus_messages

ZAYO_SERIES_ID = "TTN-0001234567"


def corpus_message(name: str) -> bytes:
    return {entry_name: raw for entry_name, raw, _ in corpus_messages()}[name]


def zayo_cancellation() -> bytes:
    """zayo8 as Zayo words a cancellation of the same ticket, five days later (the real parser reads CANCELLED)."""
    raw = corpus_message("zayo8")
    edits = (
        (
            b"<br><br>Reschedule Notification\n<br><br>Zayo or one of its providers has rescheduled the maintenance "
            b"listed=\n below. Please make a note of revised dates and times.",
            b"<br><br>Cancellation Notification\n<br><br>Zayo serves as official notification that it has cancelled "
            b"the maintenance listed=\n below.",
        ),
        (b"<b>Date Notice Sent: </b> 15-Dec-2021", b"<b>Date Notice Sent: </b> 20-Dec-2021"),
        (b"RESCHEDULE NOTIFICATION", b"CANCELLED NOTIFICATION"),
        (b"Date: Wed, 15 Dec 2021 17:55:48", b"Date: Mon, 20 Dec 2021 09:00:00"),
    )
    for old, new in edits:
        assert old in raw, old
        raw = raw.replace(old, new)
    return raw


def zayo_series() -> list[tuple[str, bytes]]:
    """Three notices of Zayo's TTN-0001234567: a reschedule, the same reschedule received again, a cancellation."""
    return [
        ("zayo8", corpus_message("zayo8")),
        ("zayo9", corpus_message("zayo9")),
        ("zayo-cancel", zayo_cancellation()),
    ]


HOSTILE_HTML = (
    "<html><head><style>body{background:url(https://tracker.example/bg.png)}</style>"
    "<script>alert('head')</script></head>"
    "<body onload=\"alert('onload')\"><h1 onclick=\"alert('click')\">Planned work café</h1>"
    "<script>alert('body')</script>"
    '<img src="https://tracker.example/pixel.gif" alt="tracking pixel" onerror="alert(\'img\')">'
    "<img src=x onerror=\"alert('x')\">"
    "<a href=\"javascript:alert('link')\">click me</a> "
    '<a href="https://noc.example/ticket/1">ticket 1</a>'
    '<iframe src="https://evil.example/"></iframe>'
    '<svg onload="alert(\'svg\')"><circle r="4"/></svg>'
    '<p style="background:url(https://tracker.example/p.png)">Window: 2030-01-10 22:00 UTC</p>'
    "</body></html>"
)
HOSTILE_TEXT = "Planned work café – window 2030-01-10 22:00 UTC\n" + "long-line-" * 300 + "\n"
ATTACHMENT_BYTES = b"<html><script>alert('attachment')</script></html>"


def hostile_html_mail(remote: str = "https://tracker.example") -> bytes:
    """An HTML mail with scripts, event handlers, remote images (at `remote`) and a javascript: link;
    quoted-printable text in ISO-8859-1, base64 HTML in UTF-8, an encoded subject and an HTML attachment."""
    text = quopri.encodestring(HOSTILE_TEXT.encode("iso-8859-1", "replace"))
    html = base64.encodebytes(HOSTILE_HTML.replace("https://tracker.example", remote).encode("utf-8"))
    attachment = base64.encodebytes(ATTACHMENT_BYTES)
    return (
        b"From: =?utf-8?q?NOC_=C3=A9quipe?= <noc@provider-a.example>\r\n"
        b"To: ops@example.net, =?iso-8859-1?q?J=E9r=F4me?= <jerome@example.net>\r\n"
        b"Subject: =?utf-8?b?TWFpbnRlbmFuY2UgPHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0PiBjYWbDqQ==?=\r\n"
        b"Date: Thu, 03 Jan 2030 10:00:00 +0000\r\n"
        b"Message-ID: <hostile-html@provider-a.example>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        b"--outer\r\n"
        b'Content-Type: multipart/alternative; boundary="inner"\r\n\r\n'
        b"--inner\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + text + b"\r\n"
        b"--inner\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + html + b"\r\n"
        b"--inner--\r\n"
        b"--outer\r\n"
        b'Content-Type: text/html; name="evil.html"\r\n'
        b'Content-Disposition: attachment; filename="../../evil.html"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + attachment + b"\r\n"
        b"--outer--\r\n"
    )
