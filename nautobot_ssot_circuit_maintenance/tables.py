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

from .models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)

URL_PREFIX = "plugins:nautobot_ssot_circuit_maintenance"

# Cells of long, unbroken values (64-character maintenance ids, subjects, addresses) wrap; dates never do.
WRAP = {"td": {"class": "text-break"}}
NOWRAP = {"td": {"class": "text-nowrap"}}


class AcknowledgementColumn(tables.Column):
    """✓ (with who and when) when acknowledged; "Needs attention" only on active or upcoming maintenances."""

    def __init__(self, **kwargs):
        super().__init__(accessor="ack", verbose_name="Ack", attrs=NOWRAP, **kwargs)

    def render(self, record: CircuitMaintenance) -> str:
        if record.ack:
            who = record.acknowledged_by.username if record.acknowledged_by_id else "someone"
            when = f" {record.acknowledged_at:%Y-%m-%d %H:%M} UTC" if record.acknowledged_at else ""
            return format_html(
                '<span class="mdi mdi-check-bold text-success" title="Acknowledged by {}{}"></span>'
                '<span class="visually-hidden">Acknowledged by {}{}</span>',
                who,
                when,
                who,
                when,
            )
        if record.needs_attention():
            return format_html('<span class="badge bg-warning text-dark">Needs attention</span>')
        return "—"


class CircuitMaintenanceTable(BaseTable):
    """Maintenances, newest first."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True, attrs=WRAP)
    maintenance_id = tables.Column(linkify=True, verbose_name="Maintenance ID", attrs=WRAP)
    provider = tables.Column(linkify=True)
    status = ChoiceFieldColumn()
    start_time = tables.DateTimeColumn(verbose_name="Start (UTC)", format="Y-m-d H:i", attrs=NOWRAP)
    end_time = tables.DateTimeColumn(verbose_name="End (UTC)", format="Y-m-d H:i", attrs=NOWRAP)
    circuit_count = LinkedCountColumn(
        viewname=f"{URL_PREFIX}:circuitimpact_list",
        url_params={"maintenance": "pk"},
        reverse_lookup="maintenance",
        lookup="circuit_impacts__circuit",
        display_field="cid",
        verbose_name="Circuits",
    )
    ack = AcknowledgementColumn()
    acknowledged_by = tables.Column(verbose_name="Acknowledged by")
    acknowledged_at = tables.DateTimeColumn(verbose_name="Acknowledged at (UTC)", format="Y-m-d H:i", attrs=NOWRAP)
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
            "start_time",
            "end_time",
            "circuit_count",
            "ack",
            "acknowledged_by",
            "acknowledged_at",
            "description",
            "tags",
            "actions",
        )
        default_columns = (
            "pk",
            "name",
            "provider",
            "status",
            "start_time",
            "end_time",
            "circuit_count",
            "ack",
            "actions",
        )


class CircuitImpactTable(BaseTable):
    """Circuits touched by maintenances."""

    pk = ToggleColumn()
    maintenance = tables.Column(linkify=True, attrs=WRAP)
    circuit = tables.Column(linkify=True, attrs=WRAP)
    provider = tables.Column(accessor="circuit__provider", linkify=True, verbose_name="Provider")
    impact = ChoiceFieldColumn()
    maintenance_status = tables.Column(accessor="maintenance__status", verbose_name="Status")
    start_time = tables.DateTimeColumn(
        accessor="maintenance__start_time", verbose_name="Start (UTC)", format="Y-m-d H:i", attrs=NOWRAP
    )
    end_time = tables.DateTimeColumn(
        accessor="maintenance__end_time", verbose_name="End (UTC)", format="Y-m-d H:i", attrs=NOWRAP
    )
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
    title = tables.Column(linkify=True, attrs=WRAP)
    maintenance = tables.Column(linkify=True, attrs=WRAP)
    level = tables.Column()
    comment = tables.Column(attrs=WRAP)
    created = tables.DateTimeColumn(format="Y-m-d H:i", attrs=NOWRAP)
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
    date = tables.DateTimeColumn(verbose_name="Date (UTC)", format="Y-m-d H:i", attrs=NOWRAP)
    subject = tables.Column(linkify=True, attrs=WRAP)
    sender = tables.Column(attrs=WRAP)
    source = tables.Column(linkify=True)
    provider = tables.Column(linkify=True)
    outcome = ChoiceFieldColumn()
    raw_size = tables.Column(verbose_name="Size")
    error = tables.Column(attrs=WRAP)

    class Meta(BaseTable.Meta):
        model = RawNotification
        fields = ("pk", "date", "subject", "sender", "source", "provider", "outcome", "raw_size", "error")
        default_columns = ("date", "subject", "sender", "source", "provider", "outcome")

    def render_subject(self, value: str, record: RawNotification) -> str:
        return value or record.message_key


class MaintenanceNotificationTable(BaseTable):
    """The notifications behind one maintenance (parsed notifications, shown by their raw message)."""

    date = tables.DateTimeColumn(
        accessor="raw_notification__date", verbose_name="Date (UTC)", format="Y-m-d H:i", attrs=NOWRAP
    )
    sender = tables.Column(accessor="raw_notification__sender", verbose_name="Sender", attrs=WRAP)
    subject = tables.Column(accessor="raw_notification__subject", verbose_name="Subject", attrs=WRAP)
    outcome = tables.Column(accessor="raw_notification__outcome", verbose_name="Outcome")
    status = tables.Column(accessor="json__status", verbose_name="Announced status", orderable=False)
    raw_notification = tables.Column(linkify=True, verbose_name="Notification")

    class Meta(BaseTable.Meta):
        model = ParsedNotification
        fields = ("date", "sender", "subject", "outcome", "status", "raw_notification")
        default_columns = ("date", "sender", "subject", "outcome", "status", "raw_notification")

    def render_outcome(self, record: ParsedNotification) -> str:
        raw = record.raw_notification
        return format_html('<span class="badge bg-{}">{}</span>', raw.get_outcome_class(), raw.get_outcome_display())
