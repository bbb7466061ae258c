"""UI views, built with Nautobot's UI component framework."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.views import View
from django_tables2 import Column
from nautobot.apps.tables import BaseTable
from nautobot.apps.ui import (
    BaseTextPanel,
    ButtonColorChoices,
    DataTablePanel,
    ObjectDetailContent,
    ObjectFieldsPanel,
    ObjectsTablePanel,
    ObjectTextPanel,
    PostButton,
    SectionChoices,
    TextPanel,
)
from nautobot.apps.views import (
    NautobotUIViewSet,
    ObjectChangeLogViewMixin,
    ObjectDataComplianceViewMixin,
    ObjectDetailViewMixin,
    ObjectEditViewMixin,
    ObjectListViewMixin,
    ObjectNotesViewMixin,
)
from nautobot.circuits.tables import ProviderTable
from nautobot.core.templatetags import helpers
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed

from . import filters, forms, oauth, tables
from .api import serializers
from .api.serializers import raw_as_text
from .config import source_settings
from .models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
    SourceOAuthToken,
)
from .sources import SourceError, SourceSettings, get_source
from .validation import PK_URL_PATTERN

UTC_FORMAT = "%Y-%m-%d %H:%M UTC"


def format_utc(value: datetime | str | None) -> str:
    """A datetime (or ISO string) as `YYYY-MM-DD HH:MM UTC`; "" when unknown."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime(UTC_FORMAT)


def maintenance_windows(maintenance: CircuitMaintenance) -> list[dict[str, str]]:
    """Every window of a maintenance as display rows; the overall span when no windows are recorded."""
    rows = []
    for start, end in maintenance.window_times:
        minutes = int((end - start).total_seconds() // 60)
        duration = f"{minutes // 60}h {minutes % 60:02d}m"
        rows.append({"start": format_utc(start), "end": format_utc(end), "duration": duration})
    return rows


def status_badge(maintenance: CircuitMaintenance) -> str:
    """The maintenance status as a coloured badge."""
    return format_html(
        '<span class="badge bg-{}">{}</span>', maintenance.get_status_class(), maintenance.get_status_display()
    )


class RoutedMethodsOnly:
    """A route answers only the methods it maps (e.g. Validate: POST); others get a 405.

    Nautobot's edit mixin gives the view set Django's `get`/`put` handlers, which DRF would
    otherwise call for any route whose action does not map the method.
    """

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        if request.method.lower() not in self.action_map and request.method != "OPTIONS":
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)


#
# Circuit Maintenance
#


class CircuitMaintenanceFieldsPanel(ObjectFieldsPanel):
    """Maintenance fields, with the status and the live state as badges and times in UTC."""

    def get_data(self, context: Any) -> dict[str, Any]:
        data = super().get_data(context)
        if context.get("object") is not None:
            # Right after the provider's status.
            items = list(data.items())
            at = next((i + 1 for i, (key, _) in enumerate(items) if key == "status"), len(items))
            data = dict([*items[:at], ("live_state", None), *items[at:]])
        return data

    def render_key(self, key: str, value: Any, context: Any) -> str:
        if key == "live_state":
            return "Live state"
        return super().render_key(key, value, context)

    def render_value(self, key: str, value: Any, context: Any) -> str:
        obj = context["object"]
        if key == "live_state":
            return tables.live_state_badge(obj)
        if key == "status":
            return status_badge(obj)
        if key in ("start_time", "end_time"):
            return format_utc(value)
        if key == "unresolved_circuit_ids":
            return ", ".join(str(cid) for cid in value) if value else helpers.HTML_NONE
        return super().render_value(key, value, context)


class CircuitMaintenanceUIViewSet(RoutedMethodsOnly, NautobotUIViewSet):
    """Maintenances: list, detail, edit (manual corrections and acknowledgement), bulk edit, delete."""

    lookup_value_regex = PK_URL_PATTERN

    action_buttons = ("export",)
    bulk_update_form_class = forms.CircuitMaintenanceBulkEditForm
    filterset_class = filters.CircuitMaintenanceFilterSet
    filterset_form_class = forms.CircuitMaintenanceFilterForm
    form_class = forms.CircuitMaintenanceForm
    queryset = CircuitMaintenance.objects.select_related("provider")
    serializer_class = serializers.CircuitMaintenanceSerializer
    table_class = tables.CircuitMaintenanceTable

    object_detail_content = ObjectDetailContent(
        panels=(
            CircuitMaintenanceFieldsPanel(
                section=SectionChoices.LEFT_HALF,
                weight=100,
                fields=[
                    "name",
                    "provider",
                    "maintenance_id",
                    "status",
                    "start_time",
                    "end_time",
                    "ack",
                    "unresolved_circuit_ids",
                    "description",
                ],
                key_transforms={"start_time": "Start (UTC)", "end_time": "End (UTC)"},
            ),
            DataTablePanel(
                label="Windows",
                section=SectionChoices.RIGHT_HALF,
                weight=100,
                context_data_key="maintenance_windows",
                columns=["start", "end", "duration"],
                column_headers=["Start (UTC)", "End (UTC)", "Duration"],
            ),
            ObjectsTablePanel(
                section=SectionChoices.FULL_WIDTH,
                weight=100,
                table_class=tables.CircuitImpactTable,
                table_filter="maintenance",
                table_title="Circuits",
                select_related_fields=["circuit", "circuit__provider", "maintenance"],
                exclude_columns=["maintenance", "start_time", "end_time"],
                include_columns=["provider"],
            ),
            ObjectsTablePanel(
                section=SectionChoices.FULL_WIDTH,
                weight=200,
                table_class=tables.MaintenanceNoteTable,
                table_filter="maintenance",
                table_title="Maintenance notes",
                exclude_columns=["maintenance"],
            ),
            ObjectsTablePanel(
                section=SectionChoices.FULL_WIDTH,
                weight=300,
                table_class=tables.MaintenanceNotificationTable,
                table_filter="maintenance",
                table_title="Notifications",
                select_related_fields=["raw_notification"],
                order_by_fields=["raw_notification__date", "created"],
                add_button_route=None,
                enable_related_link=False,
                show_table_config_button=False,
            ),
        ),
    )

    def get_extra_context(self, request: Any, instance: Any = None) -> dict[str, Any]:
        context = super().get_extra_context(request, instance)
        if self.action == "retrieve" and instance is not None:
            context["maintenance_windows"] = maintenance_windows(instance)
        return context


#
# Circuit Impact
#


class CircuitImpactUIViewSet(RoutedMethodsOnly, NautobotUIViewSet):
    """Circuit impacts: normally written by the sync; editable for manual corrections."""

    lookup_value_regex = PK_URL_PATTERN

    action_buttons = ("add", "export")
    bulk_update_form_class = forms.CircuitImpactBulkEditForm
    filterset_class = filters.CircuitImpactFilterSet
    filterset_form_class = forms.CircuitImpactFilterForm
    form_class = forms.CircuitImpactForm
    queryset = CircuitImpact.objects.select_related("maintenance", "circuit", "circuit__provider")
    serializer_class = serializers.CircuitImpactSerializer
    table_class = tables.CircuitImpactTable

    object_detail_content = ObjectDetailContent(
        panels=(
            ObjectFieldsPanel(
                section=SectionChoices.LEFT_HALF,
                weight=100,
                fields=["maintenance", "circuit", "impact"],
            ),
        ),
    )


#
# MaintenanceNote
#


class MaintenanceNoteUIViewSet(RoutedMethodsOnly, NautobotUIViewSet):
    """Maintenance notes."""

    lookup_value_regex = PK_URL_PATTERN

    action_buttons = ("add", "export")
    bulk_update_form_class = forms.MaintenanceNoteBulkEditForm
    filterset_class = filters.MaintenanceNoteFilterSet
    filterset_form_class = forms.MaintenanceNoteFilterForm
    form_class = forms.MaintenanceNoteForm
    queryset = MaintenanceNote.objects.select_related("maintenance")
    serializer_class = serializers.MaintenanceNoteSerializer
    table_class = tables.MaintenanceNoteTable

    object_detail_content = ObjectDetailContent(
        panels=(
            ObjectFieldsPanel(
                section=SectionChoices.LEFT_HALF,
                weight=100,
                fields=["title", "maintenance", "level"],
            ),
            ObjectTextPanel(
                label="Comment",
                section=SectionChoices.LEFT_HALF,
                weight=200,
                object_field="comment",
                render_as=BaseTextPanel.RenderOptions.PLAINTEXT,
            ),
        ),
    )


#
# Notification Source
#


class NotificationSourceFieldsPanel(ObjectFieldsPanel):
    """Source fields plus the number of raw notifications it delivered. Never anything from the configuration."""

    def get_data(self, context: Any) -> dict[str, Any]:
        data = super().get_data(context)
        obj = context["object"]
        if obj is not None:
            data["raw_notifications"] = obj.raw_notifications.count()
        return data

    def render_key(self, key: str, value: Any, context: Any) -> str:
        if key == "raw_notifications":
            return "Raw notifications"
        return super().render_key(key, value, context)

    def render_value(self, key: str, value: Any, context: Any) -> str:
        if key == "raw_notifications":
            url = reverse("plugins:nautobot_ssot_circuit_maintenance:rawnotification_list")
            return format_html('<a href="{}?source={}">{}</a>', url, context["object"].pk, value)
        if key == "last_error":
            return format_html("<pre>{}</pre>", value) if value else helpers.HTML_NONE
        return super().render_value(key, value, context)


def configured_settings(source: NotificationSource) -> SourceSettings | None:
    return {entry.name: entry for entry in source_settings()}.get(source.name)


def check_source(source: NotificationSource, settings: SourceSettings | None = None) -> tuple[bool, str]:
    """(reachable, what to tell the operator) for one source; the message never contains a secret."""
    settings = settings or configured_settings(source)
    if settings is None:
        return False, f"{source.name}: not in PLUGINS_CONFIG any more."
    try:
        with get_source(oauth.with_stored_token(settings, source)) as mailbox:
            return True, f"{source.name}: connected. {mailbox.test_connection()}"
    except SourceError as error:
        return False, str(error)


def oauth_redirect_uri(request: Any) -> str:
    return request.build_absolute_uri(reverse("plugins:nautobot_ssot_circuit_maintenance:google_oauth2callback"))


class GoogleOAuthCallbackView(LoginRequiredMixin, View):
    """Where Google's consent page sends the user back: exchange the code for a refresh token and keep it."""

    def get(self, request: Any) -> Any:
        try:
            source_pk = oauth.read_state(request.GET.get("state", ""), request.user.pk)
        except SourceError as error:
            messages.error(request, f"Google consent: {error}")
            return redirect("plugins:nautobot_ssot_circuit_maintenance:notificationsource_list")
        source = get_object_or_404(NotificationSource.objects.restrict(request.user, "change"), pk=source_pk)
        settings = configured_settings(source)
        client = oauth.oauth_client(settings) if settings else None
        if request.GET.get("error") or client is None:
            reason = request.GET.get("error") or "the source has no OAuth client in its configuration"
            messages.error(request, f"{source.name}: Google consent not given ({reason[:100]}).")
            return redirect(source.get_absolute_url())
        try:
            refresh_token = oauth.exchange_code(
                settings, client, request.GET.get("code", ""), oauth_redirect_uri(request)
            )
        except SourceError as error:
            messages.error(request, str(error))
            return redirect(source.get_absolute_url())
        SourceOAuthToken.objects.update_or_create(
            source=source,
            defaults={
                "refresh_token": refresh_token,
                "scopes": oauth.scopes(settings),
                "granted_by": request.user.get_username(),
            },
        )
        ok, text = check_source(source, settings)
        (messages.success if ok else messages.error)(request, f"Google consent saved. {text}")
        return redirect(source.get_absolute_url())


class NotificationSourceUIViewSet(
    RoutedMethodsOnly,
    ObjectDetailViewMixin,
    ObjectListViewMixin,
    ObjectEditViewMixin,
    ObjectChangeLogViewMixin,
    ObjectNotesViewMixin,
    ObjectDataComplianceViewMixin,
):
    """Sources come from PLUGINS_CONFIG: list, detail and edit of their providers; no create or delete."""

    lookup_value_regex = PK_URL_PATTERN

    action_buttons = ()
    filterset_class = filters.NotificationSourceFilterSet
    filterset_form_class = forms.NotificationSourceFilterForm
    form_class = forms.NotificationSourceForm
    queryset = NotificationSource.objects.all()
    serializer_class = serializers.NotificationSourceSerializer
    table_class = tables.NotificationSourceTable

    object_detail_content = ObjectDetailContent(
        extra_buttons=(
            # A POST (CSRF-protected) needing the change permission: a link or an <img> must not make a
            # logged-in user's browser log in to a mailbox.
            PostButton(
                weight=100,
                label="Validate",
                icon="mdi-connection",
                color=ButtonColorChoices.BLUE,
                link_name="plugins:nautobot_ssot_circuit_maintenance:notificationsource_validate",
                required_permissions=["nautobot_ssot_circuit_maintenance.change_notificationsource"],
            ),
        ),
        panels=(
            NotificationSourceFieldsPanel(
                section=SectionChoices.LEFT_HALF,
                weight=100,
                fields=["name", "source_type", "attach_all_providers", "last_run", "last_error", "cursor"],
                key_transforms={"source_type": "Type"},
            ),
            ObjectsTablePanel(
                section=SectionChoices.RIGHT_HALF,
                weight=100,
                table_class=ProviderTable,
                table_filter="notification_sources",
                table_title="Providers",
                include_columns=["name"],
                exclude_columns=["asn", "account", "circuit_count"],
                add_button_route=None,
                enable_related_link=False,
                show_table_config_button=False,
            ),
        ),
    )

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Sources are defined in the app's configuration, not in the UI."""
        raise PermissionDenied("Notification sources are defined in PLUGINS_CONFIG.")

    @action(detail=True, methods=["post"], url_path="validate", custom_view_base_action="change")
    def validate(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Open the mailbox with the configured credentials, read nothing, and say how it went.

        A POST needing the change permission on this source (the queryset is restricted to it).
        """
        source = self.get_object()
        settings = configured_settings(source)
        client = oauth.oauth_client(settings) if settings else None
        granted = SourceOAuthToken.objects.filter(source=source).exists()
        if client is not None and (not granted or request.POST.get("consent") or request.GET.get("consent")):
            return redirect(
                oauth.consent_url(settings, client, source.pk, request.user.pk, oauth_redirect_uri(request))
            )
        ok, text = check_source(source, settings)
        (messages.success if ok else messages.error)(request, text)
        return redirect(source.get_absolute_url())


#
# Raw Notification (read-only)
#


class ParsedNotificationJSONTable(BaseTable):
    """What the parser read out of one message: the maintenance it fed and the parser's JSON."""

    maintenance = Column(linkify=True)
    provider_maintenance_id = Column(verbose_name="Maintenance ID")
    json = Column(verbose_name="Parsed data", orderable=False)

    class Meta(BaseTable.Meta):
        model = ParsedNotification
        fields = ("maintenance", "provider_maintenance_id", "json")
        default_columns = ("maintenance", "provider_maintenance_id", "json")

    def render_json(self, value: Any) -> str:
        return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


class RawNotificationUIViewSet(RoutedMethodsOnly, ObjectDetailViewMixin, ObjectListViewMixin):
    """Fetched messages: immutable facts, list and detail only.

    The message is shown as escaped plain text, never rendered as HTML.
    """

    lookup_value_regex = PK_URL_PATTERN

    action_buttons = ()
    filterset_class = filters.RawNotificationFilterSet
    filterset_form_class = forms.RawNotificationFilterForm
    queryset = RawNotification.objects.select_related("source", "provider")
    serializer_class = serializers.RawNotificationSerializer
    table_class = tables.RawNotificationTable

    object_detail_content = ObjectDetailContent(
        panels=(
            ObjectFieldsPanel(
                section=SectionChoices.LEFT_HALF,
                weight=100,
                fields=[
                    "subject",
                    "sender",
                    "date",
                    "source",
                    "provider",
                    "outcome",
                    "error",
                    "raw_size",
                    "raw_truncated",
                    "location",
                    "message_key",
                ],
                key_transforms={"raw_size": "Size (bytes)", "raw_truncated": "Truncated"},
            ),
            ObjectsTablePanel(
                section=SectionChoices.RIGHT_HALF,
                weight=100,
                table_class=ParsedNotificationJSONTable,
                table_filter="raw_notification",
                table_title="Parsed notifications",
                select_related_fields=["maintenance"],
                add_button_route=None,
                enable_related_link=False,
                show_table_config_button=False,
            ),
            TextPanel(
                label="Message",
                section=SectionChoices.FULL_WIDTH,
                weight=200,
                context_field="raw_text",
                render_as=BaseTextPanel.RenderOptions.CODE,
            ),
        ),
    )

    def get_extra_context(self, request: Any, instance: Any = None) -> dict[str, Any]:
        context = super().get_extra_context(request, instance)
        if self.action == "retrieve" and instance is not None:
            # Plain text, escaped by the template's autoescaping: the mail's HTML is never rendered.
            context["raw_text"] = raw_as_text(instance.raw)
        return context
