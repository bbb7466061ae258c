"""The isolation analysis alone: pure interval arithmetic, no database."""

from __future__ import annotations

import unittest
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from nautobot_ssot_circuit_maintenance.flags.isolation import ISOLATION, LOST_REDUNDANCY, Window, analyse, kind_for

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def window(circuit: str, maintenance: str, start: float, end: float, impact: str = "OUTAGE") -> Window:
    return Window(circuit=circuit, maintenance=maintenance, impact=impact, start=at(start), end=at(end))


def summary(flags) -> list[tuple]:
    return [
        (f.kind, (f.start - T0).total_seconds() / 3600, (f.end - T0).total_seconds() / 3600, sorted(f.maintenances))
        for f in flags
    ]


class KindTest(unittest.TestCase):
    def test_kinds(self):
        self.assertIsNone(kind_for(0, 1))
        self.assertEqual(kind_for(1, 1), ISOLATION)
        self.assertIsNone(kind_for(0, 2))
        self.assertEqual(kind_for(1, 2), LOST_REDUNDANCY)
        self.assertEqual(kind_for(2, 2), ISOLATION)
        self.assertIsNone(kind_for(1, 3))
        self.assertEqual(kind_for(2, 3), LOST_REDUNDANCY)
        self.assertEqual(kind_for(3, 3), ISOLATION)
        self.assertIsNone(kind_for(0, 0))


class AnalyseTest(unittest.TestCase):
    def test_two_circuits_two_providers_overlapping(self):
        members = {"A": "A", "B": "B"}
        flags = analyse(members, [window("A", "m1", 0, 4), window("B", "m2", 2, 6)])
        self.assertEqual(
            summary(flags),
            [
                (LOST_REDUNDANCY, 0, 2, ["m1"]),
                (ISOLATION, 2, 4, ["m1", "m2"]),
                (LOST_REDUNDANCY, 4, 6, ["m2"]),
            ],
        )
        self.assertEqual(flags[1].down, {"A", "B"})
        self.assertEqual(flags[1].left, set())
        self.assertEqual(flags[0].left, {"B"})

    def test_three_circuits(self):
        members = {"A": "A", "B": "B", "C": "C"}
        windows = [window("A", "m1", 0, 4), window("B", "m2", 2, 6), window("C", "m3", 3, 5)]
        self.assertEqual(
            summary(analyse(members, windows)),
            [
                (LOST_REDUNDANCY, 2, 3, ["m1", "m2"]),
                (ISOLATION, 3, 4, ["m1", "m2", "m3"]),
                (LOST_REDUNDANCY, 4, 5, ["m2", "m3"]),
            ],
        )

    def test_three_circuits_one_down_is_nothing(self):
        self.assertEqual(analyse({"A": "A", "B": "B", "C": "C"}, [window("A", "m1", 0, 4)]), [])

    def test_back_to_back_windows_do_not_overlap(self):
        flags = analyse({"A": "A", "B": "B"}, [window("A", "m1", 0, 4), window("B", "m2", 4, 8)])
        # Each circuit alone: lost redundancy from 0 to 8, never isolation; one flag since contiguous.
        self.assertEqual(summary(flags), [(LOST_REDUNDANCY, 0, 8, ["m1", "m2"])])
        self.assertEqual(flags[0].left, {"A", "B"})

    def test_degraded_and_reduced_redundancy_are_counted_apart(self):
        members = {"A": "A", "B": "B"}
        windows = [window("A", "m1", 0, 4), window("B", "m2", 1, 3, "DEGRADED"), window("B", "m3", 0, 4, "NO-IMPACT")]
        flags = analyse(members, windows)
        self.assertEqual(summary(flags), [(LOST_REDUNDANCY, 0, 4, ["m1"])])
        self.assertEqual(flags[0].impaired, {"B"})

    def test_two_windows_of_one_circuit_are_one_member(self):
        windows = [window("A", "m1", 0, 4), window("A", "m2", 2, 6)]
        self.assertEqual(summary(analyse({"A": "A", "B": "B"}, windows)), [(LOST_REDUNDANCY, 0, 6, ["m1", "m2"])])

    def test_single_circuit_site_is_isolated_by_any_outage(self):
        self.assertEqual(summary(analyse({"A": "A"}, [window("A", "m1", 1, 2)])), [(ISOLATION, 1, 2, ["m1"])])

    def test_device_members_ride_on_circuits(self):
        # Two interfaces of a device on two circuits; a third circuit elsewhere does not count.
        members = {"eth0": "A", "eth1": "B"}
        windows = [window("A", "m1", 0, 2), window("B", "m2", 1, 3), window("Z", "m9", 0, 9)]
        flags = analyse(members, windows)
        self.assertEqual([f.kind for f in flags], [LOST_REDUNDANCY, ISOLATION, LOST_REDUNDANCY])
        self.assertEqual(flags[1].down, {"eth0", "eth1"})

    def test_empty_or_inverted_windows_are_ignored(self):
        self.assertEqual(analyse({"A": "A"}, [window("A", "m1", 2, 2), window("A", "m2", 3, 1)]), [])
        self.assertEqual(analyse({}, [window("A", "m1", 0, 1)]), [])


def brute_force_kind(members: dict, windows: list[Window], moment: datetime) -> str | None:
    down_circuits = {w.circuit for w in windows if w.impact == "OUTAGE" and w.start <= moment < w.end}
    down = [m for m, c in members.items() if c in down_circuits]
    return kind_for(len(down), len(members))


window_strategy = st.builds(
    lambda circuit, maintenance, start, length, impact: window(circuit, maintenance, start, start + length, impact),
    st.sampled_from("ABCD"),
    st.sampled_from(["m1", "m2", "m3", "m4"]),
    st.integers(0, 20),
    st.integers(-2, 10),
    st.sampled_from(["OUTAGE", "OUTAGE", "DEGRADED", "REDUCED-REDUNDANCY", "NO-IMPACT"]),
)


class AnalysePropertyTest(unittest.TestCase):
    @settings(max_examples=300, deadline=None)
    @given(
        members=st.dictionaries(st.sampled_from(["x1", "x2", "x3", "x4"]), st.sampled_from("ABCD"), max_size=4),
        windows=st.lists(window_strategy, max_size=8),
    )
    def test_matches_a_moment_by_moment_count(self, members, windows):
        """At every half hour, the flag covering it (if any) is the kind a plain count gives."""
        flags = analyse(members, windows)
        for earlier, later in zip(flags, flags[1:], strict=False):
            self.assertLessEqual(earlier.end, later.start)
            if earlier.end == later.start:
                self.assertNotEqual(earlier.kind, later.kind)
        for step in range(0, 64):
            moment = at(step / 2)
            covering = [f for f in flags if f.start <= moment < f.end]
            self.assertLessEqual(len(covering), 1)
            expected = brute_force_kind(members, windows, moment)
            self.assertEqual(covering[0].kind if covering else None, expected, (moment, flags))
            if covering:
                flag = covering[0]
                self.assertTrue(flag.maintenances)
                self.assertLessEqual(flag.maintenances, {w.maintenance for w in windows if w.impact == "OUTAGE"})
