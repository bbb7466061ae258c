"""Panels on core pages: the upcoming maintenances of a circuit and of a provider."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from nautobot.apps.ui import ObjectsTablePanel, SectionChoices, TemplateExtension

from .models import CircuitMaintenance
from .tables import CircuitImpactTable, CircuitMaintenanceTable

_PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
# (label, query string) of the maintenance list's quick filters.
QUICK_FILTERS = (
    ("Ongoing now", "ongoing=true"),
    ("Next 7 days", "upcoming_within_days=7"),
    ("Next 14 days", "upcoming_within_days=14"),
    ("Unacknowledged and upcoming", "unacknowledged=true"),
)


class UpcomingMaintenancesPanel(ObjectsTablePanel):
    """Related maintenances that are not over: not ended, neither cancelled nor completed."""

    def __init__(self, *, maintenance_lookup: str = "", **kwargs: Any) -> None:
        self.maintenance_lookup = maintenance_lookup
        super().__init__(**kwargs)

    def get_table_data_queryset(self, instance: Any, request: Any) -> QuerySet:
        lookup = f"{self.maintenance_lookup}__in" if self.maintenance_lookup else "pk__in"
        not_over = CircuitMaintenance.objects.unfinished().ended_within(0)
        return super().get_table_data_queryset(instance, request).filter(**{lookup: not_over})


class CircuitMaintenances(TemplateExtension):
    """Upcoming maintenances on a circuit's detail page."""

    model = "circuits.circuit"
    object_detail_panels = (
        UpcomingMaintenancesPanel(
            section=SectionChoices.FULL_WIDTH,
            weight=500,
            table_class=CircuitImpactTable,
            table_filter="circuit",
            maintenance_lookup="maintenance",
            table_title="Upcoming maintenances",
            select_related_fields=["maintenance", "circuit"],
            order_by_fields=["maintenance__start_time"],
            include_columns=["maintenance_status"],
            exclude_columns=["circuit", "provider", "actions"],
            add_button_route=None,
            enable_related_link=False,
            show_table_config_button=False,
        ),
    )


class ProviderMaintenances(TemplateExtension):
    """Upcoming maintenances on a provider's detail page."""

    model = "circuits.provider"
    object_detail_panels = (
        UpcomingMaintenancesPanel(
            section=SectionChoices.FULL_WIDTH,
            weight=500,
            table_class=CircuitMaintenanceTable,
            table_filter="provider",
            table_title="Upcoming maintenances",
            order_by_fields=["start_time"],
            exclude_columns=["provider", "actions"],
            add_button_route=None,
            related_field_name="provider",
            show_table_config_button=False,
        ),
    )


class MaintenanceListButtons(TemplateExtension):
    """On the maintenance list: the quick filters, the calendar and the feed subscription."""

    model = "nautobot_ssot_circuit_maintenance.circuitmaintenance"

    def list_buttons(self) -> str:
        list_url = reverse(f"{_PREFIX}:circuitmaintenance_list")
        quick = format_html_join(
            "",
            '<li><a class="dropdown-item" href="{}?{}">{}</a></li>',
            ((list_url, query, label) for label, query in QUICK_FILTERS),
        )
        icon = '<span class="mdi mdi-{}" aria-hidden="true"></span>'
        return format_html(
            '<div class="btn-group" id="cm-quick-filters">'
            '<button type="button" class="btn btn-secondary dropdown-toggle" data-bs-toggle="dropdown" '
            f'aria-expanded="false">{icon} Quick filters</button>'
            '<ul class="dropdown-menu">{}</ul></div>'
            f'<a class="btn btn-secondary" href="{{}}">{icon} Overview</a>'
            f'<a class="btn btn-secondary" href="{{}}">{icon} Calendar</a>'
            f'<a class="btn btn-primary" id="cm-subscribe" href="{{}}">{icon} Subscribe</a>',
            "filter-variant",
            quick,
            reverse(f"{_PREFIX}:overview"),
            "view-dashboard",
            reverse(f"{_PREFIX}:calendar"),
            "calendar-month",
            reverse(f"{_PREFIX}:calendar_subscribe"),
            "calendar-sync",
        )


template_extensions = [CircuitMaintenances, ProviderMaintenances, MaintenanceListButtons]
