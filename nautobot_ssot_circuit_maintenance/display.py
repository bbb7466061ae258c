"""How the app writes a time for a person: one format, always in UTC, and saying so."""

from __future__ import annotations

from datetime import datetime, timezone

from django.utils.dateparse import parse_datetime

# Every date and time the app writes (pages, notes, the SSoT log): minutes, UTC.
DATE_TIME = "%Y-%m-%d %H:%M"
# The same in Django's date-format letters, for table columns (templates use the `utc_minutes` filter).
DATE_TIME_LETTERS = "Y-m-d H:i"


def format_utc(value: datetime | str | None) -> str:
    """A datetime (or ISO string) as `YYYY-MM-DD HH:MM UTC`; "" when unknown."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return f"{value.astimezone(timezone.utc):{DATE_TIME}} UTC"


def format_window(start: datetime, end: datetime) -> str:
    """`2026-12-06 03:00–05:00`, or both dates when the window crosses midnight."""
    if start.date() == end.date():
        return f"{start:{DATE_TIME}}–{end:%H:%M}"
    return f"{start:{DATE_TIME}}–{end:{DATE_TIME}}"


def format_windows(windows: list[tuple[datetime, datetime]]) -> str:
    """Windows one after another, "none" for none."""
    return ", ".join(format_window(start, end) for start, end in windows) or "none"
