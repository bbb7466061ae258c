"""The demo's sample mailbox: real provider mail from the corpus, and mail a person must act on.

Used by `./run demo` (development/demo.py) and by the browser tests that take the docs' screenshots from the
demo's data.
"""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.utils import parseaddr

from tests.fixtures.sample_data import corpus_messages

# The demo's mail server: it writes its verdict on each message it receives (DEMO_MAILBOX_AUTHENTICATION in
# development/nautobot_config.py trusts it).
AUTHSERV_ID = "mx.demo.example"


def stamped(raw: bytes, verdict: str) -> bytes:
    """The message as the demo's mail server hands it on: its DMARC verdict for the From domain on top."""
    sender = parseaddr(str(BytesHeaderParser().parsebytes(raw).get("From", "")))[1]
    domain = sender.rpartition("@")[2] or "unknown.invalid"
    return f"Authentication-Results: {AUTHSERV_ID}; dmarc={verdict} header.from={domain}\r\n".encode() + raw


def rewritten(raw: bytes, name: str, *, head: dict[bytes, bytes], body: dict[bytes, bytes] | None = None) -> bytes:
    """A copy of a sample with replacements in its header block and body, under a Message-ID of its own."""
    top, separator, rest = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    for old, new in {**head, b"Message-ID: <": f"Message-ID: <demo-{name}.".encode()}.items():
        top = top.replace(old, new)
    for old, new in (body or {}).items():
        rest = rest.replace(old, new)
    return top + separator + rest


def triage_examples(corpus: dict[str, bytes]) -> dict[str, bytes]:
    """Mail a person must act on, one per triage action the demo shows (docs/triage.md).

    AT&T writing from an address no provider has yet ("Assign sender", then it parses); a Zayo notice whose
    dates are "to be announced", which the parser cannot read ("Dismiss", or "Reprocess" once it can); and a
    Zayo notice the mail server could not vouch for that moves a window ("Confirm" or "Exclude"). The unknown
    circuit ID ("Map circuit ID") comes from AWS's own mail: the demo leaves one circuit out of Nautobot.
    """
    to_be_announced = b"to be announced"
    # The two windows of Zayo's notice TTN-0002345678, as its text writes them.
    first, second = b"11-Nov-2021 05:01 to 11-Nov-2021 11:00 ( GMT )", b"12-Nov-2021 05:01 to 12-Nov-2021 11:00 ( GMT )"
    return {
        "triage-att-new-address": stamped(
            rewritten(corpus["att1"], "att-new-address", head={b"g31654@att.com": b"network-notices@att-mail.example"}),
            "pass",
        ),
        "triage-zayo-no-dates": stamped(
            rewritten(
                corpus["zayo4"],
                "zayo-no-dates",
                head={b"Subject: ": b"Subject: [Dates to follow] "},
                body={first: to_be_announced, second: to_be_announced},
            ),
            "pass",
        ),
        # Zayo's notice again, two days later and sent from elsewhere: the mail server could not vouch for it, so
        # the window it moves waits for a person ("Confirm" or "Exclude").
        "triage-zayo-unvouched-move": stamped(
            rewritten(
                corpus["zayo4"],
                "zayo-unvouched-move",
                head={b"Date: Mon, 8 Nov 2021 21:35:26": b"Date: Tue, 9 Nov 2021 09:12:00"},
                body={first: first.replace(b"11-Nov", b"13-Nov"), second: second.replace(b"12-Nov", b"14-Nov")},
            ),
            "fail",
        ),
    }


def demo_messages() -> dict[str, bytes]:
    """Every message of the demo's mailbox by file name (without .eml)."""
    corpus = {name: raw for name, raw, _ in corpus_messages()}
    return {**{name: stamped(raw, "pass") for name, raw in corpus.items()}, **triage_examples(corpus)}
