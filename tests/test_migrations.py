"""Data migrations of the app's own: what they do to rows stored before them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.models import Job, ScheduledJob

from nautobot_ssot_circuit_maintenance.mail.packing import pack
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from nautobot_ssot_circuit_maintenance.sync.jobs import CircuitMaintenanceDataSource

APP = "nautobot_ssot_circuit_maintenance"


def migrate_to_latest() -> None:
    """Every app's newest migration: the database as the rest of the suite expects it after a test went back."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


class PushedMessagesKeptWholeTestCase(TransactionTestCase):
    """0014: a pushed message labelled `head` whose whole message is stored becomes `whole`; a cut one stays."""

    BEFORE = [(APP, "0013_override_circuits")]
    AFTER = [(APP, "0014_pushed_messages_kept_whole")]

    def migrate(self, target: list) -> None:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(target)

    def test_whole_pushed_messages_are_labelled_whole(self):
        self.addCleanup(migrate_to_latest)
        self.migrate(self.BEFORE)
        apps = MigrationExecutor(connection).loader.project_state(self.BEFORE).apps
        source_model = apps.get_model(APP, "NotificationSource")
        raw_model = apps.get_model(APP, "RawNotification")
        pushed = source_model.objects.create(name="pushed", source_type="push")
        mailbox = source_model.objects.create(name="Mailbox", source_type="imap")
        message = b"From: a@example.org\r\nSubject: t\r\n\r\nhi\r\n"
        rows = {
            "small push": (pushed, pack(message), len(message)),
            "cut push": (pushed, pack(message[:20]), len(message)),
            "mailbox head": (mailbox, pack(message), len(message)),
        }
        for key, (source, packed, size) in rows.items():
            raw_model.objects.create(
                source=source,
                message_key=key,
                date=datetime(2026, 1, 1, tzinfo=timezone.utc),
                raw=message[:10],
                raw_size=size,
                message=packed,
                message_kept="head",
                outcome="parsed",
            )
        self.migrate(self.AFTER)
        kept = dict(RawNotification.objects.values_list("message_key", "message_kept"))
        self.assertEqual(kept, {"small push": "whole", "cut push": "head", "mailbox head": "head"})


class JobsInTheirPackagesTestCase(TransactionTestCase):
    """0015: the Job records of the app's jobs follow their classes to the feature packages, schedules too."""

    BEFORE = [(APP, "0014_pushed_messages_kept_whole")]
    AFTER = [(APP, "0015_jobs_in_their_packages")]

    def migrate(self, target: list) -> None:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(target)

    def test_the_job_record_and_its_schedule_follow_the_class(self):
        self.addCleanup(migrate_to_latest)
        job = Job.objects.get(job_class_name="CircuitMaintenanceDataSource")
        self.assertEqual(job.module_name, f"{APP}.sync.jobs")
        # Only this app's migrations go back: Nautobot's tables stay as they are, and so do its models.
        self.migrate(self.BEFORE)  # backwards: the record goes back to where the class was before 0015
        old = Job.objects.get(pk=job.pk)
        self.assertEqual(old.module_name, f"{APP}.jobs")
        Job.objects.filter(pk=job.pk).update(enabled=True)
        ScheduledJob.objects.create(
            name="Every hour",
            task=f"{APP}.jobs.CircuitMaintenanceDataSource",
            job_model=old,
            interval="hourly",
            start_time=datetime(2026, 1, 1, tzinfo=timezone.utc),
        )
        self.migrate(self.AFTER)
        moved = Job.objects.get(pk=job.pk)
        self.assertEqual((moved.module_name, moved.enabled), (f"{APP}.sync.jobs", True))
        self.assertEqual(moved.class_path, CircuitMaintenanceDataSource.class_path)
        schedule = ScheduledJob.objects.get(name="Every hour")
        self.assertEqual(schedule.task, CircuitMaintenanceDataSource.class_path)
        self.assertEqual(Job.objects.filter(job_class_name="CircuitMaintenanceDataSource").count(), 1)


class LiveStateRecordedTestCase(TransactionTestCase):
    """0018: every maintenance stored before it gets its live state as of the migration, as the model computes it."""

    BEFORE = [(APP, "0017_source_last_run_started")]
    AFTER = [(APP, "0018_live_state_recorded")]

    def migrate(self, target: list) -> None:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(target)

    def test_existing_rows_get_their_live_state(self):
        self.addCleanup(migrate_to_latest)
        self.migrate(self.BEFORE)
        apps = MigrationExecutor(connection).loader.project_state(self.BEFORE).apps
        provider = apps.get_model("circuits", "Provider").objects.create(name="Migrated Provider")
        maintenance_model = apps.get_model(APP, "CircuitMaintenance")
        now = datetime.now(timezone.utc)
        hour = timedelta(hours=1)
        rows = {
            "in-progress": ("CONFIRMED", now - hour, now + hour),
            "starting-soon": ("CONFIRMED", now + 2 * hour, now + 3 * hour),
            "upcoming": ("TENTATIVE", now + 100 * hour, now + 101 * hour),
            "ended": ("CONFIRMED", now - 3 * hour, now - 2 * hour),
            "overrunning": ("IN-PROCESS", now - 3 * hour, now - 2 * hour),
            "cancelled": ("CANCELLED", now + 2 * hour, now + 3 * hour),
        }
        for name, (status, start, end) in rows.items():
            maintenance_model.objects.create(
                provider=provider,
                maintenance_id=name,
                name=name,
                status=status,
                start_time=start,
                end_time=end,
                windows=[{"start": start.isoformat(), "end": end.isoformat()}],
            )
        self.migrate(self.AFTER)
        recorded = dict(CircuitMaintenance.objects.values_list("name", "live_state"))
        self.assertEqual(recorded, {name: name for name in rows})
        # As the model computes it, on instances built from the rows (the table has only 0018's columns here).
        columns = ("name", "status", "start_time", "end_time", "windows")
        computed = {
            name: CircuitMaintenance(status=status, start_time=start, end_time=end, windows=w).current_live_state()
            for name, status, start, end, w in CircuitMaintenance.objects.values_list(*columns)
        }
        self.assertEqual(computed, recorded)
