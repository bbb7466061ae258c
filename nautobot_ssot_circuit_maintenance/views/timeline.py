"""A maintenance's timeline: each notice once, in fold order, with what it changed or why it changed nothing.

The fold is pure, so the timeline replays it: what a notice changed is the difference between the fold
of the notices that had arrived before it and the fold with it added. When notices arrive in order,
that is the fold replayed one notice at a time; a notice that arrived late (out of sequence) is shown
at its place in the provider's order with what it really changed on arrival — usually nothing.

Each action an action rule fired for the maintenance is a row too, at its last attempt, with its result.

A circuit ID the notices named before Nautobot knew it is linked later, when a person maps it to a
circuit (an alias, in the triage queue) or creates the circuit: that is a row of its own, at its time,
saying who linked which ID to which circuit and the circuit impact the next sync added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from nautobot.circuits.models import Circuit
from nautobot.extras.choices import ObjectChangeActionChoices
from nautobot.extras.models import ObjectChange
from nautobot_ssot.models import Sync, SyncLogEntry

from nautobot_ssot_circuit_maintenance.actions.preview import action_runs
from nautobot_ssot_circuit_maintenance.choices import ActionRunStatusChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.display import format_local, format_local_windows
from nautobot_ssot_circuit_maintenance.intake.fold import MaintenanceState, Notice, believed, fold
from nautobot_ssot_circuit_maintenance.intake.history import stored_notices
from nautobot_ssot_circuit_maintenance.intake.resolve import MATCHED_BY_XCONNECT, match_circuits
from nautobot_ssot_circuit_maintenance.models import (
    CircuitAlias,
    CircuitImpact,
    DeletedMaintenance,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.sync.diffsync.log_messages import describe_impact
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
            f"window {format_local_windows(after.windows)}",
            "circuits " + (", ".join(circuits_after.values()) or "none"),
        ]
    found = []
    if before.status != after.status:
        found.append(f"status {before.status} → {after.status}")
    if before.windows != after.windows:
        found.append(f"window moved {format_local_windows(before.windows)} → {format_local_windows(after.windows)}")
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
    """One notice of a maintenance, or one circuit ID linked after the notices named it, as the timeline shows it."""

    notice: Notice | None
    raw: Any  # RawNotification
    status: str
    changes: list[str] = field(default_factory=list)
    # Why it changed nothing ("" when it changed something).
    reason: str = ""
    # The SyncLogEntry the run that stored it wrote for this maintenance (or, for a linked circuit ID, for its impact).
    log_entry: Any = None
    # A row that is no notice: when it happened and what (e.g. "X mapped to circuit Y by alice").
    when: datetime | None = None
    event: str = ""
    icon: str = "mdi-link-variant"

    @property
    def date(self) -> datetime | None:
        """When: the notice's date, else the time of the event."""
        return self.notice.date if self.notice is not None else self.when


def why_nothing(raw: Any) -> str:
    """Why a notice changed nothing when it arrived."""
    if raw is not None and raw.outcome == OutcomeChoices.OUT_OF_SEQUENCE:
        return "out of sequence: it arrived after a newer notice, which it does not override"
    return "no change: it repeats what the maintenance already said"


def why_not_counted(raw: Any, deleted: Any) -> str:
    """Why a stored notice of the maintenance does not count: a person's decision, with who, when and why."""
    if raw.excluded_at is not None:
        return (
            f"excluded by {raw.excluded_by or 'someone'} on {format_local(raw.excluded_at)}: "
            f"{raw.exclusion_reason}; it counts for nothing"
        )
    if raw.outcome == OutcomeChoices.AWAITING_CONFIRMATION:
        return f"awaits a person's confirmation: {raw.error}"
    if deleted is not None:
        return (
            f"stored before {deleted.deleted_by or 'someone'} deleted the maintenance on "
            f"{format_local(deleted.deleted_at)}; it counts for nothing"
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
    keys = [notice.message_key for notice in notices]
    raws = {raw.message_key: raw for raw in RawNotification.objects.select_related("sync").filter(message_key__in=keys)}
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
    log_entries = first_log_entries(maintenance, {run for run in runs.values() if run is not None})
    rows = []
    steps = replay(notices, arrival)
    for notice, before, after in steps:
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
            row.log_entry = log_entries.get(sync.pk)
        rows.append(row)
    rows = placed(rows, arrival, linked_rows(maintenance, steps, arrival) + action_rows(maintenance))
    return rows + uncounted_rows(maintenance, {notice.message_key for notice in notices})


def first_log_entries(maintenance: Any, syncs: set[Any]) -> dict[Any, SyncLogEntry]:
    """Each run's first log entry about the maintenance (sync pk → entry), in one query however many notices."""
    entries: dict[Any, SyncLogEntry] = {}
    for entry in SyncLogEntry.objects.filter(sync__in=syncs, synced_object_id=maintenance.pk).order_by("timestamp"):
        entries.setdefault(entry.sync_id, entry)
    return entries


def linked_rows(
    maintenance: Any, steps: list[tuple[Notice, Any, MaintenanceState | None]], arrival: dict[str, Any]
) -> list[TimelineRow]:
    """A row for each circuit ID the notices named before Nautobot knew it, linked since by an alias or a new circuit.

    Matched as the sync matches (`resolve.match_circuits`): the row says who mapped the ID to which circuit
    (or who created the circuit), when, and the circuit impact the next sync added.
    """
    first_named: dict[str, tuple[Any, str]] = {}  # normalised ID → (first arrival, the ID as the notice wrote it)
    for notice, _, after in steps:
        for ncid, (written, _) in (after.circuits if after is not None else {}).items():
            when = arrival.get(notice.message_key, notice.date)
            if ncid not in first_named or when < first_named[ncid][0]:
                first_named[ncid] = (when, written)
    matches = match_circuits({maintenance.provider_id}, set(first_named)).found
    if not matches:
        return []
    still_named = steps[-1][2].circuits if steps and steps[-1][2] is not None else {}
    aliases = {
        alias.normalized: alias
        for alias in CircuitAlias.objects.filter(
            provider_id=maintenance.provider_id, normalized__in=[ncid for _, ncid in matches]
        ).select_related("created_by")
    }
    circuits = Circuit.objects.prefetch_related("circuit_terminations").in_bulk(
        [match.circuit_pk for match in matches.values()]
    )
    impacts = {impact.circuit_id: impact for impact in CircuitImpact.objects.filter(maintenance=maintenance)}
    rows = []
    for (_, ncid), (circuit_pk, cid, via) in sorted(matches.items(), key=lambda item: item[1].cid):
        named_at, written = first_named[ncid]
        alias = aliases.get(ncid)
        if alias is not None and alias.circuit_id == circuit_pk:
            when, event = alias.created, f"{alias.alias} mapped to circuit {cid} by {alias.created_by or 'someone'}"
        elif via == MATCHED_BY_XCONNECT:
            # When a termination of the circuit last changed: the cross-connect id was set then at the latest.
            when = max(
                (t.last_updated for t in circuits[circuit_pk].circuit_terminations.all() if t.last_updated),
                default=circuits[circuit_pk].created,
            )
            event = f"{written} found as the {MATCHED_BY_XCONNECT} of circuit {cid}"
        else:
            when = circuits[circuit_pk].created
            event = f"circuit {cid} created in Nautobot by {circuit_creator(circuit_pk)} (named {written})"
        if when <= named_at:
            continue  # known before the notice named it: matched at once, nothing to tell apart
        row = TimelineRow(notice=None, raw=None, status="", when=when, event=event)
        impact = impacts.get(circuit_pk)
        if impact is not None:
            row.changes = [describe_impact(cid, None, impact.impact)]
            row.log_entry = (
                SyncLogEntry.objects.filter(synced_object_id=impact.pk, timestamp__gte=when)
                .order_by("timestamp")
                .first()
            )
        elif ncid in still_named:
            row.reason = "the next sync links it"
        else:
            row.reason = "no impact: a later notice no longer names it"
        rows.append(row)
    return rows


def action_rows(maintenance: Any) -> list[TimelineRow]:
    """Each action a rule fired for the maintenance, at its last attempt, with its status and what came of it."""
    rows = []
    for run in action_runs(maintenance):
        succeeded = run.status == ActionRunStatusChoices.SUCCEEDED
        rows.append(
            TimelineRow(
                notice=None,
                raw=None,
                status=run.get_status_display(),
                changes=[run.result] if succeeded and run.result else [],
                reason="" if succeeded else run.result,
                when=run.last_attempt,
                event=f"{run.rule.name} ({run.occasion.split(' at ')[0]}, attempt {run.attempts})",
                icon="mdi-bell-ring-outline",
            )
        )
    return rows


def circuit_creator(circuit_pk: Any) -> str:
    """Who created the circuit, as its change log says ("someone" when it does not)."""
    change = ObjectChange.objects.filter(
        changed_object_type=ContentType.objects.get_for_model(Circuit),
        changed_object_id=circuit_pk,
        action=ObjectChangeActionChoices.ACTION_CREATE,
    ).first()
    return (change.user_name if change is not None else "") or "someone"


def placed(rows: list[TimelineRow], arrival: dict[str, Any], events: list[TimelineRow]) -> list[TimelineRow]:
    """The notice rows (in fold order) with each event row after the last notice that had arrived before it."""
    placed_rows = list(rows)
    times = [arrival.get(row.notice.message_key, row.notice.date) for row in rows]
    for event in sorted(events, key=lambda row: row.when):
        at = max((index + 1 for index, when in enumerate(times) if when <= event.when), default=0)
        placed_rows.insert(at, event)
        times.insert(at, event.when)
    return placed_rows


def run_of(raw: Any) -> Any:
    """The real sync run that stored `raw` (None for notifications stored otherwise).

    Recorded on the notification (`sync`). Mail stored before that was recorded, when real runs still took turns,
    was stored by the latest real sync started before it.
    """
    if raw.sync_id is not None:
        return raw.sync
    return (
        Sync.objects.filter(dry_run=False, start_time__lte=raw.created, source=DATA_SOURCE)
        .order_by("-start_time")
        .first()
    )
