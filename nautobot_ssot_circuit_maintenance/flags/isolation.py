"""Site isolation and lost redundancy, as interval arithmetic: pure (no database, no clock).

A *group* is a location or a device; its *members* are what can keep it connected (the circuits
terminating at a location; the circuit-facing interfaces of a device), each riding on one circuit.
A member is down while one of its circuit's OUTAGE windows covers the moment. For every moment
the group's down members are counted:

- all down → **isolation** (the group is cut off);
- all but one down, with at least two members → **lost redundancy** (one link left).

Windows are half-open, ``[start, end)``: one maintenance ending when the next starts is no overlap.
Contiguous moments of the same kind make one flag, with every maintenance that took part.
Windows of DEGRADED and REDUCED-REDUNDANCY impact never take a member down; the circuits they
touch during a flag are reported beside it (``impaired``), counted apart.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

ISOLATION = "isolation"
LOST_REDUNDANCY = "lost-redundancy"

# Impacts that take a circuit down, and those that only impair it (counted apart).
DOWN_IMPACTS = frozenset({"OUTAGE"})
IMPAIRED_IMPACTS = frozenset({"DEGRADED", "REDUCED-REDUNDANCY"})


@dataclass(frozen=True)
class Window:
    """One window of one maintenance on one circuit."""

    circuit: Hashable
    maintenance: Hashable
    impact: str
    start: datetime
    end: datetime


@dataclass
class Flag:
    """A stretch of time during which a group is isolated, or down to its last link."""

    kind: str
    start: datetime
    end: datetime
    total: int
    down: set[Hashable] = field(default_factory=set)  # members down at some moment of the flag
    left: set[Hashable] = field(default_factory=set)  # members still up at some moment (lost redundancy)
    maintenances: set[Hashable] = field(default_factory=set)  # the maintenances taking members down
    impaired: set[Hashable] = field(default_factory=set)  # circuits degraded meanwhile, not counted as down


def kind_for(down: int, total: int) -> str | None:
    """The flag a moment deserves, with `down` of `total` members down."""
    if total < 1 or down < total - 1:
        return None
    if down == total:
        return ISOLATION
    return LOST_REDUNDANCY if total >= 2 else None


def analyse(members: Mapping[Hashable, Hashable], windows: Iterable[Window]) -> list[Flag]:
    """The flags of one group, in time order.

    `members` maps each member to the circuit it rides on (a location's circuits map to themselves);
    `windows` may hold windows of other circuits: they are ignored. Windows whose end is not after
    their start are ignored too.
    """
    circuits = set(members.values())
    relevant = [
        w
        for w in windows
        if w.circuit in circuits and w.end > w.start and (w.impact in DOWN_IMPACTS or w.impact in IMPAIRED_IMPACTS)
    ]
    if not members or not relevant:
        return []
    riders: dict[Hashable, list[Hashable]] = {}
    for member, circuit in members.items():
        riders.setdefault(circuit, []).append(member)
    total = len(members)
    boundaries = sorted({w.start for w in relevant} | {w.end for w in relevant})
    starting: dict[datetime, list[Window]] = {}
    ending: dict[datetime, list[Window]] = {}
    for w in relevant:
        starting.setdefault(w.start, []).append(w)
        ending.setdefault(w.end, []).append(w)

    active: dict[Window, int] = {}  # windows covering the current stretch (a multiset: windows may repeat)
    flags: list[Flag] = []
    for here, after in zip(boundaries, boundaries[1:], strict=False):
        for w in ending.get(here, ()):
            active[w] -= 1
            if not active[w]:
                del active[w]
        for w in starting.get(here, ()):
            active[w] = active.get(w, 0) + 1
        down_windows = [w for w in active if w.impact in DOWN_IMPACTS]
        down_circuits = {w.circuit for w in down_windows}
        down = {member for circuit in down_circuits for member in riders[circuit]}
        kind = kind_for(len(down), total)
        if kind is None:
            continue
        impaired = {w.circuit for w in active if w.impact in IMPAIRED_IMPACTS} - down_circuits
        previous = flags[-1] if flags else None
        if previous is None or previous.kind != kind or previous.end != here:
            previous = Flag(kind=kind, start=here, end=after, total=total)
            flags.append(previous)
        previous.end = after
        previous.down |= down
        previous.left |= set(members) - down
        previous.maintenances |= {w.maintenance for w in down_windows}
        previous.impaired |= impaired
    return flags
