"""Locations, devices and tenants of maintenances, and the isolation / lost-redundancy flags, on real data."""

from __future__ import annotations

import json
from types import SimpleNamespace

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags
from nautobot.apps.testing import APITestCase, TestCase, TransactionTestCase, run_job_for_testing
from nautobot.circuits.models import Circuit
from nautobot.extras.models import Job

from nautobot_ssot_circuit_maintenance.choices import FlagKindChoices, ImpactChoices, MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.compat.releases import generic_prefetch, job_inputs
from nautobot_ssot_circuit_maintenance.filters import CircuitMaintenanceFilterSet
from nautobot_ssot_circuit_maintenance.flags.jobs import MaintenanceFlagsReport
from nautobot_ssot_circuit_maintenance.flags.overview import overview_rows, upcoming_flags
from nautobot_ssot_circuit_maintenance.flags.store import refresh_flags, refresh_flags_after_sync
from nautobot_ssot_circuit_maintenance.models import CircuitImpact, CircuitMaintenance, MaintenanceFlag
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.location_data import at, build_site_data, maintenance
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits
from tests.fixtures.site_data import create_demo_sites

API = "plugins-api:nautobot_ssot_circuit_maintenance-api"
UI = "plugins:nautobot_ssot_circuit_maintenance"


def flag_rows(**filters) -> list[tuple]:
    """(kind, scope name, start, end, sorted maintenance ids) of the stored flags."""
    rows = []
    for flag in MaintenanceFlag.objects.filter(**filters).prefetch_related("maintenances"):
        rows.append(
            (
                flag.kind,
                str(flag.scope),
                flag.start_time,
                flag.end_time,
                sorted(m.maintenance_id for m in flag.maintenances.all()),
            )
        )
    return sorted(rows, key=lambda row: (row[1], row[2]))


class FlagsTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_site_data()

    def setUp(self) -> None:
        super().setUp()
        refresh_flags()

    def test_two_circuit_site_isolated_across_providers(self):
        d = self.data
        self.assertEqual(
            flag_rows(location=d.par),
            [
                (FlagKindChoices.LOST_REDUNDANCY, "CM PAR1", at(d.base, 0), at(d.base, 2), ["LOC-M1"]),
                (FlagKindChoices.ISOLATION, "CM PAR1", at(d.base, 2), at(d.base, 4), ["LOC-M1", "LOC-M2"]),
                (FlagKindChoices.LOST_REDUNDANCY, "CM PAR1", at(d.base, 4), at(d.base, 6), ["LOC-M2"]),
            ],
        )
        isolation = MaintenanceFlag.objects.get(location=d.par, kind=FlagKindChoices.ISOLATION)
        self.assertEqual((isolation.total, isolation.down, isolation.left), (2, ["PA", "PB"], []))
        self.assertEqual(set(isolation.circuits.values_list("cid", flat=True)), {"PA", "PB"})

    def test_three_circuit_site_down_to_one_degraded_counted_apart_cancelled_ignored(self):
        d = self.data
        self.assertEqual(
            flag_rows(location=d.lon),
            [(FlagKindChoices.LOST_REDUNDANCY, "CM LON1", at(d.base, 2), at(d.base, 4), ["LOC-M1", "LOC-M2"])],
        )
        flag = MaintenanceFlag.objects.get(location=d.lon)
        self.assertEqual((flag.total, flag.down, flag.left, flag.impaired), (3, ["LA", "LB"], ["LC"], ["LC"]))
        # The single-circuit Z end in New York is isolated by M1 alone.
        self.assertEqual(
            flag_rows(location=d.nyc),
            [(FlagKindChoices.ISOLATION, "CM NYC1", at(d.base, 0), at(d.base, 4), ["LOC-M1"])],
        )

    def test_devices_cut_off_or_down_to_one_interface(self):
        d = self.data
        cut_off = MaintenanceFlag.objects.get(device=d.par_router, kind=FlagKindChoices.ISOLATION)
        self.assertEqual(cut_off.label, "Cut off")
        self.assertEqual((cut_off.start_time, cut_off.end_time), (at(d.base, 2), at(d.base, 4)))
        self.assertEqual(cut_off.down, ["eth0 (PA)", "eth1 (PB)"])
        lon = MaintenanceFlag.objects.get(device=d.lon_router)
        self.assertEqual((lon.kind, lon.left), (FlagKindChoices.LOST_REDUNDANCY, ["eth2 (LC)"]))

    def test_cancellation_and_reschedule_clear_flags(self):
        d = self.data
        m4 = d.maintenances["M4"]
        m4.status = MaintenanceStatusChoices.CONFIRMED
        m4.save()
        refresh_flags(CircuitMaintenance.objects.filter(pk=m4.pk))
        self.assertEqual(
            [row[0] for row in flag_rows(location=d.lon)], [FlagKindChoices.ISOLATION], "LC down too: LON1 cut off"
        )
        m4.status = MaintenanceStatusChoices.CANCELLED
        m4.save()
        refresh_flags(CircuitMaintenance.objects.filter(pk=m4.pk))
        self.assertEqual([row[0] for row in flag_rows(location=d.lon)], [FlagKindChoices.LOST_REDUNDANCY])
        self.assertFalse(MaintenanceFlag.objects.filter(maintenances=m4).exists())

        # M2 rescheduled to after M1: PAR1 is never isolated any more, only down to one circuit.
        m2 = d.maintenances["M2"]
        m2.start_time, m2.end_time = at(d.base, 10), at(d.base, 12)
        m2.windows = [{"start": m2.start_time.isoformat(), "end": m2.end_time.isoformat()}]
        m2.save()
        refresh_flags(CircuitMaintenance.objects.filter(pk=m2.pk))
        self.assertEqual(
            [row[0] for row in flag_rows(location=d.par)],
            [FlagKindChoices.LOST_REDUNDANCY, FlagKindChoices.LOST_REDUNDANCY],
        )
        self.assertFalse(MaintenanceFlag.objects.filter(device=d.par_router, kind=FlagKindChoices.ISOLATION).exists())

    def test_a_change_recomputes_only_its_own_time_and_the_result_is_exact(self):
        """A later maintenance leaves the earlier flags as stored; one overlapping them recomputes them whole."""
        d = self.data
        earlier = {flag.pk for flag in MaintenanceFlag.objects.all()}
        later = maintenance(d.maintenances["M1"].provider, "M5", d.base, 1000, 1002, MaintenanceStatusChoices.CONFIRMED)
        CircuitImpact.objects.create(maintenance=later, circuit=d.circuits["PA"], impact=ImpactChoices.OUTAGE)
        refresh_flags(CircuitMaintenance.objects.filter(pk=later.pk))
        self.assertTrue(earlier <= set(MaintenanceFlag.objects.values_list("pk", flat=True)), "earlier flags kept")
        self.assertIn(
            (FlagKindChoices.LOST_REDUNDANCY, "CM PAR1", at(d.base, 1000), at(d.base, 1002), ["LOC-M5"]),
            flag_rows(location=d.par),
        )
        # Reaching into M2's window (2h–6h) from after it: the span grows to take in M1 and M2 whole.
        overlapping = maintenance(d.maintenances["M1"].provider, "M6", d.base, 5, 8, MaintenanceStatusChoices.CONFIRMED)
        CircuitImpact.objects.create(maintenance=overlapping, circuit=d.circuits["PA"], impact=ImpactChoices.OUTAGE)
        refresh_flags(CircuitMaintenance.objects.filter(pk=overlapping.pk))
        partial = flag_rows()
        refresh_flags()
        self.assertEqual(partial, flag_rows(), "the same flags as recomputing everything")
        self.assertIn(
            (FlagKindChoices.ISOLATION, "CM PAR1", at(d.base, 5), at(d.base, 6), ["LOC-M2", "LOC-M6"]), partial
        )

    def test_removed_circuit_clears_its_flags(self):
        """A maintenance that no longer names a circuit: the flags it took part in are recomputed."""
        d = self.data
        CircuitImpact.objects.filter(maintenance=d.maintenances["M2"], circuit=d.circuits["PB"]).delete()
        refresh_flags(CircuitMaintenance.objects.filter(pk=d.maintenances["M2"].pk))
        self.assertEqual([row[0] for row in flag_rows(location=d.par)], [FlagKindChoices.LOST_REDUNDANCY])

    def test_settings_choose_circuits_and_skip_locations(self):
        d = self.data
        config = {"site_isolation": {"skip_locations": ["CM PAR1"], "circuit_statuses": ["Active"]}}
        with self.settings(PLUGINS_CONFIG={"nautobot_ssot_circuit_maintenance": config}):
            refresh_flags()
            self.assertFalse(MaintenanceFlag.objects.filter(location=d.par).exists())
            self.assertFalse(MaintenanceFlag.objects.filter(device=d.par_router).exists())
            self.assertTrue(MaintenanceFlag.objects.filter(location=d.lon).exists())
        with self.settings(
            PLUGINS_CONFIG={"nautobot_ssot_circuit_maintenance": {"site_isolation": {"circuit_types": ["Other"]}}}
        ):
            refresh_flags()
            self.assertFalse(MaintenanceFlag.objects.exists())
        # A planned circuit keeps nothing up: LON1 with LC planned has two circuits, LA and LB, both down 2–4h.
        planned, _ = type(d.circuits["LC"].status).objects.get_or_create(name="Planned")
        planned.content_types.add(*d.circuits["LC"].status.content_types.all())
        Circuit.objects.filter(pk=d.circuits["LC"].pk).update(status=planned)
        refresh_flags()
        self.assertEqual(
            [row[0] for row in flag_rows(location=d.lon)],
            [FlagKindChoices.LOST_REDUNDANCY, FlagKindChoices.ISOLATION, FlagKindChoices.LOST_REDUNDANCY],
        )

    def test_refresh_after_sync_touches_only_changed_and_skips_dry_runs(self):
        d = self.data
        MaintenanceFlag.objects.all().delete()
        logged = []
        job = SimpleNamespace(dryrun=True, sync=SimpleNamespace(start_time=d.maintenances["M1"].last_updated))
        job.logger = SimpleNamespace(info=lambda *args: logged.append(args))
        self.assertIsNone(refresh_flags_after_sync(job))
        self.assertFalse(MaintenanceFlag.objects.exists())
        job.dryrun = False
        result = refresh_flags_after_sync(job)
        self.assertGreater(result.flags, 0)
        self.assertTrue(MaintenanceFlag.objects.filter(location=d.par, kind=FlagKindChoices.ISOLATION).exists())
        self.assertTrue(logged)

    def test_refresh_query_count_does_not_grow_with_maintenances(self):
        d = self.data
        with CaptureQueriesContext(connection) as before:
            refresh_flags()
        provider = d.maintenances["M1"].provider
        for i in range(10):
            extra = maintenance(provider, f"X{i}", d.base, 20 + i, 21 + i, MaintenanceStatusChoices.CONFIRMED)
            CircuitImpact.objects.create(maintenance=extra, circuit=d.circuits["PA"], impact=ImpactChoices.OUTAGE)
        with CaptureQueriesContext(connection) as after:
            refresh_flags()
        self.assertEqual(len(before), len(after))


class FilterTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_site_data()

    def ids(self, params: dict) -> set[str]:
        filterset = CircuitMaintenanceFilterSet(params, CircuitMaintenance.objects.all())
        self.assertTrue(filterset.is_valid(), filterset.errors)
        return set(filterset.qs.values_list("maintenance_id", flat=True))

    def test_location_includes_locations_under_it_and_both_ends(self):
        d = self.data
        self.assertEqual(self.ids({"location": [d.europe.pk]}), {"LOC-M1", "LOC-M2", "LOC-M3", "LOC-M4"})
        self.assertEqual(self.ids({"location": [d.par.pk]}), {"LOC-M1", "LOC-M2"})
        self.assertEqual(self.ids({"location": ["CM Americas"]}), {"LOC-M1"})  # PA's Z end, by name
        self.assertEqual(self.ids({"location": [d.nyc.pk, d.lon.pk]}), {"LOC-M1", "LOC-M2", "LOC-M3", "LOC-M4"})

    def test_device_and_tenant(self):
        d = self.data
        self.assertEqual(self.ids({"device": [d.par_router.pk]}), {"LOC-M1", "LOC-M2"})
        self.assertEqual(self.ids({"device": ["lon-r1"]}), {"LOC-M1", "LOC-M2", "LOC-M3", "LOC-M4"})
        self.assertEqual(self.ids({"tenant": ["LOC Tenant Y"]}), {"LOC-M3", "LOC-M4"})
        self.assertEqual(self.ids({"tenant": [d.tenants["X"].pk]}), {"LOC-M1"})

    def test_flag_filter(self):
        refresh_flags()
        self.assertEqual(self.ids({"flag": [FlagKindChoices.ISOLATION]}), {"LOC-M1", "LOC-M2"})

    def test_queryset_vocabulary(self):
        d = self.data
        at_europe = CircuitMaintenance.objects.terminating_at([d.europe])
        self.assertEqual(at_europe.count(), 4)
        self.assertEqual(
            set(at_europe.not_over().values_list("maintenance_id", flat=True)), {"LOC-M1", "LOC-M2", "LOC-M3"}
        )
        self.assertEqual(CircuitMaintenance.objects.reaching_devices([d.par_router]).count(), 2)


class LocationAPITest(APITestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_site_data()
        refresh_flags()

    def setUp(self) -> None:
        super().setUp()
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
            "nautobot_ssot_circuit_maintenance.view_circuitimpact",
            "nautobot_ssot_circuit_maintenance.view_maintenanceflag",
            "circuits.view_circuit",
            "circuits.view_circuittermination",
            "dcim.view_location",
        )

    def get(self, name: str, **params) -> dict:
        response = self.client.get(reverse(f"{API}:{name}"), params, **self.header)
        self.assertHttpStatus(response, 200)
        return response.json()

    def test_rest_filters(self):
        d = self.data
        for params, expected in (
            ({"location": str(d.europe.pk)}, {"LOC-M1", "LOC-M2", "LOC-M3", "LOC-M4"}),
            ({"location": "CM NYC1"}, {"LOC-M1"}),
            ({"device": "par-r1"}, {"LOC-M1", "LOC-M2"}),
            ({"tenant": "LOC Tenant Y"}, {"LOC-M3", "LOC-M4"}),
        ):
            rows = self.get("circuitmaintenance-list", **params)["results"]
            self.assertEqual({row["maintenance_id"] for row in rows}, expected, params)

    def test_unknown_location_or_device_is_a_400(self):
        for params in ({"location": "Atlantis"}, {"device": "no-such-router"}, {"tenant": "nobody"}):
            response = self.client.get(reverse(f"{API}:circuitmaintenance-list"), params, **self.header)
            self.assertHttpStatus(response, 400)
            self.assertIn(next(iter(params)), response.json())

    def test_maintenance_shows_locations_and_flags(self):
        d = self.data
        url = reverse(f"{API}:circuitmaintenance-detail", args=[d.maintenances["M1"].pk])
        body = self.client.get(url, {"depth": 1}, **self.header).json()
        self.assertEqual(
            sorted((row["circuit"], row["side"], row["name"]) for row in body["circuit_locations"]),
            [("LA", "A", "CM LON1"), ("PA", "A", "CM PAR1"), ("PA", "Z", "CM NYC1")],
        )
        self.assertIn(("isolation", "CM PAR1"), {(f["kind"], f["scope"]) for f in body["flags"]})
        self.assertIn(("isolation", "par-r1"), {(f["kind"], f["scope"]) for f in body["flags"]})

    def test_impact_shows_interfaces_devices_and_tenant(self):
        d = self.data
        rows = self.get("circuitimpact-list", maintenance=d.maintenances["M1"].pk, depth=1)["results"]
        pa = next(row for row in rows if row["circuit"]["cid"] == "PA")
        self.assertEqual([(i["device"]["name"], i["name"]) for i in pa["interfaces"]], [("par-r1", "eth0")])
        self.assertEqual(pa["tenant"]["name"], "LOC Tenant X")
        self.assertEqual(
            [(x["side"], x["name"]) for x in pa["termination_locations"]], [("A", "CM PAR1"), ("Z", "CM NYC1")]
        )

    def test_list_query_count_is_bounded(self):
        """The impact and maintenance lists cost the same number of queries with 6 or 16 impacts."""
        d = self.data

        def count(name: str) -> int:
            self.get(name, depth=1, limit=100)  # caches warmed (content types, custom fields)
            with CaptureQueriesContext(connection) as queries:
                self.get(name, depth=1, limit=100)
            return len(queries)

        before = (count("circuitimpact-list"), count("circuitmaintenance-list"))
        provider = d.maintenances["M1"].provider
        for i in range(5):
            extra = maintenance(provider, f"Q{i}", d.base, 30, 31, MaintenanceStatusChoices.CONFIRMED)
            CircuitImpact.objects.create(maintenance=extra, circuit=d.circuits["PA"], impact=ImpactChoices.OUTAGE)
            CircuitImpact.objects.create(maintenance=extra, circuit=d.circuits["LB"], impact=ImpactChoices.OUTAGE)
        refresh_flags()
        after = (count("circuitimpact-list"), count("circuitmaintenance-list"))
        if isinstance(generic_prefetch("destination", []), str):
            # Django 4.2 (Nautobot 3.0) reads each interface's device on its own (compat.generic_prefetch).
            before, after = before[1:], after[1:]
        self.assertEqual(before, after)

    def graphql(self, query: str) -> dict:
        response = self.client.post(
            "/api/graphql/", data=json.dumps({"query": query}), content_type="application/json", **self.header
        )
        self.assertHttpStatus(response, 200)
        payload = response.json()
        self.assertNotIn("errors", payload, payload)
        return payload["data"]

    def test_graphql_filters_and_locations(self):
        self.add_permissions("tenancy.view_tenant")
        data = self.graphql(
            """
            {
              by_location: circuit_maintenances(location: ["CM Europe"]) { maintenance_id }
              by_device: circuit_maintenances(device: ["par-r1"]) { maintenance_id }
              by_tenant: circuit_maintenances(tenant: ["LOC Tenant X"]) {
                maintenance_id
                circuit_impacts { circuit { cid tenant { name } circuit_terminations { term_side location { name } } } }
                flags { kind start_time location { name } device { name } }
              }
            }
            """
        )
        self.assertEqual(
            {row["maintenance_id"] for row in data["by_location"]}, {"LOC-M1", "LOC-M2", "LOC-M3", "LOC-M4"}
        )
        self.assertEqual({row["maintenance_id"] for row in data["by_device"]}, {"LOC-M1", "LOC-M2"})
        [m1] = data["by_tenant"]
        pa = next(i["circuit"] for i in m1["circuit_impacts"] if i["circuit"]["cid"] == "PA")
        self.assertEqual(pa["tenant"]["name"], "LOC Tenant X")
        self.assertEqual(
            sorted((t["term_side"], t["location"]["name"]) for t in pa["circuit_terminations"]),
            [("A", "CM PAR1"), ("Z", "CM NYC1")],
        )
        self.assertIn("isolation", {flag["kind"].lower() for flag in m1["flags"]})


class LocationPagesTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_site_data()

    def setUp(self) -> None:
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.client.force_login(self.user)
        refresh_flags()

    def assert_on_page(self, text: str, page: str) -> None:
        self.assertTrue(text in page, f"{text!r} is not on the page")

    def assert_not_on_page(self, text: str, page: str) -> None:
        self.assertFalse(text in page, f"{text!r} is on the page")

    def test_location_page_panel(self):
        d = self.data
        response = self.client.get(d.europe.get_absolute_url())
        self.assertHttpStatus(response, 200)
        page = response.content.decode()
        self.assert_on_page("active and upcoming circuit maintenances", page.lower())
        for name in ("Site work M1", "Site work M2", "Site work M3"):
            self.assert_on_page(name, page)
        self.assert_not_on_page("Site work M4", page)  # cancelled: history, behind the link
        self.assert_on_page(f"{reverse(f'{UI}:circuitmaintenance_list')}?location={d.europe.pk}", page)

        page = self.client.get(d.par.get_absolute_url()).content.decode()
        self.assert_on_page("isolation and lost redundancy", page.lower())
        self.assert_on_page("Isolation", page)
        self.assert_on_page("PA, PB", page)

    def test_device_page_panel(self):
        page = self.client.get(self.data.par_router.get_absolute_url()).content.decode()
        self.assert_on_page("Cut off", page)
        self.assert_on_page("Site work M1", page)
        self.assert_on_page(f"?device={self.data.par_router.pk}", page)

    def test_maintenance_list_and_detail(self):
        d = self.data
        page = self.client.get(
            reverse(f"{UI}:circuitmaintenance_list"), {"location": d.par.pk}, headers={"HX-Request": "true"}
        ).content.decode()
        self.assert_on_page("Site work M1", page)
        self.assert_not_on_page("Site work M3", page)
        self.assert_on_page("A: <a", page)
        detail = self.client.get(d.maintenances["M1"].get_absolute_url()).content.decode()
        for text in ("CM PAR1", "CM NYC1", "par-r1", "eth0", "LOC Tenant X", "Isolation", "Cut off"):
            self.assert_on_page(text, detail)

    def test_overview_slot(self):
        self.assertEqual(upcoming_flags(self.user, days=1).count(), 0)  # all start two days from now
        rows = overview_rows(self.user)
        self.assertIn(("Isolation", "CM PAR1"), {(strip_tags(r["kind"]), strip_tags(r["location"])) for r in rows})
        self.assertIn("Site work M2", next(r["maintenances"] for r in rows if "Cut off" in r["kind"]))
        MaintenanceFlag.objects.all().delete()
        self.assertEqual(overview_rows(self.user), [])


class FlagJobTest(TransactionTestCase):
    databases = ("default", "job_logs")

    def setUp(self) -> None:
        super().setUp()
        self.data = build_site_data()

    def test_flag_job_lists_every_flag(self):
        job = Job.objects.get(job_class_name=MaintenanceFlagsReport.__name__)
        job.enabled = True
        job.save()
        result = run_job_for_testing(job, **job_inputs(run_job_for_testing, {"include_past": False}))
        self.assertEqual(result.status, "SUCCESS", result.traceback)
        messages = list(result.job_log_entries.values_list("message", flat=True))
        self.assertTrue(any(m.startswith("Isolation: CM PAR1") for m in messages), messages)
        self.assertTrue(any(m.startswith("Cut off: par-r1") for m in messages), messages)
        self.assertTrue(any("Lost redundancy: CM LON1" in m for m in messages), messages)


class SyncRefreshesFlagsTest(JobTestMixin, TransactionTestCase):
    """The real sync over corpus mail, with the demo's sites: the flags follow every run."""

    def setUp(self) -> None:
        super().setUp()
        providers = create_providers_and_circuits()
        create_demo_sites(providers)
        self.folder = MailFolder()
        self.addCleanup(self.folder.cleanup)
        self.messages = corpus_by_name()

    def test_sync_flags_demo_sites_and_a_cancellation_clears_them(self):
        for name in ("windstream1", "aws1"):
            self.folder.add(self.messages[name], name)
        with self.configured([self.folder.source]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertIn("Isolation and redundancy flags", self.job_log(result))
            self.assertEqual(
                sorted((flag.label, str(flag.scope)) for flag in MaintenanceFlag.objects.all()),
                [
                    ("Cut off", "chi-edge-01"),
                    ("Isolation", "Chicago DC1"),
                    ("Lost redundancy", "Frankfurt DC2"),
                    ("Lost redundancy", "fra-edge-01"),
                ],
            )
            frankfurt = MaintenanceFlag.objects.get(location__name="Frankfurt DC2")
            self.assertEqual(frankfurt.left, ["/OGYX/123418/   /ZYO /"])

            # An operator marks Windstream's maintenance cancelled; the next sync (no new mail) clears its flags.
            maintenance = CircuitMaintenance.objects.get(maintenance_id="123456")
            maintenance.status = MaintenanceStatusChoices.CANCELLED
            maintenance.save()
            result, _ = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(
                sorted((flag.label, str(flag.scope)) for flag in MaintenanceFlag.objects.all()),
                [("Lost redundancy", "Frankfurt DC2"), ("Lost redundancy", "fra-edge-01")],
            )
