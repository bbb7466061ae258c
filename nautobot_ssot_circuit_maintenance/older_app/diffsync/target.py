"""The import's DiffSync models as this app writes them: one validated save per record, change-logged."""

from __future__ import annotations

from datetime import datetime, timezone

from diffsync import Adapter
from diffsync.enum import DiffSyncStatus
from diffsync.exceptions import ObjectNotCreated, ObjectNotUpdated
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.older_app.diffsync.models import (
    IMPORTED_LOCATION_PREFIX,
    ImportedMaintenance,
    ImportedNote,
    ImportedParsedNotification,
    ImportedRawNotification,
    ImportedSource,
)


def as_utc(value: datetime) -> datetime:
    """The datetime converted to UTC."""
    return value.astimezone(timezone.utc)


def _errors(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return f"{type(error).__name__}: {error}"


def _window(start: datetime, end: datetime) -> list[dict[str, str]]:
    return [{"start": as_utc(start).isoformat(), "end": as_utc(end).isoformat()}]


class TargetSource(ImportedSource):
    """A notification source as the import writes it: created with its providers, or given more of them."""

    @classmethod
    def create(cls, adapter: Adapter, ids: dict, attrs: dict):
        """Create the source with the older app's providers attached, in one transaction."""
        try:
            with transaction.atomic():
                record = NotificationSource(name=ids["name"])
                record.validated_save()
                record.providers.add(*adapter.providers_named(attrs["providers"]))
        except (ValidationError, DatabaseError) as error:
            raise ObjectNotCreated(f"source {ids['name']}: {_errors(error)}") from error
        model = super().create(adapter=adapter, ids=ids, attrs=attrs)
        adapter.remember(model, record)
        model.set_status(DiffSyncStatus.SUCCESS, f"created with providers {', '.join(attrs['providers']) or 'none'}")
        return model

    def update(self, attrs: dict):
        """Attach the providers the older app adds; none is ever detached."""
        record = self.adapter.records[(self._modelname, self.get_unique_id())]
        added = sorted(set(attrs["providers"]) - set(self.providers))
        record.providers.add(*self.adapter.providers_named(added))
        super().update(attrs)
        self.set_status(DiffSyncStatus.SUCCESS, f"providers attached: {', '.join(added)}")
        return self


class TargetMaintenance(ImportedMaintenance):
    """A maintenance as the import writes it: validated, with its one window and its circuit impacts."""

    @classmethod
    def create(cls, adapter: Adapter, ids: dict, attrs: dict):
        """Create the maintenance and its circuit impacts in one transaction."""
        try:
            with transaction.atomic():
                record = CircuitMaintenance(
                    provider=adapter.provider(ids["provider"]), maintenance_id=ids["maintenance_id"]
                )
                _apply(record, attrs)
                record.validated_save()
                adapter.write_circuits(record, attrs["circuits"])
        except (ValidationError, DatabaseError, KeyError) as error:
            raise ObjectNotCreated(f"{ids['provider']} {ids['maintenance_id'][:80]}: {_errors(error)}") from error
        model = super().create(adapter=adapter, ids=ids, attrs=attrs)
        adapter.remember(model, record)
        model.set_status(
            DiffSyncStatus.SUCCESS,
            f"created {attrs['status']}{', acknowledged' if attrs['ack'] else ''}; "
            f"circuits {', '.join(c.replace('|', ' ') for c in attrs['circuits']) or 'none'}",
        )
        return model

    def update(self, attrs: dict):
        """Update the maintenance's fields, and its circuit impacts when they changed, in one transaction."""
        record = self.adapter.records[(self._modelname, self.get_unique_id())]
        try:
            with transaction.atomic():
                _apply(record, {**self.get_attrs(), **attrs})
                record.validated_save()
                if "circuits" in attrs:
                    self.adapter.write_circuits(record, attrs["circuits"])
        except (ValidationError, DatabaseError, KeyError) as error:
            raise ObjectNotUpdated(f"{self.provider} {self.maintenance_id[:80]}: {_errors(error)}") from error
        super().update(attrs)
        self.set_status(DiffSyncStatus.SUCCESS, "updated " + ", ".join(sorted(attrs)))
        return self


def _apply(record: CircuitMaintenance, attrs: dict) -> None:
    for field in ("name", "description", "status", "ack", "start_time", "end_time", "unresolved_circuit_ids"):
        setattr(record, field, attrs[field])
    # The one window the older app kept; see the import's note where its mail named more.
    record.windows = _window(attrs["start_time"], attrs["end_time"])


class TargetNote(ImportedNote):
    """A maintenance note as the import writes it."""

    @classmethod
    def create(cls, adapter: Adapter, ids: dict, attrs: dict):
        """Create the note on its maintenance."""
        try:
            record = MaintenanceNote(
                maintenance=adapter.maintenance_record(ids["provider"], ids["maintenance_id"]),
                title=ids["title"],
                level=attrs["level"],
                comment=attrs["comment"],
            )
            record.validated_save()
        except (ValidationError, DatabaseError, CircuitMaintenance.DoesNotExist) as error:
            raise ObjectNotCreated(f"note {ids['title'][:80]}: {_errors(error)}") from error
        model = super().create(adapter=adapter, ids=ids, attrs=attrs)
        adapter.remember(model, record)
        return model

    def update(self, attrs: dict):
        """Set the note's changed fields and save it, validated."""
        record = self.adapter.records[(self._modelname, self.get_unique_id())]
        for field, value in attrs.items():
            setattr(record, field, value)
        try:
            record.validated_save()
        except (ValidationError, DatabaseError) as error:
            raise ObjectNotUpdated(f"note {self.title[:80]}: {_errors(error)}") from error
        super().update(attrs)
        return self


class TargetRawNotification(ImportedRawNotification):
    """A raw notification as the import writes it, with the older app's stored payload."""

    @classmethod
    def create(cls, adapter: Adapter, ids: dict, attrs: dict):
        """Create the notification with the older app's stored bytes and its pk in `location`."""
        old_pk = adapter.source_adapter.raw_pks[ids["message_key"]]
        payload = next((data for _, data in adapter.reader.payloads([old_pk])), b"")
        try:
            record = RawNotification(
                message_key=ids["message_key"],
                location=f"{IMPORTED_LOCATION_PREFIX}{old_pk}",
                raw=payload,
                raw_size=len(payload),
            )
            _apply_raw(adapter, record, attrs)
            record.save()
        except (ValidationError, DatabaseError, KeyError) as error:
            raise ObjectNotCreated(f"raw notification {attrs['subject'][:80]!r}: {_errors(error)}") from error
        model = super().create(adapter=adapter, ids=ids, attrs=attrs)
        adapter.remember(model, record)
        return model

    def update(self, attrs: dict):
        """Update the notification's source, provider, sender, subject, date and outcome."""
        record = self.adapter.records[(self._modelname, self.get_unique_id())]
        try:
            _apply_raw(self.adapter, record, {**self.get_attrs(), **attrs})
            record.save()
        except (ValidationError, DatabaseError, KeyError) as error:
            raise ObjectNotUpdated(f"raw notification {self.subject[:80]!r}: {_errors(error)}") from error
        super().update(attrs)
        return self


def _apply_raw(adapter: Adapter, record: RawNotification, attrs: dict) -> None:
    record.source = adapter.source_record(attrs["source"])
    record.provider = adapter.provider(attrs["provider"]) if attrs["provider"] else None
    for field in ("sender", "subject", "date", "outcome"):
        setattr(record, field, attrs[field])


class TargetParsedNotification(ImportedParsedNotification):
    """A parsed notification as the import writes it, linked to its notification and maintenance."""

    @classmethod
    def create(cls, adapter: Adapter, ids: dict, attrs: dict):
        """Create the parsed notification on its raw notification, linked to its maintenance if any."""
        try:
            record = ParsedNotification(
                raw_notification=RawNotification.objects.get(message_key=ids["message_key"]),
                provider=adapter.provider(ids["provider"]),
                provider_maintenance_id=ids["provider_maintenance_id"],
                json=attrs["notice"],
            )
            record.maintenance = adapter.maintenance_record(ids["provider"], attrs["linked_maintenance_id"])
            record.save()
        except (DatabaseError, KeyError, RawNotification.DoesNotExist, CircuitMaintenance.DoesNotExist) as error:
            raise ObjectNotCreated(f"parsed notification {ids['provider_maintenance_id'][:80]}: {error}") from error
        model = super().create(adapter=adapter, ids=ids, attrs=attrs)
        return model

    def update(self, attrs: dict):
        """Update the stored notice and the maintenance it is linked to."""
        record = self.adapter.parsed_records[self.get_unique_id()]
        if "notice" in attrs:
            record.json = attrs["notice"]
        if "linked_maintenance_id" in attrs:
            record.maintenance = self.adapter.maintenance_record(self.provider, attrs["linked_maintenance_id"])
        record.save()
        super().update(attrs)
        return self
