"""The mailbox watcher against a real Dovecot: IDLE sees an APPEND and the sync job is started through Nautobot.

Most tests queue to the Redis broker with no worker (CELERY_TASK_ALWAYS_EAGER off), so a run stays
queued while the test looks at what was started; the queue is purged afterwards. The end-to-end test
runs the job eagerly in the watcher's thread (Nautobot's test setting), so the maintenance appears.
"""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import override_settings
from nautobot.apps.testing import TransactionTestCase
from nautobot.core.celery import app
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import Job, JobResult
from nautobot_ssot.models import Sync

from nautobot_ssot_circuit_maintenance.config import PUSHED_SOURCE_NAME, SourceSettings
from nautobot_ssot_circuit_maintenance.intake.locking import source_locks
from nautobot_ssot_circuit_maintenance.intake.provision import sync_sources_from_config
from nautobot_ssot_circuit_maintenance.intake.sources import ImapSource
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, NotificationSource, RawNotification
from nautobot_ssot_circuit_maintenance.sync.trigger import queued_run
from nautobot_ssot_circuit_maintenance.watch import push
from nautobot_ssot_circuit_maintenance.watch.idle import Connected, FolderIdler, MailArrived
from nautobot_ssot_circuit_maintenance.watch.watcher import Dispatcher, watch
from tests.fixtures.celery_worker import ServerProcess, settings_with_sources
from tests.fixtures.job_helpers import JobTestMixin, MailFolder, plugin_config
from tests.fixtures.sample_data import corpus_messages, create_providers_and_circuits, expected_maintenances
from tests.servers.dovecot import DovecotServer
from tests.servers.fault_proxy import FaultProxy

ACCOUNT = "watch@example.net"
OTHER_ACCOUNT = "other@example.net"
PASSWORD = "W4tch-Imap-Passw0rd"
WAIT_SECONDS = 30


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    """Poll until `predicate()` holds; fail naming `what` after `timeout` (a bound, never a measured figure)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class WatcherTestCase(JobTestMixin, TransactionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dovecot = DovecotServer()
        cls.dovecot.add_user(ACCOUNT, PASSWORD)
        cls.dovecot.add_user(OTHER_ACCOUNT, PASSWORD)
        cls.dovecot.start()
        cls.notice = corpus_messages()[0][1]

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        for account in (ACCOUNT, OTHER_ACCOUNT):
            client = self.dovecot.client(account)
            try:
                client.select_folder("INBOX")
                client.delete_messages(client.search(["ALL"]))
                client.expunge()
            finally:
                client.logout()
        self.user = get_user_model().objects.create_user(username="watcher", is_superuser=True)
        job = Job.objects.get(job_class_name="CircuitMaintenanceDataSource")
        job.enabled = True
        job.save()

    def source(self, name: str, account: str = ACCOUNT, secret: str = PASSWORD, port: int | None = None) -> dict:
        if port is None:
            return {
                "name": name,
                "url": f"imaps://{self.dovecot.host}:{self.dovecot.imaps_port}",
                "ca_file": self.dovecot.ca_file,
                "account": account,
                "secret": secret,
                "attach_all_providers": True,
            }
        return {
            "name": name,
            "url": f"imap://{self.dovecot.host}:{port}",
            "tls": False,
            "account": account,
            "secret": secret,
            "attach_all_providers": True,
        }

    def queue_without_worker(self) -> None:
        """Runs are queued to the broker and stay there (no worker); purged when the test ends."""
        not_eager = override_settings(CELERY_TASK_ALWAYS_EAGER=False)
        not_eager.enable()
        self.addCleanup(not_eager.disable)
        self.addCleanup(app.control.purge)
        self.assertFalse(app.conf.task_always_eager)

    def start_watcher(self, sources: list[dict], **options) -> Dispatcher:
        """`watch()` in a thread with these sources configured, stopped when the test ends."""
        configured = override_settings(PLUGINS_CONFIG=plugin_config(sources))
        configured.enable()
        self.addCleanup(configured.disable)
        stop = threading.Event()
        dispatcher = Dispatcher(self.user, retry_seconds=options.pop("retry_seconds", 30.0))
        thread = threading.Thread(
            target=watch,
            args=(stop, self.user),
            kwargs={"dispatcher": dispatcher, "check_seconds": 0.1, "min_backoff_seconds": 0.1, **options},
            daemon=True,
        )
        thread.start()

        def finish():
            stop.set()
            thread.join(timeout=WAIT_SECONDS)

        self.addCleanup(finish)
        return dispatcher

    def append_and_wait(self, dispatcher: Dispatcher, account: str = ACCOUNT) -> None:
        """APPEND one message, then wait until the watcher has asked for a run for it."""
        before = dispatcher.requests
        self.dovecot.append(account, self.notice)
        wait_for(lambda: dispatcher.requests > before, "the watcher to see the new mail")

    def test_an_append_starts_one_run_for_its_source(self):
        self.queue_without_worker()
        dispatcher = self.start_watcher([self.source("Watched"), self.source("Other", account=OTHER_ACCOUNT)])
        wait_for(lambda: dispatcher.connections["Watched"] and dispatcher.connections["Other"], "both connections")
        self.assertEqual(list(dispatcher.started), [], "an empty folder starts nothing")

        self.append_and_wait(dispatcher)

        self.assertEqual(len(dispatcher.started), 1)
        run = dispatcher.started[0]
        self.assertEqual(JobResult.objects.get(pk=run.pk).status, JobResultStatusChoices.STATUS_PENDING)
        self.assertEqual(queued_run(NotificationSource.objects.get(name="Watched")), run)
        self.assertIsNone(queued_run(NotificationSource.objects.get(name="Other")))

    def test_mail_while_a_run_waits_or_goes_gives_one_follow_up(self):
        self.queue_without_worker()
        dispatcher = self.start_watcher([self.source("Watched")])
        wait_for(lambda: dispatcher.connections["Watched"], "the connection")
        self.append_and_wait(dispatcher)
        first = dispatcher.started[0]
        for _ in range(3):
            self.append_and_wait(dispatcher)
        self.assertEqual(list(dispatcher.started), [first], "the queued run reads them all")

        # A worker takes the run: mail from now on may come after its fetch, so one follow-up run.
        JobResult.objects.filter(pk=first.pk).update(status=JobResultStatusChoices.STATUS_STARTED)
        for _ in range(3):
            self.append_and_wait(dispatcher)
        self.assertEqual(len(dispatcher.started), 2)
        self.assertEqual(JobResult.objects.filter(job_model__job_class_name="CircuitMaintenanceDataSource").count(), 2)

    def test_a_failed_run_is_started_again(self):
        # What a run that waited 5 minutes for the sync lock comes to (locking.SyncBusy): FAILURE, cursor unmoved.
        self.queue_without_worker()
        dispatcher = self.start_watcher([self.source("Watched")], retry_seconds=0.2)
        wait_for(lambda: dispatcher.connections["Watched"], "the connection")
        self.append_and_wait(dispatcher)
        first = dispatcher.started[0]
        JobResult.objects.filter(pk=first.pk).update(status=JobResultStatusChoices.STATUS_FAILURE)
        wait_for(lambda: len(dispatcher.started) == 2, "a second run")
        self.assertNotEqual(dispatcher.started[1].pk, first.pk)
        self.assertEqual(queued_run(NotificationSource.objects.get(name="Watched")), dispatcher.started[1])

    def test_a_dropped_connection_reconnects_and_reads_what_came_meanwhile(self):
        self.queue_without_worker()
        proxy = FaultProxy(self.dovecot.imap_port).start()
        self.addCleanup(proxy.stop)  # after the watcher stops (cleanups run last in, first out)
        dispatcher = self.start_watcher([self.source("Proxied", port=proxy.port)])
        wait_for(lambda: dispatcher.connections["Proxied"] == 1, "the first connection")
        for proxied in list(proxy.connections):
            proxied.close()
        self.dovecot.append(ACCOUNT, self.notice)
        wait_for(lambda: dispatcher.connections["Proxied"] == 2, "a second connection")
        wait_for(lambda: len(dispatcher.started) == 1, "a run for the mail")
        self.assertEqual(len(proxy.connections), 2)

    def test_a_refused_login_is_logged_without_the_password(self):
        wrong = "Wr0ng-And-Secret-Passw0rd"
        with self.assertLogs("nautobot_ssot_circuit_maintenance.watch.idle", "WARNING") as logs:
            dispatcher = self.start_watcher([self.source("Refused", secret=wrong)])
            wait_for(lambda: len(logs.output) >= 2, "two failed attempts")
        text = "\n".join(logs.output)
        self.assertIn("Refused", text)
        self.assertIn(f"login as {ACCOUNT!r} was rejected", text)
        self.assertIn("connecting again", text)
        self.assertNotIn(wrong, text)
        self.assertEqual(dispatcher.connections["Refused"], 0)
        self.assertEqual(list(dispatcher.started), [])

    def test_a_notice_becomes_a_maintenance_without_a_person(self):
        # Nautobot's test settings run the queued job eagerly: here, in the watcher's thread.
        create_providers_and_circuits()
        name, raw, _ = corpus_messages()[0]
        expected = {m["maintenance_id"] for m in expected_maintenances(name)}
        dispatcher = self.start_watcher([self.source("Watched")])
        wait_for(lambda: dispatcher.connections["Watched"], "the connection")
        self.dovecot.append(ACCOUNT, raw)
        wait_for(
            lambda: CircuitMaintenance.objects.filter(maintenance_id__in=expected).count() == len(expected),
            "the maintenance",
            timeout=120,
        )
        wait_for(lambda: len(dispatcher.started) == 1, "the watcher to note the run it started")
        # Celery's eager mode leaves the JobResult's status alone; the run's own records tell what it did.
        run = JobResult.objects.get(pk=dispatcher.started[0].pk)
        self.assertTrue(Sync.objects.filter(job_result=run).exists())
        self.assertIn("Source Watched: 1 messages read, 1 new", self.job_log(run))
        self.assertEqual(list(RawNotification.objects.values_list("source__name", flat=True)), ["Watched"])
        self.assertEqual(len(dispatcher.started), 1)

    def test_a_celery_worker_runs_the_sync_the_watcher_queued(self):
        self.queue_without_worker()  # to the broker, where the worker below takes it
        create_providers_and_circuits()
        name, raw, _ = corpus_messages()[0]
        expected = {m["maintenance_id"] for m in expected_maintenances(name)}
        sources = [self.source("Watched")]
        directory = Path(tempfile.mkdtemp(prefix="cm-watch-worker-"))
        self.addCleanup(shutil.rmtree, directory, True)
        worker = ServerProcess.worker(
            settings_with_sources(directory, sources),
            directory / "worker.log",
            env={"NAUTOBOT_DB_NAME": connection.settings_dict["NAME"]},  # this test database
        )
        self.addCleanup(worker.stop)
        worker.wait_for(" ready.")
        dispatcher = self.start_watcher(sources)
        wait_for(lambda: dispatcher.connections["Watched"], "the connection")
        self.dovecot.append(ACCOUNT, raw)
        wait_for(lambda: len(dispatcher.started) == 1, "a run")
        run = dispatcher.started[0]
        wait_for(
            lambda: JobResult.objects.get(pk=run.pk).status in JobResultStatusChoices.READY_STATES,
            "the worker to finish the run",
            timeout=180,
        )
        run.refresh_from_db()
        self.assertEqual(run.status, JobResultStatusChoices.STATUS_SUCCESS, worker.tail())
        self.assertTrue(run.worker, "run by the Celery worker")
        self.assertEqual(run.task_kwargs["sources"], [str(NotificationSource.objects.get(name="Watched").pk)])
        self.assertEqual(CircuitMaintenance.objects.filter(maintenance_id__in=expected).count(), len(expected))

    def test_sources_idle_cannot_watch_are_named_or_polled(self):
        self.queue_without_worker()
        folder = MailFolder("Folder")
        self.addCleanup(folder.cleanup)
        with self.assertLogs("nautobot_ssot_circuit_maintenance.watch.watcher", "INFO") as logs:
            left_alone = self.start_watcher([folder.source])
            wait_for(lambda: any("not watched" in line for line in logs.output), "the log line")
        self.assertIn("Source Folder (file): not watched (IDLE is IMAP only)", "\n".join(logs.output))

        polled = self.start_watcher([folder.source], poll_seconds=0.1)
        wait_for(lambda: polled.requests >= 3, "three polls")
        self.assertEqual(len(polled.started), 1, "polls join the run still queued")
        self.assertEqual(queued_run(NotificationSource.objects.get(name="Folder")), polled.started[0])
        self.assertEqual(list(left_alone.started), [])

    def test_a_push_that_finds_the_sync_busy_queues_a_run(self):
        self.queue_without_worker()
        configured = override_settings(PLUGINS_CONFIG=plugin_config([], push={"enable": True}))
        configured.enable()
        self.addCleanup(configured.disable)
        outcome = []

        def push_elsewhere():  # another database session: the source lock is per session
            try:
                accepted = push.accept(self.notice, self.user)
                with mock.patch.object(push, "PROCESS_NOW_WAIT_SECONDS", 0.2):
                    outcome.append(push.process_now(accepted, self.user))
            finally:
                connections.close_all()

        sync_sources_from_config()
        with source_locks([NotificationSource.objects.get(name=PUSHED_SOURCE_NAME)]):
            thread = threading.Thread(target=push_elsewhere)
            thread.start()
            thread.join(timeout=WAIT_SECONDS)
        self.assertEqual(outcome[0].processing, "queued")
        run = queued_run(NotificationSource.objects.get(name=PUSHED_SOURCE_NAME))
        self.assertIsNotNone(run)
        self.assertEqual(outcome[0].job_result, run, "the answer names the run queued for it")
        self.assertIn("is queued", outcome[0].reason)
        self.assertEqual(run.user, self.user)

    def test_mail_is_reported_across_re_idles(self):
        # IDLE left and entered again on every check: an EXISTS in DONE's answer is reported too.
        events: queue.Queue = queue.Queue()
        stop = threading.Event()
        settings = SourceSettings(**self.source("Reidle"))
        idler = FolderIdler("Reidle", lambda: ImapSource(settings), events, stop, check_seconds=0.05, reidle_seconds=0)
        idler.start()
        self.addCleanup(idler.join, WAIT_SECONDS)
        self.addCleanup(stop.set)
        self.assertIsInstance(events.get(timeout=WAIT_SECONDS), Connected)
        for _ in range(3):
            self.dovecot.append(ACCOUNT, self.notice)
            self.assertEqual(events.get(timeout=WAIT_SECONDS), MailArrived("Reidle"))

    def test_the_command_names_an_unknown_user(self):
        with self.assertRaisesMessage(CommandError, "no active user 'nobody'"):
            call_command("watch_mailboxes", "--user", "nobody")
