"""Notice templates: per provider, where its notices write what a maintenance is (see notice_templates/)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from nautobot.apps.models import BaseModel, ChangeLoggedModel

from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.notice_templates.spec import (
    IMPACT_VALUES,
    ISO_8601,
    SOURCE_CHOICES,
    SPEC_FIELDS,
    STATUS_VALUES,
    spec_problems,
)

_PATTERN_HELP = (
    "A regular expression (case ignored) that finds it: its group (value) or its one group is read, else the "
    "whole match. On a column, it picks the value out of each cell; leave it empty to read the cell as it is."
)


def _source(required: bool = True) -> models.CharField:
    return models.CharField(max_length=20, choices=SOURCE_CHOICES, blank=not required)


def _pattern() -> models.CharField:
    return models.CharField(max_length=1000, blank=True, help_text=_PATTERN_HELP)


def _column() -> models.CharField:
    return models.CharField(max_length=255, blank=True, help_text="The column's header, for a table or attachment.")


class NoticeTemplate(BaseModel, ChangeLoggedModel):
    """How to read the notices of one provider that circuit-maintenance-parser cannot read.

    The sync and re-parse read the provider's mail with it (a template outranks the parser); `clean` refuses a
    template that could read nothing (a bad regular expression, an unknown date format or time zone, a word
    mapped to no status).
    """

    provider = models.OneToOneField("circuits.Provider", on_delete=models.CASCADE, related_name="notice_template")
    description = models.CharField(max_length=255, blank=True)
    maintenance_id_source = _source()
    maintenance_id_pattern = _pattern()
    maintenance_id_column = _column()
    start_source = _source()
    start_pattern = _pattern()
    start_column = _column()
    end_source = _source()
    end_pattern = _pattern()
    end_column = _column()
    circuits_source = _source()
    circuits_pattern = models.CharField(
        max_length=1000, blank=True, help_text=_PATTERN_HELP + " Every match is a circuit id."
    )
    circuits_column = _column()
    status_source = _source(required=False)
    status_pattern = _pattern()
    status_column = _column()
    status_words = models.JSONField(
        default=dict,
        blank=True,
        help_text='The provider\'s status words and the status each means, e.g. {"cancelled": "CANCELLED"}. '
        "Without a pattern or column, the first of these words found in the subject or text decides.",
    )
    default_status = models.CharField(
        max_length=20, choices=[(v, v) for v in STATUS_VALUES], default="CONFIRMED", help_text="When no word is found."
    )
    impact_source = _source(required=False)
    impact_pattern = _pattern()
    impact_column = _column()
    impact_words = models.JSONField(
        default=dict,
        blank=True,
        help_text='The provider\'s impact words and the impact each means, e.g. {"hard down": "OUTAGE"}. A column '
        "of the circuits' own table gives each circuit its impact.",
    )
    default_impact = models.CharField(
        max_length=20, choices=[(v, v) for v in IMPACT_VALUES], default="OUTAGE", help_text="When no word is found."
    )
    date_formats = models.TextField(
        default=ISO_8601,
        help_text=f"How the start and end are written, one format a line, tried in order: strptime patterns such as "
        f"%Y-%m-%d %H:%M, or {ISO_8601}.",
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        help_text="The zone of a time written without its own offset (e.g. Europe/Berlin).",
    )

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False
    natural_key_field_names = ["provider"]

    class Meta:
        """Meta attributes."""

        ordering = ("provider",)
        verbose_name = "notice template"

    def __str__(self):
        """The template's provider."""
        return f"Notice template of {self.provider}"

    def get_absolute_url(self, api: bool = False) -> str:
        """The template's UI page, or its REST API endpoint with `api`."""
        if api:
            return reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:noticetemplate-detail", args=[self.pk])
        return reverse(f"{URL_NAMESPACE}:noticetemplate", args=[self.pk])

    def spec(self) -> dict[str, Any]:
        """The template as plain data: what the parse workers and the JSON export receive."""
        return template_spec(self)

    def clean(self) -> None:
        """Refuse a template that could read nothing, field by field."""
        super().clean()
        if problems := spec_problems(self.spec()):
            raise ValidationError(problems)

    @classmethod
    def specs_for(cls, provider_pks: Iterable[Any]) -> dict[Any, str]:
        """The templates of these providers as JSON text, by provider pk (what a SenderDirectory takes)."""
        return {
            template.provider_id: json.dumps(template.spec())
            for template in cls.objects.filter(provider__in=list(provider_pks))
        }


def template_spec(values: Any) -> dict[str, Any]:
    """The spec fields of a template, or of anything with the same attributes (an unsaved form's instance)."""
    return {name: getattr(values, name) for name in SPEC_FIELDS}
