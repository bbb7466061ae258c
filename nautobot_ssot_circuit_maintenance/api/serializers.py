"""REST API serializers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from nautobot.apps.api import (
    BaseModelSerializer,
    NautobotHyperlinkedRelatedField,
    NautobotModelSerializer,
    TaggedModelSerializerMixin,
    ValidatedModelSerializer,
)
from nautobot.apps.utils import get_route_for_model, is_url, is_uuid
from nautobot_ssot.models import Sync
from rest_framework import serializers

from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices
from nautobot_ssot_circuit_maintenance.compat.changelog import change_context_user
from nautobot_ssot_circuit_maintenance.decisions.actions import held_values, hold_person_edits
from nautobot_ssot_circuit_maintenance.models import (
    ActionRule,
    CircuitAlias,
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
from nautobot_ssot_circuit_maintenance.models.maintenance import DUPLICATE_ALIAS
from nautobot_ssot_circuit_maintenance.models.reach import (
    brief,
    circuit_interfaces,
    circuit_locations,
    interface_data,
    maintenance_reach,
)
from nautobot_ssot_circuit_maintenance.notice_templates.spec import ITEMS, pattern_field
from nautobot_ssot_circuit_maintenance.validation import normalize_cid, validate_circuit_ids, validate_windows
from nautobot_ssot_circuit_maintenance.zones import zone_info

# The live state, a plain choice value like `status`.
LIVE_STATE_SCHEMA = {"type": "string", "enum": [value for value, _ in LiveStateChoices.CHOICES]}
_BRIEF = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "url": {"type": "string"}},
}
# `Reach.as_data()`: what a maintenance affects.
REACH_SCHEMA = {
    "type": "object",
    "properties": {
        "circuits": {"type": "array", "items": {"type": "object"}},
        "locations": {"type": "array", "items": _BRIEF},
        "interfaces": {"type": "array", "items": {"type": "object"}},
        "devices": {"type": "array", "items": _BRIEF},
        "tenants": {"type": "array", "items": _BRIEF},
    },
}


def _location(location: Any, side: str) -> dict[str, Any]:
    return {"side": side, **brief(location)}


def _maintenance(maintenance: CircuitMaintenance) -> dict[str, Any]:
    return {
        "id": str(maintenance.pk),
        "object_type": f"{maintenance._meta.app_label}.{maintenance._meta.model_name}",
        "url": maintenance.get_absolute_url(api=True),
        "maintenance_id": maintenance.maintenance_id,
        "name": maintenance.name,
        "status": maintenance.status,
    }


def _flag(flag: MaintenanceFlag) -> dict[str, Any]:
    scope = flag.scope
    return {
        "id": str(flag.pk),
        "url": flag.get_absolute_url(api=True),
        "kind": flag.kind,
        "label": flag.label,
        "location": str(flag.location_id) if flag.location_id else None,
        "device": str(flag.device_id) if flag.device_id else None,
        "scope": str(scope) if scope else None,
        "start_time": flag.start_time.isoformat(),
        "end_time": flag.end_time.isoformat(),
        "total": flag.total,
        "down": flag.down,
        "left": flag.left,
        "impaired": flag.impaired,
    }


class TopLevelOnlyFieldsMixin:
    """Read-only fields computed from prefetched rows are left out of nested representations (`?depth=N`).

    Nested rows are not prefetched that deep: computing them there would cost queries per row.
    """

    top_level_only: tuple[str, ...] = ()

    def get_fields(self) -> dict[str, Any]:
        """Drop the `top_level_only` fields when this serializer is nested."""
        fields = super().get_fields()
        if getattr(self.Meta, "is_nested", False):
            for name in self.top_level_only:
                fields.pop(name, None)
        return fields


class CircuitMaintenanceSerializer(TopLevelOnlyFieldsMixin, NautobotModelSerializer, TaggedModelSerializerMixin):
    """A maintenance; `windows` and `unresolved_circuit_ids` are JSON lists, checked by `validation.py`.

    `circuit_locations` (each impacted circuit's A/Z termination locations), `flags` (isolation and
    lost redundancy it takes part in), `reach` (what it affects: circuits, locations, interfaces, devices,
    tenants) and `live_state` are read-only, as are `acknowledged_by` and `acknowledged_at`.

    `live_state` answers a reader (a REST request) with the state now, from the windows and the clock, as the
    pages and the `live_state` filter do. Serialized for the change log (no request: Nautobot's ObjectChange,
    hence Webhooks, Job Hooks and change events) it is the state as recorded, so that the change's diff shows
    exactly the recorded transitions; at a transition the two are the same.
    """

    circuit_locations = serializers.SerializerMethodField(read_only=True)
    flags = serializers.SerializerMethodField(read_only=True)
    reach = serializers.SerializerMethodField(read_only=True)
    live_state = serializers.SerializerMethodField(read_only=True)
    provider_windows = serializers.SerializerMethodField(read_only=True)
    superseded_by = serializers.SerializerMethodField(read_only=True)
    top_level_only = ("circuit_locations", "flags", "reach")

    class Meta:
        """Meta attributes."""

        model = CircuitMaintenance
        fields = "__all__"
        # Set by the server when `ack` becomes true (the request's user, now), cleared with it.
        read_only_fields = ["acknowledged_by", "acknowledged_at"]
        # The model's validators run in the `validate_*` methods below, after a CSV import's [""] became [].
        extra_kwargs = {"windows": {"validators": []}, "unresolved_circuit_ids": {"validators": []}}

    def validate_windows(self, value: Any) -> Any:
        """Check the windows once a CSV import's blank items are dropped."""
        value = _drop_blank_items(value)
        validate_windows(value)
        return value

    def validate(self, data: Any) -> Any:
        """Remember the held fields' values before Nautobot's validation sets the new ones on the instance."""
        # Taken first: Nautobot's validation sets the new values on the instance to run the model's clean().
        if self.instance is not None and not isinstance(self.instance, (list, tuple)):
            self.held_before = held_values(self.instance)
            self.replaces_before = self.instance.replaces_id
        return super().validate(data)

    def create(self, validated_data: dict[str, Any]) -> CircuitMaintenance:
        """Saved; a `replaces` given is a person's link (notices never change it)."""
        if validated_data.get("replaces") is not None:
            validated_data["replaces_by_person"] = True
        return super().create(validated_data)

    def update(self, instance: CircuitMaintenance, validated_data: dict[str, Any]) -> CircuitMaintenance:
        """Saved; a person's change of the status or times (an override) or of `replaces` holds over later notices."""
        before = getattr(self, "held_before", None) or held_values(instance)
        if "replaces" in validated_data:
            replaces_before = getattr(self, "replaces_before", instance.replaces_id)
            if getattr(validated_data["replaces"], "pk", None) != replaces_before:
                validated_data["replaces_by_person"] = True
        instance = super().update(instance, validated_data)
        request = self.context.get("request")
        hold_person_edits(instance, before, getattr(request, "user", None))
        return instance

    def validate_unresolved_circuit_ids(self, value: Any) -> Any:
        """Check the unresolved circuit IDs once a CSV import's blank items are dropped."""
        value = _drop_blank_items(value)
        validate_circuit_ids(value)
        return value

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_superseded_by(self, obj: CircuitMaintenance) -> list[dict[str, str]]:
        """The provider's newer maintenances that replace this one (it is then over, like a cancelled one)."""
        request = self.context.get("request")
        return [
            {
                "id": str(newer.pk),
                "maintenance_id": newer.maintenance_id,
                "url": request.build_absolute_uri(newer.get_absolute_url(api=True))
                if request is not None
                else newer.get_absolute_url(api=True),
            }
            for newer in obj.superseded_by.all()
        ]

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_provider_windows(self, obj: CircuitMaintenance) -> list[dict[str, str]]:
        """Each window in the provider's zone (`provider_time_zone`), as ISO times with their offset and as text.

        Empty when no notice named the provider's zone.
        """
        zone = zone_info(obj.provider_time_zone)
        if zone is None:
            return []
        return [
            {"start": start.astimezone(zone).isoformat(), "end": end.astimezone(zone).isoformat(), "text": text}
            for (start, end), text in zip(obj.window_times, obj.provider_windows(), strict=True)
        ]

    def get_circuit_locations(self, obj: CircuitMaintenance) -> list[dict[str, Any]]:
        """The A/Z termination locations of each impacted circuit, with its circuit ID."""
        return [
            {"circuit": impact.circuit.cid, **_location(location, side)}
            for impact in obj.circuit_impacts.all()
            for side, location in circuit_locations(impact.circuit)
        ]

    def get_flags(self, obj: CircuitMaintenance) -> list[dict[str, Any]]:
        """The isolation and lost-redundancy flags the maintenance raises."""
        return [_flag(flag) for flag in obj.flags.all()]

    @extend_schema_field(REACH_SCHEMA)
    def get_reach(self, obj: CircuitMaintenance) -> dict[str, list[dict[str, Any]]]:
        """What the maintenance affects: circuits (with impact and tenant), locations, interfaces, devices, tenants."""
        return maintenance_reach(obj).as_data()

    @extend_schema_field(LIVE_STATE_SCHEMA)
    def get_live_state(self, obj: CircuitMaintenance) -> str:
        """The live state now (judged at one instant for every row of the answer); for the change log, as recorded."""
        if self.context.get("request") is None:
            return obj.live_state
        return obj.current_live_state(self.context.setdefault("live_state_now", timezone.now()))


class CircuitImpactSerializer(TopLevelOnlyFieldsMixin, NautobotModelSerializer):
    """How one maintenance affects one circuit; where the circuit ends, its interfaces and tenant (read-only)."""

    termination_locations = serializers.SerializerMethodField(read_only=True)
    interfaces = serializers.SerializerMethodField(read_only=True)
    tenant = serializers.SerializerMethodField(read_only=True)
    top_level_only = ("termination_locations", "interfaces", "tenant")

    class Meta:
        """Meta attributes."""

        model = CircuitImpact
        fields = "__all__"

    def get_termination_locations(self, obj: CircuitImpact) -> list[dict[str, Any]]:
        """The A/Z termination locations of the impacted circuit."""
        return [_location(location, side) for side, location in circuit_locations(obj.circuit)]

    def get_interfaces(self, obj: CircuitImpact) -> list[dict[str, Any]]:
        """The interfaces the impacted circuit's terminations reach, each with its device."""
        return [interface_data(interface) for interface in circuit_interfaces(obj.circuit)]

    def get_tenant(self, obj: CircuitImpact) -> dict[str, Any] | None:
        """The impacted circuit's tenant, or None when it has none."""
        tenant = obj.circuit.tenant
        if tenant is None:
            return None
        return brief(tenant)


class MaintenanceNoteSerializer(NautobotModelSerializer):
    """A remark on a maintenance."""

    class Meta:
        """Meta attributes."""

        model = MaintenanceNote
        fields = "__all__"


def sync_reference() -> NautobotHyperlinkedRelatedField:
    """A sync run named by reference (id, object type, URL) at every depth, never nested.

    A run's diff can be megabytes: nested, it would ride along in every source's and notification's answer at
    `?depth=1`, and in the source's change log entry each time a run moves its cursor.
    """
    return NautobotHyperlinkedRelatedField(view_name=get_route_for_model(Sync, "detail", api=True), read_only=True)


class NotificationSourceSerializer(NautobotModelSerializer):
    """A configured source. Everything but `providers` comes from the configuration and is read-only."""

    last_sync = sync_reference()

    class Meta:
        """Meta attributes."""

        model = NotificationSource
        fields = "__all__"
        read_only_fields = ["name", "source_type", "attach_all_providers", "cursor", "last_run", "last_error"]


class RawNotificationSerializer(BaseModelSerializer):
    """A fetched message (read-only).

    `raw` is its head (at most `raw_notification_size` bytes) as text (UTF-8, undecodable bytes replaced); the
    whole message is downloaded from its page (`eml/`).
    """

    raw = serializers.SerializerMethodField()
    sync = sync_reference()

    class Meta:
        """Meta attributes."""

        model = RawNotification
        exclude = ["message"]

    def get_raw(self, obj: RawNotification) -> str:
        """The stored head of the message as text."""
        return raw_as_text(obj.raw)


class ParsedNotificationSerializer(BaseModelSerializer):
    """One maintenance the parser read out of a raw notification (read-only)."""

    class Meta:
        """Meta attributes."""

        model = ParsedNotification
        fields = "__all__"


def _is_plain_text(value: Any) -> bool:
    """A related object written as text a person reads (a name, a circuit ID), not a pk, URL or nested object."""
    return isinstance(value, str) and bool(value) and not is_uuid(value) and not is_url(value)


def _alias_references(data: Mapping) -> dict[str, Any]:
    """An alias's `provider` given by name and its `circuit` by circuit ID (within that provider), as lookups.

    A CSV row reads `provider,alias,circuit` as `Zayo,DXLAG-7,/OGYX/123456/ /ZYO /`; pks, URLs and nested objects
    are left as they are.
    """
    data = dict(data)
    provider = data.get("provider")
    provider_lookup = None
    if _is_plain_text(provider):
        provider_lookup = data["provider"] = {"name": provider}
    elif isinstance(provider, str) and is_uuid(provider):
        provider_lookup = {"id": provider}
    elif isinstance(provider, Mapping) and "id" in provider:
        provider_lookup = {"id": provider["id"]}
    if _is_plain_text(data.get("circuit")) and provider_lookup is not None:
        data["circuit"] = {"cid": data["circuit"], "provider": provider_lookup}
    return data


class CircuitAliasListSerializer(serializers.ListSerializer):
    """Aliases created in bulk (a list body, a CSV import): each row checked alone, then no two rows the same alias.

    Errors come back as a list in the body's order, one entry per row (empty for a row without error); nothing is
    created unless every row is valid.
    """

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        """Every row validated, then a second alias of the same provider and ID refused at its row."""
        rows = super().to_internal_value(data)
        first_row: dict[tuple[Any, str], int] = {}
        errors: list[dict[str, list[str]]] = [{} for _ in rows]
        for number, row in enumerate(rows, start=1):
            key = (row["provider"].pk, normalize_cid(row["alias"]))
            if key in first_row:
                errors[number - 1] = {"alias": [f"Row {number} repeats row {first_row[key]}: {DUPLICATE_ALIAS}."]}
            else:
                first_row[key] = number
        if any(errors):
            raise serializers.ValidationError(errors)
        return rows


class CircuitAliasSerializer(ValidatedModelSerializer):
    """A provider's circuit ID mapped to a circuit; `normalized` (as the sync compares it) and `created_by` read-only.

    `provider` may be given by name and `circuit` by its circuit ID (of that provider), as a CSV import writes them.
    The model's `clean` refuses a circuit of another provider and a second alias of the same normalized ID (a 400).
    """

    class Meta:
        """Meta attributes."""

        model = CircuitAlias
        fields = "__all__"
        read_only_fields = ["normalized", "created_by"]
        list_serializer_class = CircuitAliasListSerializer

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Read a provider name and a circuit ID as the objects they name."""
        return super().to_internal_value(_alias_references(data) if isinstance(data, Mapping) else data)

    def create(self, validated_data: dict[str, Any]) -> CircuitAlias:
        """Saved, with the user of the request (or of the import job) as the one who mapped it."""
        user = getattr(self.context.get("request"), "user", None)
        if user is None or not user.is_authenticated:
            user = change_context_user()
        if user is not None and user.is_authenticated:
            validated_data["created_by"] = user
        return super().create(validated_data)


class MaintenanceFlagSerializer(BaseModelSerializer):
    """An isolation or lost redundancy (read-only, derived by the flag computation).

    `maintenances` lists the overlapping maintenances that cause it (those the user may view), `label` names it
    as the UI does ("Isolation", "Lost redundancy", "Cut off" for a device).
    """

    label = serializers.CharField(read_only=True)
    maintenances = serializers.SerializerMethodField(read_only=True)

    class Meta:
        """Meta attributes."""

        model = MaintenanceFlag
        fields = "__all__"

    def get_maintenances(self, obj: MaintenanceFlag) -> list[dict[str, Any]]:
        """The maintenances that overlap to raise the flag."""
        return [_maintenance(maintenance) for maintenance in obj.maintenances.all()]


def _drop_blank_items(value: Any) -> Any:
    """A CSV round trip turns an empty JSON list into `[""]`: read that back as `[]`."""
    if isinstance(value, list):
        return [item for item in value if item not in ("", None)]
    return value


def raw_as_text(raw: bytes | memoryview | None) -> str:
    """A stored message as text: UTF-8 with undecodable bytes replaced, never an error."""
    if raw is None:
        return ""
    return bytes(raw).decode("utf-8", errors="replace")


class NoticeTemplateSerializer(ValidatedModelSerializer):
    """A provider's notice template; `provider` may be given by name.

    A template that could read nothing is a 400 that names the field (`NoticeTemplate.clean`).
    """

    class Meta:
        """Meta attributes."""

        model = NoticeTemplate
        fields = "__all__"
        # A regular expression's spaces are part of it.
        extra_kwargs = {pattern_field(item): {"trim_whitespace": False} for item in ITEMS}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Read a provider name as the provider it names."""
        if isinstance(data, Mapping) and _is_plain_text(data.get("provider")):
            data = {**data, "provider": {"name": data["provider"]}}
        return super().to_internal_value(data)


#
# Customer notices
#


class CustomerNoticeRecipientSerializer(serializers.ModelSerializer):
    """One recipient of a notice and what became of it (read-only: the send writes it)."""

    class Meta:
        """Meta attributes."""

        model = CustomerNoticeRecipient
        fields = ["id", "address", "name", "via", "state", "answer", "attempts", "claimed_at", "sent_at", "message_id"]
        read_only_fields = fields


class CustomerNoticeSerializer(NautobotModelSerializer):
    """A customer notice with its recipients. Read-only: drafts are made by the app, sent after approval."""

    recipients = CustomerNoticeRecipientSerializer(many=True, read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        """Meta attributes."""

        model = CustomerNotice
        fields = "__all__"
        read_only_fields = [
            "tenant",
            "maintenances",
            "state",
            "kind",
            "impact",
            "start_time",
            "end_time",
            "subject",
            "body",
            "calendar",
            "basis",
            "fingerprint",
            "follows",
            "approved_by",
            "approved_at",
            "sent_at",
        ]


class CustomerNoticeTemplateSerializer(NautobotModelSerializer):
    """A customer notice template."""

    class Meta:
        """Meta attributes."""

        model = CustomerNoticeTemplate
        fields = "__all__"


class TenantNoticeSettingsSerializer(NautobotModelSerializer):
    """How one tenant is told about maintenances."""

    class Meta:
        """Meta attributes."""

        model = TenantNoticeSettings
        fields = "__all__"


class ActionRuleSerializer(NautobotModelSerializer):
    """An action rule. Its destination is a SecretsGroup reference: the apprise URL never leaves the secret."""

    class Meta:
        """Meta attributes."""

        model = ActionRule
        fields = "__all__"
