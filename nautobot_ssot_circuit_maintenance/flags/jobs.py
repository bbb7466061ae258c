"""A job that rebuilds and lists every isolation / lost-redundancy flag."""

from __future__ import annotations

from django.utils import timezone
from nautobot.apps.jobs import BooleanVar, Job

from nautobot_ssot_circuit_maintenance.display import format_utc_window
from nautobot_ssot_circuit_maintenance.flags.store import refresh_flags
from nautobot_ssot_circuit_maintenance.models import MaintenanceFlag

name = "Circuit Maintenance"  # Job grouping in the UI


class MaintenanceFlagsReport(Job):
    """Rebuild the isolation and lost-redundancy flags of every location and device, and list them."""

    include_past = BooleanVar(default=False, description="Also list flags whose interval is over.")

    class Meta:
        """Meta attributes."""

        name = "Circuit Maintenance: isolation and lost redundancy"
        description = (
            "Which locations and devices maintenances cut off (every circuit down at once) or leave on a single "
            "circuit, when, and because of which maintenances."
        )
        has_sensitive_variables = False
        read_only = False

    def run(self, *args, **kwargs) -> str:
        """Rebuild every flag, log each one that is not over (all with `include_past`), and sum up."""
        result = refresh_flags()
        flags = MaintenanceFlag.objects.select_related("location", "device").prefetch_related("maintenances")
        if not kwargs.get("include_past"):
            flags = flags.filter(end_time__gte=timezone.now())
        lines = []
        for flag in flags.order_by("start_time", "kind"):
            maintenances = ", ".join(sorted(f"{m.name} ({m.maintenance_id})" for m in flag.maintenances.all()))
            text = (
                f"{flag.label}: {flag.scope}, {format_utc_window(flag.start_time, flag.end_time)}; "
                f"down {len(flag.down)} of {flag.total} ({', '.join(flag.down)}); maintenances: {maintenances}"
            )
            lines.append(text)
            (self.logger.warning if flag.is_isolation else self.logger.info)(text, extra={"object": flag.scope})
        summary = f"{result.groups} locations and devices checked; {len(lines)} flags listed ({result.flags} in all)."
        self.logger.info(summary)
        return summary
