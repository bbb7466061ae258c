"""Which action rules apply to a maintenance, and the occasions at which each fires. Pure: no database, no clock.

An **occasion** is one moment a rule fires for a maintenance, named by a key that is unique for the pair (the
`ActionRun` of that key is the proof it fired):

- a live-state transition: `<state> at <when it was recorded>`, read from the maintenance's `live_events`. A
  maintenance that enters a state again (rescheduled after it started) has a new key, and fires again;
- `before-start at <due>` and `after-end at <due>`: the start minus, or the end plus, the rule's offset. A reschedule
  before the moment came changes the key: the old moment never fires, the new one does.

An occasion is due once its moment has come, and no longer than `MAX_AGE` after it: nobody wants "started" or a
preparation job a day late (the same limit as the live-state events). A transition recorded before the rule
existed is not due. Nothing fires for a moment around a cancelled maintenance, nor before the start of one that
is over.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nautobot_ssot_circuit_maintenance.choices import (
    ActionOccasionChoices,
    LiveStateChoices,
    MaintenanceStatusChoices,
)
from nautobot_ssot_circuit_maintenance.events.live import MAX_AGE, STALE
from nautobot_ssot_circuit_maintenance.models.querysets import FINISHED_STATUSES
from nautobot_ssot_circuit_maintenance.models.reach import Reach

STATE_NAMES = LiveStateChoices.as_dict()


@dataclass(frozen=True)
class RuleFacts:
    """What matching reads of a rule: its occasion and filters, as plain values (pks as strings)."""

    pk: Any
    occasion: str
    transitions: tuple[str, ...] = ()
    offset: timedelta = timedelta(0)
    providers: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()
    tenants: frozenset[str] = frozenset()
    impacts: frozenset[str] = frozenset()
    acknowledged: bool | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class Occasion:
    """One moment a rule fires for a maintenance: its unique `key`, when it is `due`, and what it is, as read."""

    key: str
    due: datetime
    label: str
    state: str | None = None  # the live state entered, for a transition


def rule_facts(rule: Any) -> RuleFacts:
    """The facts of an `ActionRule` (read its providers, locations and tenants through a prefetch)."""
    return RuleFacts(
        pk=rule.pk,
        occasion=rule.occasion,
        transitions=tuple(rule.transitions or ()),
        offset=timedelta(minutes=rule.offset_minutes or 0),
        providers=frozenset(str(p.pk) for p in rule.providers.all()),
        locations=frozenset(str(loc.pk) for loc in rule.locations.all()),
        tenants=frozenset(str(t.pk) for t in rule.tenants.all()),
        impacts=frozenset(rule.impacts or ()),
        acknowledged=rule.acknowledged,
        created=rule.created,
    )


def _with_ancestors(locations: Iterable[Any]) -> set[str]:
    """The pks of these locations and every location they are in (reads `parent`)."""
    found = set()
    for location in locations:
        while location is not None and str(location.pk) not in found:
            found.add(str(location.pk))
            location = location.parent
    return found


def matches(rule: RuleFacts, maintenance: Any, reach: Reach) -> bool:
    """Whether the rule applies to the maintenance: every filter it sets holds (an empty one holds always)."""
    if rule.providers and str(maintenance.provider_id) not in rule.providers:
        return False
    if rule.acknowledged is not None and bool(maintenance.ack) != rule.acknowledged:
        return False
    if rule.impacts and not rule.impacts & {impact.impact for impact in reach.impacts}:
        return False
    if rule.tenants and not rule.tenants & {str(tenant.pk) for tenant in reach.tenants}:
        return False
    return not rule.locations or bool(rule.locations & _with_ancestors(reach.locations))


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def all_occasions(rule: RuleFacts, maintenance: Any) -> list[Occasion]:
    """Every occasion of the rule the maintenance has had so far or has planned, due or not.

    Transitions: those recorded (`live_events`, announced ones only). Moments: the one its current times give.
    """
    if rule.occasion == ActionOccasionChoices.TRANSITION:
        found = []
        for state, stamp in (maintenance.live_events or {}).items():
            if state not in LiveStateChoices.TRANSITIONS or stamp == STALE:
                continue
            if rule.transitions and state not in rule.transitions:
                continue
            try:
                due = datetime.fromisoformat(stamp)
            except (TypeError, ValueError):
                continue
            found.append(Occasion(f"{state} at {stamp}", due, f"entered {STATE_NAMES[state].lower()}", state))
        return sorted(found, key=lambda occasion: occasion.due)
    minutes = int(rule.offset.total_seconds() // 60)
    if rule.occasion == ActionOccasionChoices.BEFORE_START:
        due = maintenance.start_time - rule.offset
        return [Occasion(f"{rule.occasion} at {_iso(due)}", due, f"{minutes} min before the start")]
    due = maintenance.end_time + rule.offset
    return [Occasion(f"{rule.occasion} at {_iso(due)}", due, f"{minutes} min after the end")]


def is_due(rule: RuleFacts, maintenance: Any, occasion: Occasion, now: datetime) -> bool:
    """Whether the occasion fires at `now`: its moment came, less than `MAX_AGE` ago, and it still makes sense."""
    if not occasion.due <= now <= occasion.due + MAX_AGE:
        return False
    if rule.occasion == ActionOccasionChoices.TRANSITION:
        return rule.created is None or occasion.due >= rule.created
    if maintenance.status == MaintenanceStatusChoices.CANCELLED:
        return False
    if rule.occasion == ActionOccasionChoices.BEFORE_START:
        return maintenance.status not in FINISHED_STATUSES and now < maintenance.end_time
    return True


def due_occasions(rule: RuleFacts, maintenance: Any, reach: Reach, now: datetime) -> list[Occasion]:
    """The occasions of the rule due at `now` for the maintenance (none when the rule does not apply to it)."""
    if not matches(rule, maintenance, reach):
        return []
    return [occasion for occasion in all_occasions(rule, maintenance) if is_due(rule, maintenance, occasion, now)]


def expected_transitions(rule: RuleFacts, maintenance: Any, soon_hours: float) -> list[tuple[str, datetime | None]]:
    """For the preview: each state the rule fires on, and when the maintenance is expected to enter it.

    None: only if it happens (an overrun, a cancellation).
    """
    states = rule.transitions or LiveStateChoices.TRANSITIONS
    expected = {
        LiveStateChoices.STARTING_SOON: maintenance.start_time - timedelta(hours=soon_hours),
        LiveStateChoices.IN_PROGRESS: maintenance.start_time,
        LiveStateChoices.ENDED: maintenance.end_time,
    }
    return [(state, expected.get(state)) for state in LiveStateChoices.TRANSITIONS if state in states]
