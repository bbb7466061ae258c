"""The import with nautobot-circuit-maintenance installed beside this app, fed by its own job from real mail.

Runs only with `development/nautobot_config_older_app.py` (the second phase of `./run tests`); in the
main suite it is skipped. The corpus goes into a loopback Dovecot, the older app's own job reads it into
its models, then the import runs: dry-run, sync, every record compared, a second run changing nothing.
The same records read with SQL (as once the app is removed from PLUGINS) must be identical.
"""

from __future__ import annotations

import re
import unittest

import structlog
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test import override_settings
from nautobot.apps.testing import TransactionTestCase, run_job_for_testing
from nautobot.extras.models import Job, JobLogEntry
from nautobot_ssot.models import Sync

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.mail.storable import storable_text
from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.older_app.diffsync.models import PROVENANCE_TITLE
from nautobot_ssot_circuit_maintenance.older_app.reader import (
    OLDER_APP_LABEL,
    TABLE_PREFIX,
    ModelReader,
    SQLReader,
    open_reader,
    parsed_json,
)
from tests.fixtures.sample_data import corpus_messages, create_providers_and_circuits
from tests.older_app import SCHEMA, imported_state
from tests.servers.dovecot import DovecotServer

ACCOUNT = "noc@example.net"
PASSWORD = "older-App-Passw0rd"
SOURCE = "Corpus IMAP"


def rows(reader) -> dict:
    """Everything a reader gives, order-free."""
    return {
        "maintenances": sorted(map(repr, reader.maintenances())),
        "impacts": sorted(map(repr, reader.impacts())),
        "notes": sorted(map(repr, reader.notes())),
        "sources": sorted(map(repr, reader.sources())),
        "raws": sorted(map(repr, reader.raw_notifications())),
        "parsed": sorted(map(repr, reader.parsed_notifications())),
        "payloads": sorted((str(pk), payload) for pk, payload in reader.payloads()),
    }


@unittest.skipUnless(
    apps.is_installed(OLDER_APP_LABEL), "needs the older app in PLUGINS: development/nautobot_config_older_app.py"
)
class OlderAppInstalledTestCase(TransactionTestCase):
    databases = ("default", "job_logs")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dovecot = DovecotServer()
        cls.dovecot.add_user(ACCOUNT, PASSWORD)
        cls.dovecot.start()

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        structlog_config = structlog.get_config()
        self.addCleanup(lambda: structlog.configure(**structlog_config))

    def log(self, result) -> str:
        return "\n".join(JobLogEntry.objects.filter(job_result=result).values_list("message", flat=True))

    def fill_older_app_from_the_corpus(self) -> None:
        """The corpus into Dovecot, then the older app's own job reads it into its models."""
        providers = create_providers_and_circuits()
        for _, raw, _ in corpus_messages():
            self.dovecot.append(ACCOUNT, raw)
        OldSource = apps.get_model(OLDER_APP_LABEL, "NotificationSource")
        source = OldSource.objects.create(name=SOURCE, attach_all_providers=True)
        source.providers.set(providers.values())
        older_settings = {
            **settings.PLUGINS_CONFIG[OLDER_APP_LABEL],
            "notification_sources": [
                {
                    "name": SOURCE,
                    # The older app speaks IMAP over TLS only.
                    "url": f"imap://{self.dovecot.host}:{self.dovecot.imaps_port}",
                    "account": ACCOUNT,
                    "secret": PASSWORD,
                }
            ],
        }
        job = Job.objects.get(
            module_name__startswith=OLDER_APP_LABEL, job_class_name="HandleCircuitMaintenanceNotifications"
        )
        with override_settings(PLUGINS_CONFIG={**settings.PLUGINS_CONFIG, OLDER_APP_LABEL: older_settings}):
            result = run_job_for_testing(job, **job_inputs(run_job_for_testing, {"dryrun": False}))
        self.assertEqual(result.status, "SUCCESS", self.log(result))

    def run_import(self, dryrun=False):
        job = Job.objects.get(job_class_name="OlderAppImportDataSource")
        inputs = {"dryrun": dryrun, "memory_profiling": False}
        result = run_job_for_testing(job, **job_inputs(run_job_for_testing, inputs))
        self.assertEqual(result.status, "SUCCESS", self.log(result))
        return result, Sync.objects.filter(job_result=result).first()

    def test_schema_sql_matches_the_installed_app(self):
        """`schema.sql` stands for the left-over tables in the main suite: it must be what the app creates."""
        declared = {}
        for table, body in re.findall(r'CREATE TABLE "(\w+)" \((.*)\);', SCHEMA.read_text()):
            declared[table] = sorted(re.findall(r'"(\w+)" [a-z]', body))
        with connection.cursor() as cursor:
            actual = {
                table: sorted(c.name for c in connection.introspection.get_table_description(cursor, table))
                for table in connection.introspection.table_names(cursor)
                if table.startswith(TABLE_PREFIX)
            }
        self.assertEqual(declared, actual)

    def test_corpus_through_the_older_app_then_imported(self):
        self.fill_older_app_from_the_corpus()
        Old = {name: apps.get_model(OLDER_APP_LABEL, name) for name in ("CircuitMaintenance", "RawNotification")}
        self.assertGreater(Old["CircuitMaintenance"].objects.count(), 10)

        # Installed: its models; the same rows through SQL, as once it is removed from PLUGINS.
        self.assertIsInstance(open_reader(), ModelReader)
        self.assertEqual(rows(ModelReader()), rows(SQLReader()))

        _, sync = self.run_import(dryrun=True)
        self.assertGreater(sync.summary["create"], 0)
        self.assertFalse(CircuitMaintenance.objects.exists() or RawNotification.objects.exists())

        result, sync = self.run_import()
        self.assertIn("models (the app is installed)", self.log(result))
        self.assertEqual(sync.summary.get("failure", 0), 0, self.log(result))
        self.compare_every_record()

        first = imported_state()
        _, sync = self.run_import()
        self.assertEqual(sync.summary.get("create", 0) + sync.summary.get("update", 0), 0, sync.diff)
        self.assertEqual(imported_state(), first)

    def compare_every_record(self) -> None:
        Old = {
            name: apps.get_model(OLDER_APP_LABEL, name)
            for name in ("CircuitMaintenance", "RawNotification", "ParsedNotification", "Note")
        }
        # Every maintenance, by the provider and ID its newest parsed notification names.
        for old in Old["CircuitMaintenance"].objects.all():
            newest = old.parsednotification_set.order_by("-raw_notification__stamp").first()
            provider = newest.raw_notification.provider
            maintenance_id = str(parsed_json(newest.json)["maintenance_id"])
            self.assertEqual(old.name, f"{provider.name}-{maintenance_id}"[:100])
            record = CircuitMaintenance.objects.get(provider=provider, maintenance_id=maintenance_id)
            self.assertEqual(
                (record.status, record.ack, record.description, record.start_time, record.end_time),
                (old.status, old.ack, old.description, old.start_time, old.end_time),
            )
            self.assertEqual(
                sorted(record.circuit_impacts.values_list("circuit__cid", "impact")),
                sorted(old.circuitimpact_set.values_list("circuit__cid", "impact")),
            )
            notes = set(record.maintenance_notes.values_list("title", "level", "comment"))
            self.assertLessEqual(set(old.note_set.values_list("title", "level", "comment")), notes)
            self.assertIn(PROVENANCE_TITLE, {title for title, _, _ in notes})
            self.assertEqual(record.parsed_notifications.count(), old.parsednotification_set.count())
        self.assertEqual(CircuitMaintenance.objects.count(), Old["CircuitMaintenance"].objects.count())

        # Every raw notification: sender, subject, stamp, stored bytes, outcome from `parsed`.
        ours = {(raw.subject, raw.date): raw for raw in RawNotification.objects.select_related("source", "provider")}
        self.assertEqual(len(ours), Old["RawNotification"].objects.count())
        for old in Old["RawNotification"].objects.select_related("provider", "source"):
            # Stored as this app stores text: whitespace runs folded (the older app kept a subject's line breaks).
            raw = ours[(storable_text(old.subject, 255), old.stamp)]
            self.assertEqual(
                (raw.sender, raw.provider, raw.source.name, bytes(raw.raw)),
                (storable_text(old.sender, 255), old.provider, old.source.name, bytes(old.raw)),
            )
            self.assertEqual(raw.outcome, OutcomeChoices.PARSED if old.parsed else OutcomeChoices.IGNORED)
        self.assertEqual(ParsedNotification.objects.count(), Old["ParsedNotification"].objects.count())
        self.assertFalse(ParsedNotification.objects.filter(maintenance__isnull=True).exists())
        old_source = apps.get_model(OLDER_APP_LABEL, "NotificationSource").objects.get()
        self.assertEqual(
            sorted(NotificationSource.objects.get(name=SOURCE).providers.values_list("name", flat=True)),
            sorted(old_source.providers.values_list("name", flat=True)),
        )
