"""The calendar page (month, week, list), the overview page and the demo's dates, with real records."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from django.test import Client, override_settings
from django.urls import reverse
from nautobot.apps.testing import TestCase, TransactionTestCase
from nautobot_ssot.models import Sync

from development.demo_dates import REASON, move_to_today
from nautobot_ssot_circuit_maintenance.calendar.overview import isolation_flags, last_syncs
from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices
from nautobot_ssot_circuit_maintenance.config import APP_NAME, DEFAULT_SETTINGS
from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.live_data import build_live_data
from tests.fixtures.sample_data import corpus_messages, create_providers_and_circuits

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
VIEW = "nautobot_ssot_circuit_maintenance.view_circuitmaintenance"
EVENT = re.compile(r'<a class="cm-event[^"]*"\s+data-live-state="([^"]+)"[^>]*?\shref="([^"]+)"')


class CalendarPageTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.now = datetime.now(timezone.utc)
        cls.data = build_live_data(cls.now)

    def setUp(self) -> None:
        super().setUp()
        self.add_permissions(VIEW, "dcim.view_location", "circuits.view_provider")

    def page(self, expect: int = 200, **params) -> str:
        response = self.client.get(reverse(f"{PREFIX}:calendar"), params)
        self.assertHttpStatus(response, expect)
        return response.content.decode()

    def shown(self, body: str) -> dict[str, set[str]]:
        """{maintenance url: {live states shown}} of the grid's event links."""
        found: dict[str, set[str]] = {}
        for state, url in EVENT.findall(body):
            found.setdefault(url, set()).add(state)
        return found

    def url_of(self, name: str) -> str:
        return self.data.by_name[name].get_absolute_url()

    def test_week_shows_this_weeks_windows_coloured_by_live_state(self):
        body = self.page(view="week")
        shown = self.shown(body)
        self.assertEqual(shown.get(self.url_of("in-progress")), {LiveStateChoices.IN_PROGRESS})
        self.assertEqual(shown.get(self.url_of("overrunning")), {LiveStateChoices.OVERRUNNING})
        self.assertNotIn(self.url_of("far-past"), shown)
        self.assertIn("text-bg-danger", body)  # in progress
        today = re.findall(r'<td class="[^"]*\bcm-today\b[^"]*" data-date="([^"]+)"', body)
        self.assertEqual(today, [self.now.date().isoformat()])

    def test_month_and_list_show_cancelled_struck_through(self):
        anchor = self.data.by_name["cancelled"].start_time.date().isoformat()
        for view in ("month", "list"):
            with self.subTest(view):
                body = self.page(view=view, date=anchor)
                self.assertIn(self.url_of("cancelled"), body)
                cancelled = body[: body.index(self.url_of("cancelled"))].rsplit("<", 2)
                self.assertTrue(any("cm-cancelled" in part for part in cancelled) or "cm-cancelled" in body)
        list_body = self.page(view="list", date=anchor)
        row = re.search(r'<tr class="cm-cancelled">.*?</tr>', list_body, re.S)
        self.assertIsNotNone(row)
        self.assertIn(self.url_of("cancelled"), row.group(0))

    def test_a_window_over_midnight_shows_on_both_days(self):
        maintenance = self.data.by_name["between-nights"]
        body = self.page(view="month", date=maintenance.start_time.date().isoformat())
        days = re.findall(r'data-date="(\d{4}-\d\d-\d\d)">(.*?)</td>', body, re.S)
        with_it = [day for day, cell in days if maintenance.get_absolute_url() in cell]
        starts = {s.date().isoformat() for s, _ in maintenance.window_times}
        ends = {e.date().isoformat() for _, e in maintenance.window_times}
        self.assertTrue(starts <= set(with_it) and ends <= set(with_it), (with_it, starts, ends))

    def test_filters_by_provider_status_and_location_tree(self):
        def names(**params) -> set[str]:
            body = self.page(view="list", date=self.now.date().isoformat(), **params)
            by_url = {m.get_absolute_url(): name for name, m in self.data.by_name.items()}
            return {by_url[url] for url in re.findall(r'class="cm-event-link" href="([^"]+)"', body)}

        first = self.now.date().replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        start = datetime(first.year, first.month, 1, tzinfo=timezone.utc)
        end = datetime(following.year, following.month, 1, tzinfo=timezone.utc)
        this_month = {
            name for name, m in self.data.by_name.items() if any(s < end and e >= start for s, e in m.window_times)
        }
        self.assertEqual(names(), this_month)
        self.assertEqual(
            names(provider="Live Provider A"),
            {n for n in this_month if n in {"upcoming", "starting-soon", "overrunning", "completed"}},
        )
        self.assertEqual(names(status="IN-PROCESS"), {"overrunning"})
        self.assertEqual(names(live_state="in-progress"), {"in-progress"})
        site1 = self.data.sites[0]
        # Site 1: circuits 0 and 1 terminate there; the region above it takes in site 2 too.
        at_site1 = {
            n
            for n in this_month
            if {i.circuit.cid for i in self.data.by_name[n].circuit_impacts.all()} & {"LIVE-CID-0", "LIVE-CID-1"}
        }
        self.assertEqual(names(location=str(site1.pk)), at_site1)
        self.assertEqual(names(location=site1.name), at_site1)
        self.assertEqual(
            names(location=self.data.region.name),
            {n for n in this_month if self.data.by_name[n].circuit_impacts.exists()},
        )

    def test_locations_on_events(self):
        body = self.page(view="list", date=self.now.date().isoformat())
        row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*" + re.escape(self.url_of("in-progress")) + r".*?</tr>", body, re.S)
        self.assertIn("Live Site 1, Live Site 2", row.group(0))

    def test_bad_parameters_are_400_with_a_message(self):
        for params, fragment in (
            ({"view": "year"}, "view"),
            ({"date": "2031-02-30"}, "date"),
            ({"date": "0001-01-01"}, "date"),
            ({"provider": "Nobody"}, "provider"),
            ({"location": "Atlantis"}, "location"),
            ({"status": "SOMETIMES"}, "status"),
        ):
            with self.subTest(params):
                body = self.page(400, **params)
                errors = re.search(r'id="cm-calendar-errors">(.*?)</div>\s*</div>', body, re.S).group(1)
                self.assertIn(fragment, errors)

    def test_needs_login_and_permission(self):
        self.assertHttpStatus(Client().get(reverse(f"{PREFIX}:calendar")), 302)
        self.remove_permissions(VIEW)
        self.assertHttpStatus(self.client.get(reverse(f"{PREFIX}:calendar")), 403)

    def test_in_the_menu_with_a_subscribe_link(self):
        body = self.page()
        self.assertIn(reverse(f"{PREFIX}:calendar"), body)
        self.assertIn(reverse(f"{PREFIX}:calendar_subscribe"), body)


class OverviewPageTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.now = datetime.now(timezone.utc)
        cls.data = build_live_data(cls.now)

    def setUp(self) -> None:
        super().setUp()
        self.add_permissions(
            VIEW, "nautobot_ssot_circuit_maintenance.view_notificationsource", "circuits.view_provider"
        )

    def section(self, body: str, body_id: str) -> str:
        start = body.index(f'id="{body_id}"')
        return body[start : body.index("</table>", start)]

    def test_the_older_apps_address_answers(self):
        url = reverse(f"{PREFIX}:overview")
        self.assertEqual(url, "/plugins/circuit-maintenance/maintenance/overview/")
        response = self.client.get(url)
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        active = self.section(body, "cm-overview-active")
        self.assertIn(self.data.by_name["in-progress"].get_absolute_url(), active)
        self.assertIn(self.data.by_name["overrunning"].get_absolute_url(), active)
        self.assertNotIn(self.data.by_name["upcoming"].get_absolute_url(), active)
        upcoming = self.section(body, "cm-overview-upcoming")
        self.assertIn("Next 30 days", body)
        for name in ("upcoming", "starting-soon"):
            self.assertIn(self.data.by_name[name].get_absolute_url(), upcoming)
        self.assertNotIn(self.data.by_name["cancelled"].get_absolute_url(), upcoming)
        unacked = self.section(body, "cm-overview-unacknowledged")
        self.assertIn(self.data.by_name["between-nights"].get_absolute_url(), unacked)
        self.assertIn(self.data.by_name["overrunning"].get_absolute_url(), unacked)
        self.assertNotIn(self.data.by_name["completed"].get_absolute_url(), unacked)
        providers = self.section(body, "cm-overview-providers")
        self.assertIn("Live Provider A", providers)
        # No location here has its circuits down together: the isolation panel is there, with no flag.
        self.assertEqual(isolation_flags(self.user, self.now), [])
        self.assertIn("cm-overview-isolation", body)

    def test_dashboard_n_days(self):
        from django.conf import settings

        config = {**settings.PLUGINS_CONFIG, APP_NAME: {**DEFAULT_SETTINGS, "dashboard_n_days": 2}}
        with override_settings(PLUGINS_CONFIG=config):
            body = self.client.get(reverse(f"{PREFIX}:overview")).content.decode()
        self.assertIn("Next 2 days", body)
        upcoming = self.section(body, "cm-overview-upcoming")
        self.assertNotIn(self.data.by_name["upcoming"].get_absolute_url(), upcoming)  # in 3 days
        self.assertIn(self.data.by_name["starting-soon"].get_absolute_url(), upcoming)

    def test_needs_permission(self):
        self.remove_permissions(VIEW)
        self.assertHttpStatus(self.client.get(reverse(f"{PREFIX}:overview")), 403)


class OverviewSyncAndDemoDatesTestCase(JobTestMixin, TransactionTestCase):
    """The real sync over corpus mail: the overview's per-source outcomes, then the demo's move to today."""

    def test_a_later_sync_of_another_source_leaves_each_sources_last_run(self):
        """The overview's row of a source counts what that source's last run stored, whatever ran since."""
        create_providers_and_circuits()
        folder, other = MailFolder("Corpus folder"), MailFolder("Quiet folder")
        self.addCleanup(folder.cleanup)
        self.addCleanup(other.cleanup)
        folder.add(corpus_messages()[0][1], "first")
        self.add_permissions(
            VIEW, "nautobot_ssot_circuit_maintenance.view_notificationsource", "circuits.view_provider"
        )
        self.client.force_login(self.user)
        with self.configured([folder.source, other.source]):
            result, first = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            quiet = NotificationSource.objects.get(name="Quiet folder")
            result, _ = self.run_sync(sources=[quiet.pk])  # a later sync that does not read the corpus folder
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            rows = {row.source.name: row for row in last_syncs(self.user)}
            body = self.client.get(reverse(f"{PREFIX}:overview")).content.decode()
        self.assertEqual(sum(rows["Corpus folder"].outcomes.values()), 1)
        self.assertEqual(rows["Corpus folder"].sync, first)
        self.assertEqual(rows["Quiet folder"].outcomes, {})
        sources = body[body.index('id="cm-overview-sources"') :]
        corpus_row = sources[sources.index("Corpus folder") : sources.index("Quiet folder")]
        self.assertNotIn("no new mail", corpus_row)
        self.assertIn(first.get_absolute_url(), corpus_row)
        self.assertIn("no new mail", sources[sources.index("Quiet folder") :])

    def test_sources_outcomes_then_demo_dates(self):
        create_providers_and_circuits()
        folder = MailFolder("Corpus folder")
        self.addCleanup(folder.cleanup)
        messages = [(name, raw) for name, raw, _ in corpus_messages()]
        for name, raw in messages[:12]:
            folder.add(raw, name)
        with self.configured([folder.source]):
            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.add_permissions(
                VIEW, "nautobot_ssot_circuit_maintenance.view_notificationsource", "circuits.view_provider"
            )
            self.client.force_login(self.user)
            body = self.client.get(reverse(f"{PREFIX}:overview")).content.decode()
        sources = body[body.index('id="cm-overview-sources"') :]
        self.assertIn("Corpus folder", sources)
        self.assertIn("Parsed: ", sources)
        self.assertEqual(Sync.objects.filter(dry_run=False).count(), 1)

        # The demo moves every maintenance to around today, each whole, once, as a person's override.
        before = {m.pk: m for m in CircuitMaintenance.objects.all()}
        parsed_before = {p.pk: p.json for p in ParsedNotification.objects.all()}
        self.assertGreaterEqual(len(before), 5)
        now = datetime.now(timezone.utc)
        moves = move_to_today(self.user, now)
        self.assertEqual(len(moves), len(before))
        self.assertEqual(move_to_today(self.user, now), [])  # a second run moves nothing
        after = {m.pk: m for m in CircuitMaintenance.objects.all()}
        for pk, old in before.items():
            new, shift = after[pk], next(m.shift for m in moves if m.maintenance.pk == pk)
            self.assertEqual(new.start_time - old.start_time, shift)
            self.assertEqual(new.end_time - old.end_time, shift)
            self.assertEqual([(s - shift, e - shift) for s, e in new.window_times], old.window_times)
            self.assertTrue(new.override.reason.startswith(REASON), new.override.reason)
            self.assertEqual(new.override.created_by, self.user)
        # The mail is left as it is: the notices say what the provider said.
        self.assertEqual({p.pk: p.json for p in ParsedNotification.objects.all()}, parsed_before)
        states = {m.current_live_state(now) for m in after.values()}
        self.assertIn(LiveStateChoices.IN_PROGRESS, states)
        self.assertTrue({LiveStateChoices.STARTING_SOON, LiveStateChoices.UPCOMING} & states)
        self.assertTrue(CircuitMaintenance.objects.upcoming(14, now=now).filter(start_time__gt=now).exists())
        # A second sync over the same mail changes nothing (the folded notices were moved with the records).
        with self.configured([folder.source]):
            result, sync = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertEqual(
            {m.pk: (m.start_time, m.end_time) for m in CircuitMaintenance.objects.all()},
            {pk: (m.start_time, m.end_time) for pk, m in after.items()},
        )
        # Reprocessing the notices (the run triage's "Reprocess now" starts) keeps the demo's dates: the override holds.
        raws = list(RawNotification.objects.filter(parsed_notifications__isnull=False).distinct())
        with self.configured([folder.source]):
            result, _ = self.run_sync(notifications=[raw.pk for raw in raws])
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertEqual(
            {m.pk: (m.start_time, m.end_time) for m in CircuitMaintenance.objects.all()},
            {pk: (m.start_time, m.end_time) for pk, m in after.items()},
        )
