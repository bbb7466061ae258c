"""The timeline's replay of the fold: pure, so checked here without a database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from django.test import SimpleTestCase

from nautobot_ssot_circuit_maintenance.intake.fold import Notice
from nautobot_ssot_circuit_maintenance.views.timeline import changes, replay

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
START = int(datetime(2030, 2, 1, 22, tzinfo=timezone.utc).timestamp())


def notice(key: str, sequence: int, status: str, *, hours: int = 4, shift: int = 0, circuits=("C-1",), impact="OUTAGE"):
    start = START + shift * 86400
    return Notice(
        key,
        T0 + timedelta(days=sequence),
        (
            {
                "maintenance_id": "M-1",
                "sequence": sequence,
                "status": status,
                "start": start,
                "end": start + hours * 3600,
                "summary": f"notice {sequence}",
                "circuits": [{"circuit_id": cid, "impact": impact} for cid in circuits],
            },
        ),
    )


class ReplayTest(SimpleTestCase):
    def described(self, steps):
        return [changes(before, after) if after else None for _, before, after in steps]

    def test_in_order_notices_show_successive_changes(self):
        notices = [
            notice("c", 3, "CANCELLED", shift=1),
            notice("a", 1, "CONFIRMED"),
            notice("b", 2, "RE-SCHEDULED", shift=1, circuits=("C-1", "C-2"), impact="DEGRADED"),
        ]
        steps = replay(notices)
        self.assertEqual([step[0].message_key for step in steps], ["a", "b", "c"])
        first, second, third = self.described(steps)
        self.assertEqual(
            first, ["status CONFIRMED", "window 2030-02-01 22:00–2030-02-02 02:00 UTC", "circuits C-1 (OUTAGE)"]
        )
        self.assertEqual(
            second,
            [
                "status CONFIRMED → RE-SCHEDULED",
                "window moved 2030-02-01 22:00–2030-02-02 02:00 UTC → 2030-02-02 22:00–2030-02-03 02:00 UTC",
                "circuits +C-2 (DEGRADED), C-1 impact OUTAGE → DEGRADED",
                "description updated",
            ],
        )
        self.assertEqual(
            third,
            ["status RE-SCHEDULED → CANCELLED", "circuits −C-2, C-1 impact DEGRADED → OUTAGE", "description updated"],
        )

    def test_a_late_notice_changes_nothing_and_the_newer_one_keeps_its_changes(self):
        a, b, c = notice("a", 1, "CONFIRMED"), notice("b", 2, "RE-SCHEDULED", shift=1), notice("c", 3, "CANCELLED")
        # Arrival: a, then c, then b (late).
        steps = replay([a, b, c], {"a": 1, "c": 2, "b": 3})
        self.assertEqual([step[0].message_key for step in steps], ["a", "b", "c"])
        self.assertEqual(self.described(steps)[1], [])  # b arrived after c: nothing
        self.assertEqual(self.described(steps)[2], ["status CONFIRMED → CANCELLED", "description updated"])

    def test_a_notice_the_fold_cannot_read_is_left_out(self):
        broken = Notice("x", T0, ({"maintenance_id": "M-1", "status": "CONFIRMED"},))
        steps = replay([broken, notice("a", 1, "CONFIRMED")])
        self.assertEqual([step[2] is None for step in steps], [True, False])
        self.assertIsNone(steps[1][1])
