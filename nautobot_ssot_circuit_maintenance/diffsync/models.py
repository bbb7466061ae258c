"""The DiffSync model of a circuit maintenance, shared by both adapters."""

from __future__ import annotations

from datetime import datetime

from diffsync import DiffSyncModel


def circuit_entry(cid: str, impact: str) -> str:
    return f"{cid}|{impact}"


def split_circuit_entry(entry: str) -> tuple[str, str]:
    cid, _, impact = entry.rpartition("|")
    return cid, impact


def window_entry(start: datetime, end: datetime) -> str:
    return f"{start.isoformat()}/{end.isoformat()}"


class MaintenanceModel(DiffSyncModel):
    """A maintenance as the notifications imply it (source) or as Nautobot holds it (target).

    Lists are sorted on both sides so that the diff sees content, not order; datetimes are UTC-aware.
    """

    _modelname = "maintenance"
    _identifiers = ("provider", "maintenance_id")
    _attributes = (
        "name",
        "description",
        "status",
        "start_time",
        "end_time",
        "windows",
        "circuits",
        "unresolved_circuit_ids",
    )

    provider: str
    maintenance_id: str
    name: str
    description: str = ""
    status: str
    start_time: datetime
    end_time: datetime
    windows: list[str] = []
    circuits: list[str] = []
    unresolved_circuit_ids: list[str] = []
