"""Live-state transitions: recorded on the maintenance by a change-logged save, and published as Nautobot events.

A maintenance moves through starting soon → in progress → (overrunning) → ended as the clock runs, or is
cancelled (`CircuitMaintenance.current_live_state`). No record changes when the clock moves, so at each
transition `record_due_transitions` writes the new state to the maintenance's `live_state` field with a
change-logged save: Nautobot records an ObjectChange (in the job's or request's change context, with its user),
and so its Webhooks, Job Hooks and change events on CircuitMaintenance "update" fire. The transition is also
published to Nautobot's event brokers under a topic of its own (`topic_for`).

Both the sync job (after it writes) and the scheduled "Record live-state transitions" job call it, as do the
decisions that recompute a maintenance; each maintenance is read under a row lock and compared with what was
recorded, so two callers at once record and publish each transition once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Func, JSONField, Value
from django.utils import timezone
from nautobot.apps.events import publish_event

from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices
from nautobot_ssot_circuit_maintenance.compat.changelog import change_logged
from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, starting_soon_hours
from nautobot_ssot_circuit_maintenance.models.reach import REACH_PREFETCH, maintenance_reach

TOPIC_PREFIX = "nautobot_ssot_circuit_maintenance.maintenance"
# A transition noticed later than this after it happened (the job was not running, or the maintenance
# was imported after its end) is recorded without being published: nobody wants "started" a week late.
MAX_AGE = timedelta(hours=24)
# What `live_events` says of a transition recorded too late to announce.
STALE = "skipped (stale)"
# The change context's detail when no job or request is changing things (a shell, a test).
CHANGE_CONTEXT_DETAIL = f"{APP_NAME}: live state"


@dataclass(frozen=True)
class Transition:
    """One recorded change of a maintenance's live state; `topic` is where it was published, None if it was not."""

    maintenance: CircuitMaintenance
    previous: str | None  # None when nothing was recorded before
    state: str
    topic: str | None
    # Recorded by a change-logged save; False: noticed long after it happened, written quietly.
    logged: bool = True

    @property
    def published(self) -> bool:
        """Whether the transition was published to the event brokers."""
        return self.topic is not None


def topic_for(state: str) -> str:
    """The event topic of entering `state`, e.g. `nautobot_ssot_circuit_maintenance.maintenance.in_progress`."""
    return f"{TOPIC_PREFIX}.{state.replace('-', '_')}"


def transition_time(maintenance: CircuitMaintenance, state: str, now: datetime, soon_hours: float) -> datetime:
    """When the maintenance entered `state`, as of `now` (for the staleness check); windows count one by one.

    A cancellation is news when it is noticed, unless the maintenance was over by then.
    """
    starts = sorted(start for start, _ in maintenance.window_times)
    if state == LiveStateChoices.STARTING_SOON:
        return min((s for s in starts if s > now), default=starts[0]) - timedelta(hours=soon_hours)
    if state == LiveStateChoices.IN_PROGRESS:
        return max((s for s in starts if s <= now), default=starts[0])
    if state == LiveStateChoices.CANCELLED:
        return min(now, maintenance.end_time)
    return maintenance.end_time


def payload(maintenance: CircuitMaintenance, previous: str | None, now: datetime) -> dict[str, Any]:
    """The event body of a maintenance entering its recorded `live_state`.

    Its times and windows, the state it left (`previous_live_state`, null when none was recorded), what it
    affects (circuits with their impact and tenant, locations, interfaces, devices, tenants: `Reach.as_data`)
    and its page URL.
    """
    return {
        "id": str(maintenance.pk),
        "maintenance_id": maintenance.maintenance_id,
        "name": maintenance.name,
        "provider": maintenance.provider.name,
        "status": maintenance.status,
        "live_state": maintenance.live_state,
        "previous_live_state": previous,
        "acknowledged": maintenance.ack,
        "start_time": maintenance.start_time.isoformat(),
        "end_time": maintenance.end_time.isoformat(),
        "windows": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in maintenance.window_times],
        **maintenance_reach(maintenance).as_data(),
        "url": maintenance.get_absolute_url(),
        "published": now.isoformat(),
    }


def record_due_transitions(*, now: datetime | None = None, queryset: Any = None) -> list[Transition]:
    """Record each maintenance's live state where it moved since it was last recorded; return the transitions.

    Each is a change-logged save of the maintenance's `live_state` (one ObjectChange, so Nautobot's Webhooks, Job
    Hooks and change events fire once), in the active change context (a job's, a request's) or else in one of
    our own (`change_logged`). A transition into one of `LiveStateChoices.TRANSITIONS` is also published to the
    event brokers, in the same transaction: a broker that fails undoes the record, and the next run does both.

    Only the state the maintenance is in at `now` is recorded (a state skipped between two runs is not sent late).
    A transition noticed more than `MAX_AGE` after it happened is still recorded, for the record must say where
    the maintenance stands, but quietly: in one statement per state, with no ObjectChange and nothing published
    (`live_events` says "skipped (stale)"). No hook should act on a moment long past, and a backlog's first sync
    finds hundreds of maintenances that ended years ago.

    Each maintenance is read under a row lock and compared with what is recorded, so two callers at once record
    and publish each transition once. `queryset` narrows the maintenances looked at (default: all); only those
    whose recorded state may be out of date are read (`live_state_unrecorded`).
    """
    now = now or timezone.now()
    soon_hours = starting_soon_hours()
    queryset = queryset if queryset is not None else CircuitMaintenance.objects.all()
    candidates = (
        queryset.live_state_unrecorded(now=now, soon_hours=soon_hours)
        .only("pk", "status", "start_time", "end_time", "windows", "live_state")
        .prefetch_related("superseded_by")  # a superseded maintenance is cancelled: one query for all
    )
    fresh: list[Any] = []
    stale: dict[str, list[CircuitMaintenance]] = {}
    for maintenance in candidates:
        state = maintenance.current_live_state(now, soon_hours=soon_hours)
        if state == maintenance.live_state:
            continue
        if (
            state in LiveStateChoices.TRANSITIONS
            and now - transition_time(maintenance, state, now, soon_hours) > MAX_AGE
        ):
            stale.setdefault(state, []).append(maintenance)
        else:
            fresh.append(maintenance.pk)
    transitions = []
    for state, maintenances in stale.items():
        written = _record_quietly(state, [maintenance.pk for maintenance in maintenances])
        transitions += [Transition(m, m.live_state, state, None, logged=False) for m in maintenances if m.pk in written]
    with change_logged(CHANGE_CONTEXT_DETAIL):
        for pk in fresh:
            transition = _record(pk, now, soon_hours)
            if transition is not None:
                transitions.append(transition)
    return transitions


def _record_quietly(state: str, pks: list[Any]) -> set[Any]:
    """Write `state` on those of these maintenances that do not hold it yet, with no change record; return them.

    Under row locks: of two callers at once, the second finds nothing left to write.
    """
    merged = Func(
        F("live_events"),
        Value({state: STALE}, output_field=JSONField()),
        arg_joiner=" || ",
        template="(%(expressions)s)",
    )
    with transaction.atomic():
        due = set(
            CircuitMaintenance.objects.select_for_update()
            .filter(pk__in=pks)
            .exclude(live_state=state)
            .values_list("pk", flat=True)
        )
        CircuitMaintenance.objects.filter(pk__in=due).update(live_state=state, live_events=merged)
    return due


def _record(pk: Any, now: datetime, soon_hours: float) -> Transition | None:
    """Record one maintenance's transition, if it has one due, under its row lock."""
    with transaction.atomic():
        maintenance = (
            CircuitMaintenance.objects.select_for_update(of=("self",))
            .select_related("provider")
            .prefetch_related(*REACH_PREFETCH)
            .filter(pk=pk)
            .first()
        )
        if maintenance is None:  # deleted meanwhile
            return None
        state = maintenance.current_live_state(now, soon_hours=soon_hours)
        previous = maintenance.live_state
        if state == previous:  # recorded already (by another caller, or nothing moved)
            return None
        maintenance.live_state = state
        maintenance.save(update_fields=["live_state", "last_updated"])
        topic = None
        if state in LiveStateChoices.TRANSITIONS:
            fresh = now - transition_time(maintenance, state, now, soon_hours) <= MAX_AGE
            if fresh:
                topic = topic_for(state)
                publish_event(topic=topic, payload=payload(maintenance, previous, now))
            record = {**maintenance.live_events, state: now.isoformat() if fresh else STALE}
            CircuitMaintenance.objects.filter(pk=pk).update(live_events=record)
        return Transition(maintenance, previous, state, topic)
