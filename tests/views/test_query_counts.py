"""The pages that list maintenances, and a maintenance's timeline, cost as many queries for few rows as for many.

Each live state a page shows asks whether a newer maintenance supersedes the row; the pages prefetch that
once for all their rows, and the timeline reads its runs' log entries in one query whatever its notices.
Counted with the caches warm, on the records of `build_live_data`, then again with more rows.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import TestCase
from nautobot_ssot.models import Sync, SyncLogEntry

from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.models import (
    CalendarFeedToken,
    CircuitImpact,
    ParsedNotification,
    RawNotification,
)
from tests.fixtures.live_data import D, H, build_live_data, make

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
GRAPHQL = "{ circuit_maintenances { maintenance_id live_state circuit_impacts { impact } } }"


class ListQueryCountTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.now = datetime.now(timezone.utc)
        cls.data = build_live_data(cls.now)

    def setUp(self) -> None:
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.client.force_login(self.user)

    def queries(self, method: str, url: str, **kwargs) -> int:
        """Statements one request runs, after a first one warmed the caches (content types, custom fields)."""
        request = getattr(self.client, method)
        self.assertHttpStatus(request(url, **kwargs), 200)
        with CaptureQueriesContext(connection) as captured:
            self.assertHttpStatus(request(url, **kwargs), 200)
        return len(captured)

    def more_maintenances(self, count: int) -> None:
        """`count` more on now and in the next days (each on a circuit), and one that a newer one supersedes."""
        provider, circuit = self.data.providers[0], self.data.circuits[0]
        for number in range(count):
            start = self.now + (number - 1) * H + (number % 3) * D
            extra = make(provider, f"more-{number}", MaintenanceStatusChoices.CONFIRMED, [(start, start + 4 * H)])
            CircuitImpact.objects.create(maintenance=extra, circuit=circuit, impact=ImpactChoices.OUTAGE)
        older = self.data.by_name["upcoming"]
        newer = make(provider, "more-newer", MaintenanceStatusChoices.CONFIRMED, [(self.now + D, self.now + D + H)])
        newer.replaces = older
        newer.save()

    def test_calendar_overview_home_feed_and_graphql_do_not_grow_with_rows(self):
        feed = reverse(f"{PREFIX}:calendar_feed", kwargs={"key": CalendarFeedToken.issue(self.user)})
        graphql = {"data": json.dumps({"query": GRAPHQL}), "content_type": "application/json"}
        pages = {
            "calendar month": ("get", reverse(f"{PREFIX}:calendar"), {}),
            "calendar list": ("get", reverse(f"{PREFIX}:calendar"), {"data": {"view": "list"}}),
            "overview": ("get", reverse(f"{PREFIX}:overview"), {}),
            "home": ("get", reverse("home"), {}),
            "feed": ("get", feed, {}),
            "graphql": ("post", "/api/graphql/", graphql),
        }
        before = {name: self.queries(method, url, **kwargs) for name, (method, url, kwargs) in pages.items()}
        self.more_maintenances(6)
        after = {name: self.queries(method, url, **kwargs) for name, (method, url, kwargs) in pages.items()}
        self.assertEqual(after, before)


class TimelineQueryCountTest(TestCase):
    """A maintenance's page: its timeline reads the runs that stored its notices, and their log entries, at once."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.now = datetime.now(timezone.utc).replace(microsecond=0)
        data = build_live_data(cls.now)
        cls.maintenance = data.by_name["upcoming"]
        cls.circuit = data.circuits[0]
        cls.sync = Sync.objects.create(
            source="Notification mailboxes", target="Nautobot", start_time=cls.now - D, dry_run=False, diff={}
        )
        cls.log_entry = SyncLogEntry.objects.create(
            sync=cls.sync,
            action="create",
            status="success",
            diff={},
            synced_object_id=cls.maintenance.pk,
            object_repr=str(cls.maintenance),
            message="Created",
        )

    def setUp(self) -> None:
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.client.force_login(self.user)

    def store_notices(self, first: int, count: int) -> None:
        """Notices `first`.. of the maintenance, stored by the one run, as the sync stores them."""
        start = int(self.maintenance.start_time.timestamp())
        for sequence in range(first, first + count):
            date = self.now - D + sequence * timedelta(minutes=10)
            raw = RawNotification.objects.create(
                message_key=f"<timeline-{sequence}@test>",
                sync=self.sync,
                provider=self.maintenance.provider,
                date=date,
                received=date,
                raw=b"Subject: notice\r\n\r\n",
                outcome=OutcomeChoices.PARSED,
            )
            ParsedNotification.objects.create(
                raw_notification=raw,
                maintenance=self.maintenance,
                provider=self.maintenance.provider,
                provider_maintenance_id=self.maintenance.maintenance_id,
                json={
                    "maintenance_id": self.maintenance.maintenance_id,
                    "status": "CONFIRMED",
                    "start": start,
                    "end": start + 4 * 3600,
                    "stamp": int(date.timestamp()),
                    "sequence": sequence,
                    "circuits": [{"circuit_id": self.circuit.cid, "impact": "OUTAGE"}],
                },
            )

    def page_queries(self) -> tuple[int, str]:
        url = self.maintenance.get_absolute_url()
        self.assertHttpStatus(self.client.get(url), 200)
        with CaptureQueriesContext(connection) as captured:
            response = self.client.get(url)
        self.assertHttpStatus(response, 200)
        return len(captured), response.content.decode()

    def test_the_maintenance_page_costs_the_same_with_two_notices_or_six(self):
        self.store_notices(1, 2)
        two, body = self.page_queries()
        self.assertEqual(body.count(f"?id={self.log_entry.pk}"), 2)  # each notice's row links the run's entry
        self.store_notices(3, 4)
        six, body = self.page_queries()
        self.assertEqual(body.count(f"?id={self.log_entry.pk}"), 6)
        self.assertEqual(six, two)
