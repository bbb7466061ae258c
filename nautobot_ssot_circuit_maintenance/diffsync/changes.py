"""Sentences a person reads in the SSoT log: what a sync did to one maintenance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .models import split_circuit_entry

TRACKED_FOR_ACK = ("status", "windows", "circuits")


def _format_window(entry: str) -> str:
    start_text, _, end_text = entry.partition("/")
    start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"


def format_windows(entries: list[str]) -> str:
    return ", ".join(_format_window(entry) for entry in entries) or "none"


def describe_create(attrs: dict[str, Any]) -> str:
    circuits = [f"{cid} ({impact})" for cid, impact in map(split_circuit_entry, attrs.get("circuits", []))]
    parts = [
        f"created {attrs['status']}",
        f"window {format_windows(attrs.get('windows', []))}",
        f"circuits {', '.join(circuits) if circuits else 'none'}",
    ]
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
    if "circuits" in new and new["circuits"] != old["circuits"]:
        before = dict(map(split_circuit_entry, old["circuits"]))
        after = dict(map(split_circuit_entry, new["circuits"]))
        changes = [f"+{cid} ({after[cid]})" for cid in sorted(after.keys() - before.keys())]
        changes += [f"−{cid}" for cid in sorted(before.keys() - after.keys())]
        changes += [
            f"{cid} {before[cid]} → {after[cid]}"
            for cid in sorted(before.keys() & after.keys())
            if before[cid] != after[cid]
        ]
        parts.append("circuits " + ", ".join(changes))
    if "unresolved_circuit_ids" in new and new["unresolved_circuit_ids"] != old["unresolved_circuit_ids"]:
        added = sorted(set(new["unresolved_circuit_ids"]) - set(old["unresolved_circuit_ids"]))
        if added:
            parts.append("unknown circuit IDs " + ", ".join(added))
    if "description" in new and new["description"] != old["description"]:
        parts.append("description updated")
    if "name" in new and new["name"] != old["name"]:
        parts.append(f"renamed {old['name']} → {new['name']}")
    if ("start_time" in new or "end_time" in new) and "windows" not in new:
        parts.append("times updated")
    return "; ".join(parts) or "updated"


def resets_ack(new: dict[str, Any]) -> bool:
    return any(key in new for key in TRACKED_FOR_ACK)
