"""What will fire for a maintenance, and when: the maintenance page's preview, and its timeline's action rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from nautobot_ssot_circuit_maintenance.actions.rules import (
    STATE_NAMES,
    all_occasions,
    expected_transitions,
    matches,
    rule_facts,
)
from nautobot_ssot_circuit_maintenance.choices import (
    ActionOccasionChoices,
    ActionRunStatusChoices,
    MaintenanceStatusChoices,
)
from nautobot_ssot_circuit_maintenance.models import ActionRule, ActionRun, starting_soon_hours
from nautobot_ssot_circuit_maintenance.models.reach import maintenance_reach

PLANNED = "planned"
# A planned moment already past: the next run of the scheduled job fires it.
DUE = "due"
STATUS_NAMES = {**ActionRunStatusChoices.as_dict(), PLANNED: "Planned", DUE: "Due at the next run"}


@dataclass(frozen=True)
class PreviewRow:
    """One action the maintenance has fired or will fire: the rule, on what, when, and how it went."""

    rule: Any
    occasion: str
    when: datetime | None  # None: only if it happens (an overrun, a cancellation)
    status: str  # an ActionRunStatusChoices value, or PLANNED
    result: str = ""

    @property
    def status_display(self) -> str:
        """The status as a person reads it."""
        return STATUS_NAMES.get(self.status, self.status)

    @property
    def status_class(self) -> str:
        """The Bootstrap colour of its badge."""
        return ActionRunStatusChoices.CSS_CLASSES.get(self.status, "warning" if self.status == DUE else "secondary")


def _run_row(run: ActionRun) -> PreviewRow:
    return PreviewRow(run.rule, run.occasion, run.last_attempt or run.due, run.status, run.result)


def _planned(rule: Any, occasion: str, when: datetime | None, now: datetime) -> PreviewRow:
    return PreviewRow(rule, occasion, when, DUE if when is not None and when <= now else PLANNED)


def preview_rows(maintenance: Any, now: datetime | None = None) -> list[PreviewRow]:
    """The enabled rules that apply to the maintenance, each with what it fired (and how) and what it will fire.

    A transition rule lists its runs, then each state it fires on that the maintenance has not entered yet, with
    when it is expected; a moment rule its run, or the moment its current times give. A planned moment already
    past is *due*: the next run of "Run maintenance actions" fires it.
    """
    now = now or timezone.now()
    reach = maintenance_reach(maintenance)
    runs: dict[Any, list[ActionRun]] = {}
    for run in ActionRun.objects.filter(maintenance=maintenance).select_related("rule").order_by("due"):
        runs.setdefault(run.rule_id, []).append(run)
    rows = []
    rules = ActionRule.objects.filter(enabled=True).prefetch_related("providers", "locations", "tenants")
    for rule in rules:
        facts = rule_facts(rule)
        if not matches(facts, maintenance, reach):
            continue
        fired = runs.get(rule.pk, [])
        rows += [_run_row(run) for run in fired]
        if maintenance.status == MaintenanceStatusChoices.CANCELLED:
            continue  # nothing more will fire: its moments are dropped, and it entered cancelled already
        if rule.occasion == ActionOccasionChoices.TRANSITION:
            entered = {occasion.state for occasion in all_occasions(facts, maintenance)}
            for state, when in expected_transitions(facts, maintenance, starting_soon_hours()):
                if state not in entered:
                    rows.append(_planned(rule, f"on entering {STATE_NAMES[state].lower()}", when, now))
        else:
            occasion = all_occasions(facts, maintenance)[0]
            if not any(run.occasion == occasion.key for run in fired):
                rows.append(_planned(rule, occasion.label, occasion.due, now))
    return sorted(rows, key=lambda row: (row.when is None, row.when.timestamp() if row.when else 0.0))


def action_runs(maintenance: Any) -> list[ActionRun]:
    """The maintenance's action runs that were attempted, for its timeline."""
    return list(
        ActionRun.objects.filter(maintenance=maintenance, attempts__gt=0)
        .select_related("rule")
        .order_by("last_attempt")
    )
