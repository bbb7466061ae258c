"""The time zone a provider writes its times in: found in a notice's text, named, and read back. Pure.

A notice gives its window in UTC to us (the parser's epochs), but the provider wrote it in a zone: an iCalendar
`DTSTART;TZID=Europe/Paris:…`, or a zone written next to a time, "03:00 CET", "3:00 AM EST", "05:00 ( Mountain )",
"10:00 UTC+2", "10:00 GMT+01:00". A zone is kept only when it is *verified*: a time written next to it is the
start or the end of one of the notice's windows read in that zone. So a zone in a mail header, in a signature or
in a forwarded message's quote is never taken, and an abbreviation that means several zones (IST: India, Ireland,
Israel) is named only by the offset that matches the window. A zone that cannot be named is not kept: nothing is
guessed.

A zone is stored as text (`provider_time_zone`), read back by `zone_info`:

- an IANA name, `Europe/Paris`, `America/Denver`;
- an abbreviation with the offset it was verified with, `CET (UTC+01:00)`, `IST (UTC+05:30)`;
- a written offset, `UTC+02:00`; or `UTC` / `GMT`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Abbreviations providers write, with every UTC offset (hours) each may mean; the window decides which.
ABBREVIATIONS: dict[str, tuple[float, ...]] = {
    "WET": (0,),
    "WEST": (1,),
    "BST": (1, 6),
    "CET": (1,),
    "CEST": (2,),
    "MET": (1,),
    "MEST": (2,),
    "EET": (2,),
    "EEST": (3,),
    "MSK": (3,),
    "IST": (5.5, 1, 2),
    "PKT": (5,),
    "ICT": (7,),
    "WIB": (7,),
    "SGT": (8,),
    "HKT": (8,),
    "AWST": (8,),
    "PHT": (8,),
    "JST": (9,),
    "KST": (9,),
    "ACST": (9.5,),
    "AEST": (10,),
    "AEDT": (11,),
    "NZST": (12,),
    "NZDT": (13,),
    "SAST": (2,),
    "EAT": (3,),
    "WAT": (1,),
    "CAT": (2,),
    "GST": (4,),
    "BRT": (-3,),
    "ART": (-3,),
    "AST": (-4, 3),
    "ADT": (-3,),
    "EST": (-5,),
    "EDT": (-4,),
    "CST": (-6, 8, -5),
    "CDT": (-5, -4),
    "MST": (-7,),
    "MDT": (-6,),
    "PST": (-8,),
    "PDT": (-7,),
    "AKST": (-9,),
    "AKDT": (-8,),
    "HST": (-10,),
}
# North American zone names as providers write them (with or without "Time"): the region's IANA zone.
REGION_NAMES = {
    "ET": "America/New_York",
    "EASTERN": "America/New_York",
    "CT": "America/Chicago",
    "CENTRAL": "America/Chicago",
    "MT": "America/Denver",
    "MOUNTAIN": "America/Denver",
    "PT": "America/Los_Angeles",
    "PACIFIC": "America/Los_Angeles",
}
UTC_NAMES = ("UTC", "GMT")
LONGEST_ZONE_NAME = 64  # CircuitMaintenance.provider_time_zone

_TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::\d{2})?(?:\.\d{1,6})?\s{0,3}(?P<half>[AaPp]\.?[Mm]\.?)?"
_OFFSET_ZONE = r"(?:UTC|GMT)\s?[+-]\s?\d{1,2}(?::?\d{2})?"
_ZONE_WORD = r"[A-Z]{2,5}|Eastern|Central|Mountain|Pacific"
# A time, then (spaces, an opening parenthesis) a zone: "03:00 CET", "3:00 AM EST", "05:00 ( Mountain )".
WRITTEN = re.compile(rf"{_TIME}\s{{0,3}}\(?\s{{0,3}}(?P<zone>{_OFFSET_ZONE}|(?:{_ZONE_WORD})\b)")
# iCalendar: DTSTART;TZID=Europe/Paris:20261208T030000 (DTEND too; other parameters may follow the TZID).
ICALENDAR = re.compile(
    r"^DT(?:START|END);(?:[^:\r\n]*;)?TZID=\"?(?P<zone>[^\";:\r\n]{1,64})\"?(?:;[^:\r\n]*)?:"
    r"\d{8}T(?P<hour>\d{2})(?P<minute>\d{2})",
    re.MULTILINE,
)
_OFFSET = re.compile(r"^(?:UTC|GMT)\s?(?P<sign>[+-])\s?(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$")
_STORED_ABBREVIATION = re.compile(r"^(?P<name>[A-Z]{2,5}) \(UTC(?P<sign>[+-])(?P<hours>\d{2}):(?P<minutes>\d{2})\)$")


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_info(stored: str) -> tzinfo | None:
    """The zone a stored name means (see the module docstring); None for one that cannot be named."""
    stored = (stored or "").strip()
    if not stored:
        return None
    if stored in UTC_NAMES:
        return timezone(timedelta(0), stored)
    if match := _OFFSET.match(stored):
        return _fixed(match, stored)
    if match := _STORED_ABBREVIATION.match(stored):
        return _fixed(match, match["name"])
    if "/" not in stored:  # the tz database's old bare names (EST, CET, …) are not taken as written: see above
        return None
    try:
        return ZoneInfo(stored)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _fixed(match: re.Match, name: str) -> tzinfo | None:
    hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
    if hours > 14 or minutes >= 60:
        return None
    offset = timedelta(hours=hours, minutes=minutes) * (1 if match["sign"] == "+" else -1)
    return timezone(offset, name)


def _candidates(written: str) -> list[str]:
    """The stored names a zone written in a notice may mean, each to be verified against the windows."""
    word = " ".join(written.split())
    upper = word.upper()
    if upper in UTC_NAMES:
        return [upper]
    if match := _OFFSET.match(upper.replace(" ", "")):
        fixed = _fixed(match, upper)
        return [_offset_text(fixed.utcoffset(None))] if fixed is not None else []
    if upper in REGION_NAMES:
        return [REGION_NAMES[upper]]
    if upper in ABBREVIATIONS and word == upper:
        return [f"{upper} ({_offset_text(timedelta(hours=hours))})" for hours in ABBREVIATIONS[upper]]
    if "/" in word and zone_info(word) is not None:
        return [word]
    return []


def written_times(text: str) -> list[tuple[str, int, int]]:
    """(zone as written, hour, minute) of each time written with a zone, in the order of the text.

    Read once per notice text; `zone_of_windows` then checks each maintenance's window against them.
    """
    return list(_written_times(text))


def _written_times(text: str) -> Iterator[tuple[str, int, int]]:
    for match in ICALENDAR.finditer(text):
        yield match["zone"], int(match["hour"]), int(match["minute"])
    for match in WRITTEN.finditer(text):
        hour, minute = int(match["hour"]), int(match["minute"])
        half = (match["half"] or "").replace(".", "").upper()
        if half:
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if half == "PM" else 0)
        yield match["zone"], hour, minute


def provider_time_zone(text: str, windows: Iterable[tuple[datetime, datetime]]) -> str:
    """The zone the notice writes its windows in, as stored; "" when none is written or none can be verified.

    A zone other than UTC/GMT wins over UTC/GMT (a provider that writes both gives its own zone and UTC); among
    those, the first in the text.
    """
    return zone_of_windows(written_times(text), windows)


def zone_of_windows(times: Iterable[tuple[str, int, int]], windows: Iterable[tuple[datetime, datetime]]) -> str:
    """`provider_time_zone` of a text whose `written_times` are `times`."""
    ends = [moment for window in windows for moment in window]
    if not ends:
        return ""
    verified: list[str] = []
    for written, hour, minute in times:
        for name in _candidates(written):
            zone = zone_info(name)
            if zone is None or len(name) > LONGEST_ZONE_NAME:
                continue
            if any((local := moment.astimezone(zone)).hour == hour and local.minute == minute for moment in ends):
                verified.append(name)
                break
    own = [name for name in verified if name not in UTC_NAMES]
    return (own or verified or [""])[0]
