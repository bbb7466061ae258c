"""Circuit aliases made in the triage queue: listed, shown and deleted (a wrong mapping is undone here)."""

from __future__ import annotations

import django_tables2 as tables
from django import forms
from nautobot.apps.forms import BootstrapMixin, DynamicModelMultipleChoiceField
from nautobot.apps.tables import BaseTable, ButtonsColumn, ToggleColumn
from nautobot.apps.ui import ObjectDetailContent, ObjectFieldsPanel, SectionChoices
from nautobot.apps.views import (
    ObjectBulkCreateViewMixin,
    ObjectBulkDestroyViewMixin,
    ObjectDestroyViewMixin,
    ObjectDetailViewMixin,
    ObjectListViewMixin,
)
from nautobot.circuits.models import Provider

from nautobot_ssot_circuit_maintenance.api.serializers import CircuitAliasSerializer
from nautobot_ssot_circuit_maintenance.display import format_local
from nautobot_ssot_circuit_maintenance.filters import CircuitAliasFilterSet
from nautobot_ssot_circuit_maintenance.models import CircuitAlias
from nautobot_ssot_circuit_maintenance.tables import TimeColumn
from nautobot_ssot_circuit_maintenance.ui import CsrfFailurePage
from nautobot_ssot_circuit_maintenance.validation import PK_URL_PATTERN


class CircuitAliasFilterForm(BootstrapMixin, forms.Form):
    """The alias list's filter form: search text and provider."""

    model = CircuitAlias
    q = forms.CharField(required=False, label="Search")
    provider = DynamicModelMultipleChoiceField(queryset=Provider.objects.all(), to_field_name="name", required=False)


class CircuitAliasTable(BaseTable):
    """The alias list: each alias, its provider and circuit, who mapped it and when."""

    pk = ToggleColumn()
    alias = tables.Column(linkify=True, attrs={"td": {"class": "text-break"}})
    provider = tables.Column(linkify=True)
    circuit = tables.Column(linkify=True, attrs={"td": {"class": "text-break"}})
    created_by = tables.Column(verbose_name="Mapped by")
    created = TimeColumn(verbose_name="Mapped")
    actions = ButtonsColumn(CircuitAlias, buttons=("delete",))

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = CircuitAlias
        fields = ("pk", "alias", "provider", "circuit", "created_by", "created", "actions")
        default_columns = fields


class CircuitAliasUIViewSet(
    CsrfFailurePage,
    ObjectListViewMixin,
    ObjectDetailViewMixin,
    ObjectDestroyViewMixin,
    ObjectBulkDestroyViewMixin,
    ObjectBulkCreateViewMixin,
):
    """Circuit aliases: list, detail and delete; made in the triage queue, or imported from CSV.

    The list's Import runs Nautobot's import job with the REST serializer (`provider,alias,circuit` columns);
    Nautobot shows the Import button only for a view with the import action (`ObjectBulkCreateViewMixin`).
    """

    lookup_value_regex = PK_URL_PATTERN
    action_buttons = ("import",)
    filterset_class = CircuitAliasFilterSet
    filterset_form_class = CircuitAliasFilterForm
    queryset = CircuitAlias.objects.select_related("provider", "circuit", "created_by")
    serializer_class = CircuitAliasSerializer
    table_class = CircuitAliasTable
    object_detail_content = ObjectDetailContent(
        panels=(
            ObjectFieldsPanel(
                section=SectionChoices.LEFT_HALF,
                weight=100,
                fields=["alias", "normalized", "provider", "circuit", "created_by", "created"],
                key_transforms={"normalized": "Compared as", "created_by": "Mapped by", "created": "Mapped"},
                value_transforms={"created": [format_local]},
            ),
        ),
    )
