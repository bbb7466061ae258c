"""Notifications → the state they imply, one maintenance at a time.

A pure function of the notifications (no database, no clock), so the same notifications in any
arrival order give the same state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .choices import ImpactChoices, MaintenanceStatusChoices

NO_CHANGE = "NO-CHANGE"
KNOWN_STATUSES = {value for value, _ in MaintenanceStatusChoices.CHOICES}
# Breaks ties between notices with the same sequence, stamp and date: work moves forward, not back.
STATUS_PROGRESS = {
    MaintenanceStatusChoices.TENTATIVE: 0,
    MaintenanceStatusChoices.CONFIRMED: 1,
    MaintenanceStatusChoices.RE_SCHEDULED: 2,
    MaintenanceStatusChoices.IN_PROCESS: 3,
    MaintenanceStatusChoices.COMPLETED: 4,
    MaintenanceStatusChoices.CANCELLED: 4,
}
IMPACT_SEVERITY = {
    ImpactChoices.NO_IMPACT: 0,
    ImpactChoices.REDUCED_REDUNDANCY: 1,
    ImpactChoices.DEGRADED: 2,
    ImpactChoices.OUTAGE: 3,
}


def normalize_cid(cid: str) -> str:
    """How circuit IDs compare: case-insensitive, runs of whitespace as one space, trimmed."""
    return " ".join(cid.split()).upper()


def as_utc(epoch: int | float) -> datetime:
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc)


@dataclass(frozen=True)
class Notice:
    """What one notification says about one maintenance (one parser dict per window)."""

    message_key: str
    received: datetime
    maintenances: tuple[dict, ...]

    @property
    def order(self) -> tuple:
        sequence = max(int(m.get("sequence") or 0) for m in self.maintenances)
        stamp = max(int(m.get("stamp") or 0) for m in self.maintenances)
        progress = max(STATUS_PROGRESS.get(m.get("status"), 0) for m in self.maintenances)
        return (sequence, stamp, self.received, progress, self.message_key)


@dataclass
class MaintenanceState:
    maintenance_id: str
    status: str
    description: str
    windows: list[tuple[datetime, datetime]]
    # normalised circuit ID → (circuit ID as the provider wrote it, impact)
    circuits: dict[str, tuple[str, str]] = field(default_factory=dict)
    decided_by: str = ""

    @property
    def start_time(self) -> datetime:
        return min(start for start, _ in self.windows)

    @property
    def end_time(self) -> datetime:
        return max(end for _, end in self.windows)


def _circuits_of(notice: Notice) -> dict[str, tuple[str, str]]:
    circuits: dict[str, tuple[str, str]] = {}
    for maintenance in notice.maintenances:
        for circuit in maintenance.get("circuits") or []:
            cid = circuit.get("circuit_id") or ""
            key = normalize_cid(cid)
            if not key:
                continue
            impact = circuit.get("impact") or ImpactChoices.OUTAGE
            if impact not in IMPACT_SEVERITY:
                impact = ImpactChoices.OUTAGE
            known = circuits.get(key)
            if known is None or IMPACT_SEVERITY[impact] > IMPACT_SEVERITY[known[1]]:
                circuits[key] = (known[0] if known else " ".join(cid.split()), impact)
    return circuits


def fold(notices: Iterable[Notice]) -> MaintenanceState:
    """The state of one maintenance: the newest notice decides, NO-CHANGE keeps the status,
    a notice without circuits keeps the circuits already known."""
    ordered = sorted(notices, key=lambda notice: notice.order)
    if not ordered:
        raise ValueError("a maintenance needs at least one notice")
    status = MaintenanceStatusChoices.UNKNOWN
    description = ""
    circuits: dict[str, tuple[str, str]] = {}
    windows: list[tuple[datetime, datetime]] = []
    for notice in ordered:
        statuses = {m.get("status") for m in notice.maintenances}
        statuses.discard(NO_CHANGE)
        if statuses:
            # Several windows of one notice normally share a status; pick deterministically if not.
            value = sorted(statuses, key=str)[0]
            status = value if value in KNOWN_STATUSES else MaintenanceStatusChoices.UNKNOWN
        summaries = [m.get("summary") for m in notice.maintenances if m.get("summary")]
        if summaries:
            description = summaries[0]
        notice_circuits = _circuits_of(notice)
        if notice_circuits:
            circuits = notice_circuits
        notice_windows = sorted({(as_utc(m["start"]), as_utc(m["end"])) for m in notice.maintenances})
        if notice_windows:
            windows = notice_windows
    return MaintenanceState(
        maintenance_id=ordered[-1].maintenances[0]["maintenance_id"],
        status=status,
        description=description,
        windows=windows,
        circuits=circuits,
        decided_by=ordered[-1].message_key,
    )


def is_out_of_sequence(notice: Notice, stored: Iterable[Notice]) -> bool:
    """True when a notice already stored is newer: this one arrived late and decides nothing."""
    return any(other.order > notice.order for other in stored)
