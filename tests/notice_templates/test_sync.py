"""A notice template written from a sample of a provider's mail reads its held-out mail exactly, through the sync job.

Velox Fibre (tests/fixtures/velox_mail.py) is a provider circuit-maintenance-parser has no parser for: without a
template its mail can only fail to parse.
"""

from __future__ import annotations

from nautobot.apps.testing import TransactionTestCase, run_job_for_testing
from nautobot.extras.models import Job
from nautobot_ssot.models import Sync

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from tests.fixtures import velox_mail
from tests.fixtures.job_helpers import FolderSyncMixin
from tests.fixtures.velox_mail import save_template, velox_provider

COMPARED = ("maintenance_id", "status", "start", "end", "circuits")


class TemplateSyncTest(FolderSyncMixin, TransactionTestCase):
    settings = {"raw_notification_size": 1_000_000}
    enabled_jobs = ("CircuitMaintenanceDataSource", "ReparseDataSource")

    def setUp(self):
        super().setUp()
        self.provider = velox_provider()

    def read(self, name: str) -> dict:
        raw = RawNotification.objects.get(message_key__contains=name)
        self.assertEqual(raw.outcome, OutcomeChoices.PARSED, f"{name}: {raw.error}")
        (parsed,) = raw.parsed_notifications.all()
        return {key: parsed.json[key] for key in COMPARED}

    def test_the_template_is_exact_on_held_out_mail_through_the_sync(self):
        save_template(self.provider)
        self.sync(
            *((name, velox_mail.notice(name)) for name in velox_mail.NOTICES),
            ("newsletter", velox_mail.newsletter()),
        )
        for name in velox_mail.HELD_OUT:
            with self.subTest(name):
                self.assertEqual(self.read(name), velox_mail.truth(name))
        # The records the sync made from them, as the library's parsers' output would make them.
        cancelled = CircuitMaintenance.objects.get(provider=self.provider, maintenance_id="VLX-2027-0117")
        self.assertEqual(cancelled.status, "CANCELLED")
        moved = CircuitMaintenance.objects.get(provider=self.provider, maintenance_id="VLX-2027-0142")
        self.assertEqual(moved.status, "RE-SCHEDULED")
        truth = velox_mail.truth("velox-0142-rescheduled")
        self.assertEqual(int(moved.start_time.timestamp()), truth["start"])
        self.assertEqual(int(moved.end_time.timestamp()), truth["end"])
        self.assertEqual(
            sorted(moved.circuit_impacts.values_list("circuit__cid", "impact")),
            sorted((c["circuit_id"], c["impact"]) for c in truth["circuits"]),
        )
        # Mail of the provider that announces nothing fails to parse, with the reason; the run went on.
        newsletter = RawNotification.objects.get(message_key__contains="newsletter")
        self.assertEqual(newsletter.outcome, OutcomeChoices.PARSING_FAILED)
        self.assertIn("no maintenance id found in the subject", newsletter.error)

    def test_fixing_the_template_and_reparsing_heals_stored_mail(self):
        template = save_template(self.provider, date_formats="%Y-%m-%d %H:%M")  # not how Velox writes dates
        self.sync(*((name, velox_mail.notice(name)) for name in velox_mail.NOTICES))
        failed = RawNotification.objects.filter(provider=self.provider)
        self.assertEqual(set(failed.values_list("outcome", flat=True)), {OutcomeChoices.PARSING_FAILED})
        self.assertIn("fits none of the date formats (%Y-%m-%d %H:%M)", failed.first().error)
        self.assertFalse(CircuitMaintenance.objects.exists())

        template.date_formats = velox_mail.TEMPLATE["date_formats"]
        template.validated_save()
        job = Job.objects.get(job_class_name="ReparseDataSource")
        inputs = {"dryrun": False, "memory_profiling": False, "outcomes": [OutcomeChoices.PARSING_FAILED]}
        result = run_job_for_testing(job, **job_inputs(run_job_for_testing, inputs))
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertTrue(Sync.objects.filter(job_result=result).exists())
        for name in velox_mail.NOTICES:
            with self.subTest(name):
                self.assertEqual(self.read(name), velox_mail.truth(name))
        self.assertEqual(CircuitMaintenance.objects.filter(provider=self.provider).count(), 3)
