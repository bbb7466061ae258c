"""The run's diff merged from its chunks' diffs (pure)."""

from __future__ import annotations

import unittest

from nautobot_ssot_circuit_maintenance.sync.diffsync.run_diff import count_maintenance_actions, merge_chunk_diff


class MergeChunkDiffTestCase(unittest.TestCase):
    def test_created_then_updated_stays_a_creation_with_the_latest_values(self):
        run: dict = {}
        merge_chunk_diff(run, {"maintenance": {"P__M": {"+": {"status": "CONFIRMED", "name": "M"}}}})
        merge_chunk_diff(run, {"maintenance": {"P__M": {"-": {"status": "CONFIRMED"}, "+": {"status": "CANCELLED"}}}})
        self.assertEqual(run, {"maintenance": {"P__M": {"+": {"status": "CANCELLED", "name": "M"}}}})
        self.assertEqual(count_maintenance_actions(run), {"create": 1})

    def test_updated_twice_keeps_the_value_before_the_run(self):
        run: dict = {}
        merge_chunk_diff(run, {"maintenance": {"P__M": {"-": {"status": "TENTATIVE"}, "+": {"status": "CONFIRMED"}}}})
        merge_chunk_diff(run, {"maintenance": {"P__M": {"-": {"status": "CONFIRMED"}, "+": {"status": "CANCELLED"}}}})
        self.assertEqual(run["maintenance"]["P__M"], {"-": {"status": "TENTATIVE"}, "+": {"status": "CANCELLED"}})
        self.assertEqual(count_maintenance_actions(run), {"update": 1})

    def test_impacts_merge_as_children_and_count_as_an_update(self):
        run: dict = {}
        first = {"impact": {"P__M__A": {"+": {"impact": "OUTAGE"}}}}
        second = {"-": {}, "+": {}, "impact": {"P__M__B": {"+": {"impact": "DEGRADED"}}}}
        merge_chunk_diff(run, {"maintenance": {"P__M": first}})
        merge_chunk_diff(run, {"maintenance": {"P__M": second}, "other": {"x": {"+": {"a": 1}}}})
        self.assertEqual(set(run["maintenance"]["P__M"]["impact"]), {"P__M__A", "P__M__B"})
        self.assertEqual(run["other"], {"x": {"+": {"a": 1}}})
        self.assertEqual(count_maintenance_actions(run), {"update": 1})
        self.assertEqual(count_maintenance_actions(None), {})
