"""The iCalendar feed: written with the icalendar library, read back with it (and with the parser's BCOP
reader); served by the REST API and, by per-user token, at a subscribable URL with ETag / 304.

The feed token is stored as its SHA-256 digest only, shown once; it is accepted in the path, an
`Authorization: Bearer` header or a `?token=` parameter, and no log line the app controls holds it
(checked through Django's test client, Django's development server and the migration of stored tokens).
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import icalendar
from circuit_maintenance_parser.parser import ICal
from django.contrib.contenttypes.models import ContentType
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.log import log_response
from nautobot.apps.testing import APITestCase, TestCase, TransactionTestCase
from nautobot.users.models import ObjectPermission

from nautobot_ssot_circuit_maintenance.calendar.feed import impacts_of
from nautobot_ssot_circuit_maintenance.calendar.ical import build_calendar, render_calendar
from nautobot_ssot_circuit_maintenance.compat.responses import mark_response_logged
from nautobot_ssot_circuit_maintenance.models import CalendarFeedToken, CircuitMaintenance
from nautobot_ssot_circuit_maintenance.models.reach import maintenance_locations
from tests.fixtures.live_data import build_live_data
from tests.fixtures.ui_data import build_ui_data
from tests.test_migrations import migrate_to_latest

CALENDAR = "plugins-api:nautobot_ssot_circuit_maintenance-api:circuitmaintenance-calendar"
SUBSCRIBE = "plugins:nautobot_ssot_circuit_maintenance:calendar_subscribe"
FEED = "plugins:nautobot_ssot_circuit_maintenance:calendar_feed"
FEED_BY_CREDENTIAL = "plugins:nautobot_ssot_circuit_maintenance:calendar_feed_by_credential"
APP = "nautobot_ssot_circuit_maintenance"
VIEW = "nautobot_ssot_circuit_maintenance.view_circuitmaintenance"


def bcop_mail(sender: str, maintenance_id: str, cid: str, start: datetime, end: datetime, status="CONFIRMED") -> bytes:
    """A provider notification in the NANOG BCOP format: a mail with a text/calendar part."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//BCOP test//EN")
    calendar.add("version", "2.0")
    event = icalendar.Event()
    for key, value in (
        ("uid", f"{maintenance_id}@bcop.example"),
        ("sequence", 1),
        ("dtstamp", start - timedelta(days=2)),
        ("dtstart", start),
        ("dtend", end),
        ("summary", f"Maintenance {maintenance_id}"),
        ("x-maintnote-provider", "bcop.example"),
        ("x-maintnote-account", "ACCT-1"),
        ("x-maintnote-maintenance-id", maintenance_id),
        ("x-maintnote-impact", "OUTAGE"),
        ("x-maintnote-status", status),
    ):
        event.add(key, value)
    event.add("x-maintnote-object-id", cid)
    calendar.add_component(event)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "noc@example.net"
    message["Subject"] = f"Maintenance {maintenance_id}"
    message["Message-ID"] = f"<{maintenance_id}-{status}@bcop.example>"
    message["Date"] = "Mon, 01 Jan 2024 00:00:00 +0000"
    message.set_content("See the attached calendar.")
    message.add_attachment(calendar.to_ical(), maintype="text", subtype="calendar", filename="maintenance.ics")
    return message.as_bytes()


class CalendarFeedTestCase(APITestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def test_long_and_special_text_is_folded_escaped_and_read_back(self):
        self.add_permissions(VIEW)
        maintenance = self.data.maintenances[0]
        text = "a,b;c\\d\r\ne\nf " + "é" * 100
        CircuitMaintenance.objects.filter(pk=maintenance.pk).update(description=text)
        response = self.client.get(reverse(CALENDAR), **self.header)
        lines = response.content.split(b"\r\n")
        self.assertTrue(all(len(line) <= 75 for line in lines), "folded at 75 octets")
        for line in lines:
            line.decode("utf-8")  # never split inside a character: every line decodes on its own
        event = self.events(self.feed())[f"{maintenance.pk}-1@nautobot-ssot-circuit-maintenance"]
        self.assertTrue(str(event["DESCRIPTION"]).endswith("a,b;c\\d\ne\nf " + "é" * 100))

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
                self.assertEqual(response["Content-Type"], "application/json")  # never labelled text/calendar
                self.assertIn("ended_within_days", json.loads(response.content))  # JSON, whatever was asked
        self.assertTrue({"[CM Provider C] ENDED-10", "[CM Provider C] ENDED-60"} <= names(ended_within_days=36500))

    def test_needs_view_permission(self):
        response = self.client.get(reverse(CALENDAR), **self.header)
        self.assertHttpStatus(response, 403)

    def test_etag_and_304(self):
        self.add_permissions(VIEW)
        first = self.client.get(reverse(CALENDAR), **self.header)
        self.assertHttpStatus(first, 200)
        again = self.client.get(reverse(CALENDAR), HTTP_IF_NONE_MATCH=first["ETag"], **self.header)
        self.assertHttpStatus(again, 304)
        self.assertEqual(again.content, b"")


class RenderFeedTestCase(TestCase):
    """The feed's bytes are written one maintenance at a time, the same bytes as the whole calendar's."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def maintenances(self) -> list[CircuitMaintenance]:
        return list(CircuitMaintenance.objects.select_related("provider").order_by("start_time", "maintenance_id"))

    def test_the_same_bytes_as_the_whole_calendar_and_its_circuits_from_one_query(self):
        maintenances = self.maintenances()
        impacts, circuits = impacts_of(maintenances)
        kwargs = {
            "url_for": lambda maintenance: f"https://nautobot.example{maintenance.get_absolute_url()}",
            "locations": maintenance_locations(maintenances, circuits),
            "name": "Circuit maintenances",
        }
        with_impacts = render_calendar(maintenances, impacts=impacts, **kwargs)
        prefetched = list(
            CircuitMaintenance.objects.select_related("provider")
            .prefetch_related("circuit_impacts__circuit")
            .order_by("start_time", "maintenance_id")
        )
        self.assertEqual(with_impacts, build_calendar(prefetched, **kwargs).to_ical())
        self.assertEqual(len(icalendar.Calendar.from_ical(with_impacts).walk("VEVENT")), 7)
        self.assertIn(b"X-MAINTNOTE-OBJECT-IMPACT=OUTAGE:CM-CID-0", with_impacts)

    def test_one_maintenances_events_at_a_time(self):
        """Never a tree of every event at once: asked while each event is made, none of the earlier ones is left."""
        alive = []

        def url_for(maintenance) -> str:
            gc.collect()
            alive.append(sum(isinstance(thing, icalendar.Event) for thing in gc.get_objects()))
            return f"https://nautobot.example{maintenance.get_absolute_url()}"

        maintenances = self.maintenances()
        impacts, _ = impacts_of(maintenances)
        render_calendar(maintenances, url_for=url_for, impacts=impacts)
        self.assertEqual(len(alive), 7)
        # At most the maintenance's own events (two windows) exist while one is made.
        self.assertLessEqual(max(alive), 2, alive)


class SubscribableFeedTestCase(TestCase):
    """The feed at /calendar/feed/<token>.ics: no session, no Authorization header, the token's user's view."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_live_data(datetime.now(timezone.utc))

    def setUp(self) -> None:
        super().setUp()
        self.anonymous = Client()

    def feed_url(self, user=None) -> str:
        """A new token for the user (replacing any), as its feed address."""
        self.key = CalendarFeedToken.issue(user or self.user)
        return reverse(FEED, kwargs={"key": self.key})

    def fetch(self, url: str, **params):
        return self.anonymous.get(url, params)

    def events(self, response) -> dict[str, icalendar.Event]:
        self.assertEqual(response.status_code, 200, response.content[:300])
        self.assertEqual(response["Content-Type"], "text/calendar; charset=utf-8")
        calendar = icalendar.Calendar.from_ical(response.content)
        return {str(event["X-MAINTNOTE-MAINTENANCE-ID"]): event for event in calendar.walk("VEVENT")}

    def shown_key(self, response) -> str:
        """The token of the feed address a Subscribe page shows; "" when it shows none."""
        body = response.content.decode()
        found = re.search(r"/calendar/feed/([A-Za-z0-9_-]{40,})\.ics", body)
        return found.group(1) if found else ""

    def test_subscribe_page_shows_the_address_once_and_rotates_it(self):
        self.assertHttpStatus(self.client.get(reverse(SUBSCRIBE)), 403)  # no use without the view permission
        self.assertFalse(CalendarFeedToken.objects.exists())
        self.add_permissions(VIEW)
        # The first visit makes the token and shows its address, once.
        response = self.client.get(reverse(SUBSCRIBE))
        self.assertHttpStatus(response, 200)
        old = self.shown_key(response)
        self.assertTrue(old)
        self.assertContains(response, "webcal://")
        self.assertContains(response, "shown only this once")
        self.assertEqual(response["Cache-Control"], "no-store")
        self.assertEqual(self.fetch(reverse(FEED, kwargs={"key": old})).status_code, 200)
        # Later visits cannot show it: they say when it was made and how it ends.
        again = self.client.get(reverse(SUBSCRIBE))
        self.assertHttpStatus(again, 200)
        self.assertEqual(self.shown_key(again), "")
        self.assertNotContains(again, old)
        self.assertContains(again, f"…{old[-4:]}")
        # Rotating answers with the page and the new address (no redirect: the token goes nowhere else).
        response = self.client.post(reverse(SUBSCRIBE))
        self.assertHttpStatus(response, 200)
        new = self.shown_key(response)
        self.assertTrue(new)
        self.assertNotEqual(old, new)
        self.assertContains(response, "the old one no longer works")
        gone = self.fetch(reverse(FEED, kwargs={"key": old}))
        self.assertEqual(gone.status_code, 404)
        self.assertEqual(gone["Content-Type"], "text/plain; charset=utf-8")
        self.assertIn("rotated", gone.content.decode())
        self.assertEqual(self.fetch(reverse(FEED, kwargs={"key": new})).status_code, 200)
        self.assertEqual(CalendarFeedToken.objects.count(), 1)

    def test_the_whole_address_is_shown_with_a_copy_button(self):
        """The address is not cut by a one-line field, and Nautobot's clipboard button copies that element."""
        self.add_permissions(VIEW)
        response = self.client.get(reverse(SUBSCRIBE))  # the first visit: the new address, shown once
        body, key = response.content.decode(), self.shown_key(response)
        url = response.wsgi_request.build_absolute_uri(reverse(FEED, kwargs={"key": key}))
        shown = re.search(r'<(\w+)\b([^>]*)\bid="cm-feed-url"([^>]*)>([^<]*)</\1>', body)
        self.assertIsNotNone(shown, "no element with the feed address")
        self.assertEqual(shown.group(4).strip(), url)  # the whole address, as the element's text
        self.assertNotEqual(shown.group(1), "input")  # a one-line field would cut it off
        self.assertIn("text-break", shown.group(2) + shown.group(3))  # wraps instead
        self.assertRegex(body, r'<button[^>]*data-clipboard-target="#cm-feed-url"')
        self.assertRegex(body, r'<button[^>]*data-clipboard-target="#cm-feed-token"')
        token = re.search(r'id="cm-feed-token"[^>]*>([^<]*)<', body)
        self.assertEqual(token.group(1).strip(), key)

    def test_only_the_digest_of_the_token_is_stored(self):
        self.add_permissions(VIEW)
        key = self.shown_key(self.client.get(reverse(SUBSCRIBE)))
        token = CalendarFeedToken.objects.get(user=self.user)
        self.assertEqual(token.digest, hashlib.sha256(key.encode()).hexdigest())
        self.assertEqual(token.hint, key[-4:])
        self.assertEqual(CalendarFeedToken.lookup(key), token)
        self.assertIsNone(CalendarFeedToken.lookup(key[:-1]))
        self.assertIsNone(CalendarFeedToken.lookup(""))
        # Nothing in the row, read as the database holds it, is the key or a longer part of it.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {CalendarFeedToken._meta.db_table}")  # noqa: S608 - the model's own table
            row = " ".join(str(value) for value in cursor.fetchone())
        self.assertNotIn(key, row)
        self.assertNotIn(key[:8], row)
        self.assertNotIn("key", [field.name for field in CalendarFeedToken._meta.get_fields()])

    def test_token_in_a_bearer_header_or_a_query_parameter(self):
        self.add_permissions(VIEW)
        key = CalendarFeedToken.issue(self.user)
        url = reverse(FEED_BY_CREDENTIAL)
        self.assertTrue(url.endswith("/calendar/feed.ics"))
        by_path = self.events(self.fetch(reverse(FEED, kwargs={"key": key})))
        self.assertEqual(self.events(self.anonymous.get(url, HTTP_AUTHORIZATION=f"Bearer {key}")), by_path)
        self.assertEqual(self.events(self.anonymous.get(url, HTTP_AUTHORIZATION=f"bearer  {key} ")), by_path)
        self.assertEqual(self.events(self.fetch(url, token=key)), by_path)
        # The parameter is not a filter: the list's filters work beside it.
        filtered = self.events(self.fetch(url, token=key, provider="Live Provider A"))
        self.assertEqual(len(filtered), 4)
        self.assertEqual(
            self.events(self.anonymous.get(url, {"provider": "Live Provider A"}, HTTP_AUTHORIZATION=f"Bearer {key}")),
            filtered,
        )
        # No token: 401 that says how to give it; an API token's scheme is not a feed token.
        for headers in ({}, {"HTTP_AUTHORIZATION": f"Token {key}"}, {"HTTP_AUTHORIZATION": "Bearer "}):
            with self.subTest(headers):
                missing = self.anonymous.get(url, **headers)
                self.assertEqual(missing.status_code, 401)
                self.assertEqual(missing["Content-Type"], "text/plain; charset=utf-8")
                self.assertIn("Bearer", missing["WWW-Authenticate"])
                self.assertIn("Authorization: Bearer", missing.content.decode())
        wrong = self.anonymous.get(url, HTTP_AUTHORIZATION=f"Bearer {key}x")
        self.assertEqual(wrong.status_code, 404)
        self.assertEqual(self.fetch(url, token=key[:-1]).status_code, 404)
        self.assertEqual(self.fetch(url, token=key, ongoing="maybe").status_code, 400)

    def test_no_log_line_holds_the_token(self):
        """Every answer of the feed, each way of giving the token: the app's and Django's log lines lack it."""
        key = CalendarFeedToken.issue(self.user)
        path, plain = reverse(FEED, kwargs={"key": key}), reverse(FEED_BY_CREDENTIAL)
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setLevel(logging.DEBUG)
        loggers = [logging.getLogger(name) for name in ("", "django", "django.request", APP)]
        levels = [logger.level for logger in loggers]
        for logger in loggers:
            logger.setLevel(logging.DEBUG)
        for logger in loggers:
            logger.addHandler(handler)  # also where a logger does not propagate to the root
        try:
            answers = [
                self.fetch(path).status_code,  # 403: the user may not view maintenances
                self.anonymous.get(plain, HTTP_AUTHORIZATION=f"Bearer {key}").status_code,
                self.fetch(plain, token=key).status_code,
            ]
            self.add_permissions(VIEW)
            answers += [
                self.fetch(path).status_code,  # 200
                self.fetch(path, ongoing="maybe").status_code,  # 400
                self.fetch(plain, token=key, ongoing="maybe").status_code,
                self.fetch(reverse(FEED, kwargs={"key": key[:-2] + "zz"})).status_code,  # 404, a near miss
                self.fetch(plain, token=key[:-2] + "zz").status_code,
                self.anonymous.get(path.replace(".ics", ".ical")).status_code,  # no route: Django's 404
            ]
        finally:
            for logger in loggers:
                logger.removeHandler(handler)
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)
        self.assertEqual(answers, [403, 403, 403, 200, 400, 400, 404, 404, 404])
        written = stream.getvalue()
        self.assertIn("Calendar feed answered 403", written)  # the app logs its answers ...
        self.assertIn("/calendar/feed/***.ics", written)
        self.assertIn("token=***", written)
        self.assertIn("Not Found: ", written)  # ... and Django its own 404
        # ... but none of them the token (also not in a traceback, e.g. of Django's template debug lines).
        for fragment in (key, key[:-2]):
            at = written.find(fragment)
            self.assertEqual(at, -1, f"the token in a log line: ...{written[max(at - 300, 0) : at + 60]!r}")

    def test_events_carry_the_bcop_properties_locations_and_circuits(self):
        self.add_permissions(VIEW)
        events = self.events(self.fetch(self.feed_url()))
        # What ended more than 30 days ago is left out by default; everything else is there.
        self.assertEqual(set(events), {m.maintenance_id for m in self.data.by_name.values()} - {"FAR-PAST"})
        event = events["IN-PROGRESS"]
        self.assertEqual(str(event["X-MAINTNOTE-PROVIDER"]), "Live Provider B")
        self.assertEqual(str(event["X-MAINTNOTE-ACCOUNT"]), "ACCT-B")
        self.assertEqual(str(event["X-MAINTNOTE-IMPACT"]), "OUTAGE")
        self.assertEqual(str(event["X-MAINTNOTE-STATUS"]), "CONFIRMED")
        objects = event["X-MAINTNOTE-OBJECT-ID"]
        self.assertEqual(
            sorted((str(o), o.params["X-MAINTNOTE-OBJECT-IMPACT"]) for o in objects),
            [("LIVE-CID-0", "OUTAGE"), ("LIVE-CID-2", "DEGRADED")],
        )
        self.assertEqual(str(event["LOCATION"]), "Live Site 1, Live Site 2")
        self.assertIn("Locations: Live Site 1, Live Site 2", str(event["DESCRIPTION"]))
        self.assertEqual(str(events["CANCELLED"]["STATUS"]), "CANCELLED")
        self.assertEqual(str(events["OVERRUNNING"]["X-MAINTNOTE-STATUS"]), "IN-PROCESS")

    def test_the_parsers_bcop_reader_reads_the_feed_back(self):
        """circuit-maintenance-parser's own iCalendar (BCOP) parser understands what the feed says."""
        self.add_permissions(VIEW)
        body = self.fetch(self.feed_url(), provider="Live Provider B").content
        parsed = {row["maintenance_id"]: row for row in ICal.parse_ical(icalendar.Calendar.from_ical(body))}
        self.assertEqual(set(parsed), {"IN-PROGRESS", "BETWEEN-NIGHTS", "ENDED", "CANCELLED"})
        row = parsed["IN-PROGRESS"]
        self.assertEqual(row["provider"], "Live Provider B")
        self.assertEqual(row["status"].value, "CONFIRMED")
        self.assertEqual(
            sorted((c.circuit_id, c.impact.value) for c in row["circuits"]),
            [("LIVE-CID-0", "OUTAGE"), ("LIVE-CID-2", "DEGRADED")],
        )
        maintenance = self.data.by_name["in-progress"]
        self.assertEqual(row["start"], int(maintenance.start_time.timestamp()))
        self.assertEqual(row["end"], int(maintenance.end_time.timestamp()))

    def test_etag_last_modified_and_304(self):
        self.add_permissions(VIEW)
        url = self.feed_url()
        first = self.fetch(url)
        self.assertEqual(first.status_code, 200)
        etag, modified = first["ETag"], first["Last-Modified"]
        self.assertEqual(first["Cache-Control"], "private, no-cache")
        second = self.anonymous.get(url, HTTP_IF_NONE_MATCH=etag)
        self.assertEqual(second.status_code, 304)
        self.assertEqual(second.content, b"")
        self.assertEqual(second["ETag"], etag)
        self.assertEqual(self.anonymous.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code, 304)
        # A change: the old validators no longer match.
        time.sleep(1.1)  # Last-Modified has a one-second resolution
        maintenance = self.data.by_name["upcoming"]
        maintenance.name = "upcoming, renamed"
        maintenance.validated_save()
        changed = self.anonymous.get(url, HTTP_IF_NONE_MATCH=etag)
        self.assertEqual(changed.status_code, 200)
        self.assertNotEqual(changed["ETag"], etag)
        self.assertEqual(self.anonymous.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code, 200)
        # A deletion, seen through the change log, moves Last-Modified too.
        modified = changed["Last-Modified"]
        time.sleep(1.1)
        from nautobot.extras.context_managers import web_request_context

        with web_request_context(self.user):
            self.data.by_name["ended"].delete()
        self.assertEqual(self.anonymous.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code, 200)

    def test_token_grants_only_that_users_view(self):
        permission = ObjectPermission.objects.create(
            name="provider A only", actions=["view"], constraints={"provider__name": "Live Provider A"}
        )
        permission.object_types.add(ContentType.objects.get_for_model(CircuitMaintenance))
        permission.users.add(self.user)
        events = self.events(self.fetch(self.feed_url()))
        self.assertEqual(set(events), {"UPCOMING", "STARTING-SOON", "OVERRUNNING", "COMPLETED"})
        # The key is not an API token and opens no page.
        key = self.key
        api = reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:circuitmaintenance-list")
        self.assertEqual(self.anonymous.get(api, HTTP_AUTHORIZATION=f"Token {key}").status_code, 403)
        page = self.anonymous.get(reverse("plugins:nautobot_ssot_circuit_maintenance:calendar"), {"key": key})
        self.assertEqual(page.status_code, 302)  # to the login page

    def test_without_permission_403_as_text(self):
        response = self.fetch(self.feed_url())
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response["Content-Type"], "text/plain; charset=utf-8")
        self.assertIn("may not view", response.content.decode())
        self.assertNotIn(self.key, response.content.decode())

    def test_bad_parameters_are_4xx_text_with_a_message(self):
        self.add_permissions(VIEW)
        url = self.feed_url()
        for params in (
            {"ended_within_days": "soon"},
            {"live_state": "bogus"},
            {"provider": "No Such Provider"},
            {"ongoing": "maybe"},
            {"ended_within_days": "1e999"},
        ):
            with self.subTest(params):
                response = self.fetch(url, **params)
                self.assertEqual(response.status_code, 400)
                self.assertEqual(response["Content-Type"], "text/plain; charset=utf-8")
                self.assertIn(next(iter(params)), response.content.decode())
        missing = self.anonymous.get(url.replace(".ics", "x.ics"))
        self.assertEqual(missing.status_code, 404)
        self.assertEqual(missing["Content-Type"], "text/plain; charset=utf-8")
        self.assertEqual(len(self.events(self.fetch(url, provider="Live Provider A"))), 4)
        self.assertEqual(set(self.events(self.fetch(url, ongoing="true"))), {"IN-PROGRESS", "OVERRUNNING"})

    def test_inactive_user_feed_is_gone(self):
        self.add_permissions(VIEW)
        url = self.feed_url()
        self.user.is_active = False
        self.user.save()
        self.assertEqual(self.fetch(url).status_code, 404)


class DevelopmentServerLogTestCase(TestCase):
    """Django's development server writes a line per request (`django.server`): a feed token is masked in it."""

    def test_access_log_lines_mask_the_token(self):
        key = CalendarFeedToken.issue(self.user)
        server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
        server.set_app(WSGIHandler())
        worker = threading.Thread(target=server.serve_forever, daemon=True)
        worker.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        base = f"http://127.0.0.1:{server.server_port}"
        paths = [
            reverse(FEED, kwargs={"key": key}),
            reverse(FEED_BY_CREDENTIAL) + f"?provider=x&token={key}",
        ]
        with self.assertLogs("django.server", level="INFO") as logged:
            for path in paths:
                # The server's own connection sees committed rows only: the token is unknown there, 404.
                try:
                    urllib.request.urlopen(base + path, timeout=30)  # noqa: S310 - our own loopback server
                except urllib.error.HTTPError as error:
                    self.assertEqual(error.code, 404)
                    self.assertNotIn(key, error.read().decode())
            deadline = time.monotonic() + 10
            while len(logged.records) < len(paths) and time.monotonic() < deadline:
                time.sleep(0.05)
        lines = [record.getMessage() for record in logged.records]
        self.assertEqual(len(lines), 2, lines)
        self.assertIn("/calendar/feed/***.ics", lines[0])
        self.assertIn("token=***", lines[1])
        for line in lines:
            self.assertNotIn(key, line)


class DjangoRequestLoggingPinTestCase(TestCase):
    """compat.mark_response_logged: Django's request logging skips a response marked as logged."""

    def test_a_marked_response_is_not_logged_again(self):
        request = RequestFactory().get("/plugins/circuit-maintenance/calendar/feed/secret-token.ics")
        with self.assertLogs("django.request", level="WARNING") as logged:
            log_response("Not Found: %s", request.path, response=HttpResponse(status=404), request=request)
            log_response(
                "Not Found: %s", request.path, response=mark_response_logged(HttpResponse(status=404)), request=request
            )
        self.assertEqual(len(logged.records), 1)


class FeedTokenMigrationTestCase(TransactionTestCase):
    """0011_feed_token_digest: clear tokens stored before it become digests, and their addresses keep working."""

    BEFORE = [(APP, "0010_person_outranks_mail")]
    AFTER = [(APP, "0011_feed_token_digest")]

    def migrate(self, target: list) -> None:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(target)

    def test_existing_tokens_are_hashed_and_the_clear_column_dropped(self):
        self.addCleanup(migrate_to_latest)
        self.migrate(self.BEFORE)
        apps = MigrationExecutor(connection).loader.project_state(self.BEFORE).apps
        old_token = apps.get_model(APP, "CalendarFeedToken")
        user_model = apps.get_model("users", "User")
        keys = {}
        for name in ("cm-feed-old-1", "cm-feed-old-2"):
            user = user_model.objects.create(username=name, is_active=True, is_superuser=True)
            keys[name] = CalendarFeedToken.new_key()
            old_token.objects.create(user_id=user.pk, key=keys[name])
        self.migrate(self.AFTER)
        with connection.cursor() as cursor:
            columns = [
                c.name
                for c in connection.introspection.get_table_description(
                    cursor, "nautobot_ssot_circuit_maintenance_calendarfeedtoken"
                )
            ]
        self.assertNotIn("key", columns)
        self.assertIn("digest", columns)
        for name, key in keys.items():
            token = CalendarFeedToken.lookup(key)
            self.assertIsNotNone(token, name)
            self.assertEqual(token.user.username, name)
            self.assertEqual(token.digest, hashlib.sha256(key.encode()).hexdigest())
            self.assertEqual(token.hint, key[-4:])
        # The address a calendar subscribed with before the upgrade still gives the feed (once the upgrade is
        # complete: the feed reads the maintenances as the later migrations leave them).
        migrate_to_latest()
        for key in keys.values():
            self.assertEqual(Client().get(reverse(FEED, kwargs={"key": key})).status_code, 200)
