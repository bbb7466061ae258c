"""Sources sync in parallel: two real Celery workers run the sync of two mailboxes at the same time.

The corpus is split between two folders of a real Dovecot, one notice in both. The test holds the lock of that
notice's maintenance (intake/locking.py) while both runs are queued: each worker reads its mailbox, parses,
and waits there for the maintenance. Both waiting at once is what one lock for every sync made impossible.
When the test lets go, one run stores the shared notice and the other finds it stored: both succeed, the
notice is stored once and every maintenance is exactly what the corpus says.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from nautobot.apps.testing import TransactionTestCase
from nautobot.core.celery import app
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import Job, JobLogEntry, JobResult
from nautobot_ssot.models import Sync

from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.intake import locking
from nautobot_ssot_circuit_maintenance.models import NotificationSource, RawNotification
from nautobot_ssot_circuit_maintenance.sync.trigger import sync_job, sync_kwargs
from tests.fixtures.celery_worker import ServerProcess, settings_with_sources
from tests.fixtures.corpus_records import assert_corpus_records
from tests.fixtures.imap import ACCOUNT, DovecotTestMixin
from tests.fixtures.sample_data import corpus_messages, create_providers_and_circuits, expected_maintenances

WAIT_SECONDS = 240
# Sessions of this database waiting for a maintenance's lock.
WAITING_FOR_MAINTENANCES = (
    "SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = (%s::int)::oid "
    "AND objsubid = 2 AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def wait_for(condition, what: str, timeout: float = WAIT_SECONDS, tail=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{tail()}")
        time.sleep(0.2)


class ParallelSourcesTestCase(DovecotTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        not_eager = override_settings(CELERY_TASK_ALWAYS_EAGER=False)  # to the broker, where the workers take it
        not_eager.enable()
        self.addCleanup(not_eager.disable)
        self.addCleanup(app.control.purge)
        job = Job.objects.get(job_class_name="CircuitMaintenanceDataSource")
        job.enabled = True
        job.save()
        self.user = get_user_model().objects.create_user(username="scheduler", is_superuser=True)
        self.directory = Path(tempfile.mkdtemp(prefix="cm-parallel-"))
        self.addCleanup(shutil.rmtree, self.directory, True)

    def start_workers(self, sources: list[dict], count: int = 2) -> list[ServerProcess]:
        settings = settings_with_sources(self.directory, sources)
        workers = []
        for index in range(count):
            worker = ServerProcess.worker(
                settings,
                self.directory / f"worker{index}.log",
                env={"NAUTOBOT_DB_NAME": connection.settings_dict["NAME"]},  # this test database
            )
            self.addCleanup(worker.stop)
            workers.append(worker)
        for worker in workers:
            worker.wait_for(" ready.")
        return workers

    def test_two_workers_sync_two_mailboxes_at_once(self):
        providers = create_providers_and_circuits()
        messages = list(corpus_messages())
        shared_name, _, shared_entry = messages[1]
        self.assertTrue(expected_maintenances(shared_name), "the shared notice speaks of a maintenance")
        north = messages[0::2] + [messages[1]]
        south = messages[1::2]
        for _, raw, _ in north:
            self.dovecot.append(ACCOUNT, raw, folder="North")
        for _, raw, _ in south:
            self.dovecot.append(ACCOUNT, raw, folder="South")
        sources = [self.imap_source("North", folder="North"), self.imap_source("South", folder="South")]
        workers = self.start_workers(sources)
        logs = lambda: "\n".join(worker.tail() for worker in workers)  # noqa: E731 - a log for the failure message

        provider = providers[shared_entry["provider_parser"]]
        shared_key = (provider.pk, expected_maintenances(shared_name)[0]["maintenance_id"])
        held = locking.SessionLocks()
        held.hold([locking.maintenance_lock_key(shared_key)])
        try:
            with self.configured(sources):
                results = [
                    JobResult.enqueue_job(
                        sync_job(),
                        self.user,
                        **job_inputs(
                            JobResult.enqueue_job,
                            sync_kwargs(sources=[NotificationSource.objects.get(name=name)]),
                        ),
                    )
                    for name in ("North", "South")
                ]

                def waiting() -> set[int]:
                    with connection.cursor() as cursor:
                        cursor.execute(WAITING_FOR_MAINTENANCES, [locking.MAINTENANCE])
                        return {pid for (pid,) in cursor.fetchall()}

                # Both runs are past their sources' locks, have read and parsed their mail, and wait to fold.
                wait_for(lambda: len(waiting()) == 2, "both runs to wait for the shared maintenance", tail=logs)
        finally:
            held.release()

        for result in results:
            wait_for(
                lambda result=result: JobResult.objects.get(pk=result.pk).status in JobResultStatusChoices.READY_STATES,
                "both runs to finish",
                tail=logs,
            )
            result.refresh_from_db()
            self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, logs())
        north_sync, south_sync = (Sync.objects.get(job_result=result) for result in results)

        # The shared notice stored once, by the run that folded it first; every mail of both mailboxes stored.
        self.assertEqual(RawNotification.objects.count(), len(messages))
        self.assertEqual(
            RawNotification.objects.filter(sync__in=[north_sync, south_sync]).count(),
            len(messages),
            "each stored message names the run that stored it",
        )
        log = "\n".join(JobLogEntry.objects.filter(job_result__in=results).values_list("message", flat=True))
        self.assertEqual(len(re.findall(r"\b1 already stored", log)), 1, log)
        self.assertIn(f"Source North: {len(north)} messages read", log)
        self.assertIn(f"Source South: {len(south)} messages read", log)
        # Each source's last run is its own sync, though the two ran at once.
        self.assertEqual(NotificationSource.objects.get(name="North").last_sync, north_sync)
        self.assertEqual(NotificationSource.objects.get(name="South").last_sync, south_sync)
        assert_corpus_records(self, messages)
