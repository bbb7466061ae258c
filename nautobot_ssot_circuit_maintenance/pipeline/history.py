"""History: the notices already stored for the maintenances a chunk touches, as the fold reads them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from ..fold import Notice

MaintenanceKey = tuple[Any, str]  # (provider pk, maintenance_id)


def stored_notices(keys: set[MaintenanceKey]) -> dict[MaintenanceKey, list[Notice]]:
    """Every stored notice of these maintenances, one Notice per (maintenance, message), in one query."""
    from ..models import ParsedNotification

    history: dict[MaintenanceKey, list[Notice]] = defaultdict(list)
    if not keys:
        return history
    rows = (
        ParsedNotification.objects.filter(
            provider_id__in={pk for pk, _ in keys}, provider_maintenance_id__in={mid for _, mid in keys}
        )
        .values_list(
            "provider_id", "provider_maintenance_id", "raw_notification__message_key", "raw_notification__date", "json"
        )
        .order_by()
    )
    per_message: dict[tuple, list[dict]] = defaultdict(list)
    dates: dict[str, datetime] = {}
    for provider_id, maintenance_id, message_key, date, data in rows:
        if (provider_id, maintenance_id) in keys:
            per_message[(provider_id, maintenance_id, message_key)].append(data)
            dates[message_key] = date
    for (provider_id, maintenance_id, message_key), maintenances in per_message.items():
        history[(provider_id, maintenance_id)].append(Notice(message_key, dates[message_key], tuple(maintenances)))
    return history
