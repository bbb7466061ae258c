"""Tables of the app's list views and detail-page panels."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html
from nautobot.apps.tables import (
    BaseTable,
    BooleanColumn,
    ButtonsColumn,
    ChoiceFieldColumn,
    LinkedCountColumn,
    TagColumn,
    ToggleColumn,
)

from .choices import LiveStateChoices
from .models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)

URL_PREFIX = "plugins:nautobot_ssot_circuit_maintenance"


def live_state_badge(maintenance: CircuitMaintenance) -> str:
    """The live state (from the windows and now) as a coloured badge."""
    state = maintenance.live_state()
    return format_html(
        '<span class="badge text-bg-{} cm-live-state" style="{}" data-live-state="{}">{}</span>',
        LiveStateChoices.CSS_CLASSES[state],
        LiveStateChoices.CSS_STYLES.get(state, ""),
        state,
        LiveStateChoices.as_dict()[state],
    )


class CircuitMaintenanceTable(BaseTable):
    """Maintenances, newest first."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    maintenance_id = tables.Column(linkify=True, verbose_name="Maintenance ID")
    provider = tables.Column(linkify=True)
    status = ChoiceFieldColumn()
    live_state = tables.Column(empty_values=(), orderable=False, verbose_name="Live state")
    start_time = tables.DateTimeColumn(verbose_name="Start (UTC)", format="Y-m-d H:i")
    end_time = tables.DateTimeColumn(verbose_name="End (UTC)", format="Y-m-d H:i")
    circuit_count = LinkedCountColumn(
        viewname=f"{URL_PREFIX}:circuitimpact_list",
        url_params={"maintenance": "pk"},
        reverse_lookup="maintenance",
        lookup="circuit_impacts__circuit",
        display_field="cid",
        verbose_name="Circuits",
    )
    ack = BooleanColumn(verbose_name="Ack")
    tags = TagColumn(url_name=f"{URL_PREFIX}:circuitmaintenance_list")
    actions = ButtonsColumn(CircuitMaintenance, buttons=("changelog", "edit", "delete"))

    class Meta(BaseTable.Meta):
        model = CircuitMaintenance
        fields = (
            "pk",
            "name",
            "maintenance_id",
            "provider",
            "status",
            "live_state",
            "start_time",
            "end_time",
            "circuit_count",
            "ack",
            "description",
            "tags",
            "actions",
        )
        default_columns = (
            "pk",
            "name",
            "provider",
            "status",
            "live_state",
            "start_time",
            "end_time",
            "circuit_count",
            "ack",
            "actions",
        )

    def render_live_state(self, record: CircuitMaintenance) -> str:
        return live_state_badge(record)


class CircuitImpactTable(BaseTable):
    """Circuits touched by maintenances."""

    pk = ToggleColumn()
    maintenance = tables.Column(linkify=True)
    circuit = tables.Column(linkify=True)
    provider = tables.Column(accessor="circuit__provider", linkify=True, verbose_name="Provider")
    impact = tables.Column()
    maintenance_status = tables.Column(accessor="maintenance__status", verbose_name="Status")
    start_time = tables.DateTimeColumn(
        accessor="maintenance__start_time", verbose_name="Start (UTC)", format="Y-m-d H:i"
    )
    end_time = tables.DateTimeColumn(accessor="maintenance__end_time", verbose_name="End (UTC)", format="Y-m-d H:i")
    actions = ButtonsColumn(CircuitImpact, buttons=("changelog", "edit", "delete"))

    class Meta(BaseTable.Meta):
        model = CircuitImpact
        fields = (
            "pk",
            "maintenance",
            "circuit",
            "provider",
            "impact",
            "maintenance_status",
            "start_time",
            "end_time",
            "actions",
        )
        default_columns = ("pk", "maintenance", "circuit", "impact", "start_time", "end_time", "actions")

    def render_maintenance_status(self, record: CircuitImpact) -> str:
        maintenance = record.maintenance
        return format_html(
            '<span class="badge bg-{}">{}</span>', maintenance.get_status_class(), maintenance.get_status_display()
        )


class MaintenanceNoteTable(BaseTable):
    """Remarks on maintenances."""

    pk = ToggleColumn()
    title = tables.Column(linkify=True)
    maintenance = tables.Column(linkify=True)
    level = tables.Column()
    comment = tables.Column()
    created = tables.DateTimeColumn(format="Y-m-d H:i")
    actions = ButtonsColumn(MaintenanceNote, buttons=("changelog", "edit", "delete"))

    class Meta(BaseTable.Meta):
        model = MaintenanceNote
        fields = ("pk", "title", "maintenance", "level", "comment", "created", "actions")
        default_columns = ("pk", "title", "maintenance", "level", "comment", "created", "actions")


class NotificationSourceTable(BaseTable):
    """Configured notification sources."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    source_type = tables.Column(verbose_name="Type")
    attach_all_providers = BooleanColumn(verbose_name="All providers")
    providers = tables.ManyToManyColumn(linkify_item=True)
    last_run = tables.DateTimeColumn(format="Y-m-d H:i")
    raw_notification_count = LinkedCountColumn(
        viewname=f"{URL_PREFIX}:rawnotification_list",
        url_params={"source": "pk"},
        reverse_lookup="source",
        verbose_name="Notifications",
    )
    actions = ButtonsColumn(NotificationSource, buttons=("changelog", "edit"))

    class Meta(BaseTable.Meta):
        model = NotificationSource
        fields = (
            "pk",
            "name",
            "source_type",
            "attach_all_providers",
            "providers",
            "last_run",
            "last_error",
            "raw_notification_count",
            "actions",
        )
        default_columns = (
            "pk",
            "name",
            "source_type",
            "attach_all_providers",
            "providers",
            "last_run",
            "raw_notification_count",
            "actions",
        )


class RawNotificationTable(BaseTable):
    """Fetched messages and what became of them."""

    pk = ToggleColumn()
    date = tables.DateTimeColumn(verbose_name="Date (UTC)", format="Y-m-d H:i")
    subject = tables.Column(linkify=True)
    sender = tables.Column()
    source = tables.Column(linkify=True)
    provider = tables.Column(linkify=True)
    outcome = tables.Column()
    raw_size = tables.Column(verbose_name="Size")

    class Meta(BaseTable.Meta):
        model = RawNotification
        fields = ("pk", "date", "subject", "sender", "source", "provider", "outcome", "raw_size", "error")
        default_columns = ("date", "subject", "sender", "source", "provider", "outcome")

    def render_subject(self, value: str, record: RawNotification) -> str:
        return value or record.message_key


class MaintenanceNotificationTable(BaseTable):
    """The notifications behind one maintenance (parsed notifications, shown by their raw message)."""

    date = tables.DateTimeColumn(accessor="raw_notification__date", verbose_name="Date (UTC)", format="Y-m-d H:i")
    sender = tables.Column(accessor="raw_notification__sender", verbose_name="Sender")
    subject = tables.Column(accessor="raw_notification__subject", verbose_name="Subject")
    outcome = tables.Column(accessor="raw_notification__outcome", verbose_name="Outcome")
    status = tables.Column(accessor="json__status", verbose_name="Announced status", orderable=False)
    raw_notification = tables.Column(linkify=True, verbose_name="Notification")

    class Meta(BaseTable.Meta):
        model = ParsedNotification
        fields = ("date", "sender", "subject", "outcome", "status", "raw_notification")
        default_columns = ("date", "sender", "subject", "outcome", "status", "raw_notification")

    def render_outcome(self, record: ParsedNotification) -> str:
        return record.raw_notification.get_outcome_display()
