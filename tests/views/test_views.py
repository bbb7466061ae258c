"""UI views: Nautobot's generic view tests plus the app's own checks (escaping, windows, read-only pages)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.test import Client, override_settings
from django.urls import NoReverseMatch, reverse
from nautobot.apps.testing import TestCase, ViewTestCases
from nautobot.users.models import ObjectPermission

from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices, NoteLevelChoices
from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    RawNotification,
)
from tests.fixtures.ui_data import T0, build_ui_data

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
HTMX = {"HX-Request": "true"}  # list pages load their table through HTMX


class CircuitMaintenanceViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    model = CircuitMaintenance

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        provider = cls.data.providers[0]
        cls.form_data = {
            "provider": provider.pk,
            "maintenance_id": "CM-MANUAL-1",
            "name": "Entered by hand",
            "status": MaintenanceStatusChoices.CONFIRMED,
            "start_time": datetime(2031, 2, 1, 10, 0, tzinfo=timezone.utc),
            "end_time": datetime(2031, 2, 1, 12, 0, tzinfo=timezone.utc),
            "ack": True,
            "description": "Manual entry",
        }
        cls.update_data = {
            "name": "Corrected name",
            "status": MaintenanceStatusChoices.RE_SCHEDULED,
            "start_time": datetime(2031, 3, 1, 10, 0, tzinfo=timezone.utc),
            "end_time": datetime(2031, 3, 1, 12, 0, tzinfo=timezone.utc),
            "ack": True,
            "description": "Corrected by hand",
        }
        cls.bulk_edit_data = {"ack": True}


class CircuitImpactViewTest(
    ViewTestCases.GetObjectViewTestCase,
    ViewTestCases.GetObjectChangelogViewTestCase,
    ViewTestCases.GetObjectNotesViewTestCase,
    ViewTestCases.CreateObjectViewTestCase,
    ViewTestCases.EditObjectViewTestCase,
    ViewTestCases.DeleteObjectViewTestCase,
    ViewTestCases.ListObjectsViewTestCase,
    ViewTestCases.BulkEditObjectsViewTestCase,
    ViewTestCases.BulkDeleteObjectsViewTestCase,
):
    model = CircuitImpact

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        cls.form_data = {
            "maintenance": cls.data.maintenances[2].pk,
            "circuit": cls.data.circuits[5].pk,
            "impact": ImpactChoices.REDUCED_REDUNDANCY,
        }
        cls.update_data = {
            "maintenance": cls.data.maintenances[3].pk,
            "circuit": cls.data.circuits[4].pk,
            "impact": ImpactChoices.NO_IMPACT,
        }
        cls.bulk_edit_data = {"impact": ImpactChoices.DEGRADED}


class MaintenanceNoteViewTest(
    ViewTestCases.GetObjectViewTestCase,
    ViewTestCases.GetObjectChangelogViewTestCase,
    ViewTestCases.GetObjectNotesViewTestCase,
    ViewTestCases.CreateObjectViewTestCase,
    ViewTestCases.EditObjectViewTestCase,
    ViewTestCases.DeleteObjectViewTestCase,
    ViewTestCases.ListObjectsViewTestCase,
    ViewTestCases.BulkEditObjectsViewTestCase,
    ViewTestCases.BulkDeleteObjectsViewTestCase,
):
    model = MaintenanceNote

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        cls.form_data = {
            "maintenance": cls.data.maintenances[1].pk,
            "title": "Operator remark",
            "level": NoteLevelChoices.INFO,
            "comment": "Checked with the provider.",
        }
        cls.bulk_edit_data = {"level": NoteLevelChoices.WARNING}


class NotificationSourceViewTest(
    ViewTestCases.GetObjectViewTestCase,
    ViewTestCases.GetObjectChangelogViewTestCase,
    ViewTestCases.GetObjectNotesViewTestCase,
    ViewTestCases.EditObjectViewTestCase,
    ViewTestCases.ListObjectsViewTestCase,
):
    model = NotificationSource

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        cls.update_data = {"providers": [cls.data.providers[2].pk]}


class RawNotificationViewTest(ViewTestCases.GetObjectViewTestCase, ViewTestCases.ListObjectsViewTestCase):
    model = RawNotification

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()


@override_settings(EXEMPT_VIEW_PERMISSIONS=["*"])
class PageContentTest(TestCase):
    """What the pages show, beyond the generic checks."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def setUp(self) -> None:
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.client.force_login(self.user)

    def test_maintenance_list(self) -> None:
        response = self.client.get(reverse(f"{PREFIX}:circuitmaintenance_list"), headers=HTMX)
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        for maintenance in self.data.maintenances:
            self.assertIn(maintenance.name, body)
        # The provider's status under the live state (the Status column is not a default one).
        self.assertIn('<small class="text-secondary">Confirmed</small>', body)

    def test_maintenance_list_filtered(self) -> None:
        url = reverse(f"{PREFIX}:circuitmaintenance_list")
        response = self.client.get(url, {"circuit": "CM-CID-3"}, headers=HTMX)
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        self.assertIn("Planned work 0", body)
        self.assertNotIn("Planned work 1", body)

    def test_maintenance_detail_shows_windows_circuits_notes_notifications(self) -> None:
        maintenance = self.data.maintenances[0]
        response = self.client.get(maintenance.get_absolute_url())
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        # Both windows, in UTC.
        self.assertIn("2030-01-10 22:00 UTC", body)
        self.assertIn("2030-01-11 02:00 UTC", body)
        second = T0 + timedelta(days=7)
        self.assertIn(second.strftime("%Y-%m-%d %H:%M UTC"), body)
        self.assertIn("4h 00m", body)
        # Circuits with their impact.
        self.assertIn("CM-CID-0", body)
        self.assertIn("CM-CID-3", body)
        self.assertIn("Degraded", body)
        # Notes and notifications.
        self.assertIn("Unknown circuit GHOST-1", body)
        self.assertIn(self.data.raw_notifications[0].get_absolute_url(), body)
        self.assertIn("noc@provider-a.example", body)
        # The subject holds a script tag: escaped, never live.
        self.assertNotIn("<script>alert(1)</script>", body)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", body)
        self.assertIn("GHOST-1", body)

    def test_raw_notification_detail_is_decoded_and_inert(self) -> None:
        raw = self.data.raw_notifications[0]
        response = self.client.get(raw.get_absolute_url())
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        self.assertNotIn("<script>alert(1)</script>", body)
        self.assertNotIn("<script>alert(3)</script>", body)
        self.assertNotIn('<img src=x onerror="alert(2)">', body)
        self.assertNotIn("alert(2)", body)
        self.assertNotIn("<h1>Planned work</h1>", body)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", body)
        # The HTML part, sanitized, is the document of a sandboxed frame (escaped into its srcdoc).
        self.assertIn('sandbox=""', body)
        self.assertIn("&lt;h1&gt;Planned work&lt;/h1&gt;", body)
        # UTF-8 decoded, undecodable bytes replaced.
        self.assertIn("café", body)
        self.assertIn("\ufffd", body)
        # The parsed notification: link to the maintenance and the parser's JSON, escaped.
        self.assertIn(self.data.maintenances[0].get_absolute_url(), body)
        self.assertIn("&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(3)&lt;/script&gt;", body)
        self.assertIn("&quot;status&quot;: &quot;CONFIRMED&quot;", body)

    def test_raw_notification_is_read_only(self) -> None:
        for action in ("add", "edit", "delete", "bulk_edit", "bulk_delete", "import"):
            with self.assertRaises(NoReverseMatch):
                reverse(f"{PREFIX}:rawnotification_{action}")
        for action in ("edit", "delete"):
            with self.assertRaises(NoReverseMatch):
                reverse(f"{PREFIX}:rawnotification_{action}", kwargs={"pk": self.data.raw_notifications[0].pk})

    def test_notification_source_has_no_create_or_delete(self) -> None:
        for action in ("add", "bulk_delete", "import"):
            with self.assertRaises(NoReverseMatch):
                reverse(f"{PREFIX}:notificationsource_{action}")
        with self.assertRaises(NoReverseMatch):
            reverse(f"{PREFIX}:notificationsource_delete", kwargs={"pk": self.data.sources[0].pk})

    def test_notification_source_detail(self) -> None:
        source = self.data.sources[1]
        source.cursor = {"uidvalidity": 42, "last_uid": 17}
        source.last_error = "Login <failed>"
        source.validated_save()
        response = self.client.get(reverse(f"{PREFIX}:notificationsource", kwargs={"pk": source.pk}))
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        self.assertIn("Mailbox two", body)
        self.assertIn("CM Provider A", body)
        self.assertIn("CM Provider B", body)
        self.assertIn("uidvalidity", body)
        self.assertIn("Login &lt;failed&gt;", body)
        self.assertIn(f"{reverse(f'{PREFIX}:rawnotification_list')}?source={source.pk}", body)
        compliance = reverse(f"{PREFIX}:notificationsource_data-compliance", kwargs={"pk": source.pk})
        self.assertIn(compliance, body)  # Nautobot's Data Compliance tab, as on every primary model
        self.assertHttpStatus(self.client.get(compliance), 200)

    def test_notification_source_edit_changes_providers_only(self) -> None:
        source = self.data.sources[1]
        url = reverse(f"{PREFIX}:notificationsource_edit", kwargs={"pk": source.pk})
        response = self.client.post(
            url, {"providers": [self.data.providers[2].pk], "name": "Renamed", "source_type": "x"}, follow=True
        )
        self.assertHttpStatus(response, 200)
        source.refresh_from_db()
        self.assertEqual(list(source.providers.all()), [self.data.providers[2]])
        self.assertEqual(source.name, "Mailbox two")
        self.assertEqual(source.source_type, "imap")

    def test_maintenance_edit_keeps_identity(self) -> None:
        maintenance = self.data.maintenances[1]
        url = reverse(f"{PREFIX}:circuitmaintenance_edit", kwargs={"pk": maintenance.pk})
        response = self.client.get(url)
        self.assertHttpStatus(response, 200)
        self.assertNotIn('name="maintenance_id"', response.content.decode())
        data = {
            "name": "Acked",
            "status": maintenance.status,
            "start_time": "2030-01-11 22:00:00",
            "end_time": "2030-01-19 00:00:00",
            "ack": "on",
            "provider": self.data.providers[2].pk,
            "maintenance_id": "HIJACKED",
        }
        self.client.post(url, data, follow=True)
        maintenance.refresh_from_db()
        self.assertTrue(maintenance.ack)
        self.assertEqual(maintenance.name, "Acked")
        self.assertEqual(maintenance.maintenance_id, "CM-MAINT-1")
        self.assertEqual(maintenance.provider, self.data.providers[1])

    def test_raw_notification_list_filtered_by_outcome(self) -> None:
        response = self.client.get(
            reverse(f"{PREFIX}:rawnotification_list"), {"outcome": "unknown-provider"}, headers=HTMX
        )
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        self.assertIn("Lunch?", body)
        self.assertNotIn("Tentative maintenance", body)

    def test_circuit_and_provider_pages_show_upcoming_maintenances(self) -> None:
        circuit = self.data.circuits[3]
        response = self.client.get(circuit.get_absolute_url())
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        self.assertIn("upcoming maintenances", body.lower())
        self.assertIn(self.data.maintenances[0].get_absolute_url(), body)
        response = self.client.get(self.data.providers[1].get_absolute_url())
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        self.assertIn("upcoming maintenances", body.lower())
        self.assertIn(self.data.maintenances[1].get_absolute_url(), body)
        self.assertNotIn(self.data.maintenances[0].get_absolute_url(), body)


class ValidateSourceTest(TestCase):
    """The Validate button: opens the configured mailbox and reports, without reading or storing mail."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def setUp(self) -> None:
        super().setUp()
        self.folder = Path(tempfile.mkdtemp(prefix="cm-validate-"))
        self.addCleanup(shutil.rmtree, self.folder, True)
        (self.folder / "one.eml").write_bytes(b"From: noc@provider-a.example\r\nSubject: hi\r\n\r\nhello\r\n")
        sources = [
            {"name": "Mailbox three", "url": f"file://{self.folder}"},
            {"name": "Mailbox two", "url": "file:///nonexistent/cm-mail"},
        ]
        config = dict(settings.PLUGINS_CONFIG)
        config[APP_NAME] = {**config[APP_NAME], "notification_sources": sources}
        self.enterContext(override_settings(PLUGINS_CONFIG=config))

    def url(self, source: NotificationSource) -> str:
        return reverse(f"{PREFIX}:notificationsource_validate", kwargs={"pk": source.pk})

    def validate(self, source: NotificationSource):
        return self.client.post(self.url(source), follow=True)

    def test_button_and_results(self) -> None:
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_notificationsource",
            "nautobot_ssot_circuit_maintenance.change_notificationsource",
        )
        one, two, three = self.data.sources
        body = self.client.get(three.get_absolute_url()).content.decode()
        # A form posting to Validate with Nautobot's CSRF token, not a link.
        form = body[body.index(f'<form method="post" action="{self.url(three)}"') :]
        self.assertIn("csrfmiddlewaretoken", form[: form.index("</form>")])
        self.assertNotIn(f'href="{self.url(three)}"', body)
        self.assertContains(self.validate(three), "Mailbox three: connected.")
        self.assertContains(self.validate(two), "does not exist")
        self.assertContains(self.validate(one), "Mailbox one: not in PLUGINS_CONFIG any more.")
        self.assertFalse(RawNotification.objects.filter(location="one.eml").exists())

    def test_other_methods_are_refused(self) -> None:
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_notificationsource",
            "nautobot_ssot_circuit_maintenance.change_notificationsource",
        )
        url = self.url(self.data.sources[2])
        for method in ("get", "put", "patch", "delete"):
            with self.subTest(method=method):
                self.assertHttpStatus(getattr(self.client, method)(url), 405)

    def test_needs_change_permission(self) -> None:
        source = self.data.sources[2]
        self.assertHttpStatus(self.client.post(self.url(source)), 403)
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_notificationsource")
        self.assertHttpStatus(self.client.post(self.url(source)), 403)
        body = self.client.get(source.get_absolute_url()).content.decode()
        self.assertNotIn(self.url(source), body)  # no button for a user who may not use it

    def test_change_permission_is_per_object(self) -> None:
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_notificationsource")
        permission = ObjectPermission.objects.create(
            name="change mailbox two only", actions=["change"], constraints={"name": "Mailbox two"}
        )
        permission.object_types.add(ContentType.objects.get_for_model(NotificationSource))
        permission.users.add(self.user)
        one, two, three = self.data.sources
        self.assertHttpStatus(self.client.post(self.url(three)), 404)
        self.assertContains(self.validate(two), "does not exist")

    def test_csrf_token_required(self) -> None:
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_notificationsource",
            "nautobot_ssot_circuit_maintenance.change_notificationsource",
        )
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.user)
        url = self.url(self.data.sources[2])
        # Without the token, DRF's session authentication refuses the user: the source is not even looked up.
        refused = client.post(url, follow=True)
        self.assertIn(refused.status_code, (403, 404))
        self.assertNotContains(refused, "connected", status_code=refused.status_code)
        page = client.get(self.data.sources[2].get_absolute_url())
        token = page.cookies[settings.CSRF_COOKIE_NAME].value
        response = client.post(url, {"csrfmiddlewaretoken": token}, follow=True)
        self.assertContains(response, "Mailbox three: connected.")


@override_settings(EXEMPT_VIEW_PERMISSIONS=["*"])
class BadInputPageTest(TestCase):
    """Bad query values and paths under the app: a message or a 404, never a 500 and never ignored."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def setUp(self) -> None:
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.client.force_login(self.user)

    def test_date_filters_of_the_filter_form(self) -> None:
        url = reverse(f"{PREFIX}:circuitmaintenance_list")
        response = self.client.get(url, {"start_time__gte": "2030-01-12 00:00"}, headers=HTMX)
        self.assertHttpStatus(response, 200)
        body = response.content.decode()
        self.assertIn("Planned work 3", body)
        self.assertNotIn("Planned work 0", body)
        # The full page renders the filter form with the value given.
        response = self.client.get(url, {"start_time__gte": "2030-01-12 00:00", "end_time__lte": "2031-01-01"})
        self.assertHttpStatus(response, 200)
        self.assertIn('value="2030-01-12 00:00"', response.content.decode())
        response = self.client.get(reverse(f"{PREFIX}:rawnotification_list"), {"date__gte": "2030-01-08 12:00"})
        self.assertHttpStatus(response, 200)

    def test_invalid_values_are_reported_not_ignored(self) -> None:
        url = reverse(f"{PREFIX}:circuitmaintenance_list")
        for params in (
            {"ack": "maybe"},
            {"start_time__gte": "2026-13-45"},
            {"ended_within_days": "800000"},
            {"name__re": ".*("},
            {"provider": "\x00"},
        ):
            with self.subTest(params=params):
                self.assertHttpStatus(self.client.get(url, params), 200)  # the page with its filter form
                response = self.client.get(url, params, headers=HTMX)
                self.assertHttpStatus(response, 200)
                errors = [str(message) for message in get_messages(response.wsgi_request)]
                self.assertTrue(any("Invalid filters were specified" in text for text in errors), errors)
                self.assertNotIn("Planned work 0", response.content.decode())  # nothing listed, not everything

    def test_unknown_paths_are_404(self) -> None:
        for path in (
            "/plugins/circuit-maintenance/source/add/",
            "/plugins/circuit-maintenance/maintenance/add-me/",
            f"/plugins/circuit-maintenance/maintenance/{self.data.sources[0].pk}/",  # a pk of another model
            "/plugins/circuit-maintenance/nothing-here/",
            "/plugins/circuit-maintenance/rawnotification/add/",
            "/api/plugins/circuit-maintenance/maintenance/not-a-uuid/",
            "/api/plugins/circuit-maintenance/nothing-here/",
            f"/api/plugins/circuit-maintenance/notificationsource/{self.data.maintenances[0].pk}/",
        ):
            with self.subTest(path=path):
                self.assertHttpStatus(self.client.get(path), 404)


class HomePageTest(TestCase):
    """The home page panel: open maintenances of the next two weeks, soonest first."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        provider = cls.data.providers[1]

        def maintenance(mid: str, status: str, start: datetime, hours: int = 4, ack: bool = False):
            record = CircuitMaintenance.objects.create(
                provider=provider,
                maintenance_id=mid,
                name=f"Home {mid}",
                status=status,
                start_time=start,
                end_time=start + timedelta(hours=hours),
                ack=ack,
            )
            return record

        cls.running = maintenance("RUNNING", MaintenanceStatusChoices.IN_PROCESS, now - timedelta(hours=1))
        cls.soon = maintenance("SOON", MaintenanceStatusChoices.CONFIRMED, now + timedelta(days=2), ack=True)
        CircuitImpact.objects.create(maintenance=cls.soon, circuit=cls.data.circuits[1], impact=ImpactChoices.OUTAGE)
        maintenance("CANCELLED", MaintenanceStatusChoices.CANCELLED, now + timedelta(days=1))
        maintenance("LATER", MaintenanceStatusChoices.CONFIRMED, now + timedelta(days=30))
        maintenance("OVER", MaintenanceStatusChoices.CONFIRMED, now - timedelta(days=2))

    def test_upcoming_panel(self) -> None:
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")
        body = self.client.get("/").content.decode()
        self.assertIn("Circuit Maintenances, next 14 days", body)
        self.assertIn("Home RUNNING", body)
        self.assertIn("Home SOON", body)
        self.assertLess(body.index("Home RUNNING"), body.index("Home SOON"))
        for absent in ("Home CANCELLED", "Home LATER", "Home OVER"):
            self.assertNotIn(absent, body)
        soon = body[body.index("Home SOON") :]
        start, end = self.soon.start_time, self.soon.end_time
        end_text = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
        self.assertIn(f"{start:%Y-%m-%d %H:%M}–{end_text} UTC", soon)
        self.assertIn("1 circuit", soon)
        running = body[body.index("Home RUNNING") : body.index("Home SOON")]
        self.assertIn("not acknowledged", running)

    def test_panel_needs_permission(self) -> None:
        body = self.client.get("/").content.decode()
        self.assertNotIn("Home RUNNING", body)
