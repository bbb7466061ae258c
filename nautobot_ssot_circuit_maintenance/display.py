"""How the app writes a time: one shape, `YYYY-MM-DD HH:MM <zone>`, always naming its zone.

Two writers of that shape:

- for a person reading a page, `format_local`, `format_local_window(s)`: in the active time zone, which
  Nautobot's middleware sets per request to the user's own (Profile → Preferences), else settings.TIME_ZONE;
- for text that is stored or sent out (notes, SSoT log lines, job logs, object names in the change log),
  `format_utc`, `format_utc_window(s)`: in UTC, so that what is kept never depends on who triggered it.

The iCalendar feed and the event payloads carry machine times (RFC 5545, ISO 8601) in UTC, not this shape.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

from django.conf import settings
from django.utils import timezone as dj_timezone
from django.utils.dateparse import parse_datetime

# The shape, without its zone (strftime), and whole in Django's date-format letters (`T`: the zone's
# abbreviation), for DATETIME_FORMAT and SHORT_DATETIME_FORMAT, so Nautobot's own fields read the same.
DATE_TIME = "%Y-%m-%d %H:%M"
DATE_TIME_LETTERS = "Y-m-d H:i T"


def zone_abbreviation(value: datetime) -> str:
    """The zone of an aware datetime as people write it: `CET`, `CEST`, `UTC`; else its offset, `UTC+03:00`.

    Some zones have no letters in the tz database (Europe/Istanbul reads `+03`): those give the offset.
    """
    name = value.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = value.utcoffset()
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _aware(value: datetime | str | None) -> datetime | None:
    """A datetime (or ISO string) as an aware datetime, a naive one read as UTC; None when unknown."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _write(value: datetime | str | None, zone: tzinfo) -> str:
    moment = _aware(value)
    if moment is None:
        return ""
    moment = moment.astimezone(zone)
    return f"{moment:{DATE_TIME}} {zone_abbreviation(moment)}"


def window_parts(start: datetime, end: datetime, zone: tzinfo | None = None) -> tuple[str, str]:
    """A window's two ends as written: (`2026-12-06 03:00`, `05:00 CET`) in `zone` (default: the active one).

    The end's date only when the window crosses midnight in that zone; the zone once, after the end,
    unless a clock change inside the window gives the ends two zones (`… 01:30 CEST`, `03:30 CET`).
    """
    zone = zone or dj_timezone.get_current_timezone()
    start, end = _aware(start).astimezone(zone), _aware(end).astimezone(zone)
    end_text = f"{end:%H:%M}" if end.date() == start.date() else f"{end:{DATE_TIME}}"
    start_zone, end_zone = zone_abbreviation(start), zone_abbreviation(end)
    start_text = f"{start:{DATE_TIME}}" if start_zone == end_zone else f"{start:{DATE_TIME}} {start_zone}"
    return start_text, f"{end_text} {end_zone}"


def _window(start: datetime, end: datetime, zone: tzinfo) -> str:
    return "–".join(window_parts(start, end, zone))


def _windows(windows: list[tuple[datetime, datetime]], zone: tzinfo) -> str:
    return ", ".join(_window(start, end, zone) for start, end in windows) or "none"


#
# For a person: the active time zone.
#


def format_local(value: datetime | str | None) -> str:
    """A datetime (or ISO string) for the person reading: `2026-12-06 04:00 CET`; "" when unknown."""
    return _write(value, dj_timezone.get_current_timezone())


def format_local_window(start: datetime, end: datetime) -> str:
    """A window for the person reading: `2026-12-06 04:00–06:00 CET`, both dates when it crosses midnight."""
    return _window(start, end, dj_timezone.get_current_timezone())


def format_local_windows(windows: list[tuple[datetime, datetime]]) -> str:
    """Windows for the person reading, one after another; "none" for none."""
    return _windows(windows, dj_timezone.get_current_timezone())


#
# Stored or sent out: UTC, whoever triggered it.
#


def format_utc(value: datetime | str | None) -> str:
    """A datetime (or ISO string) as `2026-12-06 03:00 UTC`; "" when unknown."""
    return _write(value, timezone.utc)


def format_utc_window(start: datetime, end: datetime) -> str:
    """A window in UTC: `2026-12-06 03:00–05:00 UTC`, both dates when it crosses midnight."""
    return _window(start, end, timezone.utc)


def format_utc_windows(windows: list[tuple[datetime, datetime]]) -> str:
    """Windows in UTC, one after another; "none" for none."""
    return _windows(windows, timezone.utc)


#
# Beside them: the zone the provider writes its times in (zones.py).
#


def format_provider_window(start: datetime, end: datetime, zone: tzinfo) -> str:
    """A window in the provider's zone, then in UTC: `2026-12-08 03:00–05:00 CET (02:00–04:00 UTC)`.

    The UTC start keeps its date only when it falls on another day than the provider's start.
    """
    utc_start, utc_end = window_parts(start, end, timezone.utc)
    if _aware(start).astimezone(zone).date() == _aware(start).astimezone(timezone.utc).date():
        utc_start = utc_start.partition(" ")[2]
    return f"{_window(start, end, zone)} ({utc_start}–{utc_end})"


#
# Forms: which zone a typed time is read in.
#


def zone_help_text() -> str:
    """Which zone a time typed into a form is read in (the active one), for the field's help text."""
    name = dj_timezone.get_current_timezone_name()
    if name == settings.TIME_ZONE:
        return f"In {name}."
    return f"In your time zone, {name} (set in your profile)."
