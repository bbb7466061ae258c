"""What each triage action does to the records; the views check permissions and input first."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ..compat import job_inputs
from ..models import CircuitAlias, RawNotification
from ..pipeline.reprocess import cannot_reprocess
from ..providers import EMAILS_FIELD, split_addresses

__all__ = ["assign_sender", "cannot_reprocess", "dismiss", "map_circuit_id", "start_reprocess", "triage_count"]


def triage_count(user: Any) -> int:
    """How many notifications the user may see need a person (for menus, the home page and the overview)."""
    return RawNotification.objects.restrict(user, "view").needs_triage().count()


def sender_entry(raw: RawNotification, *, whole_domain: bool) -> str:
    """The `emails_circuit_maintenances` entry that makes this notification's sender match: address or @domain."""
    address = raw.sender_address
    if not address:
        raise ValueError("the notification has no sender address")
    return "@" + address.rpartition("@")[2] if whole_domain else address


@transaction.atomic
def assign_sender(raw: RawNotification, provider: Any, *, whole_domain: bool) -> str:
    """Add the sender (or its domain) to the provider's addresses and attach the provider to the source.

    Saved through the model, so the change log shows who did it. Returns the entry added.
    """
    entry = sender_entry(raw, whole_domain=whole_domain)
    current = provider._custom_field_data.get(EMAILS_FIELD) or ""
    if entry not in split_addresses(current):
        provider._custom_field_data[EMAILS_FIELD] = ", ".join([*split_addresses(current), entry])
        provider.validated_save()
    if raw.source is not None and not raw.source.providers.filter(pk=provider.pk).exists():
        raw.source.providers.add(provider)
    return entry


def map_circuit_id(provider: Any, circuit_id: str, circuit: Any, user: Any) -> CircuitAlias:
    """Keep `circuit_id` (as the provider writes it) as an alias of `circuit`; future notices match it."""
    alias = CircuitAlias(provider=provider, alias=" ".join(circuit_id.split()), circuit=circuit, created_by=user)
    alias.validated_save()
    return alias


def dismiss(raw: RawNotification, user: Any, reason: str) -> None:
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


def sync_job() -> Any:
    from nautobot.extras.models import Job

    return Job.objects.filter(
        module_name="nautobot_ssot_circuit_maintenance.jobs", job_class_name="CircuitMaintenanceDataSource"
    ).first()


def start_reprocess(raws: list[RawNotification], user: Any) -> Any:
    """Start the sync job over these stored notifications through Nautobot's job queue (logged, in the dashboard)."""
    from nautobot.extras.models import JobResult

    job = sync_job()
    inputs = {
        "notifications": [str(raw.pk) for raw in raws],
        "sources": [],
        "dryrun": False,
        "memory_profiling": False,
        "parallel_loading": False,
    }
    return JobResult.enqueue_job(job, user, **job_inputs(JobResult.enqueue_job, inputs))
