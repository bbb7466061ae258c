"""The overview page: what is on now, what comes next, what nobody acknowledged, per provider and source."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from nautobot.apps.templatetags import hyperlinked_object
from nautobot.apps.ui import DataTablePanel, SectionChoices, Titles
from nautobot.apps.views import GenericView

from nautobot_ssot_circuit_maintenance.calendar import overview
from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.display import format_local
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance
from nautobot_ssot_circuit_maintenance.tables import live_state_badge
from nautobot_ssot_circuit_maintenance.views.calendar import (
    BREADCRUMBS,
    LIST_URL,
    require_view_permission,
)


def maintenance_row(maintenance: CircuitMaintenance) -> dict[str, Any]:
    """One maintenance as a row of the overview's lists: linked name, live state, times, circuits, ack."""
    return {
        "name": hyperlinked_object(maintenance, "label"),
        "provider": maintenance.provider.name,
        "live_state": live_state_badge(maintenance),
        "start": format_local(maintenance.start_time),
        "end": format_local(maintenance.end_time),
        "circuits": getattr(maintenance, "circuit_count", ""),
        "ack": "yes" if maintenance.ack else format_html('<span class="badge bg-warning">no</span>'),
    }


# A maintenance list's columns: data key → header.
MAINTENANCE_COLUMNS = {
    "name": "Maintenance",
    "provider": "Provider",
    "live_state": "Live state",
    "start": "Start",
    "end": "End",
    "circuits": "Circuits",
    "ack": "Ack",
}


def last_run_cell(row: overview.SourceSync) -> str:
    """When the source last ran, linked to the sync (its diff and logs) that run was part of."""
    if row.last_run is None:
        return "never"
    text = format_local(row.last_run)
    return format_html('<a href="{}">{}</a>', row.sync.get_absolute_url(), text) if row.sync else text


class MaintenanceListPanel(DataTablePanel):
    """A list of maintenances with a footer link to the full list, filtered the same way."""

    def __init__(self, *, more_key: str, **kwargs: Any) -> None:
        """A maintenance list whose footer link comes from the context's `more_key`."""
        self.more_key = more_key
        super().__init__(
            columns=list(MAINTENANCE_COLUMNS),
            column_headers=list(MAINTENANCE_COLUMNS.values()),
            footer_content_template_path="nautobot_ssot_circuit_maintenance/inc/overview_more.html",
            **kwargs,
        )

    def get_extra_context(self, context: Any) -> dict[str, Any]:
        """Add the footer link to the full list."""
        return {**super().get_extra_context(context), "more": context.get(self.more_key)}


# The other overview tables' columns (data key → header); the per-provider one names the days, so it is built per page.
FLAG_COLUMNS = {"location": "Location", "kind": "Flag", "interval": "When", "maintenances": "Maintenances"}
SOURCE_COLUMNS = {
    "source": "Source",
    "last_run": "Last run",
    "outcomes": "Outcomes of the last sync",
    "last_error": "Last error",
}


def overview_panel(
    name: str,
    label: str,
    weight: int,
    *,
    section: str = SectionChoices.FULL_WIDTH,
    columns: dict[str, str] | None = None,
) -> DataTablePanel:
    """One table of the overview page: rows from `<name>_rows` of the context, body `#cm-overview-<name>`.

    Without `columns` it lists maintenances, with a footer link (`<name>_more`) to the full list; else
    `columns` maps each row's data keys to their headers.
    """
    common = {
        "label": label,
        "section": section,
        "weight": weight,
        "context_data_key": f"{name}_rows",
        "body_id": f"cm-overview-{name}",
    }
    if columns is None:
        return MaintenanceListPanel(more_key=f"{name}_more", **common)
    return DataTablePanel(columns=list(columns), column_headers=list(columns.values()), **common)


class OverviewView(GenericView):
    """`maintenance/overview/`: active now, the next days, unacknowledged, flags, per provider, per source."""

    template_name = "nautobot_ssot_circuit_maintenance/overview.html"
    view_titles = Titles(titles={"*": "Circuit maintenance overview"})
    breadcrumbs = BREADCRUMBS

    def panels(self, days: int, with_flags: bool) -> list[Any]:
        """The overview's panels; the flags panel only `with_flags`."""
        provider_columns = {
            "provider": "Provider",
            "active": "Active now",
            "upcoming": f"Next {days} days",
            "unacknowledged": "Unacknowledged",
        }
        left, right = SectionChoices.LEFT_HALF, SectionChoices.RIGHT_HALF
        flags = overview_panel("isolation", "Site isolation and lost redundancy", 400, columns=FLAG_COLUMNS)
        isolation = [flags] if with_flags else []
        return [
            overview_panel("active", "Active now", 100),
            overview_panel("upcoming", f"Next {days} days", 200),
            overview_panel("unacknowledged", "Unacknowledged", 300),
            *isolation,
            overview_panel("providers", "Per provider", 500, section=left, columns=provider_columns),
            overview_panel("sources", "Last sync of each source", 500, section=right, columns=SOURCE_COLUMNS),
        ]

    def panels_by_section(self, days: int, with_flags: bool) -> dict[str, list[Any]]:
        """The panels by weight, in the template's full, left and right sections."""
        panels = sorted(self.panels(days, with_flags), key=lambda panel: panel.weight)
        return {
            f"{name}_panels": [panel for panel in panels if panel.section == section]
            for name, section in (
                ("full", SectionChoices.FULL_WIDTH),
                ("left", SectionChoices.LEFT_HALF),
                ("right", SectionChoices.RIGHT_HALF),
            )
        }

    def get(self, request: HttpRequest) -> HttpResponse:
        """The overview page for the user, as of now."""
        require_view_permission(request)
        now = timezone.now()
        days = overview.dashboard_n_days()
        list_url = reverse(LIST_URL)

        def rows_and_more(queryset: Any, query: str) -> tuple[list[dict[str, Any]], str]:
            total = queryset.count()
            rows = [maintenance_row(m) for m in queryset[: overview.ROWS]]
            more = format_html('<a href="{}?{}">All {} →</a>', list_url, query, total) if total > len(rows) else ""
            return rows, more

        active_rows, active_more = rows_and_more(overview.active_now(request.user, now), "ongoing=true")
        upcoming_rows, upcoming_more = rows_and_more(
            overview.next_days(request.user, now, days), f"upcoming_within_days={days}"
        )
        unacked_rows, unacked_more = rows_and_more(overview.needs_attention(request.user, now), "unacknowledged=true")
        flags = overview.isolation_flags(request.user, now)
        outcome_labels = dict(OutcomeChoices.CHOICES)
        provider_rows = [
            {
                "provider": format_html(
                    '<a href="{}?provider={}&unacknowledged=true">{}</a>',
                    list_url,
                    row.provider.name,
                    row.provider.name,
                ),
                "active": row.active,
                "upcoming": row.upcoming,
                "unacknowledged": row.unacknowledged,
            }
            for row in overview.per_provider(request.user, now, days)
        ]
        source_rows = [
            {
                "source": hyperlinked_object(row.source, "name"),
                "last_run": last_run_cell(row),
                "outcomes": format_html_join(
                    " ",
                    '<span class="badge bg-secondary">{}: {}</span>',
                    ((outcome_labels.get(k, k), v) for k, v in row.outcomes.items()),
                )
                or "no new mail",
                "last_error": row.last_error or "—",
            }
            for row in overview.last_syncs(request.user)
        ]
        context = {
            **self.panels_by_section(days, flags is not None),
            "active_rows": active_rows,
            "active_more": active_more,
            "upcoming_rows": upcoming_rows,
            "upcoming_more": upcoming_more,
            "unacknowledged_rows": unacked_rows,
            "unacknowledged_more": unacked_more,
            "isolation_rows": flags or [],
            "providers_rows": provider_rows,
            "sources_rows": source_rows,
            "days": days,
            "view_titles": self.get_view_titles(),
            "breadcrumbs": self.get_breadcrumbs(),
        }
        return render(request, self.template_name, context)


#
# The subscribable feed and its token
#
