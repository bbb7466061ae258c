"""Sentences a person reads in the SSoT log: what a sync did to one maintenance or one of its impacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nautobot_ssot_circuit_maintenance import display

# Attributes whose change means the maintenance needs a person's eyes again (its impacts too).
MATERIAL = ("status", "windows")
ACK_CLEARED = "acknowledgement cleared"


def format_windows(entries: list[str]) -> str:
    """Window entries (`start/end`, ISO) as a person reads them, in UTC (the log is stored)."""
    return display.format_utc_windows(
        [tuple(datetime.fromisoformat(text) for text in entry.partition("/")[::2]) for entry in entries]
    )


def describe_create(attrs: dict[str, Any]) -> str:
    """The log sentence of a created maintenance: its status, window and unknown circuit IDs."""
    parts = [f"created {attrs['status']}", f"window {format_windows(attrs.get('windows', []))}"]
    if attrs.get("unresolved_circuit_ids"):
        parts.append("unknown circuit IDs " + ", ".join(attrs["unresolved_circuit_ids"]))
    return "; ".join(parts)


def describe_update(old: dict[str, Any], new: dict[str, Any]) -> str:
    """One sentence per changed aspect, e.g. `status CONFIRMED → CANCELLED; window moved … → …`."""
    parts = []
    if "status" in new and new["status"] != old["status"]:
        parts.append(f"status {old['status']} → {new['status']}")
    if "windows" in new and new["windows"] != old["windows"]:
        parts.append(f"window moved {format_windows(old['windows'])} → {format_windows(new['windows'])}")
    if "unresolved_circuit_ids" in new and new["unresolved_circuit_ids"] != old["unresolved_circuit_ids"]:
        added = sorted(set(new["unresolved_circuit_ids"]) - set(old["unresolved_circuit_ids"]))
        if added:
            parts.append("unknown circuit IDs " + ", ".join(added))
        known = sorted(set(old["unresolved_circuit_ids"]) - set(new["unresolved_circuit_ids"]))
        if known:
            parts.append("circuit IDs now known " + ", ".join(known))
    if "description" in new and new["description"] != old["description"]:
        parts.append("description updated")
    if "provider_time_zone" in new and new["provider_time_zone"] != old["provider_time_zone"]:
        parts.append(f"provider's time zone {new['provider_time_zone'] or 'unknown'}")
    if "name" in new and new["name"] != old["name"]:
        parts.append(f"renamed {old['name']} → {new['name']}")
    if ("start_time" in new or "end_time" in new) and "windows" not in new:
        parts.append("times updated")
    return "; ".join(parts) or "updated"


def describe_impact(circuit: str, old: str | None, new: str | None) -> str:
    """`circuit X added (OUTAGE)`, `circuit X OUTAGE → DEGRADED`, `circuit X removed`."""
    if old is None:
        return f"circuit {circuit} added ({new})"
    if new is None:
        return f"circuit {circuit} removed"
    return f"circuit {circuit} {old} → {new}"


def is_material(new: dict[str, Any]) -> bool:
    """Whether the update changes the status or the windows, and so clears the acknowledgement."""
    return any(key in new for key in MATERIAL)
