"""The benchmark's profile (development/sync_profile.py) finds every stage of a real run.

A stage is named by the function it goes through: renaming one must show up here, not as a silent 0 in
the benchmark's table. Seconds are not checked, only that each stage was seen.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.test import override_settings
from nautobot.apps.testing import TransactionTestCase

from development import measure, sync_profile
from tests.fixtures.job_helpers import JobTestMixin, plugin_config
from tests.fixtures.sample_data import corpus_messages, create_providers_and_circuits


class SyncProfileTest(JobTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        self.folder = Path(tempfile.mkdtemp(prefix="cm-profile-test-"))
        override = override_settings(PLUGINS_CONFIG=plugin_config([]))
        override.enable()
        self.addCleanup(override.disable)

    def test_every_stage_of_a_first_sync_is_found(self):
        measure.use_benchmark_source(self.folder)
        measure.build_backlog(len(list(corpus_messages())), self.folder)
        run, stats = sync_profile.profiled(measure.run_sync)
        self.assertGreater(run.stored, 0)
        seconds = sync_profile.stage_seconds(stats)
        self.assertEqual(list(seconds), [stage for stage, _, _ in sync_profile.STAGES])
        missing = [stage for stage, value in seconds.items() if value <= 0]
        self.assertEqual(missing, [], "stages whose function the run no longer goes through")
        self.assertLessEqual(seconds["reading mail"], seconds["whole job"])
        table = sync_profile.stage_table(stats)
        self.assertIn("folding with history", table)
        self.assertIn("tottime", sync_profile.top_functions(stats, 5))
        measure.clean_previous()
