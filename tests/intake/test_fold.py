"""The fold is a pure function: order-independent, newest decides, NO-CHANGE keeps the status."""

import itertools
import unittest
from datetime import datetime, timezone

from nautobot_ssot_circuit_maintenance.intake.fold import Notice, fold, is_out_of_sequence
from nautobot_ssot_circuit_maintenance.validation import normalize_cid

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def notice(key, status, sequence=1, stamp=100, circuits=(("C1", "OUTAGE"),), windows=((1000, 2000),), summary="s"):
    maintenances = tuple(
        {
            "maintenance_id": "M1",
            "status": status,
            "sequence": sequence,
            "stamp": stamp,
            "start": start,
            "end": end,
            "summary": summary,
            "circuits": [{"circuit_id": cid, "impact": impact} for cid, impact in circuits],
        }
        for start, end in windows
    )
    return Notice(key, T0, maintenances)


class FoldTestCase(unittest.TestCase):
    def test_newest_decides_in_any_order(self):
        notices = [
            notice("a", "TENTATIVE", stamp=100),
            notice("b", "CONFIRMED", stamp=200, windows=((5000, 6000),)),
            notice("c", "RE-SCHEDULED", stamp=300, windows=((7000, 8000),)),
            notice("d", "NO-CHANGE", stamp=400, circuits=(), summary=""),
        ]
        states = {repr(fold(order)) for order in itertools.permutations(notices)}
        self.assertEqual(len(states), 1)
        state = fold(notices)
        self.assertEqual(state.status, "RE-SCHEDULED")  # NO-CHANGE keeps the status
        self.assertEqual(state.description, "s")
        self.assertEqual(state.decided_by, "d")
        self.assertEqual([(w[0].timestamp(), w[1].timestamp()) for w in state.windows], [(1000, 2000)])

    def test_sequence_outranks_stamp(self):
        state = fold([notice("a", "CANCELLED", sequence=2, stamp=1), notice("b", "CONFIRMED", sequence=1, stamp=9)])
        self.assertEqual(state.status, "CANCELLED")

    def test_unknown_status_becomes_unknown(self):
        self.assertEqual(fold([notice("a", "SOMETHING-NEW")]).status, "UNKNOWN")
        self.assertEqual(fold([notice("a", "NO-CHANGE")]).status, "UNKNOWN")

    def test_notice_without_circuits_keeps_known_circuits(self):
        state = fold([notice("a", "CONFIRMED", stamp=1), notice("b", "CANCELLED", stamp=2, circuits=())])
        self.assertEqual(state.status, "CANCELLED")
        self.assertEqual(state.circuits, {"C1": ("C1", "OUTAGE")})

    def test_several_windows_and_worst_impact(self):
        state = fold(
            [
                Notice(
                    "a",
                    T0,
                    (
                        {**notice("x", "CONFIRMED").maintenances[0], "start": 10, "end": 20},
                        {
                            **notice("x", "CONFIRMED", circuits=(("c1", "DEGRADED"),)).maintenances[0],
                            "start": 30,
                            "end": 40,
                        },
                    ),
                )
            ]
        )
        self.assertEqual(len(state.windows), 2)
        self.assertEqual(state.start_time.timestamp(), 10)
        self.assertEqual(state.end_time.timestamp(), 40)
        self.assertEqual(state.circuits["C1"][1], "OUTAGE")

    def test_tie_broken_by_progress_not_arrival(self):
        confirmed, completed = notice("z", "CONFIRMED"), notice("a", "COMPLETED", circuits=())
        self.assertEqual(fold([confirmed, completed]).status, "COMPLETED")
        self.assertEqual(fold([completed, confirmed]).status, "COMPLETED")

    def test_out_of_sequence(self):
        old, new = notice("a", "CONFIRMED", stamp=1), notice("b", "CANCELLED", stamp=2)
        self.assertTrue(is_out_of_sequence(old, [new]))
        self.assertFalse(is_out_of_sequence(new, [old]))

    def test_normalize_cid(self):
        self.assertEqual(normalize_cid(" /ogyx/123456/   /ZYO / "), "/OGYX/123456/ /ZYO /")
        self.assertNotEqual(normalize_cid("/OGYX/123456/"), normalize_cid("/OGYX/123456/ /ZYO /"))
