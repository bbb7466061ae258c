"""Action rules fire once per transition or moment, through the real scheduled job and the sync.

A loopback webhook receiver (apprise `json://`) stands for the destination: each test reads back what it was
sent. Repeated runs and two workers at once send each message once; a receiver that fails is retried with
backoff, and the failure shows on the maintenance's timeline.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.actions import runs
from nautobot_ssot_circuit_maintenance.actions.preview import DUE, PLANNED, preview_rows
from nautobot_ssot_circuit_maintenance.choices import (
    ActionOccasionChoices,
    ActionRunStatusChoices,
    LiveStateChoices,
    MaintenanceStatusChoices,
)
from nautobot_ssot_circuit_maintenance.events.live import record_due_transitions
from nautobot_ssot_circuit_maintenance.models import ActionRun
from nautobot_ssot_circuit_maintenance.views.timeline import timeline_rows
from tests.actions.helpers import H, destination, message_rule, move, now, run_job
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.location_data import build_site_data
from tests.servers.webhook_receiver import WebhookReceiver


class ActionRunTestCase(JobTestMixin, TransactionTestCase):
    """Messages to a loopback webhook receiver, fired by the real jobs."""

    def setUp(self):
        super().setUp()
        self.receiver = WebhookReceiver().__enter__()
        self.addCleanup(self.receiver.__exit__)
        self.data = build_site_data()
        self.m1 = self.data.maintenances["M1"]  # provider A
        port = self.receiver.url.split(":")[2].split("/")[0]
        self.group = destination("NOC hook", f"json://localhost:{port}/hook")
        self.rule = message_rule("Tell the NOC", self.group, providers=[self.m1.provider])

    def bodies(self) -> list[dict]:
        return [request.json() for request in self.receiver.received]

    def test_each_transition_fires_once_across_repeated_runs_and_the_sync(self):
        move(self.m1, now() - H, now() + 3 * H)  # in progress
        run_job(self, "RunMaintenanceActions")
        run_job(self, "RunMaintenanceActions")
        (body,) = self.bodies()
        self.assertEqual(body["title"], "LOC Provider A: in-progress")
        self.assertEqual(body["message"], "LOC-M1 entered in progress")
        (run,) = ActionRun.objects.filter(maintenance=self.m1)
        self.assertEqual((run.status, run.attempts), (ActionRunStatusChoices.SUCCEEDED, 1))
        self.assertTrue(run.occasion.startswith("in-progress at "))
        self.assertIn("Sent 'LOC Provider A: in-progress' (json)", run.result)

        # The sync records the next transition and fires it, once, however often it runs.
        move(self.m1, now() - 5 * H, now() - 1 * H)
        folder = MailFolder()
        self.addCleanup(folder.cleanup)
        with self.configured([folder.source]):
            for _ in range(2):
                result, _ = self.run_sync()
                self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        run_job(self, "RunMaintenanceActions")
        self.assertEqual([b["message"] for b in self.bodies()], ["LOC-M1 entered in progress", "LOC-M1 entered ended"])
        self.assertEqual(ActionRun.objects.filter(maintenance=self.m1).count(), 2)

    def test_two_workers_at_once_send_once(self):
        move(self.m1, now() - H, now() + 3 * H)
        record_due_transitions()
        results, errors = run_at_once(runs.run_due_actions)
        self.assertEqual(errors, [])
        self.assertEqual(len(self.bodies()), 1)
        self.assertEqual(sum(outcome.count("succeeded") for outcome in results), 1)
        self.assertEqual(ActionRun.objects.filter(maintenance=self.m1).count(), 1)

    def test_a_run_claimed_by_another_worker_is_left_to_it(self):
        move(self.m1, now() - H, now() + 3 * H)
        record_due_transitions()
        runs.record_due_runs(timezone.now())
        (run,) = ActionRun.objects.all()
        self.assertIsNotNone(runs.claim(run.pk, timezone.now()))  # a worker took it and is sending it
        self.assertIsNone(runs.claim(run.pk, timezone.now()))
        runs.run_due_actions()  # a second worker meanwhile
        self.assertEqual(self.receiver.received, [])
        run.refresh_from_db()
        self.assertEqual((run.status, run.attempts), (ActionRunStatusChoices.PENDING, 1))

    def test_a_failing_receiver_is_retried_with_backoff_and_shows_on_the_timeline(self):
        move(self.m1, now() - H, now() + 3 * H)
        self.receiver.status = 500
        run_job(self, "RunMaintenanceActions", expect="FAILURE")
        (run,) = ActionRun.objects.filter(maintenance=self.m1)
        self.assertEqual((run.status, run.attempts), (ActionRunStatusChoices.RETRYING, 1))
        self.assertEqual(run.next_attempt - run.last_attempt, runs.FIRST_RETRY)
        self.assertIn("Not delivered", run.result)
        self.assertIn("500", run.result)
        self.assertNotIn(str(self.receiver.url.split(":")[2].split("/")[0]), run.result)  # the URL is a secret
        (row,) = [row for row in timeline_rows(self.m1) if row.event.startswith("Tell the NOC")]
        self.assertIn("Not delivered", row.reason)
        self.assertEqual(row.status, "Retrying")
        self.client.force_login(get_user_model().objects.create_user(username="noc", is_superuser=True))
        page = self.client.get(self.m1.get_absolute_url()).content.decode()
        self.assertIn("Tell the NOC (in-progress, attempt 1)", page)  # the timeline's row
        self.assertIn("Retrying", page)

        run_job(self, "RunMaintenanceActions")  # not due yet: nothing sent, nothing changed
        self.assertEqual(len(self.receiver.received), 1)
        run.refresh_from_db()
        self.assertEqual(run.attempts, 1)

        ActionRun.objects.filter(pk=run.pk).update(next_attempt=run.last_attempt)  # the backoff has passed
        run_job(self, "RunMaintenanceActions", expect="FAILURE")
        run.refresh_from_db()
        self.assertEqual(run.attempts, 2)
        self.assertEqual(run.next_attempt - run.last_attempt, 2 * runs.FIRST_RETRY)

        self.receiver.status = 200
        ActionRun.objects.filter(pk=run.pk).update(next_attempt=run.last_attempt)
        run_job(self, "RunMaintenanceActions")
        run.refresh_from_db()
        self.assertEqual((run.status, run.attempts), (ActionRunStatusChoices.SUCCEEDED, 3))
        self.assertEqual(len(self.receiver.received), 3)
        (row,) = [row for row in timeline_rows(self.m1) if row.event.startswith("Tell the NOC")]
        self.assertEqual(row.status, "Succeeded")

    def test_gives_up_after_the_last_attempt(self):
        move(self.m1, now() - H, now() + 3 * H)
        self.receiver.status = 500
        record_due_transitions()
        for _ in range(runs.MAX_ATTEMPTS):
            runs.run_due_actions()
            ActionRun.objects.filter(status=ActionRunStatusChoices.RETRYING).update(next_attempt=now())
        (run,) = ActionRun.objects.filter(maintenance=self.m1)
        self.assertEqual((run.status, run.attempts), (ActionRunStatusChoices.FAILED, runs.MAX_ATTEMPTS))
        runs.run_due_actions()
        self.assertEqual(len(self.receiver.received), runs.MAX_ATTEMPTS)

    def test_dry_run_lists_what_would_fire_and_sends_nothing(self):
        move(self.m1, now() - H, now() + 3 * H)
        record_due_transitions()
        result = run_job(self, "RunMaintenanceActions", dryrun=True)
        self.assertIn("Would fire: Tell the NOC for Site work M1 (in-progress at ", self.job_log(result))
        self.assertEqual(self.receiver.received, [])
        self.assertFalse(ActionRun.objects.exists())

    def test_a_rule_fires_only_for_what_it_matches(self):
        self.rule.transitions = [LiveStateChoices.ENDED]
        self.rule.save()
        move(self.m1, now() - H, now() + 3 * H)
        move(self.data.maintenances["M2"], now() - 5 * H, now() - H)  # provider B: not this rule's
        run_job(self, "RunMaintenanceActions")
        self.assertEqual(self.bodies(), [])

    def test_the_preview_says_what_will_fire_and_when_and_what_fired(self):
        start = now() + 2 * H
        move(self.m1, start, start + 4 * H)
        self.rule.transitions = [LiveStateChoices.IN_PROGRESS, LiveStateChoices.CANCELLED]
        self.rule.save()
        rows = preview_rows(self.m1)
        self.assertEqual(
            [(row.occasion, row.when, row.status) for row in rows],
            [("on entering in progress", start, PLANNED), ("on entering cancelled", None, PLANNED)],
        )
        move(self.m1, now() - H, now() + 3 * H)
        due = preview_rows(self.m1)[0]  # its moment has passed, not recorded yet: the next run fires it
        self.assertEqual(
            (due.occasion, due.status, due.status_display), ("on entering in progress", DUE, "Due at the next run")
        )
        run_job(self, "RunMaintenanceActions")
        self.m1.refresh_from_db()
        first, cancelled = preview_rows(self.m1)
        self.assertEqual(first.status, ActionRunStatusChoices.SUCCEEDED)
        self.assertIn("Sent", first.result)
        self.assertEqual((cancelled.occasion, cancelled.status), ("on entering cancelled", PLANNED))


class MomentRuleTestCase(JobTestMixin, TransactionTestCase):
    """A rule that fires minutes before the start: moved by a reschedule, dropped by a cancellation."""

    def setUp(self):
        super().setUp()
        self.receiver = WebhookReceiver().__enter__()
        self.addCleanup(self.receiver.__exit__)
        self.data = build_site_data()
        self.m1 = self.data.maintenances["M1"]
        port = self.receiver.url.split(":")[2].split("/")[0]
        self.rule = message_rule(
            "Before",
            destination("Prep hook", f"json://localhost:{port}/hook"),
            occasion=ActionOccasionChoices.BEFORE_START,
            offset_minutes=30,
            providers=[self.m1.provider],
        )

    def test_fires_at_its_moment_once_moves_with_a_reschedule_and_not_when_cancelled(self):
        start = now() + 2 * H
        move(self.m1, start, start + 4 * H)
        run_job(self, "RunMaintenanceActions")
        self.assertEqual(self.receiver.received, [])
        ((_, when),) = [(row.occasion, row.when) for row in preview_rows(self.m1)]
        self.assertEqual(when, start - timedelta(minutes=30))

        later = now() + 3 * H
        move(self.m1, later, later + 4 * H)
        ((_, when),) = [(row.occasion, row.when) for row in preview_rows(self.m1)]
        self.assertEqual(when, later - timedelta(minutes=30))

        soon = now() + timedelta(minutes=20)  # its moment has come
        move(self.m1, soon, soon + 4 * H, status=MaintenanceStatusChoices.CANCELLED)
        run_job(self, "RunMaintenanceActions")
        self.assertEqual(self.receiver.received, [])

        move(self.m1, soon, soon + 4 * H, status=MaintenanceStatusChoices.CONFIRMED)
        run_job(self, "RunMaintenanceActions")
        run_job(self, "RunMaintenanceActions")
        (request,) = self.receiver.received
        self.assertEqual(request.json()["message"], "LOC-M1 30 min before the start")
