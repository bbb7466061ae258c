"""A sync runs with the objects that were there before it out of the garbage collector's passes, given back after."""

from __future__ import annotations

import gc

from django.test import SimpleTestCase
from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.sync.collector import earlier_objects_frozen
from tests.fixtures.job_helpers import FolderSyncMixin
from tests.fixtures.sample_data import ical_notice


class EarlierObjectsFrozenTest(SimpleTestCase):
    def test_the_objects_from_before_are_frozen_inside_and_given_back_after(self):
        self.assertEqual(gc.get_freeze_count(), 0)
        with earlier_objects_frozen():
            frozen = gc.get_freeze_count()
            self.assertGreater(frozen, 1000)  # this process's modules and their objects, at least
            with earlier_objects_frozen():  # nested: the outer one holds, and gives them back
                self.assertEqual(gc.get_freeze_count(), frozen)
            self.assertEqual(gc.get_freeze_count(), frozen)
        self.assertEqual(gc.get_freeze_count(), 0)

    def test_an_error_inside_gives_them_back_too(self):
        with self.assertRaises(ValueError), earlier_objects_frozen():
            raise ValueError("a failed run")
        self.assertEqual(gc.get_freeze_count(), 0)


class SyncCollectorTest(FolderSyncMixin, TransactionTestCase):
    def test_the_collector_leaves_the_earlier_objects_alone_while_the_job_runs(self):
        frozen_at_collections = []

        def seen(phase, info):
            if phase == "start":
                frozen_at_collections.append(gc.get_freeze_count())

        gc.callbacks.append(seen)
        self.addCleanup(gc.callbacks.remove, seen)
        self.sync(("notice", ical_notice("GC-1", ["GC-CIRCUIT"], sender="noc@gc-carrier.example")))
        self.assertTrue(frozen_at_collections, "no garbage collection during a whole sync")
        self.assertGreater(max(frozen_at_collections), 1000)
        self.assertEqual(gc.get_freeze_count(), 0)
