"""A person's overrides applied to what the notices imply: the override holds, the notices' word is noted.

`apply_override` is pure; `apply_overrides` reads the overrides of the maintenances at hand (and the circuits
they name) in two queries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nautobot_ssot_circuit_maintenance.display import format_utc_windows
from nautobot_ssot_circuit_maintenance.intake.history import MaintenanceKey
from nautobot_ssot_circuit_maintenance.intake.resolve import ResolvedMaintenance
from nautobot_ssot_circuit_maintenance.models import MaintenanceOverride
from nautobot_ssot_circuit_maintenance.validation import normalize_cid


def _circuits_text(circuits: dict[str, str]) -> str:
    return ", ".join(f"{cid} ({impact})" for cid, impact in sorted(circuits.items())) or "none"


def apply_override(
    resolved: ResolvedMaintenance,
    status: str,
    windows: list[tuple[datetime, datetime]],
    circuits: dict[str, tuple[Any, str]] | None,
) -> list[str]:
    """Put the override's status, windows and circuits (where set) in `resolved`; what the notices said instead.

    The latter is in words, for a stored note (times in UTC).
    `circuits` maps a circuit ID as Nautobot writes it to (circuit pk, impact).
    """
    state = resolved.state
    held = []
    if status and state.status != status:
        held.append(f"status {status} → {state.status}")
        state.status = status
    if windows and state.windows != windows:
        held.append(f"windows {format_utc_windows(windows)} → {format_utc_windows(state.windows)}")
        state.windows = list(windows)
    if circuits is not None:
        wanted = {cid: impact for cid, (_, impact) in circuits.items()}
        if wanted != resolved.circuits or resolved.unresolved:
            said = _circuits_text(resolved.circuits) + (
                f", unknown {', '.join(resolved.unresolved)}" if resolved.unresolved else ""
            )
            held.append(f"circuits {_circuits_text(wanted)} → {said}")
        resolved.circuits = wanted
        resolved.circuit_pks = {cid: pk for cid, (pk, _) in circuits.items()}
        resolved.unresolved = []
        state.circuits = {normalize_cid(cid): (cid, impact) for cid, impact in wanted.items()}
    return held


def overrides_of(keys: set[MaintenanceKey]) -> dict[MaintenanceKey, Any]:
    """The MaintenanceOverride of each of these maintenances that has one."""
    if not keys:
        return {}
    rows = MaintenanceOverride.objects.filter(
        maintenance__provider_id__in={pk for pk, _ in keys},
        maintenance__maintenance_id__in={mid for _, mid in keys},
    ).select_related("maintenance")
    found = {(row.maintenance.provider_id, row.maintenance.maintenance_id): row for row in rows}
    return {key: row for key, row in found.items() if key in keys}


def override_circuits(overrides: list[Any]) -> dict[str, str]:
    """Circuit pk (as text) → circuit ID, for the circuits the overrides name (those that still exist)."""
    from nautobot.circuits.models import Circuit

    pks = {pk for override in overrides for pk in (override.circuits or {})}
    if not pks:
        return {}
    return {str(pk): cid for pk, cid in Circuit.objects.filter(pk__in=pks).values_list("pk", "cid")}


def apply_overrides(resolved: dict[MaintenanceKey, ResolvedMaintenance], noticed: set[MaintenanceKey]) -> None:
    """Hold every override; for the maintenances new notices touched (`noticed`), keep what they said in `held_back`."""
    overrides = overrides_of(set(resolved))
    cids = override_circuits(list(overrides.values()))
    for key, override in overrides.items():
        circuits = None
        if override.circuits is not None:
            circuits = {cids[pk]: (pk, impact) for pk, impact in override.circuits.items() if pk in cids}
        held = apply_override(resolved[key], override.status, override.window_times, circuits)
        if key in noticed:
            resolved[key].held_back = held
