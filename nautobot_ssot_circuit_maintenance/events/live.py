"""Live-state transitions published as Nautobot events, each once per maintenance.

A maintenance moves through starting soon → in progress → (overrunning) → ended as the clock runs
(`CircuitMaintenance.live_state`). Operators hang webhooks, ChatOps or syslog on these moments through
Nautobot's event brokers (`nautobot.core.events`). Both the sync job (after it writes) and the
scheduled "Publish live-state events" job call `publish_due_transitions`; what was published is kept
in `CircuitMaintenance.live_events` under a row lock, so two callers at once publish it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from nautobot.apps.events import publish_event

from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices, MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, starting_soon_hours

TOPIC_PREFIX = "nautobot_ssot_circuit_maintenance.maintenance"
# A transition noticed later than this after it happened (the job was not running, or the maintenance
# was imported after its end) is recorded without being published: nobody wants "started" a week late.
MAX_AGE = timedelta(hours=24)


@dataclass(frozen=True)
class Published:
    """One live-state event that was published: the maintenance, the state it entered, the topic."""

    maintenance: CircuitMaintenance
    state: str
    topic: str


def topic_for(state: str) -> str:
    """`nautobot_ssot_circuit_maintenance.maintenance.starting_soon`, `.in_progress`, `.overrunning`, `.ended`."""
    return f"{TOPIC_PREFIX}.{state.replace('-', '_')}"


def transition_time(maintenance: CircuitMaintenance, state: str, now: datetime, soon_hours: float) -> datetime:
    """When the maintenance entered `state`, as of `now` (for the staleness check); windows count one by one."""
    starts = sorted(start for start, _ in maintenance.window_times)
    if state == LiveStateChoices.STARTING_SOON:
        return min((s for s in starts if s > now), default=starts[0]) - timedelta(hours=soon_hours)
    if state == LiveStateChoices.IN_PROGRESS:
        return max((s for s in starts if s <= now), default=starts[0])
    return maintenance.end_time


def payload(maintenance: CircuitMaintenance, state: str, now: datetime) -> dict[str, Any]:
    """The event body of a maintenance entering `state`: its times, windows, circuits and page URL."""
    impacts = maintenance.circuit_impacts.select_related("circuit").order_by("circuit__cid")
    return {
        "id": str(maintenance.pk),
        "maintenance_id": maintenance.maintenance_id,
        "name": maintenance.name,
        "provider": maintenance.provider.name,
        "status": maintenance.status,
        "live_state": state,
        "acknowledged": maintenance.ack,
        "start_time": maintenance.start_time.isoformat(),
        "end_time": maintenance.end_time.isoformat(),
        "windows": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in maintenance.window_times],
        "circuits": [{"cid": i.circuit.cid, "impact": i.impact} for i in impacts],
        "url": maintenance.get_absolute_url(),
        "published": now.isoformat(),
    }


def candidates(now: datetime, soon_hours: float):
    """The maintenances that can have a transition due: bounded by time, never the whole history."""
    horizon = now + timedelta(hours=soon_hours)
    return CircuitMaintenance.objects.exclude(status=MaintenanceStatusChoices.CANCELLED).filter(
        Q(start_time__lte=horizon) | Q(status=MaintenanceStatusChoices.IN_PROCESS),
        Q(end_time__gte=now - MAX_AGE) | Q(status=MaintenanceStatusChoices.IN_PROCESS),
    )


def publish_due_transitions(*, now: datetime | None = None, queryset: Any = None) -> list[Published]:
    """Publish each maintenance's current transition if it was never published; return what was published.

    Only the state the maintenance is in now is published (a state skipped between two runs is not sent
    late), and a state entered more than `MAX_AGE` ago is recorded silently.
    """
    now = now or timezone.now()
    soon_hours = starting_soon_hours()
    queryset = queryset if queryset is not None else candidates(now, soon_hours)
    published = []
    for pk in queryset.values_list("pk", flat=True):
        with transaction.atomic():
            maintenance = CircuitMaintenance.objects.select_for_update().select_related("provider").get(pk=pk)
            state = maintenance.live_state(now, soon_hours=soon_hours)
            if state not in LiveStateChoices.TRANSITIONS or state in maintenance.live_events:
                continue
            fresh = now - transition_time(maintenance, state, now, soon_hours) <= MAX_AGE
            if fresh:
                topic = topic_for(state)
                publish_event(topic=topic, payload=payload(maintenance, state, now))
                published.append(Published(maintenance, state, topic))
            record = {**maintenance.live_events, state: now.isoformat() if fresh else "skipped (stale)"}
            CircuitMaintenance.objects.filter(pk=pk).update(live_events=record)
    return published
