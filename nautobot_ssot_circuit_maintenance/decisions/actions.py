"""What each decision does to the records; callers check permissions and input first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..choices import OutcomeChoices
from ..models import CircuitMaintenance, DeletedMaintenance, MaintenanceOverride, RawNotification
from ..pipeline.history import MaintenanceKey
from ..pipeline.refold import Refolded, refold

REASON_LENGTH = 500  # RawNotification.exclusion_reason, MaintenanceOverride.reason


def maintenance_keys(raw: RawNotification) -> set[MaintenanceKey]:
    """The maintenances this stored notification speaks of."""
    return set(raw.parsed_notifications.values_list("provider_id", "provider_maintenance_id"))


def exclude(raw: RawNotification, user: Any, reason: str) -> Refolded:
    """Leave the notification out of every fold, as forged or mistaken; its maintenances are recomputed now."""
    with transaction.atomic():
        raw.excluded_by = user
        raw.excluded_at = timezone.now()
        raw.exclusion_reason = reason[:REASON_LENGTH]
        raw.save(update_fields=["excluded_by", "excluded_at", "exclusion_reason"])
        return refold(maintenance_keys(raw))


def include(raw: RawNotification) -> Refolded:
    """Undo an exclusion: the notification counts again."""
    with transaction.atomic():
        raw.excluded_by = None
        raw.excluded_at = None
        raw.exclusion_reason = ""
        raw.save(update_fields=["excluded_by", "excluded_at", "exclusion_reason"])
        return refold(maintenance_keys(raw))


def confirm(raw: RawNotification, user: Any) -> Refolded:
    """A person vouches for a notice that awaited confirmation: it counts from now on."""
    if raw.outcome != OutcomeChoices.AWAITING_CONFIRMATION:
        raise ValueError(f"the notification does not await confirmation (its outcome is {raw.outcome})")
    with transaction.atomic():
        raw.outcome = OutcomeChoices.PARSED
        raw.confirmed_by = user
        raw.confirmed_at = timezone.now()
        raw.save(update_fields=["outcome", "confirmed_by", "confirmed_at"])
        return refold(maintenance_keys(raw))


def override(
    maintenance: CircuitMaintenance,
    user: Any,
    reason: str,
    *,
    status: str = "",
    windows: list[tuple[datetime, datetime]] | None = None,
) -> MaintenanceOverride:
    """Set a person's status and/or windows on the maintenance; they hold until `release`."""
    if not status and not windows:
        raise ValueError("an override needs a status or at least one window")
    ordered = sorted(windows or [])
    entries = [{"start": start.isoformat(), "end": end.isoformat()} for start, end in ordered]
    with transaction.atomic():
        record, _ = MaintenanceOverride.objects.update_or_create(
            maintenance=maintenance,
            defaults={"status": status, "windows": entries, "reason": reason[:REASON_LENGTH], "created_by": user},
        )
        record.full_clean()
        # Written here too: a maintenance a person created has no notices for the fold to recompute it from.
        if status:
            maintenance.status = status
        if ordered:
            maintenance.windows = entries
            maintenance.start_time = ordered[0][0]
            maintenance.end_time = max(end for _, end in ordered)
        maintenance.validated_save()
        refold({(maintenance.provider_id, maintenance.maintenance_id)})
    return record


def release(maintenance: CircuitMaintenance) -> Refolded:
    """Take the override away: the notices decide again, now."""
    with transaction.atomic():
        MaintenanceOverride.objects.filter(maintenance=maintenance).delete()
        return refold({(maintenance.provider_id, maintenance.maintenance_id)})


def remember_deletion(maintenance: CircuitMaintenance, user: Any) -> None:
    """A person deleted the maintenance: the notices stored until now never bring it back."""
    DeletedMaintenance.objects.update_or_create(
        provider_id=maintenance.provider_id,
        maintenance_id=maintenance.maintenance_id,
        defaults={"deleted_by": user, "deleted_at": timezone.now()},
    )
