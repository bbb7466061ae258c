"""The benchmark's measurements, run small: they go through the real job and count what they should.

Timings are not asserted (the benchmark prints them); what is checked is that each step measures real
work — the mails were stored, the maintenances made, the store seeded, the no-new-mail run read nothing —
and that the benchmark leaves no record behind.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.test import override_settings
from nautobot.apps.testing import TransactionTestCase

from development import measure
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, ParsedNotification, RawNotification
from tests.fixtures.job_helpers import JobTestMixin, plugin_config
from tests.fixtures.sample_data import corpus_messages, create_providers_and_circuits


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
        source = measure.use_benchmark_source(self.folder)
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

        measure.seed_store(7, 3, source, batch=4)
        self.assertEqual(CircuitMaintenance.objects.filter(maintenance_id__startswith="STORE-").count(), 7)
        self.assertEqual(ParsedNotification.objects.filter(provider_maintenance_id__startswith="STORE-").count(), 21)

        measure.settle_database()
        idle = measure.run_sync()
        self.assertEqual((idle.stored, idle.maintenances), (corpus + 3 + 21, first.maintenances + 7))
        self.assertFalse(idle.summary.get("create") or idle.summary.get("update"), idle.summary)

        measure.clean_previous()
        self.assertFalse(CircuitMaintenance.objects.filter(maintenance_id__contains=measure.MARK).exists())
        self.assertFalse(RawNotification.objects.exists())
