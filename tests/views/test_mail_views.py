"""The raw notification page reads the mail for a person; the maintenance page shows its timeline."""

from __future__ import annotations

import importlib
import re
import uuid
from datetime import datetime, timezone

from django.apps import apps as django_apps
from django.test import override_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from nautobot.apps.testing import TestCase, TransactionTestCase
from nautobot.circuits.models import Provider
from nautobot_ssot.models import SyncLogEntry

from nautobot_ssot_circuit_maintenance.choices import MessageKeptChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.compat.releases import collapsed_panel_options
from nautobot_ssot_circuit_maintenance.intake.parse import process_message
from nautobot_ssot_circuit_maintenance.intake.sources.base import FetchedMessage
from nautobot_ssot_circuit_maintenance.mail.packing import parser_version
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from nautobot_ssot_circuit_maintenance.providers import SenderDirectory
from tests.fixtures.hostile_mail import hostile_mail
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.mail_samples import ATTACHMENT_BYTES, ZAYO_SERIES_ID, corpus_message, hostile_html_mail, zayo_series
from tests.fixtures.sample_data import create_providers_and_circuits

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
RECEIVED = datetime(2030, 1, 1, tzinfo=timezone.utc)


def store(raw: bytes, **fields) -> RawNotification:
    """A raw notification stored the way the sync stores it (the pipeline builds the stored fields)."""
    parsed = process_message(
        FetchedMessage(raw, RECEIVED, "INBOX:1"),
        directory=SenderDirectory([]),
        source_header="From",
        raw_size_limit=8192,
    )
    return RawNotification.objects.create(
        message_key=f"{parsed.message_key}#{uuid.uuid4().hex[:8]}",
        sender=parsed.sender,
        subject=parsed.subject,
        date=parsed.date,
        outcome=parsed.outcome,
        **{**parsed.stored_fields(), **fields},
    )


@override_settings(EXEMPT_VIEW_PERMISSIONS=["*"])
class RawNotificationMailPageTest(TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.client.force_login(self.user)

    def page(self, raw: RawNotification) -> str:
        response = self.client.get(raw.get_absolute_url())
        self.assertHttpStatus(response, 200)
        return response.content.decode()

    def test_hostile_html_mail_is_decoded_and_inert(self):
        raw = store(hostile_html_mail())
        body = self.page(raw)
        # Headers decoded (and escaped).
        self.assertIn("NOC équipe &lt;noc@provider-a.example&gt;", body)
        self.assertIn("Jérôme", body)
        self.assertIn("Maintenance &lt;script&gt;alert(1)&lt;/script&gt; café", body)
        # The text part decoded from quoted-printable ISO-8859-1, wrapping.
        self.assertIn("Planned work café", body)
        self.assertIn("white-space: pre-wrap", body)
        # The HTML part: in a sandboxed frame that may run nothing, sanitized.
        frame = re.search(r'<iframe class="cm-mail-html[^>]*>', body).group(0)
        self.assertIn('sandbox=""', frame)
        self.assertIn("default-src &#x27;none&#x27;", frame)
        for active in ("onerror", "onload", "onclick", "javascript:", "tracker.example", "evil.example", "alert("):
            self.assertNotIn(active, frame)
        self.assertNotIn("<script>alert", body)
        # Attachments listed, downloadable.
        self.assertIn("../../evil.html", body)
        self.assertIn(reverse(f"{PREFIX}:rawnotification_attachment", args=[raw.pk, 0]), body)
        self.assertIn(reverse(f"{PREFIX}:rawnotification_eml", args=[raw.pk]), body)
        # Raw headers folded away (where Nautobot's panels can start collapsed: 3.2 on; see compat.py).
        if collapsed_panel_options():
            self.assertRegex(body, r'<div class="collapse"\s+id="raw-headers"')

    def test_eml_download_is_the_original_message(self):
        original = corpus_message("zayo8")
        self.assertGreater(len(original), 28_000)
        raw = store(original)
        self.assertTrue(raw.raw_truncated)  # the head the API shows is 8 KB
        response = self.client.get(reverse(f"{PREFIX}:rawnotification_eml", args=[raw.pk]))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.content, original)
        self.assertEqual(response["Content-Type"], "message/rfc822")
        self.assertEqual(response["Content-Disposition"], f'attachment; filename="notification-{raw.pk}.eml"')
        # The page decodes the quoted-printable text the head alone would cut.
        body = self.page(raw)
        self.assertIn("Zayo or one of its providers has rescheduled the maintenance listed below.", body)
        self.assertNotIn("=20", body.split("cm-mail-raw-headers")[0])

    def test_attachments_download_as_files_only(self):
        raw = store(hostile_html_mail())
        response = self.client.get(reverse(f"{PREFIX}:rawnotification_attachment", args=[raw.pk, 0]))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.content, ATTACHMENT_BYTES)
        self.assertEqual(response["Content-Type"], "application/octet-stream")
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="evil.html"')
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertIn("sandbox", response["Content-Security-Policy"])
        self.assertHttpStatus(self.client.get(reverse(f"{PREFIX}:rawnotification_attachment", args=[raw.pk, 1])), 404)
        self.assertHttpStatus(self.client.get(f"{raw.get_absolute_url()}attachment/99999/"), 404)
        self.assertHttpStatus(self.client.get(f"{raw.get_absolute_url()}attachment/-1/"), 404)

    def test_a_message_truncated_by_an_older_version_says_so(self):
        original = corpus_message("zayo8")
        raw = RawNotification.objects.create(
            message_key="legacy",
            date=RECEIVED,
            raw=original[:8192],
            raw_truncated=True,
            raw_size=len(original),
            outcome=OutcomeChoices.PARSED,
        )
        self.assertFalse(raw.is_whole)
        body = self.page(raw)
        self.assertIn("stored truncated by an older version", body)
        self.assertIn(f"first 8,192 of {len(original):,}", body)
        response = self.client.get(reverse(f"{PREFIX}:rawnotification_eml", args=[raw.pk]))
        self.assertEqual(response.content, original[:8192])

    def test_a_head_only_message_says_so(self):
        raw = store(b"From: a@b.example\r\nSubject: big\r\n\r\n" + b"x" * 5000, message_kept=MessageKeptChoices.HEAD)
        self.assertIn("Only the head of this message is stored", self.page(raw))

    def test_migration_keeps_stored_messages(self):
        original = corpus_message("zayo8")
        whole = RawNotification.objects.create(
            message_key="old-whole", date=RECEIVED, raw=original, raw_size=len(original), outcome="parsed"
        )
        cut = RawNotification.objects.create(
            message_key="old-cut",
            date=RECEIVED,
            raw=original[:100],
            raw_truncated=True,
            raw_size=len(original),
            outcome="parsed",
        )
        migration = importlib.import_module("nautobot_ssot_circuit_maintenance.migrations.0006_whole_messages")
        migration.keep_stored_messages(django_apps, None)
        whole.refresh_from_db()
        cut.refresh_from_db()
        self.assertEqual((whole.message_kept, whole.message_bytes()), (MessageKeptChoices.WHOLE, original))
        self.assertEqual((cut.message_kept, cut.message_bytes()), (MessageKeptChoices.TRUNCATED, original[:100]))

    def test_api_shows_the_head_and_the_parser_version_not_the_stored_blob(self):
        raw = store(corpus_message("zayo8"), parser_version=parser_version())
        url = reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:rawnotification-detail", args=[raw.pk])
        data = self.client.get(url, HTTP_ACCEPT="application/json").json()
        self.assertNotIn("message", data)
        self.assertEqual(len(data["raw"].encode()), 8192)
        self.assertEqual(data["message_kept"], MessageKeptChoices.WHOLE)
        self.assertEqual(data["parser_version"], parser_version())

    def test_hostile_mail_never_breaks_the_page(self):
        # Hypothesis runs inside this one test's transaction (its Django test classes would need one per example).
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(hostile_mail)
        def check(hostile):
            raw = store(hostile.render(uuid.uuid4().hex))
            body = self.page(raw)
            self.assertNotIn("<script>alert", body)
            response = self.client.get(reverse(f"{PREFIX}:rawnotification_eml", args=[raw.pk]))
            self.assertEqual(response.content, raw.message_bytes())

        check()


class TimelineTest(JobTestMixin, TransactionTestCase):
    """Three Zayo notices of one ticket, each synced by its own run."""

    def setUp(self):
        super().setUp()
        self.providers = create_providers_and_circuits()
        self.folder = MailFolder()
        self.addCleanup(self.folder.cleanup)
        self.user.is_superuser = True
        self.user.save()
        self.client.force_login(self.user)

    def sync(self, *mails: tuple[str, bytes]) -> None:
        for name, raw in mails:
            self.folder.add(raw, name)
        result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))

    def timeline(self) -> list[str]:
        maintenance = CircuitMaintenance.objects.get(maintenance_id=ZAYO_SERIES_ID)
        response = self.client.get(maintenance.get_absolute_url())
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        rows = re.findall(r'<tr class="cm-timeline-row">(.*?)</tr>', body, re.S)
        return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]

    def test_one_row_per_notice_in_fold_order_with_what_it_changed(self):
        zayo8, zayo9, cancel = zayo_series()
        with self.configured([self.folder.source]):
            self.sync(zayo8)
            self.sync(zayo9)
            self.sync(cancel)
        rows = self.timeline()
        self.assertEqual(len(rows), 3, rows)  # each notice once, not once per window
        # zayo8 and zayo9 say the same with the same sequence, stamp and date: the fold orders them by key.
        # The one stored first created the maintenance; the other changed nothing, and says why.
        created = [row for row in rows[:2] if "status RE-SCHEDULED" in row]
        self.assertEqual(len(created), 1, rows)
        self.assertIn("RESCHEDULE NOTIFICATION", created[0])
        self.assertIn(
            "window 2022-01-06 05:01–11:00 UTC, 2022-01-07 05:01–11:00 UTC, 2022-01-08 05:01–11:00 UTC", created[0]
        )
        self.assertIn("circuits /OQYX/234567/ /ZYO / (OUTAGE)", created[0])
        repeated = next(row for row in rows[:2] if row is not created[0])
        self.assertRegex(repeated, r"out of sequence: it arrived after a newer notice|no change: it repeats")
        self.assertIn("CANCELLED NOTIFICATION", rows[2])
        self.assertIn("status RE-SCHEDULED → CANCELLED", rows[2])
        # Linked to the mail and to the log entry of the run that stored it (the second run wrote none).
        maintenance = CircuitMaintenance.objects.get(maintenance_id=ZAYO_SERIES_ID)
        entries = list(SyncLogEntry.objects.filter(synced_object_id=maintenance.pk).order_by("timestamp"))
        self.assertEqual([entry.action for entry in entries], ["create", "update"])
        body = self.client.get(maintenance.get_absolute_url()).content.decode()
        for entry in entries:
            self.assertIn(f"?id={entry.pk}", body)
        for raw in RawNotification.objects.filter(provider=Provider.objects.get(name="Zayo")):
            self.assertIn(raw.get_absolute_url(), body)
        self.assertEqual(body.count("?id="), 2)

    def test_a_late_notice_is_placed_in_fold_order_and_says_it_arrived_late(self):
        zayo8, _, cancel = zayo_series()
        with self.configured([self.folder.source]):
            self.sync(cancel)
            self.sync(zayo8)
        late = RawNotification.objects.get(subject__contains="RESCHEDULE")
        self.assertEqual(late.outcome, OutcomeChoices.OUT_OF_SEQUENCE)
        rows = self.timeline()
        self.assertEqual(len(rows), 2)
        # In the provider's order the reschedule comes first; it arrived last and changed nothing.
        self.assertIn("RESCHEDULE NOTIFICATION", rows[0])
        self.assertIn("out of sequence: it arrived after a newer notice", rows[0])
        self.assertNotIn("status", rows[0].split("Out of sequence")[-1])
        self.assertIn("CANCELLED NOTIFICATION", rows[1])
        self.assertIn("status CANCELLED", rows[1])
