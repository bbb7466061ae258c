"""The sync job end to end, against real sources (a local folder, Dovecot) and the real database."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone

from django.contrib.contenttypes.models import ContentType
from nautobot.apps.testing import TransactionTestCase
from nautobot.circuits.models import Circuit, Provider
from nautobot.extras.models import ObjectChange
from nautobot_ssot.models import SyncLogEntry

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD
from nautobot_ssot_circuit_maintenance.sync.diffsync.run_diff import count_maintenance_actions
from nautobot_ssot_circuit_maintenance.views.timeline import timeline_rows
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.sample_data import (
    corpus_by_name,
    create_providers_and_circuits,
    expected_maintenances,
    ical_notice,
)

MESSAGES = corpus_by_name()
SENDER = "noc@impact.example"


def snapshot() -> list[tuple]:
    """Everything a maintenance record says, in a comparable form."""
    rows = []
    for record in CircuitMaintenance.objects.order_by("provider__name", "maintenance_id"):
        impacts = sorted(record.circuit_impacts.values_list("circuit__cid", "impact"))
        rows.append(
            (
                record.provider.name,
                record.maintenance_id,
                record.status,
                record.start_time,
                record.end_time,
                json.dumps(record.windows),
                record.description,
                tuple(impacts),
                tuple(record.unresolved_circuit_ids),
            )
        )
    return rows


class SyncJobTestCase(JobTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        self.providers = create_providers_and_circuits()
        self.folder = MailFolder()
        self.addCleanup(self.folder.cleanup)

    def deliver(self, *names: str) -> None:
        for name in names:
            self.folder.add(MESSAGES[name], name)

    def test_dry_run_writes_nothing(self):
        self.deliver("zayo4", "att1")
        with self.configured([self.folder.source]):
            source = NotificationSource.objects.get(name=self.folder.name)
            result, sync = self.run_sync(dryrun=True)
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(count_maintenance_actions(sync.diff)["create"], 2)
            self.assertEqual(CircuitMaintenance.objects.count(), 0)
            self.assertEqual(RawNotification.objects.count(), 0)
            self.assertEqual(ParsedNotification.objects.count(), 0)
            self.assertFalse(SyncLogEntry.objects.filter(sync=sync).exists())
            source.refresh_from_db()
            self.assertEqual(source.cursor, {})
            # The real run afterwards does what the dry run showed.
            result, sync = self.run_sync()
            self.assertEqual(count_maintenance_actions(sync.diff)["create"], 2)
            self.assertEqual(CircuitMaintenance.objects.count(), 2)

    def test_second_run_changes_nothing(self):
        self.deliver("zayo4", "zayo5", "att1", "crowncastle1")
        with self.configured([self.folder.source]):
            self.run_sync()
            before = snapshot()
            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS")
            self.assertEqual(sync.summary.get("create", 0) + sync.summary.get("update", 0), 0)
            self.assertFalse(SyncLogEntry.objects.filter(sync=sync).exists())
            # Even with the cursor lost, the same mail is stored once and changes nothing.
            NotificationSource.objects.update(cursor={})
            result, sync = self.run_sync()
            self.assertEqual(sync.summary.get("create", 0) + sync.summary.get("update", 0), 0)
            self.assertEqual(RawNotification.objects.count(), 4)
            self.assertEqual(snapshot(), before)

    def test_same_mail_in_any_order_gives_identical_records(self):
        names = ("att1", "att2", "att3", "crowncastle1", "crowncastle7", "zayo8")
        orders = [names, tuple(reversed(names)), ("crowncastle7", "att2", "zayo8", "att3", "crowncastle1", "att1")]
        snapshots = []
        with self.configured([self.folder.source]):
            for order in orders:
                CircuitMaintenance.objects.all().delete()
                RawNotification.objects.all().delete()
                NotificationSource.objects.update(cursor={})
                self.folder.cleanup()
                self.folder = MailFolder()
                with self.configured([self.folder.source]):
                    for name in order:  # one message per run: the arrival order is the run order
                        self.deliver(name)
                        result, _ = self.run_sync()
                        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
                snapshots.append(snapshot())
        self.assertEqual(len(snapshots[0]), 3)
        self.assertEqual(snapshots[0], snapshots[1])
        self.assertEqual(snapshots[0], snapshots[2])

    def test_late_old_notice_is_out_of_sequence(self):
        self.deliver("att3")
        with self.configured([self.folder.source]):
            self.run_sync()
            before = snapshot()
            self.deliver("att1")
            self.run_sync()
            late = RawNotification.objects.get(parsed_notifications__json__stamp=1741319353)
            self.assertEqual(late.outcome, OutcomeChoices.OUT_OF_SEQUENCE)
            self.assertEqual(snapshot(), before)

    def test_several_windows_are_kept(self):
        self.deliver("zayo5")
        with self.configured([self.folder.source]):
            self.run_sync()
        record = CircuitMaintenance.objects.get(maintenance_id="TTN-0003456789")
        expected = sorted(
            {
                (
                    datetime.fromtimestamp(m["start"], timezone.utc).isoformat(),
                    datetime.fromtimestamp(m["end"], timezone.utc).isoformat(),
                )
                for m in expected_maintenances("zayo5")
            }
        )
        self.assertEqual([(w["start"], w["end"]) for w in record.windows], expected)
        self.assertEqual(len(record.windows), 3)
        self.assertEqual(record.start_time.isoformat(), expected[0][0])
        self.assertEqual(record.end_time.isoformat(), expected[-1][1])

    def test_notice_without_circuits_keeps_circuits_and_logs_transition(self):
        self.deliver("crowncastle1")
        with self.configured([self.folder.source]):
            self.run_sync()
            record = CircuitMaintenance.objects.get(maintenance_id="CM20231201000")
            record.ack = True
            record.save()
            self.deliver("crowncastle7")
            result, sync = self.run_sync()
        record.refresh_from_db()
        self.assertEqual(record.status, "COMPLETED")
        self.assertEqual(record.circuit_impacts.count(), 2)
        self.assertFalse(record.ack, "a status change clears the acknowledgement")
        entry = SyncLogEntry.objects.get(sync=sync, action="update")
        self.assertIn("status CONFIRMED → COMPLETED", entry.message)
        self.assertIn("window moved 2024-01-03 08:00–", entry.message)
        self.assertEqual(entry.synced_object, record)

    def test_ack_kept_when_nothing_material_changes(self):
        self.deliver("att1")
        with self.configured([self.folder.source]):
            self.run_sync()
            CircuitMaintenance.objects.update(ack=True)
            self.deliver("att2")  # same status, window and circuits; newer stamp
            self.run_sync()
        self.assertTrue(CircuitMaintenance.objects.get(maintenance_id="1234567").ack)

    def test_every_create_is_logged_and_linked(self):
        self.deliver("zayo4", "gtt7")
        with self.configured([self.folder.source]):
            _, sync = self.run_sync()
        entries = SyncLogEntry.objects.filter(sync=sync, action="create")
        maintenances = [entry for entry in entries if isinstance(entry.synced_object, CircuitMaintenance)]
        self.assertEqual(len(maintenances), 2)
        for entry in maintenances:
            self.assertIn("created CONFIRMED", entry.message)
        # Each circuit impact is a child in the diff and has its own entry, linked to the impact.
        impacts = [entry for entry in entries if isinstance(entry.synced_object, CircuitImpact)]
        self.assertEqual(len(impacts), CircuitImpact.objects.count())
        for entry in impacts:
            self.assertEqual(
                entry.message, f"circuit {entry.synced_object.circuit.cid} added ({entry.synced_object.impact})"
            )
        # Written in bulk, yet each new maintenance has its changelog entry, as a save() would give it.
        changes = ObjectChange.objects.filter(
            changed_object_type=ContentType.objects.get_for_model(CircuitMaintenance), action="create"
        )
        self.assertEqual(
            sorted(changes.values_list("changed_object_id", flat=True)),
            sorted(CircuitMaintenance.objects.values_list("pk", flat=True)),
        )
        for change in changes:
            self.assertEqual(change.change_context, "job")
            self.assertEqual(change.object_data_v2["maintenance_id"], change.changed_object.maintenance_id)
            self.assertEqual(change.object_data["status"], "CONFIRMED")
            self.assertEqual(change.user_name, sync.job_result.user.username)

    def test_a_maintenance_id_too_long_to_store_fails_that_message_alone(self):
        self.folder.add(MESSAGES["zayo4"].replace(b"TTN-0002345678", b"TTN-" + b"9" * 300), "zayo-long-id")
        self.deliver("zayo5")
        with self.configured([self.folder.source]):
            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            failed = RawNotification.objects.get(location="00001-zayo-long-id.eml")
            self.assertEqual(failed.outcome, OutcomeChoices.PARSING_FAILED)
            self.assertIn("maintenance id is 304 characters long", failed.error)
            self.assertEqual(
                list(CircuitMaintenance.objects.values_list("maintenance_id", flat=True)), ["TTN-0003456789"]
            )
            # Stored once, so the next run does not stumble on it again.
            _, sync = self.run_sync()
            self.assertEqual(count_maintenance_actions(sync.diff)["create"], 0)
            self.assertEqual(RawNotification.objects.count(), 2)

    def test_unknown_circuit_becomes_note_then_linked(self):
        Circuit.objects.filter(cid="1098765-12345678").delete()
        self.deliver("gtt7")
        with self.configured([self.folder.source]):
            self.run_sync()
            record = CircuitMaintenance.objects.get(maintenance_id="65430585")
            self.assertEqual(record.unresolved_circuit_ids, ["1098765-12345678"])
            self.assertEqual(record.circuit_impacts.count(), 0)
            self.assertTrue(
                MaintenanceNote.objects.filter(maintenance=record, level="WARNING", title__contains="1098765").exists()
            )
            self.assertEqual(RawNotification.objects.get().outcome, OutcomeChoices.UNKNOWN_CIDS)
            # The operator creates the circuit; the next run (no new mail) links it.
            existing = Circuit.objects.filter(provider=self.providers["gtt"]).first() or Circuit.objects.first()
            Circuit.objects.create(
                provider=self.providers["gtt"],
                cid="1098765-12345678",
                circuit_type=existing.circuit_type,
                status=existing.status,
            )
            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS")
        record.refresh_from_db()
        self.assertEqual(record.unresolved_circuit_ids, [])
        self.assertEqual(list(record.circuit_impacts.values_list("circuit__cid", flat=True)), ["1098765-12345678"])
        self.assertEqual(count_maintenance_actions(sync.diff)["update"], 1)
        # The note about the unknown ID is gone; the log and the timeline say how it became known.
        self.assertFalse(MaintenanceNote.objects.filter(maintenance=record, title__contains="1098765").exists())
        entry = SyncLogEntry.objects.get(sync=sync, synced_object_id=record.pk)
        self.assertIn("circuit IDs now known 1098765-12345678", entry.message)
        linked = [row for row in timeline_rows(record) if row.notice is None]
        self.assertEqual(len(linked), 1)
        self.assertIn("circuit 1098765-12345678 created in Nautobot", linked[0].event)
        self.assertEqual(linked[0].changes, ["circuit 1098765-12345678 added (OUTAGE)"])

    def test_circuit_ids_match_exactly_not_by_substring(self):
        zayo = self.providers["zayo"]
        Circuit.objects.filter(provider=zayo).delete()
        template = Circuit.objects.first()
        kwargs = {"provider": zayo, "circuit_type": template.circuit_type, "status": template.status}
        same = Circuit.objects.create(cid="/ogyx/123456/ /zyo /", **kwargs)  # case and spacing differ
        Circuit.objects.create(cid="/OGYX/123456/", **kwargs)  # a prefix: must not match
        Circuit.objects.create(cid="X/OGYX/123456/   /ZYO /X", **kwargs)  # contains it: must not match
        self.deliver("zayo4")
        with self.configured([self.folder.source]):
            self.run_sync()
        record = CircuitMaintenance.objects.get(maintenance_id="TTN-0002345678")
        self.assertEqual([impact.circuit for impact in record.circuit_impacts.all()], [same])
        self.assertEqual(record.unresolved_circuit_ids, [])

    def test_bad_mail_is_stored_with_its_outcome_and_the_rest_syncs(self):
        self.folder.add(b"\x00\xff\xfe not a mail at all \x89PNG", "garbage")
        self.folder.add(b"From: noc@zayo.com\r\nSubject: hello\r\n\r\njust saying hi\r\n", "chatter")
        self.folder.add(b"From: someone@unknown.example\r\nSubject: Maintenance\r\n\r\nbody\r\n", "stranger")
        zayo_no_maint = MESSAGES["zayo4"].replace(b"TTN-0002345678", b"")
        self.folder.add(zayo_no_maint, "zayo-broken")
        self.deliver("zayo5")
        with self.configured([self.folder.source]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        outcomes = dict(RawNotification.objects.values_list("location", "outcome"))
        self.assertEqual(outcomes["00002-chatter.eml"], OutcomeChoices.UNKNOWN_PROVIDER)
        self.assertEqual(outcomes["00003-stranger.eml"], OutcomeChoices.UNKNOWN_PROVIDER)
        self.assertIn(outcomes["00001-garbage.eml"], {OutcomeChoices.UNKNOWN_PROVIDER, OutcomeChoices.PARSING_FAILED})
        self.assertEqual(outcomes["00004-zayo-broken.eml"], OutcomeChoices.PARSING_FAILED)
        self.assertTrue(RawNotification.objects.get(location="00004-zayo-broken.eml").error)
        self.assertEqual(outcomes["00005-zayo5.eml"], OutcomeChoices.PARSED)
        self.assertTrue(CircuitMaintenance.objects.filter(maintenance_id="TTN-0003456789").exists())

    def test_raw_size_cap(self):
        self.deliver("aws1")
        with self.configured([self.folder.source], raw_notification_size=1024):
            self.run_sync()
        raw = RawNotification.objects.get()
        self.assertEqual(len(bytes(raw.raw)), 1024)
        self.assertTrue(raw.raw_truncated)
        self.assertEqual(raw.raw_size, len(MESSAGES["aws1"]))

    def test_only_providers_attached_to_the_source_count(self):
        source = {**self.folder.source, "attach_all_providers": False}
        self.deliver("zayo4")
        with self.configured([source]):
            NotificationSource.objects.filter(name=self.folder.name).update(attach_all_providers=False)
            NotificationSource.objects.get(name=self.folder.name).providers.clear()
            self.run_sync()
            self.assertEqual(RawNotification.objects.get().outcome, OutcomeChoices.UNKNOWN_PROVIDER)
            self.assertEqual(CircuitMaintenance.objects.count(), 0)

    def test_attach_all_providers_includes_providers_created_later(self):
        with self.configured([self.folder.source]):
            provider = Provider.objects.create(name="Brand New Carrier")
            self.assertIn(provider, NotificationSource.objects.get(name=self.folder.name).providers.all())

    def test_backlog_synced_in_chunks_gives_the_same_records(self):
        from nautobot_ssot_circuit_maintenance.intake.sources.localfolder import LocalFolderSource
        from nautobot_ssot_circuit_maintenance.sync import jobs

        names = ("att1", "zayo4", "att2", "crowncastle1", "att3", "crowncastle7", "gtt7")
        self.deliver(*names)
        with self.configured([self.folder.source]):
            self.run_sync()  # one chunk
            whole = snapshot()
            CircuitMaintenance.objects.all().delete()
            RawNotification.objects.all().delete()
            NotificationSource.objects.update(cursor={})
            for owner, attribute, value in ((jobs, "CHUNK_MESSAGES", 2), (LocalFolderSource, "batch_size", 1)):
                self.addCleanup(setattr, owner, attribute, getattr(owner, attribute))
                setattr(owner, attribute, value)
            result, sync = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertEqual(snapshot(), whole)
        self.assertEqual(RawNotification.objects.count(), len(names))
        self.assertEqual(self.job_log(result).count("Calculating diffs"), 4)  # 7 messages, 2 per chunk
        self.assertEqual(count_maintenance_actions(sync.diff)["create"], 4)
        self.assertIn("7 messages read, 7 new", self.job_log(result))

    def test_job_is_schedulable_and_named_for_operators(self):
        from nautobot.extras.models import Job

        job = Job.objects.get(job_class_name="CircuitMaintenanceDataSource")
        self.assertFalse(job.has_sensitive_variables)
        self.assertEqual(job.name, "Circuit Maintenance notifications → Nautobot")


class ProcessingOrderTestCase(JobTestMixin, TransactionTestCase):
    """Every permutation of one maintenance's notices, each delivered in its own run."""

    def test_all_permutations_of_three_notices(self):
        create_providers_and_circuits()
        results = set()
        for order in itertools.permutations(("crowncastle1", "crowncastle7", "zayo4")):
            CircuitMaintenance.objects.all().delete()
            RawNotification.objects.all().delete()
            folder = MailFolder()
            self.addCleanup(folder.cleanup)
            with self.configured([folder.source]):
                NotificationSource.objects.update(cursor={})
                for name in order:
                    folder.add(MESSAGES[name], name)
                    self.run_sync()
            results.add(tuple(snapshot()))
        self.assertEqual(len(results), 1)
        (only,) = results
        crown = next(row for row in only if row[1] == "CM20231201000")
        self.assertEqual(crown[2], "COMPLETED")
        self.assertEqual(len(crown[7]), 2)


class ImpactRecordsTestCase(JobTestMixin, TransactionTestCase):
    def test_impacts_follow_the_newest_notice(self):
        create_providers_and_circuits()
        folder = MailFolder()
        self.addCleanup(folder.cleanup)
        folder.add(MESSAGES["aws1"], "aws1")
        with self.configured([folder.source]):
            self.run_sync()
        record = CircuitMaintenance.objects.get(maintenance_id__startswith="b57f17ce")
        self.assertEqual(CircuitImpact.objects.filter(maintenance=record).count(), 6)

    def test_a_newer_notice_changes_removes_and_adds_impacts_and_clears_the_ack(self):
        providers = create_providers_and_circuits()
        carrier = Provider.objects.create(name="Impact Carrier")
        carrier._custom_field_data.update({EMAILS_FIELD: SENDER, PARSER_FIELD: "genericprovider"})
        carrier.validated_save()
        template = Circuit.objects.filter(provider=providers["zayo"]).first()
        for cid in ("IMP-A", "IMP-B", "IMP-C"):
            Circuit.objects.create(
                provider=carrier, cid=cid, circuit_type=template.circuit_type, status=template.status
            )
        folder = MailFolder()
        self.addCleanup(folder.cleanup)
        first = {"IMP-A": "OUTAGE", "IMP-B": "OUTAGE"}
        folder.add(ical_notice("IMP-1", first, sender=SENDER, sequence=1), "first")
        with self.configured([folder.source]):
            self.run_sync()
            record = CircuitMaintenance.objects.get(maintenance_id="IMP-1")
            record.ack = True
            record.save()
            second = {"IMP-A": "DEGRADED", "IMP-C": "OUTAGE"}  # same status and window: only circuits change
            folder.add(ical_notice("IMP-1", second, sender=SENDER, sequence=2), "second")
            result, sync = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        record.refresh_from_db()
        self.assertEqual(dict(record.circuit_impacts.values_list("circuit__cid", "impact")), second)
        self.assertFalse(record.ack, "a change of circuits clears the acknowledgement")
        messages = sorted(SyncLogEntry.objects.filter(sync=sync).values_list("action", "message"))
        self.assertEqual(
            messages,
            [
                ("create", "circuit IMP-C added (OUTAGE)"),
                ("delete", "circuit IMP-B removed"),
                ("update", "circuit IMP-A OUTAGE → DEGRADED"),
            ],
        )
        # The diff holds only what changed: the maintenance's own attributes are not in it.
        entry = sync.diff["maintenance"]["Impact Carrier__IMP-1"]
        self.assertFalse(entry.get("+") or entry.get("-"), entry)
        self.assertEqual(len(entry["impact"]), 3)
        self.assertEqual(count_maintenance_actions(sync.diff), {"update": 1})
