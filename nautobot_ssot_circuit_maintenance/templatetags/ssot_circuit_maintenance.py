"""The app's one time format, for templates: `{% load ssot_circuit_maintenance %}` then `{{ value|utc_minutes }}`."""

from __future__ import annotations

from datetime import datetime, timezone

from django import template

from nautobot_ssot_circuit_maintenance.display import DATE_TIME

register = template.Library()


@register.filter
def utc_minutes(value: datetime | None) -> str:
    """`2026-12-06 03:00`: the time in UTC, to the minute ("" for none)."""
    if not isinstance(value, datetime):
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return f"{value.astimezone(timezone.utc):{DATE_TIME}}"
