"""REST API of isolation / lost-redundancy flags: read-only, filtered, each with the maintenances that raise it."""

from __future__ import annotations

from django.urls import reverse
from nautobot.apps.testing import APITestCase, APIViewTestCases

from nautobot_ssot_circuit_maintenance.choices import FlagKindChoices
from nautobot_ssot_circuit_maintenance.flags.store import refresh_flags
from nautobot_ssot_circuit_maintenance.models import MaintenanceFlag
from tests.fixtures.location_data import at, build_site_data

API = "plugins-api:nautobot_ssot_circuit_maintenance-api"


class MaintenanceFlagAPITest(APIViewTestCases.GetObjectViewTestCase, APIViewTestCases.ListObjectsViewTestCase):
    model = MaintenanceFlag
    choices_fields = ["kind"]

    @classmethod
    def setUpTestData(cls) -> None:
        build_site_data()
        refresh_flags()


class MaintenanceFlagFiltersTest(APITestCase):
    """The flags of tests/fixtures/location_data.py: PAR1, LON1, NYC1 and the two routers."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_site_data()
        refresh_flags()

    def setUp(self) -> None:
        super().setUp()
        self.url = reverse(f"{API}:maintenanceflag-list")
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_maintenanceflag",
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
        )

    def rows(self, **params) -> list[tuple]:
        response = self.client.get(self.url, params, **self.header)
        self.assertHttpStatus(response, 200)
        return sorted(
            (
                row["kind"],
                row["label"],
                self.scope_name(row),
                row["start_time"],
                sorted(m["maintenance_id"] for m in row["maintenances"]),
            )
            for row in response.json()["results"]
        )

    def scope_name(self, row: dict) -> str:
        flag = MaintenanceFlag.objects.get(pk=row["id"])
        return str(flag.scope)

    def iso(self, hours: float) -> str:
        return at(self.data.base, hours).isoformat().replace("+00:00", "Z")

    def test_path_and_read_only(self) -> None:
        self.assertEqual(self.url, "/api/plugins/circuit-maintenance/flag/")
        self.user.is_superuser = True
        self.user.save()
        self.assertHttpStatus(self.client.post(self.url, {"kind": "isolation"}, format="json", **self.header), 405)
        flag = MaintenanceFlag.objects.first()
        detail = reverse(f"{API}:maintenanceflag-detail", args=[flag.pk])
        self.assertHttpStatus(self.client.delete(detail, **self.header), 405)
        self.assertHttpStatus(self.client.patch(detail, {"total": 9}, format="json", **self.header), 405)

    def test_a_flag_with_its_maintenances(self) -> None:
        flag = MaintenanceFlag.objects.get(location=self.data.par, kind=FlagKindChoices.ISOLATION)
        body = self.client.get(reverse(f"{API}:maintenanceflag-detail", args=[flag.pk]), **self.header).json()
        self.assertEqual((body["total"], body["down"], body["left"]), (2, ["PA", "PB"], []))
        self.assertEqual(body["location"]["id"], str(self.data.par.pk))
        m1, m2 = self.data.maintenances["M1"], self.data.maintenances["M2"]
        self.assertEqual(
            sorted((m["maintenance_id"], m["id"], m["url"]) for m in body["maintenances"]),
            sorted(
                (m.maintenance_id, str(m.pk), f"/api/plugins/circuit-maintenance/maintenance/{m.pk}/") for m in (m1, m2)
            ),
        )

    def test_filters(self) -> None:
        d = self.data
        isolation, lost = FlagKindChoices.ISOLATION, FlagKindChoices.LOST_REDUNDANCY
        self.assertEqual(
            self.rows(location=d.par.name),
            [
                (isolation, "Isolation", "CM PAR1", self.iso(2), ["LOC-M1", "LOC-M2"]),
                (lost, "Lost redundancy", "CM PAR1", self.iso(0), ["LOC-M1"]),
                (lost, "Lost redundancy", "CM PAR1", self.iso(4), ["LOC-M2"]),
            ],
        )
        # A region takes in the locations under it.
        self.assertEqual({row[2] for row in self.rows(location=str(d.europe.pk))}, {"CM PAR1", "CM LON1"})
        self.assertEqual(
            self.rows(device="par-r1"),
            [
                (isolation, "Cut off", "par-r1", self.iso(2), ["LOC-M1", "LOC-M2"]),
                (lost, "Lost redundancy", "par-r1", self.iso(0), ["LOC-M1"]),
                (lost, "Lost redundancy", "par-r1", self.iso(4), ["LOC-M2"]),
            ],
        )
        self.assertEqual(
            {row[2] for row in self.rows(kind=isolation)}, {"CM PAR1", "CM NYC1", "par-r1"}, "isolations only"
        )
        self.assertEqual(
            {(row[2], row[3]) for row in self.rows(maintenance="LOC-M2", kind=lost)},
            {
                ("CM PAR1", self.iso(4)),
                ("par-r1", self.iso(4)),
                ("CM LON1", self.iso(2)),
                ("lon-r1", self.iso(2)),
            },
        )
        # Active one hour in: M1 alone (PAR1, its router and NYC1); an end is included.
        self.assertEqual(
            {(row[2], row[0]) for row in self.rows(active_at=self.iso(1))},
            {("CM PAR1", lost), ("par-r1", lost), ("CM NYC1", isolation)},
        )
        self.assertEqual({row[3] for row in self.rows(active_at=self.iso(6), location=d.par.name)}, {self.iso(4)})
        self.assertEqual(self.rows(active_at=self.iso(7)), [])

    def test_maintenances_the_user_may_not_view_are_left_out(self) -> None:
        self.remove_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")
        rows = self.rows(location=self.data.par.name)
        self.assertEqual(len(rows), 3)
        self.assertEqual([row[4] for row in rows], [[], [], []])

    def test_bad_filter_values_are_a_400(self) -> None:
        for params in (
            {"kind": "meltdown"},
            {"location": "Atlantis"},
            {"device": "no-such-router"},
            {"maintenance": "NO-SUCH-MAINTENANCE"},
            {"active_at": "yesterday"},
            {"active_at": "2031-02-30T10:00:00Z"},
        ):
            with self.subTest(params=params):
                response = self.client.get(self.url, params, **self.header)
                self.assertHttpStatus(response, 400)
                self.assertIn(next(iter(params)), response.json())

    def test_without_permission_403(self) -> None:
        self.remove_permissions("nautobot_ssot_circuit_maintenance.view_maintenanceflag")
        self.assertHttpStatus(self.client.get(self.url, **self.header), 403)
