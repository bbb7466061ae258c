"""A run's diff, as the Sync record stores it: the diffs of its chunks (`Diff.dict()`) merged.

A maintenance created in one chunk and changed in a later one stays a creation with its latest
values; one changed twice keeps the values it had before the run ("-") and after it ("+").
"""

from __future__ import annotations

from collections import Counter

SIDES = ("-", "+")


def _is_create(entry: dict) -> bool:
    return bool(entry.get("+")) and not entry.get("-")


def merge_chunk_diff(run: dict, chunk: dict) -> None:
    """Merge one chunk's `Diff.dict()` into the run's, in place."""
    for model, entries in chunk.items():
        known = run.setdefault(model, {})
        for name, entry in entries.items():
            before = known.get(name)
            if before is None:
                known[name] = entry
                continue
            if "+" in entry:
                before["+"] = {**before.get("+", {}), **entry["+"]}
            if "-" in entry and not _is_create(before):
                before["-"] = {**entry["-"], **before.get("-", {})}
            merge_chunk_diff(before, {key: value for key, value in entry.items() if key not in SIDES})


def count_maintenance_actions(diff: dict | None) -> Counter[str]:
    """How many maintenances a run's diff creates and updates.

    Impacts are children: a maintenance whose only change is in its circuits counts as updated.
    """
    counts: Counter[str] = Counter()
    for entry in (diff or {}).get("maintenance", {}).values():
        counts["create" if _is_create(entry) else "update"] += 1
    return counts
