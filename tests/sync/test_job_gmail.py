"""The sync job reading a Gmail mailbox through the real Google client stack, against a loopback Gmail."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, NotificationSource, RawNotification
from nautobot_ssot_circuit_maintenance.sync.diffsync.run_diff import count_maintenance_actions
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.sample_data import corpus_messages, create_providers_and_circuits
from tests.servers.gmail_server import MODIFY, FakeGmail, new_private_key

MESSAGES = {name: raw for name, raw, _ in corpus_messages()}
NOW = datetime.now(timezone.utc)
LABELS = {"parsed": "Label_Parsed", "unknown-provider": "Label_Unknown"}
STRANGER = b"From: someone@unknown.example\r\nSubject: Lunch\r\nMessage-ID: <lunch@unknown.example>\r\n\r\nno\r\n"


class GmailSyncJobTestCase(JobTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        self.gmail = FakeGmail().start()
        self.addCleanup(self.gmail.stop)
        self.dir = Path(tempfile.mkdtemp(prefix="cm-gmail-job-"))
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.ids = {
            name: self.gmail.add(raw, NOW - timedelta(minutes=10 - number))
            for number, (name, raw) in enumerate(
                [("zayo4", MESSAGES["zayo4"]), ("gtt7", MESSAGES["gtt7"]), ("stranger", STRANGER)]
            )
        }

    def source(self, key_file: Path | None = None) -> dict:
        return {
            "name": "Gmail NOC",
            "url": "https://accounts.google.com/o/oauth2/auth",
            "account": self.gmail.account,
            "credentials_file": str(key_file or self.gmail.service_account_file(self.dir / "sa.json")),
            "api_endpoint": self.gmail.url,
            "extra_scopes": [MODIFY],
            "labels": LABELS,
            "attach_all_providers": True,
        }

    def test_dry_run_then_sync_then_nothing_new(self):
        with self.configured([self.source()]):
            result, sync = self.run_sync(dryrun=True)
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(count_maintenance_actions(sync.diff)["create"], 2)
            self.assertFalse(RawNotification.objects.exists())
            self.assertEqual(self.gmail.labels_of(self.ids["zayo4"]), set())  # a dry run touches no mailbox

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
                    f"gmail:{self.ids['zayo4']}": OutcomeChoices.PARSED,
                    f"gmail:{self.ids['gtt7']}": OutcomeChoices.PARSED,
                },
            )
            # The search asked Gmail for the providers' senders only: the stranger's mail is never downloaded.
            self.assertIn("from:(", self.gmail.queries[-1])
            self.assertEqual(self.gmail.labels_of(self.ids["zayo4"]), {"Label_Parsed"})
            self.assertEqual(self.gmail.labels_of(self.ids["gtt7"]), {"Label_Parsed"})
            self.assertEqual(self.gmail.labels_of(self.ids["stranger"]), set())
            self.assertTrue(NotificationSource.objects.get(name="Gmail NOC").cursor["after"])

            result, sync = self.run_sync()
            self.assertEqual(sync.summary.get("create", 0), 0)
            self.assertEqual(RawNotification.objects.count(), 2)

    def test_refused_credentials_fail_the_source_and_the_others_still_sync(self):
        folder = MailFolder()
        self.addCleanup(folder.cleanup)
        folder.add(MESSAGES["att1"], "att1")
        bad_key = self.gmail.service_account_file(self.dir / "other.json", key=new_private_key())
        with self.configured([self.source(bad_key), folder.source]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE")
            gmail_source = NotificationSource.objects.get(name="Gmail NOC")
            self.assertIn("Google refused the credentials", gmail_source.last_error)
            self.assertEqual(gmail_source.cursor, {})
            self.assertTrue(CircuitMaintenance.objects.filter(maintenance_id="1234567").exists())
            self.assertNotIn("PRIVATE KEY", self.job_log(result))

    def test_a_call_gmail_refuses_inside_a_batch_fails_that_source_only_and_the_next_run_reads_it(self):
        folder = MailFolder()
        self.addCleanup(folder.cleanup)
        folder.add(MESSAGES["att1"], "att1")
        self.gmail.echo_requests = True  # the refusal repeats the call's Authorization header
        self.gmail.fail(self.ids["gtt7"], 400, form="raw")
        with self.configured([self.source(), folder.source]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE")
            gmail_source = NotificationSource.objects.get(name="Gmail NOC")
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
