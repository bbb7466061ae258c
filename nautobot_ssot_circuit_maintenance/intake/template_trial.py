"""Try a template on a provider's stored mail: what it reads from each notice, or why it reads nothing.

Each stored message goes through the parse pool exactly as the sync would send it (intake/parse.py, in a worker,
within the same deadline and memory bound), with the template given as plain data; nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.config import app_settings, source_settings
from nautobot_ssot_circuit_maintenance.intake.reprocess import cannot_reprocess
from nautobot_ssot_circuit_maintenance.intake.sources.base import FetchedMessage
from nautobot_ssot_circuit_maintenance.intake.workers import parse_pool
from nautobot_ssot_circuit_maintenance.mail.bounds import MessageBounds
from nautobot_ssot_circuit_maintenance.models import RawNotification
from nautobot_ssot_circuit_maintenance.providers import CUSTOM_FIELD_DATA, SenderDirectory

# The provider's newest stored notices a preview reads.
PREVIEW_LIMIT = 20


@dataclass
class Tried:
    """What the template read from one stored notice (`error` when nothing)."""

    notification: Any
    maintenance_id: str = ""
    status: str = ""
    start: datetime | None = None
    end: datetime | None = None
    circuits: list[str] = field(default_factory=list)
    error: str = ""


def _when(epoch: Any) -> datetime | None:
    return datetime.fromtimestamp(epoch, tz=timezone.utc) if isinstance(epoch, int) else None


def _tried(notification: Any, outcome: str, error: str, maintenances: list[dict]) -> Tried:
    if outcome != OutcomeChoices.PARSED or not maintenances:
        return Tried(notification, error=error or f"nothing read ({outcome})")
    first = maintenances[0]
    return Tried(
        notification,
        maintenance_id=first.get("maintenance_id", ""),
        status=first.get("status", ""),
        start=_when(first.get("start")),
        end=_when(first.get("end")),
        circuits=[f"{c.get('circuit_id')} ({c.get('impact')})" for c in first.get("circuits") or []],
    )


def try_template(spec: Mapping[str, Any], provider: Any, user: Any = None, limit: int = PREVIEW_LIMIT) -> list[Tried]:
    """The template `spec` tried on the newest `limit` stored notices of `provider` (the mail attributed to it).

    With a `user`, only the stored notices that user may view are read.
    """
    notifications = RawNotification.objects.all() if user is None else RawNotification.objects.restrict(user, "view")
    stored = list(notifications.filter(provider=provider).select_related("source").order_by("-date", "-pk")[:limit])
    row = (provider.pk, provider.name, getattr(provider, CUSTOM_FIELD_DATA))
    directory = SenderDirectory([row], {provider.pk: json.dumps(dict(spec))})
    settings = app_settings()
    bounds = MessageBounds.from_settings(settings)
    pool = parse_pool(
        workers=(settings.get("message_limits") or {}).get("parse_workers"),
        bounds=bounds,
        fast_charset=bool(settings.get("fast_charset_detection", True)),
    )
    headers = {entry.name: entry.source_header for entry in source_settings()}
    results: dict[Any, Tried] = {}
    readable = []
    for notification in stored:
        if reason := cannot_reprocess(notification):
            results[notification.pk] = Tried(notification, error=f"cannot be read again: {reason}")
        else:
            readable.append(notification)
    by_header: dict[str, list[Any]] = {}
    for notification in readable:
        by_header.setdefault(headers.get(notification.source.name, "From"), []).append(notification)
    for header, notifications in by_header.items():
        parsed = pool.process(
            [FetchedMessage(raw=n.message_bytes(), received=n.witnessed, location=n.location) for n in notifications],
            directory=directory,
            source_header=header,
            raw_size_limit=1,
        )
        for notification, message in zip(notifications, parsed, strict=True):
            results[notification.pk] = _tried(notification, message.outcome, message.error, message.maintenances)
    return [results[notification.pk] for notification in stored]
