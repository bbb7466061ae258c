"""REST API: Nautobot's generic API tests plus the app's own checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from django.urls import reverse
from nautobot.apps.testing import APITestCase, APIViewTestCases
from nautobot.extras.context_managers import web_request_context
from nautobot.extras.models import ObjectChange
from nautobot_ssot.models import Sync

from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices, NoteLevelChoices
from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from tests.fixtures.ui_data import SCRIPT_MAIL, build_ui_data

API = "plugins-api:nautobot_ssot_circuit_maintenance-api"


class CircuitMaintenanceAPITest(APIViewTestCases.APIViewTestCase):
    model = CircuitMaintenance
    choices_fields = ["status"]
    bulk_update_data = {"ack": True}

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        provider = cls.data.providers[1]
        cls.create_data = [
            {
                "provider": provider.pk,
                "maintenance_id": f"API-{i}",
                "name": f"API maintenance {i}",
                "status": MaintenanceStatusChoices.CONFIRMED,
                "start_time": datetime(2031, 1, 1, 10, 0, tzinfo=timezone.utc),
                "end_time": datetime(2031, 1, 1, 12, 0, tzinfo=timezone.utc),
                "windows": [{"start": "2031-01-01T10:00:00+00:00", "end": "2031-01-01T12:00:00+00:00"}],
            }
            for i in range(3)
        ]
        cls.update_data = {"ack": True, "name": "Updated by API"}


class CircuitImpactAPITest(APIViewTestCases.APIViewTestCase):
    model = CircuitImpact
    choices_fields = ["impact"]
    bulk_update_data = {"impact": ImpactChoices.DEGRADED}

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        maintenance = cls.data.maintenances[3]
        cls.create_data = [
            {"maintenance": maintenance.pk, "circuit": circuit.pk, "impact": ImpactChoices.OUTAGE}
            for circuit in cls.data.circuits[:3]
        ]


class MaintenanceNoteAPITest(APIViewTestCases.APIViewTestCase):
    model = MaintenanceNote
    choices_fields = ["level"]
    bulk_update_data = {"level": NoteLevelChoices.WARNING}

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        cls.create_data = [
            {"maintenance": cls.data.maintenances[0].pk, "title": f"API note {i}", "comment": "x"} for i in range(3)
        ]


class NotificationSourceAPITest(
    APIViewTestCases.GetObjectViewTestCase,
    APIViewTestCases.ListObjectsViewTestCase,
    APIViewTestCases.UpdateObjectViewTestCase,
    APIViewTestCases.NotesURLViewTestCase,
):
    model = NotificationSource

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()
        cls.update_data = {"providers": [cls.data.providers[2].pk]}
        # The API leaves many-to-many fields out of its answers by default: nothing else to bulk-update.
        cls.bulk_update_data = None


class RawNotificationAPITest(APIViewTestCases.GetObjectViewTestCase, APIViewTestCases.ListObjectsViewTestCase):
    model = RawNotification

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()


class ParsedNotificationAPITest(APIViewTestCases.GetObjectViewTestCase, APIViewTestCases.ListObjectsViewTestCase):
    model = ParsedNotification

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()


class AppAPITest(APITestCase):
    """Behaviour specific to this app's API."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def setUp(self) -> None:
        super().setUp()
        self.user.is_superuser = True
        self.user.save()

    def test_paths_match_the_older_app(self) -> None:
        self.assertEqual(reverse(f"{API}:circuitmaintenance-list"), "/api/plugins/circuit-maintenance/maintenance/")
        for name, path in (
            ("circuitimpact", "circuitimpact"),
            ("maintenancenote", "note"),
            ("rawnotification", "rawnotification"),
            ("parsednotification", "parsednotification"),
            ("notificationsource", "notificationsource"),
            ("circuitalias", "circuitalias"),
            ("maintenanceflag", "flag"),
        ):
            self.assertEqual(reverse(f"{API}:{name}-list"), f"/api/plugins/circuit-maintenance/{path}/")

    def test_raw_is_text(self) -> None:
        raw = self.data.raw_notifications[0]
        response = self.client.get(reverse(f"{API}:rawnotification-detail", args=[raw.pk]), **self.header)
        self.assertHttpStatus(response, 200)
        self.assertIsInstance(response.data["raw"], str)
        self.assertEqual(response.data["raw"], SCRIPT_MAIL.decode("utf-8", errors="replace"))
        self.assertIn("café", response.data["raw"])

    def test_raw_notifications_are_read_only(self) -> None:
        url = reverse(f"{API}:rawnotification-list")
        response = self.client.post(url, {"subject": "x"}, format="json", **self.header)
        self.assertHttpStatus(response, 405)
        detail = reverse(f"{API}:rawnotification-detail", args=[self.data.raw_notifications[0].pk])
        self.assertHttpStatus(self.client.delete(detail, **self.header), 405)
        self.assertHttpStatus(self.client.patch(detail, {"subject": "x"}, format="json", **self.header), 405)
        parsed = reverse(f"{API}:parsednotification-detail", args=[self.data.parsed_notifications[0].pk])
        self.assertHttpStatus(self.client.delete(parsed, **self.header), 405)

    def test_notification_source_no_create_delete_and_only_providers_writable(self) -> None:
        url = reverse(f"{API}:notificationsource-list")
        self.assertHttpStatus(self.client.post(url, {"name": "new"}, format="json", **self.header), 405)
        source = self.data.sources[1]
        detail = reverse(f"{API}:notificationsource-detail", args=[source.pk])
        self.assertHttpStatus(self.client.delete(detail, **self.header), 405)
        response = self.client.patch(
            detail,
            {"name": "Renamed", "cursor": {"x": 1}, "providers": [str(self.data.providers[2].pk)]},
            format="json",
            **self.header,
        )
        self.assertHttpStatus(response, 200)
        source.refresh_from_db()
        self.assertEqual(source.name, "Mailbox two")
        self.assertEqual(source.cursor, {})
        self.assertEqual(list(source.providers.all()), [self.data.providers[2]])

    def test_a_sync_run_is_named_not_nested_at_any_depth(self) -> None:
        # A run's diff can be megabytes: a source's or notification's answer names the run, whatever the depth.
        sync = Sync.objects.create(
            source="Mailboxes", target="Nautobot", start_time=datetime.now(timezone.utc), diff={"big": "x" * 1000}
        )
        source = self.data.sources[0]
        NotificationSource.objects.filter(pk=source.pk).update(last_sync=sync)
        raw = self.data.raw_notifications[0]
        RawNotification.objects.filter(pk=raw.pk).update(sync=sync)
        for name, pk, field in (("notificationsource", source.pk, "last_sync"), ("rawnotification", raw.pk, "sync")):
            for depth in (0, 1, 2):
                url = reverse(f"{API}:{name}-detail", args=[pk]) + f"?depth={depth}"
                response = self.client.get(url, **self.header)
                self.assertHttpStatus(response, 200)
                self.assertEqual(set(response.data[field]), {"id", "object_type", "url"}, (name, depth))
                self.assertEqual(str(response.data[field]["id"]), str(sync.pk))
        # And the source's change log entry names it the same way (saved as a run saves it, in a change context).
        with web_request_context(self.user):
            source.last_sync = sync
            source.save(update_fields=["last_sync"])
        change = ObjectChange.objects.filter(changed_object_id=source.pk).latest("time")
        self.assertEqual(set(change.object_data_v2["last_sync"]), {"id", "object_type", "url"})

    def test_no_notes_warning_on_any_list(self) -> None:
        for name in (
            "circuitmaintenance",
            "circuitimpact",
            "maintenancenote",
            "rawnotification",
            "parsednotification",
            "notificationsource",
        ):
            with self.subTest(name=name), self.assertNoLogs("nautobot.core.api.serializers", level="WARNING"):
                response = self.client.get(reverse(f"{API}:{name}-list"), {"depth": 1}, **self.header)
                self.assertHttpStatus(response, 200)
                self.assertGreater(response.data["count"], 0)

    def test_filter_maintenances_by_circuit_and_status(self) -> None:
        url = reverse(f"{API}:circuitmaintenance-list")
        response = self.client.get(url, {"circuit": "CM-CID-3"}, **self.header)
        self.assertEqual([m["maintenance_id"] for m in response.data["results"]], ["CM-MAINT-0"])
        response = self.client.get(url, {"status": ["TENTATIVE", "COMPLETED"]}, **self.header)
        self.assertEqual(response.data["count"], 2)


class MaintenanceJSONFieldsTest(APITestCase):
    """`windows` and `unresolved_circuit_ids` are checked on create and update: a 400 naming the field."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def setUp(self) -> None:
        super().setUp()
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.add_circuitmaintenance",
            "nautobot_ssot_circuit_maintenance.change_circuitmaintenance",
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
            "circuits.view_provider",
        )
        self.list_url = reverse(f"{API}:circuitmaintenance-list")
        self.detail_url = reverse(f"{API}:circuitmaintenance-detail", args=[self.data.maintenances[3].pk])

    def create(self, number: int, **fields):
        body = {
            "provider": str(self.data.providers[1].pk),
            "maintenance_id": f"JSON-{number}",
            "name": "JSON",
            "start_time": "2031-01-01T10:00:00Z",
            "end_time": "2031-01-01T12:00:00Z",
            **fields,
        }
        return self.client.post(self.list_url, body, format="json", **self.header)

    def test_bad_windows_are_refused(self) -> None:
        window = {"start": "2031-01-01T10:00:00+00:00", "end": "2031-01-01T12:00:00+00:00"}
        for number, windows in enumerate(
            (
                "not a list",
                {"start": window["start"], "end": window["end"]},
                [window, "x"],
                [{"start": window["start"]}],
                [{**window, "extra": 1}],
                [{"start": window["end"], "end": window["start"]}],  # start after end
                [{"start": "2031-02-30T10:00:00+00:00", "end": window["end"]}],
                [{"start": "2031-01-01T10:00:00", "end": "2031-01-01T12:00:00"}],  # no time zone
                [{"start": "9999-12-31T23:00:00-05:00", "end": "9999-12-31T23:30:00-05:00"}],  # past 9999 in UTC
                [{"start": "1900-01-01T00:00:00+00:00", "end": window["end"]}],
                [{"start": 1700000000, "end": 1700003600}],
                [{"start": "2031-01-01T10:00:00+00:00\x00", "end": window["end"]}],
                [window] * 1001,
            )
        ):
            with self.subTest(windows=str(windows)[:60]):
                response = self.create(number, windows=windows)
                self.assertHttpStatus(response, 400)
                self.assertIn("windows", response.data)
                response = self.client.patch(self.detail_url, {"windows": windows}, format="json", **self.header)
                self.assertHttpStatus(response, 400)
                self.assertIn("windows", response.data)
        self.assertFalse(CircuitMaintenance.objects.filter(maintenance_id__startswith="JSON-").exists())
        self.data.maintenances[3].refresh_from_db()
        self.assertEqual(self.data.maintenances[3].windows, [])

    def test_bad_circuit_ids_are_refused(self) -> None:
        for number, ids in enumerate(
            (
                "CID-1",
                {"cid": "CID-1"},
                [1, 2],
                ["   "],
                ["CID\x00"],
                ["CID\n2"],
                ["C" * 256],
                [f"CID-{i}" for i in range(10001)],
                [["nested"]],
            )
        ):
            with self.subTest(ids=str(ids)[:60]):
                response = self.create(number, unresolved_circuit_ids=ids)
                self.assertHttpStatus(response, 400)
                self.assertIn("unresolved_circuit_ids", response.data)
                response = self.client.patch(
                    self.detail_url, {"unresolved_circuit_ids": ids}, format="json", **self.header
                )
                self.assertHttpStatus(response, 400)
                self.assertIn("unresolved_circuit_ids", response.data)

    def test_good_values_are_kept_and_readable_everywhere(self) -> None:
        windows = [
            {"start": "2031-01-01T10:00:00+00:00", "end": "2031-01-01T12:00:00+00:00"},
            {"start": "2031-01-02T10:00:00+02:00", "end": "2031-01-02T10:00:00+02:00"},  # empty window: allowed
        ]
        response = self.create(1, windows=windows, unresolved_circuit_ids=["GHOST-9", "ünïcødé-1"])
        self.assertHttpStatus(response, 201)
        maintenance = CircuitMaintenance.objects.get(maintenance_id="JSON-1")
        self.assertEqual(maintenance.windows, windows)
        self.assertEqual(maintenance.unresolved_circuit_ids, ["GHOST-9", "ünïcødé-1"])
        # A CSV round trip of an empty list gives [""]: still read as an empty list.
        response = self.client.patch(self.detail_url, {"unresolved_circuit_ids": [""]}, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        self.assertHttpStatus(self.client.get(maintenance.get_absolute_url(api=True), **self.header), 200)
        self.assertHttpStatus(
            self.client.get(reverse(f"{API}:circuitmaintenance-calendar"), {"ended_within_days": 36500}, **self.header),
            200,
        )


class MaintenanceLiveStateTest(APITestCase):
    """`live_state` (read-only, from the windows and the clock) and who acknowledged, in the payload; its filter."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    def setUp(self) -> None:
        super().setUp()
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")
        self.url = reverse(f"{API}:circuitmaintenance-list")

    def test_live_state_in_the_payload(self) -> None:
        response = self.client.get(self.url, **self.header)
        self.assertHttpStatus(response, 200)
        self.assertEqual(
            {row["maintenance_id"]: row["live_state"] for row in response.data["results"]},
            {"CM-MAINT-0": "upcoming", "CM-MAINT-1": "upcoming", "CM-MAINT-2": "ended", "CM-MAINT-3": "cancelled"},
        )
        # A maintenance whose window holds the present is in progress.
        now = datetime.now(timezone.utc)
        maintenance = self.data.maintenances[1]
        window = {"start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(hours=1)).isoformat()}
        CircuitMaintenance.objects.filter(pk=maintenance.pk).update(
            windows=[window], start_time=now - timedelta(hours=1), end_time=now + timedelta(hours=1)
        )
        response = self.client.get(maintenance.get_absolute_url(api=True), **self.header)
        self.assertEqual(response.data["live_state"], "in-progress")

    def test_live_state_is_read_only(self) -> None:
        self.add_permissions("nautobot_ssot_circuit_maintenance.change_circuitmaintenance", "circuits.view_provider")
        maintenance = self.data.maintenances[0]
        response = self.client.patch(
            maintenance.get_absolute_url(api=True), {"live_state": "ended"}, format="json", **self.header
        )
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.data["live_state"], "upcoming")

    def test_acknowledged_by_and_at(self) -> None:
        maintenance = self.data.maintenances[0]
        maintenance.acknowledge(self.user)
        maintenance.save()
        response = self.client.get(maintenance.get_absolute_url(api=True), **self.header)
        self.assertEqual(response.data["acknowledged_by"]["id"], self.user.pk)
        self.assertIsNotNone(response.data["acknowledged_at"])

    def test_live_state_filter(self) -> None:
        for states, expected in (
            (["upcoming"], {"CM-MAINT-0", "CM-MAINT-1"}),
            (["ended", "cancelled"], {"CM-MAINT-2", "CM-MAINT-3"}),
            (["in-progress"], set()),
        ):
            with self.subTest(states=states):
                response = self.client.get(self.url, {"live_state": states}, **self.header)
                self.assertHttpStatus(response, 200)
                self.assertEqual({row["maintenance_id"] for row in response.data["results"]}, expected)

    def test_bad_live_state_is_a_400(self) -> None:
        for value in ("soon", "IN-PROGRESS", "upcoming\x00"):
            with self.subTest(value=repr(value)):
                response = self.client.get(self.url, {"live_state": value}, **self.header)
                self.assertHttpStatus(response, 400)
                self.assertIn("live_state", response.data)
