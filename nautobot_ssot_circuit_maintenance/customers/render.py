"""A customer notice's words and attachment: its subject and body from a template, its iCalendar from the feed's writer.

Templates are Jinja2, rendered in Nautobot's sandbox (`render_jinja2`); a template record for the tenant wins over
one for the provider, which wins over one for neither, and without any the app's own (`DEFAULT_SUBJECT`,
`DEFAULT_BODY`) is used. The context (`notice_context`) holds only what the tenant may read: its own circuits, never
the circuits of other customers the same maintenance takes down, and plain values (names, times as text), not
records.

The attachment is the calendar feed's (calendar/ical.py `build_calendar`), with the NANOG BCOP properties, over
copies of the maintenances that list only the tenant's circuits and carry neither the provider's description nor
the circuit IDs we could not match (both may name others).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

import jinja2
from django.db.models import Prefetch
from nautobot.core.utils.data import render_jinja2

from nautobot_ssot_circuit_maintenance.calendar.ical import build_calendar
from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices, NoticeKindChoices
from nautobot_ssot_circuit_maintenance.models import CircuitImpact, CircuitMaintenance, CustomerNoticeTemplate
from nautobot_ssot_circuit_maintenance.models.customers import SUBJECT_LENGTH

DEFAULT_SUBJECT = (
    "{% if kind == 'cancelled' %}Cancelled: {% elif kind == 'updated' %}Updated: {% endif %}"
    "Planned maintenance affecting {{ tenant }} ({{ impact }}), {{ start }}"
)
DEFAULT_BODY = """Dear {{ tenant }},

{% if kind == 'cancelled' -%}
The planned maintenance we told you about has been cancelled; nothing will happen to your services then.
{%- elif kind == 'updated' -%}
The planned maintenance we told you about has changed. This notice replaces the one of {{ previous_sent }}.
{%- else -%}
A provider of ours will carry out planned maintenance that affects your services.
{%- endif %}

Expected impact: {{ impact }}
From {{ start }} to {{ end }}
{% for maintenance in maintenances %}
{{ maintenance.provider }} maintenance {{ maintenance.maintenance_id }}\
{% if maintenance.cancelled %} (cancelled){% endif %}
{%- for window in maintenance.windows %}
  Window: {{ window.start }} to {{ window.end }}
{%- endfor %}
{%- for circuit in maintenance.circuits %}
  Circuit {{ circuit.cid }}: {{ circuit.impact }}
{%- endfor %}
{% endfor %}
The attached calendar file holds the maintenance windows.

Regards,
Network operations
"""
TIME_FORMAT = "%Y-%m-%d %H:%M UTC"
ATTACHMENT_NAME = "maintenance.ics"
ATTACHMENT_TYPE = "text/calendar"


class NoticeTemplateError(ValueError):
    """A notice template failed to render; the message names the template and the error."""


@dataclass(frozen=True)
class Rendered:
    """A notice's subject, body and iCalendar attachment."""

    subject: str
    body: str
    calendar: str


def _utc(moment: datetime) -> str:
    return moment.astimezone(dt_timezone.utc).strftime(TIME_FORMAT)


def template_for(tenant: Any, provider: Any) -> tuple[str, str, str]:
    """(name, subject template, body template) for the tenant's notices about the provider's maintenances."""
    templates = CustomerNoticeTemplate.objects.all()
    for scope in ({"tenant": tenant}, {"tenant__isnull": True, "provider": provider}):
        found = templates.filter(**scope).order_by("name").first()
        if found is not None:
            return found.name, found.subject, found.body
    found = templates.filter(tenant__isnull=True, provider__isnull=True).order_by("name").first()
    if found is not None:
        return found.name, found.subject, found.body
    return "built-in", DEFAULT_SUBJECT, DEFAULT_BODY


def notice_context(
    tenant: Any, kind: str, impact: str, entries: list[tuple[Any, Any]], previous: Any = None
) -> dict[str, Any]:
    """What a template reads: the tenant's name, the kind, impact and span, and each (maintenance, TenantImpact)."""
    labels = dict(ImpactChoices.CHOICES)
    maintenances = [
        {
            "provider": maintenance.provider.name,
            "maintenance_id": maintenance.maintenance_id,
            "name": maintenance.name,
            "status": maintenance.get_status_display(),
            "cancelled": maintenance.status == MaintenanceStatusChoices.CANCELLED,
            "impact": labels.get(reached.impact, reached.impact),
            "windows": [{"start": _utc(start), "end": _utc(end)} for start, end in sorted(maintenance.window_times)],
            "circuits": [{"cid": circuit.cid, "impact": labels.get(i, i)} for circuit, i in reached.circuits],
        }
        for maintenance, reached in entries
    ]
    return {
        "tenant": tenant.name,
        "kind": kind,
        "kind_label": dict(NoticeKindChoices.CHOICES)[kind],
        "impact": labels.get(impact, impact),
        "start": _utc(min(m.start_time for m, _ in entries)),
        "end": _utc(max(m.end_time for m, _ in entries)),
        "maintenances": maintenances,
        "previous_sent": _utc(previous.sent_at) if previous is not None and previous.sent_at else "",
        "previous_subject": previous.subject if previous is not None else "",
    }


def _render(name: str, part: str, template: str, context: dict[str, Any]) -> str:
    try:
        return render_jinja2(template, context)
    except jinja2.TemplateError as error:
        raise NoticeTemplateError(f"Template {name!r} ({part}) failed: {error}") from None


def tenant_calendar(maintenance_pks: Iterable[Any], circuit_pks: Iterable[Any]) -> str:
    """The iCalendar of the maintenances as the tenant may see them: only its circuits (see the module's docstring)."""
    maintenances = (
        CircuitMaintenance.objects.filter(pk__in=list(maintenance_pks))
        .select_related("provider")
        .prefetch_related(
            Prefetch(
                "circuit_impacts",
                queryset=CircuitImpact.objects.filter(circuit__in=list(circuit_pks)).select_related("circuit"),
            )
        )
        .order_by("start_time", "pk")
    )
    shown = []
    for maintenance in maintenances:  # read only, never saved
        maintenance.description = ""
        maintenance.unresolved_circuit_ids = []
        shown.append(maintenance)
    calendar = build_calendar(shown, url_for=lambda maintenance: f"urn:uuid:{maintenance.pk}")
    return calendar.to_ical().decode()


def render_notice(
    tenant: Any, kind: str, impact: str, entries: list[tuple[Any, Any]], previous: Any = None
) -> Rendered:
    """The notice's subject, body and calendar; `entries` are (maintenance, TenantImpact), earliest first."""
    name, subject_template, body_template = template_for(tenant, entries[0][0].provider)
    context = notice_context(tenant, kind, impact, entries, previous)
    subject = " ".join(_render(name, "subject", subject_template, context).split())[:SUBJECT_LENGTH]
    body = _render(name, "body", body_template, context)
    circuits = {circuit.pk for _, reached in entries for circuit, _ in reached.circuits}
    return Rendered(subject, body, tenant_calendar([maintenance.pk for maintenance, _ in entries], circuits))
