"""The action rules' pages, and the maintenance page's preview of what its rules will fire and when."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html
from nautobot.apps.templatetags import hyperlinked_object
from nautobot.apps.ui import (
    ObjectDetailContent,
    ObjectFieldsPanel,
    ObjectsTablePanel,
    ObjectTextPanel,
    SectionChoices,
)
from nautobot.apps.views import NautobotUIViewSet

from nautobot_ssot_circuit_maintenance import filters, forms, tables
from nautobot_ssot_circuit_maintenance.actions.preview import preview_rows
from nautobot_ssot_circuit_maintenance.api import serializers
from nautobot_ssot_circuit_maintenance.display import format_local
from nautobot_ssot_circuit_maintenance.models import ActionRule
from nautobot_ssot_circuit_maintenance.ui import CsrfFailurePage, RoutedMethodsOnly
from nautobot_ssot_circuit_maintenance.validation import PK_URL_PATTERN


def action_preview(maintenance: Any) -> list[dict[str, str]]:
    """The preview's rows as the maintenance page's table shows them: rule, on what, when, status, result."""
    return [
        {
            "rule": hyperlinked_object(row.rule),
            "occasion": row.occasion.split(" at ")[0],
            "when": format_local(row.when) if row.when else "only if it happens",
            "status": format_html('<span class="badge bg-{}">{}</span>', row.status_class, row.status_display),
            "result": row.result,
        }
        for row in preview_rows(maintenance)
    ]


class ActionRuleUIViewSet(CsrfFailurePage, RoutedMethodsOnly, NautobotUIViewSet):
    """Action rules: list, page, add, edit, delete, change log."""

    lookup_value_regex = PK_URL_PATTERN

    bulk_update_form_class = forms.ActionRuleBulkEditForm
    filterset_class = filters.ActionRuleFilterSet
    filterset_form_class = forms.ActionRuleFilterForm
    form_class = forms.ActionRuleForm
    queryset = ActionRule.objects.select_related("secrets_group", "job").prefetch_related(
        "providers", "locations", "tenants", "tags"
    )
    serializer_class = serializers.ActionRuleSerializer
    table_class = tables.ActionRuleTable

    object_detail_content = ObjectDetailContent(
        panels=(
            ObjectFieldsPanel(
                section=SectionChoices.LEFT_HALF,
                weight=100,
                fields=[
                    "name",
                    "enabled",
                    "kind",
                    "occasion",
                    "transitions",
                    "offset_minutes",
                    "providers",
                    "locations",
                    "tenants",
                    "impacts",
                    "acknowledged",
                    "secrets_group",
                    "job",
                ],
                key_transforms={"secrets_group": "Destination"},
            ),
            ObjectTextPanel(
                label="Subject template",
                section=SectionChoices.RIGHT_HALF,
                weight=100,
                object_field="subject_template",
                render_as=ObjectTextPanel.RenderOptions.CODE,
            ),
            ObjectTextPanel(
                label="Body template",
                section=SectionChoices.RIGHT_HALF,
                weight=200,
                object_field="body_template",
                render_as=ObjectTextPanel.RenderOptions.CODE,
            ),
            ObjectsTablePanel(
                section=SectionChoices.FULL_WIDTH,
                weight=300,
                table_class=tables.ActionRunTable,
                table_filter="rule",
                table_title="Fired",
                select_related_fields=["maintenance", "maintenance__provider", "rule"],
                exclude_columns=["rule"],
                add_button_route=None,
                enable_related_link=False,
                show_table_config_button=False,
            ),
        ),
    )
