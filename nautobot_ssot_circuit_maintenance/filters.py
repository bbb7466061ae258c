"""Filter sets for the app's models, used by the UI list views and the REST API."""

from __future__ import annotations

import copy
from datetime import datetime

import django_filters
from django.db.models import QuerySet
from django_filters import NumberFilter
from nautobot.apps.filters import (
    BaseFilterSet,
    MultiValueDateTimeFilter,
    MultiValueNumberFilter,
    NaturalKeyOrPKMultipleChoiceFilter,
    NautobotFilterSet,
    RelatedMembershipBooleanFilter,
    SearchFilter,
    TreeNodeMultipleChoiceFilter,
)
from nautobot.circuits.models import Circuit, Provider
from nautobot.dcim.models import Device, Location
from nautobot.tenancy.models import Tenant

from nautobot_ssot_circuit_maintenance.choices import (
    ActionKindChoices,
    ActionOccasionChoices,
    FlagKindChoices,
    ImpactChoices,
    LiveStateChoices,
    MaintenanceStatusChoices,
    NoteLevelChoices,
    NoticeKindChoices,
    NoticeStateChoices,
    OutcomeChoices,
)
from nautobot_ssot_circuit_maintenance.models import (
    ActionRule,
    CircuitAlias,
    CircuitImpact,
    CircuitMaintenance,
    CustomerNotice,
    CustomerNoticeTemplate,
    MaintenanceFlag,
    MaintenanceNote,
    NoticeTemplate,
    NotificationSource,
    ParsedNotification,
    RawNotification,
    TenantNoticeSettings,
)
from nautobot_ssot_circuit_maintenance.validation import MAX_DAYS, strict_field_class

# More circuits at one location (or circuit-facing interfaces on one device) than any network has.
MAX_FLAG_TOTAL = 100_000

__all__ = (
    "ActionRuleFilterSet",
    "CircuitAliasFilterSet",
    "CircuitImpactFilterSet",
    "NoticeTemplateFilterSet",
    "CircuitMaintenanceFilterSet",
    "CustomerNoticeFilterSet",
    "CustomerNoticeTemplateFilterSet",
    "MaintenanceFlagFilterSet",
    "MaintenanceNoteFilterSet",
    "NotificationSourceFilterSet",
    "ParsedNotificationFilterSet",
    "RawNotificationFilterSet",
    "TenantNoticeSettingsFilterSet",
)


class StrictValuesMixin:
    """Every filter of the app refuses a value it cannot use, with a message (REST: 400; UI: the error shown).

    Booleans (declared, generated from a model field, or `__isnull` lookups) refuse anything but
    true/false instead of reading `?ack=maybe` as "no filter"; every filter refuses NUL, which
    PostgreSQL cannot compare; regex lookups refuse a pattern PostgreSQL cannot compile.
    """

    @classmethod
    def get_filters(cls) -> dict[str, django_filters.Filter]:
        found = super().get_filters()
        for name, flt in found.items():
            field_class = strict_field_class(
                flt.field_class, flt.lookup_expr, isinstance(flt, django_filters.BooleanFilter)
            )
            # A copy: some of these instances are declared on Nautobot's shared filter-set mixins.
            found[name] = copy.deepcopy(flt)
            found[name].field_class = field_class
        return found


class CircuitMaintenanceFilterSet(StrictValuesMixin, NautobotFilterSet):
    """Filter Circuit Maintenances."""

    q = SearchFilter(
        filter_predicates={
            "name": "icontains",
            "maintenance_id": "icontains",
            "description": "icontains",
        },
    )
    provider = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Provider.objects.all(),
        to_field_name="name",
        label="Provider (name or ID)",
    )
    status = django_filters.MultipleChoiceFilter(choices=MaintenanceStatusChoices, null_value=None, distinct=False)
    circuit = NaturalKeyOrPKMultipleChoiceFilter(
        field_name="circuit_impacts__circuit",
        queryset=Circuit.objects.all(),
        to_field_name="cid",
        label="Circuit (circuit ID or ID)",
    )
    has_circuits = RelatedMembershipBooleanFilter(field_name="circuit_impacts", label="Has circuits")
    replaces = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=CircuitMaintenance.objects.all(),
        to_field_name="maintenance_id",
        label="Replaces (maintenance ID or ID)",
    )
    superseded = django_filters.BooleanFilter(
        method="filter_superseded", label="Superseded (a newer maintenance replaces it)"
    )
    has_unresolved_circuit_ids = django_filters.BooleanFilter(
        method="filter_has_unresolved_circuit_ids",
        label="Has unresolved circuit IDs",
    )
    ended_within_days = NumberFilter(
        method="filter_ended_within_days",
        label="Not ended, or ended within this many days",
        min_value=0,
        max_value=MAX_DAYS,
    )
    location = TreeNodeMultipleChoiceFilter(
        prefers_id=True,
        field_name="circuit_impacts__circuit__circuit_terminations__location",
        queryset=Location.objects.all(),
        to_field_name="name",
        label="Location of a circuit termination (name or ID; locations under it included)",
    )
    device = NaturalKeyOrPKMultipleChoiceFilter(
        prefers_id=True,
        queryset=Device.objects.all(),
        to_field_name="name",
        method="filter_device",
        label="Device cabled to an impacted circuit (name or ID)",
    )
    tenant = NaturalKeyOrPKMultipleChoiceFilter(
        field_name="circuit_impacts__circuit__tenant",
        queryset=Tenant.objects.all(),
        to_field_name="name",
        label="Tenant of an impacted circuit (name or ID)",
    )
    flag = django_filters.MultipleChoiceFilter(
        field_name="flags__kind",
        choices=FlagKindChoices,
        null_value=None,
        distinct=True,
        label="Flagged: isolation or lost redundancy",
    )
    live_state = django_filters.MultipleChoiceFilter(
        choices=LiveStateChoices,
        null_value=None,
        method="filter_live_state",
        label="Live state (from the windows and now)",
    )
    ongoing = django_filters.BooleanFilter(method="filter_ongoing", label="Ongoing now (in progress or overrunning)")
    upcoming_within_days = NumberFilter(
        method="filter_upcoming_within_days",
        label="Not finished, not ended, and starting within this many days (or started)",
        min_value=0,
        max_value=MAX_DAYS,
    )
    unacknowledged = django_filters.BooleanFilter(
        method="filter_unacknowledged",
        label="Unacknowledged and not over (not ended, cancelled or completed; or overrunning)",
    )

    class Meta:
        """Meta attributes."""

        model = CircuitMaintenance
        fields = [  # pylint: disable=nb-use-fields-all  # only these are filterable (no lookups on the JSON, cursor or error fields)
            "id",
            "maintenance_id",
            "name",
            "description",
            "ack",
            "start_time",
            "end_time",
            "tags",
        ]

    def filter_superseded(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Those a newer maintenance replaces (True) or none does (False)."""
        if value is None:
            return queryset
        condition = queryset.superseded_condition()
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_ended_within_days(self, queryset: QuerySet, name: str, value: float | None) -> QuerySet:
        """Those not ended yet or ended at most `value` days ago; all when no value is given."""
        if value is None:
            return queryset
        return queryset.ended_within(float(value))

    def filter_device(self, queryset: QuerySet, name: str, value: list[Device]) -> QuerySet:
        """Those whose circuits reach any of the devices (through their terminations' cable paths)."""
        return queryset.reaching_devices(value) if value else queryset

    def filter_live_state(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        """Those in any of the given live states."""
        return queryset.in_live_state(value) if value else queryset

    def filter_ongoing(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Those active now (true) or not (false); all when blank."""
        if value is None:
            return queryset
        ongoing = CircuitMaintenance.objects.ongoing()
        return queryset.filter(pk__in=ongoing) if value else queryset.exclude(pk__in=ongoing)

    def filter_upcoming_within_days(self, queryset: QuerySet, name: str, value: float | None) -> QuerySet:
        """Those unfinished, not ended and starting within `value` days; all when no value is given."""
        return queryset if value is None else queryset.upcoming(float(value))

    def filter_unacknowledged(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Those needing attention (true) or not (false), as `CircuitMaintenanceQuerySet.needs_attention` says."""
        if value is None:
            return queryset
        attention = CircuitMaintenance.objects.needs_attention()
        return queryset.filter(pk__in=attention) if value else queryset.exclude(pk__in=attention)

    def filter_has_unresolved_circuit_ids(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Maintenances whose notifications named circuit IDs unknown to Nautobot (or not)."""
        if value is None:
            return queryset
        if value:
            return queryset.exclude(unresolved_circuit_ids=[])
        return queryset.filter(unresolved_circuit_ids=[])


class CircuitImpactFilterSet(StrictValuesMixin, NautobotFilterSet):
    """Filter Circuit Impacts."""

    q = SearchFilter(
        filter_predicates={
            "maintenance__name": "icontains",
            "maintenance__maintenance_id": "icontains",
            "circuit__cid": "icontains",
        },
    )
    maintenance = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=CircuitMaintenance.objects.all(),
        to_field_name="maintenance_id",
        label="Maintenance (maintenance ID or ID)",
    )
    circuit = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Circuit.objects.all(),
        to_field_name="cid",
        label="Circuit (circuit ID or ID)",
    )
    impact = django_filters.MultipleChoiceFilter(choices=ImpactChoices, null_value=None, distinct=False)
    location = TreeNodeMultipleChoiceFilter(
        prefers_id=True,
        field_name="circuit__circuit_terminations__location",
        queryset=Location.objects.all(),
        to_field_name="name",
        label="Location of a circuit termination (name or ID; locations under it included)",
    )

    class Meta:
        """Meta attributes."""

        model = CircuitImpact
        fields = ["id"]  # pylint: disable=nb-use-fields-all  # only these are filterable (no lookups on the JSON, cursor or error fields)


class MaintenanceNoteFilterSet(StrictValuesMixin, NautobotFilterSet):
    """Filter maintenance notes."""

    q = SearchFilter(filter_predicates={"title": "icontains", "comment": "icontains"})
    maintenance = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=CircuitMaintenance.objects.all(),
        to_field_name="maintenance_id",
        label="Maintenance (maintenance ID or ID)",
    )
    level = django_filters.MultipleChoiceFilter(choices=NoteLevelChoices, null_value=None, distinct=False)

    class Meta:
        """Meta attributes."""

        model = MaintenanceNote
        fields = ["id", "title", "comment"]  # pylint: disable=nb-use-fields-all  # only these are filterable (no lookups on the JSON, cursor or error fields)


class NotificationSourceFilterSet(StrictValuesMixin, NautobotFilterSet):
    """Filter notification sources."""

    q = SearchFilter(filter_predicates={"name": "icontains", "source_type": "icontains"})
    providers = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Provider.objects.all(),
        to_field_name="name",
        label="Provider (name or ID)",
    )

    class Meta:
        """Meta attributes."""

        model = NotificationSource
        fields = ["id", "name", "source_type", "attach_all_providers", "last_run"]  # pylint: disable=nb-use-fields-all  # only these are filterable (no lookups on the JSON, cursor or error fields)


class RawNotificationFilterSet(StrictValuesMixin, BaseFilterSet):
    """Filter raw notifications (plain model: no custom fields, tags or relationships)."""

    q = SearchFilter(filter_predicates={"subject": "icontains", "sender": "icontains"})
    source = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=NotificationSource.objects.all(),
        to_field_name="name",
        label="Source (name or ID)",
    )
    provider = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Provider.objects.all(),
        to_field_name="name",
        label="Provider (name or ID)",
    )
    outcome = django_filters.MultipleChoiceFilter(choices=OutcomeChoices, null_value=None, distinct=False)
    date_after = MultiValueDateTimeFilter(field_name="date", lookup_expr="gte", label="Date after")
    date_before = MultiValueDateTimeFilter(field_name="date", lookup_expr="lte", label="Date before")
    parser_outdated = django_filters.BooleanFilter(
        method="filter_parser_outdated",
        label="Parsed with a parser version other than the installed one",
    )

    class Meta:
        """Meta attributes."""

        model = RawNotification
        fields = ["id", "message_key", "sender", "subject", "date", "raw_truncated", "location", "parser_version"]

    def filter_parser_outdated(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        """Last parsed by another circuit-maintenance-parser version (True) or by the installed one (False)."""
        if value is None:
            return queryset
        return queryset.parsed_with_other_version(value)


class ParsedNotificationFilterSet(StrictValuesMixin, BaseFilterSet):
    """Filter parsed notifications."""

    q = SearchFilter(filter_predicates={"provider_maintenance_id": "icontains"})
    raw_notification = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=RawNotification.objects.all(),
        to_field_name="message_key",
        label="Raw notification (message key or ID)",
    )
    maintenance = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=CircuitMaintenance.objects.all(),
        to_field_name="maintenance_id",
        label="Maintenance (maintenance ID or ID)",
    )
    provider = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Provider.objects.all(),
        to_field_name="name",
        label="Provider (name or ID)",
    )

    class Meta:
        """Meta attributes."""

        model = ParsedNotification
        fields = ["id", "provider_maintenance_id"]


class MaintenanceFlagFilterSet(StrictValuesMixin, BaseFilterSet):
    """Filter isolation / lost-redundancy flags (derived records: no custom fields, tags or relationships)."""

    kind = django_filters.MultipleChoiceFilter(choices=FlagKindChoices, null_value=None, distinct=False)
    location = TreeNodeMultipleChoiceFilter(
        prefers_id=True,
        queryset=Location.objects.all(),
        to_field_name="name",
        label="Location (name or ID; locations under it included)",
    )
    device = NaturalKeyOrPKMultipleChoiceFilter(
        prefers_id=True, queryset=Device.objects.all(), to_field_name="name", label="Device (name or ID)"
    )
    maintenance = NaturalKeyOrPKMultipleChoiceFilter(
        field_name="maintenances",
        queryset=CircuitMaintenance.objects.all(),
        to_field_name="maintenance_id",
        label="Maintenance (maintenance ID or ID)",
    )
    end_time__gte = MultiValueDateTimeFilter(field_name="end_time", lookup_expr="gte", label="Ends after")
    # Bounded (with its lookups, `total__gte`, ...): a value no flag can have is refused, never sent to the database.
    total = MultiValueNumberFilter(min_value=0, max_value=MAX_FLAG_TOTAL, label="Circuits (or interfaces) counted")
    active_at = django_filters.IsoDateTimeFilter(method="filter_active_at", label="Active at (ISO 8601 date-time)")

    class Meta:
        """Meta attributes."""

        model = MaintenanceFlag
        fields = ["id", "start_time", "end_time", "total"]

    def filter_active_at(self, queryset: QuerySet, name: str, value: datetime | None) -> QuerySet:
        """Those whose span (start to end, both included) holds the instant; all when no value is given."""
        if value is None:
            return queryset
        return queryset.filter(start_time__lte=value, end_time__gte=value)


class CircuitAliasFilterSet(StrictValuesMixin, BaseFilterSet):
    """Filter circuit aliases by search text (alias or circuit ID), provider, circuit, alias and normalized form."""

    q = SearchFilter(filter_predicates={"alias": "icontains", "circuit__cid": "icontains"})
    provider = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Provider.objects.all(), to_field_name="name", label="Provider (name or ID)"
    )
    circuit = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Circuit.objects.all(), to_field_name="cid", label="Circuit (circuit ID or ID)"
    )

    class Meta:
        """Meta attributes."""

        model = CircuitAlias
        fields = ["id", "alias", "normalized"]


class NoticeTemplateFilterSet(StrictValuesMixin, BaseFilterSet):
    """Filter notice templates by search text (provider name, description) and provider."""

    q = SearchFilter(filter_predicates={"provider__name": "icontains", "description": "icontains"})
    provider = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Provider.objects.all(), to_field_name="name", label="Provider (name or ID)"
    )

    class Meta:
        """Meta attributes."""

        model = NoticeTemplate
        fields = ["id", "description"]


class CustomerNoticeFilterSet(StrictValuesMixin, NautobotFilterSet):
    """Filter customer notices: by tenant, maintenance, state, kind and impact."""

    q = SearchFilter(filter_predicates={"subject": "icontains", "body": "icontains", "tenant__name": "icontains"})
    tenant = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Tenant.objects.all(), to_field_name="name", label="Tenant (name or ID)"
    )
    maintenance = NaturalKeyOrPKMultipleChoiceFilter(
        field_name="maintenances",
        queryset=CircuitMaintenance.objects.all(),
        to_field_name="maintenance_id",
        label="Maintenance (maintenance ID or ID)",
    )
    state = django_filters.MultipleChoiceFilter(choices=NoticeStateChoices, null_value=None)
    kind = django_filters.MultipleChoiceFilter(choices=NoticeKindChoices, null_value=None)
    impact = django_filters.MultipleChoiceFilter(choices=ImpactChoices, null_value=None)

    class Meta:
        """Meta attributes."""

        model = CustomerNotice
        fields = ["id", "subject", "start_time", "end_time", "sent_at"]  # pylint: disable=nb-use-fields-all  # not the rendered body, calendar or basis


class CustomerNoticeTemplateFilterSet(StrictValuesMixin, NautobotFilterSet):
    """Filter customer notice templates."""

    q = SearchFilter(filter_predicates={"name": "icontains", "subject": "icontains"})
    tenant = NaturalKeyOrPKMultipleChoiceFilter(queryset=Tenant.objects.all(), to_field_name="name")
    provider = NaturalKeyOrPKMultipleChoiceFilter(queryset=Provider.objects.all(), to_field_name="name")

    class Meta:
        """Meta attributes."""

        model = CustomerNoticeTemplate
        fields = ["id", "name", "subject"]  # pylint: disable=nb-use-fields-all  # not the template body


class TenantNoticeSettingsFilterSet(StrictValuesMixin, NautobotFilterSet):
    """Filter the tenants' notice settings."""

    q = SearchFilter(filter_predicates={"tenant__name": "icontains"})
    tenant = NaturalKeyOrPKMultipleChoiceFilter(queryset=Tenant.objects.all(), to_field_name="name")

    class Meta:
        """Meta attributes."""

        model = TenantNoticeSettings
        fields = ["id", "notify"]  # pylint: disable=nb-use-fields-all  # not the recipients list (JSON)


class ActionRuleFilterSet(StrictValuesMixin, NautobotFilterSet):
    """Filter action rules."""

    q = SearchFilter(filter_predicates={"name": "icontains", "body_template": "icontains"})
    kind = django_filters.MultipleChoiceFilter(choices=ActionKindChoices, null_value=None, distinct=False)
    occasion = django_filters.MultipleChoiceFilter(choices=ActionOccasionChoices, null_value=None, distinct=False)
    providers = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Provider.objects.all(), to_field_name="name", label="Provider (name or ID)"
    )
    locations = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Location.objects.all(), to_field_name="name", label="Location (name or ID)"
    )
    tenants = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Tenant.objects.all(), to_field_name="name", label="Tenant (name or ID)"
    )

    class Meta:
        """Meta attributes."""

        model = ActionRule
        fields = ["id", "name", "enabled", "acknowledged", "secrets_group", "job", "tags"]  # pylint: disable=nb-use-fields-all  # not the templates
