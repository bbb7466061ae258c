"""What each decision does to the records; callers check permissions and input first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from nautobot.circuits.models import Circuit

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.decisions.refold import Refolded
from nautobot_ssot_circuit_maintenance.decisions.refold import refold as refold_records
from nautobot_ssot_circuit_maintenance.events.live import record_due_transitions
from nautobot_ssot_circuit_maintenance.flags.store import refresh_flags
from nautobot_ssot_circuit_maintenance.intake.history import MaintenanceKey
from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    DeletedMaintenance,
    MaintenanceOverride,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.validation import is_uuid

REASON_LENGTH = 500  # RawNotification.exclusion_reason, MaintenanceOverride.reason


def refold(keys: set[MaintenanceKey]) -> Refolded:
    """Recompute the maintenances now, then what follows them as after a sync.

    That is their isolation and redundancy flags, and the live-state transitions of those that moved into a new state.
    """
    refolded = refold_records(keys)
    if refolded.changed_pks or refolded.deleted:
        changed = CircuitMaintenance.objects.filter(pk__in=refolded.changed_pks)
        transaction.on_commit(lambda: refresh_flags(changed))
        transaction.on_commit(lambda: record_due_transitions(queryset=changed))
    return refolded


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


def override_circuits(maintenance: CircuitMaintenance, circuits: list[tuple[Any, str]]) -> dict[str, str]:
    """{circuit pk: impact} for (circuit, impact) pairs.

    Each circuit is a Circuit, its pk or its ID, of the maintenance's provider; ValueError names the first that
    is not.
    """
    provider_circuits = Circuit.objects.filter(provider_id=maintenance.provider_id)
    chosen: dict[str, str] = {}
    for circuit, impact in circuits:
        if isinstance(circuit, Circuit):
            match = provider_circuits.filter(pk=circuit.pk).first()
        else:
            text = str(circuit)
            match = (provider_circuits.filter(pk=text).first() if is_uuid(text) else None) or provider_circuits.filter(
                cid=text
            ).first()
        if match is None:
            raise ValueError(f"{str(circuit)[:80]} is not a circuit of provider {maintenance.provider}")
        chosen[str(match.pk)] = impact
    return chosen


def override(
    maintenance: CircuitMaintenance,
    user: Any,
    reason: str,
    *,
    status: str = "",
    windows: list[tuple[datetime, datetime]] | None = None,
    circuits: list[tuple[Any, str]] | None = None,
) -> MaintenanceOverride:
    """Set a person's status, windows and/or circuits on the maintenance; they hold until `release`."""
    if not status and not windows and circuits is None:
        raise ValueError("an override needs a status, at least one window, or the circuits")
    ordered = sorted(windows or [])
    entries = [{"start": start.isoformat(), "end": end.isoformat()} for start, end in ordered]
    chosen = None if circuits is None else override_circuits(maintenance, circuits)
    with transaction.atomic():
        record, _ = MaintenanceOverride.objects.update_or_create(
            maintenance=maintenance,
            defaults={
                "status": status,
                "windows": entries,
                "circuits": chosen,
                "reason": reason[:REASON_LENGTH],
                "created_by": user,
            },
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
        if chosen is not None:
            CircuitImpact.objects.filter(maintenance=maintenance).exclude(circuit_id__in=list(chosen)).delete()
            for pk, impact in chosen.items():
                CircuitImpact.objects.update_or_create(
                    maintenance=maintenance, circuit_id=pk, defaults={"impact": impact}
                )
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


# What the notices decide that a person may also edit on the maintenance itself (its form, REST PATCH/PUT).
HELD_FIELDS = ("status", "start_time", "end_time")


def held_values(maintenance: CircuitMaintenance) -> dict[str, Any]:
    """The maintenance's values of HELD_FIELDS (taken before an edit, to see what the edit changed)."""
    return {name: getattr(maintenance, name) for name in HELD_FIELDS}


def hold_person_edits(maintenance: CircuitMaintenance, before: dict[str, Any], user: Any) -> MaintenanceOverride | None:
    """A person's edit of the status or times holds over later notices, as an override (None: nothing to hold).

    The edited times become the maintenance's one window. Other parts of an existing override stay.
    """
    changed = [name for name in HELD_FIELDS if before.get(name) != getattr(maintenance, name)]
    if not changed or before.get("status") is None:
        return None
    with transaction.atomic():
        record = MaintenanceOverride.objects.filter(maintenance=maintenance).first() or MaintenanceOverride(
            maintenance=maintenance
        )
        if "status" in changed:
            record.status = maintenance.status
        if "start_time" in changed or "end_time" in changed:
            window = {"start": maintenance.start_time.isoformat(), "end": maintenance.end_time.isoformat()}
            record.windows = [window]
            CircuitMaintenance.objects.filter(pk=maintenance.pk).update(windows=[window])
            maintenance.windows = [window]
        record.reason = f"edited by {user or 'someone'}: {', '.join(changed)}"[:REASON_LENGTH]
        record.created_by = user
        record.full_clean()
        record.save()
    return record
