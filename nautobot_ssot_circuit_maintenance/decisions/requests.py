"""What a person's decision request must hold: checked once, for the REST API and the UI alike."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.decisions.actions import REASON_LENGTH


class BadDecision(ValueError):
    """The request cannot be carried out as asked; the message says why (answered with 400)."""


def reason_of(data: Any) -> str:
    """The reason a person gave: required, at most REASON_LENGTH characters."""
    reason = " ".join(str(data.get("reason") or "").split())
    if not reason:
        raise BadDecision("a reason is required")
    if len(reason) > REASON_LENGTH:
        raise BadDecision(f"the reason is {len(reason)} characters long, at most {REASON_LENGTH} are kept")
    return reason


def _when(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise BadDecision(f"{name} must be an ISO 8601 date and time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise BadDecision(f"{name} {value[:40]!r} is not an ISO 8601 date and time") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if not 1970 <= moment.year < 9000:
        raise BadDecision(f"{name} must lie between 1970 and 9000")
    return moment.astimezone(timezone.utc)


def circuits_of(data: Any) -> list[tuple[str, str]] | None:
    """The circuits an override request names, as (circuit ID or pk, impact); None when it names none."""
    value = data.get("circuits")
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 1000:
        raise BadDecision("circuits must be a list of at most 1000 {circuit, impact} objects")
    found = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or not isinstance(entry.get("circuit"), str) or not entry["circuit"].strip():
            raise BadDecision(f"circuits[{index}] must be an object with a circuit (its ID or its id) and an impact")
        impact = entry.get("impact") or ImpactChoices.OUTAGE
        if impact not in ImpactChoices.as_dict():
            raise BadDecision(f"circuits[{index}].impact must be one of {', '.join(ImpactChoices.as_dict())}")
        found.append((entry["circuit"].strip()[:255], impact))
    return found


def override_of(data: Any) -> tuple[str, list[tuple[datetime, datetime]], list[tuple[str, str]] | None]:
    """The status, windows and circuits an override request asks for (at least one of them)."""
    status = str(data.get("status") or "")
    if status and status not in MaintenanceStatusChoices.as_dict():
        raise BadDecision(f"status must be one of {', '.join(MaintenanceStatusChoices.as_dict())}")
    raw_windows = data.get("windows") or []
    if not isinstance(raw_windows, list) or len(raw_windows) > 100:
        raise BadDecision("windows must be a list of at most 100 {start, end} objects")
    windows = []
    for index, window in enumerate(raw_windows):
        if not isinstance(window, dict):
            raise BadDecision("windows must be a list of {start, end} objects")
        start = _when(window.get("start"), f"windows[{index}].start")
        end = _when(window.get("end"), f"windows[{index}].end")
        if end < start:
            raise BadDecision(f"windows[{index}] ends before it starts")
        windows.append((start, end))
    circuits = circuits_of(data)
    if not status and not windows and circuits is None:
        raise BadDecision("an override needs a status, at least one window, or the circuits")
    return status, windows, circuits
