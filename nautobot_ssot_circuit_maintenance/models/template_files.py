"""Templates as JSON files: exported from one Nautobot, imported into another (or back, after an edit)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from nautobot.circuits.models import Provider

from nautobot_ssot_circuit_maintenance.models import NoticeTemplate
from nautobot_ssot_circuit_maintenance.notice_templates.spec import SPEC_FIELDS

FORMAT = "nautobot-ssot-circuit-maintenance/notice-template"
VERSION = 1
# The largest template file an import reads (a template is a few kilobytes).
MAX_FILE_BYTES = 1024 * 1024
FIELDS = ("description", *SPEC_FIELDS)
WORD_FIELDS = ("status_words", "impact_words")


def exported(template: NoticeTemplate) -> dict[str, Any]:
    """The template as a JSON document; the provider by name, which is what stays the same across Nautobots."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "provider": template.provider.name,
        **{name: getattr(template, name) for name in FIELDS},
    }


def export_filename(template: NoticeTemplate) -> str:
    """The file name a template downloads as."""
    safe = "".join(char if char.isalnum() else "-" for char in template.provider.name.lower()).strip("-")
    return f"notice-template-{safe or 'provider'}.json"


def imported(document: Any) -> tuple[NoticeTemplate, bool]:
    """The template a JSON document describes, saved over the provider's template if it has one.

    Returns the template and whether it is new. ValidationError, field by field, for a document that is no
    template, names no existing provider, or holds a template `NoticeTemplate.clean` refuses.
    """
    if not isinstance(document, Mapping) or document.get("format") != FORMAT:
        raise ValidationError(f'Not a notice template: a JSON object with "format": "{FORMAT}" is expected.')
    if document.get("version") != VERSION:
        raise ValidationError({"version": f"Version {document.get('version')!r} is not {VERSION}."})
    unknown = sorted(set(document) - {"format", "version", "provider", *FIELDS})
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(map(str, unknown))}.")
    name = document.get("provider")
    provider = Provider.objects.filter(name=name).first() if isinstance(name, str) else None
    if provider is None:
        raise ValidationError({"provider": f"No provider is named {name!r}."})
    template = NoticeTemplate.objects.filter(provider=provider).first()
    created = template is None
    template = template or NoticeTemplate(provider=provider)
    for name in FIELDS:
        if name in document:
            setattr(template, name, document[name])
    for name in FIELDS:
        expected = dict if name in WORD_FIELDS else str
        if not isinstance(getattr(template, name), expected):
            raise ValidationError({name: "A JSON object is expected." if expected is dict else "Text is expected."})
    template.validated_save()
    return template, created
