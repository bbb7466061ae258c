"""The sync job reading a Gmail mailbox through the real Google client stack, against a loopback Gmail."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, NotificationSource, RawNotification
from tests.fixtures.job_helpers import MailFolder
from tests.fixtures.source_contract import MESSAGES, SourceSyncContract
from tests.servers.gmail_server import MODIFY, FakeGmail, new_private_key

LABELS = {"parsed": "Label_Parsed", "unknown-provider": "Label_Unknown"}


class GmailSyncJobTestCase(SourceSyncContract, TransactionTestCase):
    source_name = "Gmail NOC"
    refusal_text = "Google refused the credentials"
    # The search asks Gmail for the providers' senders only: the stranger's mail is never downloaded.
    stores_strangers = False

    def setUp(self):
        super().setUp()
        self.gmail = FakeGmail().start()
        self.addCleanup(self.gmail.stop)
        self.dir = Path(tempfile.mkdtemp(prefix="cm-gmail-job-"))
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.ids: dict[str, str] = {}

    def deliver(self, name: str, raw: bytes, received: datetime) -> None:
        self.ids[name] = self.gmail.add(raw, received)

    def source(self, key_file: Path | None = None) -> dict:
        return {
            "name": self.source_name,
            "url": "https://accounts.google.com/o/oauth2/auth",
            "account": self.gmail.account,
            "credentials_file": str(key_file or self.gmail.service_account_file(self.dir / "sa.json")),
            "api_endpoint": self.gmail.url,
            "extra_scopes": [MODIFY],
            "labels": LABELS,
            "attach_all_providers": True,
        }

    def refused_source(self) -> dict:
        return self.source(self.gmail.service_account_file(self.dir / "other.json", key=new_private_key()))

    def secrets(self) -> list[str]:
        return ["PRIVATE KEY"]

    def after_sync(self) -> None:
        self.assertIn("from:(", self.gmail.queries[-1])
        self.assertEqual(
            dict(RawNotification.objects.values_list("location", "outcome")),
            {f"gmail:{self.ids['zayo4']}": "parsed", f"gmail:{self.ids['gtt7']}": "parsed"},
        )
        self.assertEqual(self.gmail.labels_of(self.ids["zayo4"]), {"Label_Parsed"})
        self.assertEqual(self.gmail.labels_of(self.ids["gtt7"]), {"Label_Parsed"})
        self.assertEqual(self.gmail.labels_of(self.ids["stranger"]), set())
        self.assertTrue(self.stored_source().cursor["after"])

    def test_a_dry_run_labels_nothing(self):
        self.deliver_notices()
        with self.configured([self.source()]):
            result, _ = self.run_sync(dryrun=True)
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertEqual(self.gmail.labels_of(self.ids["zayo4"]), set())

    def test_a_call_gmail_refuses_inside_a_batch_fails_that_source_only_and_the_next_run_reads_it(self):
        self.deliver_notices()
        folder = MailFolder()
        self.addCleanup(folder.cleanup)
        folder.add(MESSAGES["att1"], "att1")
        self.gmail.echo_requests = True  # the refusal repeats the call's Authorization header
        self.gmail.fail(self.ids["gtt7"], 400, form="raw")
        with self.configured([self.source(), folder.source]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE")
            gmail_source = NotificationSource.objects.get(name=self.source_name)
            self.assertIn("Gmail API error 400 while reading messages", gmail_source.last_error)
            self.assertEqual(gmail_source.cursor, {})
            self.assertFalse(RawNotification.objects.filter(location__startswith="gmail:").exists())
            self.assertTrue(CircuitMaintenance.objects.filter(maintenance_id="1234567").exists())
            for token in self.gmail.tokens:
                self.assertNotIn(token, self.job_log(result))
                self.assertNotIn(token, gmail_source.last_error)
            self.assertGreater(self.gmail.batches, 0)

            result, _ = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(
                sorted(
                    RawNotification.objects.filter(location__startswith="gmail:").values_list("location", flat=True)
                ),
                sorted([f"gmail:{self.ids['zayo4']}", f"gmail:{self.ids['gtt7']}"]),
            )
