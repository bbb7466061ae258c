"""A maintenance's timeline: each notice once, in fold order, with what it changed or why it changed nothing.

The fold is pure, so the timeline replays it: what a notice changed is the difference between the fold
of the notices that had arrived before it and the fold with it added. When notices arrive in order,
that is the fold replayed one notice at a time; a notice that arrived late (out of sequence) is shown
at its place in the provider's order with what it really changed on arrival — usually nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nautobot_ssot.models import Sync, SyncLogEntry

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.display import DATE_TIME, format_windows
from nautobot_ssot_circuit_maintenance.intake.fold import MaintenanceState, Notice, believed, fold
from nautobot_ssot_circuit_maintenance.intake.history import stored_notices
from nautobot_ssot_circuit_maintenance.models import DeletedMaintenance, ParsedNotification, RawNotification
from nautobot_ssot_circuit_maintenance.sync.jobs import CircuitMaintenanceDataSource

# The data source name of the sync job, as its Sync rows hold it.
DATA_SOURCE = CircuitMaintenanceDataSource.Meta.data_source


def _order(notice: Notice) -> tuple:
    try:
        return (0, notice.order)
    except (TypeError, ValueError):
        return (1, (notice.date, notice.message_key))


def _readable(notice: Notice) -> bool:
    try:
        fold([notice])
    except (KeyError, TypeError, ValueError, OverflowError):
        return False
    return True


def replay(
    notices: list[Notice], arrival: dict[str, Any] | None = None
) -> list[tuple[Notice, MaintenanceState | None, MaintenanceState | None]]:
    """(notice, state before it, state after it) for each notice, in fold order. Pure.

    The state before a notice is the fold of the notices that had arrived before it: `arrival` maps a
    message key to when it was stored (notices stored together count as arriving in fold order). Without
    `arrival`, notices arrive in fold order and this is the fold replayed, one notice at a time. A
    notice whose stored data the fold cannot read (written by hand, or by an older version) gets None
    as its state after and is left out of the others' states.
    """
    try:
        notices = believed(notices)
    except (KeyError, TypeError, ValueError, OverflowError):
        pass  # a notice the fold cannot read: ranked by what each claims, as `_order` does
    ordered = sorted(notices, key=_order)
    readable = [_readable(notice) for notice in ordered]

    def arrived(index: int) -> tuple:
        return (arrival[ordered[index].message_key], index) if arrival else (index,)

    steps = []
    for index, notice in enumerate(ordered):
        earlier = [
            other for position, other in enumerate(ordered) if readable[position] and arrived(position) < arrived(index)
        ]
        before = fold(earlier) if earlier else None
        after = fold([*earlier, notice]) if readable[index] else None
        steps.append((notice, before, after))
    return steps


def changes(before: MaintenanceState | None, after: MaintenanceState) -> list[str]:
    """What moved from `before` to `after`, one phrase per aspect (status, windows, circuits, impact, summary)."""
    circuits_after = {key: f"{cid} ({impact})" for key, (cid, impact) in sorted(after.circuits.items())}
    if before is None:
        return [
            f"status {after.status}",
            f"window {format_windows(after.windows)}",
            "circuits " + (", ".join(circuits_after.values()) or "none"),
        ]
    found = []
    if before.status != after.status:
        found.append(f"status {before.status} → {after.status}")
    if before.windows != after.windows:
        found.append(f"window moved {format_windows(before.windows)} → {format_windows(after.windows)}")
    old, new = before.circuits, after.circuits
    moved = [f"+{new[key][0]} ({new[key][1]})" for key in sorted(new.keys() - old.keys())]
    moved += [f"−{old[key][0]}" for key in sorted(old.keys() - new.keys())]
    moved += [
        f"{new[key][0]} impact {old[key][1]} → {new[key][1]}"
        for key in sorted(old.keys() & new.keys())
        if old[key][1] != new[key][1]
    ]
    if moved:
        found.append("circuits " + ", ".join(moved))
    if before.description != after.description:
        found.append("description updated")
    return found


@dataclass
class TimelineRow:
    """One notice of a maintenance, as the timeline shows it."""

    notice: Notice
    raw: Any  # RawNotification
    status: str
    changes: list[str] = field(default_factory=list)
    # Why it changed nothing ("" when it changed something).
    reason: str = ""
    # The SyncLogEntry the run that stored it wrote for this maintenance, if any.
    log_entry: Any = None


def why_nothing(raw: Any) -> str:
    """Why a notice changed nothing when it arrived."""
    if raw is not None and raw.outcome == OutcomeChoices.OUT_OF_SEQUENCE:
        return "out of sequence: it arrived after a newer notice, which it does not override"
    return "no change: it repeats what the maintenance already said"


def why_not_counted(raw: Any, deleted: Any) -> str:
    """Why a stored notice of the maintenance does not count: a person's decision, with who, when and why."""
    if raw.excluded_at is not None:
        return (
            f"excluded by {raw.excluded_by or 'someone'} on {raw.excluded_at:{DATE_TIME}} UTC: "
            f"{raw.exclusion_reason}; it counts for nothing"
        )
    if raw.outcome == OutcomeChoices.AWAITING_CONFIRMATION:
        return f"awaits a person's confirmation: {raw.error}"
    if deleted is not None:
        return (
            f"stored before {deleted.deleted_by or 'someone'} deleted the maintenance on "
            f"{deleted.deleted_at:{DATE_TIME}} UTC; it counts for nothing"
        )
    return ""


def uncounted_rows(maintenance: Any, counted: set[str]) -> list[TimelineRow]:
    """The maintenance's stored notices that do not count, each with why (after the ones that do)."""
    deleted = DeletedMaintenance.objects.filter(
        provider_id=maintenance.provider_id, maintenance_id=maintenance.maintenance_id
    ).first()
    parsed = (
        ParsedNotification.objects.filter(
            provider_id=maintenance.provider_id, provider_maintenance_id=maintenance.maintenance_id
        )
        .exclude(raw_notification__message_key__in=counted)
        .select_related("raw_notification", "raw_notification__excluded_by")
        .order_by("raw_notification__date")
    )
    rows: dict[str, TimelineRow] = {}
    for item in parsed:
        raw = item.raw_notification
        if raw.message_key in rows:
            rows[raw.message_key].notice = replace_maintenances(rows[raw.message_key].notice, item.json)
            continue
        notice = Notice(raw.message_key, raw.date, (item.json,))
        rows[raw.message_key] = TimelineRow(
            notice=notice, raw=raw, status=str(item.json.get("status") or ""), reason=why_not_counted(raw, deleted)
        )
    return list(rows.values())


def replace_maintenances(notice: Notice, data: dict) -> Notice:
    """The notice with one more of its maintenances' windows."""
    return Notice(notice.message_key, notice.date, (*notice.maintenances, data))


def timeline_rows(maintenance: Any) -> list[TimelineRow]:
    """The maintenance's notices, each once, in fold order.

    Each with what it changed when it arrived and the log entry of the run that stored it.
    """
    key = (maintenance.provider_id, maintenance.maintenance_id)
    notices = stored_notices({key}).get(key, [])
    raws = {
        raw.message_key: raw
        for raw in RawNotification.objects.filter(message_key__in=[notice.message_key for notice in notices])
    }
    runs = {message_key: run_of(raw) for message_key, raw in raws.items()}
    # Notices stored by one run arrived together: the run's start orders them, then the fold.
    arrival = {
        notice.message_key: (
            runs[notice.message_key].start_time if runs.get(notice.message_key) else raws[notice.message_key].created
        )
        if notice.message_key in raws
        else notice.date
        for notice in notices
    }
    rows = []
    for notice, before, after in replay(notices, arrival):
        raw = raws.get(notice.message_key)
        statuses = sorted({str(m.get("status") or "") for m in notice.maintenances})
        row = TimelineRow(notice=notice, raw=raw, status=", ".join(statuses))
        if after is None:
            row.reason = "not replayed: its stored data lack what the fold reads (times)"
        else:
            row.changes = changes(before, after)
            if not row.changes:
                row.reason = why_nothing(raw)
        sync = runs.get(notice.message_key)
        if sync is not None:
            row.log_entry = (
                SyncLogEntry.objects.filter(sync=sync, synced_object_id=maintenance.pk).order_by("timestamp").first()
            )
        rows.append(row)
    return rows + uncounted_rows(maintenance, {notice.message_key for notice in notices})


def run_of(raw: Any) -> Any:
    """The real sync run that stored `raw` (None for notifications stored otherwise).

    A run stores its notifications in the transaction that writes its log, and real runs take turns
    (sync/locking.py), so it is the latest real sync started before the notification was stored.
    """
    return (
        Sync.objects.filter(dry_run=False, start_time__lte=raw.created, source=DATA_SOURCE)
        .order_by("-start_time")
        .first()
    )
