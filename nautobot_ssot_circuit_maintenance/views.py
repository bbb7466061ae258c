"""UI views, built with Nautobot's UI component framework."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone as dj_timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views import View
from nautobot.apps.ui import (
    BaseTextPanel,
    Button,
    ButtonColorChoices,
    DataTablePanel,
    ObjectDetailContent,
    ObjectFieldsPanel,
    ObjectsTablePanel,
    ObjectTextPanel,
    Panel,
    SectionChoices,
)
from nautobot.apps.views import (
    NautobotUIViewSet,
    ObjectChangeLogViewMixin,
    ObjectDataComplianceViewMixin,
    ObjectDetailViewMixin,
    ObjectEditViewMixin,
    ObjectListViewMixin,
    ObjectNotesViewMixin,
    ObjectPermissionRequiredMixin,
)
from nautobot.circuits.tables import ProviderTable
from nautobot.core.templatetags import helpers
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed

from . import filters, forms, oauth, push, tables
from .api import serializers
from .choices import MessageKeptChoices
from .config import push_enabled
from .mail import html_document
from .models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    RawNotification,
)
from .reach import termination_prefetch
from .template_content import MAINTENANCE_ROW_PREFETCH
from .timeline import timeline_rows
from .validation import PK_URL_PATTERN, is_uuid

UTC_FORMAT = "%Y-%m-%d %H:%M UTC"
# A Button that submits a POST: ours, as Nautobot 3.0 has no PostButton.
POST_BUTTON_TEMPLATE = "nautobot_ssot_circuit_maintenance/inc/post_button.html"


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


def acknowledgement_text(maintenance: CircuitMaintenance) -> str:
    """ "Acknowledged by alice, 2026-11-27 08:30 UTC", "Needs attention" or "Not acknowledged"."""
    if maintenance.ack:
        who = maintenance.acknowledged_by.username if maintenance.acknowledged_by else "someone"
        when = format_utc(maintenance.acknowledged_at)
        return format_html(
            '<span class="mdi mdi-check-bold text-success" aria-hidden="true"></span> Acknowledged by {}{}',
            who,
            f", {when}" if when else "",
        )
    if maintenance.needs_attention():
        return format_html('<span class="badge bg-warning text-dark">Needs attention</span>')
    return "Not acknowledged"


class AcknowledgeButton(Button):
    """One click (a POST): acknowledged by you, now. Shown while the maintenance is not acknowledged."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(template_path=POST_BUTTON_TEMPLATE, **kwargs)

    def should_render(self, context: Any) -> bool:
        obj = context.get("object")
        return obj is not None and not obj.ack and super().should_render(context)


def _return_url(request: Any, default: str) -> str:
    url = request.POST.get("return_url") or ""
    return url if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}) else default


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
            return format_html('<span class="text-nowrap">{}</span>', format_utc(value))
        if key in ("maintenance_id", "name"):
            return format_html('<span class="text-break">{}</span>', value)
        if key == "unresolved_circuit_ids":
            return ", ".join(str(cid) for cid in value) if value else helpers.HTML_NONE
        if key == "ack":
            return acknowledgement_text(obj)
        return super().render_value(key, value, context)


class CircuitMaintenanceUIViewSet(RoutedMethodsOnly, NautobotUIViewSet):
    """Maintenances: list, detail, edit (manual corrections and acknowledgement), bulk edit, delete."""

    lookup_value_regex = PK_URL_PATTERN

    action_buttons = ("export",)
    bulk_update_form_class = forms.CircuitMaintenanceBulkEditForm
    filterset_class = filters.CircuitMaintenanceFilterSet
    filterset_form_class = forms.CircuitMaintenanceFilterForm
    form_class = forms.CircuitMaintenanceForm
    queryset = CircuitMaintenance.objects.select_related("provider", "acknowledged_by").prefetch_related(
        *MAINTENANCE_ROW_PREFETCH
    )
    serializer_class = serializers.CircuitMaintenanceSerializer
    table_class = tables.CircuitMaintenanceTable

    object_detail_content = ObjectDetailContent(
        extra_buttons=(
            AcknowledgeButton(
                weight=100,
                label="Acknowledge",
                icon="mdi-check-bold",
                color=ButtonColorChoices.GREEN,
                link_name="plugins:nautobot_ssot_circuit_maintenance:circuitmaintenance_acknowledge",
                required_permissions=["nautobot_ssot_circuit_maintenance.change_circuitmaintenance"],
            ),
        ),
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
                key_transforms={"start_time": "Start (UTC)", "end_time": "End (UTC)", "ack": "Acknowledged"},
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
                table_title="Circuits, where they end and what hangs on them",
                select_related_fields=["circuit", "circuit__provider", "circuit__tenant", "maintenance"],
                prefetch_related_fields=[termination_prefetch()],
                exclude_columns=["maintenance", "start_time", "end_time"],
                include_columns=["provider", "locations", "interfaces", "tenant"],
            ),
            ObjectsTablePanel(
                section=SectionChoices.FULL_WIDTH,
                weight=150,
                table_class=tables.MaintenanceFlagTable,
                table_filter="maintenances",
                table_title="Isolation and lost redundancy",
                select_related_fields=["location", "device"],
                prefetch_related_fields=["maintenances"],
                add_button_route=None,
                enable_related_link=False,
                show_table_config_button=False,
            ),
            ObjectsTablePanel(
                section=SectionChoices.FULL_WIDTH,
                weight=200,
                table_class=tables.MaintenanceNoteTable,
                table_filter="maintenance",
                table_title="Maintenance notes",
                exclude_columns=["maintenance"],
            ),
            Panel(
                label="Timeline",
                section=SectionChoices.FULL_WIDTH,
                weight=300,
                body_content_template_path="nautobot_ssot_circuit_maintenance/inc/maintenance_timeline.html",
                body_wrapper_template_path="components/panel/body_wrapper_table.html",
            ),
        ),
    )

    def get_extra_context(self, request: Any, instance: Any = None) -> dict[str, Any]:
        context = super().get_extra_context(request, instance)
        if self.action == "retrieve" and instance is not None:
            context["maintenance_windows"] = maintenance_windows(instance)
            context["timeline_rows"] = timeline_rows(instance)
        return context

    @action(
        detail=True, methods=["post"], url_path="acknowledge", url_name="acknowledge", custom_view_base_action="change"
    )
    def acknowledge(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """One click: acknowledged by the user, now (a POST needing the change permission)."""
        maintenance = self.get_object()
        maintenance.acknowledge(request.user)
        maintenance.save()
        messages.success(request, f"Acknowledged {maintenance}.")
        return redirect(_return_url(request, maintenance.get_absolute_url()))

    @action(
        detail=False,
        methods=["post"],
        url_path="acknowledge",
        url_name="acknowledge_selected",
        custom_view_base_action="change",
    )
    def acknowledge_selected(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """The list's "Acknowledge selected": each selected maintenance the user may change, by them, now."""
        pks = request.POST.getlist("pk")
        if not all(is_uuid(pk) for pk in pks):
            return HttpResponseBadRequest("pk: every value must be a maintenance's UUID.")
        list_url = reverse("plugins:nautobot_ssot_circuit_maintenance:circuitmaintenance_list")
        if not pks:
            messages.warning(request, "No maintenance selected.")
            return redirect(_return_url(request, list_url))
        now = dj_timezone.now()
        done = 0
        for maintenance in self.get_queryset().filter(pk__in=pks, ack=False):
            maintenance.acknowledge(request.user, now)
            maintenance.save()
            done += 1
        messages.success(request, f"Acknowledged {done} maintenance{'s' if done != 1 else ''}.")
        return redirect(_return_url(request, list_url))


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
    queryset = CircuitImpact.objects.select_related(
        "maintenance", "circuit", "circuit__provider", "circuit__tenant"
    ).prefetch_related(termination_prefetch())
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
        if key == "cursor":
            # Where the last run stopped: for troubleshooting only, so folded away.
            if not value:
                return helpers.HTML_NONE
            return format_html(
                '<details class="cm-cursor"><summary>Show ({} key{})</summary>'
                '<pre class="text-break">{}</pre></details>',
                len(value),
                "" if len(value) == 1 else "s",
                json.dumps(value, indent=2, sort_keys=True),
            )
        return super().render_value(key, value, context)


def show(request: Any, outcome: oauth.Outcome) -> Any:
    """Tell the user how Validate or the consent went (when there is something to tell), and send them on."""
    if outcome.message:
        (messages.success if outcome.ok else messages.error)(request, outcome.message)
    return redirect(outcome.redirect_to)


class GoogleOAuthCallbackView(LoginRequiredMixin, View):
    """Where Google's consent page sends the user back (the older app's address); see `oauth.complete_consent`."""

    def get(self, request: Any) -> Any:
        return show(request, oauth.complete_consent(request))


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
            Button(
                template_path=POST_BUTTON_TEMPLATE,
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
        again = request.POST.get("consent") or request.GET.get("consent")  # POST .../validate/?consent=1
        return show(request, oauth.validate(request, self.get_object(), again=bool(again)))


#
# Raw Notification (read-only)
#


KEPT_NOTES = {
    MessageKeptChoices.HEAD: (
        "Only the head of this message is stored: at {size:,} bytes it was over message_limits.max_message_mb. "
        "Parts and attachments beyond the head are missing."
    ),
    MessageKeptChoices.TRUNCATED: (
        "This message was stored truncated by an older version of the app: only its first {kept:,} of {size:,} "
        "bytes exist. What follows is read from that part; the rest cannot be recovered."
    ),
}


def mail_context(raw: RawNotification) -> dict[str, Any]:
    """What the mail panels show: decoded headers, parts, attachments and download links."""
    mail = raw.readable()
    kept = raw.kept
    note = KEPT_NOTES.get(kept, "").format(size=raw.raw_size, kept=len(raw.message_bytes()))
    return {
        "mail": mail,
        "mail_headers": [(name, value) for name, value in mail.headers.items() if value or name in ("From", "Subject")],
        "mail_document": html_document(mail.html) if mail.html else "",
        "mail_kept_note": note,
        "mail_eml_url": reverse("plugins:nautobot_ssot_circuit_maintenance:rawnotification_eml", args=[raw.pk]),
        "mail_attachments": [
            (
                item,
                reverse(
                    "plugins:nautobot_ssot_circuit_maintenance:rawnotification_attachment", args=[raw.pk, item.index]
                ),
            )
            for item in mail.attachments
        ],
    }


def download(data: bytes, filename: str, content_type: str = "application/octet-stream") -> HttpResponse:
    """Bytes the browser saves and never renders: attachment disposition, no sniffing, a sandboxing policy."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def safe_filename(name: str, fallback: str) -> str:
    """A file name without path separators or control characters (the mail chose it)."""
    cleaned = "".join(char for char in name if char.isprintable() and char not in '/\\"')
    return cleaned.strip(" .")[:150] or fallback


class RawNotificationUIViewSet(RoutedMethodsOnly, ObjectDetailViewMixin, ObjectListViewMixin):
    """Fetched messages: immutable facts, list and detail only.

    The page reads the mail for a person: headers decoded, the text part decoded, the HTML part
    sanitized (nh3) inside a sandboxed frame, attachments listed and downloadable only as files.
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
                    "message_kept",
                    "parser_version",
                    "location",
                    "message_key",
                ],
                key_transforms={"raw_size": "Size (bytes)", "message_kept": "Stored", "parser_version": "Parser"},
            ),
            Panel(
                label="Mail",
                section=SectionChoices.LEFT_HALF,
                weight=200,
                body_content_template_path="nautobot_ssot_circuit_maintenance/inc/mail_message.html",
            ),
            Panel(
                label="Raw headers",
                section=SectionChoices.LEFT_HALF,
                weight=300,
                collapsed=True,
                body_content_template_path="nautobot_ssot_circuit_maintenance/inc/mail_headers.html",
            ),
            ObjectsTablePanel(
                section=SectionChoices.RIGHT_HALF,
                weight=100,
                table_class=tables.ParsedNotificationJSONTable,
                table_filter="raw_notification",
                table_title="Parsed notifications",
                select_related_fields=["maintenance"],
                add_button_route=None,
                enable_related_link=False,
                show_table_config_button=False,
            ),
        ),
    )

    def get_extra_context(self, request: Any, instance: Any = None) -> dict[str, Any]:
        context = super().get_extra_context(request, instance)
        if self.action == "retrieve" and instance is not None:
            context.update(mail_context(instance))
        return context

    @action(detail=True, methods=["get"], url_path="eml", custom_view_base_action="view")
    def eml(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        """The stored message as a `.eml` file (whole, unless the page says otherwise)."""
        raw = self.get_object()
        return download(raw.message_bytes(), f"notification-{raw.pk}.eml", "message/rfc822")


class RawNotificationAttachmentView(ObjectPermissionRequiredMixin, View):
    """One attachment of a message, as a file to save: never rendered, whatever type it claims.

    A view of its own (not a view-set action): its URL takes the attachment's index besides the pk.
    """

    queryset = RawNotification.objects.all()

    def get_required_permission(self) -> str:
        return "nautobot_ssot_circuit_maintenance.view_rawnotification"

    def get(self, request: Any, pk: Any, index: int) -> HttpResponse:
        raw = get_object_or_404(self.queryset, pk=pk)
        found = raw.attachment(index)
        if found is None:
            raise Http404("This message has no such attachment.")
        item, data = found
        return download(data, safe_filename(item.filename, f"attachment-{item.index}"))


#
# Upload: .eml files through the push path
#

PUSH_PERMISSION = "nautobot_ssot_circuit_maintenance.add_pushedmessage"


def _upload_one(upload: Any, user: Any, process: bool) -> tuple[bool, str]:
    """Push one uploaded file; (ok, text for the user). Never raises for what the file holds."""
    name = upload.name[:100]
    limit = push.max_push_bytes()
    if upload.size > limit:
        return False, f"{name}: {upload.size:,} bytes, more than the {limit:,} allowed"
    try:
        result = push.accept(upload.read(limit + 1), user)
    except push.PushRefused as error:
        return False, f"{name}: {error}"
    if result.created and process:
        result = push.process_now(result, user)
    if not result.created:
        return True, f"{name}: already stored ({result.outcome or 'waiting for the next sync'})"
    if result.processing == "done":
        return True, f"{name}: {result.outcome}"
    if result.processing == "busy":
        return True, f"{name}: stored; a sync is running, the next one reads it"
    return True, f"{name}: stored; the next sync reads it"


class NotificationUploadView(LoginRequiredMixin, View):
    """Upload one or more .eml files: each goes through push.py like a pushed message."""

    template_name = "nautobot_ssot_circuit_maintenance/notification_upload.html"

    def _check(self, request: Any) -> None:
        if not request.user.has_perm(PUSH_PERMISSION):
            raise PermissionDenied("Uploading messages needs the permission to add pushed messages.")

    def get(self, request: Any) -> Any:
        self._check(request)
        return render(
            request, self.template_name, {"form": forms.NotificationUploadForm(), "push_enabled": push_enabled()}
        )

    def post(self, request: Any) -> Any:
        self._check(request)
        form = forms.NotificationUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form, "push_enabled": push_enabled()}, status=400)
        for upload in form.cleaned_data["files"]:
            ok, text = _upload_one(upload, request.user, form.cleaned_data["process_now"])
            (messages.success if ok else messages.error)(request, text)
        return redirect(reverse("plugins:nautobot_ssot_circuit_maintenance:rawnotification_list"))
