"""The iCalendar feed: RFC 5545 text checked with the icalendar library, served by the REST API."""

from __future__ import annotations

import json
import unittest
from datetime import datetime, timedelta, timezone

import icalendar
from django.urls import reverse
from nautobot.apps.testing import APITestCase

from nautobot_ssot_circuit_maintenance.calendar_feed import escape_text, fold
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance
from tests.ui_data import build_ui_data

CALENDAR = "plugins-api:nautobot_ssot_circuit_maintenance-api:circuitmaintenance-calendar"


class TextRulesTestCase(unittest.TestCase):
    def test_escape(self):
        self.assertEqual(escape_text("a,b;c\\d\r\ne\nf"), "a\\,b\\;c\\\\d\\ne\\nf")

    def test_fold_at_75_octets_without_splitting_a_character(self):
        line = "DESCRIPTION:" + "é" * 100
        folded = fold(line)
        parts = folded.split("\r\n ")
        self.assertTrue(all(len(part.encode()) <= 75 for part in parts))
        self.assertEqual("".join(parts), line)
        self.assertEqual(fold("SHORT:x"), "SHORT:x")


class CalendarFeedTestCase(APITestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def feed(self, **params) -> icalendar.Calendar:
        response = self.client.get(reverse(CALENDAR), params, **self.header)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response["Content-Type"], "text/calendar; charset=utf-8")
        body = response.content.decode()
        self.assertTrue(all(line.endswith("\r") for line in body.split("\n")[:-1]), "every line ends with CRLF")
        return icalendar.Calendar.from_ical(body)

    def events(self, calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
        return {str(event["UID"]): event for event in calendar.walk("VEVENT")}

    def test_one_event_per_window_with_circuits_and_status(self):
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")
        events = self.events(self.feed())
        # Three maintenances with two windows each, and a cancelled one with none recorded.
        self.assertEqual(len(events), 7)
        first = self.data.maintenances[0]
        event = events[f"{first.pk}-1@nautobot-ssot-circuit-maintenance"]
        self.assertEqual(str(event["SUMMARY"]), "[CM Provider A] Planned work 0 (1/2)")
        self.assertEqual(event.decoded("DTSTART"), datetime.fromisoformat(first.windows[0]["start"]))
        self.assertEqual(event.decoded("DTEND"), datetime.fromisoformat(first.windows[0]["end"]))
        description = str(event["DESCRIPTION"])
        self.assertIn("Circuits: CM-CID-0 (Outage), CM-CID-3 (Degraded)", description)
        self.assertIn("Unknown circuit IDs: GHOST-1", description)
        self.assertIn("Fibre work number 0", description)
        self.assertEqual(str(event["URL"]), f"http://nautobot.example.com{first.get_absolute_url()}")
        cancelled = events[f"{self.data.maintenances[3].pk}-1@nautobot-ssot-circuit-maintenance"]
        self.assertEqual(str(cancelled["STATUS"]), "CANCELLED")
        self.assertEqual(
            str(events[f"{self.data.maintenances[1].pk}-2@nautobot-ssot-circuit-maintenance"]["STATUS"]), "TENTATIVE"
        )

    def test_filters_and_the_ended_window(self):
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")
        self.assertEqual(len(self.events(self.feed(provider=["CM Provider A"]))), 3)
        now = datetime.now(timezone.utc)
        for mid, ended_days_ago in (("ENDED-10", 10), ("ENDED-60", 60)):
            CircuitMaintenance.objects.create(
                provider=self.data.providers[2],
                maintenance_id=mid,
                name=mid,
                status="COMPLETED",
                start_time=now - timedelta(days=ended_days_ago, hours=4),
                end_time=now - timedelta(days=ended_days_ago),
            )

        def names(**params) -> set[str]:
            return {
                str(event["SUMMARY"]) for event in self.events(self.feed(provider=["CM Provider C"], **params)).values()
            }

        self.assertIn("[CM Provider C] ENDED-10", names())  # by default, what ended in the last 30 days
        self.assertNotIn("[CM Provider C] ENDED-60", names())
        self.assertTrue({"[CM Provider C] ENDED-10", "[CM Provider C] ENDED-60"} <= names(ended_within_days=90))
        self.assertFalse({"[CM Provider C] ENDED-10", "[CM Provider C] ENDED-60"} & names(ended_within_days=5))
        for bad in ("soon", "800000", "-1", "1e999", "NaN"):
            with self.subTest(ended_within_days=bad):
                response = self.client.get(reverse(CALENDAR), {"ended_within_days": bad}, **self.header)
                self.assertHttpStatus(response, 400)
                self.assertIn("ended_within_days", json.loads(response.content))  # JSON, whatever was asked
        self.assertTrue({"[CM Provider C] ENDED-10", "[CM Provider C] ENDED-60"} <= names(ended_within_days=36500))

    def test_needs_view_permission(self):
        response = self.client.get(reverse(CALENDAR), **self.header)
        self.assertHttpStatus(response, 403)
