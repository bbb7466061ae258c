"""The demo's sample mailbox: real provider mail from the corpus, and mail a person must act on.

Used by `./run demo` (development/demo.py) and by the browser tests that take the docs' screenshots from the
demo's data.
"""

from __future__ import annotations

from tests.fixtures.sample_data import corpus_messages


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

    AT&T writing from an address no provider has yet ("Assign sender", then it parses), and a Zayo notice whose
    dates are "to be announced", which the parser cannot read ("Dismiss", or "Reprocess" once it can). The
    unknown circuit ID ("Map circuit ID") comes from AWS's own mail: the demo leaves one circuit out of Nautobot.
    """
    to_be_announced = b"to be announced"
    return {
        "triage-att-new-address": rewritten(
            corpus["att1"], "att-new-address", head={b"g31654@att.com": b"network-notices@att-mail.example"}
        ),
        "triage-zayo-no-dates": rewritten(
            corpus["zayo4"],
            "zayo-no-dates",
            head={b"Subject: ": b"Subject: [Dates to follow] "},
            body={
                b"11-Nov-2021 05:01 to 11-Nov-2021 11:00 ( GMT )": to_be_announced,
                b"12-Nov-2021 05:01 to 12-Nov-2021 11:00 ( GMT )": to_be_announced,
            },
        ),
    }


def demo_messages() -> dict[str, bytes]:
    """Every message of the demo's mailbox by file name (without .eml)."""
    corpus = {name: raw for name, raw, _ in corpus_messages()}
    return {**corpus, **triage_examples(corpus)}
