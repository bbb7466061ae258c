"""The demo's maintenances moved to dates around today, so every page has something to show at first sight.

The sample mailbox is real provider mail from years ago; the sync job reads it unchanged (the corpus
tests use the same mail). After the demo's sync, each maintenance is moved in time as a whole — its
windows, its span and the parsed notifications behind it, so a later fold agrees — to a slot around
now: some running, one overrunning, several in the next days, cancelled ones ahead, some ended.
Each moved maintenance gets a note saying so, which is also what makes a second run leave it alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from nautobot_ssot_circuit_maintenance.choices import MaintenanceStatusChoices, NoteLevelChoices
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, MaintenanceNote, ParsedNotification

NOTE_TITLE = "Demo: dates moved to around today"
RUNNING = "running"
OVERRUNNING = "overrunning"
# Where each kind of maintenance lands, as hours from now for its first window's start (in turn, then again).
OPEN_SLOTS = [RUNNING, 5, 26, RUNNING, 50, 75, -30, 122, 170, -80, 240, 320, -200, 500, 700]
IN_PROCESS_SLOTS = [OVERRUNNING, RUNNING]
CANCELLED_SLOTS = [30, 98, 150]
COMPLETED_SLOTS = [-50, -130, -300]


@dataclass(frozen=True)
class Move:
    maintenance: CircuitMaintenance
    shift: timedelta


def _target(maintenance: CircuitMaintenance, slot: object, now: datetime) -> datetime:
    first_start, first_end = maintenance.window_times[0]
    if slot == RUNNING:
        # Started a while ago, ends later: in progress now.
        return now - min(timedelta(hours=1), (first_end - first_start) / 2)
    if slot == OVERRUNNING:
        # The provider said IN-PROCESS, and the end passed two hours ago.
        return now - timedelta(hours=2) - (maintenance.end_time - first_start)
    return now + timedelta(hours=slot)


def plan(maintenances: list[CircuitMaintenance], now: datetime) -> list[Move]:
    """A move for each maintenance, by kind, in the order of their original start."""
    slots = {
        MaintenanceStatusChoices.IN_PROCESS: IN_PROCESS_SLOTS,
        MaintenanceStatusChoices.CANCELLED: CANCELLED_SLOTS,
        MaintenanceStatusChoices.COMPLETED: COMPLETED_SLOTS,
    }
    used: dict[str, int] = {}
    moves = []
    for maintenance in sorted(maintenances, key=lambda m: (m.start_time, m.maintenance_id)):
        kind = maintenance.status if maintenance.status in slots else "open"
        choices = slots.get(kind, OPEN_SLOTS)
        slot = choices[used.get(kind, 0) % len(choices)]
        used[kind] = used.get(kind, 0) + 1
        moves.append(Move(maintenance, _target(maintenance, slot, now) - maintenance.window_times[0][0]))
    return moves


def _shift_json(data: dict, shift: timedelta) -> dict:
    seconds = int(shift.total_seconds())
    return {**data, **{key: data[key] + seconds for key in ("start", "end") if isinstance(data.get(key), int)}}


@transaction.atomic
def move_to_today(now: datetime | None = None) -> list[Move]:
    """Move every maintenance not moved yet; return the moves."""
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    moved = MaintenanceNote.objects.filter(title=NOTE_TITLE).values_list("maintenance", flat=True)
    pending = list(CircuitMaintenance.objects.exclude(pk__in=moved))
    moves = plan(pending, now)
    for move in moves:
        maintenance, shift = move.maintenance, move.shift
        windows = (
            [
                {"start": (start + shift).isoformat(), "end": (end + shift).isoformat()}
                for start, end in maintenance.window_times
            ]
            if maintenance.windows
            else []
        )
        CircuitMaintenance.objects.filter(pk=maintenance.pk).update(
            start_time=maintenance.start_time + shift, end_time=maintenance.end_time + shift, windows=windows
        )
        parsed = ParsedNotification.objects.filter(
            provider=maintenance.provider_id, provider_maintenance_id=maintenance.maintenance_id
        )
        for notification in parsed:
            notification.json = _shift_json(notification.json, shift)
        ParsedNotification.objects.bulk_update(parsed, ["json"])
        MaintenanceNote.objects.create(
            maintenance=maintenance,
            title=NOTE_TITLE,
            level=NoteLevelChoices.INFO,
            comment=(
                f"The demo moved this maintenance by {shift.days} days and {shift.seconds // 3600} hours so that it "
                "shows on the calendar and the overview; the provider's mail says "
                f"{maintenance.start_time:%Y-%m-%d %H:%M} UTC."
            ),
        )
    return moves
