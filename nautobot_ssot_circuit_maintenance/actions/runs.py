"""Firing the action rules: each (rule, maintenance, occasion) once, whoever runs it and however often.

`run_due_actions` is called by the scheduled job "Run maintenance actions" and by the sync after it records the
live-state transitions. It works in three steps:

1. **Record.** For every enabled rule and every maintenance not long over that it applies to, the occasions due
   now (`rules.due_occasions`) become `ActionRun` rows, inserted with ON CONFLICT DO NOTHING on the unique
   (rule, maintenance, occasion): two workers at once record one row.
2. **Claim.** Each open run whose next attempt has come is claimed under its row lock (`SKIP LOCKED`): its
   attempt is counted and its next attempt moved a lease ahead, and that is committed before anything is sent.
   A second worker finds it locked or leased and leaves it; nothing is sent while a database lock is held.
3. **Act.** The claimed run is done (`deliver.perform`) and its outcome written: succeeded, or retrying with the
   next attempt after an exponential backoff (`backoff`), or failed after `MAX_ATTEMPTS`.

A worker that dies between claim and outcome leaves the run leased; it is tried again when the lease ends, so an
action fires at least once and, unless a worker dies mid-send, exactly once. A dry run lists what would be
recorded and attempted, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from nautobot_ssot_circuit_maintenance.actions.deliver import ActionFailed, perform
from nautobot_ssot_circuit_maintenance.actions.rules import RuleFacts, all_occasions, due_occasions, rule_facts
from nautobot_ssot_circuit_maintenance.choices import ActionOccasionChoices, ActionRunStatusChoices
from nautobot_ssot_circuit_maintenance.events.live import MAX_AGE
from nautobot_ssot_circuit_maintenance.models import ActionRule, ActionRun, CircuitMaintenance
from nautobot_ssot_circuit_maintenance.models.reach import REACH_PREFETCH, maintenance_reach

MAX_ATTEMPTS = 5
# The wait after the first failure; each further failure doubles it (2, 4, 8, 16 minutes).
FIRST_RETRY = timedelta(minutes=2)
# How long a claimed run is left to the worker that claimed it before another may try it.
LEASE = timedelta(minutes=15)
RESULT_LENGTH = 2000


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: `FIRST_RETRY`, doubled at each further failure."""
    return FIRST_RETRY * (2 ** max(attempts - 1, 0))


@dataclass(frozen=True)
class RunReport:
    """One thing done (or, in a dry run, to be done): a run recorded, or attempted with its outcome."""

    what: str  # "due", "succeeded", "retrying", "failed"
    rule: Any
    maintenance: Any
    occasion: str
    result: str = ""

    def describe(self) -> str:
        """As the job log says it."""
        text = f"{self.rule} for {self.maintenance} ({self.occasion}): {self.what}"
        return f"{text}: {self.result}" if self.result else text


@dataclass
class ActionsOutcome:
    """What a run of the actions did."""

    reports: list[RunReport] = field(default_factory=list)

    def count(self, what: str) -> int:
        """How many reports say `what`."""
        return sum(1 for report in self.reports if report.what == what)


def _rules() -> list[tuple[Any, RuleFacts]]:
    rules = ActionRule.objects.filter(enabled=True).select_related("secrets_group", "job")
    return [(rule, rule_facts(rule)) for rule in rules.prefetch_related("providers", "locations", "tenants")]


def _maintenances(rules: list[tuple[Any, RuleFacts]], now: datetime) -> Any:
    """The maintenances an occasion may be due for: not over, or over within `MAX_AGE` and the longest offset."""
    longest = max(
        (facts.offset for _, facts in rules if facts.occasion == ActionOccasionChoices.AFTER_END), default=timedelta(0)
    )
    return (
        CircuitMaintenance.objects.filter(end_time__gte=now - MAX_AGE - longest)
        .select_related("provider")
        .prefetch_related(*REACH_PREFETCH)
    )


def record_due_runs(now: datetime, *, dry_run: bool = False) -> list[RunReport]:
    """Record an `ActionRun` for each occasion due now that has none (step 1); report those new ones."""
    rules = _rules()
    if not rules:
        return []
    wanted = []
    for maintenance in _maintenances(rules, now):
        reach = maintenance_reach(maintenance)
        for rule, facts in rules:
            for occasion in due_occasions(facts, maintenance, reach, now):
                wanted.append((rule, maintenance, occasion))
    if not wanted:
        return []
    existing = set(
        ActionRun.objects.filter(maintenance__in={m.pk for _, m, _ in wanted}).values_list(
            "rule_id", "maintenance_id", "occasion"
        )
    )
    new = [(r, m, o) for r, m, o in wanted if (r.pk, m.pk, o.key) not in existing]
    if not dry_run:
        ActionRun.objects.bulk_create(
            [ActionRun(rule=r, maintenance=m, occasion=o.key, due=o.due, next_attempt=o.due) for r, m, o in new],
            ignore_conflicts=True,
        )
    return [RunReport("due", r, m, o.key, o.label) for r, m, o in new]


def claim(pk: Any, now: datetime) -> ActionRun | None:
    """Claim the run (step 2): count and lease its attempt, committed; None if another worker has it or it is over."""
    with transaction.atomic():
        run = (
            ActionRun.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=pk, status__in=ActionRunStatusChoices.OPEN, next_attempt__lte=now)
            .first()
        )
        if run is None:
            return None
        run.attempts += 1
        run.last_attempt = now
        run.next_attempt = now + LEASE
        run.save(update_fields=["attempts", "last_attempt", "next_attempt"])
    return run


def attempt(run: ActionRun, now: datetime, user: Any) -> RunReport:
    """Do the claimed run's action and write its outcome (step 3)."""
    maintenance = (
        CircuitMaintenance.objects.select_related("provider")
        .prefetch_related(*REACH_PREFETCH)
        .filter(pk=run.maintenance_id)
        .first()
    )
    rule = ActionRule.objects.select_related("secrets_group", "job").filter(pk=run.rule_id).first()
    if maintenance is None or rule is None:  # deleted since it was claimed: its run went with it
        return RunReport("gone", rule or run.rule_id, maintenance or run.maintenance_id, run.occasion)
    occasion = next((o for o in all_occasions(rule_facts(rule), maintenance) if o.key == run.occasion), None)
    label = occasion.label if occasion else run.occasion
    state = occasion.state if occasion else None
    try:
        result = perform(rule, maintenance, maintenance_reach(maintenance), label, state, user)
        run.status, run.next_attempt = ActionRunStatusChoices.SUCCEEDED, None
    except Exception as error:  # noqa: BLE001 - any failure is the run's result and is retried
        # Our own failures say why; another exception is only named: its text may hold the destination.
        result = str(error) if isinstance(error, ActionFailed) else f"Failed: {type(error).__name__}"
        if run.attempts >= MAX_ATTEMPTS:
            run.status, run.next_attempt = ActionRunStatusChoices.FAILED, None
            result = f"{result} (attempt {run.attempts} of {MAX_ATTEMPTS}: given up)"
        else:
            run.status, run.next_attempt = ActionRunStatusChoices.RETRYING, now + backoff(run.attempts)
            result = f"{result} (attempt {run.attempts} of {MAX_ATTEMPTS}; next at {run.next_attempt.isoformat()})"
    run.result = result[:RESULT_LENGTH]
    run.save(update_fields=["status", "next_attempt", "result"])
    return RunReport(run.status, rule, maintenance, run.occasion, run.result)


def open_runs(now: datetime) -> list[Any]:
    """The pks of the runs of enabled rules whose next attempt has come."""
    return list(
        ActionRun.objects.filter(
            status__in=ActionRunStatusChoices.OPEN, next_attempt__lte=now, rule__enabled=True
        ).values_list("pk", flat=True)
    )


def run_due_actions(
    *,
    now: datetime | None = None,
    user: Any = None,
    dry_run: bool = False,
    report: Callable[[RunReport], None] | None = None,
) -> ActionsOutcome:
    """Record the runs now due, then attempt every open run whose time has come; each step goes to `report`."""
    now = now or timezone.now()
    outcome = ActionsOutcome()

    def note(item: RunReport) -> None:
        outcome.reports.append(item)
        if report is not None:
            report(item)

    for item in record_due_runs(now, dry_run=dry_run):
        note(item)
    if dry_run:
        for run in ActionRun.objects.filter(pk__in=open_runs(now)).select_related("rule", "maintenance"):
            note(RunReport("to retry" if run.attempts else "to attempt", run.rule, run.maintenance, run.occasion))
        return outcome
    for pk in open_runs(now):
        run = claim(pk, now)
        if run is not None:
            note(attempt(run, now, user))
    return outcome
