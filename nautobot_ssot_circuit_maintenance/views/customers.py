"""Customer notices: the list, a notice's page (its state, recipients, preview and history), templates, tenant settings.

A notice's page shows exactly what each recipient gets (the message `customers/send.py` builds: headers, body and
attachment) and carries the actions its state allows: Approve (needs `approve_customernotice`; where no approval
workflow applies), Request approval (where one applies), Resend (needs `send_customernotice`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.html import format_html
from nautobot.apps.ui import (
    Button,
    ButtonColorChoices,
    DataTablePanel,
    ObjectDetailContent,
    ObjectFieldsPanel,
    ObjectsTablePanel,
    Panel,
    SectionChoices,
)
from nautobot.apps.views import (
    NautobotUIViewSet,
    ObjectBulkDestroyViewMixin,
    ObjectChangeLogViewMixin,
    ObjectDestroyViewMixin,
    ObjectDetailViewMixin,
    ObjectListViewMixin,
    ObjectNotesViewMixin,
)
from rest_framework.decorators import action

from nautobot_ssot_circuit_maintenance import filters, forms, tables
from nautobot_ssot_circuit_maintenance.api import serializers
from nautobot_ssot_circuit_maintenance.choices import NoticeStateChoices, RecipientStateChoices
from nautobot_ssot_circuit_maintenance.compat.approvals import has_workflow_definition
from nautobot_ssot_circuit_maintenance.compat.releases import data_compliance_view_mixin
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.customers import approval
from nautobot_ssot_circuit_maintenance.customers.jobs import send_job
from nautobot_ssot_circuit_maintenance.customers.render import ATTACHMENT_NAME, ATTACHMENT_TYPE
from nautobot_ssot_circuit_maintenance.customers.send import build_message
from nautobot_ssot_circuit_maintenance.customers.settings import notice_settings
from nautobot_ssot_circuit_maintenance.display import format_local
from nautobot_ssot_circuit_maintenance.models import CustomerNotice, CustomerNoticeTemplate, TenantNoticeSettings
from nautobot_ssot_circuit_maintenance.ui import POST_BUTTON_TEMPLATE, CsrfFailurePage, RoutedMethodsOnly
from nautobot_ssot_circuit_maintenance.validation import PK_URL_PATTERN

PREVIEW_TEMPLATE = "nautobot_ssot_circuit_maintenance/inc/customer_notice_preview.html"
# Headers a recipient's copy carries that the preview shows, in this order.
PREVIEW_HEADERS = ("From", "To", "Reply-To", "Subject")


def preview(notice: CustomerNotice) -> list[dict[str, Any]]:
    """What each recipient gets: the headers, body and attachment of the message the send builds for them."""
    settings = notice_settings()
    shown = []
    for recipient in notice.recipients.all():
        message = build_message(notice, recipient.address, settings).message()
        shown.append(
            {
                "recipient": recipient,
                "headers": [(name, message[name]) for name in PREVIEW_HEADERS if message[name]],
            }
        )
    return shown


def recipient_rows(notice: CustomerNotice) -> list[dict[str, Any]]:
    """Each recipient as a row of the notice page: its state as a badge, its time in the reader's zone."""
    return [
        {
            "address": recipient.address,
            "name": recipient.name,
            "via": recipient.via,
            "state": format_html(
                '<span class="badge bg-{}">{}</span>', recipient.get_state_class(), recipient.get_state_display()
            ),
            "answer": recipient.answer,
            "attempts": recipient.attempts,
            "sent_at": format_local(recipient.sent_at) if recipient.sent_at else "",
        }
        for recipient in notice.recipients.all()
    ]


def _sending() -> str:
    """What happens next, as the page says it: sent now by the job, or once the job is enabled."""
    if send_job() is not None:
        return "The Send customer notices job is sending it."
    return "Enable the Send customer notices job (Jobs) to send it; nothing leaves until then."


def _pre(value: str) -> str:
    """A template's text as written (whitespace kept, escaped)."""
    return format_html('<pre class="mb-0">{}</pre>', value)


class StateButton(Button):
    """A POST button shown only while the notice is in one of `states` (and, with `workflow`, as a workflow applies)."""

    def __init__(self, *, states: tuple[str, ...], workflow: bool | None = None, **kwargs: Any) -> None:
        """Shown for a notice in `states`; `workflow` True/False: only where an approval workflow applies / does not."""
        super().__init__(template_path=POST_BUTTON_TEMPLATE, **kwargs)
        self.states = states
        self.workflow = workflow

    def should_render(self, context: Any) -> bool:
        """Render only for a notice this action applies to."""
        notice = context.get("object")
        if notice is None or notice.state not in self.states or not super().should_render(context):
            return False
        return self.workflow is None or has_workflow_definition(notice) == self.workflow


class CustomerNoticeUIViewSet(
    CsrfFailurePage,
    RoutedMethodsOnly,
    ObjectListViewMixin,
    ObjectDetailViewMixin,
    ObjectDestroyViewMixin,
    ObjectBulkDestroyViewMixin,
    ObjectChangeLogViewMixin,
    ObjectNotesViewMixin,
    data_compliance_view_mixin(),
):
    """Customer notices: drafted by the app, approved by a person, sent by the send job; never edited by hand."""

    lookup_value_regex = PK_URL_PATTERN
    action_buttons = ("export",)
    filterset_class = filters.CustomerNoticeFilterSet
    filterset_form_class = forms.CustomerNoticeFilterForm
    queryset = CustomerNotice.objects.select_related("tenant", "approved_by", "follows").prefetch_related(
        "recipients", "maintenances"
    )
    serializer_class = serializers.CustomerNoticeSerializer
    table_class = tables.CustomerNoticeTable

    object_detail_content = ObjectDetailContent(
        extra_buttons=(
            StateButton(
                states=(NoticeStateChoices.DRAFT,),
                workflow=False,
                weight=100,
                label="Approve and send",
                icon="mdi-send-check",
                color=ButtonColorChoices.GREEN,
                link_name=f"{URL_NAMESPACE}:customernotice_approve",
                required_permissions=["nautobot_ssot_circuit_maintenance.approve_customernotice"],
            ),
            StateButton(
                states=(NoticeStateChoices.DRAFT,),
                workflow=True,
                weight=100,
                label="Request approval",
                icon="mdi-account-check",
                color=ButtonColorChoices.BLUE,
                link_name=f"{URL_NAMESPACE}:customernotice_request_approval",
                required_permissions=["nautobot_ssot_circuit_maintenance.change_customernotice"],
            ),
            StateButton(
                states=(NoticeStateChoices.SENT,),
                weight=200,
                label="Resend to those not reached",
                icon="mdi-email-sync",
                color=ButtonColorChoices.GREY,
                link_name=f"{URL_NAMESPACE}:customernotice_resend",
                required_permissions=["nautobot_ssot_circuit_maintenance.send_customernotice"],
            ),
        ),
        panels=(
            ObjectFieldsPanel(
                section=SectionChoices.LEFT_HALF,
                weight=100,
                fields=[
                    "tenant",
                    "kind",
                    "state",
                    "impact",
                    "start_time",
                    "end_time",
                    "follows",
                    "approved_by",
                    "approved_at",
                    "sent_at",
                ],
                key_transforms={"follows": "Follows up on", "start_time": "Starts", "end_time": "Ends"},
                value_transforms={
                    "start_time": [format_local],
                    "end_time": [format_local],
                    "approved_at": [format_local],
                    "sent_at": [format_local],
                },
            ),
            ObjectsTablePanel(
                section=SectionChoices.FULL_WIDTH,
                weight=150,
                table_class=tables.CircuitMaintenanceTable,
                table_attribute="maintenances",
                related_field_name="customer_notices",
                table_title="Maintenances",
                exclude_columns=["pk", "actions"],
                add_button_route=None,
                enable_related_link=False,
                show_table_config_button=False,
            ),
            # Part of the notice: shown to whoever may view it (no permission on recipient rows of their own).
            DataTablePanel(
                label="Recipients and what became of each",
                section=SectionChoices.FULL_WIDTH,
                weight=200,
                context_data_key="notice_recipients",
                columns=["address", "name", "via", "state", "answer", "attempts", "sent_at"],
                column_headers=["Address", "Name", "From", "State", "Server's answer", "Attempts", "Sent"],
            ),
            Panel(
                label="Preview: exactly what each recipient gets",
                section=SectionChoices.FULL_WIDTH,
                weight=300,
                body_content_template_path=PREVIEW_TEMPLATE,
            ),
        ),
    )

    def get_extra_context(self, request: Any, instance: Any = None) -> dict[str, Any]:
        """On a notice's page, add the preview of each recipient's message."""
        context = super().get_extra_context(request, instance)
        if self.action == "retrieve" and instance is not None:
            context["notice_preview"] = preview(instance)
            context["notice_recipients"] = recipient_rows(instance)
            context["attachment_name"] = ATTACHMENT_NAME
            context["attachment_type"] = ATTACHMENT_TYPE
        return context

    def _act(self, request: Any, act: Any, done: str) -> Any:
        notice = self.get_object()
        try:
            act(notice)
        except approval.ApprovalRefused as error:
            messages.error(request, str(error))
        else:
            messages.success(request, done)
        return redirect(notice.get_absolute_url())

    @action(detail=True, methods=["post"], url_path="approve", url_name="approve", custom_view_base_action="approve")
    def approve(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Approve the draft in the user's name; the send job is queued (needs `approve_customernotice`)."""
        return self._act(request, lambda notice: approval.approve(notice, request.user), f"Approved. {_sending()}")

    @action(
        detail=True,
        methods=["post"],
        url_path="request-approval",
        url_name="request_approval",
        custom_view_base_action="change",
    )
    def request_approval(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Start the approval workflow that applies to the draft."""
        return self._act(request, approval.request_approval, "Approval requested.")

    @action(detail=True, methods=["post"], url_path="resend", url_name="resend", custom_view_base_action="send")
    def resend(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Send again to every recipient not reached (needs `send_customernotice`)."""
        notice = self.get_object()
        waiting = notice.recipients.exclude(state=RecipientStateChoices.SENT).count()
        return self._act(
            request, lambda notice: approval.resend(notice, request.user), f"Resending to {waiting}. {_sending()}"
        )


class CustomerNoticeTemplateUIViewSet(CsrfFailurePage, RoutedMethodsOnly, NautobotUIViewSet):
    """Templates of customer notices, for a tenant, a provider or all."""

    lookup_value_regex = PK_URL_PATTERN
    action_buttons = ("add", "export")
    filterset_class = filters.CustomerNoticeTemplateFilterSet
    filterset_form_class = forms.CustomerNoticeTemplateFilterForm
    form_class = forms.CustomerNoticeTemplateForm
    queryset = CustomerNoticeTemplate.objects.select_related("tenant", "provider")
    serializer_class = serializers.CustomerNoticeTemplateSerializer
    table_class = tables.CustomerNoticeTemplateTable

    object_detail_content = ObjectDetailContent(
        panels=(
            ObjectFieldsPanel(
                section=SectionChoices.LEFT_HALF, weight=100, fields=["name", "tenant", "provider", "subject"]
            ),
            ObjectFieldsPanel(
                label="Body",
                section=SectionChoices.FULL_WIDTH,
                weight=200,
                fields=["body"],
                value_transforms={"body": [_pre]},
            ),
        ),
    )


class TenantNoticeSettingsUIViewSet(CsrfFailurePage, RoutedMethodsOnly, NautobotUIViewSet):
    """Per-tenant notice settings: told or not, and who receives the notices instead of the tenant's contacts."""

    lookup_value_regex = PK_URL_PATTERN
    action_buttons = ("add", "export")
    filterset_class = filters.TenantNoticeSettingsFilterSet
    filterset_form_class = forms.TenantNoticeSettingsFilterForm
    form_class = forms.TenantNoticeSettingsForm
    queryset = TenantNoticeSettings.objects.select_related("tenant")
    serializer_class = serializers.TenantNoticeSettingsSerializer
    table_class = tables.TenantNoticeSettingsTable

    object_detail_content = ObjectDetailContent(
        panels=(
            ObjectFieldsPanel(
                section=SectionChoices.LEFT_HALF,
                weight=100,
                fields=["tenant", "notify", "recipients"],
                value_transforms={"recipients": [lambda value: ", ".join(value) or "The tenant's contacts"]},
            ),
        ),
    )
