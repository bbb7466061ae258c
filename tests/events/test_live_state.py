"""Live state: computed from the windows and now, filtered in UI/REST/GraphQL, and published as events once."""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta, timezone

from django.test import override_settings
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase
from nautobot.core.events import EventBroker, deregister_event_broker, register_event_broker
from nautobot.extras.models import ObjectChange

from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices, MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.config import APP_NAME, DEFAULT_SETTINGS
from nautobot_ssot_circuit_maintenance.events import live as live_events
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance
from tests.fixtures.live_data import D, H, build_live_data, make

NOW = datetime(2031, 3, 10, 12, 0, tzinfo=timezone.utc)
EXPECTED = {
    "upcoming": LiveStateChoices.UPCOMING,
    "starting-soon": LiveStateChoices.STARTING_SOON,
    "in-progress": LiveStateChoices.IN_PROGRESS,
    "between-nights": LiveStateChoices.STARTING_SOON,
    "overrunning": LiveStateChoices.OVERRUNNING,
    "ended": LiveStateChoices.ENDED,
    "completed": LiveStateChoices.ENDED,
    "cancelled": LiveStateChoices.CANCELLED,
    "far-past": LiveStateChoices.ENDED,
}


def settings_with(**values):
    from django.conf import settings

    config = dict(settings.PLUGINS_CONFIG)
    config[APP_NAME] = {**DEFAULT_SETTINGS, **settings.PLUGINS_CONFIG.get(APP_NAME, {}), **values}
    return override_settings(PLUGINS_CONFIG=config)


class LiveStateTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_live_data(NOW)

    def test_each_state(self):
        for name, expected in EXPECTED.items():
            with self.subTest(name):
                self.assertEqual(self.data.by_name[name].current_live_state(NOW), expected)

    def test_starting_soon_hours_setting(self):
        starting = self.data.by_name["starting-soon"]  # next window in 5 hours
        with settings_with(starting_soon_hours=4):
            self.assertEqual(starting.current_live_state(NOW), LiveStateChoices.UPCOMING)
        with settings_with(starting_soon_hours=96):
            self.assertEqual(self.data.by_name["upcoming"].current_live_state(NOW), LiveStateChoices.STARTING_SOON)

    def test_state_follows_the_clock(self):
        m = self.data.by_name["between-nights"]
        states = [m.current_live_state(NOW + offset) for offset in (-40 * H, -13 * H, -H, 11 * H, 15 * H)]
        self.assertEqual(
            states,
            [
                LiveStateChoices.UPCOMING,
                LiveStateChoices.IN_PROGRESS,
                LiveStateChoices.STARTING_SOON,  # in the gap between the two nights
                LiveStateChoices.IN_PROGRESS,
                LiveStateChoices.ENDED,
            ],
        )

    def test_queryset_agrees_with_the_model(self):
        """`in_live_state` (SQL, narrowed) gives the same answer as `live_state` on every row, for any state set."""
        rng = random.Random(20311)
        provider = self.data.providers[0]
        statuses = list(MaintenanceStatusChoices.values())
        for n in range(60):
            start = NOW + timedelta(hours=rng.randint(-120, 120))
            windows = [(start, start + timedelta(hours=rng.randint(1, 8)))]
            if rng.random() < 0.4:
                second = windows[0][1] + timedelta(hours=rng.randint(1, 30))
                windows.append((second, second + timedelta(hours=rng.randint(1, 6))))
            make(provider, f"random-{n}", rng.choice(statuses), windows)
        everything = list(CircuitMaintenance.objects.all())
        for moment in (NOW, NOW + 7 * H, NOW - 2 * D):
            for size in (1, 2, 3):
                for _ in range(6):
                    states = rng.sample(list(LiveStateChoices.values()), size)
                    with self.subTest(moment=moment, states=states):
                        expected = {m.pk for m in everything if m.current_live_state(moment) in states}
                        got = set(
                            CircuitMaintenance.objects.in_live_state(states, now=moment).values_list("pk", flat=True)
                        )
                        self.assertEqual(got, expected)

    def test_ongoing_and_needs_attention(self):
        ongoing = set(CircuitMaintenance.objects.ongoing(now=NOW).values_list("name", flat=True))
        self.assertEqual(ongoing, {"in-progress", "overrunning"})
        attention = set(CircuitMaintenance.objects.needs_attention(now=NOW).values_list("name", flat=True))
        # Overrunning is past its end but not over: unacknowledged, it needs attention most of all.
        self.assertEqual(attention, {"upcoming", "starting-soon", "in-progress", "between-nights", "overrunning"})
        self.assertEqual({m.name for m in CircuitMaintenance.objects.all() if m.needs_attention(NOW)}, attention)


class LiveStateFiltersTestCase(APITestCase):
    """The quick filters against the real clock: REST, GraphQL and the list page with its links and badges."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_live_data(datetime.now(timezone.utc))

    def setUp(self) -> None:
        super().setUp()
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")

    def rest(self, **params) -> set[str]:
        url = reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:circuitmaintenance-list")
        response = self.client.get(url, {"limit": 100, **params}, **self.header)
        self.assertHttpStatus(response, 200)
        return {row["name"] for row in response.json()["results"]}

    def test_rest_filters(self):
        self.assertEqual(self.rest(ongoing="true"), {"in-progress", "overrunning"})
        self.assertEqual(self.rest(live_state="starting-soon"), {"starting-soon", "between-nights"})
        self.assertEqual(self.rest(live_state=["cancelled", "overrunning"]), {"cancelled", "overrunning"})
        self.assertEqual(self.rest(upcoming_within_days=1), {"starting-soon", "in-progress", "between-nights"})
        self.assertEqual(
            self.rest(upcoming_within_days=7), {"upcoming", "starting-soon", "in-progress", "between-nights"}
        )
        self.assertEqual(
            self.rest(unacknowledged="true"),
            {"upcoming", "starting-soon", "in-progress", "between-nights", "overrunning"},
        )
        self.assertNotIn("upcoming", self.rest(unacknowledged="false"))

    def test_rest_bad_values_are_400_with_a_message(self):
        url = reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:circuitmaintenance-list")
        for params in (
            {"live_state": "soonish"},
            {"ongoing": "maybe"},
            {"upcoming_within_days": "-3"},
            {"upcoming_within_days": "x"},
        ):
            with self.subTest(params):
                response = self.client.get(url, params, **self.header)
                self.assertHttpStatus(response, 400)
                self.assertIn(next(iter(params)), response.json())

    def test_graphql(self):
        query = 'query { circuit_maintenances(ongoing: true, live_state: ["in-progress", "overrunning"]) { name } }'
        response = self.client.post(
            "/api/graphql/", data=json.dumps({"query": query}), content_type="application/json", **self.header
        )
        self.assertHttpStatus(response, 200)
        payload = response.json()
        self.assertNotIn("errors", payload, payload)
        self.assertEqual(
            {row["name"] for row in payload["data"]["circuit_maintenances"]}, {"in-progress", "overrunning"}
        )

    def test_list_page_badges_and_quick_filter_links(self):
        url = reverse("plugins:nautobot_ssot_circuit_maintenance:circuitmaintenance_list")
        self.client.force_login(self.user)
        # The table comes through HTMX; the buttons with the page.
        table = self.client.get(url, {"ongoing": "true"}, HTTP_HX_REQUEST="true").content.decode()
        states = set(re.findall(r'data-live-state="([^"]+)"', table))
        self.assertEqual(states, {"in-progress", "overrunning"})
        body = self.client.get(url).content.decode()
        for query in ("ongoing=true", "upcoming_within_days=7", "upcoming_within_days=14", "unacknowledged=true"):
            self.assertTrue(f'href="{url}?{query}"' in body, f"quick filter link {query}")
        subscribe = reverse("plugins:nautobot_ssot_circuit_maintenance:calendar_subscribe")
        self.assertTrue(f'href="{subscribe}"' in body, "Subscribe link")

    def test_detail_page_badge(self):
        maintenance = self.data.by_name["overrunning"]
        self.client.force_login(self.user)
        body = self.client.get(maintenance.get_absolute_url()).content.decode()
        self.assertTrue("Live state" in body, "the Live state row")
        self.assertEqual(re.findall(r'data-live-state="([^"]+)"', body), ["overrunning"])


class RecordingBroker(EventBroker):
    """An event broker of the test's own: keeps what it is given (the app's topics unless told otherwise)."""

    def __init__(self, include_topics=("nautobot_ssot_circuit_maintenance.*",), **kwargs):
        super().__init__(include_topics=list(include_topics), **kwargs)
        self.events: list[tuple[str, dict]] = []

    def publish(self, *, topic, payload):
        self.events.append((topic, json.loads(payload)))


class BrokerMixin:
    def setUp(self):
        super().setUp()
        self.broker = RecordingBroker()
        register_event_broker(self.broker)
        self.addCleanup(deregister_event_broker, self.broker)

    def topics(self) -> list[tuple[str, str]]:
        return [(payload["name"], topic.rsplit(".", 1)[1]) for topic, payload in self.broker.events]


class LiveEventsTestCase(BrokerMixin, TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_live_data(NOW)

    def test_each_transition_once_across_repeated_runs(self):
        for _ in range(3):
            live_events.record_due_transitions(now=NOW)
        # Once each, whatever the number of runs. Ended 26 hours ago (more than MAX_AGE): not announced a day
        # late; long past, cancelled and upcoming: nothing.
        self.assertEqual(
            sorted(self.topics()),
            [
                ("between-nights", "starting_soon"),
                ("cancelled", "cancelled"),
                ("completed", "ended"),
                ("in-progress", "in_progress"),
                ("overrunning", "overrunning"),
                ("starting-soon", "starting_soon"),
            ],
        )
        # The clock moves: each maintenance publishes its next transition, once.
        self.broker.events.clear()
        for _ in range(2):
            live_events.record_due_transitions(now=NOW + 6 * H)
        later = sorted(self.topics())
        self.assertEqual(later, [("in-progress", "ended"), ("starting-soon", "in_progress")])
        self.broker.events.clear()
        for _ in range(2):
            live_events.record_due_transitions(now=NOW + 10 * H)
        self.assertEqual(sorted(self.topics()), [("between-nights", "in_progress"), ("starting-soon", "ended")])
        record = CircuitMaintenance.objects.get(name="starting-soon").live_events
        self.assertEqual(set(record), {"starting-soon", "in-progress", "ended"})

    def test_payload(self):
        live_events.record_due_transitions(now=NOW)
        topic, payload = next(e for e in self.broker.events if e[1]["name"] == "in-progress")
        self.assertEqual(topic, "nautobot_ssot_circuit_maintenance.maintenance.in_progress")
        self.assertEqual(payload["provider"], "Live Provider B")
        self.assertEqual(payload["live_state"], "in-progress")
        self.assertIsNone(payload["previous_live_state"])
        self.assertEqual(
            [(c["cid"], c["impact"]) for c in payload["circuits"]],
            [("LIVE-CID-0", "OUTAGE"), ("LIVE-CID-2", "DEGRADED")],
        )
        self.assertEqual([loc["name"] for loc in payload["locations"]], ["Live Site 1", "Live Site 2"])

    def test_a_broker_failure_publishes_nothing_and_records_nothing(self):
        class Failing(EventBroker):
            def publish(self, *, topic, payload):
                raise ConnectionError("broker down")

        failing = Failing()
        register_event_broker(failing)
        try:
            with self.assertRaises(ConnectionError):
                live_events.record_due_transitions(now=NOW)
        finally:
            deregister_event_broker(failing)
        # The record is undone with the event: not stored, no ObjectChange.
        self.assertEqual(CircuitMaintenance.objects.get(name="in-progress").live_state, None)
        self.assertFalse(ObjectChange.objects.filter(changed_object_id=self.data.by_name["in-progress"].pk).exists())
        live_events.record_due_transitions(now=NOW)  # the broker is back: nothing was lost
        self.assertIn(("in-progress", "in_progress"), self.topics())
