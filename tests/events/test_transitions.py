"""Live-state transitions recorded on the maintenance by a change-logged save: what Nautobot's own tools see.

Each transition is one ObjectChange of the maintenance (so Webhooks, Job Hooks and Nautobot's change events fire)
and one event of the app's topic; repeated runs and two callers at once add nothing; payloads carry the reach.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase, TransactionTestCase, run_job_for_testing
from nautobot.core.events import deregister_event_broker, register_event_broker
from nautobot.extras.models import Job, ObjectChange, Webhook

from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices
from nautobot_ssot_circuit_maintenance.compat.changelog import SYSTEM_USERNAME
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.events import live as live_events
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance
from tests.events.test_live_state import EXPECTED, NOW, BrokerMixin, RecordingBroker
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.live_data import D, H, build_live_data
from tests.fixtures.location_data import build_site_data
from tests.servers.webhook_receiver import WebhookReceiver

# Ended more than MAX_AGE before NOW: their state is recorded quietly, with no ObjectChange, webhook or event.
QUIET = frozenset({"ended", "far-past"})
# Nautobot's own change events of a maintenance (one per ObjectChange).
CHANGE_TOPIC = "nautobot.update.nautobot_ssot_circuit_maintenance.circuitmaintenance"


def changes_of(maintenance: CircuitMaintenance) -> list[ObjectChange]:
    """The maintenance's ObjectChanges, oldest first."""
    return list(
        ObjectChange.objects.filter(
            changed_object_type=ContentType.objects.get_for_model(CircuitMaintenance), changed_object_id=maintenance.pk
        ).order_by("time")
    )


def recorded_states(maintenance: CircuitMaintenance) -> list[str]:
    """The live state each of the maintenance's ObjectChanges carries (as a webhook receives it), oldest first."""
    return [change.object_data_v2["live_state"] for change in changes_of(maintenance)]


class RecordedTransitionsTestCase(BrokerMixin, TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_live_data(NOW)

    def test_each_transition_is_one_change_logged_save(self):
        for _ in range(3):
            live_events.record_due_transitions(now=NOW)
        for name, expected in EXPECTED.items():
            with self.subTest(name):
                maintenance = CircuitMaintenance.objects.get(name=name)
                self.assertEqual(maintenance.live_state, expected)
                if name in QUIET:  # no ObjectChange for a hook to act on a moment long past
                    self.assertEqual(recorded_states(maintenance), [])
                    continue
                self.assertEqual(recorded_states(maintenance), [expected])
                change = changes_of(maintenance)[0]
                self.assertEqual(change.action, "update")
                self.assertEqual(change.change_context_detail, live_events.CHANGE_CONTEXT_DETAIL)
                self.assertEqual(change.user_name, SYSTEM_USERNAME)  # no job or request here: the app's account
        # Ended more than a day ago: recorded (the record is true) but not announced; upcoming has no topic.
        self.assertNotIn("ended", {name for name, _ in self.topics()})
        self.assertEqual(CircuitMaintenance.objects.get(name="far-past").live_events, {"ended": live_events.STALE})
        self.assertNotIn("upcoming", {name for name, _ in self.topics()})

        # The clock moves: one more change (and one event) per maintenance that moved, however many runs.
        self.broker.events.clear()
        for _ in range(2):
            live_events.record_due_transitions(now=NOW + 6 * H)
        self.assertEqual(sorted(self.topics()), [("in-progress", "ended"), ("starting-soon", "in_progress")])
        in_progress = CircuitMaintenance.objects.get(name="in-progress")
        self.assertEqual(recorded_states(in_progress), ["in-progress", "ended"])
        self.assertEqual(changes_of(in_progress)[1].object_data["live_state"], "ended")
        self.assertEqual(recorded_states(CircuitMaintenance.objects.get(name="upcoming")), ["upcoming"])

    def test_a_rescheduled_maintenance_goes_through_its_transitions_again(self):
        """Each transition counts, not each state once: moved to next week, it starts (and is announced) again."""
        live_events.record_due_transitions(now=NOW)
        moved = CircuitMaintenance.objects.get(name="in-progress")
        start = NOW + 7 * D
        moved.start_time, moved.end_time, moved.windows = start, start + 4 * H, []
        moved.save()
        self.broker.events.clear()
        for moment in (NOW + H, start - 2 * H, start + H, start + H):
            live_events.record_due_transitions(now=moment)
        self.assertEqual(
            [topic for name, topic in self.topics() if name == "in-progress"], ["starting_soon", "in_progress"]
        )
        self.assertEqual(recorded_states(moved), ["in-progress", "upcoming", "starting-soon", "in-progress"])

    def test_recording_is_bounded_by_what_moved(self):
        """Once recorded, a later run reads only the rows whose state SQL cannot decide (started or starting soon)."""
        live_events.record_due_transitions(now=NOW)
        unrecorded = CircuitMaintenance.objects.live_state_unrecorded(now=NOW)
        self.assertEqual(
            set(unrecorded.values_list("name", flat=True)), {"starting-soon", "in-progress", "between-nights"}
        )


class ReachPayloadTestCase(BrokerMixin, APITestCase):
    """The event, the change log (what a webhook receives) and the REST API carry the same reach."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_site_data()
        cls.data.par_router.tenant = cls.data.tenants["Y"]
        cls.data.par_router.save()

    def test_payloads_carry_circuits_interfaces_devices_locations_and_tenants(self):
        m1 = self.data.maintenances["M1"]  # PA (tenant X; PAR1 → par-r1 eth0, NYC1) and LA (LON1 → lon-r1 eth0)
        live_events.record_due_transitions(now=self.data.base + H)
        payload = next(p for t, p in self.broker.events if p["maintenance_id"] == m1.maintenance_id)
        self.assertEqual(payload["live_state"], "in-progress")
        self.assertEqual(
            [(c["cid"], c["impact"], (c["tenant"] or {}).get("name")) for c in payload["circuits"]],
            [("LA", "OUTAGE", None), ("PA", "OUTAGE", "LOC Tenant X")],
        )
        self.assertEqual([x["name"] for x in payload["locations"]], ["CM LON1", "CM NYC1", "CM PAR1"])
        self.assertEqual(
            [(x["device"]["name"], x["name"]) for x in payload["interfaces"]], [("lon-r1", "eth0"), ("par-r1", "eth0")]
        )
        self.assertEqual([x["name"] for x in payload["devices"]], ["lon-r1", "par-r1"])
        self.assertEqual([x["name"] for x in payload["tenants"]], ["LOC Tenant X", "LOC Tenant Y"])
        reach = {key: payload[key] for key in ("circuits", "locations", "interfaces", "devices", "tenants")}

        (change,) = changes_of(m1)
        self.assertEqual(change.object_data_v2["reach"], reach)
        self.assertEqual(change.object_data_v2["live_state"], "in-progress")

        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")
        url = reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:circuitmaintenance-detail", args=[m1.pk])
        body = self.client.get(url, **self.header).json()
        self.assertEqual(body["reach"], reach)
        # A reader is told the state now (M1 starts in two days), the change log what was recorded.
        self.assertEqual(body["live_state"], "upcoming")


class TransitionJobsTestCase(BrokerMixin, JobTestMixin, TransactionTestCase):
    """The scheduled job and the sync record through the same row-locked bookkeeping: once, whichever runs."""

    def setUp(self):
        super().setUp()
        self.changes = RecordingBroker(include_topics=[CHANGE_TOPIC])
        register_event_broker(self.changes)
        self.addCleanup(deregister_event_broker, self.changes)

    def run_scheduled_job(self):
        job = Job.objects.get(job_class_name="PublishLiveStateEvents")
        job.enabled = True
        job.save()
        result = run_job_for_testing(job, **job_inputs(run_job_for_testing, {}))
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        return result

    def test_scheduled_job_twice(self):
        data = build_live_data(datetime.now(timezone.utc))
        results = [self.run_scheduled_job() for _ in range(2)]
        job_class_path = Job.objects.get(job_class_name="PublishLiveStateEvents").class_path
        topics = self.topics()
        self.assertEqual(len(topics), len(set(topics)))
        self.assertIn(("in-progress", "in_progress"), topics)
        self.assertIn(("overrunning", "overrunning"), topics)
        for name, maintenance in data.by_name.items():
            with self.subTest(name):
                changes = changes_of(maintenance)
                if name in QUIET:
                    self.assertEqual(changes, [])
                    continue
                self.assertEqual([c.object_data_v2["live_state"] for c in changes], [EXPECTED[name]])
                # In the job's change context, with its user: Nautobot dispatches hooks for it.
                self.assertEqual(changes[0].change_context, "job")
                self.assertEqual(changes[0].change_context_detail, job_class_path)
                self.assertEqual(changes[0].user, results[0].user)
        # Nautobot's own change event, once per maintenance (once per transition).
        changed = [payload["postchange"]["maintenance_id"] for _, payload in self.changes.events]
        self.assertEqual(sorted(changed), sorted(m.maintenance_id for n, m in data.by_name.items() if n not in QUIET))
        self.assertIn("9 live-state transition(s) recorded", self.job_log(results[0]))
        self.assertIn("0 live-state transition(s) recorded", self.job_log(results[1]))

    def test_sync_job_records_and_publishes_what_it_wrote_once(self):
        from nautobot.circuits.models import Circuit, CircuitType, Provider
        from nautobot.extras.models import Status

        from nautobot_ssot_circuit_maintenance.intake.provision import ensure_custom_fields
        from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD
        from tests.calendar.test_calendar import bcop_mail

        ensure_custom_fields()
        provider = Provider.objects.create(name="BCOP Networks")
        provider.cf[EMAILS_FIELD] = "noc@bcop.example"
        provider.cf[PARSER_FIELD] = "genericprovider"
        provider.save()
        from django.apps import apps
        from nautobot.extras import management

        management.populate_status_choices(apps, None)
        Circuit.objects.create(
            cid="BCOP-1",
            provider=provider,
            circuit_type=CircuitType.objects.create(name="BCOP"),
            status=Status.objects.get(name="Active"),
        )
        now = datetime.now(timezone.utc).replace(microsecond=0)
        folder = MailFolder()
        self.addCleanup(folder.cleanup)
        folder.add(bcop_mail("noc@bcop.example", "BCOP-MAINT-1", "BCOP-1", now - H, now + 2 * H), "bcop")
        with self.configured([folder.source]):
            results = [self.run_sync()[0] for _ in range(2)]
        for result in results:
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        maintenance = CircuitMaintenance.objects.get()
        self.assertEqual(maintenance.live_state, LiveStateChoices.IN_PROGRESS)
        self.assertEqual(
            [(p["maintenance_id"], t.rsplit(".", 1)[1]) for t, p in self.broker.events],
            [("BCOP-MAINT-1", "in_progress")],
        )
        # Created by the sync (nothing recorded yet), then the transition: both in the first run's change context.
        changes = changes_of(maintenance)
        self.assertEqual(
            [(c.action, c.object_data_v2["live_state"]) for c in changes], [("create", None), ("update", "in-progress")]
        )
        self.assertEqual(len({c.request_id for c in changes}), 1)
        self.assertEqual(self.broker.events[0][1]["live_state"], "in-progress")
        self.assertEqual([c["cid"] for c in self.broker.events[0][1]["circuits"]], ["BCOP-1"])
        self.assertIn("Published nautobot_ssot_circuit_maintenance.maintenance.in_progress", self.job_log(results[0]))
        self.assertNotIn("Published", self.job_log(results[1]))

    def test_two_callers_at_once_record_once(self):
        """Two workers (threads, each with its own database connection) find the same transition due at once."""
        data = build_live_data(NOW)
        slow = SlowBroker()  # holds the first caller inside its row lock while the second arrives
        register_event_broker(slow)
        self.addCleanup(deregister_event_broker, slow)
        results, errors = run_at_once(lambda: live_events.record_due_transitions(now=NOW))
        recorded = [transition for transitions in results for transition in transitions]
        self.assertEqual(errors, [])
        self.assertEqual(len(recorded), len(data.by_name))
        for name, maintenance in data.by_name.items():
            with self.subTest(name):
                self.assertEqual(recorded_states(maintenance), [] if name in QUIET else [EXPECTED[name]])
        topics = self.topics()
        self.assertEqual(len(topics), len(set(topics)))
        self.assertIn(("in-progress", "in_progress"), topics)

    def test_a_webhook_receives_each_transition_with_the_reach(self):
        """A real Nautobot Webhook on the maintenance's update, sent (by Celery, eagerly here) to a loopback server."""
        data = build_live_data(datetime.now(timezone.utc))
        with WebhookReceiver() as receiver:
            webhook = Webhook.objects.create(
                name="Live state",
                type_update=True,
                payload_url=receiver.url,
                http_method="POST",
                http_content_type="application/json",
            )
            webhook.content_types.set([ContentType.objects.get_for_model(CircuitMaintenance)])
            # Nautobot refuses loopback targets when it sends (an SSRF guard no setting lifts): let this one through.
            with mock.patch("nautobot.extras.webhooks.validate_webhook_url", return_value="127.0.0.1"):
                self.run_scheduled_job()
                first = len(receiver.received)
                self.run_scheduled_job()
        self.assertEqual(first, len(data.by_name) - len(QUIET))
        self.assertEqual(len(receiver.received), first, "a second run sends nothing")
        bodies = {r.json()["data"]["name"]: r.json() for r in receiver.received}
        body = bodies["in-progress"]
        self.assertEqual(body["event"], "updated")
        self.assertEqual(body["data"]["live_state"], "in-progress")
        self.assertEqual(body["snapshots"]["postchange"]["live_state"], "in-progress")
        self.assertEqual([c["cid"] for c in body["data"]["reach"]["circuits"]], ["LIVE-CID-0", "LIVE-CID-2"])
        self.assertEqual([x["name"] for x in body["data"]["reach"]["locations"]], ["Live Site 1", "Live Site 2"])
        self.assertEqual(
            {name: b["data"]["live_state"] for name, b in bodies.items()},
            {name: state for name, state in EXPECTED.items() if name not in QUIET},
        )


class SlowBroker(RecordingBroker):
    """Keeps what it is given, slowly: a caller publishing holds its row lock a moment longer."""

    def publish(self, *, topic, payload):
        time.sleep(0.3)
        super().publish(topic=topic, payload=payload)
