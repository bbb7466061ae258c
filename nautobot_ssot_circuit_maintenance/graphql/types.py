"""GraphQL types with fields Nautobot cannot generate: the live state, who acted (users have no GraphQL type).

Nautobot adds these types to its schema (`graphql_types` of the app config), extends them like its own (tags,
relationships, permission-filtered relations) and restricts every list to what the user may view. A model here
must not also carry `@extras_features("graphql")`, or Nautobot keeps its generated type instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import graphene
import graphene_django_optimizer as gql_optimizer
from django.utils import timezone
from graphene_django import DjangoObjectType
from nautobot.apps.graphql import OptimizedNautobotObjectType

from nautobot_ssot_circuit_maintenance.api.serializers import raw_as_text
from nautobot_ssot_circuit_maintenance.filters import (
    CircuitMaintenanceFilterSet,
    CustomerNoticeFilterSet,
    ParsedNotificationFilterSet,
    RawNotificationFilterSet,
)
from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    CustomerNotice,
    CustomerNoticeRecipient,
    ParsedNotification,
    RawNotification,
)

# What `CircuitMaintenance.current_live_state` reads: loaded even when the query asks for no other field.
LIVE_STATE_FIELDS = ("status", "start_time", "end_time", "windows")


def _request_now(info: Any) -> datetime:
    """One instant per GraphQL request, so that every maintenance of an answer is judged at the same time."""
    now = getattr(info.context, "_circuit_maintenance_now", None)
    if now is None:
        now = timezone.now()
        info.context._circuit_maintenance_now = now
    return now


def username_field(field_name: str, description: str) -> tuple[graphene.String, Any]:
    """A user foreign key shown as the username (Nautobot has no GraphQL type for users), and its resolver."""

    @gql_optimizer.resolver_hints(select_related=(field_name,), only=(f"{field_name}__username",))
    def resolve(instance: Any, info: Any) -> str | None:
        user = getattr(instance, field_name)
        return user.username if user is not None else None

    return graphene.String(description=description), resolve


class CircuitMaintenanceType(OptimizedNautobotObjectType):
    """A maintenance, with its live state now and who acknowledged it."""

    live_state = graphene.String(
        description="Where the maintenance stands now, from its windows and the clock: upcoming, starting-soon, "
        "in-progress, overrunning, ended or cancelled."
    )
    acknowledged_by, resolve_acknowledged_by = username_field(
        "acknowledged_by", "The username of the person who acknowledged it, if acknowledged."
    )

    class Meta:
        """Meta attributes."""

        model = CircuitMaintenance
        fields = "__all__"
        filterset_class = CircuitMaintenanceFilterSet

    @staticmethod
    @gql_optimizer.resolver_hints(only=LIVE_STATE_FIELDS, prefetch_related=("superseded_by",))
    def resolve_live_state(maintenance: CircuitMaintenance, info: Any) -> str:
        """The live state at the request's instant."""
        return maintenance.current_live_state(_request_now(info))


class RawNotificationType(OptimizedNautobotObjectType):
    """A fetched message: `raw` is its stored head as text, as in the REST API; the whole message is left out."""

    raw = graphene.String(description="The stored head of the message, as text (UTF-8, undecodable bytes replaced).")
    dismissed_by, resolve_dismissed_by = username_field("dismissed_by", "Who took it out of the triage queue.")
    excluded_by, resolve_excluded_by = username_field("excluded_by", "Who left it out of every fold.")
    confirmed_by, resolve_confirmed_by = username_field("confirmed_by", "Who confirmed it.")

    class Meta:
        """Meta attributes."""

        model = RawNotification
        # `message` holds the whole message, packed: bytes GraphQL cannot carry, and as large as the mail.
        exclude = ["message"]
        filterset_class = RawNotificationFilterSet

    @staticmethod
    @gql_optimizer.resolver_hints(only=("raw",))
    def resolve_raw(raw: RawNotification, info: Any) -> str:
        """The stored head of the message as text."""
        return raw_as_text(raw.raw)


class ParsedNotificationType(OptimizedNautobotObjectType):
    """What the parser read out of one message: the maintenance as the parser's JSON."""

    class Meta:
        """Meta attributes."""

        model = ParsedNotification
        fields = "__all__"
        filterset_class = ParsedNotificationFilterSet


class CustomerNoticeRecipientType(DjangoObjectType):
    """One recipient of a customer notice and what became of it (the server's answer when refused).

    Reached only through its notice (whose permissions apply), so a plain type, not a Nautobot object type.
    """

    class Meta:
        """Meta attributes."""

        model = CustomerNoticeRecipient
        fields = ["id", "address", "name", "via", "state", "answer", "attempts", "sent_at", "message_id"]


class CustomerNoticeType(OptimizedNautobotObjectType):
    """A customer notice, with who approved it and its recipients."""

    approved_by, resolve_approved_by = username_field("approved_by", "The username of whoever approved it.")
    recipients = graphene.List(CustomerNoticeRecipientType, description="Each recipient and what became of it.")

    class Meta:
        """Meta attributes."""

        model = CustomerNotice
        exclude = ["basis", "fingerprint"]
        filterset_class = CustomerNoticeFilterSet

    @staticmethod
    @gql_optimizer.resolver_hints(prefetch_related=("recipients",))
    def resolve_recipients(notice: CustomerNotice, info: Any) -> list[CustomerNoticeRecipient]:
        """The notice's recipients by address."""
        return sorted(notice.recipients.all(), key=lambda recipient: recipient.address)


graphql_types = [
    CircuitMaintenanceType,
    RawNotificationType,
    ParsedNotificationType,
    CustomerNoticeType,
]
