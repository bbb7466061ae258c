"""How times are shown: one shape with the zone, in the reader's time zone on pages, in UTC in stored text."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from django.conf import settings
from django.test import SimpleTestCase
from django.urls import reverse
from django.utils import timezone as dj_timezone
from django.utils.formats import date_format
from nautobot.apps.testing import TestCase
from nautobot.circuits.models import Provider

from nautobot_ssot_circuit_maintenance import display
from nautobot_ssot_circuit_maintenance.choices import MaintenanceStatusChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.decisions.forms import OverrideForm
from nautobot_ssot_circuit_maintenance.intake.fold import MaintenanceState
from nautobot_ssot_circuit_maintenance.intake.overrides import apply_override
from nautobot_ssot_circuit_maintenance.intake.resolve import ResolvedMaintenance
from nautobot_ssot_circuit_maintenance.models import MaintenanceFlag, RawNotification
from nautobot_ssot_circuit_maintenance.sync.diffsync.log_messages import describe_create, describe_update
from nautobot_ssot_circuit_maintenance.sync.diffsync.models import window_entry
from tests.fixtures.records import create_maintenance

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
HTMX = {"HX-Request": "true"}
PARIS = "Europe/Paris"

# A winter window (CET, UTC+1) and a summer one (CEST, UTC+2) that crosses midnight in UTC but not in Paris.
WINTER = (datetime(2030, 1, 10, 22, 0, tzinfo=timezone.utc), datetime(2030, 1, 11, 2, 0, tzinfo=timezone.utc))
SUMMER = (datetime(2030, 7, 1, 22, 30, tzinfo=timezone.utc), datetime(2030, 7, 2, 1, 0, tzinfo=timezone.utc))
RECEIVED = datetime(2030, 7, 1, 12, 0, tzinfo=timezone.utc)


class WritersTest(SimpleTestCase):
    """display.py: the reader's writer follows the active zone, the UTC writer never does."""

    def tearDown(self):
        dj_timezone.deactivate()
        super().tearDown()

    def test_the_readers_zone_with_its_abbreviation(self):
        with dj_timezone.override(PARIS):
            self.assertEqual(display.format_local(WINTER[0]), "2030-01-10 23:00 CET")
            self.assertEqual(display.format_local(SUMMER[0]), "2030-07-02 00:30 CEST")
            self.assertEqual(display.format_local_window(*SUMMER), "2030-07-02 00:30–03:00 CEST")
            self.assertEqual(display.format_local_window(*WINTER), "2030-01-10 23:00–2030-01-11 03:00 CET")
            self.assertEqual(display.format_local_windows([]), "none")
        self.assertEqual(display.format_local(WINTER[0]), "2030-01-10 22:00 UTC")
        self.assertEqual(display.format_local_window(*SUMMER), "2030-07-01 22:30–2030-07-02 01:00 UTC")

    def test_a_clock_change_inside_a_window_names_both_zones(self):
        # Paris goes from CEST to CET at 01:00 UTC on 2030-10-27.
        start, end = (
            datetime(2030, 10, 26, 23, 30, tzinfo=timezone.utc),
            datetime(2030, 10, 27, 2, 30, tzinfo=timezone.utc),
        )
        with dj_timezone.override(PARIS):
            self.assertEqual(display.format_local_window(start, end), "2030-10-27 01:30 CEST–03:30 CET")

    def test_a_zone_without_letters_gives_its_offset(self):
        with dj_timezone.override("America/Sao_Paulo"):  # the tz database writes "-03"
            self.assertEqual(display.format_local(WINTER[0]), "2030-01-10 19:00 UTC-03:00")
        with dj_timezone.override("Asia/Kathmandu"):  # "+0545"
            self.assertEqual(display.format_local(WINTER[0]), "2030-01-11 03:45 UTC+05:45")

    def test_the_utc_writer_ignores_the_readers_zone(self):
        with dj_timezone.override(PARIS):
            self.assertEqual(display.format_utc(SUMMER[0]), "2030-07-01 22:30 UTC")
            self.assertEqual(display.format_utc("2030-07-01T22:30:00+00:00"), "2030-07-01 22:30 UTC")
            self.assertEqual(display.format_utc_window(*SUMMER), "2030-07-01 22:30–2030-07-02 01:00 UTC")
            self.assertEqual(display.format_utc(None), "")

    def test_nautobots_own_fields_are_set_to_the_same_shape(self):
        # development/nautobot_config.py, as docs/install.md recommends.
        self.assertEqual(settings.DATETIME_FORMAT, display.DATE_TIME_LETTERS)
        self.assertEqual(settings.SHORT_DATETIME_FORMAT, display.DATE_TIME_LETTERS)

    def test_the_help_text_names_the_active_zone(self):
        self.assertEqual(display.zone_help_text(), "In UTC.")
        with dj_timezone.override(PARIS):
            self.assertEqual(display.zone_help_text(), "In your time zone, Europe/Paris (set in your profile).")


class StoredTextTest(TestCase):
    """Text that is kept (SSoT log, notes, flag names in the change log) is in UTC whoever triggered it."""

    def tearDown(self):
        dj_timezone.deactivate()
        super().tearDown()

    def test_log_lines_notes_and_names_stay_utc_in_a_readers_zone(self):
        provider = Provider.objects.create(name="TZ Provider")
        with dj_timezone.override(PARIS):
            entries = [window_entry(*SUMMER)]
            created = describe_create({"status": "CONFIRMED", "windows": entries})
            self.assertEqual(created, "created CONFIRMED; window 2030-07-01 22:30–2030-07-02 01:00 UTC")
            moved = describe_update({"windows": [window_entry(*WINTER)]}, {"windows": entries})
            self.assertIn("2030-01-10 22:00–2030-01-11 02:00 UTC → 2030-07-01 22:30–2030-07-02 01:00 UTC", moved)

            state = MaintenanceState(maintenance_id="TZ-1", status="CONFIRMED", description="", windows=[WINTER])
            resolved = ResolvedMaintenance(
                provider_pk=provider.pk, provider_name=provider.name, state=state, circuits={}
            )
            held = apply_override(resolved, "", [SUMMER], None)
            self.assertEqual(
                held, ["windows 2030-07-01 22:30–2030-07-02 01:00 UTC → 2030-01-10 22:00–2030-01-11 02:00 UTC"]
            )

            flag = MaintenanceFlag(kind="isolation", location=None, start_time=SUMMER[0], end_time=SUMMER[1])
            self.assertTrue(str(flag).endswith("2030-07-01 22:30 UTC"), str(flag))


class SuperuserInAZoneMixin:
    """A superuser's requests; the zone a request activated is dropped after each test."""

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def tearDown(self):
        # The middleware activates the user's zone in this thread and leaves it there.
        dj_timezone.deactivate()
        super().tearDown()


class PagesInTheReadersZoneTest(SuperuserInAZoneMixin, TestCase):
    """The app's pages write every time in the user's time zone when they set one, else in UTC; always with the zone."""

    @classmethod
    def setUpTestData(cls):
        provider = Provider.objects.create(name="TZ Provider")
        cls.winter = create_maintenance(
            provider, "TZ-WINTER", "Winter work", MaintenanceStatusChoices.CONFIRMED, [WINTER]
        )
        cls.summer = create_maintenance(
            provider, "TZ-SUMMER", "Summer work", MaintenanceStatusChoices.CONFIRMED, [SUMMER]
        )
        cls.raw = RawNotification.objects.create(
            message_key="<tz@elsewhere.example>",
            sender="noc@elsewhere.example",
            subject="Whose maintenance?",
            date=RECEIVED,
            raw=b"Subject: Whose maintenance?\r\n\r\n?\r\n",
            raw_size=34,
            outcome=OutcomeChoices.UNKNOWN_PROVIDER,
        )

    def in_paris(self):
        self.user.set_config("timezone", PARIS, commit=True)

    def get(self, name, *args, htmx=False):
        response = self.client.get(reverse(f"{PREFIX}:{name}", args=args), headers=HTMX if htmx else {})
        self.assertHttpStatus(response, 200)
        return response.content.decode()

    def test_maintenance_list_in_the_users_zone(self):
        self.in_paris()
        rows = self.get("circuitmaintenance_list", htmx=True)
        self.assertIn(
            '<span class="text-nowrap">2030-07-02 00:30</span> <span class="text-nowrap">→ 03:00 CEST</span>', rows
        )
        self.assertIn(
            '<span class="text-nowrap">2030-01-10 23:00</span> <span class="text-nowrap">→ 2030-01-11 03:00 CET</span>',
            rows,
        )
        self.assertNotIn("UTC", rows)

    def test_maintenance_list_in_utc_without_a_zone(self):
        rows = self.get("circuitmaintenance_list", htmx=True)
        self.assertIn(
            '<span class="text-nowrap">2030-07-01 22:30</span> <span class="text-nowrap">→ 2030-07-02 01:00 UTC</span>',
            rows,
        )
        self.assertNotIn("CEST", rows)
        self.assertNotIn("(UTC)", rows)

    def test_detail_page_in_the_users_zone(self):
        self.in_paris()
        page = self.get("circuitmaintenance", self.summer.pk)
        for text in ("2030-07-02 00:30 CEST", "2030-07-02 03:00 CEST"):
            self.assertIn(text, page)
        self.assertNotIn("(UTC)", page)
        # Nautobot's own fields (created, last updated) follow DATETIME_FORMAT: the same shape, the same zone.
        created = date_format(dj_timezone.localtime(self.summer.created, ZoneInfo(PARIS)), "DATETIME_FORMAT")
        self.assertRegex(created, r"^\d{4}-\d\d-\d\d \d\d:\d\d CES?T$")
        self.assertIn(created, page)

    def test_detail_page_in_utc_without_a_zone(self):
        page = self.get("circuitmaintenance", self.summer.pk)
        for text in ("2030-07-01 22:30 UTC", "2030-07-02 01:00 UTC"):
            self.assertIn(text, page)
        self.assertIn(date_format(self.summer.created.astimezone(timezone.utc), "Y-m-d H:i") + " UTC", page)

    def test_overview_in_the_users_zone(self):
        self.in_paris()
        page = self.get("overview")
        self.assertIn("2030-07-02 00:30 CEST", page)
        self.assertIn("2030-01-10 23:00 CET", page)
        self.assertNotIn("(UTC)", page)
        dj_timezone.deactivate()
        self.user.set_config("timezone", "", commit=True)
        page = self.get("overview")
        self.assertIn("2030-07-01 22:30 UTC", page)

    def test_triage_queue_in_the_users_zone(self):
        self.in_paris()
        rows = self.get("triage_list", htmx=True)
        self.assertIn("2030-07-01 14:00 CEST", rows)
        self.assertNotIn("UTC", rows)
        self.assertIn("2030-07-01 14:00 CEST", self.get("rawnotification", self.raw.pk))

    def test_triage_queue_in_utc_without_a_zone(self):
        rows = self.get("triage_list", htmx=True)
        self.assertIn("2030-07-01 12:00 UTC", rows)


class FormsInTheReadersZoneTest(SuperuserInAZoneMixin, TestCase):
    """A typed time is read in the active zone, and the form says which."""

    @classmethod
    def setUpTestData(cls):
        provider = Provider.objects.create(name="TZ Provider")
        cls.maintenance = create_maintenance(
            provider, "TZ-FORM", "Typed by hand", MaintenanceStatusChoices.CONFIRMED, [WINTER]
        )

    def test_edit_form_names_the_zone_and_reads_the_time_in_it(self):
        self.user.set_config("timezone", PARIS, commit=True)
        url = reverse(f"{PREFIX}:circuitmaintenance_edit", args=[self.maintenance.pk])
        self.assertContains(self.client.get(url), "In your time zone, Europe/Paris (set in your profile).")
        form = {
            "name": self.maintenance.name,
            "status": self.maintenance.status,
            "start_time": "2030-07-01 10:00:00",  # CEST: 08:00 UTC
            "end_time": "2030-07-01 12:00:00",
            "description": "",
        }
        response = self.client.post(url, form)
        self.assertEqual(response.status_code, 302, response.content[-2000:])
        self.maintenance.refresh_from_db()
        self.assertEqual(self.maintenance.start_time, datetime(2030, 7, 1, 8, 0, tzinfo=timezone.utc))
        self.assertEqual(self.maintenance.end_time, datetime(2030, 7, 1, 10, 0, tzinfo=timezone.utc))

    def test_edit_form_in_utc_without_a_zone(self):
        url = reverse(f"{PREFIX}:circuitmaintenance_edit", args=[self.maintenance.pk])
        page = self.client.get(url).content.decode()
        self.assertIn("In UTC.", page)
        self.assertNotIn("your time zone", page)

    def test_override_window_is_read_in_the_active_zone(self):
        override_url = reverse(f"{PREFIX}:circuitmaintenance_override", args=[self.maintenance.pk])
        self.assertContains(self.client.get(override_url), "In UTC.")
        with dj_timezone.override(PARIS):
            form = OverrideForm(
                {"start": "2030-01-15 10:00", "end": "2030-01-15 12:00", "reason": "agreed by phone"},
                maintenance=self.maintenance,
            )
            self.assertIn("In your time zone, Europe/Paris (set in your profile).", form.fields["start"].help_text)
            self.assertTrue(form.is_valid(), form.errors)
        start, end = form.cleaned_data["windows"][0]
        self.assertEqual(start, datetime(2030, 1, 15, 9, 0, tzinfo=timezone.utc))
        self.assertEqual(end, datetime(2030, 1, 15, 11, 0, tzinfo=timezone.utc))

    def test_filter_form_names_the_zone(self):
        self.user.set_config("timezone", PARIS, commit=True)
        self.assertContains(
            self.client.get(reverse(f"{PREFIX}:circuitmaintenance_list")), "Starts after (Europe/Paris)"
        )
        self.assertContains(self.client.get(reverse(f"{PREFIX}:rawnotification_list")), "Received after (Europe/Paris)")
