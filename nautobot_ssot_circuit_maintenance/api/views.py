"""REST API views."""

from __future__ import annotations

from typing import Any

from nautobot.apps.api import NautobotModelViewSet, ReadOnlyModelViewSet
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.request import Request
from rest_framework.response import Response

from .. import filters
from ..models import (
    CircuitImpact,
    CircuitMaintenance,
    Note,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from . import serializers


class CircuitMaintenanceViewSet(NautobotModelViewSet):
    queryset = CircuitMaintenance.objects.select_related("provider")
    serializer_class = serializers.CircuitMaintenanceSerializer
    filterset_class = filters.CircuitMaintenanceFilterSet


class CircuitImpactViewSet(NautobotModelViewSet):
    queryset = CircuitImpact.objects.select_related("maintenance", "circuit")
    serializer_class = serializers.CircuitImpactSerializer
    filterset_class = filters.CircuitImpactFilterSet


class NoteViewSet(NautobotModelViewSet):
    queryset = Note.objects.select_related("maintenance")
    serializer_class = serializers.NoteSerializer
    filterset_class = filters.NoteFilterSet


class NotificationSourceViewSet(NautobotModelViewSet):
    """Sources come from the configuration: read them, or change their providers; no create or delete."""

    queryset = NotificationSource.objects.all()
    serializer_class = serializers.NotificationSourceSerializer
    filterset_class = filters.NotificationSourceFilterSet

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise MethodNotAllowed(request.method, detail="Notification sources are defined in PLUGINS_CONFIG.")

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise MethodNotAllowed(request.method, detail="Notification sources are defined in PLUGINS_CONFIG.")

    def bulk_destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise MethodNotAllowed(request.method, detail="Notification sources are defined in PLUGINS_CONFIG.")


class RawNotificationViewSet(ReadOnlyModelViewSet):
    """Fetched messages: immutable facts, read-only."""

    queryset = RawNotification.objects.select_related("source", "provider")
    serializer_class = serializers.RawNotificationSerializer
    filterset_class = filters.RawNotificationFilterSet


class ParsedNotificationViewSet(ReadOnlyModelViewSet):
    """What the parser read out of each message: immutable facts, read-only."""

    queryset = ParsedNotification.objects.select_related("raw_notification", "maintenance", "provider")
    serializer_class = serializers.ParsedNotificationSerializer
    filterset_class = filters.ParsedNotificationFilterSet
