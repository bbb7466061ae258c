"""The app's time writers, for templates: `{% load ssot_circuit_maintenance %}` then `{{ value|local_time }}`.

`local_time` and `local_window` write for the person reading (the active time zone), `utc_time` and `utc_window`
in UTC (the calendar grid, whose days are UTC days). See display.py.
"""

from __future__ import annotations

from datetime import datetime

from django import template

from nautobot_ssot_circuit_maintenance.display import format_local, format_local_window, format_utc, format_utc_window

register = template.Library()


@register.filter
def local_time(value: datetime | None) -> str:
    """`2026-12-06 04:00 CET`: the time in the reader's zone, to the minute ("" for none)."""
    return format_local(value) if isinstance(value, datetime) else ""


@register.filter
def local_window(start: datetime | None, end: datetime | None) -> str:
    """`{{ start|local_window:end }}`: `2026-12-06 04:00–06:00 CET` in the reader's zone ("" when either is none)."""
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return ""
    return format_local_window(start, end)


@register.filter
def utc_time(value: datetime | None) -> str:
    """`2026-12-06 03:00 UTC`: the time in UTC, to the minute ("" for none)."""
    return format_utc(value) if isinstance(value, datetime) else ""


@register.filter
def utc_window(start: datetime | None, end: datetime | None) -> str:
    """`{{ start|utc_window:end }}`: `2026-12-06 03:00–05:00 UTC` ("" when either is none)."""
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return ""
    return format_utc_window(start, end)
