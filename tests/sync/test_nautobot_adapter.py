"""The target adapter's writes: new maintenances are validated one by one and written in bulk."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from diffsync.exceptions import ObjectNotCreated
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TestCase
from nautobot.circuits.models import Circuit, CircuitType, Provider
from nautobot.extras.context_managers import web_request_context
from nautobot.extras.management import populate_status_choices
from nautobot.extras.models import ObjectChange, Status

from nautobot_ssot_circuit_maintenance.models import CircuitImpact, CircuitMaintenance, MaintenanceNote
from nautobot_ssot_circuit_maintenance.sync.diffsync.adapters.nautobot import NautobotAdapter
from nautobot_ssot_circuit_maintenance.sync.diffsync.models import window_entry

START = datetime(2026, 12, 1, 2, tzinfo=timezone.utc)


class WriteCreatedTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        populate_status_choices(apps, None)
        cls.provider = Provider.objects.create(name="Adapter Carrier")
        circuit_type = CircuitType.objects.create(name="Adapter Transit")
        status = Status.objects.get_for_model(Circuit).first()
        cls.circuits = [
            Circuit.objects.create(cid=f"AD-{i}", provider=cls.provider, circuit_type=circuit_type, status=status)
            for i in range(3)
        ]
        cls.admin = get_user_model().objects.create_user(username="adapter-admin", is_superuser=True)

    def adapter(self) -> NautobotAdapter:
        return NautobotAdapter(
            keys=set(),
            provider_names={self.provider.pk: self.provider.name},
            circuit_pks={(self.provider.pk, circuit.cid): circuit.pk for circuit in self.circuits},
        )

    def attrs(self, number: int, status: str = "CONFIRMED") -> dict:
        start = START + timedelta(days=number)
        return {
            "name": f"M-{number}",
            "description": f"work {number}",
            "status": status,
            "start_time": start,
            "end_time": start + timedelta(hours=4),
            "windows": [window_entry(start, start + timedelta(hours=4))],
            "unresolved_circuit_ids": ["GHOST-9"] if number % 2 else [],
        }

    def create_many(self, adapter: NautobotAdapter, count: int) -> int:
        """Create maintenances and their impacts as diffsync does; return the statements of the bulk write."""
        for number in range(count):
            ids = {"provider": self.provider.name, "maintenance_id": f"M-{number}"}
            adapter.maintenance.create(adapter, ids, self.attrs(number))
            for circuit in self.circuits[: 1 + number % 3]:
                adapter.impact.create(adapter, {**ids, "circuit": circuit.cid}, {"impact": "OUTAGE"})
        with CaptureQueriesContext(connection) as queries:
            adapter.sync_complete(source=None, diff=None)
        return len(queries)

    def test_invalid_record_is_refused_alone_and_nothing_is_queued(self):
        adapter = self.adapter()
        with self.assertRaisesRegex(ObjectNotCreated, "status"):
            adapter.maintenance.create(
                adapter, {"provider": self.provider.name, "maintenance_id": "BAD"}, self.attrs(0, status="BOGUS")
            )
        adapter.sync_complete(source=None, diff=None)
        self.assertFalse(CircuitMaintenance.objects.exists())

    def test_written_with_impacts_notes_and_changelog(self):
        with web_request_context(self.admin):
            self.create_many(self.adapter(), 4)
        self.assertEqual(CircuitMaintenance.objects.count(), 4)
        record = CircuitMaintenance.objects.get(maintenance_id="M-1")
        self.assertEqual(sorted(record.circuit_impacts.values_list("circuit__cid", flat=True)), ["AD-0", "AD-1"])
        self.assertEqual(
            list(MaintenanceNote.objects.filter(maintenance=record).values_list("level", flat=True)), ["WARNING"]
        )
        self.assertEqual(CircuitImpact.objects.count(), 1 + 2 + 3 + 1)
        changes = ObjectChange.objects.filter(
            changed_object_type=ContentType.objects.get_for_model(CircuitMaintenance), action="create"
        )
        self.assertEqual(changes.count(), 4)
        self.assertEqual(changes.get(changed_object_id=record.pk).user_name, "adapter-admin")

    def test_statements_do_not_grow_with_the_number_of_records(self):
        counts = []
        with web_request_context(self.admin):
            for count in (1, 2, 40):  # the first fills Nautobot's caches
                CircuitMaintenance.objects.all().delete()
                counts.append(self.create_many(self.adapter(), count))
        self.assertEqual(counts[1], counts[2])
        self.assertLessEqual(counts[2], 5)
        self.assertEqual(CircuitMaintenance.objects.count(), 40)

    def test_the_unknown_circuit_note_names_only_the_ids_still_unknown(self):
        attrs = {**self.attrs(1), "unresolved_circuit_ids": ["GHOST-1", "GHOST-2"]}
        adapter = self.adapter()
        ids = {"provider": self.provider.name, "maintenance_id": "M-1"}
        adapter.maintenance.create(adapter, ids, attrs)
        adapter.sync_complete(source=None, diff=None)
        record = CircuitMaintenance.objects.get()
        MaintenanceNote.objects.create(maintenance=record, title="Unknown circuit? Called the NOC", level="INFO")

        def resolve(still_unknown: list[str]) -> list[str]:
            """A later sync in which the other IDs became circuits (or aliases): the notes after it."""
            adapter = self.adapter()
            adapter.keys = {(self.provider.pk, "M-1")}
            adapter.load()
            model = adapter.get("maintenance", ids)
            model.update({"unresolved_circuit_ids": still_unknown})
            adapter.sync_complete(source=None, diff=None)
            return sorted(MaintenanceNote.objects.filter(maintenance=record).values_list("title", flat=True))

        self.assertEqual(resolve(["GHOST-2"]), ["Unknown circuit ID GHOST-2", "Unknown circuit? Called the NOC"])
        self.assertEqual(resolve([]), ["Unknown circuit? Called the NOC"], "a person's note stays")
