"""Tables of the app's list views and detail-page panels."""

from __future__ import annotations

import json
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from nautobot.apps.tables import (
    BaseTable,
    BooleanColumn,
    ButtonsColumn,
    ChoiceFieldColumn,
    LinkedCountColumn,
    TagColumn,
    ToggleColumn,
)
from nautobot.apps.templatetags import hyperlinked_object

from nautobot_ssot_circuit_maintenance.choices import ActionOccasionChoices, LiveStateChoices
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.display import format_local, format_local_window, window_parts
from nautobot_ssot_circuit_maintenance.models import (
    ActionRule,
    ActionRun,
    CircuitImpact,
    CircuitMaintenance,
    CustomerNotice,
    CustomerNoticeRecipient,
    CustomerNoticeTemplate,
    MaintenanceFlag,
    MaintenanceNote,
    NoticeTemplate,
    NotificationSource,
    ParsedNotification,
    RawNotification,
    TenantNoticeSettings,
)
from nautobot_ssot_circuit_maintenance.models.reach import interfaces_html, locations_html

# Cells of long, unbroken values (64-character maintenance ids, subjects, addresses) wrap; dates never do.
WRAP = {"td": {"class": "text-break"}}
NOWRAP = {"td": {"class": "text-nowrap"}}
# A name wraps at its spaces, never into a column of a few characters per line.
NAME = {"td": {"class": "text-break", "style": "min-width: 9rem"}}
# A long unbroken value (a 64-character hash) breaks anywhere, so it never widens its table past its card.
BREAK_ANYWHERE = "overflow-wrap: anywhere"


def breaking_anywhere(value: Any) -> str:
    """The value in a span that may break anywhere (a detail panel's long Message-ID, address or subject)."""
    return format_html('<span style="{}">{}</span>', BREAK_ANYWHERE, value) if value else value


class TimeColumn(tables.Column):
    """A date and time as the app writes it for the reader: `2026-12-06 04:00 CET`, in the reader's time zone.

    Headers name no zone: each value does. Never wraps.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """A column of datetimes, its cells kept on one line."""
        kwargs.setdefault("attrs", NOWRAP)
        super().__init__(*args, **kwargs)

    def render(self, value: datetime) -> str:
        """The time in the reader's zone, with the zone."""
        return format_local(value)


# A badge whose text may wrap at its spaces, so a narrow column holds it whole (at 1400 px, beside the menu).
WRAPPING_BADGE = "badge text-wrap text-start"


class AcknowledgementColumn(tables.Column):
    """✓ (with who and when) when acknowledged; "Needs attention" only on active or upcoming maintenances."""

    def __init__(self, **kwargs):
        """The `ack` column, headed "Ack"."""
        super().__init__(accessor="ack", verbose_name="Ack", **kwargs)

    def render(self, record: CircuitMaintenance) -> str:
        """A check mark naming who acknowledged it and when, else the needs-attention badge, else a dash."""
        if record.ack:
            who = record.acknowledged_by.username if record.acknowledged_by_id else "someone"
            when = f" {format_local(record.acknowledged_at)}" if record.acknowledged_at else ""
            return format_html(
                '<span class="mdi mdi-check-bold text-success" title="Acknowledged by {}{}"></span>'
                '<span class="visually-hidden">Acknowledged by {}{}</span>',
                who,
                when,
                who,
                when,
            )
        if record.needs_attention():
            return needs_attention_badge()
        return "—"


def worst_per_scope(flags) -> list:
    """One flag per location or device, the worst (isolation before lost redundancy), earliest first."""
    chosen: dict = {}
    for flag in sorted(flags, key=lambda f: (not f.is_isolation, f.start_time)):
        chosen.setdefault((flag.location_id, flag.device_id), flag)
    return sorted(chosen.values(), key=lambda f: (not f.is_isolation, f.device_id is not None, str(f.scope)))


def flag_kind_badge(flag: MaintenanceFlag) -> str:
    """The flag's kind as a badge in its kind's colour."""
    return format_html('<span class="badge bg-{}">{}</span>', flag.get_kind_class(), flag.label)


def needs_attention_badge() -> str:
    """Changed in a way that matters since someone acknowledged it (or never acknowledged)."""
    return format_html('<span class="{} bg-warning text-dark">Needs attention</span>', WRAPPING_BADGE)


def flag_badges(flags) -> str:
    """Each flag as a badge naming the location or device: red for isolation, orange for lost redundancy."""
    return format_html_join(
        " ",
        '<span class="{} bg-{}" title="{}">{}: {}</span>',
        (
            (
                WRAPPING_BADGE,
                flag.get_kind_class(),
                format_local_window(flag.start_time, flag.end_time),
                flag.label,
                flag.scope,
            )
            for flag in flags
        ),
    )


def live_state_badge(maintenance: CircuitMaintenance) -> str:
    """The live state (from the windows and now) as a coloured badge."""
    state = maintenance.current_live_state()
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
    name = tables.Column(linkify=True, attrs=NAME)
    maintenance_id = tables.Column(linkify=True, verbose_name="Maintenance ID", attrs=WRAP)
    provider = tables.Column(linkify=True)
    status = ChoiceFieldColumn()
    live_state = tables.Column(empty_values=(), orderable=False, verbose_name="Live state")
    window = tables.Column(empty_values=(), order_by=("start_time", "end_time"), verbose_name="Window")
    start_time = TimeColumn(verbose_name="Start")
    end_time = TimeColumn(verbose_name="End")
    circuit_count = LinkedCountColumn(
        viewname=f"{URL_NAMESPACE}:circuitimpact_list",
        url_params={"maintenance": "pk"},
        reverse_lookup="maintenance",
        lookup="circuit_impacts__circuit",
        display_field="cid",
        verbose_name="Circuits",
    )
    locations = tables.Column(empty_values=(), orderable=False, verbose_name="Locations (A/Z)")
    flags = tables.Column(empty_values=(), orderable=False, verbose_name="Flags")
    ack = AcknowledgementColumn()
    acknowledged_by = tables.Column(verbose_name="Acknowledged by")
    acknowledged_at = TimeColumn(verbose_name="Acknowledged at")
    tags = TagColumn(url_name=f"{URL_NAMESPACE}:circuitmaintenance_list")
    actions = ButtonsColumn(CircuitMaintenance, buttons=("changelog", "edit", "delete"))

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = CircuitMaintenance
        fields = (
            "pk",
            "name",
            "maintenance_id",
            "provider",
            "status",
            "live_state",
            "window",
            "start_time",
            "end_time",
            "circuit_count",
            "locations",
            "flags",
            "ack",
            "acknowledged_by",
            "acknowledged_at",
            "description",
            "tags",
            "actions",
        )
        # Fits 1400 px beside Nautobot's menu: the provider's status is shown under the live state.
        default_columns = (
            "pk",
            "name",
            "provider",
            "live_state",
            "window",
            "circuit_count",
            "locations",
            "flags",
            "ack",
        )

    # Both read prefetched rows (see `MAINTENANCE_LIST_PREFETCH`): no query per row.
    def render_locations(self, record: CircuitMaintenance) -> str:
        """The locations where the impacted circuits terminate."""
        return locations_html(impact.circuit for impact in record.circuit_impacts.all())

    def render_flags(self, record: CircuitMaintenance) -> str:
        """The worst flag of each location or device the maintenance takes part in, as badges."""
        return flag_badges(worst_per_scope(record.flags.all())) or "—"

    def render_live_state(self, record: CircuitMaintenance) -> str:
        """The live state as a badge, the provider's status under it (unless the status column is shown)."""
        if "status" in self.columns.names() and self.columns["status"].visible:
            return live_state_badge(record)
        return format_html(
            '{}<br><small class="text-secondary">{}</small>', live_state_badge(record), record.get_status_display()
        )

    def render_window(self, record: CircuitMaintenance) -> str:
        """Start → end in the reader's zone, the end's date only when another day; it may wrap before the arrow."""
        start_text, end_text = window_parts(record.start_time, record.end_time)
        return format_html(
            '<span class="text-nowrap">{}</span> <span class="text-nowrap">→ {}</span>', start_text, end_text
        )

    def render_name(self, record: CircuitMaintenance) -> str:
        """The label, linked to the maintenance; the whole name on hover."""
        return format_html('<a href="{}" title="{}">{}</a>', record.get_absolute_url(), record.name, record.label)


class CircuitImpactTable(BaseTable):
    """Circuits touched by maintenances."""

    pk = ToggleColumn()
    maintenance = tables.Column(linkify=True, attrs=WRAP)
    circuit = tables.Column(linkify=True, attrs=WRAP)
    provider = tables.Column(accessor="circuit__provider", linkify=True, verbose_name="Provider")
    impact = ChoiceFieldColumn()
    maintenance_status = tables.Column(accessor="maintenance__status", verbose_name="Status")
    start_time = TimeColumn(accessor="maintenance__start_time", verbose_name="Start")
    end_time = TimeColumn(accessor="maintenance__end_time", verbose_name="End")
    locations = tables.Column(empty_values=(), orderable=False, verbose_name="Locations (A/Z)")
    interfaces = tables.Column(empty_values=(), orderable=False, verbose_name="Device › interface")
    tenant = tables.Column(accessor="circuit__tenant", linkify=True, verbose_name="Tenant")
    actions = ButtonsColumn(CircuitImpact, buttons=("changelog", "edit", "delete"))

    class Meta(BaseTable.Meta):
        """Meta attributes."""

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
            "locations",
            "interfaces",
            "tenant",
            "actions",
        )
        default_columns = ("pk", "maintenance", "circuit", "impact", "start_time", "end_time", "locations", "actions")

    # Read the prefetch of `reach.termination_prefetch()` when the queryset has it.
    def render_locations(self, record: CircuitImpact) -> str:
        """The locations where the circuit terminates."""
        return locations_html([record.circuit])

    def render_interfaces(self, record: CircuitImpact) -> str:
        """The interfaces the circuit's terminations reach."""
        return interfaces_html([record.circuit])

    def render_maintenance_status(self, record: CircuitImpact) -> str:
        """The maintenance's status as a badge."""
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
    created = TimeColumn()
    actions = ButtonsColumn(MaintenanceNote, buttons=("changelog", "edit", "delete"))

    class Meta(BaseTable.Meta):
        """Meta attributes."""

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
    last_run = TimeColumn()
    raw_notification_count = LinkedCountColumn(
        viewname=f"{URL_NAMESPACE}:rawnotification_list",
        url_params={"source": "pk"},
        reverse_lookup="source",
        verbose_name="Notifications",
    )
    actions = ButtonsColumn(NotificationSource, buttons=("changelog", "edit"))

    class Meta(BaseTable.Meta):
        """Meta attributes."""

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
    date = TimeColumn(verbose_name="Date")
    subject = tables.Column(linkify=True, attrs=WRAP)
    sender = tables.Column(attrs=WRAP)
    source = tables.Column(linkify=True)
    provider = tables.Column(linkify=True)
    outcome = ChoiceFieldColumn()
    raw_size = tables.Column(verbose_name="Size")
    error = tables.Column(attrs=WRAP)
    parser_version = tables.Column(verbose_name="Parser")

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = RawNotification
        fields = (
            "pk",
            "date",
            "subject",
            "sender",
            "source",
            "provider",
            "outcome",
            "raw_size",
            "error",
            "parser_version",
        )
        default_columns = ("date", "subject", "sender", "source", "provider", "outcome", "parser_version")

    def render_subject(self, value: str, record: RawNotification) -> str:
        """The subject, else the message key."""
        return value or record.message_key


# The parser's fields that hold Unix times (circuit-maintenance-parser's Maintenance: start, end, stamp).
PARSED_TIMES = frozenset({"start", "end", "stamp"})


class ParsedNotificationJSONTable(BaseTable):  # pylint: disable=nb-sub-class-name  # a second table of ParsedNotification (the parser's JSON)
    """What the parser read out of one message: the maintenance it fed and the parser's JSON."""

    maintenance = tables.Column(linkify=True, attrs=NAME)
    provider_maintenance_id = tables.Column(verbose_name="Maintenance ID", attrs={"td": {"style": BREAK_ANYWHERE}})
    json = tables.Column(verbose_name="Parsed data", orderable=False)

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = ParsedNotification
        fields = ("maintenance", "provider_maintenance_id", "json")
        # The maintenance's ID is in the parsed data and one click away: a 64-character one would fill the card.
        default_columns = ("maintenance", "json")

    def render_json(self, value: Any) -> str:
        """The parser's output as indented JSON, its Unix times written as dates, long lines wrapped."""
        readable = {
            key: format_local(datetime.fromtimestamp(item, dt_timezone.utc))
            if key in PARSED_TIMES and isinstance(item, int) and not isinstance(item, bool)
            else item
            for key, item in value.items()
        }
        return format_html(
            '<pre style="white-space: pre-wrap; {}">{}</pre>',
            BREAK_ANYWHERE,
            json.dumps(readable, indent=2, sort_keys=True, ensure_ascii=False),
        )


class MaintenanceFlagTable(BaseTable):
    """Isolation and lost-redundancy flags."""

    kind = tables.Column(empty_values=(), verbose_name="Flag", order_by=("kind",))
    scope = tables.Column(empty_values=(), orderable=False, verbose_name="Location or device")
    start_time = TimeColumn(verbose_name="From")
    end_time = TimeColumn(verbose_name="Until")
    down = tables.Column(empty_values=(), orderable=False, verbose_name="Down")
    left = tables.Column(empty_values=(), orderable=False, verbose_name="Left")
    impaired = tables.Column(empty_values=(), orderable=False, verbose_name="Degraded meanwhile")
    maintenances = tables.ManyToManyColumn(linkify_item=True, verbose_name="Maintenances")

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = MaintenanceFlag
        fields = ("kind", "scope", "start_time", "end_time", "down", "left", "impaired", "maintenances")
        default_columns = fields

    def render_kind(self, record: MaintenanceFlag) -> str:
        """The flag's kind as a badge."""
        return flag_kind_badge(record)

    def render_scope(self, record: MaintenanceFlag) -> str:
        """The flagged location or device, linked."""
        scope = record.scope
        return hyperlinked_object(scope, "name") if scope else "—"

    def render_down(self, record: MaintenanceFlag) -> str:
        """How many are down of the total (circuits, or a device's interfaces), and which."""
        return f"{len(record.down)} of {record.total}: " + ", ".join(record.down)

    def render_left(self, record: MaintenanceFlag) -> str:
        """The circuits (or a device's interfaces) left up, or "none"."""
        return ", ".join(record.left) or "none"

    def render_impaired(self, record: MaintenanceFlag) -> str:
        """The circuits only degraded or on reduced redundancy meanwhile."""
        return ", ".join(record.impaired) or "—"


class NoticeTemplateTable(BaseTable):
    """Notice templates: each provider's, where it reads the maintenance id and the circuits, when it last changed."""

    pk = ToggleColumn()
    provider = tables.Column(linkify=lambda record: record.get_absolute_url())
    description = tables.Column(attrs=WRAP)
    maintenance_id_source = tables.Column(verbose_name="Maintenance id from")
    circuits_source = tables.Column(verbose_name="Circuits from")
    time_zone = tables.Column()
    last_updated = TimeColumn(verbose_name="Changed")
    actions = ButtonsColumn(NoticeTemplate)

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = NoticeTemplate
        fields = (
            "pk",
            "provider",
            "description",
            "maintenance_id_source",
            "circuits_source",
            "time_zone",
            "last_updated",
            "actions",
        )
        default_columns = fields


#
# Customer notices
#


def _badge(css_class: str, text: str) -> str:
    return format_html('<span class="badge bg-{}">{}</span>', css_class, text)


class CustomerNoticeTable(BaseTable):
    """Customer notices: for whom, what, when, and where each stands."""

    pk = ToggleColumn()
    subject = tables.Column(linkify=True, attrs=WRAP)
    tenant = tables.Column(linkify=True)
    kind = tables.Column()
    state = tables.Column()
    impact = tables.Column()
    start_time = TimeColumn(verbose_name="Starts")
    end_time = TimeColumn(verbose_name="Ends")
    recipient_count = tables.Column(verbose_name="Recipients", orderable=False, empty_values=())
    sent_at = TimeColumn(verbose_name="Sent")
    actions = ButtonsColumn(CustomerNotice, buttons=("changelog", "delete"))

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = CustomerNotice
        fields = (
            "pk",
            "subject",
            "tenant",
            "kind",
            "state",
            "impact",
            "start_time",
            "end_time",
            "recipient_count",
            "sent_at",
            "actions",
        )
        default_columns = fields

    def render_kind(self, record: CustomerNotice) -> str:
        """The kind as a badge."""
        return _badge(record.get_kind_class(), record.get_kind_display())

    def render_state(self, record: CustomerNotice) -> str:
        """The state as a badge."""
        return _badge(record.get_state_class(), record.get_state_display())

    def render_impact(self, record: CustomerNotice) -> str:
        """The impact as a badge."""
        return _badge(record.get_impact_class(), record.get_impact_display())

    def render_recipient_count(self, record: CustomerNotice) -> int:
        """How many addresses it goes to (reads the prefetched recipients)."""
        return len(record.recipients.all())


class CustomerNoticeRecipientTable(BaseTable):
    """The recipients of a notice and what became of each."""

    address = tables.Column()
    name = tables.Column()
    via = tables.Column(verbose_name="From")
    state = tables.Column()
    answer = tables.Column(verbose_name="Server's answer", attrs=WRAP)
    attempts = tables.Column()
    sent_at = TimeColumn(verbose_name="Sent")

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = CustomerNoticeRecipient
        fields = ("address", "name", "via", "state", "answer", "attempts", "sent_at")
        default_columns = fields

    def render_state(self, record: CustomerNoticeRecipient) -> str:
        """The state as a badge."""
        return _badge(record.get_state_class(), record.get_state_display())


class CustomerNoticeTemplateTable(BaseTable):
    """Customer notice templates and what each applies to."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    tenant = tables.Column(linkify=True)
    provider = tables.Column(linkify=True)
    subject = tables.Column(attrs=WRAP)
    actions = ButtonsColumn(CustomerNoticeTemplate, buttons=("changelog", "edit", "delete"))

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = CustomerNoticeTemplate
        fields = ("pk", "name", "tenant", "provider", "subject", "actions")
        default_columns = fields


class TenantNoticeSettingsTable(BaseTable):
    """How each tenant is told."""

    pk = ToggleColumn()
    tenant = tables.Column(linkify=True)
    settings = tables.Column(linkify=True, accessor="pk", verbose_name="Settings", orderable=False)
    notify = BooleanColumn()
    recipients = tables.Column(verbose_name="Recipients (instead of contacts)", orderable=False, attrs=WRAP)
    actions = ButtonsColumn(TenantNoticeSettings, buttons=("changelog", "edit", "delete"))

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = TenantNoticeSettings
        fields = ("pk", "tenant", "settings", "notify", "recipients", "actions")
        default_columns = fields

    def render_settings(self, record: TenantNoticeSettings) -> str:
        """A link to the settings' own page."""
        return format_html('<a href="{}">View</a>', record.get_absolute_url())

    def render_recipients(self, value: list[str]) -> str:
        """The addresses, comma-separated."""
        return ", ".join(value)


def rule_moment(record: ActionRule) -> str:
    """When a rule fires, as a person reads it: "entering in progress, ended", "30 min before the start"."""
    if record.occasion == ActionOccasionChoices.TRANSITION:
        names = LiveStateChoices.as_dict()
        states = ", ".join(names[state].lower() for state in record.transitions) or "any transition"
        return f"entering {states}" if record.transitions else states
    where = "before the start" if record.occasion == ActionOccasionChoices.BEFORE_START else "after the end"
    return f"{record.offset_minutes} min {where}"


class ActionRuleTable(BaseTable):
    """Action rules: what each does, when, for which maintenances."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True, attrs=NAME)
    enabled = BooleanColumn()
    kind = tables.Column()
    occasion = tables.Column(verbose_name="When", empty_values=())
    providers = tables.ManyToManyColumn(linkify_item=True)
    locations = tables.ManyToManyColumn(linkify_item=True)
    tenants = tables.ManyToManyColumn(linkify_item=True)
    secrets_group = tables.Column(linkify=True, verbose_name="Destination")
    job = tables.Column(linkify=True)
    tags = TagColumn(url_name=f"{URL_NAMESPACE}:actionrule_list")
    actions = ButtonsColumn(ActionRule, buttons=("changelog", "edit", "delete"))

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = ActionRule
        fields = (
            "pk",
            "name",
            "enabled",
            "kind",
            "occasion",
            "providers",
            "locations",
            "tenants",
            "secrets_group",
            "job",
            "tags",
            "actions",
        )
        default_columns = ("pk", "name", "enabled", "kind", "occasion", "providers", "secrets_group", "job", "actions")

    def render_occasion(self, record: ActionRule) -> str:
        """When it fires."""
        return rule_moment(record)


class ActionRunTable(BaseTable):
    """The times a rule fired: for which maintenance, at which occasion, and how it went."""

    maintenance = tables.Column(linkify=True, attrs=NAME)
    rule = tables.Column(linkify=True, attrs=NAME)
    occasion = tables.Column(attrs=WRAP)
    status = ChoiceFieldColumn()
    attempts = tables.Column()
    last_attempt = TimeColumn()
    next_attempt = TimeColumn()
    result = tables.Column(attrs=WRAP)

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = ActionRun
        fields = ("maintenance", "rule", "occasion", "status", "attempts", "last_attempt", "next_attempt", "result")
        default_columns = fields
