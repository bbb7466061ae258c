"""Target adapter: the maintenances Nautobot holds now (only those the chunk touches), and where they are written.

Creates and impact changes are validated and queued while diffsync walks the diff, then written in a
few statements by `sync_complete`, diffsync's hook for bulk writes; a maintenance's own update is
saved at once (updates are few: reschedules, status changes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from diffsync import Adapter
from diffsync.enum import DiffSyncStatus
from diffsync.exceptions import ObjectNotCreated, ObjectNotUpdated
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from nautobot.circuits.models import Circuit, Provider

from nautobot_ssot_circuit_maintenance.choices import NoteLevelChoices
from nautobot_ssot_circuit_maintenance.compat.changelog import log_bulk_creations
from nautobot_ssot_circuit_maintenance.intake.chunk import Chunk
from nautobot_ssot_circuit_maintenance.intake.resolve import MATCHED_BY_XCONNECT, ambiguity_reason
from nautobot_ssot_circuit_maintenance.models import CircuitImpact, CircuitMaintenance, MaintenanceNote
from nautobot_ssot_circuit_maintenance.models.maintenance import NOTE_TITLE_LENGTH
from nautobot_ssot_circuit_maintenance.sync.diffsync.log_messages import (
    ACK_CLEARED,
    describe_create,
    describe_impact,
    describe_update,
    is_material,
)
from nautobot_ssot_circuit_maintenance.sync.diffsync.models import ImpactModel, MaintenanceModel, window_entry

BULK_BATCH = 500


# The titles of the note the sync keeps about a maintenance's unknown circuit IDs: "Unknown circuit ID X",
# "Unknown circuit IDs X, Y", or, when the list is too long for a title, "1,234 unknown circuit IDs".
UNKNOWN_CIDS_TITLE_START = "Unknown circuit ID"
UNKNOWN_CIDS_TITLE_END = " unknown circuit IDs"


def unknown_cids_note(
    maintenance: CircuitMaintenance,
    cids: list[str],
    provider_name: str,
    ambiguous: dict[str, list[str]] | None = None,
) -> MaintenanceNote:
    """One note for the circuit IDs a sync could not match, however many a notice names.

    `ambiguous` (an ID → the circuits that share it as their cross-connect id) says why such an ID stays unknown.
    """
    listed = ", ".join(cids)
    title = f"{UNKNOWN_CIDS_TITLE_START}{'s' if len(cids) > 1 else ''} {listed}"
    if len(title) > NOTE_TITLE_LENGTH:
        title = f"{len(cids):,}{UNKNOWN_CIDS_TITLE_END}"
    comment = (
        f"The notifications name circuit IDs that are not circuits of provider {provider_name} in "
        f"Nautobot: {listed}. Create the circuits (or map the IDs in the triage queue) and the next sync "
        "links them."
    )
    shared = {cid: circuits for cid, circuits in (ambiguous or {}).items() if cid in cids}
    if shared:
        comment += " Not matched because several circuits share it as their cross-connect id: " + "; ".join(
            f"{cid} is {ambiguity_reason(circuits)}" for cid, circuits in sorted(shared.items())
        )
        comment += " (an alias says which circuit it means)."
    return MaintenanceNote(maintenance=maintenance, title=title, level=NoteLevelChoices.WARNING, comment=comment)


def unknown_cids_notes(maintenance_pks: Iterable[Any]) -> QuerySet:
    """The notes `unknown_cids_note` wrote on these maintenances (a person's own notes are not among them)."""
    return MaintenanceNote.objects.filter(maintenance_id__in=maintenance_pks, level=NoteLevelChoices.WARNING).filter(
        Q(title__startswith=UNKNOWN_CIDS_TITLE_START) | Q(title__endswith=UNKNOWN_CIDS_TITLE_END)
    )


class NautobotMaintenance(MaintenanceModel):
    """A CircuitMaintenance: created in bulk by `NautobotAdapter.sync_complete`, updated at once."""

    @classmethod
    def create(cls, adapter: NautobotAdapter, ids: dict, attrs: dict):
        """Validate the new record now and queue it; `NautobotAdapter.sync_complete` writes the queue in bulk."""
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
            provider_time_zone=attrs.get("provider_time_zone", ""),
        )
        try:
            # The provider was just read from the database; the unique pair is new by the diff.
            record.clean_fields(exclude=["provider"])
        except ValidationError as error:
            raise ObjectNotCreated(f"{ids['provider']} {ids['maintenance_id'][:80]}: {_first_error(error)}") from error
        model = super().create(adapter=adapter, ids=ids, attrs=attrs)
        adapter.queue_maintenance(model.get_unique_id(), record)
        model.set_status(DiffSyncStatus.SUCCESS, describe_create(attrs))
        return model

    def update(self, attrs: dict):
        """Save the changed fields now, clearing the acknowledgement on a material change.

        When the unknown circuit IDs change (new ones named, or known now through a new circuit or an alias),
        the note about them is renewed to name the ones still unknown (none: no note).
        """
        record: CircuitMaintenance = self.adapter.records[self.get_unique_id()]
        old = self.get_attrs()
        message = describe_update(old, attrs)
        try:
            with transaction.atomic():
                for field in (
                    "name",
                    "description",
                    "status",
                    "start_time",
                    "end_time",
                    "unresolved_circuit_ids",
                    "provider_time_zone",
                ):
                    if field in attrs:
                        setattr(record, field, attrs[field])
                if "windows" in attrs:
                    record.windows = _windows_json(attrs["windows"])
                if is_material(attrs) and record.clear_acknowledgement():
                    message += f"; {ACK_CLEARED}"
                record.save()
        except (ValidationError, DatabaseError) as error:
            raise ObjectNotUpdated(f"{self.provider} {self.maintenance_id}: {error}") from error
        if "unresolved_circuit_ids" in attrs:
            self.adapter.renew_unknown_cids_note(record, self.provider)
        super().update(attrs)
        self.set_status(DiffSyncStatus.SUCCESS, message)
        return self


class NautobotImpact(ImpactModel):
    """A CircuitImpact; created, changed and removed in bulk by `NautobotAdapter.sync_complete`."""

    @classmethod
    def create(cls, adapter: NautobotAdapter, ids: dict, attrs: dict):
        """Queue the new impact on its maintenance for the bulk write."""
        parent = MaintenanceModel.create_unique_id(provider=ids["provider"], maintenance_id=ids["maintenance_id"])
        record = adapter.records[parent]
        impact = CircuitImpact(
            maintenance=record,
            circuit=adapter.circuit(record.provider_id, ids["circuit"]),
            impact=attrs["impact"],
        )
        model = super().create(adapter=adapter, ids=ids, attrs=attrs)
        adapter.impact_records[model.get_unique_id()] = impact
        adapter.queued_impacts.append(impact)
        message = describe_impact(ids["circuit"], None, attrs["impact"])
        xconnect_id = adapter.by_xconnect.get((record.provider_id, ids["maintenance_id"], ids["circuit"]))
        if xconnect_id is not None:
            message += f", matched by {MATCHED_BY_XCONNECT} {xconnect_id}"
        model.set_status(DiffSyncStatus.SUCCESS, message)
        adapter.changed_circuits(parent)
        return model

    def update(self, attrs: dict):
        """Queue the impact's new level for the bulk update."""
        impact: CircuitImpact = self.adapter.impact_records[self.get_unique_id()]
        message = describe_impact(self.circuit, self.impact, attrs["impact"])
        impact.impact = attrs["impact"]
        self.adapter.changed_impacts.append(impact)
        self.adapter.changed_circuits(self._parent_id())
        super().update(attrs)
        self.set_status(DiffSyncStatus.SUCCESS, message)
        return self

    def delete(self):
        """Queue the impact for deletion: a newer notice no longer lists its circuit."""
        impact: CircuitImpact = self.adapter.impact_records[self.get_unique_id()]
        self.adapter.removed_impacts.append(impact.pk)
        self.adapter.changed_circuits(self._parent_id())
        super().delete()
        self.set_status(DiffSyncStatus.SUCCESS, describe_impact(self.circuit, self.impact, None))
        return self

    def _parent_id(self) -> str:
        return MaintenanceModel.create_unique_id(provider=self.provider, maintenance_id=self.maintenance_id)


def _first_error(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        field, errors = next(iter(error.error_dict.items()))
        return f"{field}: {errors[0].messages[0]}"
    return error.messages[0]


def _windows_json(entries: list[str]) -> list[dict[str, str]]:
    return [dict(zip(("start", "end"), entry.split("/"), strict=True)) for entry in entries]


class NautobotAdapter(Adapter):
    """The maintenances Nautobot holds that one chunk touches, and the queues `sync_complete` writes."""

    maintenance = NautobotMaintenance
    impact = NautobotImpact
    top_level = ["maintenance"]

    def __init__(
        self,
        *args,
        keys: set[tuple[Any, str]],
        provider_names: dict[Any, str],
        circuit_pks: dict[tuple[Any, str], Any],
        job=None,
        by_xconnect: dict[tuple[Any, str, str], str] | None = None,
        ambiguous: dict[tuple[Any, str], dict[str, list[str]]] | None = None,
        **kwargs,
    ):
        """Hold the chunk's maintenance keys, provider names and circuit pks; nothing loaded or queued yet.

        `by_xconnect`: (provider pk, maintenance id, circuit ID) → the cross-connect id it was matched by, for the log;
        `ambiguous`: maintenance key → its IDs several circuits share as cross-connect id, for the note.
        """
        super().__init__(*args, **kwargs)
        self.job = job
        self.keys = keys
        self.by_xconnect = by_xconnect or {}
        self.ambiguous = ambiguous or {}
        self.provider_pks = {name: pk for pk, name in provider_names.items()}
        self._providers: dict[str, Provider] | None = None
        self.circuit_pks = circuit_pks
        # diffsync unique id → record, for updates and SyncLogEntry links
        self.records: dict[str, CircuitMaintenance] = {}
        self.impact_records: dict[str, CircuitImpact] = {}
        self._circuits: dict[Any, Circuit] | None = None
        self._reset_queues()

    @classmethod
    def for_chunk(cls, chunk: Chunk, job=None) -> NautobotAdapter:
        """The adapter for the maintenances one chunk of mail touches."""
        return cls(
            keys=set(chunk.maintenances),
            provider_names=chunk.provider_names,
            circuit_pks={
                (resolved.provider_pk, cid): pk
                for resolved in chunk.maintenances.values()
                for cid, pk in resolved.circuit_pks.items()
            },
            job=job,
            by_xconnect={
                (provider_pk, maintenance_id, cid): xconnect_id
                for (provider_pk, maintenance_id), resolved in chunk.maintenances.items()
                for cid, xconnect_id in resolved.by_xconnect.items()
            },
            ambiguous={key: resolved.ambiguous for key, resolved in chunk.maintenances.items() if resolved.ambiguous},
        )

    def _reset_queues(self) -> None:
        self.queued_maintenances: list[CircuitMaintenance] = []
        self.queued_impacts: list[CircuitImpact] = []
        self.queued_notes: list[MaintenanceNote] = []
        # Maintenances whose unknown-circuit-ID note is superseded (deleted before the queued notes are written).
        self.renewed_notes: list[Any] = []
        self.changed_impacts: list[CircuitImpact] = []
        self.removed_impacts: list[Any] = []
        self._circuits_changed: set[str] = set()

    def load(self) -> None:
        """Load the stored maintenances of the chunk's keys, with their circuit impacts."""
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
                windows=[window_entry(start, end) for start, end in record.window_times] if record.windows else [],
                unresolved_circuit_ids=sorted(record.unresolved_circuit_ids),
                provider_time_zone=record.provider_time_zone,
            )
            self.add(model)
            self.records[model.get_unique_id()] = record
            for impact in record.circuit_impacts.all():
                child = self.impact(
                    provider=record.provider.name,
                    maintenance_id=record.maintenance_id,
                    circuit=impact.circuit.cid,
                    impact=impact.impact,
                )
                self.add(child)
                model.add_child(child)
                self.impact_records[child.get_unique_id()] = impact

    def provider(self, name: str) -> Provider:
        """The Provider record, loaded once for all creates (change logging reads it from each new record)."""
        if self._providers is None:
            self._providers = {p.name: p for p in Provider.objects.filter(pk__in=self.provider_pks.values())}
        return self._providers[name]

    def circuit(self, provider_pk: Any, cid: str) -> Circuit:
        """The provider's circuit the chunk resolved this circuit ID to.

        Every circuit of the chunk is read in one query the first time one is asked for: the new impacts' log
        entries and change-log records name their circuits, which would otherwise be read one by one.
        """
        if self._circuits is None:
            self._circuits = Circuit.objects.in_bulk(set(self.circuit_pks.values()))
        return self._circuits[self.circuit_pks[(provider_pk, cid)]]

    def queue_maintenance(self, unique_id: str, record: CircuitMaintenance) -> None:
        """Queue a new maintenance for the bulk write, with a note for its unknown circuit IDs."""
        self.records[unique_id] = record
        self.queued_maintenances.append(record)
        if record.unresolved_circuit_ids:
            self.queued_notes.append(
                unknown_cids_note(
                    record, record.unresolved_circuit_ids, record.provider.name, self._ambiguous_of(record)
                )
            )

    def renew_unknown_cids_note(self, record: CircuitMaintenance, provider_name: str) -> None:
        """Queue the replacement of the maintenance's unknown-circuit-ID note by one naming its IDs still unknown."""
        self.renewed_notes.append(record.pk)
        if record.unresolved_circuit_ids:
            self.queued_notes.append(
                unknown_cids_note(record, record.unresolved_circuit_ids, provider_name, self._ambiguous_of(record))
            )

    def _ambiguous_of(self, record: CircuitMaintenance) -> dict[str, list[str]]:
        return self.ambiguous.get((record.provider_id, record.maintenance_id), {})

    def changed_circuits(self, maintenance_unique_id: str) -> None:
        """An impact of this maintenance was added, changed or removed: a material change."""
        self._circuits_changed.add(maintenance_unique_id)

    def sync_complete(self, source: Adapter, diff, flags=None, logger=None) -> None:
        """Write what the sync queued: new maintenances, impacts and notes, and their changelog, in bulk."""
        created = self.queued_maintenances
        CircuitMaintenance.objects.bulk_create(created, batch_size=BULK_BATCH)
        log_bulk_creations(created)
        CircuitImpact.objects.bulk_create(self.queued_impacts, batch_size=BULK_BATCH)
        if self.changed_impacts:
            CircuitImpact.objects.bulk_update(self.changed_impacts, ["impact"], batch_size=BULK_BATCH)
        if self.removed_impacts:
            CircuitImpact.objects.filter(pk__in=self.removed_impacts).delete()
        if self.renewed_notes:
            unknown_cids_notes(self.renewed_notes).delete()
        MaintenanceNote.objects.bulk_create(self.queued_notes, batch_size=BULK_BATCH)
        new = {id(record) for record in created}
        for unique_id in sorted(self._circuits_changed):
            record = self.records[unique_id]
            if id(record) not in new:
                # Saved even when no acknowledgement was cleared: its change log and `last_updated` say
                # the maintenance changed (what depends on its circuits, e.g. the isolation flags, follows).
                record.clear_acknowledgement()
                record.save()
        self._reset_queues()
