"""What each triage action does to the records; the views check permissions and input first."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from nautobot_ssot_circuit_maintenance.config import source_settings
from nautobot_ssot_circuit_maintenance.intake.reprocess import cannot_reprocess
from nautobot_ssot_circuit_maintenance.mail.forwards import notice_sender
from nautobot_ssot_circuit_maintenance.mail.headers import message_sender
from nautobot_ssot_circuit_maintenance.models import CircuitAlias, RawNotification
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, split_addresses
from nautobot_ssot_circuit_maintenance.sync.trigger import start_reprocess_run, sync_job

__all__ = [
    "assign_sender",
    "cannot_reprocess",
    "dismiss",
    "map_circuit_id",
    "sender_address",
    "start_reprocess",
    "sync_job",
    "triage_count",
]


def triage_count(user: Any) -> int:
    """How many notifications the user may see need a person (for menus, the home page and the overview)."""
    return RawNotification.objects.restrict(user, "view").needs_triage().count()


def sender_address(raw: RawNotification) -> str:
    """The notification's sender address as classification reads it; "" when it names no single address.

    It is read from the stored message's header (the source's `source_header`, else From), never from a display
    name.
    """
    configured = {entry.name: entry for entry in source_settings()}
    entry = configured.get(raw.source.name) if raw.source is not None else None
    header = entry.source_header if entry is not None else "From"
    if raw.forwarded_by and entry is not None:
        # A forwarded notice: the notice's sender, never the colleague who forwarded it.
        return notice_sender(raw.message_bytes(), header, entry.forwarders)
    return message_sender(raw.message_bytes(), header)


def sender_entry(raw: RawNotification, *, whole_domain: bool) -> str:
    """The `emails_circuit_maintenances` entry that makes this notification's sender match: address or @domain."""
    address = sender_address(raw)
    if not address:
        raise ValueError("the notification has no sender address")
    return "@" + address.rpartition("@")[2] if whole_domain else address


@transaction.atomic
def assign_sender(raw: RawNotification, provider: Any, *, whole_domain: bool) -> str:
    """Add the sender (or its domain) to the provider's addresses and attach the provider to the source.

    Saved through the model, so the change log shows who did it. Returns the entry added.
    """
    entry = sender_entry(raw, whole_domain=whole_domain)
    current = provider.cf.get(EMAILS_FIELD) or ""
    if entry not in split_addresses(current):
        provider.cf[EMAILS_FIELD] = ", ".join([*split_addresses(current), entry])
        provider.validated_save()
    if raw.source is not None and not raw.source.providers.filter(pk=provider.pk).exists():
        raw.source.providers.add(provider)
    return entry


def map_circuit_id(provider: Any, circuit_id: str, circuit: Any, user: Any) -> CircuitAlias:
    """Keep `circuit_id` (as the provider writes it) as an alias of `circuit`; future notices match it.

    The model's `clean` tidies the ID and refuses another provider's circuit or a second alias of the same ID.
    """
    alias = CircuitAlias(provider=provider, alias=circuit_id, circuit=circuit, created_by=user)
    alias.validated_save()
    return alias


def dismiss(raw: RawNotification, user: Any, reason: str) -> None:
    """Take the notification out of the triage queue, with who, when and why."""
    raw.dismissed_by = user
    raw.dismissed_at = timezone.now()
    raw.dismiss_reason = reason
    raw.save(update_fields=["dismissed_by", "dismissed_at", "dismiss_reason"])


def unknown_circuit_ids(raw: RawNotification) -> list[str]:
    """The circuit IDs still unknown on the maintenances this notification fed."""
    found: set[str] = set()
    for parsed in raw.parsed_notifications.select_related("maintenance"):
        if parsed.maintenance is not None:
            found.update(parsed.maintenance.unresolved_circuit_ids)
    return sorted(found)


def start_reprocess(raws: list[RawNotification], user: Any) -> Any:
    """Start the sync job over these stored notifications through Nautobot's job queue (logged, in the dashboard)."""
    return start_reprocess_run(raws, user)
