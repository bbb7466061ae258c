"""UI views of fetched mail.

The raw notification list and page (the mail read for a person), its .eml and attachments as downloads, and the
upload of .eml files through the push path.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views import View
from nautobot.apps.ui import (
    ObjectDetailContent,
    ObjectFieldsPanel,
    ObjectsTablePanel,
    Panel,
    SectionChoices,
)
from nautobot.apps.views import (
    ObjectDetailViewMixin,
    ObjectListViewMixin,
    ObjectPermissionRequiredMixin,
)
from rest_framework.decorators import action

from nautobot_ssot_circuit_maintenance import filters, forms, tables
from nautobot_ssot_circuit_maintenance.api import serializers
from nautobot_ssot_circuit_maintenance.choices import MessageKeptChoices
from nautobot_ssot_circuit_maintenance.compat.releases import collapsed_panel_options
from nautobot_ssot_circuit_maintenance.config import PUSH_DISABLED, URL_NAMESPACE, push_enabled
from nautobot_ssot_circuit_maintenance.decisions.buttons import NOTIFICATION_BUTTONS
from nautobot_ssot_circuit_maintenance.display import format_local
from nautobot_ssot_circuit_maintenance.export.mail import MailExportActions
from nautobot_ssot_circuit_maintenance.mail.readable import html_document
from nautobot_ssot_circuit_maintenance.models import RawNotification
from nautobot_ssot_circuit_maintenance.ui import CsrfFailurePage, RoutedMethodsOnly
from nautobot_ssot_circuit_maintenance.validation import PK_URL_PATTERN
from nautobot_ssot_circuit_maintenance.watch import push

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
        "mail_eml_url": reverse(f"{URL_NAMESPACE}:rawnotification_eml", args=[raw.pk]),
        "mail_attachments": [
            (
                item,
                reverse(f"{URL_NAMESPACE}:rawnotification_attachment", args=[raw.pk, item.index]),
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


def forwarded_text(forwarded: tuple[str, Any] | None) -> str:
    """Who forwarded a notice and when: `Nora <nora@example.net> on 2026-12-06 04:00 CET`."""
    if not forwarded:
        return ""
    by, at = forwarded
    return f"{by} on {format_local(at)}" if at else by


class RawNotificationUIViewSet(
    CsrfFailurePage, RoutedMethodsOnly, MailExportActions, ObjectDetailViewMixin, ObjectListViewMixin
):
    """Fetched messages: immutable facts, list and detail only (and the mail exported in bulk, as a zip).

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
        extra_buttons=NOTIFICATION_BUTTONS,
        panels=(
            ObjectFieldsPanel(
                section=SectionChoices.LEFT_HALF,
                weight=100,
                fields=[
                    "subject",
                    "sender",
                    "forwarded",
                    "date",
                    "source",
                    "provider",
                    "outcome",
                    "error",
                    "excluded_by",
                    "excluded_at",
                    "exclusion_reason",
                    "confirmed_by",
                    "received",
                    "raw_size",
                    "message_kept",
                    "parser_version",
                    "location",
                    "message_key",
                ],
                key_transforms={
                    "raw_size": "Size (bytes)",
                    "message_kept": "Stored",
                    "parser_version": "Parser",
                    "forwarded": "Forwarded by",
                },
                # A person's decisions only where one was taken; times in the reader's zone; long values wrap.
                hide_if_unset=["forwarded", "excluded_by", "excluded_at", "exclusion_reason", "confirmed_by"],
                value_transforms={
                    "forwarded": [forwarded_text],
                    **dict.fromkeys(("date", "received", "excluded_at"), [format_local]),
                    **dict.fromkeys(("subject", "sender", "location", "message_key"), [tables.breaking_anywhere]),
                },
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
                **collapsed_panel_options(),
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
        """On the notification's page, add the mail as a person reads it."""
        context = super().get_extra_context(request, instance)
        if self.action == "retrieve" and instance is not None:
            context.update(mail_context(instance))
        if self.action == "list":
            context["export_mail_url"] = reverse(f"{URL_NAMESPACE}:rawnotification_export_mail")
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
        """Downloading an attachment needs the permission to view notifications."""
        return "nautobot_ssot_circuit_maintenance.view_rawnotification"

    def get(self, request: Any, pk: Any, index: int) -> HttpResponse:
        """The attachment at `index` as a download; 404 when the message has none there."""
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
    """Push one uploaded file; (ok, text for the user). Never raises for what the file holds.

    The text says: processed with its outcome, waiting and why, or failed and why.
    """
    name = upload.name[:100]
    limit = push.max_push_bytes()
    if upload.size > limit:
        return False, f"{name}: {upload.size:,} bytes, more than the {limit:,} allowed"
    try:
        result = push.accept(upload.read(limit + 1), user)
    except push.PushRefused as error:
        return False, f"{name}: {error}"
    if process and result.processing != "done":
        # A copy still waiting (a processing that failed before, say) is processed now too, as asked.
        result = push.process_now(result, user)
    if result.processing == "done":
        return True, f"{name}: {result.outcome}" if result.created else f"{name}: already stored ({result.outcome})"
    stored = "stored" if result.created else "already stored"
    if result.processing == "failed":
        return False, f"{name}: {stored}, but processing it now failed: {result.error}"
    return True, f"{name}: {stored}; {result.reason}"


class NotificationUploadView(LoginRequiredMixin, View):
    """Upload one or more .eml files: each goes through watch/push.py like a pushed message."""

    template_name = "nautobot_ssot_circuit_maintenance/notification_upload.html"

    def disabled(self, request: Any) -> Any:
        """The page without its form, saying how to turn push on; nothing read from the request."""
        return render(request, self.template_name, {"disabled": PUSH_DISABLED}, status=404)

    def _check(self, request: Any) -> None:
        if not request.user.has_perm(PUSH_PERMISSION):
            raise PermissionDenied("Uploading messages needs the permission to add pushed messages.")

    def get(self, request: Any) -> Any:
        """The upload form; while push is off, only what to set (404: there is nothing to upload to)."""
        self._check(request)
        if not push_enabled():
            return self.disabled(request)
        return render(request, self.template_name, {"form": forms.NotificationUploadForm()})

    def post(self, request: Any) -> Any:
        """Push each uploaded file and report each outcome, then go to the notification list."""
        self._check(request)
        if not push_enabled():
            return self.disabled(request)
        form = forms.NotificationUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        for upload in form.cleaned_data["files"]:
            ok, text = _upload_one(upload, request.user, form.cleaned_data["process_now"])
            (messages.success if ok else messages.error)(request, text)
        return redirect(reverse(f"{URL_NAMESPACE}:rawnotification_list"))
