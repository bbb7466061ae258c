"""The overview page's data: what is on now, what comes next, what nobody acknowledged, per provider, per source.

Every answer comes from the models' vocabulary (`CircuitMaintenanceQuerySet`) and is restricted to
what the user may view.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from nautobot_ssot.models import Sync

from nautobot_ssot_circuit_maintenance.config import app_settings
from nautobot_ssot_circuit_maintenance.flags.overview import overview_rows
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, NotificationSource, RawNotification

JOB_CLASS = "CircuitMaintenanceDataSource"
# Rows shown per list on the page; each list links to the full filtered list.
ROWS = 15


def dashboard_n_days() -> int:
    """How many days ahead the "next days" panel looks (`dashboard_n_days`)."""
    return int(app_settings()["dashboard_n_days"])


def visible(user: Any) -> QuerySet:
    """The maintenances the user may view, with their providers, a `circuit_count` each and who supersedes them.

    The last for the rows' live states: one query for a list, not one per row.
    """
    return (
        CircuitMaintenance.objects.restrict(user, "view")
        .select_related("provider")
        .prefetch_related("superseded_by")
        .annotate(circuit_count=Count("circuit_impacts", distinct=True))
    )


def active_now(user: Any, now: datetime) -> QuerySet:
    """The visible maintenances in a window now, soonest to end first."""
    return visible(user).ongoing(now=now).order_by("end_time", "maintenance_id")


def next_days(user: Any, now: datetime, days: int) -> QuerySet:
    """Starting within `days` and not active now (those are under "active now").

    A multi-night one between two nights is here, waiting for its next window.
    """
    ongoing = CircuitMaintenance.objects.ongoing(now=now)
    return visible(user).upcoming(days, now=now).exclude(pk__in=ongoing).order_by("start_time", "maintenance_id")


def needs_attention(user: Any, now: datetime) -> QuerySet:
    """The "Unacknowledged" panel: `CircuitMaintenanceQuerySet.needs_attention`, as the list's filter says it."""
    return visible(user).needs_attention(now=now).order_by("start_time", "maintenance_id")


@dataclass
class ProviderCounts:
    """One provider's row of the overview: its active, upcoming and unacknowledged maintenances."""

    provider: Any
    active: int
    upcoming: int
    unacknowledged: int


def per_provider(user: Any, now: datetime, days: int) -> list[ProviderCounts]:
    """For each provider with something active, upcoming or unacknowledged: the three counts."""
    base = CircuitMaintenance.objects.restrict(user, "view")
    ongoing = base.ongoing(now=now)
    active = Counter(ongoing.values_list("provider", flat=True))
    upcoming = Counter(base.upcoming(days, now=now).exclude(pk__in=ongoing).values_list("provider", flat=True))
    unacked = Counter(base.needs_attention(now=now).values_list("provider", flat=True))
    from nautobot.circuits.models import Provider

    providers = Provider.objects.restrict(user, "view").filter(pk__in=set(active) | set(upcoming) | set(unacked))
    rows = [ProviderCounts(p, active[p.pk], upcoming[p.pk], unacked[p.pk]) for p in providers]
    return sorted(rows, key=lambda r: (-r.active, -r.upcoming, -r.unacknowledged, r.provider.name))


@dataclass
class SourceSync:
    """One source's row of the overview: its last run and error, and its messages' outcomes in that sync."""

    source: NotificationSource
    last_run: datetime | None
    last_error: str
    outcomes: dict[str, int]
    sync: Sync | None


def last_syncs(user: Any) -> list[SourceSync]:
    """Each source's last run, the outcomes of the messages that run stored, and the sync it was part of.

    A run is told by the source's own stamps (`last_run_started` .. `last_run`), not by the latest sync: a later
    sync that did not read this source (a reprocess, a run over other sources, one that found the lock taken) must
    not make the source's last run look empty.
    """
    real_syncs = Sync.objects.filter(dry_run=False, job_result__job_model__job_class_name=JOB_CLASS).exclude(
        start_time=None
    )
    rows = []
    for source in NotificationSource.objects.restrict(user, "view").select_related("last_sync"):
        outcomes: dict[str, int] = {}
        sync = None
        if source.last_run_started and source.last_run:
            # Recorded by the run; a time tells it only for runs from before, which took turns.
            sync = source.last_sync or (
                real_syncs.filter(start_time__lte=source.last_run_started).order_by("-start_time").first()
            )
            counted = (
                RawNotification.objects.filter(
                    source=source, created__gte=source.last_run_started, created__lte=source.last_run
                )
                .values_list("outcome")
                .annotate(n=Count("pk"))
                .order_by("outcome")
            )
            outcomes = dict(counted)
        rows.append(SourceSync(source, source.last_run, source.last_error, outcomes, sync))
    return rows


def isolation_flags(user: Any, now: datetime) -> list[dict[str, Any]] | None:
    """Site isolation and lost-redundancy flags for the overview: the one place that feeds that panel.

    One row per flag that is not over (`{"location": ..., "kind": ..., "interval": ..., "maintenances": ...}`),
    from the stored flags (flags/store.py, refreshed after every sync).
    """
    return overview_rows(user, now)
