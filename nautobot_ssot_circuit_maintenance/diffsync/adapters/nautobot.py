"""Target adapter: the maintenances Nautobot holds now, limited to those this run's mail touches."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from diffsync import Adapter
from diffsync.enum import DiffSyncStatus
from diffsync.exceptions import ObjectNotCreated, ObjectNotUpdated
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from nautobot.circuits.models import Provider

from ...changelog import log_bulk_creations, without_tags
from ...choices import NoteLevelChoices
from ...models import CircuitImpact, CircuitMaintenance, MaintenanceNote
from ..changes import describe_create, describe_update, resets_ack
from ..models import MaintenanceModel, circuit_entry, split_circuit_entry, window_entry

NOTE_TITLE_LENGTH = 200  # MaintenanceNote.title


def unknown_cids_note(maintenance: CircuitMaintenance, cids: list[str], provider_name: str) -> MaintenanceNote:
    """One note for the circuit IDs a sync could not match, however many a notice names."""
    listed = ", ".join(cids)
    title = f"Unknown circuit ID{'s' if len(cids) > 1 else ''} {listed}"
    if len(title) > NOTE_TITLE_LENGTH:
        title = f"{len(cids):,} unknown circuit IDs"
    return MaintenanceNote(
        maintenance=maintenance,
        title=title,
        level=NoteLevelChoices.WARNING,
        comment=(
            f"The notifications name circuit IDs that are not circuits of provider {provider_name} in "
            f"Nautobot: {listed}. Create the circuits and the next sync links them."
        ),
    )


BULK_BATCH = 500


class NautobotMaintenance(MaintenanceModel):
    @classmethod
    def create(cls, adapter: NautobotAdapter, ids: dict, attrs: dict):
        """Validate the new record now and queue it; `NautobotAdapter.write_created` writes the queue in bulk."""
        record = CircuitMaintenance(
            provider=adapter.provider(ids["provider"]),
            maintenance_id=ids["maintenance_id"],
            name=attrs["name"],
            description=attrs["description"],
            status=attrs["status"],
            start_time=attrs["start_time"],
            end_time=attrs["end_time"],
            windows=_windows_json(attrs["windows"]),
            unresolved_circuit_ids=attrs["unresolved_circuit_ids"],
        )
        try:
            # The provider was just read from the database; the unique pair is new by the diff.
            record.clean_fields(exclude=["provider"])
        except ValidationError as error:
            raise ObjectNotCreated(f"{ids['provider']} {ids['maintenance_id'][:80]}: {_first_error(error)}") from error
        adapter.queue_create(record, attrs["circuits"])
        model = super().create(adapter=adapter, ids=ids, attrs=attrs)
        adapter.records[model.get_unique_id()] = record
        model.set_status(DiffSyncStatus.SUCCESS, describe_create(attrs))
        return model

    def update(self, attrs: dict):
        record: CircuitMaintenance = self.adapter.records[self.get_unique_id()]
        old = self.get_attrs()
        message = describe_update(old, attrs)
        try:
            with transaction.atomic():
                for field in ("name", "description", "status", "start_time", "end_time", "unresolved_circuit_ids"):
                    if field in attrs:
                        setattr(record, field, attrs[field])
                if "windows" in attrs:
                    record.windows = _windows_json(attrs["windows"])
                if resets_ack(attrs) and record.clear_acknowledgement():
                    message += "; acknowledgement cleared"
                record.save()
                if "circuits" in attrs:
                    self.adapter.write_circuits(record, attrs["circuits"])
                newly_unknown = sorted(
                    set(attrs.get("unresolved_circuit_ids", [])) - set(old.get("unresolved_circuit_ids") or [])
                )
                if newly_unknown:
                    unknown_cids_note(record, newly_unknown, self.provider).save()
        except (ValidationError, DatabaseError) as error:
            raise ObjectNotUpdated(f"{self.provider} {self.maintenance_id}: {error}") from error
        super().update(attrs)
        self.set_status(DiffSyncStatus.SUCCESS, message)
        return self


def _first_error(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        field, errors = next(iter(error.error_dict.items()))
        return f"{field}: {errors[0].messages[0]}"
    return error.messages[0]


def _windows_json(entries: list[str]) -> list[dict[str, str]]:
    return [dict(zip(("start", "end"), entry.split("/"), strict=True)) for entry in entries]


class NautobotAdapter(Adapter):
    maintenance = NautobotMaintenance
    top_level = ["maintenance"]

    def __init__(
        self,
        *args,
        keys: set[tuple[Any, str]],
        provider_names: dict[Any, str],
        circuit_pks: dict[tuple[Any, str], Any],
        job=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.job = job
        self.keys = keys
        self.provider_pks = {name: pk for pk, name in provider_names.items()}
        self._providers: dict[str, Provider] | None = None
        self.circuit_pks = circuit_pks
        # diffsync unique id → CircuitMaintenance, for updates and SyncLogEntry links
        self.records: dict[str, CircuitMaintenance] = {}
        self._created: list[CircuitMaintenance] = []
        self._created_impacts: list[CircuitImpact] = []
        self._created_notes: list[MaintenanceNote] = []

    def load(self) -> None:
        if not self.keys:
            return
        wanted = defaultdict(set)
        for provider_pk, maintenance_id in self.keys:
            wanted[provider_pk].add(maintenance_id)
        records = (
            CircuitMaintenance.objects.filter(
                provider_id__in=wanted.keys(), maintenance_id__in={mid for _, mid in self.keys}
            )
            .select_related("provider")
            .prefetch_related("circuit_impacts__circuit", "tags")
        )
        for record in records:
            if record.maintenance_id not in wanted[record.provider_id]:
                continue
            model = self.maintenance(
                provider=record.provider.name,
                maintenance_id=record.maintenance_id,
                name=record.name,
                description=record.description,
                status=record.status,
                start_time=record.start_time,
                end_time=record.end_time,
                windows=[window_entry(*_window_times(window)) for window in record.windows],
                circuits=sorted(
                    circuit_entry(impact.circuit.cid, impact.impact) for impact in record.circuit_impacts.all()
                ),
                unresolved_circuit_ids=sorted(record.unresolved_circuit_ids),
            )
            self.add(model)
            self.records[model.get_unique_id()] = record

    def provider(self, name: str) -> Provider:
        """The Provider record, loaded once for all creates (change logging reads it from each new record)."""
        if self._providers is None:
            self._providers = {p.name: p for p in Provider.objects.filter(pk__in=self.provider_pks.values())}
        return self._providers[name]

    def queue_create(self, record: CircuitMaintenance, circuits: list[str]) -> None:
        self._created.append(record)
        self._created_impacts.extend(
            CircuitImpact(maintenance=record, circuit_id=circuit_pk, impact=impact)
            for circuit_pk, impact in self._wanted_impacts(record, circuits).items()
        )
        if record.unresolved_circuit_ids:
            self._created_notes.append(unknown_cids_note(record, record.unresolved_circuit_ids, record.provider.name))

    def write_created(self) -> int:
        """Write the queued new maintenances, their impacts and notes, and their changelog, in a few statements."""
        created = self._created
        if created:
            CircuitMaintenance.objects.bulk_create(created, batch_size=BULK_BATCH)
            CircuitImpact.objects.bulk_create(self._created_impacts, batch_size=BULK_BATCH)
            MaintenanceNote.objects.bulk_create(self._created_notes, batch_size=BULK_BATCH)
            for record in created:
                without_tags(record)
            log_bulk_creations(created)
        self._created, self._created_impacts, self._created_notes = [], [], []
        return len(created)

    def _wanted_impacts(self, record: CircuitMaintenance, entries: list[str]) -> dict[Any, str]:
        return {
            self.circuit_pks[(record.provider_id, cid)]: impact for cid, impact in map(split_circuit_entry, entries)
        }

    def write_circuits(self, record: CircuitMaintenance, entries: list[str]) -> None:
        """Make an existing maintenance's CircuitImpacts match `entries` ("cid|IMPACT").

        Written in bulk: the sync's log entry for the maintenance already says which circuits changed.
        """
        wanted = self._wanted_impacts(record, entries)
        existing = {i.circuit_id: i for i in CircuitImpact.objects.filter(maintenance=record)}
        stale = [impact.pk for circuit_pk, impact in existing.items() if circuit_pk not in wanted]
        if stale:
            CircuitImpact.objects.filter(pk__in=stale).delete()
        changed = []
        for circuit_pk, impact in existing.items():
            if circuit_pk in wanted and impact.impact != wanted[circuit_pk]:
                impact.impact = wanted[circuit_pk]
                changed.append(impact)
        if changed:
            CircuitImpact.objects.bulk_update(changed, ["impact"])
        new = [
            CircuitImpact(maintenance=record, circuit_id=circuit_pk, impact=impact)
            for circuit_pk, impact in wanted.items()
            if circuit_pk not in existing
        ]
        if new:
            CircuitImpact.objects.bulk_create(new)


def _window_times(window: dict[str, str]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
