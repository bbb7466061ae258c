"""Taking the notice out of a forward (mail/forwards.py), and the per-message boundary reading it (intake/parse.py)."""

from __future__ import annotations

import email
from datetime import datetime, timezone

from django.test import SimpleTestCase, override_settings
from nautobot.apps.testing import TestCase

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.config import ConfigurationError, _settings_of, validate_config
from nautobot_ssot_circuit_maintenance.intake.fold import APP_FACTS
from nautobot_ssot_circuit_maintenance.intake.parse import process_message
from nautobot_ssot_circuit_maintenance.intake.sources.base import FetchedMessage
from nautobot_ssot_circuit_maintenance.mail.forwards import MAX_QUOTED_CHARS, notice_sender, unwrap
from nautobot_ssot_circuit_maintenance.models import RawNotification
from nautobot_ssot_circuit_maintenance.providers import SenderDirectory
from tests.fixtures.forwards import FORWARDER, STRANGER, forward_attached, forward_gmail, forward_outlook
from tests.fixtures.sample_data import corpus_by_name, expected_maintenances

MESSAGES = corpus_by_name()
DIRECTORY = SenderDirectory(
    [
        (1, "Zayo", {"emails_circuit_maintenances": "@zayo.com"}),
        (2, "GTT", {"emails_circuit_maintenances": "infraco.cm@exainfra.net"}),
    ]
)
FORWARDERS = ("@example.net",)
RECEIVED = datetime(2030, 1, 1, tzinfo=timezone.utc)


def read(raw: bytes):
    return email.message_from_bytes(raw)


def process(raw: bytes, forwarders: tuple[str, ...] = FORWARDERS):
    fetched = FetchedMessage(raw, RECEIVED, "INBOX:1")
    return process_message(
        fetched, directory=DIRECTORY, source_header="From", raw_size_limit=100_000, forwarders=forwarders
    )


def text_forward(body: str, date: str = "Tue, 03 Nov 2020 16:00:00 +0100") -> bytes:
    return (
        f"From: {FORWARDER}\r\nTo: intake@example.net\r\nSubject: Fwd: work\r\nDate: {date}\r\n"
        f"Message-ID: <t@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ).encode()


class UnwrapTestCase(SimpleTestCase):
    def test_mail_that_forwards_nothing(self):
        self.assertIsNone(unwrap(read(MESSAGES["zayo4"])))
        self.assertIsNone(unwrap(read(text_forward("Hello, nothing forwarded here.\r\n"))))

    def test_an_attached_notice_is_the_provider_mail(self):
        forward = unwrap(read(forward_attached(MESSAGES["zayo4"], "k")))
        self.assertEqual(forward.style, "attached")
        self.assertEqual(forward.notice["Message-ID"], read(MESSAGES["zayo4"])["Message-ID"])

    def test_of_several_attached_the_first_a_provider_claims(self):
        stranger = forward_attached(MESSAGES["zayo4"], "inner", sender=STRANGER)
        both = forward_attached(stranger, "outer")
        # The stranger's mail comes first; the Zayo notice is inside it, not a second attachment: the first is taken.
        self.assertIn("sam@elsewhere.example", unwrap(read(both)).notice["From"])
        two = (
            (
                f"From: {FORWARDER}\r\nSubject: two\r\nMessage-ID: <two@example.net>\r\n"
                'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
                "--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: someone@else.example\r\nSubject: x\r\n\r\nhi\r\n"
                "--b\r\nContent-Type: message/rfc822\r\n\r\n"
            ).encode()
            + MESSAGES["gtt7"]
            + b"\r\n--b--\r\n"
        )
        known = unwrap(read(two), lambda address: DIRECTORY.provider_of(address) is not None)
        self.assertIn("exainfra.net", known.notice["From"])
        self.assertIn("someone@else.example", unwrap(read(two)).notice["From"])

    def test_gmail_text_forward(self):
        body = (
            "FYI\r\n\r\n---------- Forwarded message ---------\r\nFrom: MR Zayo <mr@zayo.com>\r\n"
            "Date: Tue, Nov 3, 2020 at 3:04 PM\r\nSubject: Maintenance\r\n ticket 42\r\nTo: <noc@example.net>\r\n"
            "\r\n\r\nThe work.\r\n"
        )
        forward = unwrap(read(text_forward(body)))
        self.assertEqual(forward.style, "gmail")
        self.assertEqual(forward.notice["From"], "MR Zayo <mr@zayo.com>")
        self.assertEqual(forward.notice["Subject"], "Maintenance ticket 42")
        # The quoted date is in the forward's own zone (+0100).
        self.assertEqual(
            email.utils.parsedate_to_datetime(forward.notice["Date"]), datetime(2020, 11, 3, 14, 4, tzinfo=timezone.utc)
        )
        self.assertEqual(forward.notice.get_payload(decode=True), b"The work.\r\n")

    def test_outlook_text_forwards(self):
        for marker in ("_" * 32, "-----Original Message-----"):
            body = (
                f"\r\n{marker}\r\nFrom: mr@zayo.com\r\nSent: Tuesday, November 3, 2020 3:04 PM\r\n"
                "To: noc@example.net\r\nSubject: Maintenance\r\n\r\nThe work.\r\n"
            )
            forward = unwrap(read(text_forward(body, "Tue, 03 Nov 2020 16:00:00 +0000")))
            self.assertEqual(forward.style, "outlook", marker)
            self.assertEqual(forward.notice["From"], "mr@zayo.com")
            self.assertEqual(forward.notice["Date"], "Tue, 03 Nov 2020 15:04:00 +0000")

    def test_outlook_for_windows_html(self):
        html_part = (
            '<html><body><div class="WordSection1"><p class="MsoNormal">FYI</p><div style="border:none;'
            'border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal"><b><span lang="EN-US">'
            'From:</span></b><span lang="EN-US"> MR Zayo &lt;mr@zayo.com&gt; <br><b>Sent:</b> Tuesday, November 3, '
            "2020 3:04 PM<br><b>To:</b> NOC &lt;noc@example.net&gt;<br><b>Subject:</b> Planned work<o:p></o:p></span>"
            '</p></div><p class="MsoNormal"><o:p>&nbsp;</o:p></p><table><tr><td>TICKET-7</td></tr></table>'
            "</div></body></html>"
        )
        raw = (
            f"From: {FORWARDER}\r\nSubject: FW: Planned work\r\nDate: Tue, 03 Nov 2020 16:00:00 +0000\r\n"
            f"Content-Type: text/html; charset=utf-8\r\n\r\n{html_part}"
        ).encode()
        forward = unwrap(read(raw))
        self.assertEqual(forward.style, "outlook")
        self.assertEqual(forward.notice["From"], "MR Zayo <mr@zayo.com>")
        self.assertEqual(forward.notice["Subject"], "Planned work")
        self.assertEqual(forward.notice["Date"], "Tue, 03 Nov 2020 15:04:00 +0000")
        body = forward.notice.get_payload(decode=True).decode()
        self.assertTrue(body.startswith('<p class="MsoNormal"><o:p>&nbsp;</o:p></p><table>'), body[:80])
        self.assertNotIn("From:", body)

    def test_the_forwards_own_marker_not_one_it_quotes(self):
        """A notice that itself quotes a Gmail forward, forwarded from Outlook: Outlook's header block is read."""
        inner = "---------- Forwarded message ---------\r\nFrom: old@elsewhere.example\r\n\r\nold\r\n"
        body = f"{'_' * 32}\r\nFrom: mr@zayo.com\r\nSent: Tuesday, November 3, 2020 3:04 PM\r\n\r\n{inner}"
        self.assertEqual(unwrap(read(text_forward(body))).notice["From"], "mr@zayo.com")

    def test_what_cannot_be_read_is_a_problem_not_an_error(self):
        cases = {
            "no From line": "---------- Forwarded message ---------\r\nDate: today\r\nSubject: x\r\n\r\nbody",
            "no address": "---------- Forwarded message ---------\r\nFrom: MR Zayo\r\n\r\nbody",
            "two addresses": "---------- Forwarded message ---------\r\nFrom: a@zayo.com, b@zayo.com\r\n\r\nbody",
            "huge header": "---------- Forwarded message ---------\r\nFrom: mr@zayo.com\r\nSubject: "
            + "x" * (MAX_QUOTED_CHARS * 50)
            + "\r\n\r\nbody",
            "endless headers": "---------- Forwarded message ---------\r\n"
            + "".join(f"To: a{i}@x.example\r\n" for i in range(10_000))
            + "\r\nbody",
            "garbage lines": "---------- Forwarded message ---------\r\n\x00\xff\ufffd<<<>>>\r\nFrom: a@zayo.com\r\n",
        }
        for why, body in cases.items():
            forward = unwrap(read(text_forward(body)))
            self.assertIsNone(forward.notice, why)
            self.assertTrue(forward.problem, why)

    def test_a_garbage_attached_message(self):
        for inner in (b"", b"\x00\xff\xfe garbage with no header\r\n", b"::::\r\n\r\n", b"From"):
            raw = (
                f"From: {FORWARDER}\r\nSubject: x\r\nMessage-ID: <g@example.net>\r\n"
                'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n'
            ).encode() + inner
            forward = unwrap(read(raw))
            self.assertEqual(forward.style, "attached")
            self.assertTrue(forward.notice is None or not forward.notice["From"], inner)


class ProcessForwardTestCase(SimpleTestCase):
    def test_each_style_is_read_as_the_notice(self):
        expected = expected_maintenances("zayo4")
        for style, forward in (("attached", forward_attached), ("gmail", forward_gmail), ("outlook", forward_outlook)):
            result = process(forward(MESSAGES["zayo4"], f"zayo4-{style}"))
            self.assertEqual(result.outcome, OutcomeChoices.PARSED, f"{style}: {result.error}")
            self.assertEqual(result.provider.name, "Zayo")
            self.assertIn("mr@zayo.com", result.sender)
            self.assertIn("nora@example.net", result.forwarded_by)
            self.assertEqual(result.message_key, f"mid:<zayo4-{style}@example.net>#" + result.message_key[-16:])
            self.assertGreater(result.forwarded_at, result.date)
            for got, want in zip(result.maintenances, expected, strict=True):
                # What the app reads besides the parser (intake/notice_facts.py) is stored apart from its output.
                got = {key: value for key, value in got.items() if key != APP_FACTS}
                self.assertEqual({**got, "stamp": 0}, {**want, "stamp": 0}, style)
                self.assertEqual(got["stamp"], want["stamp"] if style == "attached" else want["stamp"] // 60 * 60)

    def test_only_forwarders_are_unwrapped(self):
        for forward in (forward_attached, forward_gmail, forward_outlook):
            result = process(forward(MESSAGES["zayo4"], "s", sender=STRANGER))
            self.assertEqual(result.outcome, OutcomeChoices.UNKNOWN_PROVIDER)
            self.assertEqual(result.forwarded_by, "")
            self.assertIn("sam@elsewhere.example", result.sender)
            mine = process(forward(MESSAGES["zayo4"], "n"), forwarders=())
            self.assertEqual(mine.outcome, OutcomeChoices.UNKNOWN_PROVIDER)
            self.assertEqual(mine.forwarded_by, "")
        self.assertEqual(process(forward_attached(MESSAGES["zayo4"], "e"), ("nora@example.net",)).outcome, "parsed")

    def test_a_forward_of_a_forward_is_unwrapped_once(self):
        nested = forward_attached(forward_attached(MESSAGES["zayo4"], "inner"), "outer")
        result = process(nested)
        self.assertEqual(result.outcome, OutcomeChoices.UNKNOWN_PROVIDER)
        self.assertIn("unwrapped once", result.error)
        self.assertIn("nora@example.net", result.forwarded_by)
        # Triage finds no sender to assign: never the colleague's address.
        self.assertEqual(notice_sender(nested, "From", FORWARDERS), "")
        self.assertEqual(notice_sender(forward_attached(MESSAGES["zayo4"], "once"), "From", FORWARDERS), "mr@zayo.com")
        self.assertEqual(
            notice_sender(forward_attached(MESSAGES["zayo4"], "s", sender=STRANGER), "From", FORWARDERS),
            "sam@elsewhere.example",
        )

    def test_a_forward_with_nothing_readable_is_stored_as_unknown_provider(self):
        body = "---------- Forwarded message ---------\r\nSubject: no sender\r\n\r\nbody"
        result = process(text_forward(body))
        self.assertEqual(result.outcome, OutcomeChoices.UNKNOWN_PROVIDER)
        self.assertIn("forwarded by nora@example.net, but the forward quotes no From line", result.error)
        self.assertIn("nora@example.net", result.sender)

    def test_a_forward_nested_past_the_bounds_is_too_large(self):
        raw = MESSAGES["zayo4"]
        for depth in range(14):
            raw = forward_attached(raw, f"level{depth}")
        self.assertEqual(process(raw).outcome, OutcomeChoices.TOO_LARGE)


class ForwardersSettingTestCase(SimpleTestCase):
    def test_entries_are_validated_with_a_clear_message(self):
        source = {"name": "Mail", "url": "file:///tmp/x"}
        validate_config({"notification_sources": [{**source, "forwarders": ["noc@example.net", "@Example.NET"]}]})
        for bad in ("example.net", "noc@", "@", "noc@example", "two words@example.net", ""):
            with self.assertRaises(ConfigurationError, msg=bad) as raised:
                validate_config({"notification_sources": [{**source, "forwarders": ["noc@example.net", bad]}]})
            self.assertIn(f"'forwarders': {bad!r} is neither an address", str(raised.exception))
            self.assertIn("notification source 'Mail'", str(raised.exception))

    def test_entries_are_matched_case_insensitively(self):
        entry = {"name": "Mail", "url": "file:///x", "forwarders": ["NOC@Example.net", "@Corp.Example"]}
        settings = _settings_of(entry)
        self.assertEqual(settings.forwarders, ("@corp.example", "noc@example.net"))
        result = process(forward_attached(MESSAGES["zayo4"], "c", sender="Ops <OPS@CORP.example>"), settings.forwarders)
        self.assertEqual(result.outcome, OutcomeChoices.PARSED, result.error)


@override_settings(EXEMPT_VIEW_PERMISSIONS=["*"])
class ForwardedNotificationPageTest(TestCase):
    def test_the_page_says_who_forwarded_it_and_when(self):
        self.user.is_superuser = True
        self.user.save()
        self.client.force_login(self.user)
        parsed = process(forward_attached(MESSAGES["zayo4"], "page"))
        raw = RawNotification.objects.create(
            sender=parsed.sender,
            subject=parsed.subject,
            date=parsed.date,
            outcome=parsed.outcome,
            message_key=parsed.message_key,
            **parsed.stored_fields(),
        )
        body = self.client.get(raw.get_absolute_url()).content.decode()
        self.assertIn("Forwarded by", body)
        self.assertIn("Nora Colleague &lt;nora@example.net&gt; on ", body)
        # The stored message is the forward, as it came.
        self.assertEqual(raw.message_bytes(), forward_attached(MESSAGES["zayo4"], "page"))
        direct = process(MESSAGES["zayo4"])
        plain = RawNotification.objects.create(
            sender=direct.sender,
            subject=direct.subject,
            date=direct.date,
            outcome=direct.outcome,
            message_key=direct.message_key,
            **direct.stored_fields(),
        )
        self.assertNotIn("Forwarded by", self.client.get(plain.get_absolute_url()).content.decode())
