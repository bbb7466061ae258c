"""The DiffSync models of a circuit maintenance and its circuit impacts, shared by both adapters."""

from __future__ import annotations

from datetime import datetime

from diffsync import DiffSyncModel


def window_entry(start: datetime, end: datetime) -> str:
    """A window as the diff shows it: `start/end` in ISO 8601 (UTC)."""
    return f"{start.isoformat()}/{end.isoformat()}"


class ImpactModel(DiffSyncModel):
    """One circuit of a maintenance and how the maintenance affects it; a child of MaintenanceModel."""

    _modelname = "impact"
    _identifiers = ("provider", "maintenance_id", "circuit")
    _attributes = ("impact",)

    provider: str
    maintenance_id: str
    circuit: str  # the circuit ID as Nautobot writes it
    impact: str


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
        "unresolved_circuit_ids",
        "provider_time_zone",
    )
    _children = {"impact": "impacts"}

    provider: str
    maintenance_id: str
    name: str
    description: str = ""
    status: str
    start_time: datetime
    end_time: datetime
    windows: list[str] = []
    unresolved_circuit_ids: list[str] = []
    provider_time_zone: str = ""
    impacts: list = []
