"""Target adapter of the import: what this app holds of what the older app has, and where it is written.

It loads only the records the older app's keys name, and reports which of them this app keeps from
its own mail (`native_maintenances`, `native_raw_keys`): the job leaves those alone. Writes are
per record (`validated_save`), so Nautobot's change log records each maintenance, note and source.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from diffsync import Adapter
from nautobot.circuits.models import Circuit, Provider

from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.older_app.diffsync.adapters.older_app import OlderAppAdapter, json_rank_key
from nautobot_ssot_circuit_maintenance.older_app.diffsync.models import (
    IMPORTED_LOCATION_PREFIX,
    PROVENANCE_TITLE,
)
from nautobot_ssot_circuit_maintenance.older_app.diffsync.target import (
    TargetMaintenance,
    TargetNote,
    TargetParsedNotification,
    TargetRawNotification,
    TargetSource,
    as_utc,
)
from nautobot_ssot_circuit_maintenance.older_app.reader import OlderAppReader


class ImportTargetAdapter(Adapter):
    """This app's records matching the older app's, which the import writes; those of its own mail set apart."""

    notification_source = TargetSource
    maintenance = TargetMaintenance
    maintenance_note = TargetNote
    raw_notification = TargetRawNotification
    parsed_notification = TargetParsedNotification
    top_level = OlderAppAdapter.top_level

    def __init__(self, *args, source_adapter: OlderAppAdapter, reader: OlderAppReader, job=None, **kwargs):
        """Hold the source adapter and reader, and index the providers by name."""
        super().__init__(*args, **kwargs)
        self.source_adapter = source_adapter
        self.reader = reader
        self.job = job
        # (model name, unique id) → the Django record, for updates and the SSoT log's links
        self.records: dict[tuple[str, str], Any] = {}
        self.parsed_records: dict[str, ParsedNotification] = {}
        # What this app keeps from its own mail: the import leaves it alone.
        self.native_maintenances: set[tuple[str, str]] = set()
        self.native_raw_keys: set[str] = set()
        self._providers = {provider.name: provider for provider in Provider.objects.all()}

    def remember(self, model, record) -> None:
        """Keep the Django record behind a DiffSync model, for its update and the SSoT log's link."""
        self.records[(model._modelname, model.get_unique_id())] = record

    def provider(self, name: str) -> Provider:
        """The provider of this name."""
        return self._providers[name]

    def providers_named(self, names: list[str]) -> list[Provider]:
        """The providers of these names that exist here, unknown names left out."""
        return [self._providers[name] for name in names if name in self._providers]

    def source_record(self, name: str) -> NotificationSource | None:
        """The notification source of this name, None without a name or when there is none."""
        return NotificationSource.objects.filter(name=name).first() if name else None

    def maintenance_record(self, provider: str, maintenance_id: str) -> CircuitMaintenance | None:
        """The maintenance (provider, maintenance ID), None without an ID; DoesNotExist when there is none."""
        if not maintenance_id:
            return None
        return CircuitMaintenance.objects.get(provider__name=provider, maintenance_id=maintenance_id)

    def write_circuits(self, record: CircuitMaintenance, entries: list[str]) -> None:
        """Make the maintenance's impacts match `entries` ("cid|IMPACT"), the circuits found by the provider first."""
        wanted: dict[Any, str] = {}
        for entry in entries:
            cid, _, impact = entry.rpartition("|")
            circuit = (
                Circuit.objects.filter(cid=cid, provider=record.provider).first()
                or Circuit.objects.filter(cid=cid).order_by("provider__name").first()
            )
            if circuit is not None:
                wanted[circuit.pk] = impact
        existing = {impact.circuit_id: impact for impact in CircuitImpact.objects.filter(maintenance=record)}
        for circuit_pk, impact in existing.items():
            if circuit_pk not in wanted:
                impact.delete()
            elif impact.impact != wanted[circuit_pk]:
                impact.impact = wanted[circuit_pk]
                impact.validated_save()
        for circuit_pk, impact in wanted.items():
            if circuit_pk not in existing:
                CircuitImpact(maintenance=record, circuit_id=circuit_pk, impact=impact).validated_save()

    # --- loading ---------------------------------------------------------------------------------

    def load(self) -> None:
        """Load the sources, maintenances (with their notes) and notifications matching the older app's."""
        source = self.source_adapter
        self._load_sources(source)
        self._load_maintenances(source)
        self._load_raws(source)

    def _load_sources(self, source: OlderAppAdapter) -> None:
        wanted = {model.name: set(model.providers) for model in source.get_all("notification_source")}
        for record in NotificationSource.objects.filter(name__in=wanted).prefetch_related("providers"):
            # Only the older app's providers count: others attached here since are this app's business.
            providers = sorted(p.name for p in record.providers.all() if p.name in wanted[record.name])
            self.remember(self._add(self.notification_source(name=record.name, providers=providers)), record)

    def _add(self, model):
        self.add(model)
        return model

    def _load_maintenances(self, source: OlderAppAdapter) -> None:
        keys = {(m.provider, m.maintenance_id) for m in source.get_all("maintenance")}
        if not keys:
            return
        records = (
            CircuitMaintenance.objects.filter(
                provider__name__in={p for p, _ in keys}, maintenance_id__in={mid for _, mid in keys}
            )
            .select_related("provider")
            .prefetch_related("circuit_impacts__circuit", "maintenance_notes")
        )
        fetched_here = set(
            ParsedNotification.objects.filter(maintenance__in=records)
            .exclude(raw_notification__location__startswith=IMPORTED_LOCATION_PREFIX)
            .values_list("maintenance_id", flat=True)
        )
        titles = defaultdict(set)
        for note in source.get_all("maintenance_note"):
            titles[(note.provider, note.maintenance_id)].add(note.title)
        for record in records:
            key = (record.provider.name, record.maintenance_id)
            if key not in keys:
                continue
            notes = list(record.maintenance_notes.all())
            if record.pk in fetched_here or not any(note.title == PROVENANCE_TITLE for note in notes):
                self.native_maintenances.add(key)
                continue
            model = self._add(
                self.maintenance(
                    provider=key[0],
                    maintenance_id=key[1],
                    name=record.name,
                    description=record.description,
                    status=record.status,
                    ack=record.ack,
                    start_time=as_utc(record.start_time),
                    end_time=as_utc(record.end_time),
                    circuits=sorted(f"{i.circuit.cid}|{i.impact}" for i in record.circuit_impacts.all()),
                    unresolved_circuit_ids=sorted(record.unresolved_circuit_ids),
                )
            )
            self.remember(model, record)
            seen = set()
            for note in sorted(notes, key=lambda n: (n.created, str(n.pk))):
                if note.title in titles[key] and note.title not in seen:
                    seen.add(note.title)
                    self.remember(
                        self._add(
                            self.maintenance_note(
                                provider=key[0],
                                maintenance_id=key[1],
                                title=note.title,
                                level=note.level,
                                comment=note.comment,
                            )
                        ),
                        note,
                    )

    def _load_raws(self, source: OlderAppAdapter) -> None:
        keys = {model.message_key for model in source.get_all("raw_notification")}
        imported = []
        for record in RawNotification.objects.filter(message_key__in=keys).select_related("source", "provider"):
            if not record.location.startswith(IMPORTED_LOCATION_PREFIX):
                self.native_raw_keys.add(record.message_key)
                continue
            imported.append(record.pk)
            model = self._add(
                self.raw_notification(
                    message_key=record.message_key,
                    source=record.source.name if record.source else "",
                    provider=record.provider.name if record.provider else "",
                    sender=record.sender,
                    subject=record.subject,
                    date=as_utc(record.date),
                    outcome=record.outcome,
                )
            )
            self.remember(model, record)
        groups: dict[tuple, list[ParsedNotification]] = defaultdict(list)
        for parsed in ParsedNotification.objects.filter(raw_notification_id__in=imported).select_related(
            "raw_notification", "provider", "maintenance"
        ):
            groups[(parsed.raw_notification.message_key, parsed.provider.name, parsed.provider_maintenance_id)].append(
                parsed
            )
        for (key, provider, maintenance_id), records in groups.items():
            ordered = sorted(records, key=lambda r: (json_rank_key(r.json), _linked_id(r)))
            for rank, record in enumerate(ordered):
                model = self._add(
                    self.parsed_notification(
                        message_key=key,
                        provider=provider,
                        provider_maintenance_id=maintenance_id,
                        rank=rank,
                        linked_maintenance_id=_linked_id(record),
                        notice=record.json,
                    )
                )
                self.parsed_records[model.get_unique_id()] = record


def _linked_id(record: ParsedNotification) -> str:
    return record.maintenance.maintenance_id if record.maintenance else ""
