"""History: stored notices in, new ones out; folded together into the state of each maintenance."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..choices import OutcomeChoices
from ..fold import MaintenanceState, Notice, fold, is_out_of_sequence
from .parse import ParsedMessage

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


def new_notices(messages: Iterable[ParsedMessage]) -> dict[MaintenanceKey, list[tuple[ParsedMessage, Notice]]]:
    """What each new message says, per maintenance: one Notice per (maintenance, message)."""
    notices: dict[MaintenanceKey, list[tuple[ParsedMessage, Notice]]] = defaultdict(list)
    for message in messages:
        grouped: dict[str, list[dict]] = defaultdict(list)
        for maintenance in message.maintenances:
            grouped[maintenance["maintenance_id"]].append(maintenance)
        for maintenance_id, maintenances in grouped.items():
            notices[(message.provider.pk, maintenance_id)].append(
                (message, Notice(message.message_key, message.date, tuple(maintenances)))
            )
    return notices


def fold_with_history(
    new: dict[MaintenanceKey, list[tuple[ParsedMessage, Notice]]], also: Iterable[MaintenanceKey] = ()
) -> dict[MaintenanceKey, MaintenanceState]:
    """The state of every maintenance the new notices (or `also`) touch: stored and new notices folded.

    A new notice older than what is stored changes nothing: its message's outcome becomes
    out-of-sequence.
    """
    keys = set(new) | set(also)
    history = stored_notices(keys)
    states: dict[MaintenanceKey, MaintenanceState] = {}
    for key in keys:
        arrived = new.get(key, [])
        states[key] = fold([*history[key], *(notice for _, notice in arrived)])
        for message, notice in arrived:
            if is_out_of_sequence(notice, history[key]):
                message.outcome = OutcomeChoices.OUT_OF_SEQUENCE
    return states
