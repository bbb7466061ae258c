"""The demo's maintenances moved to dates around today, so every page has something to show at first sight.

The sample mailbox is real provider mail from years ago; the sync job reads it unchanged (the corpus
tests use the same mail). After the demo's sync, each maintenance is moved in time as a whole to a slot
around now: some running, one overrunning, several in the next days, cancelled ones ahead, some ended.
The maintenances that cut off a demo site come first, so the isolation and lost-redundancy flags are
current. A move is a person's override of the windows (decisions/), as an operator would make one: it
holds over the mail, so a reprocess or a re-sync of the same notices keeps the demo's dates, and the
maintenance's page says what the provider's mail says. An override also makes a second run leave the
maintenance alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.decisions.actions import override
from nautobot_ssot_circuit_maintenance.display import format_utc
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, MaintenanceOverride

REASON = "Demo: dates moved to around today"
RUNNING = "running"
OVERRUNNING = "overrunning"
# Where each kind of maintenance lands, as hours from now for its first window's start (in turn, then again).
# The open maintenances that cut off a demo site take the first slots: both running now.
OPEN_SLOTS = [RUNNING, RUNNING, 5, 26, 50, 75, -30, 122, 170, -80, 240, 320, -200, 500, 700]
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


def cuts_off_a_site(maintenance: CircuitMaintenance) -> bool:
    """Whether the maintenance takes down a circuit that terminates at one of our locations (a flag's cause)."""
    return maintenance.circuit_impacts.filter(
        impact=ImpactChoices.OUTAGE, circuit__circuit_terminations__location__isnull=False
    ).exists()


def plan(maintenances: list[CircuitMaintenance], now: datetime) -> list[Move]:
    """A move for each maintenance, by kind: those that cut off a site first, then in the order of their start."""
    slots = {
        MaintenanceStatusChoices.IN_PROCESS: IN_PROCESS_SLOTS,
        MaintenanceStatusChoices.CANCELLED: CANCELLED_SLOTS,
        MaintenanceStatusChoices.COMPLETED: COMPLETED_SLOTS,
    }
    used: dict[str, int] = {}
    moves = []
    ordered = sorted(maintenances, key=lambda m: (not cuts_off_a_site(m), m.start_time, m.maintenance_id))
    for maintenance in ordered:
        kind = maintenance.status if maintenance.status in slots else "open"
        choices = slots.get(kind, OPEN_SLOTS)
        slot = choices[used.get(kind, 0) % len(choices)]
        used[kind] = used.get(kind, 0) + 1
        moves.append(Move(maintenance, _target(maintenance, slot, now) - maintenance.window_times[0][0]))
    return moves


@transaction.atomic
def move_to_today(user: Any = None, now: datetime | None = None) -> list[Move]:
    """Move every maintenance not moved yet (one without an override), as `user`'s override; return the moves."""
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    held = MaintenanceOverride.objects.values_list("maintenance", flat=True)
    moves = plan(list(CircuitMaintenance.objects.exclude(pk__in=held)), now)
    for move in moves:
        maintenance, shift = move.maintenance, move.shift
        said = ", ".join(f"{format_utc(start)} – {format_utc(end)}" for start, end in maintenance.window_times)
        override(
            maintenance,
            user,
            f"{REASON}, so that it shows on the calendar and the overview; the provider's mail says {said}",
            windows=[(start + shift, end + shift) for start, end in maintenance.window_times],
        )
    return moves
