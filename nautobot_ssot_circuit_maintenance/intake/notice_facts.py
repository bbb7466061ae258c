"""What the app reads out of a notice besides the parser: the provider's time zone, the tickets it replaces.

Kept with each parsed maintenance under `read_by_app` (only what was found; stored in
`ParsedNotification.read_by_app`, apart from the parser's JSON), so the stored notices carry it into every later
fold (intake/fold.py) and a re-parse reads it again. Pure.
"""

from __future__ import annotations

import re
from typing import Any

from nautobot_ssot_circuit_maintenance.intake.fold import APP_FACTS, as_utc
from nautobot_ssot_circuit_maintenance.zones import written_times, zone_of_windows

# "This maintenance replaces ticket XYZ", "supersedes maintenance XYZ", "rescheduled from XYZ", "replacing
# notification #XYZ": a verb, then maybe what the provider calls a ticket, then the id (with a digit in it).
# Every gap is bounded ({1,3} blanks, {0,4} words) so that no text makes the pattern backtrack for long.
REPLACES = re.compile(
    r"\b(?:replaces|replacing|supersedes|superseding|(?:is\s{1,3})?rescheduled\s{1,3}from|"
    r"(?:is\s{1,3}a\s{1,3})?reschedule\s{1,3}of)"
    r"(?:\s{1,3}(?:the|our|previous|previously|earlier|original|old|announced|scheduled|planned|sent)){0,4}"
    r"(?:\s{1,3}(?:maintenance|ticket|notification|notice|work|case|change|event|reference|ref\.?|id|number|no\.?|#))"
    r"{0,3}"
    r"\s{0,3}[:#]?\s{0,3}(?P<id>[A-Za-z0-9][A-Za-z0-9_./-]{1,63}[A-Za-z0-9])",
    re.IGNORECASE,
)
# At most this many older tickets are kept from one notice.
MAX_REPLACED = 5
# Every verb of REPLACES starts with one of these: a text without any is not searched (most notices, at once).
REPLACES_STEMS = ("replac", "supersed", "reschedul")


def replaced_ids(text: str, own_id: str) -> list[str]:
    """The maintenance ids the text says this maintenance replaces, in the order written (never its own)."""
    found: list[str] = []
    lowered = text.casefold()  # casefold, not lower: "ſ" matches "s" under re.IGNORECASE
    if not any(stem in lowered for stem in REPLACES_STEMS):
        return found
    for match in REPLACES.finditer(text):
        named = match["id"]
        if any(char.isdigit() for char in named) and named != own_id and named not in found:
            found.append(named)
    return found[:MAX_REPLACED]


def add_notice_facts(maintenances: list[dict[str, Any]], text: str) -> None:
    """Add to each maintenance (a parser dict, checked) what `text` (the notice's subject and text) says of it.

    The parser's own summary is read too (a provider's portal may put the sentence there).
    """
    times = written_times(text) if maintenances else []
    for maintenance in maintenances:
        facts: dict[str, Any] = {}
        window = (as_utc(maintenance["start"]), as_utc(maintenance["end"]))
        if zone := zone_of_windows(times, [window]):
            facts["time_zone"] = zone
        summary = maintenance.get("summary") if isinstance(maintenance.get("summary"), str) else ""
        if replaced := replaced_ids(f"{summary}\n{text}", maintenance["maintenance_id"]):
            facts["replaces"] = replaced
        if facts:
            maintenance[APP_FACTS] = facts
        else:
            maintenance.pop(APP_FACTS, None)
