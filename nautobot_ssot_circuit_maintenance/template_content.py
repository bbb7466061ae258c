"""Panels on core pages: the upcoming maintenances of a circuit and of a provider."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from nautobot.apps.ui import ObjectsTablePanel, SectionChoices, TemplateExtension

from .models import CircuitMaintenance
from .tables import CircuitImpactTable, CircuitMaintenanceTable


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


template_extensions = [CircuitMaintenances, ProviderMaintenances]
