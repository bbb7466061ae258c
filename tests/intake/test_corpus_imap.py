"""All of the corpus through a real Dovecot, the job, and into Nautobot; failures of the mailbox itself."""

from __future__ import annotations

import json
from collections import defaultdict

from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.sync.diffsync.run_diff import count_maintenance_actions
from tests.fixtures.corpus_records import assert_corpus_records
from tests.fixtures.imap import ACCOUNT, DovecotTestMixin
from tests.fixtures.job_helpers import MailFolder
from tests.fixtures.sample_data import (
    corpus_by_name,
    corpus_messages,
    create_providers_and_circuits,
    expected_maintenances,
)
from tests.servers.fault_proxy import Fault, FaultProxy


class CorpusThroughImapTestCase(DovecotTestMixin, TransactionTestCase):
    def test_whole_corpus(self):
        create_providers_and_circuits()
        messages = corpus_messages()
        for _, raw, _ in messages:
            self.dovecot.append(ACCOUNT, raw, folder="Corpus")
        with self.configured([self.imap_source(folder="Corpus")]):
            result, sync = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))

        # Every mail stored once, parsed exactly as the parser library's expected output says.
        self.assertEqual(RawNotification.objects.count(), len(messages))
        by_subject_json = defaultdict(list)
        for parsed in ParsedNotification.objects.all():
            by_subject_json[parsed.raw_notification_id].append(parsed.json)
        for name, _, entry in messages:
            expected = expected_maintenances(name)
            matching = [
                raw
                for raw in RawNotification.objects.all()
                if sorted(json.dumps(m, sort_keys=True) for m in by_subject_json[raw.pk])
                == sorted(json.dumps(m, sort_keys=True) for m in expected)
            ]
            self.assertTrue(matching, f"{name}: no stored notification carries the expected parser output")
            self.assertEqual(len(expected), entry["maintenances"])

        # Every maintenance: the newest notice decides id, status, windows, circuits and impacts.
        notices = assert_corpus_records(self, messages)
        self.assertEqual(count_maintenance_actions(sync.diff)["create"], len(notices))

        # Read-only: nothing was flagged \Seen in the mailbox.
        client = self.dovecot.client(ACCOUNT)
        try:
            client.select_folder("Corpus", readonly=True)
            self.assertEqual(client.search(["SEEN"]), [])
        finally:
            client.logout()


class MailboxFailureTestCase(DovecotTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        self.messages = corpus_by_name()

    def test_plaintext_and_starttls(self):
        folder = "Plain"
        self.dovecot.append(ACCOUNT, self.messages["zayo4"], folder=folder)
        with self.configured([self.imap_source(port=self.dovecot.imap_port, tls=False, folder=folder)]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertTrue(CircuitMaintenance.objects.filter(maintenance_id="TTN-0002345678").exists())
        self.dovecot.append(ACCOUNT, self.messages["gtt7"], folder=folder)
        with self.configured([self.imap_source(port=self.dovecot.imap_port, folder=folder)]):  # STARTTLS
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertTrue(CircuitMaintenance.objects.filter(maintenance_id="65430585").exists())

    def test_wrong_password_fails_that_source_only(self):
        self.dovecot.append(ACCOUNT, self.messages["zayo4"], folder="WrongPw")
        local = MailFolder("Local")
        self.addCleanup(local.cleanup)
        local.add(self.messages["gtt7"])
        bad = self.imap_source(name="IMAP", secret="not-the-Password-42", folder="WrongPw")
        with self.configured([bad, local.source]):
            result, _ = self.run_sync()
            log = self.job_log(result)
            self.assertEqual(result.status, "FAILURE")
            self.assertIn("IMAP", log)
            self.assertNotIn("not-the-Password-42", log)
            self.assertNotIn("not-the-Password-42", str(result.result) + str(result.traceback))
            # The other source synced; the failed one kept its cursor and says why.
            self.assertTrue(CircuitMaintenance.objects.filter(maintenance_id="65430585").exists())
            imap = NotificationSource.objects.get(name="IMAP")
            self.assertEqual(imap.cursor, {})
            self.assertTrue(imap.last_error)
            self.assertNotIn("not-the-Password-42", imap.last_error)
        # With the right password the next run completes the work.
        with self.configured([self.imap_source(name="IMAP", folder="WrongPw"), local.source]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertTrue(CircuitMaintenance.objects.filter(maintenance_id="TTN-0002345678").exists())

    def test_connection_dropped_mid_fetch_then_completed(self):
        folder = "Dropped"
        names = ["att1", "att2", "att3", "zayo4", "zayo5", "gtt7", "aws1", "tata_email"]
        for name in names:
            self.dovecot.append(ACCOUNT, self.messages[name], folder=folder)
        # Fetch in batches of 2; cut the connection partway through the mail.
        from nautobot_ssot_circuit_maintenance.intake.sources.imap import ImapSource

        original = ImapSource.batch_size
        ImapSource.batch_size = 2
        self.addCleanup(setattr, ImapSource, "batch_size", original)
        with FaultProxy(self.dovecot.imap_port) as proxy:
            proxy.arm(Fault(server_bytes=45_000))
            source = self.imap_source(port=proxy.port, tls=False, folder=folder)
            with self.configured([source]):
                result, _ = self.run_sync()
                self.assertEqual(result.status, "FAILURE")
                self.assertGreater(proxy.cuts, 0)
                stored_first = RawNotification.objects.count()
                self.assertLess(stored_first, len(names))
                proxy.arm(None)
                result, _ = self.run_sync()
                self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertEqual(RawNotification.objects.count(), len(names))
        self.assertEqual(CircuitMaintenance.objects.filter(maintenance_id="1234567").get().status, "CONFIRMED")
        self.assertEqual(CircuitMaintenance.objects.count(), 6)


class ImapCursorTestCase(DovecotTestMixin, TransactionTestCase):
    def test_uidvalidity_change_rescans_without_duplicates(self):
        create_providers_and_circuits()
        messages = corpus_by_name()
        folder = "Renumbered"
        self.dovecot.append(ACCOUNT, messages["zayo4"], folder=folder)
        with self.configured([self.imap_source(folder=folder)]):
            result, sync = self.run_sync(dryrun=True)
            self.assertEqual(count_maintenance_actions(sync.diff)["create"], 1)
            source = NotificationSource.objects.get(name="IMAP")
            self.assertEqual(source.cursor, {}, "a dry run moves no cursor")
            self.run_sync()
            source.refresh_from_db()
            old_validity = source.cursor["uidvalidity"]
            new_validity = self.dovecot.set_uidvalidity_change(ACCOUNT, folder)
            self.assertNotEqual(old_validity, new_validity)
            self.dovecot.append(ACCOUNT, messages["gtt7"], folder=folder)
            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        source.refresh_from_db()
        self.assertEqual(source.cursor["uidvalidity"], new_validity)
        self.assertEqual(RawNotification.objects.count(), 2)
        self.assertEqual(count_maintenance_actions(sync.diff)["create"], 1)
        self.assertEqual(CircuitMaintenance.objects.count(), 2)
