"""The benchmark's measurements, run small: they go through the real job and count what they should.

Timings are not asserted (the benchmark prints them); what is checked is that each step measures real
work — the mails were stored, the maintenances made, the store seeded (and kept), the no-new-mail run read
nothing, every page and REST list answered 200 with rows in it — and that the benchmark leaves no record
behind but the store, which it can remove too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.test import Client, override_settings
from nautobot.apps.testing import TransactionTestCase

from development import measure, pages, store
from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, ParsedNotification, RawNotification
from tests.fixtures.job_helpers import JobTestMixin, plugin_config
from tests.fixtures.sample_data import corpus_messages, create_providers_and_circuits

# The pages and lists the benchmark times (development/pages.py), each answering 200.
PAGES = {
    "page_home",
    "page_maintenance_list",
    "page_maintenance_list_unacknowledged",
    "page_maintenance_list_upcoming_14_days",
    "page_maintenance_list_ongoing",
    "page_maintenance_list_live_state_upcoming",
    "page_maintenance_list_status_confirmed",
    "page_maintenance_list_provider",
    "page_maintenance_list_search",
    "page_maintenance_list_sort_start",
    "page_maintenance_list_sort_provider",
    "page_maintenance_detail",
    "page_overview",
    "page_calendar_month",
    "page_calendar_list",
    "page_calendar_feed",
    "page_impact_list",
    "page_raw_notification_list",
    "page_raw_notification_list_parsed",
    "page_raw_notification_detail",
    "page_triage_queue",
    "api_maintenance_list",
    "api_impact_list",
    "api_raw_notification_list",
    "api_parsed_notification_list",
    "graphql_maintenance_list",
}


class SmallBenchmarkTest(JobTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        self.folder = Path(tempfile.mkdtemp(prefix="cm-bench-test-"))
        # The benchmark points the app's configuration at its own source: a copy, here.
        self.settings_override = override_settings(PLUGINS_CONFIG=plugin_config([]))
        self.settings_override.enable()
        self.addCleanup(self.settings_override.disable)

    def test_a_small_benchmark_measures_real_work_and_cleans_up(self):
        corpus = len(list(corpus_messages()))
        measure.use_benchmark_source(self.folder)
        mails = measure.build_backlog(corpus + 3, self.folder)
        self.assertEqual(len(list(self.folder.iterdir())), corpus + 3)

        floor = measure.parse_floor(mails[:5], fast=False, checkpoints=(2,))
        self.assertEqual(sorted(floor), [2, 5])
        self.assertGreater(floor[5], floor[2])

        with measure.PeakRss(interval=0.01) as rss:
            first = measure.run_sync()
        self.assertGreater(rss.peak_mb, 50, "the job's process and its parse workers were sampled")
        self.assertEqual(first.stored, corpus + 3)
        # Most corpus mails make a maintenance (some share one, a few name circuits unknown here).
        self.assertGreater(first.maintenances, corpus // 2)
        self.assertGreater(first.statements, 0)

        self.seed_and_reuse_the_store()

        measure.settle_database()
        idle = measure.run_sync()
        self.assertEqual((idle.stored, idle.maintenances), (corpus + 3, first.maintenances))
        self.assertFalse(idle.summary.get("create") or idle.summary.get("update"), idle.summary)

        self.every_page_answers()

        measure.clean_previous()  # the benchmark's own records; the store is kept
        self.assertFalse(RawNotification.objects.filter(source__name=measure.SOURCE_NAME).exists())
        self.assertFalse(
            CircuitMaintenance.objects.filter(maintenance_id__contains=measure.MARK)
            .exclude(maintenance_id__startswith=store.STORE_PREFIX)
            .exists()
        )
        self.assertEqual(CircuitMaintenance.objects.filter(maintenance_id__startswith=store.STORE_PREFIX).count(), 40)

        measure.clean_previous(keep_store=False)
        self.assertFalse(CircuitMaintenance.objects.filter(maintenance_id__contains=measure.MARK).exists())
        self.assertFalse(RawNotification.objects.exists())
        self.assertFalse(store.store_is_complete(self.shape))

    def seed_and_reuse_the_store(self):
        """40 maintenances (one of them around now) with 3 notices each, in batches of 7; then kept."""
        self.shape = store.StoreShape(maintenances=40, notices=3)
        seeded = store.ensure_store(self.shape, batch=7)
        self.assertTrue(seeded.seeded)
        self.assertTrue(store.store_is_complete(self.shape))
        stored = CircuitMaintenance.objects.filter(maintenance_id__startswith=store.STORE_PREFIX)
        self.assertEqual(stored.count(), 40)
        self.assertEqual(stored.filter(maintenance_id__startswith=store.CURRENT_PREFIX).count(), self.shape.current)
        self.assertEqual(ParsedNotification.objects.filter(provider_maintenance_id__startswith="STORE-").count(), 120)
        mail = RawNotification.objects.filter(source__name=store.STORE_SOURCE_NAME)
        self.assertEqual(mail.count(), 120 + self.shape.other_mail + self.shape.current_other_mail)
        # As the sync stores them: every notice by a run, every maintenance's live state recorded and change-logged.
        self.assertFalse(mail.filter(sync__isnull=True).exists())
        lagging = [m.maintenance_id for m in stored if m.current_live_state() != m.live_state]
        self.assertEqual(lagging, [])
        self.assertTrue(stored.filter(live_state=LiveStateChoices.IN_PROGRESS).exists())

        again = store.ensure_store(self.shape)
        self.assertFalse(again.seeded, "a complete store of the same shape is reused")
        self.assertEqual(stored.count(), 40)
        self.assertEqual(ParsedNotification.objects.filter(provider_maintenance_id__startswith="STORE-").count(), 120)

    def every_page_answers(self):
        timings = {timing.name: timing for timing in pages.measure_pages(measure.benchmark_user(), rounds=1)}
        self.assertEqual(set(timings), PAGES)
        for name, timing in timings.items():
            self.assertEqual(timing.status, 200, f"{name}: {timing.url}")
            self.assertIsNotNone(timing.seconds, name)
            self.assertGreater(timing.statements, 0, name)
            self.assertGreater(timing.size, 0, name)
        # A list is its page and the table Nautobot then fetches (with the store's rows in it).
        self.assertEqual(timings["page_maintenance_list"].requests, 2)
        self.assertEqual(timings["page_maintenance_detail"].requests, 1)
        client = Client()
        client.force_login(measure.benchmark_user())
        table = client.get(timings["page_maintenance_list"].url, HTTP_HX_REQUEST="true")
        self.assertIn(f"{store.CURRENT_PREFIX}0{store.MARK}", table.content.decode())
