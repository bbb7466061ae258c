"""UI views, built with Nautobot's UI component framework: maintenances and what hangs on them are here.

The mail pages (raw notifications, attachments, upload) are in `views/mail.py`, the sources and their
OAuth consent in `views/sources.py`, the calendar and overview in `views/calendar.py`. Every model's
`<Model>UIViewSet` is importable from here: Nautobot finds a model's view set in the app's `views`
module (`nautobot.core.utils.lookup.get_view_for_model`, used by its page titles and view tests).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone as dj_timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from nautobot.apps.templatetags import placeholder
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
)
from rest_framework.decorators import action

from nautobot_ssot_circuit_maintenance import filters, forms, tables
from nautobot_ssot_circuit_maintenance.api import serializers
from nautobot_ssot_circuit_maintenance.choices import NoteLevelChoices
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.decisions.buttons import OVERRIDE_BUTTON
from nautobot_ssot_circuit_maintenance.display import format_local
from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    MaintenanceOverride,
)
from nautobot_ssot_circuit_maintenance.models.reach import termination_prefetch
from nautobot_ssot_circuit_maintenance.template_content import MAINTENANCE_ROW_PREFETCH
from nautobot_ssot_circuit_maintenance.ui import CsrfFailurePage, RoutedMethodsOnly
from nautobot_ssot_circuit_maintenance.validation import PK_URL_PATTERN, is_uuid
from nautobot_ssot_circuit_maintenance.views.actions import action_preview
from nautobot_ssot_circuit_maintenance.views.timeline import timeline_rows

# The maintenance page's Acknowledge and Unacknowledge: a POST with an optional comment.
ACK_BUTTON_TEMPLATE = "nautobot_ssot_circuit_maintenance/inc/acknowledge_button.html"


def maintenance_windows(maintenance: CircuitMaintenance) -> list[dict[str, str]]:
    """Every window of a maintenance as display rows, in the reader's zone; the overall span when none is recorded."""
    rows = []
    for start, end in maintenance.window_times:
        minutes = int((end - start).total_seconds() // 60)
        duration = f"{minutes // 60}h {minutes % 60:02d}m"
        rows.append({"start": format_local(start), "end": format_local(end), "duration": duration})
    return rows


# The badge beside a link between a provider's old and new ticket for the same work.
REPLACEMENT_BADGES = {
    "replaces": ("bg-info text-dark", "replaces"),
    "superseded_by": ("bg-secondary", "superseded"),
}


def provider_and_utc(window: str) -> tuple[str, str]:
    """A window in the provider's time split before its UTC part: ("… 03:00–05:00 CET", "(02:00–04:00 UTC)")."""
    local, _, utc = window.partition(" (")
    return (local, f"({utc}") if utc else (local, "")


def replacement_link(key: str, other: CircuitMaintenance, maintenance: CircuitMaintenance) -> str:
    """The other maintenance of a replacement, linked, with its badge; who set the link when a person did."""
    css, text = REPLACEMENT_BADGES[key]
    by_person = maintenance.replaces_by_person if key == "replaces" else other.replaces_by_person
    return format_html(
        '<span class="badge {}">{}</span> <a href="{}">{}</a>{}',
        css,
        text,
        other.get_absolute_url(),
        other.label,
        " (set by a person)" if by_person else " (named by the provider's notice)",
    )


def status_badge(maintenance: CircuitMaintenance) -> str:
    """The maintenance status as a coloured badge."""
    return format_html(
        '<span class="badge bg-{}">{}</span>', maintenance.get_status_class(), maintenance.get_status_display()
    )


def acknowledgement_text(maintenance: CircuitMaintenance) -> str:
    """As shown: "Acknowledged by alice, 2026-11-27 09:30 CET", "Needs attention" or "Not acknowledged".

    The time is in the reader's zone.
    """
    if maintenance.ack:
        who = maintenance.acknowledged_by.username if maintenance.acknowledged_by else "someone"
        when = format_local(maintenance.acknowledged_at)
        return format_html(
            '<span class="mdi mdi-check-bold text-success" aria-hidden="true"></span> Acknowledged by {}{}',
            who,
            f", {when}" if when else "",
        )
    if maintenance.needs_attention():
        return tables.needs_attention_badge()
    return "Not acknowledged"


# The note an acknowledgement's (or its withdrawal's) comment is kept in, by acknowledged or not.
ACK_NOTE_TITLES = {True: "Acknowledged by {user}", False: "Unacknowledged by {user}"}


def set_acknowledgement(
    maintenance: CircuitMaintenance, user: Any, acknowledged: bool, comment: str = "", now: Any = None
) -> None:
    """Acknowledge the maintenance (or take the acknowledgement back) as `user`, saved and change-logged.

    A comment is kept as a MaintenanceNote titled "Acknowledged by alice" (or "Unacknowledged by alice"), not in a
    field of the maintenance: the sync clears an acknowledgement when the maintenance materially changes and a
    person may acknowledge it again, and each comment stays in the notes, with who and when (the note's change
    log), on the maintenance's page, in the REST API and in exports.
    """
    if acknowledged:
        maintenance.acknowledge(user, now)
    else:
        maintenance.clear_acknowledgement()
    maintenance.save()
    if comment:
        MaintenanceNote(
            maintenance=maintenance,
            title=ACK_NOTE_TITLES[acknowledged].format(user=user.get_username()),
            level=NoteLevelChoices.INFO,
            comment=comment,
        ).validated_save()


def acknowledgement_comment(request: Any) -> tuple[str, str]:
    """The POSTed optional comment, and the error to answer 400 with ("" when it is fine)."""
    form = forms.AcknowledgementForm(request.POST)
    if not form.is_valid():
        return "", "comment: " + " ".join(form.errors["comment"])
    return form.cleaned_data["comment"], ""


class AcknowledgeButton(Button):
    """A POST with an optional comment: acknowledged by you, now; or, with `acknowledged`, taken back."""

    def __init__(self, *, acknowledged: bool = False, **kwargs: Any) -> None:
        """Shown while the maintenance's `ack` is `acknowledged`: Acknowledge while not, Unacknowledge while it is."""
        super().__init__(template_path=ACK_BUTTON_TEMPLATE, **kwargs)
        self.acknowledged = acknowledged

    def should_render(self, context: Any) -> bool:
        """Render only while the page's maintenance is (or is not) acknowledged, as the button acts on."""
        obj = context.get("object")
        return obj is not None and obj.ack == self.acknowledged and super().should_render(context)

    def get_extra_context(self, context: Any) -> dict[str, Any]:
        """Add the comment's length limit."""
        return {**super().get_extra_context(context), "comment_length": forms.ACK_COMMENT_LENGTH}


def _return_url(request: Any, default: str) -> str:
    url = request.POST.get("return_url") or ""
    return url if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}) else default


#
# Circuit Maintenance
#


class CircuitMaintenanceFieldsPanel(ObjectFieldsPanel):
    """Maintenance fields, with the status and the live state as badges and times in the reader's zone."""

    def get_data(self, context: Any) -> dict[str, Any]:
        """Add the live state right after the status, and the override, to the maintenance's fields."""
        data = super().get_data(context)
        if context.get("object") is not None:
            # Right after the provider's status.
            items = list(data.items())
            at = next((i + 1 for i, (key, _) in enumerate(items) if key == "status"), len(items))
            data = dict([*items[:at], ("live_state", None), *items[at:]])
            data["override"] = MaintenanceOverride.objects.filter(maintenance=context["object"]).first()
            # Only where a notice named the provider's zone, or this maintenance replaces an older one.
            for key in ("provider_time_zone", "replaces"):
                if not data.get(key):
                    data.pop(key, None)
            superseding = context["object"].superseding
            if superseding is not None:
                # Right after the status and live state: it is why the live state says cancelled.
                items = list(data.items())
                at = next((i + 1 for i, (key, _) in enumerate(items) if key == "live_state"), len(items))
                data = dict([*items[:at], ("superseded_by", superseding), *items[at:]])
        return data

    def render_key(self, key: str, value: Any, context: Any) -> str:
        """Label the added live-state and override rows."""
        if key == "live_state":
            return "Live state"
        if key == "override":
            return "Override"
        if key == "superseded_by":
            return "Superseded by"
        return super().render_key(key, value, context)

    def render_value(self, key: str, value: Any, context: Any) -> str:
        """Show the status and live state as badges, the override in words, times in the reader's zone, IDs broken."""
        obj = context["object"]
        if key == "live_state":
            return tables.live_state_badge(obj)
        if key == "override":
            if value is None:
                return "None: the notices decide"
            return format_html(
                '<span class="{} bg-warning text-dark">{}</span> by {}, {}: {}',
                tables.WRAPPING_BADGE,
                value.describe(),
                value.created_by or "someone",
                format_local(value.created),
                value.reason,
            )
        if key == "status":
            return status_badge(obj)
        if key in ("replaces", "superseded_by"):
            return replacement_link(key, value, obj) if value is not None else placeholder(None)
        if key in ("start_time", "end_time"):
            return format_html('<span class="text-nowrap">{}</span>', format_local(value))
        if key in ("maintenance_id", "name"):
            return tables.breaking_anywhere(value)
        if key == "unresolved_circuit_ids":
            return ", ".join(str(cid) for cid in value) if value else placeholder(None)
        if key == "ack":
            return acknowledgement_text(obj)
        if key == "provider_time_zone":
            windows = obj.provider_windows()
            if not windows:  # a zone stored that this version cannot name: never guessed
                return placeholder(None)
            # Each half unbroken; a narrow panel wraps between the provider's time and UTC.
            return format_html_join(
                format_html("<br>"),
                '<span class="text-nowrap">{}</span> <span class="text-nowrap">{}</span>',
                (provider_and_utc(text) for text in windows),
            )
        return super().render_value(key, value, context)


class CircuitMaintenanceUIViewSet(CsrfFailurePage, RoutedMethodsOnly, NautobotUIViewSet):
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

    def get_queryset(self) -> Any:
        """The list, unless sorted by a column: what is still a concern first, soonest first, then what is over."""
        queryset = super().get_queryset()
        if self.action == "list" and not self.request.GET.get("sort"):
            return queryset.open_first()
        return queryset

    object_detail_content = ObjectDetailContent(
        extra_buttons=(
            AcknowledgeButton(
                weight=100,
                label="Acknowledge",
                icon="mdi-check-bold",
                color=ButtonColorChoices.GREEN,
                link_name=f"{URL_NAMESPACE}:circuitmaintenance_acknowledge",
                required_permissions=["nautobot_ssot_circuit_maintenance.change_circuitmaintenance"],
            ),
            AcknowledgeButton(
                acknowledged=True,
                weight=100,
                label="Unacknowledge",
                icon="mdi-undo-variant",
                color=ButtonColorChoices.GREY,
                link_name=f"{URL_NAMESPACE}:circuitmaintenance_unacknowledge",
                required_permissions=["nautobot_ssot_circuit_maintenance.change_circuitmaintenance"],
            ),
            OVERRIDE_BUTTON,
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
                    "provider_time_zone",
                    "replaces",
                    "unresolved_circuit_ids",
                    "description",
                ],
                key_transforms={
                    "start_time": "Start",
                    "end_time": "End",
                    "ack": "Acknowledged",
                    "provider_time_zone": "Provider's time",
                },
            ),
            DataTablePanel(
                label="Windows",
                section=SectionChoices.RIGHT_HALF,
                weight=100,
                context_data_key="maintenance_windows",
                columns=["start", "end", "duration"],
                column_headers=["Start", "End", "Duration"],
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
                weight=180,
                table_class=tables.CustomerNoticeTable,
                table_filter="maintenances",
                table_title="Customer notices",
                related_field_name="maintenance",
                prefetch_related_fields=["recipients"],
                select_related_fields=["tenant"],
                exclude_columns=["pk", "actions"],
                add_button_route=None,
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
            DataTablePanel(
                label="Actions: what will fire, when",
                section=SectionChoices.FULL_WIDTH,
                weight=250,
                context_data_key="action_preview",
                columns=["rule", "occasion", "when", "status", "result"],
                column_headers=["Rule", "On", "When", "Status", "Result"],
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
        """On the maintenance's page, add its windows and its notices' timeline; on the list, the comment's limit."""
        context = super().get_extra_context(request, instance)
        if self.action == "retrieve" and instance is not None:
            context["maintenance_windows"] = maintenance_windows(instance)
            context["timeline_rows"] = timeline_rows(instance)
            context["action_preview"] = action_preview(instance)
        if self.action == "list":
            context["ack_comment_length"] = forms.ACK_COMMENT_LENGTH
        return context

    def get_return_url(self, request: Any, obj: Any = None, default_return_url: Any = None) -> str:
        """On the list, the list as filtered, so that its bulk buttons (acknowledge, edit, delete) come back to it."""
        if getattr(self, "action", None) == "list" and obj is None and not request.GET.get("return_url"):
            return request.get_full_path()
        return super().get_return_url(request, obj, default_return_url)

    @action(
        detail=True, methods=["post"], url_path="acknowledge", url_name="acknowledge", custom_view_base_action="change"
    )
    def acknowledge(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """One click: acknowledged by the user, now, with an optional comment (a POST needing the change permission)."""
        return self._acknowledge_one(request, acknowledged=True)

    @action(
        detail=True,
        methods=["post"],
        url_path="unacknowledge",
        url_name="unacknowledge",
        custom_view_base_action="change",
    )
    def unacknowledge(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """One click: the acknowledgement taken back, with an optional comment (a POST, change permission)."""
        return self._acknowledge_one(request, acknowledged=False)

    def _acknowledge_one(self, request: Any, *, acknowledged: bool) -> Any:
        maintenance = self.get_object()
        comment, error = acknowledgement_comment(request)
        if error:
            return HttpResponseBadRequest(error)
        set_acknowledgement(maintenance, request.user, acknowledged, comment)
        messages.success(request, f"{'Acknowledged' if acknowledged else 'Unacknowledged'} {maintenance}.")
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
        return self._acknowledge_selected(request, acknowledged=True)

    @action(
        detail=False,
        methods=["post"],
        url_path="unacknowledge",
        url_name="unacknowledge_selected",
        custom_view_base_action="change",
    )
    def unacknowledge_selected(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """The list's "Unacknowledge selected": each selected maintenance the user may change, taken back."""
        return self._acknowledge_selected(request, acknowledged=False)

    def _acknowledge_selected(self, request: Any, *, acknowledged: bool) -> Any:
        pks = request.POST.getlist("pk")
        if not all(is_uuid(pk) for pk in pks):
            return HttpResponseBadRequest("pk: every value must be a maintenance's UUID.")
        comment, error = acknowledgement_comment(request)
        if error:
            return HttpResponseBadRequest(error)
        list_url = _return_url(request, reverse(f"{URL_NAMESPACE}:circuitmaintenance_list"))
        if not pks:
            messages.warning(request, "No maintenance selected.")
            return redirect(list_url)
        now = dj_timezone.now()
        done = 0
        # Only those whose acknowledgement changes: the others keep who and when.
        for maintenance in self.get_queryset().filter(pk__in=pks, ack=not acknowledged):
            set_acknowledgement(maintenance, request.user, acknowledged, comment, now)
            done += 1
        verb = "Acknowledged" if acknowledged else "Unacknowledged"
        messages.success(request, f"{verb} {done} maintenance{'s' if done != 1 else ''}.")
        return redirect(list_url)


#
# Circuit Impact
#


class CircuitImpactUIViewSet(CsrfFailurePage, RoutedMethodsOnly, NautobotUIViewSet):
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


class MaintenanceNoteUIViewSet(CsrfFailurePage, RoutedMethodsOnly, NautobotUIViewSet):
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
