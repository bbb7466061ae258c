"""A maintenance's timeline: each notice once, in fold order, with what it changed or why it changed nothing.

The fold is pure, so the timeline replays it: the state after each notice is the fold of the notices
up to it, and what a notice changed is the difference between that state and the one before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .choices import OutcomeChoices
from .fold import MaintenanceState, Notice, fold

WINDOW_FORMAT = "%Y-%m-%d %H:%M"


def format_window(start: datetime, end: datetime) -> str:
    if start.date() == end.date():
        return f"{start:{WINDOW_FORMAT}}–{end:%H:%M}"
    return f"{start:{WINDOW_FORMAT}}–{end:{WINDOW_FORMAT}}"


def format_windows(windows: list[tuple[datetime, datetime]]) -> str:
    return ", ".join(format_window(start, end) for start, end in windows) or "none"


def _order(notice: Notice) -> tuple:
    try:
        return (0, notice.order)
    except (TypeError, ValueError):
        return (1, (notice.received, notice.message_key))


def replay(notices: list[Notice]) -> list[tuple[Notice, MaintenanceState | None, MaintenanceState | None]]:
    """(notice, state before it, state after it) for each notice, in fold order. Pure.

    A notice whose stored data the fold cannot read (written by hand, or by an older version) gets
    None as its state after, and the replay goes on without it.
    """
    steps = []
    kept: list[Notice] = []
    before: MaintenanceState | None = None
    for notice in sorted(notices, key=_order):
        try:
            after = fold([*kept, notice])
        except (KeyError, TypeError, ValueError, OverflowError):
            steps.append((notice, before, None))
            continue
        kept.append(notice)
        steps.append((notice, before, after))
        before = after
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


def why_nothing(raw: Any, first: bool, changed: bool) -> str:
    """Why a notice changed nothing, or (out of sequence) why what it says in the provider's order did not apply."""
    if raw is not None and raw.outcome == OutcomeChoices.OUT_OF_SEQUENCE:
        if changed:
            return (
                "out of sequence: it arrived after a newer notice and overrode nothing that notice says "
                "(the changes above are its place in the provider's order)"
            )
        return "out of sequence: it arrived after a newer notice"
    return "" if first else "no change: it repeats what the maintenance already said"


def timeline_rows(maintenance: Any) -> list[TimelineRow]:
    """The maintenance's notices, each once, in fold order, with their changes and their run's log entry."""
    from .models import RawNotification
    from .pipeline.history import stored_notices

    key = (maintenance.provider_id, maintenance.maintenance_id)
    notices = stored_notices({key}).get(key, [])
    raws = {
        raw.message_key: raw
        for raw in RawNotification.objects.filter(message_key__in=[notice.message_key for notice in notices])
    }
    rows = []
    for notice, before, after in replay(notices):
        raw = raws.get(notice.message_key)
        statuses = sorted({str(m.get("status") or "") for m in notice.maintenances})
        row = TimelineRow(notice=notice, raw=raw, status=", ".join(statuses))
        if after is None:
            row.reason = "not replayed: its stored data lack what the fold reads (times)"
        else:
            row.changes = changes(before, after)
            if not row.changes or (raw is not None and raw.outcome == OutcomeChoices.OUT_OF_SEQUENCE):
                row.reason = why_nothing(raw, before is None, bool(row.changes))
        row.log_entry = run_log_entry(raw, maintenance) if raw is not None else None
        rows.append(row)
    return rows


def run_log_entry(raw: Any, maintenance: Any) -> Any:
    """The SyncLogEntry that the real run which stored `raw` wrote for `maintenance` (None if it wrote none).

    A run stores its notifications in the transaction that writes its log, so the run is the latest real
    sync started before the notification was stored.
    """
    from nautobot_ssot.models import Sync, SyncLogEntry

    sync = (
        Sync.objects.filter(dry_run=False, start_time__lte=raw.created, source="Notification mailboxes")
        .order_by("-start_time")
        .first()
    )
    if sync is None:
        return None
    return SyncLogEntry.objects.filter(sync=sync, synced_object_id=maintenance.pk).order_by("timestamp").first()
