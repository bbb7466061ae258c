"""The sync job reading a Microsoft 365 mailbox through msal and Graph, against the loopback Entra ID + Graph."""

from __future__ import annotations

from datetime import datetime

from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.models import RawNotification
from nautobot_ssot_circuit_maintenance.sync.diffsync.run_diff import count_maintenance_actions
from tests.fixtures.source_contract import SourceSyncContract
from tests.servers.graph_server import FakeGraph


class GraphSyncJobTestCase(SourceSyncContract, TransactionTestCase):
    source_name = "M365 NOC"
    refusal_text = "Microsoft Entra ID refused the credentials"

    def setUp(self):
        super().setUp()
        self.graph = FakeGraph().start()
        self.addCleanup(self.graph.stop)
        self.ids: dict[str, str] = {}

    def deliver(self, name: str, raw: bytes, received: datetime) -> None:
        self.ids[name] = self.graph.add(raw, received)

    def source(self, **overrides) -> dict:
        return {"name": self.source_name, "attach_all_providers": True, **self.graph.source_keys(**overrides)}

    def refused_source(self) -> dict:
        self.graph.revoke_secret()
        return self.source()

    def secrets(self) -> list[str]:
        return [self.graph.client_secret]

    def after_sync(self) -> None:
        source = self.stored_source()
        self.assertEqual(source.source_type, "graph")
        self.assertIn("$deltatoken=", source.cursor["link"])
        self.assertEqual(
            dict(RawNotification.objects.values_list("location", "outcome")),
            {
                f"graph:{self.ids['zayo4']}": "parsed",
                f"graph:{self.ids['gtt7']}": "parsed",
                f"graph:{self.ids['stranger']}": "unknown-provider",
            },
        )

    def test_only_the_delta_is_read_and_nothing_is_written_to_the_mailbox(self):
        self.deliver_notices()
        with self.configured([self.source()]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            # A message changed in the mailbox comes back in the delta, and is known already.
            self.graph.touch(self.ids["zayo4"])
            reads = self.graph.value_reads
            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(sync.summary.get("create", 0), 0)
            self.assertEqual(self.graph.value_reads - reads, 1)
            self.assertEqual(RawNotification.objects.count(), 3)
        methods = {method for method, path in self.graph.requests if path.startswith("/v1.0/")}
        self.assertEqual(methods, {"GET"})  # read-only

    def test_throttled_run_still_completes(self):
        self.deliver_notices()
        self.graph.throttle(3, retry_after="1")
        with self.configured([self.source()]):
            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(count_maintenance_actions(sync.diff)["create"], 2)

    def test_the_refusal_names_entra_ids_reason(self):
        self.deliver_notices()
        with self.configured([self.refused_source()]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "FAILURE")
        self.assertIn("AADSTS7000222", self.stored_source().last_error)
