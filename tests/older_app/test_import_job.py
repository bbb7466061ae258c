"""The import from nautobot-circuit-maintenance after it was removed from PLUGINS: read from its left-over tables.

The tables come from `tests/older_app/schema.sql` (the older app's own schema, checked against the
installed app by `tests/older_app/test_installed.py`), filled with rows of its shape. The same job
with the older app installed, fed by its own job from real mail, is `tests/older_app/test_installed.py`.
"""

from __future__ import annotations

import json
import unittest
import warnings
from datetime import datetime, timedelta, timezone
from email.parser import BytesHeaderParser

import structlog
from nautobot.apps.testing import TransactionTestCase, run_job_for_testing
from nautobot.circuits.models import Circuit, CircuitType, Provider
from nautobot.extras.models import Job, JobLogEntry, ObjectChange, Status
from nautobot_ssot.models import Sync, SyncLogEntry

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.config import (
    APP_NAME,
    LEGACY_APP_NAME,
    DeprecatedSettingsKey,
    adopt_legacy_settings,
)
from nautobot_ssot_circuit_maintenance.mail.headers import message_key
from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    MaintenanceNote,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.older_app.diffsync.adapters.older_app import split_name
from nautobot_ssot_circuit_maintenance.older_app.diffsync.models import ONE_WINDOW_TITLE, PROVENANCE_TITLE
from nautobot_ssot_circuit_maintenance.older_app.reader import SQLReader, open_reader
from tests.older_app import create_older_tables, drop_older_tables, imported_state, insert

CONFIG_LOGGER = "nautobot_ssot_circuit_maintenance.config"
T0 = datetime(2026, 3, 1, 22, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def parser_json(maintenance_id: str, start: datetime, end: datetime, status: str, circuits: list, **extra) -> str:
    """What the older app stored: the parser's `to_json()` text."""
    return json.dumps(
        {
            "maintenance_id": maintenance_id,
            "start": int(start.timestamp()),
            "end": int(end.timestamp()),
            "status": status,
            "circuits": [{"circuit_id": cid, "impact": impact} for cid, impact in circuits],
            "summary": "Fibre work",
            "sequence": 1,
            "stamp": int(T0.timestamp()),
            "provider": "zayo",
            "account": "acct",
            "organizer": "mr@zayo.com",
            "uid": "0",
        }
    )


def mail(subject: str, message_id: str | None) -> bytes:
    header = f"Message-ID: <{message_id}>\r\n" if message_id else ""
    return f"From: mr@zayo.com\r\n{header}Subject: {subject}\r\n\r\nMaintenance body {subject}\r\n".encode()


class ImportFromLeftOverTablesTestCase(TransactionTestCase):
    databases = ("default", "job_logs")

    def setUp(self):
        super().setUp()
        structlog_config = structlog.get_config()
        self.addCleanup(lambda: structlog.configure(**structlog_config))
        create_older_tables()
        self.addCleanup(drop_older_tables)
        self.make_older_records()

    def make_older_records(self):
        circuit_type = CircuitType.objects.create(name="Transit")
        active = Status.objects.get(name="Active")
        self.zayo = Provider.objects.create(name="Zayo")
        self.crown = Provider.objects.create(name="Crown")
        self.crown_castle = Provider.objects.create(name="Crown Castle")
        self.cid1 = Circuit.objects.create(provider=self.zayo, cid="CID1", circuit_type=circuit_type, status=active)
        self.cid2 = Circuit.objects.create(provider=self.zayo, cid="CID2", circuit_type=circuit_type, status=active)

        source = insert("notificationsource", name="NOC mailbox", _token=b"", attach_all_providers=False)
        insert("notificationsource_providers", notificationsource_id=str(source), provider_id=str(self.zayo.pk))
        insert("notificationsource_providers", notificationsource_id=str(source), provider_id=str(self.crown_castle.pk))

        # A maintenance announced, then re-announced with two windows of which the older app kept the last.
        self.m1 = insert(
            "circuitmaintenance",
            name="Zayo-MAINT-1",
            description="Fibre work",
            status="CONFIRMED",
            ack=True,
            start_time=T0 + 24 * HOUR,
            end_time=T0 + 28 * HOUR,
        )
        insert("circuitimpact", maintenance_id=self.m1, circuit_id=self.cid1.pk, impact="OUTAGE")
        insert("circuitimpact", maintenance_id=self.m1, circuit_id=self.cid2.pk, impact="NO-IMPACT")
        insert(
            "note",
            maintenance_id=self.m1,
            title="Nonexistent circuit ID CID9",
            level="WARNING",
            comment="Circuit ID CID9 referenced was not found in the database, so omitted from the maintenance.",
        )
        insert("note", maintenance_id=self.m1, title="Called the NOC", level="INFO", comment="They confirmed.")
        self.payload1 = mail("Maintenance MAINT-1", "maint-1@zayo.example")
        self.raw1 = insert(
            "rawnotification",
            raw=self.payload1,
            subject="Maintenance MAINT-1",
            provider_id=self.zayo.pk,
            sender="mr@zayo.com",
            source_id=source,
            parsed=True,
            stamp=T0,
        )
        circuits = [("CID1", "OUTAGE"), ("CID2", "NO-IMPACT"), ("CID9", "OUTAGE")]
        insert(
            "parsednotification",
            maintenance_id=self.m1,
            raw_notification_id=self.raw1,
            json=json.dumps(parser_json("MAINT-1", T0, T0 + 4 * HOUR, "TENTATIVE", circuits)),
        )
        self.payload2 = mail("Maintenance MAINT-1 two nights", None)
        self.raw2 = insert(
            "rawnotification",
            raw=self.payload2,
            subject="Maintenance MAINT-1 two nights",
            provider_id=self.zayo.pk,
            sender="mr@zayo.com",
            source_id=source,
            parsed=True,
            stamp=T0 + HOUR,
        )
        for start in (T0, T0 + 24 * HOUR):
            insert(
                "parsednotification",
                maintenance_id=self.m1,
                raw_notification_id=self.raw2,
                json=json.dumps(parser_json("MAINT-1", start, start + 4 * HOUR, "CONFIRMED", circuits)),
            )
        # No parsed notification: the provider comes from the name, the longest provider name winning.
        insert(
            "circuitmaintenance",
            name="Crown Castle-CC-7",
            description="",
            status="COMPLETED",
            ack=False,
            start_time=T0,
            end_time=T0 + 2 * HOUR,
        )
        # Neither: its one circuit's provider.
        orphan = insert(
            "circuitmaintenance",
            name="orphan",
            description="entered by hand",
            status="TENTATIVE",
            ack=False,
            start_time=T0,
            end_time=T0 + HOUR,
        )
        insert("circuitimpact", maintenance_id=orphan, circuit_id=self.cid1.pk, impact="DEGRADED")
        # Nothing tells its provider: not imported, and the log says why.
        insert(
            "circuitmaintenance",
            name="nobody",
            description="",
            status="TENTATIVE",
            ack=False,
            start_time=T0,
            end_time=T0 + HOUR,
        )
        # A mail the older app could not read a maintenance from.
        self.raw3 = insert(
            "rawnotification",
            raw=mail("Newsletter", "news@zayo.example"),
            subject="Newsletter",
            provider_id=self.zayo.pk,
            sender="news@zayo.com",
            source_id=None,
            parsed=False,
            stamp=T0 + 2 * HOUR,
        )

    def run_import(self, dryrun=False):
        job = Job.objects.get(job_class_name="OlderAppImportDataSource")
        inputs = {"dryrun": dryrun, "memory_profiling": False}
        result = run_job_for_testing(job, **job_inputs(run_job_for_testing, inputs))
        return result, Sync.objects.filter(job_result=result).first()

    def log(self, result) -> str:
        return "\n".join(JobLogEntry.objects.filter(job_result=result).values_list("message", flat=True))

    def test_reader_is_sql_when_the_app_is_gone(self):
        reader = open_reader()
        self.assertIsInstance(reader, SQLReader)
        self.assertEqual(len(reader.maintenances()), 4)
        self.assertEqual(sorted(bytes(p) for _, p in reader.payloads([self.raw1])), [self.payload1])

    def test_dry_run_then_sync_then_nothing(self):
        changes_before = ObjectChange.objects.count()
        result, sync = self.run_import(dryrun=True)
        self.assertEqual(result.status, "SUCCESS", self.log(result))
        self.assertIn("tables left in the database", self.log(result))
        # Dry-run: the diff, and nothing written.
        created = {model: len(entries) for model, entries in sync.diff.items()}
        expected = {
            "notification_source": 1,
            "maintenance": 3,
            # MAINT-1: provenance, one window, two of its own; CC-7 and orphan: provenance
            "maintenance_note": 6,
            "raw_notification": 3,
            "parsed_notification": 3,
        }
        self.assertEqual(created, expected, sync.diff)
        self.assertEqual(sync.summary["create"], sum(expected.values()))
        self.assertIn("maintenance", sync.diff)
        self.assertFalse(CircuitMaintenance.objects.exists())
        self.assertFalse(RawNotification.objects.exists())
        self.assertFalse(MaintenanceNote.objects.exists())
        self.assertFalse(SyncLogEntry.objects.filter(sync=sync).exists())
        self.assertEqual(ObjectChange.objects.count(), changes_before)

        result, sync = self.run_import()
        self.assertEqual(result.status, "SUCCESS", self.log(result))
        self.assertIn("Not imported: maintenance 'nobody'", self.log(result))
        self.check_imported_records()
        # Each change logged: in the SSoT log, linked to its record, and in Nautobot's change log.
        entry = SyncLogEntry.objects.get(sync=sync, action="create", synced_object_id=self.maintenance("MAINT-1").pk)
        self.assertIn("acknowledged", entry.message)
        self.assertTrue(
            ObjectChange.objects.filter(changed_object_id=self.maintenance("MAINT-1").pk, action="create").exists()
        )
        first = imported_state()
        changes = ObjectChange.objects.count()

        result, sync = self.run_import()
        self.assertEqual(result.status, "SUCCESS", self.log(result))
        self.assertEqual(sync.summary.get("create", 0) + sync.summary.get("update", 0), 0, sync.diff)
        self.assertEqual(imported_state(), first)
        self.assertEqual(ObjectChange.objects.count(), changes)

    def maintenance(self, maintenance_id: str) -> CircuitMaintenance:
        return CircuitMaintenance.objects.get(maintenance_id=maintenance_id)

    def check_imported_records(self):
        m1 = self.maintenance("MAINT-1")
        self.assertEqual(
            (m1.provider, m1.name, m1.status, m1.ack, m1.description, m1.start_time, m1.end_time),
            (self.zayo, "MAINT-1", "CONFIRMED", True, "Fibre work", T0 + 24 * HOUR, T0 + 28 * HOUR),
        )
        # The one window the older app kept, and a note naming the others: no invented windows.
        self.assertEqual(m1.window_times, [(T0 + 24 * HOUR, T0 + 28 * HOUR)])
        self.assertEqual(
            sorted(m1.circuit_impacts.values_list("circuit__cid", "impact")),
            [("CID1", "OUTAGE"), ("CID2", "NO-IMPACT")],
        )
        self.assertEqual(m1.unresolved_circuit_ids, ["CID9"])
        notes = {note.title: note for note in m1.maintenance_notes.all()}
        self.assertEqual(
            sorted(notes), sorted([PROVENANCE_TITLE, ONE_WINDOW_TITLE, "Nonexistent circuit ID CID9", "Called the NOC"])
        )
        self.assertEqual(notes["Nonexistent circuit ID CID9"].level, "WARNING")
        self.assertEqual((notes["Called the NOC"].level, notes["Called the NOC"].comment), ("INFO", "They confirmed."))
        self.assertIn("named 2", notes[ONE_WINDOW_TITLE].comment)
        self.assertIn("2026-03-01 22:00–2026-03-02 02:00 UTC", notes[ONE_WINDOW_TITLE].comment)

        cc7 = self.maintenance("CC-7")
        self.assertEqual((cc7.provider, cc7.status, cc7.ack), (self.crown_castle, "COMPLETED", False))
        orphan = self.maintenance("orphan")
        self.assertEqual(orphan.provider, self.zayo)
        self.assertEqual(list(orphan.circuit_impacts.values_list("circuit__cid", "impact")), [("CID1", "DEGRADED")])
        self.assertFalse(CircuitMaintenance.objects.filter(name__in=["nobody"]).exists())

        # Raw notifications: keyed as this app keys mail, outcome from `parsed`, sender, subject, stamp, bytes.
        raw1 = RawNotification.objects.get(subject="Maintenance MAINT-1")
        self.assertEqual(raw1.message_key, message_key(BytesHeaderParser().parsebytes(self.payload1), self.payload1))
        self.assertEqual(
            (raw1.outcome, raw1.sender, raw1.date, raw1.source.name, raw1.provider, bytes(raw1.raw)),
            (OutcomeChoices.PARSED, "mr@zayo.com", T0, "NOC mailbox", self.zayo, self.payload1),
        )
        raw2 = RawNotification.objects.get(subject="Maintenance MAINT-1 two nights")
        self.assertTrue(raw2.message_key.startswith("sha256:"))
        newsletter = RawNotification.objects.get(subject="Newsletter")
        self.assertEqual((newsletter.outcome, newsletter.source), (OutcomeChoices.IGNORED, None))

        # Parsed notifications linked to the maintenance, the parser's data as a JSON object.
        parsed = ParsedNotification.objects.filter(maintenance=m1)
        self.assertEqual(parsed.count(), 3)
        self.assertEqual({p.provider_maintenance_id for p in parsed}, {"MAINT-1"})
        self.assertEqual({p.json["status"] for p in parsed}, {"TENTATIVE", "CONFIRMED"})

        source = m1.provider.notification_sources.get()
        self.assertEqual(sorted(source.providers.values_list("name", flat=True)), ["Crown Castle", "Zayo"])

    def test_changes_in_the_older_app_follow_but_records_of_this_app_are_left_alone(self):
        # Kept by this app already (not imported): the import must not touch it.
        here = CircuitMaintenance.objects.create(
            provider=self.crown_castle,
            maintenance_id="CC-7",
            name="CC-7",
            status="CONFIRMED",
            start_time=T0,
            end_time=T0 + HOUR,
        )
        created_here = CircuitMaintenance.objects.create(
            provider=self.zayo, maintenance_id="NEW-1", name="NEW-1", status="TENTATIVE", start_time=T0, end_time=T0
        )
        result, _ = self.run_import()
        self.assertEqual(result.status, "SUCCESS", self.log(result))
        self.assertIn("Left alone: maintenance Crown Castle CC-7", self.log(result))
        here.refresh_from_db()
        self.assertEqual((here.status, here.maintenance_notes.count()), ("CONFIRMED", 0))
        self.assertTrue(CircuitMaintenance.objects.filter(pk=created_here.pk, status="TENTATIVE").exists())

        # The older app still runs beside this one: its later changes follow on the next run.
        with self.settings():
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE nautobot_circuit_maintenance_circuitmaintenance SET status = 'COMPLETED', ack = false "
                    "WHERE name = 'Zayo-MAINT-1'"
                )
        result, sync = self.run_import()
        self.assertEqual(result.status, "SUCCESS", self.log(result))
        self.assertEqual(sync.summary.get("update"), 1, sync.diff)
        m1 = self.maintenance("MAINT-1")
        self.assertEqual((m1.status, m1.ack), ("COMPLETED", False))

    def test_says_clearly_when_neither_the_app_nor_its_tables_are_there(self):
        drop_older_tables()
        result, _ = self.run_import(dryrun=True)
        self.assertEqual(result.status, "FAILURE")
        self.assertIn("nautobot-circuit-maintenance is not installed (not in PLUGINS)", self.log(result))
        self.assertIn("not in this database", self.log(result))


class NameSplitTestCase(unittest.TestCase):
    def test_longest_provider_name_wins(self):
        names = ["Crown", "Crown Castle", "Zayo"]
        self.assertEqual(split_name("Crown Castle-CC-7", names), ("Crown Castle", "CC-7"))
        self.assertEqual(split_name("Crown-X-1", names), ("Crown", "X-1"))
        self.assertIsNone(split_name("Zayo-", names))
        self.assertIsNone(split_name("Other-1", names))


class LegacySettingsKeyTestCase(unittest.TestCase):
    def test_older_key_used_when_new_key_absent_with_a_warning_naming_the_new_key(self):
        legacy = {
            "raw_notification_initial_days_since": 30,
            "dashboard_n_days": 30,
            "notification_sources": [{"name": "NOC", "url": "imap://imap.example.net", "account": "a", "secret": "s"}],
        }
        config = {LEGACY_APP_NAME: legacy}
        user_config: dict = {}
        with warnings.catch_warnings(record=True) as caught, self.assertLogs(CONFIG_LOGGER, "WARNING") as logged:
            warnings.simplefilter("always")
            self.assertTrue(adopt_legacy_settings(user_config, config))
        self.assertIn(f"PLUGINS_CONFIG['{APP_NAME}']", logged.output[0])
        self.assertEqual(user_config["raw_notification_initial_days_since"], 30)
        self.assertEqual(user_config["notification_sources"][0]["name"], "NOC")
        self.assertNotIn("dashboard_n_days", user_config)
        self.assertEqual(caught[0].category, DeprecatedSettingsKey)
        self.assertIn(f"PLUGINS_CONFIG['{APP_NAME}']", str(caught[0].message))
        # A copy: the older app keeps its own settings.
        user_config["notification_sources"].append({})
        self.assertEqual(len(legacy["notification_sources"]), 1)

    def test_new_key_wins(self):
        user_config = {"raw_notification_size": 1000}
        self.assertFalse(adopt_legacy_settings(user_config, {LEGACY_APP_NAME: {"raw_notification_size": 5}}))
        self.assertEqual(user_config, {"raw_notification_size": 1000})
        self.assertFalse(adopt_legacy_settings({}, {}))

    def test_app_validation_reads_the_older_key(self):
        from django.test import override_settings

        from nautobot_ssot_circuit_maintenance import CircuitMaintenanceConfig

        user_config: dict = {}
        legacy = {"raw_notification_size": 4096, "overlap_job_exclude_no_impact": True}
        with override_settings(PLUGINS_CONFIG={LEGACY_APP_NAME: legacy, APP_NAME: user_config}):
            with warnings.catch_warnings(record=True), self.assertLogs(CONFIG_LOGGER, "WARNING"):
                warnings.simplefilter("always")
                CircuitMaintenanceConfig.validate(user_config, "3.2.7")
        self.assertEqual(user_config["raw_notification_size"], 4096)
        self.assertEqual(user_config["raw_notification_initial_days_since"], 7)  # defaults still applied
