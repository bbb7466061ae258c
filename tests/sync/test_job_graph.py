"""The sync job reading a Microsoft 365 mailbox through msal and Graph, against the loopback Entra ID + Graph."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, NotificationSource, RawNotification
from nautobot_ssot_circuit_maintenance.sync.diffsync.run_diff import count_maintenance_actions
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.sample_data import corpus_messages, create_providers_and_circuits
from tests.servers.graph_server import FakeGraph

MESSAGES = {name: raw for name, raw, _ in corpus_messages()}
NOW = datetime.now(timezone.utc)
STRANGER = b"From: someone@unknown.example\r\nSubject: Lunch\r\nMessage-ID: <lunch@unknown.example>\r\n\r\nno\r\n"


class GraphSyncJobTestCase(JobTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        self.graph = FakeGraph().start()
        self.addCleanup(self.graph.stop)
        self.ids = {
            name: self.graph.add(raw, NOW - timedelta(minutes=10 - number))
            for number, (name, raw) in enumerate(
                [("zayo4", MESSAGES["zayo4"]), ("gtt7", MESSAGES["gtt7"]), ("stranger", STRANGER)]
            )
        }

    def source(self, **overrides) -> dict:
        return {"name": "M365 NOC", "attach_all_providers": True, **self.graph.source_keys(**overrides)}

    def test_dry_run_then_sync_then_only_the_delta(self):
        with self.configured([self.source()]):
            result, sync = self.run_sync(dryrun=True)
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(count_maintenance_actions(sync.diff)["create"], 2)
            self.assertFalse(RawNotification.objects.exists())
            self.assertFalse(CircuitMaintenance.objects.exists())
            self.assertEqual(NotificationSource.objects.get(name="M365 NOC").cursor, {})  # a dry run moves no cursor

            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(count_maintenance_actions(sync.diff)["create"], 2)
            self.assertEqual(
                sorted(CircuitMaintenance.objects.values_list("maintenance_id", flat=True)),
                ["65430585", "TTN-0002345678"],
            )
            outcomes = dict(RawNotification.objects.values_list("location", "outcome"))
            self.assertEqual(
                outcomes,
                {
                    f"graph:{self.ids['zayo4']}": OutcomeChoices.PARSED,
                    f"graph:{self.ids['gtt7']}": OutcomeChoices.PARSED,
                    f"graph:{self.ids['stranger']}": OutcomeChoices.UNKNOWN_PROVIDER,
                },
            )
            source = NotificationSource.objects.get(name="M365 NOC")
            self.assertEqual(source.source_type, "graph")
            self.assertIn("$deltatoken=", source.cursor["link"])
            self.assertEqual(source.last_error, "")

            # Only the delta is read: a message changed in the mailbox comes back, and is known already.
            self.graph.touch(self.ids["zayo4"])
            reads = self.graph.value_reads
            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(sync.summary.get("create", 0), 0)
            self.assertEqual(sync.summary.get("update", 0), 0)
            self.assertEqual(self.graph.value_reads - reads, 1)
            self.assertEqual(RawNotification.objects.count(), 3)
        methods = {method for method, path in self.graph.requests if path.startswith("/v1.0/")}
        self.assertEqual(methods, {"GET"})  # read-only

    def test_throttled_run_still_completes(self):
        self.graph.throttle(3, retry_after="1")
        with self.configured([self.source()]):
            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(count_maintenance_actions(sync.diff)["create"], 2)

    def test_revoked_secret_fails_the_source_and_the_others_still_sync(self):
        folder = MailFolder()
        self.addCleanup(folder.cleanup)
        folder.add(MESSAGES["att1"], "att1")
        self.graph.revoke_secret()
        with self.configured([self.source(), folder.source]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE")
            source = NotificationSource.objects.get(name="M365 NOC")
            self.assertIn("Microsoft Entra ID refused the credentials", source.last_error)
            self.assertIn("AADSTS7000222", source.last_error)
            self.assertEqual(source.cursor, {})
            self.assertTrue(CircuitMaintenance.objects.filter(maintenance_id="1234567").exists())
            self.assertNotIn(self.graph.client_secret, self.job_log(result))
            self.assertNotIn(self.graph.client_secret, source.last_error)
