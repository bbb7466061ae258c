"""The triage queue's table: each notification with what went wrong and the actions that resolve it."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html_join
from nautobot.apps.tables import BaseTable, ChoiceFieldColumn

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.display import DATE_TIME_LETTERS
from nautobot_ssot_circuit_maintenance.models import RawNotification

# Outcome → the actions offered, besides Reprocess and Dismiss (always offered).
RESOLVING_ACTIONS = {
    OutcomeChoices.UNKNOWN_PROVIDER: (("triage_assign_sender", "Assign sender", "mdi-account-arrow-right"),),
    OutcomeChoices.UNKNOWN_CIDS: (("triage_map_circuit", "Map circuit ID", "mdi-link-variant"),),
    # A person outranks mail (decisions/): vouch for the notice, or leave it out of its maintenances.
    OutcomeChoices.AWAITING_CONFIRMATION: (
        ("rawnotification_confirm", "Confirm", "mdi-check-decagram"),
        ("rawnotification_exclude", "Exclude", "mdi-cancel"),
    ),
    OutcomeChoices.SEQUENCE_JUMP: (("rawnotification_exclude", "Exclude", "mdi-cancel"),),
}
ALWAYS = (
    ("triage_reprocess", "Reprocess", "mdi-refresh"),
    ("triage_dismiss", "Dismiss", "mdi-close-circle-outline"),
)


class TriageTable(BaseTable):  # pylint: disable=nb-sub-class-name  # the queue's table of RawNotification, beside the list's
    """The triage queue: each notification, what went wrong, and the actions that resolve it."""

    date = tables.DateTimeColumn(
        verbose_name="Date (UTC)", format=DATE_TIME_LETTERS, attrs={"td": {"class": "text-nowrap"}}
    )
    subject = tables.Column(linkify=True, attrs={"td": {"class": "text-break"}})
    sender = tables.Column(attrs={"td": {"class": "text-break"}})
    source = tables.Column(linkify=True)
    provider = tables.Column(linkify=True)
    outcome = ChoiceFieldColumn()
    error = tables.Column(verbose_name="Why", attrs={"td": {"class": "text-break"}})
    resolve = tables.Column(
        empty_values=(), orderable=False, verbose_name="Resolve", attrs={"td": {"class": "text-nowrap"}}
    )

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = RawNotification
        fields = ("date", "subject", "sender", "source", "provider", "outcome", "error", "resolve")
        default_columns = ("date", "subject", "sender", "provider", "outcome", "error", "resolve")

    def render_subject(self, value: str, record: RawNotification) -> str:
        """The subject, else the message key."""
        return value or record.message_key

    def render_resolve(self, record: RawNotification) -> str:
        """A button for each action that resolves the outcome, then Reprocess and Dismiss."""
        entries = [*RESOLVING_ACTIONS.get(record.outcome, ()), *ALWAYS]
        return format_html_join(
            " ",
            '<a class="btn btn-sm btn-outline-primary" href="{}">'
            '<span class="mdi {}" aria-hidden="true"></span> {}</a>',
            ((reverse(f"{URL_NAMESPACE}:{name}", args=[record.pk]), icon, label) for name, label, icon in entries),
        )
