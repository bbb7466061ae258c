"""Triage of a forwarded notice: its sender is the notice's, never the colleague who forwarded it."""

from __future__ import annotations

from django.urls import reverse
from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.intake.reprocess import stored_for_reparse
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD
from nautobot_ssot_circuit_maintenance.triage import actions
from tests.fixtures.forwards import forward_gmail
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"


class ForwardedTriageTestCase(JobTestMixin, TransactionTestCase):
    def test_assign_sender_takes_the_notices_sender_and_reprocess_reads_the_forward(self):
        att = create_providers_and_circuits()["att"]
        att._custom_field_data[EMAILS_FIELD] = ""
        att.validated_save()
        folder = MailFolder()
        self.addCleanup(folder.cleanup)
        folder.add(forward_gmail(corpus_by_name()["att1"], "att1-forwarded"), "forwarded")
        source = {**folder.source, "forwarders": ["nora@example.net"]}
        with self.configured([source], raw_notification_size=1_000_000):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            raw = RawNotification.objects.get()
            self.assertEqual(raw.outcome, OutcomeChoices.UNKNOWN_PROVIDER)
            self.assertIn("(forwarded by Nora Colleague <nora@example.net>)", raw.error)
            self.assertEqual(actions.sender_address(raw), "g31654@att.com")
            # Once AT&T claims the address, a re-parse selects the forward (its notice's sender is claimed).
            att._custom_field_data[EMAILS_FIELD] = "g31654@att.com"
            att.validated_save()
            self.assertEqual(list(stored_for_reparse(providers=[att])), [raw])
            att._custom_field_data[EMAILS_FIELD] = ""
            att.validated_save()

            self.add_permissions(
                "nautobot_ssot_circuit_maintenance.view_rawnotification",
                "nautobot_ssot_circuit_maintenance.change_rawnotification",
                "nautobot_ssot_circuit_maintenance.change_notificationsource",
                "circuits.view_provider",
                "circuits.change_provider",
                "extras.run_job",
            )
            url = reverse(f"{PREFIX}:triage_assign_sender", args=[raw.pk])
            self.assertContains(self.client.get(url), "g31654@att.com")
            self.client.post(url, {"provider": str(att.pk), "reprocess": "on"})
        att.refresh_from_db()
        self.assertEqual(att._custom_field_data[EMAILS_FIELD], "g31654@att.com")
        raw.refresh_from_db()
        self.assertEqual(raw.outcome, OutcomeChoices.PARSED, raw.error)
        self.assertEqual(raw.provider, att)
        self.assertTrue(CircuitMaintenance.objects.filter(provider=att, maintenance_id="1234567").exists())
