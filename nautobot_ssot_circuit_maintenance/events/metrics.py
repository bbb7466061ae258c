"""Prometheus metrics: which circuits are under maintenance now, and how the mail sync is doing.

Served by Nautobot's own `/metrics/` and, when nautobot-capacity-metrics is installed, by its
`/api/plugins/capacity-metrics/app-metrics`; only when `metrics.enable` is set. Each family costs
a fixed number of queries, whatever the number of circuits.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.config import app_settings
from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    NotificationSource,
    RawNotification,
)

OPERATIONAL = 1
UNDER_MAINTENANCE = 2

# The older app's defaults; its paths ("circuit.type", "site") are mapped onto Nautobot 3's model below.
DEFAULT_LABELS = {
    "circuit": "circuit.cid",
    "provider": "circuit.provider.name",
    "circuit_type": "circuit.type.name",
    "site": "site.name",
}
_ALIASES = {"type": "circuit_type"}


def metrics_enabled() -> bool:
    """Whether `metrics.enable` is set."""
    return bool(app_settings().get("metrics", {}).get("enable", False))


def _labels() -> dict[str, str]:
    return app_settings().get("metrics", {}).get("labels_attached") or DEFAULT_LABELS


def resolve(path: str, context: dict[str, Any]) -> str:
    """`circuit.provider.name` against {"circuit": …, "termination": …, "site": …}; "" when a step is missing."""
    head, *rest = path.split(".")
    value = context.get(head)
    for part in rest:
        if value is None:
            return ""
        value = getattr(value, part, None) if hasattr(value, part) else getattr(value, _ALIASES.get(part, part), None)
    return "" if value is None else str(value)


def circuits_under_maintenance(now: datetime | None = None) -> set:
    """Primary keys of the circuits that an active maintenance affects (any impact but NO-IMPACT)."""
    now = now or timezone.now()
    candidates = CircuitMaintenance.objects.maybe_active(now=now)
    active = [m.pk for m in candidates.only("pk", "status", "windows", "start_time", "end_time") if m.is_active(now)]
    if not active:
        return set()
    return set(
        CircuitImpact.objects.filter(maintenance__in=active)
        .exclude(impact=ImpactChoices.NO_IMPACT)
        .values_list("circuit_id", flat=True)
    )


def metric_circuit_operational_status() -> Iterator[GaugeMetricFamily]:
    """circuit_maintenance_status: 1 operational, 2 under active maintenance (the older app's metric)."""
    if not metrics_enabled():
        return
    from nautobot.circuits.models import Circuit

    labels = _labels()
    gauge = GaugeMetricFamily(
        "circuit_maintenance_status", "Circuit operational status (1 operational, 2 under maintenance)", labels=labels
    )
    affected = circuits_under_maintenance()
    circuits = Circuit.objects.select_related(
        "provider", "circuit_type", "circuit_termination_a__location", "circuit_termination_z__location"
    ).order_by("provider__name", "cid")
    for circuit in circuits:
        termination = circuit.circuit_termination_a or circuit.circuit_termination_z
        location = termination.location if termination else None
        context = {"circuit": circuit, "termination": termination, "site": location, "location": location}
        gauge.add_metric(
            [resolve(path, context) for path in labels.values()],
            UNDER_MAINTENANCE if circuit.pk in affected else OPERATIONAL,
        )
    yield gauge


def metric_maintenances_by_status() -> Iterator[GaugeMetricFamily]:
    """The number of maintenances in each status, every status listed (0 when none)."""
    if not metrics_enabled():
        return

    gauge = GaugeMetricFamily("circuit_maintenance_maintenances", "Circuit maintenances by status", labels=["status"])
    counts = dict(CircuitMaintenance.objects.order_by().values_list("status").annotate(count=Count("pk")))
    for status, _ in MaintenanceStatusChoices.CHOICES:
        gauge.add_metric([status], counts.get(status, 0))
    yield gauge


def metric_sources() -> Iterator[GaugeMetricFamily]:
    """Per source: notifications stored by outcome, last run time, and whether the last run failed."""
    if not metrics_enabled():
        return

    notifications = GaugeMetricFamily(
        "circuit_maintenance_notifications", "Stored notifications by source and outcome", labels=["source", "outcome"]
    )
    for source, outcome, count in (
        RawNotification.objects.order_by()
        .values_list("source__name", "outcome")
        .annotate(count=Count("pk"))
        .order_by("source__name", "outcome")
    ):
        notifications.add_metric([source or "", outcome], count)
    last_run = GaugeMetricFamily(
        "circuit_maintenance_source_last_run_timestamp_seconds",
        "When the sync last read the source (Unix time; 0 never)",
        labels=["source"],
    )
    failing = GaugeMetricFamily(
        "circuit_maintenance_source_failing", "1 when the source's last run failed", labels=["source"]
    )
    for name, run_at, error in NotificationSource.objects.order_by("name").values_list(
        "name", "last_run", "last_error"
    ):
        last_run.add_metric([name], run_at.timestamp() if run_at else 0)
        failing.add_metric([name], 1 if error else 0)
    yield notifications
    yield last_run
    yield failing


metrics = [metric_circuit_operational_status, metric_maintenances_by_status, metric_sources]


def register_capacity_metrics() -> None:
    """Add the metrics to nautobot-capacity-metrics' app-metrics endpoint when that app is installed."""
    from django.conf import settings

    if "nautobot_capacity_metrics" not in settings.PLUGINS:
        return
    from nautobot_capacity_metrics import __REGISTRY__, register_metric_func

    for function in metrics:
        if function not in __REGISTRY__:
            register_metric_func(function)
