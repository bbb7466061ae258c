"""A Nautobot Job bound to a rule runs with the maintenance as its input at start − N minutes, once; a reschedule
moves its moment and a cancellation drops it."""

from __future__ import annotations

from datetime import timedelta

from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.models import Job, JobLogEntry, JobResult

from nautobot_ssot_circuit_maintenance.actions.preview import preview_rows
from nautobot_ssot_circuit_maintenance.choices import (
    ActionKindChoices,
    ActionOccasionChoices,
    ActionRunStatusChoices,
    MaintenanceStatusChoices,
)
from nautobot_ssot_circuit_maintenance.models import ActionRule, ActionRun
from tests.actions.helpers import H, move, now, run_job
from tests.fixtures.job_helpers import JobTestMixin
from tests.fixtures.location_data import build_site_data

MINUTES = timedelta(minutes=1)


class BoundJobTestCase(JobTestMixin, TransactionTestCase):
    """The example job "Check circuit maintenance reach", bound to run 30 minutes before M1 starts."""

    def setUp(self):
        super().setUp()
        self.data = build_site_data()
        self.m1 = self.data.maintenances["M1"]
        self.check = Job.objects.get(job_class_name="CheckMaintenanceReach")
        self.check.enabled = True
        self.check.save()
        self.rule = ActionRule.objects.create(
            name="Drain before",
            kind=ActionKindChoices.JOB,
            occasion=ActionOccasionChoices.BEFORE_START,
            offset_minutes=30,
            job=self.check,
        )
        self.rule.providers.set([self.m1.provider])

    def check_results(self) -> list[JobResult]:
        return list(JobResult.objects.filter(job_model=self.check))

    def planned(self) -> list:
        self.m1.refresh_from_db()
        return [row.when for row in preview_rows(self.m1) if row.rule == self.rule]

    def test_the_job_runs_once_at_its_moment_with_the_maintenance(self):
        soon = now() + 20 * MINUTES
        move(self.m1, soon, soon + 4 * H)
        run_job(self, "RunMaintenanceActions")
        run_job(self, "RunMaintenanceActions")
        (result,) = self.check_results()
        log = "\n".join(JobLogEntry.objects.filter(job_result=result).values_list("message", flat=True))
        # Run eagerly here, its status is left to a worker's result backend: its log says it ran to the end.
        self.assertIn("Job completed", log)
        self.assertIn("Site work M1 (LOC Provider A): Confirmed", log)  # its `maintenance` input
        self.assertIn("Interface eth0 on par-r1", log)
        self.assertIn("Interface eth0 on lon-r1", log)
        self.assertIn("2 circuit(s), 2 interface(s), 2 device(s)", log)
        (run,) = ActionRun.objects.filter(rule=self.rule)
        self.assertEqual(run.status, ActionRunStatusChoices.SUCCEEDED)
        self.assertIn(f"JobResult {result.pk}", run.result)

    def test_a_reschedule_moves_its_moment_and_a_cancellation_drops_it(self):
        start = now() + 2 * H
        move(self.m1, start, start + 4 * H)
        run_job(self, "RunMaintenanceActions")
        self.assertEqual(self.check_results(), [])
        self.assertEqual(self.planned(), [start - 30 * MINUTES])

        later = now() + 5 * H
        move(self.m1, later, later + 4 * H)
        self.assertEqual(self.planned(), [later - 30 * MINUTES])

        soon = now() + 20 * MINUTES
        move(self.m1, soon, soon + 4 * H, status=MaintenanceStatusChoices.CANCELLED)
        self.assertEqual(self.planned(), [])
        run_job(self, "RunMaintenanceActions")
        self.assertEqual(self.check_results(), [])
        self.assertFalse(ActionRun.objects.exists())

    def test_a_disabled_job_is_a_failure_that_is_retried(self):
        self.check.enabled = False
        self.check.save()
        soon = now() + 20 * MINUTES
        move(self.m1, soon, soon + 4 * H)
        run_job(self, "RunMaintenanceActions", expect="FAILURE")
        (run,) = ActionRun.objects.filter(rule=self.rule)
        self.assertEqual(run.status, ActionRunStatusChoices.RETRYING)
        self.assertIn("is not enabled", run.result)
