"""Alertmanager silences kept for what a maintenance affects, against a real Alertmanager on loopback.

Each test reads the silences back from Alertmanager's API: created with the right matchers and times, moved on a
reschedule, expired on a cancellation or completion, never duplicated by a second run, a lost row or a second
worker, and a run against an Alertmanager that does not answer fails, records nothing, and the next run fixes it.
"""

from __future__ import annotations

import unittest
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import override_settings
from django.utils import timezone
from nautobot.apps.testing import TestCase, TransactionTestCase, run_job_for_testing
from nautobot.extras.context_managers import web_request_context
from nautobot.extras.models import Job, JobHook, JobResult

from nautobot_ssot_circuit_maintenance.actions.silences import (
    alertmanager_client,
    marked_for,
    render_matchers,
    silence_settings,
    sync_maintenance_silences,
)
from nautobot_ssot_circuit_maintenance.choices import MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, MaintenanceSilence
from nautobot_ssot_circuit_maintenance.models.reach import maintenance_reach
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.job_helpers import JobTestMixin, plugin_config
from tests.fixtures.location_data import build_site_data
from tests.fixtures.records import window
from tests.servers.alertmanager import AlertmanagerServer, alertmanager_binary
from tests.servers.ports import LOOPBACK, free_port

H = timedelta(hours=1)
MARGINS = {"before": 15, "after": 30}
DEVICE_MATCHERS = [
    {"name": "device", "value": "{{ device.name }}"},
    {"name": "maintenance", "value": "{{ maintenance.maintenance_id }}"},
]
TOKEN = "am-Bearer-t0ken-for-tests"  # noqa: S105 - a test value


def alertmanager_config(url: str, **extra) -> dict:
    return {"url": url, "margin_minutes": MARGINS, "matchers": DEVICE_MATCHERS, **extra}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def move(maintenance: CircuitMaintenance, start: datetime, end: datetime) -> None:
    maintenance.start_time, maintenance.end_time, maintenance.windows = start, end, [window(start, end)]
    maintenance.save()


class AlertmanagerMixin(JobTestMixin):
    """A real Alertmanager for the class (skipped only when its binary is not installed), configured as the app's."""

    @classmethod
    def setUpClass(cls):
        if alertmanager_binary() is None:
            raise unittest.SkipTest("prometheus-alertmanager is not installed (./run install-system-deps)")
        cls.alertmanager = AlertmanagerServer().start()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.alertmanager.cleanup()

    def setUp(self):
        super().setUp()
        self.alertmanager.expire_all()
        self.use_alertmanager(self.alertmanager.url)

    def use_alertmanager(self, url: str, **extra) -> None:
        override = override_settings(PLUGINS_CONFIG=plugin_config([], alertmanager=alertmanager_config(url, **extra)))
        override.enable()
        self.addCleanup(override.disable)

    def silences_of(self, maintenance: CircuitMaintenance) -> list[dict]:
        """The live silences Alertmanager holds for the maintenance (by the marker in their comment)."""
        return [s for s in self.alertmanager.silences() if (marked_for(s) or ("",))[0] == str(maintenance.pk)]

    def run_silence_job(self, dryrun: bool = False, expect: str = "SUCCESS"):
        job = Job.objects.get(job_class_name="SyncAlertmanagerSilences")
        job.enabled = True
        job.save()
        result = run_job_for_testing(job, **job_inputs(run_job_for_testing, {"dryrun": dryrun}))
        self.assertEqual(result.status, expect, f"{self.job_log(result)}\n{result.traceback}")
        return result


class SilenceJobTestCase(AlertmanagerMixin, TransactionTestCase):
    """The real jobs (run as Nautobot runs them, so in a TransactionTestCase)."""

    def setUp(self):
        super().setUp()
        self.data = build_site_data()

    def test_one_silence_per_maintenance_with_its_devices_and_margins(self):
        self.run_silence_job()
        m1 = self.data.maintenances["M1"]  # PA, LA: par-r1 and lon-r1, base to base+4h
        (silence,) = self.silences_of(m1)
        self.assertEqual(
            [(m["name"], m["value"], m["isRegex"]) for m in silence["matchers"]],
            [("device", r"lon\-r1|par\-r1", True), ("maintenance", "LOC-M1", False)],
        )
        self.assertEqual(at(silence["startsAt"]), self.data.base - timedelta(minutes=15))
        self.assertEqual(at(silence["endsAt"]), self.data.base + 4 * H + timedelta(minutes=30))
        self.assertEqual(silence["createdBy"], "nautobot")
        self.assertIn(f"[nautobot-maintenance {m1.pk} window 1]", silence["comment"])
        self.assertIn(m1.get_absolute_url(), silence["comment"])
        self.assertEqual(silence["status"]["state"], "pending")
        (row,) = MaintenanceSilence.objects.filter(maintenance=m1)
        self.assertEqual(row.silence_id, silence["id"])
        # M3 reaches lon-r1 only: an equality matcher. M4 is cancelled: none.
        (m3_silence,) = self.silences_of(self.data.maintenances["M3"])
        self.assertEqual(m3_silence["matchers"][0]["value"], "lon-r1")
        self.assertFalse(m3_silence["matchers"][0]["isRegex"])
        self.assertEqual(self.silences_of(self.data.maintenances["M4"]), [])
        self.assertEqual(len(self.alertmanager.silences()), 3)

    def test_running_again_changes_nothing(self):
        self.run_silence_job()
        before = {s["id"]: s["updatedAt"] for s in self.alertmanager.silences()}
        result = self.run_silence_job()
        self.assertEqual({s["id"]: s["updatedAt"] for s in self.alertmanager.silences()}, before)
        self.assertIn("0 silence change(s), 0 failure(s)", self.job_log(result))

    def test_dry_run_shows_and_does_nothing(self):
        result = self.run_silence_job(dryrun=True)
        self.assertEqual(self.alertmanager.silences(), [])
        self.assertFalse(MaintenanceSilence.objects.exists())
        log = self.job_log(result)
        self.assertIn("Would create silence (new) (window 1", log)
        self.assertIn(r"device=~'lon\\-r1|par\\-r1'", log)
        self.assertIn("3 silence change(s) (dry run: nothing done)", log)

    def test_reschedule_moves_the_silence(self):
        self.run_silence_job()
        m1 = self.data.maintenances["M1"]
        (first,) = self.silences_of(m1)
        later = self.data.base + 24 * H
        move(m1, later, later + 2 * H)
        self.run_silence_job()
        (moved,) = self.silences_of(m1)
        self.assertEqual(moved["id"], first["id"])  # pending: updated in place
        self.assertEqual(at(moved["startsAt"]), later - timedelta(minutes=15))
        self.assertEqual(at(moved["endsAt"]), later + 2 * H + timedelta(minutes=30))
        self.assertEqual(MaintenanceSilence.objects.get(maintenance=m1).ends_at, later + 2 * H + timedelta(minutes=30))

    def test_an_active_silence_is_moved_without_being_replaced(self):
        m1 = self.data.maintenances["M1"]
        now = timezone.now().replace(microsecond=0)  # Alertmanager keeps milliseconds
        move(m1, now - H, now + H)
        self.run_silence_job()
        (active,) = self.silences_of(m1)
        self.assertEqual(active["status"]["state"], "active")
        move(m1, now - H, now + 3 * H)  # overrun announced: the end moves
        self.run_silence_job()
        (moved,) = self.silences_of(m1)
        self.assertEqual(moved["id"], active["id"])
        self.assertEqual(at(moved["endsAt"]), now + 3 * H + timedelta(minutes=30))

    def test_cancelled_or_completed_expires_the_silence(self):
        self.run_silence_job()
        for key, status in (("M1", MaintenanceStatusChoices.CANCELLED), ("M3", MaintenanceStatusChoices.COMPLETED)):
            with self.subTest(status):
                maintenance = self.data.maintenances[key]
                (silence,) = self.silences_of(maintenance)
                maintenance.status = status
                maintenance.save()
                result = self.run_silence_job()
                self.assertEqual(self.silences_of(maintenance), [])
                self.assertEqual(self.alertmanager.silence(silence["id"])["status"]["state"], "expired")
                self.assertFalse(MaintenanceSilence.objects.filter(maintenance=maintenance).exists())
                self.assertIn(f"Expire silence {silence['id']}", self.job_log(result))

    def test_a_lost_row_is_found_again_by_the_comment(self):
        self.run_silence_job()
        m1 = self.data.maintenances["M1"]
        (silence,) = self.silences_of(m1)
        MaintenanceSilence.objects.all().delete()
        self.run_silence_job()
        self.assertEqual([s["id"] for s in self.silences_of(m1)], [silence["id"]])
        self.assertEqual(MaintenanceSilence.objects.get(maintenance=m1).silence_id, silence["id"])
        self.assertEqual(len(self.alertmanager.silences()), 3)

    def test_a_deleted_maintenance_has_its_silence_expired(self):
        self.run_silence_job()
        m2 = self.data.maintenances["M2"]
        (silence,) = self.silences_of(m2)
        m2.delete()
        self.run_silence_job()
        self.assertEqual(self.alertmanager.silence(silence["id"])["status"]["state"], "expired")
        self.assertFalse(MaintenanceSilence.objects.filter(silence_id=silence["id"]).exists())

    def test_alertmanager_down_fails_records_nothing_and_the_next_run_fixes_it(self):
        self.use_alertmanager(f"http://{LOOPBACK}:{free_port()}", token=TOKEN)
        result = self.run_silence_job(expect="FAILURE")
        log = self.job_log(result)
        self.assertIn("Alertmanager did not answer", log)
        self.assertNotIn(TOKEN, log)
        self.assertNotIn(TOKEN, str(result.result) + str(result.traceback))
        self.assertFalse(MaintenanceSilence.objects.exists())
        self.use_alertmanager(self.alertmanager.url)
        self.run_silence_job()
        self.assertEqual(len(self.alertmanager.silences()), 3)
        self.assertEqual(MaintenanceSilence.objects.count(), 3)

    def test_a_failed_update_keeps_the_rows_as_they_were(self):
        self.run_silence_job()
        m1 = self.data.maintenances["M1"]
        row = MaintenanceSilence.objects.get(maintenance=m1)
        move(m1, self.data.base + 24 * H, self.data.base + 26 * H)
        self.use_alertmanager(f"http://{LOOPBACK}:{free_port()}")
        self.run_silence_job(expect="FAILURE")
        self.assertEqual(MaintenanceSilence.objects.get(maintenance=m1).ends_at, row.ends_at)
        self.use_alertmanager(self.alertmanager.url)
        self.run_silence_job()
        (silence,) = self.silences_of(m1)
        self.assertEqual(at(silence["endsAt"]), self.data.base + 26 * H + timedelta(minutes=30))

    def test_not_configured_fails_with_a_message(self):
        override = override_settings(PLUGINS_CONFIG=plugin_config([]))
        override.enable()
        self.addCleanup(override.disable)
        result = self.run_silence_job(expect="FAILURE")
        self.assertIn("Alertmanager is not configured", str(result.result) + str(result.traceback))

    def test_job_hook_syncs_the_changed_maintenance(self):
        job = Job.objects.get(job_class_name="SyncAlertmanagerSilencesOnChange")
        job.enabled = True
        job.save()
        hook = JobHook.objects.create(name="Silences", job=job, type_create=True, type_update=True, type_delete=True)
        hook.content_types.set([ContentType.objects.get_for_model(CircuitMaintenance)])
        user = get_user_model().objects.create_user(username="am-admin", is_superuser=True)
        m1 = self.data.maintenances["M1"]
        with web_request_context(user):
            move(m1, self.data.base + H, self.data.base + 3 * H)
        # Run at once (Celery is eager in tests), in the hook's change context.
        result = JobResult.objects.filter(job_model=job).latest("date_created")
        self.assertIn("1 silence change(s), 0 failure(s)", self.job_log(result))
        (silence,) = self.silences_of(m1)
        self.assertEqual(at(silence["startsAt"]), self.data.base + H - timedelta(minutes=15))
        self.assertEqual(self.silences_of(self.data.maintenances["M3"]), [])  # only the maintenance that changed
        with web_request_context(user):
            m1.status = MaintenanceStatusChoices.CANCELLED
            m1.save()
        self.assertEqual(self.silences_of(m1), [])


class MatcherTemplatesTestCase(TestCase):
    """Templates over devices, interfaces, circuits and locations: one matcher each, values joined."""

    @classmethod
    def setUpTestData(cls):
        cls.data = build_site_data()

    def test_each_kind_of_object(self):
        matchers = [
            {"name": "device", "value": "{{ device.name }}"},
            {"name": "ifname", "value": "{{ interface.device.name }}:{{ interface.name }}"},
            {"name": "circuit", "value": "{{ circuit.cid }}-{{ impact }}"},
            {"name": "site", "value": "{{ location.name | replace('CM ', '') | lower }}"},
            {"name": "provider", "value": "{{ maintenance.provider.name }}.*", "isRegex": True},
        ]
        with override_settings(
            PLUGINS_CONFIG=plugin_config([], alertmanager={"url": "http://am", "matchers": matchers})
        ):
            settings = silence_settings()
        m1 = self.data.maintenances["M1"]
        rendered, reason = render_matchers(m1, maintenance_reach(m1), settings.matchers)
        self.assertEqual(reason, "")
        self.assertEqual(
            rendered,
            [
                {"name": "device", "value": r"lon\-r1|par\-r1", "isRegex": True},
                {"name": "ifname", "value": r"lon\-r1:eth0|par\-r1:eth0", "isRegex": True},
                {"name": "circuit", "value": "LA\\-OUTAGE|PA\\-OUTAGE", "isRegex": True},
                {"name": "site", "value": "lon1|nyc1|par1", "isRegex": True},
                {"name": "provider", "value": "LOC Provider A.*", "isRegex": True},
            ],
        )

    def test_no_value_means_no_silence(self):
        """A maintenance that reaches no device gets no silence rather than one muting more than it affects."""
        with override_settings(PLUGINS_CONFIG=plugin_config([], alertmanager={"url": "http://am"})):
            settings = silence_settings()
        m1 = self.data.maintenances["M1"]
        m1.circuit_impacts.all().delete()
        rendered, reason = render_matchers(m1, maintenance_reach(m1), settings.matchers)
        self.assertEqual(rendered, [])
        self.assertIn("reaches no device", reason)


class TwoWorkersTestCase(AlertmanagerMixin, TransactionTestCase):
    """Two workers syncing the same maintenance at once keep one silence (the maintenance's row lock)."""

    def test_two_threads_at_once_make_one_silence(self):
        data = build_site_data()
        m1 = data.maintenances["M1"]
        settings = silence_settings()
        client = alertmanager_client(settings)
        _, errors = run_at_once(lambda: sync_maintenance_silences(m1.pk, settings, client))
        self.assertEqual(errors, [])
        self.assertEqual(len(self.silences_of(m1)), 1)
        self.assertEqual(MaintenanceSilence.objects.filter(maintenance=m1).count(), 1)
