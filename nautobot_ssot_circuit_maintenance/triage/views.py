"""The triage queue page and one page per action (a form; POST does it, bad input answers 400)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from nautobot.apps.ui import Titles
from nautobot.apps.views import ObjectListViewMixin
from nautobot.circuits.models import Circuit, Provider

from nautobot_ssot_circuit_maintenance import filters, forms
from nautobot_ssot_circuit_maintenance.api.serializers import RawNotificationSerializer
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.export.mail import MailExportActions
from nautobot_ssot_circuit_maintenance.models import RawNotification
from nautobot_ssot_circuit_maintenance.models.maintenance import DUPLICATE_ALIAS
from nautobot_ssot_circuit_maintenance.triage import actions
from nautobot_ssot_circuit_maintenance.triage.forms import (
    AssignSenderForm,
    DismissForm,
    MapCircuitForm,
    ReprocessConfirmForm,
)
from nautobot_ssot_circuit_maintenance.triage.tables import TriageTable
from nautobot_ssot_circuit_maintenance.ui import CsrfFailurePage, NotificationActionView


class TriageQueueUIViewSet(CsrfFailurePage, MailExportActions, ObjectListViewMixin):
    """Notifications that need a person, newest first, each with the actions that resolve it; their mail as a zip."""

    action_buttons = ()
    filterset_class = filters.RawNotificationFilterSet
    filterset_form_class = forms.RawNotificationFilterForm
    queryset = RawNotification.objects.needs_triage().select_related("source", "provider")
    serializer_class = RawNotificationSerializer
    table_class = TriageTable
    view_titles = Titles(titles={"list": "Triage queue ({{ triage_count }})"})

    def get_extra_context(self, request: Any, instance: Any = None) -> dict[str, Any]:
        """Add the queue's size for the page title."""
        context = super().get_extra_context(request, instance)
        context["triage_count"] = actions.triage_count(request.user)
        context["export_mail_url"] = reverse(f"{URL_NAMESPACE}:triage_export_mail")
        return context


class TriageActionView(NotificationActionView):
    """One action on one notification still in the queue; a form with `reprocess` ticked reprocesses it after."""

    queryset = RawNotification.objects.needs_triage().select_related("source", "provider")

    def done(self, request: Any, raw: RawNotification, data: dict[str, Any]) -> Any:
        """Reprocess the notification when the form asks, else back to the queue."""
        if data.get("reprocess"):
            return self.reprocess(request, raw)
        return super().done(request, raw, data)

    def error_text(self, error: Exception) -> str:
        """Name a circuit ID that already has an alias, else as for any action."""
        if isinstance(error, IntegrityError):
            return f"{DUPLICATE_ALIAS}."
        return super().error_text(error)

    def reprocess(self, request: Any, raw: RawNotification) -> Any:
        """Start the sync job over the notification, or say why not and go back to the queue."""
        raw.refresh_from_db()
        reason = actions.cannot_reprocess(raw)
        job = actions.sync_job()
        if reason:
            messages.warning(request, f"Not reprocessed: {reason}.")
        elif job is None or not job.enabled:
            messages.warning(request, "Not reprocessed: the sync job is not enabled (Jobs → the job → Edit → Enabled).")
        elif not job.__class__.objects.restrict(request.user, "run").filter(pk=job.pk).exists():
            messages.warning(request, "Not reprocessed: you may not run the sync job.")
        else:
            result = actions.start_reprocess([raw], request.user)
            return redirect(result.get_absolute_url())
        return redirect(reverse(f"{URL_NAMESPACE}:triage_list"))


class AssignSenderView(TriageActionView):
    """Unknown sender → a provider: the address (or domain) joins the provider's addresses, the provider the source."""

    title = "Assign the sender to a provider"
    additional_permissions = [
        "circuits.change_provider",
        "nautobot_ssot_circuit_maintenance.change_notificationsource",
    ]

    def get_form(self, raw: RawNotification, data: Any = None) -> Any:
        """The form, offering only the providers the user may change."""
        return AssignSenderForm(data, providers=Provider.objects.restrict(self.request.user, "change"))

    def describe(self, raw: RawNotification) -> str:
        """The sender and what assigning it does."""
        return (
            f"Sender {actions.sender_address(raw) or '(none)'} — the provider's “Emails for Circuit Maintenance” "
            f"gets this address (or its domain), and the provider is attached to source {raw.source or '(none)'}."
        )

    def perform(self, request: Any, raw: RawNotification, data: dict[str, Any]) -> str:
        """Add the sender to the provider and attach it to the source; refused unless the user may change the source."""
        if raw.source is None:
            raise ValueError("the notification's source no longer exists")
        if not raw.source.__class__.objects.restrict(request.user, "change").filter(pk=raw.source.pk).exists():
            raise PermissionDenied("You may not change this notification's source.")
        entry = actions.assign_sender(raw, data["provider"], whole_domain=data["whole_domain"])
        return f"{entry} now belongs to {data['provider']}, attached to {raw.source}."


class MapCircuitView(TriageActionView):
    """Unknown circuit ID → a circuit, kept as an alias the sync matches from now on."""

    title = "Map an unknown circuit ID"
    additional_permissions = ["nautobot_ssot_circuit_maintenance.add_circuitalias"]

    def get_form(self, raw: RawNotification, data: Any = None) -> Any:
        """The form, offering the notice's unknown circuit IDs and its provider's circuits the user may view."""
        circuits = Circuit.objects.restrict(self.request.user, "view")
        return MapCircuitForm(
            data, circuit_ids=actions.unknown_circuit_ids(raw), provider=raw.provider, circuits=circuits
        )

    def describe(self, raw: RawNotification) -> str:
        """The provider and the circuit IDs Nautobot does not know."""
        ids = ", ".join(actions.unknown_circuit_ids(raw)) or "none left"
        return f"Provider {raw.provider or '(none)'} names circuit IDs Nautobot does not know: {ids}."

    def perform(self, request: Any, raw: RawNotification, data: dict[str, Any]) -> str:
        """Map the circuit ID to the circuit as an alias of the notice's provider."""
        if raw.provider is None:
            raise ValueError("the notification has no provider")
        alias = actions.map_circuit_id(raw.provider, data["circuit_id"], data["circuit"], request.user)
        return f"{alias.alias} of {raw.provider} now means circuit {alias.circuit}."


class DismissView(TriageActionView):
    """Nothing to do: out of the queue, with who, when and why."""

    title = "Dismiss"
    form_class = DismissForm

    def perform(self, request: Any, raw: RawNotification, data: dict[str, Any]) -> str:
        """Dismiss the notification with the given reason."""
        actions.dismiss(raw, request.user, data["reason"])
        return f"Dismissed: {raw}."


class ReprocessView(TriageActionView):
    """Run the sync over the stored message now (a job run)."""

    title = "Reprocess"
    additional_permissions = ["extras.run_job"]

    def get_form(self, raw: RawNotification, data: Any = None) -> Any:
        """The confirmation form, with no input."""
        return ReprocessConfirmForm(data)

    def describe(self, raw: RawNotification) -> str:
        """What reprocessing does, or why this notification cannot be reprocessed."""
        reason = actions.cannot_reprocess(raw)
        if reason:
            return f"This notification cannot be reprocessed: {reason}."
        return (
            "The stored message goes through the parser again with today's providers and aliases, then through "
            "the sync like new mail (a run of the sync job, shown in the SSoT dashboard)."
        )

    def post(self, request: Any, pk: Any) -> Any:
        """Start the reprocess; on a notification that cannot be, the form again with 400."""
        raw = get_object_or_404(self.queryset, pk=pk)
        reason = actions.cannot_reprocess(raw)
        if reason:
            form = ReprocessConfirmForm(request.POST)
            form.is_valid()
            form.add_error(None, f"Cannot reprocess: {reason}.")
            return self.show(request, raw, form, status=400)
        return self.reprocess(request, raw)
