"""Panels on core pages: the upcoming maintenances of a circuit, a provider, a location and a device."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from nautobot.apps.ui import ObjectsTablePanel, SectionChoices, TemplateExtension

from nautobot_ssot_circuit_maintenance.compat.panels import TableRowsPanelMixin
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE, push_enabled
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, MaintenanceFlag
from nautobot_ssot_circuit_maintenance.models.reach import MAINTENANCE_FLAGS_PREFETCH
from nautobot_ssot_circuit_maintenance.tables import (
    CircuitImpactTable,
    CircuitMaintenanceTable,
    CustomerNoticeTable,
    MaintenanceFlagTable,
)

MAINTENANCE_LIST = f"{URL_NAMESPACE}:circuitmaintenance_list"
# What a maintenance row of CircuitMaintenanceTable reads (locations and flags columns), fetched once per table.
MAINTENANCE_ROW_PREFETCH = (
    "circuit_impacts__circuit__circuit_terminations__location",
    "superseded_by",
    *MAINTENANCE_FLAGS_PREFETCH,
)

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
        """Keep the lookup from the panel's rows to their maintenance ("": the rows are maintenances)."""
        self.maintenance_lookup = maintenance_lookup
        super().__init__(**kwargs)

    def get_table_data_queryset(self, instance: Any, request: Any) -> QuerySet:
        """The panel's rows whose maintenance is not over."""
        lookup = f"{self.maintenance_lookup}__in" if self.maintenance_lookup else "pk__in"
        not_over = CircuitMaintenance.objects.not_over()
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
            # The circuit's own page shows its terminations: no locations column here.
            exclude_columns=["circuit", "provider", "locations", "actions"],
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
            select_related_fields=["provider"],  # each row's label names its provider
            prefetch_related_fields=MAINTENANCE_ROW_PREFETCH,
            show_table_config_button=False,
        ),
    )


class MaintenancesReachingPanel(TableRowsPanelMixin, ObjectsTablePanel):
    """Active and upcoming maintenances of the circuits at a location (or cabled to a device), soonest first.

    The panel's "all" link opens the maintenance list filtered by the location (or device): the history.
    """

    def __init__(self, *, lookup: str, **kwargs: Any) -> None:
        """Keep whether the page is a location's or a device's (`lookup`)."""
        self.lookup = lookup
        super().__init__(**kwargs)

    def get_table_data_queryset(self, instance: Any, request: Any) -> QuerySet:
        """The maintenances not over whose circuits terminate at the location or reach the device."""
        maintenances = CircuitMaintenance.objects.not_over()
        if self.lookup == "location":
            return maintenances.terminating_at([instance])
        return maintenances.reaching_devices([instance])


class UpcomingFlagsPanel(TableRowsPanelMixin, ObjectsTablePanel):
    """Isolation / lost-redundancy flags of a location or a device that are not over."""

    def __init__(self, *, lookup: str, **kwargs: Any) -> None:
        """Keep the flag field to filter on: location or device."""
        self.lookup = lookup
        super().__init__(**kwargs)

    def get_table_data_queryset(self, instance: Any, request: Any) -> QuerySet:
        """The location's or device's flags that have not ended."""
        return MaintenanceFlag.objects.filter(**{self.lookup: instance}, end_time__gte=timezone.now())


def maintenance_panels(lookup: str, scope: str) -> tuple[ObjectsTablePanel, ...]:
    """The flags panel and the maintenances panel of a location's or device's page."""
    return (
        UpcomingFlagsPanel(
            lookup=lookup,
            section=SectionChoices.FULL_WIDTH,
            weight=490,
            table_class=MaintenanceFlagTable,
            table_filter=lookup,
            related_field_name=lookup,
            table_title=f"Circuit maintenances: {scope}",
            prefetch_related_fields=["maintenances__provider"],
            select_related_fields=["location", "device"],
            exclude_columns=["scope"],
            add_button_route=None,
            enable_related_link=False,
            show_table_config_button=False,
        ),
        MaintenancesReachingPanel(
            lookup=lookup,
            table_filter=lookup,
            section=SectionChoices.FULL_WIDTH,
            weight=500,
            table_class=CircuitMaintenanceTable,
            table_title="Active and upcoming circuit maintenances",
            order_by_fields=["start_time", "maintenance_id"],
            select_related_fields=["provider"],
            prefetch_related_fields=MAINTENANCE_ROW_PREFETCH,
            exclude_columns=["actions"],
            add_button_route=None,
            related_field_name=lookup,
            related_list_url_name=MAINTENANCE_LIST,
            show_table_config_button=False,
        ),
    )


class LocationMaintenances(TemplateExtension):
    """A location's page: its isolation / lost-redundancy flags, then the maintenances of circuits terminating there."""

    model = "dcim.location"
    object_detail_panels = maintenance_panels("location", "isolation and lost redundancy")


class DeviceMaintenances(TemplateExtension):
    """A device's page: cut-off / lost-redundancy flags, then the maintenances of circuits cabled to it."""

    model = "dcim.device"
    object_detail_panels = maintenance_panels("device", "cut off and lost redundancy")


class MaintenanceListButtons(TemplateExtension):
    """On the maintenance list: the quick filters, the calendar and the feed subscription."""

    model = "nautobot_ssot_circuit_maintenance.circuitmaintenance"

    def list_buttons(self) -> str:
        """The quick-filter menu and the Overview, Calendar and Subscribe buttons."""
        list_url = reverse(f"{URL_NAMESPACE}:circuitmaintenance_list")
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
            reverse(f"{URL_NAMESPACE}:overview"),
            "view-dashboard",
            reverse(f"{URL_NAMESPACE}:calendar"),
            "calendar-month",
            reverse(f"{URL_NAMESPACE}:calendar_subscribe"),
            "calendar-sync",
        )


class UploadNotificationsButton(TemplateExtension):
    """An "Upload .eml" button on the notification list, for users who may push messages."""

    model = "nautobot_ssot_circuit_maintenance.rawnotification"

    def list_buttons(self) -> str:
        """The "Upload .eml" button, while push is on, for a user who may add pushed messages; nothing otherwise."""
        request = self.context["request"]
        if not push_enabled() or not request.user.has_perm("nautobot_ssot_circuit_maintenance.add_pushedmessage"):
            return ""
        return format_html(
            '<a href="{}" class="btn btn-primary"><span class="mdi mdi-upload"></span> Upload .eml</a>',
            reverse(f"{URL_NAMESPACE}:rawnotification_upload"),
        )


class TenantCustomerNotices(TemplateExtension):
    """The maintenance notices of a tenant on its page: what it was told, or is about to be, and where each stands."""

    model = "tenancy.tenant"
    object_detail_panels = (
        ObjectsTablePanel(
            section=SectionChoices.FULL_WIDTH,
            weight=500,
            table_class=CustomerNoticeTable,
            table_filter="tenant",
            table_title="Maintenance notices",
            related_field_name="tenant",
            prefetch_related_fields=["recipients"],
            exclude_columns=["pk", "tenant", "actions"],
            add_button_route=None,
            show_table_config_button=False,
        ),
    )


template_extensions = [
    CircuitMaintenances,
    ProviderMaintenances,
    LocationMaintenances,
    DeviceMaintenances,
    MaintenanceListButtons,
    UploadNotificationsButton,
    TenantCustomerNotices,
]
