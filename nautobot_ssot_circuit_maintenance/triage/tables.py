"""The triage queue's table: each notification with what went wrong and the actions that resolve it."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from nautobot.apps.tables import BaseTable, ChoiceFieldColumn, ToggleColumn

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.models import RawNotification
from nautobot_ssot_circuit_maintenance.tables import BREAK_ANYWHERE, TimeColumn
from nautobot_ssot_circuit_maintenance.userdocs import pages

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
# How much of the reason the queue shows (a parser's error can run to pages; the notification's page has it whole).
ERROR_SHOWN = 200
# The table's text when it has no row, by why it has none.
EMPTY_QUEUE = (
    "The triage queue lists the notifications that need a person: an unknown sender, an unknown circuit ID, "
    "a message that failed to parse or was too large, a notice awaiting confirmation. Nothing needs a person now. "
    'Every fetched notification is under <a href="{}">Raw Notifications</a>; what each case means and how it is '
    'resolved: <a href="{}">Triage queue</a> in the documentation.'
)
NO_MATCH = "No notification in the triage queue matches these filters."
LOADING = "Loading the triage queue…"


class TriageTable(BaseTable):  # pylint: disable=nb-sub-class-name  # the queue's table of RawNotification, beside the list's
    """The triage queue: each notification, what went wrong, and the actions that resolve it."""

    # The rows whose mail "Export selected" puts in a zip.
    pk = ToggleColumn()
    date = TimeColumn(verbose_name="Date")
    # Widths that fit the queue at 1400 px beside Nautobot's menu, the Resolve buttons included.
    subject = tables.Column(linkify=True, attrs={"td": {"style": f"min-width: 10rem; {BREAK_ANYWHERE}"}})
    sender = tables.Column(attrs={"td": {"style": f"min-width: 10rem; {BREAK_ANYWHERE}"}})
    source = tables.Column(linkify=True)
    provider = tables.Column(linkify=True)
    outcome = ChoiceFieldColumn()
    error = tables.Column(verbose_name="Why", attrs={"td": {"style": f"min-width: 10rem; {BREAK_ANYWHERE}"}})
    resolve = tables.Column(empty_values=(), orderable=False, verbose_name="Resolve")

    class Meta(BaseTable.Meta):
        """Meta attributes."""

        model = RawNotification
        fields = ("pk", "date", "subject", "sender", "source", "provider", "outcome", "error", "resolve")
        default_columns = ("pk", "date", "subject", "sender", "provider", "outcome", "error", "resolve")

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any):
        """The table, remembering whose queue it shows for its text when it has no row."""
        self._queue_user = user
        self._empty_text = None
        self._constructing = True  # Nautobot's BaseTable reads `empty_text` in __init__: no query for that
        super().__init__(*args, user=user, **kwargs)
        self._constructing = False

    @property
    def empty_text(self) -> str | None:
        """Why there is no row: the queue is empty (what it is for, where to look), filtered out, or loading.

        Read only when the table has no row, so the queue is counted only then. Nautobot renders a list page's
        table empty first (`queryset.none()`) and fills it through HTMX: that first table says it is loading.
        """
        if self._empty_text is not None:
            return self._empty_text
        if self._constructing:
            return ""
        rows = self.data.data
        if isinstance(rows, QuerySet) and rows.query.is_empty():
            return LOADING
        queue = RawNotification.objects.all()
        if self._queue_user is not None:
            queue = queue.restrict(self._queue_user, "view")
        if queue.needs_triage().exists():
            return NO_MATCH
        return format_html(
            EMPTY_QUEUE,
            reverse(f"{URL_NAMESPACE}:rawnotification_list"),
            pages.page_url(pages.TRIAGE_PAGE),
        )

    @empty_text.setter
    def empty_text(self, value: str | None) -> None:
        """A text given by the caller (django-tables2's `empty_text` argument) wins over the computed one."""
        self._empty_text = value

    def render_error(self, value: str) -> str:
        """Why it needs a person: the first ERROR_SHOWN characters (the whole text on hover and on its page)."""
        if len(value) <= ERROR_SHOWN:
            return value
        return format_html('<span title="{}">{}…</span>', value, value[:ERROR_SHOWN].rstrip())

    def render_subject(self, value: str, record: RawNotification) -> str:
        """The subject, else the message key."""
        return value or record.message_key

    def render_resolve(self, record: RawNotification) -> str:
        """A button for each action that resolves the outcome, then Reprocess and Dismiss."""
        entries = [*RESOLVING_ACTIONS.get(record.outcome, ()), *ALWAYS]
        return format_html_join(
            "",
            '<a class="btn btn-sm btn-outline-primary d-block text-start text-nowrap mb-1" href="{}">'
            '<span class="mdi {}" aria-hidden="true"></span> {}</a>',
            ((reverse(f"{URL_NAMESPACE}:{name}", args=[record.pk]), icon, label) for name, label, icon in entries),
        )
