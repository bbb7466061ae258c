"""The isolation / lost-redundancy slot of the overview page: what the overview includes, in one place.

`overview_rows(user, now)` gives one display row per flag (location or device, flag, interval,
maintenances) for a DataTablePanel; `upcoming_flags(user)` the flags themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.html import format_html_join
from nautobot.apps.templatetags import hyperlinked_object

from nautobot_ssot_circuit_maintenance.display import format_local_window
from nautobot_ssot_circuit_maintenance.models import MaintenanceFlag
from nautobot_ssot_circuit_maintenance.tables import flag_kind_badge

OVERVIEW_FLAG_ROWS = 50


def upcoming_flags(user: Any, *, days: float | None = None, now: datetime | None = None) -> QuerySet:
    """Flags the user may see that are not over (and start within `days`, when given), soonest first."""
    now = now or timezone.now()
    flags = MaintenanceFlag.objects.restrict(user, "view").filter(end_time__gte=now)
    if days is not None:
        flags = flags.filter(start_time__lte=now + timedelta(days=days))
    return (
        flags.select_related("location", "device")
        .prefetch_related("maintenances__provider")
        .order_by("start_time", "kind", "location__name", "device__name")
    )


def overview_rows(user: Any, now: datetime | None = None, *, days: float | None = None) -> list[dict[str, Any]]:
    """One row per upcoming flag: `location` (or device, linked), `kind` (a badge), `interval`, `maintenances`."""
    rows = []
    for flag in upcoming_flags(user, days=days, now=now)[:OVERVIEW_FLAG_ROWS]:
        scope = flag.scope
        rows.append(
            {
                "location": hyperlinked_object(scope, "name"),
                "kind": flag_kind_badge(flag),
                "interval": format_local_window(flag.start_time, flag.end_time),
                "maintenances": format_html_join(
                    ", ", "{}", ((hyperlinked_object(m, "label"),) for m in flag.maintenances.all())
                ),
            }
        )
    return rows
