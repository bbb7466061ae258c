"""The sender is an address (issue 18): read from the header as written, never from a display name or comment.

Property tests build hostile From headers (encoded-words, quoted display names holding addresses, comments,
group syntax, several mailboxes) and check that only a real address decides the provider, in the directory
and through the per-message path. The job tests deliver forged display names through a real Dovecot and the
real sync, then re-parse, re-select and triage them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timezone

from django.test import SimpleTestCase
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from nautobot.apps.testing import TransactionTestCase, run_job_for_testing
from nautobot.circuits.models import Provider
from nautobot.extras.models import Job

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.intake import reprocess
from nautobot_ssot_circuit_maintenance.intake.parse import process_message
from nautobot_ssot_circuit_maintenance.intake.sources.base import FetchedMessage
from nautobot_ssot_circuit_maintenance.mail.bounds import MessageBounds
from nautobot_ssot_circuit_maintenance.mail.headers import shown_sender
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, SenderDirectory, sender_address
from nautobot_ssot_circuit_maintenance.triage import actions
from tests.fixtures.imap import ACCOUNT, DovecotTestMixin
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits

MESSAGES = corpus_by_name()
WHOLE = {"raw_notification_size": 1_000_000}

# Zayo claims one address and one sub-domain; nobody claims anything else.
DIRECTORY = SenderDirectory([("zayo", "Zayo", {EMAILS_FIELD: "mr@zayo.com, @noc.zayo.com"})])
ZAYO = DIRECTORY.provider_of("mr@zayo.com")
# What a forger writes where a person (or a careless parser) reads a sender.
DECOYS = ("mr@zayo.com", "MR@ZAYO.COM", "ops@noc.zayo.com", "MR Zayo <mr@zayo.com>")
# Real addresses: the forger's own (never claimed) and Zayo's.
FORGERS = ("attacker@evil.example", "mr@zayo.com.evil.example", "mr@evilzayo.com", "zayo.com@evil.example")
GENUINE = ("mr@zayo.com", "Mr@Zayo.COM", "ops@noc.zayo.com")


def q_word(text: str) -> str:
    """An RFC 2047 Q encoded-word of `text` with every special character encoded."""
    encoded = "".join(char if char.isalnum() else "".join(f"={b:02X}" for b in char.encode()) for char in text)
    return f"=?utf-8?q?{encoded}?="


def b_word(text: str) -> str:
    return f"=?UTF-8?B?{base64.b64encode(text.encode()).decode()}?="


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Mailbox:
    written: str
    address: str
    # The display name is an unquoted address: not a well-formed mailbox, and no sender at all.
    malformed: bool


@st.composite
def mailbox(draw) -> Mailbox:
    address = draw(st.sampled_from(FORGERS + GENUINE))
    decoy = draw(st.sampled_from(DECOYS))
    name_form = draw(
        st.sampled_from(("none", "phrase", "quoted", "quoted-angle", "q-word", "b-word", "utf8", "unquoted"))
    )
    name = {
        "none": "",
        "phrase": "MR Zayo",
        "quoted": quoted(decoy),
        "quoted-angle": quoted(f"{decoy} <{decoy}>, {decoy}"),
        "q-word": q_word(decoy),
        "b-word": b_word(f"{decoy} <{decoy}>"),
        "utf8": quoted(f"Zäyo ✓ {decoy}"),
        "unquoted": decoy.split("<")[-1].rstrip(">"),
    }[name_form]
    comment = draw(st.sampled_from(("", f" ({decoy})", f" ({q_word(decoy)})", " (NOC (night) shift)")))
    if not name and draw(st.booleans()):
        written = address + comment
    else:
        written = f"{name} <{address}>{comment}".strip()
    return Mailbox(written, address, malformed=name_form == "unquoted")


@st.composite
def from_header(draw) -> tuple[str, list[Mailbox]]:
    boxes = draw(st.lists(mailbox(), min_size=1, max_size=3))
    header = ", ".join(box.written for box in boxes)
    if draw(st.integers(0, 4)) == 0:
        header = f"{draw(st.sampled_from(('Zayo NOC', quoted('mr@zayo.com'), q_word('mr@zayo.com'))))}: {header};"
    return header, boxes


def decided_by(boxes: list[Mailbox]) -> object:
    """The provider the header must decide: that of its one real address, when it is one well-formed mailbox."""
    if len(boxes) != 1 or boxes[0].malformed:
        return None
    return DIRECTORY.provider_of(boxes[0].address)


def message_from(header: str, fold: bool) -> bytes:
    """Zayo's notice zayo4 with `header` as its only From (folded over lines if `fold`)."""
    head, _, body = MESSAGES["zayo4"].replace(b"\r\n", b"\n").partition(b"\n\n")
    lines, skipping = [], False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and skipping:
            continue
        skipping = line.lower().startswith((b"from:", b"x-original-sender:"))
        if not skipping:
            lines.append(line)
    value = header.replace(", ", ",\n ").replace(" <", "\n <") if fold else header
    return b"\n".join([b"From: " + value.encode(), *lines]) + b"\n\n" + body


class SenderAddressTestCase(SimpleTestCase):
    """The address rule on its own, and through `process_message` (no database: the directory is built here)."""

    def test_the_forms_the_issue_reports(self):
        for header, expected in (
            ("=?utf-8?q?mr=40zayo=2Ecom?= <attacker@evil.example>", "attacker@evil.example"),
            ('"mr@zayo.com" <attacker@evil.example>', "attacker@evil.example"),
            ("attacker@evil.example (mr@zayo.com)", "attacker@evil.example"),
            ("MR Zayo <MR@zayo.com>", "mr@zayo.com"),
            ('"Zayo, NOC" <mr@zayo.com>', "mr@zayo.com"),
            ("mr@zayo.com <attacker@evil.example>", ""),  # two addresses, one of them pretending to be a name
            ("mr@zayo.com, attacker@evil.example", ""),
            ("<mr@zayo.com", ""),
            ("mr@zayo.com <evil>", ""),
            ('"mr@zayo.com"@evil.example', ""),
            ("<mr@=?utf-8?q?zayo.com?=>", ""),
            ("undisclosed-recipients:;", ""),
            ("", ""),
        ):
            self.assertEqual(sender_address(header), expected, header)
        self.assertIsNone(DIRECTORY.lookup("=?utf-8?q?mr=40zayo=2Ecom?= <attacker@evil.example>"))
        self.assertEqual(DIRECTORY.lookup("MR Zayo <MR@zayo.com>"), ZAYO)
        self.assertEqual(DIRECTORY.lookup("someone@noc.zayo.com"), ZAYO)
        self.assertIsNone(DIRECTORY.lookup("someone@zayo.com"), "an exact address claims only itself")
        self.assertEqual(DIRECTORY.claims_of(ZAYO), {"mr@zayo.com", "@noc.zayo.com"})

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(generated=from_header())
    @example(generated=("=?utf-8?q?mr=40zayo=2Ecom?= <attacker@evil.example>", [Mailbox("", FORGERS[0], False)]))
    def test_only_a_real_address_decides_the_provider(self, generated):
        header, boxes = generated
        provider = DIRECTORY.lookup(header)
        # Safety: a provider only for a header of one mailbox whose real address it claims.
        if provider is not None:
            self.assertEqual(len(boxes), 1, header)
            self.assertEqual(DIRECTORY.provider_of(boxes[0].address), provider, header)
        if all(DIRECTORY.provider_of(box.address) is None for box in boxes):
            self.assertIsNone(provider, header)
        # And the rule is no blanket refusal: one well-formed mailbox is read right, whatever its name says.
        self.assertEqual(provider, decided_by(boxes), header)
        # What is stored and shown as the sender reads back as the same address.
        address = sender_address(header)
        if address:
            self.assertEqual(sender_address(shown_sender(header, address)), address, header)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(generated=from_header(), fold=st.booleans())
    def test_the_per_message_path_decides_by_the_address(self, generated, fold):
        header, boxes = generated
        fetched = FetchedMessage(message_from(header, fold), datetime(2021, 11, 8, tzinfo=timezone.utc), "INBOX:1")
        result = process_message(fetched, directory=DIRECTORY, source_header="From", raw_size_limit=100_000)
        expected = decided_by(boxes)
        self.assertEqual(result.provider, expected, header)
        if expected is None:
            self.assertEqual(result.outcome, OutcomeChoices.UNKNOWN_PROVIDER, header)
            self.assertFalse(result.maintenances)
        if len(boxes) == 1 and not boxes[0].malformed:
            self.assertEqual(sender_address(result.sender), boxes[0].address.lower(), result.sender)
        # Stopped before the parser (too large), the stored sender is the same address.
        bounds = MessageBounds(max_message_bytes=1000)
        stopped = process_message(
            fetched, directory=DIRECTORY, source_header="From", raw_size_limit=100_000, bounds=bounds
        )
        self.assertEqual(stopped.outcome, OutcomeChoices.TOO_LARGE)
        self.assertEqual(sender_address(stopped.sender), sender_address(result.sender))

    def test_the_source_header_is_read_the_same_way(self):
        raw = message_from("MR Zayo <mr@zayo.com>", fold=False)
        for written, provider in (
            (b"mr@zayo.com", ZAYO),
            (b"=?utf-8?q?mr=40zayo=2Ecom?= <attacker@evil.example>", None),
            (b"mr@zayo.com\nX-Original-Sender: attacker@evil.example", None),
        ):
            fetched = FetchedMessage(b"X-Original-Sender: " + written + b"\n" + raw, None, "INBOX:2")
            result = process_message(
                fetched, directory=DIRECTORY, source_header="X-Original-Sender", raw_size_limit=100_000
            )
            self.assertEqual(result.provider, provider, written)
        self.assertIn("X-Original-Sender header appears 2 times", result.error)
        # Without the source header the message belongs to nobody, whatever its From says.
        fetched = FetchedMessage(raw, None, "INBOX:3")
        result = process_message(fetched, directory=DIRECTORY, source_header="X-Original-Sender", raw_size_limit=10**5)
        self.assertIsNone(result.provider)
        self.assertIn("has no X-Original-Sender header", result.error)
        self.assertEqual(result.sender, "MR Zayo <mr@zayo.com>")

    def test_an_address_with_a_byte_that_is_not_utf8_or_a_control_character_is_no_address(self):
        # Read as text, the byte is a lone surrogate: the address could be neither claimed as written nor stored.
        raw = message_from("MR Zayo <mr@zayo.com>", fold=False)
        for written in (b"NOC <mr@zay\xffo.com>", b"NOC <mr@zayo.com\xff>", b"NOC <mr\x01@zayo.com>"):
            self.assertEqual(sender_address(written.decode("utf-8", "surrogateescape")), "", written)
            fetched = FetchedMessage(b"From: " + written + b"\n" + raw.partition(b"\n")[2], None, "INBOX:4")
            result = process_message(fetched, directory=DIRECTORY, source_header="From", raw_size_limit=100_000)
            self.assertIsNone(result.provider, written)
            self.assertEqual(result.outcome, OutcomeChoices.UNKNOWN_PROVIDER)
            for text in (result.sender, result.subject, result.error):
                text.encode("utf-8")  # what PostgreSQL stores: no lone surrogate
            self.assertIn("NOC", result.sender)


# Forged copies of Zayo's notice: each From (one or two header lines) and the Message-ID that keeps it apart.
FORGED_FROMS = (
    b"From: =?utf-8?q?mr=40zayo=2Ecom?= <attacker@evil.example>",
    b'From: "mr@zayo.com" <attacker@evil.example>',
    b"From: mr@zayo.com <attacker@evil.example>",
    b"From: attacker@evil.example (mr@zayo.com)",
    b"From: " + b_word("MR Zayo <mr@zayo.com>").encode() + b" <attacker@evil.example>",
    b"From: MR Zayo <mr@zayo.com>\r\nFrom: attacker@evil.example",
)


def forged(raw: bytes, header_lines: bytes, index: int, replaced: bytes = b"from:") -> bytes:
    """`raw` with the headers starting `replaced` (and its Message-ID) replaced: a different notice to the store."""
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    lines, skipping = [], False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and skipping:
            continue
        skipping = line.lower().startswith((replaced, b"message-id:"))
        if not skipping:
            lines.append(line)
    extra = [header_lines.replace(b"\r\n", b"\n"), b"Message-ID: <forged-%d@evil.example>" % index]
    return (b"\n".join([*extra, *lines]) + b"\n\n" + body).replace(b"\n", b"\r\n")


class DisplayNameThroughImapTestCase(DovecotTestMixin, TransactionTestCase):
    """Forged display names in a real Dovecot mailbox, through the real sync, re-parse and triage."""

    def setUp(self):
        super().setUp()
        self.providers = create_providers_and_circuits()
        Job.objects.filter(job_class_name__in=("CircuitMaintenanceDataSource", "ReparseDataSource")).update(
            enabled=True
        )

    def sync(self, source: dict) -> None:
        with self.configured([source], **WHOLE):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))

    def zayo_state(self) -> list:
        return list(
            CircuitMaintenance.objects.filter(provider=self.providers["zayo"]).values_list(
                "maintenance_id", "status", "start_time", "end_time"
            )
        )

    def test_a_display_name_is_never_the_sender(self):
        folder = "DisplayNames"
        self.dovecot.append(ACCOUNT, MESSAGES["zayo4"], folder=folder)
        source = self.imap_source(name=f"IMAP {folder}", folder=folder)
        self.sync(source)
        alone = self.zayo_state()
        self.assertEqual(len(alone), 1)
        for index, header in enumerate(FORGED_FROMS):
            self.dovecot.append(ACCOUNT, forged(MESSAGES["zayo4"], header, index), folder=folder)
        self.sync(source)

        genuine = RawNotification.objects.get(outcome=OutcomeChoices.PARSED)
        self.assertEqual(genuine.provider, self.providers["zayo"])
        rows = {raw.message_key.split("#")[0]: raw for raw in RawNotification.objects.exclude(pk=genuine.pk)}
        self.assertEqual(len(rows), len(FORGED_FROMS))
        for index, header in enumerate(FORGED_FROMS):
            raw = rows[f"mid:<forged-{index}@evil.example>"]
            self.assertEqual(raw.outcome, OutcomeChoices.UNKNOWN_PROVIDER, header)
            self.assertIsNone(raw.provider, header)
            self.assertFalse(raw.parsed_notifications.exists(), header)
            self.assertIn("no provider attached to this source claims the sender", raw.error)
        self.assertEqual(self.zayo_state(), alone)

        # The issue's case: shown as the name it claims, stored with the address it has.
        raw = rows["mid:<forged-0@evil.example>"]
        self.assertEqual(raw.sender, '"mr@zayo.com" <attacker@evil.example>')
        self.assertEqual(raw.sender_address, "attacker@evil.example")
        self.assertEqual(actions.sender_address(raw), "attacker@evil.example")
        self.assertIn("(From: attacker@evil.example)", raw.error)
        two = rows[f"mid:<forged-{len(FORGED_FROMS) - 1}@evil.example>"]
        self.assertEqual(actions.sender_address(two), "")
        self.assertIn("the From header appears 2 times", two.error)
        self.assertEqual(two.sender, "MR Zayo <mr@zayo.com>, attacker@evil.example")

        # A re-parse selects for Zayo only its own mail, and reading everything again changes nothing.
        zayo = self.providers["zayo"]
        job = Job.objects.get(job_class_name="ReparseDataSource")
        with self.configured([source], **WHOLE):
            self.assertEqual(list(reprocess.stored_for_reparse(providers=[zayo])), [genuine])
            inputs = {"dryrun": False, "memory_profiling": False}
            result = run_job_for_testing(job, **job_inputs(run_job_for_testing, inputs))
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertEqual(
            sorted(RawNotification.objects.values_list("outcome", flat=True)),
            sorted([OutcomeChoices.PARSED] + [OutcomeChoices.UNKNOWN_PROVIDER] * len(FORGED_FROMS)),
        )
        self.assertEqual(self.zayo_state(), alone)

        # Triage assigns the real address, never the one in the display name.
        gtt = self.providers["gtt"]
        with self.configured([source], **WHOLE):
            entry = actions.assign_sender(raw, gtt, whole_domain=False)
        self.assertEqual(entry, "attacker@evil.example")
        gtt.refresh_from_db()
        self.assertIn("attacker@evil.example", gtt._custom_field_data[EMAILS_FIELD])
        self.assertNotIn("attacker@evil.example", Provider.objects.get(pk=zayo.pk)._custom_field_data[EMAILS_FIELD])
        with self.assertRaises(ValueError):
            actions.assign_sender(two, gtt, whole_domain=False)

    def test_the_source_header_is_read_as_written(self):
        folder = "Relayed"
        source = self.imap_source(name=f"IMAP {folder}", folder=folder, source_header="X-Original-Sender")
        self.dovecot.append(ACCOUNT, MESSAGES["zayo4"], folder=folder)
        header = b"X-Original-Sender: =?utf-8?q?mr=40zayo=2Ecom?= <attacker@evil.example>"
        self.dovecot.append(ACCOUNT, forged(MESSAGES["zayo4"], header, 0, b"x-original-sender:"), folder=folder)
        self.sync(source)
        outcomes = dict(RawNotification.objects.values_list("sender", "outcome"))
        self.assertEqual(
            outcomes,
            {
                "mr@zayo.com": OutcomeChoices.PARSED,
                '"mr@zayo.com" <attacker@evil.example>': OutcomeChoices.UNKNOWN_PROVIDER,
            },
        )
        forged_raw = RawNotification.objects.get(outcome=OutcomeChoices.UNKNOWN_PROVIDER)
        with self.configured([source], **WHOLE):
            # Read from the source's header: its From (Zayo's, left as it was) is not what decides here.
            self.assertEqual(actions.sender_address(forged_raw), "attacker@evil.example")
            self.assertEqual(reprocess.stored_for_reparse(providers=[self.providers["zayo"]]).count(), 1)
