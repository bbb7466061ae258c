"""UI views of notification sources: list, detail, provider edits, Validate and the Google consent callback.

Sources are defined in PLUGINS_CONFIG; nothing here shows or takes their secrets.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.views import View
from nautobot.apps.templatetags import placeholder
from nautobot.apps.ui import (
    Button,
    ButtonColorChoices,
    ObjectDetailContent,
    ObjectFieldsPanel,
    ObjectsTablePanel,
    SectionChoices,
)
from nautobot.apps.views import (
    ObjectChangeLogViewMixin,
    ObjectDetailViewMixin,
    ObjectEditViewMixin,
    ObjectListViewMixin,
    ObjectNotesViewMixin,
)
from nautobot.circuits.tables import ProviderTable
from rest_framework.decorators import action

from nautobot_ssot_circuit_maintenance import filters, forms, tables
from nautobot_ssot_circuit_maintenance.api import serializers
from nautobot_ssot_circuit_maintenance.compat.releases import data_compliance_view_mixin
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.display import format_local
from nautobot_ssot_circuit_maintenance.intake import oauth
from nautobot_ssot_circuit_maintenance.models import NotificationSource
from nautobot_ssot_circuit_maintenance.ui import POST_BUTTON_TEMPLATE, CsrfFailurePage, RoutedMethodsOnly
from nautobot_ssot_circuit_maintenance.validation import PK_URL_PATTERN


class NotificationSourceFieldsPanel(ObjectFieldsPanel):
    """Source fields plus the number of raw notifications it delivered. Never anything from the configuration."""

    def get_data(self, context: Any) -> dict[str, Any]:
        """Add the number of raw notifications the source delivered."""
        data = super().get_data(context)
        obj = context["object"]
        if obj is not None:
            data["raw_notifications"] = obj.raw_notifications.count()
        return data

    def render_key(self, key: str, value: Any, context: Any) -> str:
        """Label the added raw-notification count."""
        if key == "raw_notifications":
            return "Raw notifications"
        return super().render_key(key, value, context)

    def render_value(self, key: str, value: Any, context: Any) -> str:
        """Link the count to its notifications; the last run in the reader's zone; last error as text, cursor folded."""
        if key == "raw_notifications":
            url = reverse(f"{URL_NAMESPACE}:rawnotification_list")
            return format_html('<a href="{}?source={}">{}</a>', url, context["object"].pk, value)
        if key == "last_run":
            return format_local(value) or placeholder(None)
        if key == "last_error":
            return format_html("<pre>{}</pre>", value) if value else placeholder(None)
        if key == "cursor":
            # Where the last run stopped: for troubleshooting only, so folded away.
            if not value:
                return placeholder(None)
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
        """Complete the consent, tell the user how it went, and send them on."""
        return show(request, oauth.complete_consent(request))


class NotificationSourceUIViewSet(
    CsrfFailurePage,
    RoutedMethodsOnly,
    ObjectDetailViewMixin,
    ObjectListViewMixin,
    ObjectEditViewMixin,
    ObjectChangeLogViewMixin,
    ObjectNotesViewMixin,
    data_compliance_view_mixin(),
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
                link_name=f"{URL_NAMESPACE}:notificationsource_validate",
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
