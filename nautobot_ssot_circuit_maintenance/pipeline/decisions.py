"""A person's overrides applied to what the notices imply: the override holds, the notices' word is noted.

`apply_override` is pure; `apply_overrides` reads the overrides of the maintenances at hand in one query.
"""

from __future__ import annotations

from typing import Any

from ..fold import MaintenanceState
from ..timeline import format_windows
from .history import MaintenanceKey
from .resolve import ResolvedMaintenance


def apply_override(state: MaintenanceState, status: str, windows: list) -> list[str]:
    """Put the override's status and windows (where set) in `state`; what the notices said instead, in words."""
    held = []
    if status and state.status != status:
        held.append(f"status {status} → {state.status}")
        state.status = status
    if windows and state.windows != windows:
        held.append(f"windows {format_windows(windows)} → {format_windows(state.windows)}")
        state.windows = list(windows)
    return held


def overrides_of(keys: set[MaintenanceKey]) -> dict[MaintenanceKey, Any]:
    """The MaintenanceOverride of each of these maintenances that has one."""
    from ..models import MaintenanceOverride

    if not keys:
        return {}
    rows = MaintenanceOverride.objects.filter(
        maintenance__provider_id__in={pk for pk, _ in keys},
        maintenance__maintenance_id__in={mid for _, mid in keys},
    ).select_related("maintenance")
    found = {(row.maintenance.provider_id, row.maintenance.maintenance_id): row for row in rows}
    return {key: row for key, row in found.items() if key in keys}


def apply_overrides(resolved: dict[MaintenanceKey, ResolvedMaintenance], noticed: set[MaintenanceKey]) -> None:
    """Hold every override; for the maintenances new notices touched (`noticed`), keep what they said in `held_back`."""
    for key, override in overrides_of(set(resolved)).items():
        held = apply_override(resolved[key].state, override.status, override.window_times)
        if key in noticed:
            resolved[key].held_back = held
