"""REST API serializers."""

from __future__ import annotations

from typing import Any

from nautobot.apps.api import BaseModelSerializer, NautobotModelSerializer, TaggedModelSerializerMixin
from rest_framework import serializers

from ..models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from ..validation import validate_circuit_ids, validate_windows


class CircuitMaintenanceSerializer(NautobotModelSerializer, TaggedModelSerializerMixin):
    """A maintenance; `windows` and `unresolved_circuit_ids` are JSON lists, checked by `validation.py`."""

    class Meta:
        model = CircuitMaintenance
        fields = "__all__"
        # Set by the server when `ack` becomes true (the request's user, now), cleared with it.
        read_only_fields = ["acknowledged_by", "acknowledged_at"]
        # The model's validators run in the `validate_*` methods below, after a CSV import's [""] became [].
        extra_kwargs = {"windows": {"validators": []}, "unresolved_circuit_ids": {"validators": []}}

    def validate_windows(self, value: Any) -> Any:
        value = _drop_blank_items(value)
        validate_windows(value)
        return value

    def validate_unresolved_circuit_ids(self, value: Any) -> Any:
        value = _drop_blank_items(value)
        validate_circuit_ids(value)
        return value


class CircuitImpactSerializer(NautobotModelSerializer):
    """How one maintenance affects one circuit."""

    class Meta:
        model = CircuitImpact
        fields = "__all__"


class MaintenanceNoteSerializer(NautobotModelSerializer):
    """A remark on a maintenance."""

    class Meta:
        model = MaintenanceNote
        fields = "__all__"


class NotificationSourceSerializer(NautobotModelSerializer):
    """A configured source. Everything but `providers` comes from the configuration and is read-only."""

    class Meta:
        model = NotificationSource
        fields = "__all__"
        read_only_fields = ["name", "source_type", "attach_all_providers", "cursor", "last_run", "last_error"]


class RawNotificationSerializer(BaseModelSerializer):
    """A fetched message (read-only). `raw` is the message as text (UTF-8, undecodable bytes replaced)."""

    raw = serializers.SerializerMethodField()

    class Meta:
        model = RawNotification
        fields = "__all__"

    def get_raw(self, obj: RawNotification) -> str:
        return raw_as_text(obj.raw)


class ParsedNotificationSerializer(BaseModelSerializer):
    """One maintenance the parser read out of a raw notification (read-only)."""

    class Meta:
        model = ParsedNotification
        fields = "__all__"


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
