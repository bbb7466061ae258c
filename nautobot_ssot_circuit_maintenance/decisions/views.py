"""One page per decision (a form; POST does it and recomputes at once; bad input answers 400)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from nautobot.apps.views import ObjectPermissionRequiredMixin

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.decisions import actions
from nautobot_ssot_circuit_maintenance.decisions.forms import ConfirmForm, ExcludeForm, OverrideForm
from nautobot_ssot_circuit_maintenance.decisions.refold import Refolded
from nautobot_ssot_circuit_maintenance.intake.locking import SyncBusy
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from nautobot_ssot_circuit_maintenance.ui import NotificationActionView

OVERRIDE_TEMPLATE = "nautobot_ssot_circuit_maintenance/maintenance_override.html"


def summary(refolded: Refolded) -> str:
    """What a decision recomputed and deleted, for the message shown to the user."""
    parts = []
    if refolded.changed:
        parts.append("recomputed " + ", ".join(refolded.changed))
    if refolded.deleted:
        parts.append("deleted (no notice that counts says it exists) " + ", ".join(refolded.deleted))
    return "; ".join(parts) or "no maintenance changed"


class NotificationDecisionView(NotificationActionView):
    """A decision on any stored notification; back to its page afterwards."""

    queryset = RawNotification.objects.select_related("source", "provider")

    def post(self, request: Any, pk: Any) -> Any:
        """Perform the decision, then go back to the notification's page (also when a sync holds the lock)."""
        try:
            response = super().post(request, pk)
        except SyncBusy as error:
            messages.error(request, str(error))
            return redirect(get_object_or_404(RawNotification, pk=pk).get_absolute_url())
        if response.status_code == 302:
            return redirect(get_object_or_404(RawNotification, pk=pk).get_absolute_url())
        return response


class ExcludeView(NotificationDecisionView):
    """Forged or mistaken: left out of every fold; its maintenances recomputed now."""

    title = "Exclude from its maintenances"
    form_class = ExcludeForm
    queryset = RawNotification.objects.filter(excluded_at__isnull=True).select_related("source", "provider")

    def describe(self, raw: RawNotification) -> str:
        """What excluding the notice does."""
        return (
            "The notice stops counting: its maintenances are recomputed at once from the other notices (a maintenance "
            "no other notice speaks of is deleted). Re-parse keeps it excluded; you can include it again."
        )

    def perform(self, request: Any, raw: RawNotification, data: dict[str, Any]) -> str:
        """Exclude the notice with the given reason and say what was recomputed."""
        return f"Excluded: {raw}; {summary(actions.exclude(raw, request.user, data['reason']))}."


class IncludeView(NotificationDecisionView):
    """Undo an exclusion."""

    title = "Include again"
    form_class = ConfirmForm
    queryset = RawNotification.objects.filter(excluded_at__isnull=False).select_related("source", "provider")

    def describe(self, raw: RawNotification) -> str:
        """Who excluded the notice and why."""
        return f"Excluded by {raw.excluded_by or 'someone'}: {raw.exclusion_reason}. It counts again once included."

    def perform(self, request: Any, raw: RawNotification, data: dict[str, Any]) -> str:
        """Include the notice again and say what was recomputed."""
        return f"Included: {raw}; {summary(actions.include(raw))}."


class ConfirmView(NotificationDecisionView):
    """An unauthenticated change that matters, vouched for by a person."""

    title = "Confirm"
    form_class = ConfirmForm
    queryset = RawNotification.objects.filter(outcome=OutcomeChoices.AWAITING_CONFIRMATION).select_related(
        "source", "provider"
    )

    def describe(self, raw: RawNotification) -> str:
        """What confirming the notice does."""
        return "The notice counts from now on, as if its sender had been authenticated; its maintenances change now."

    def perform(self, request: Any, raw: RawNotification, data: dict[str, Any]) -> str:
        """Confirm the notice as the user and say what was recomputed."""
        return f"Confirmed: {raw}; {summary(actions.confirm(raw, request.user))}."


class OverrideView(ObjectPermissionRequiredMixin, View):
    """GET shows the override form (and the current override, with Release); POST sets or releases it."""

    queryset = CircuitMaintenance.objects.select_related("provider")

    def get_required_permission(self) -> str:
        """An override needs the permission to change the maintenance."""
        return "nautobot_ssot_circuit_maintenance.change_circuitmaintenance"

    def get(self, request: Any, pk: Any) -> Any:
        """The override form, for the maintenance's provider's circuits."""
        maintenance = get_object_or_404(self.queryset, pk=pk)
        return self.show(request, maintenance, OverrideForm(maintenance=maintenance))

    def post(self, request: Any, pk: Any) -> Any:
        """Set or release the override, then go back to the maintenance; 400 with the form on bad input."""
        maintenance = get_object_or_404(self.queryset, pk=pk)
        try:
            if "release" in request.POST:
                text = f"Override released; {summary(actions.release(maintenance))}."
            else:
                form = OverrideForm(request.POST, maintenance=maintenance)
                if not form.is_valid():
                    return self.show(request, maintenance, form, status=400)
                data = form.cleaned_data
                record = actions.override(
                    maintenance,
                    request.user,
                    data["reason"],
                    status=data["status"],
                    windows=data["windows"],
                    circuits=data["circuit_impacts"],
                )
                text = f"Override set: {record.describe()}."
        except ValueError as error:
            form = OverrideForm(request.POST, maintenance=maintenance)
            form.is_valid()
            form.add_error(None, str(error))
            return self.show(request, maintenance, form, status=400)
        except SyncBusy as error:
            messages.error(request, str(error))
            return redirect(maintenance.get_absolute_url())
        messages.success(request, text)
        return redirect(maintenance.get_absolute_url())

    def show(self, request: Any, maintenance: CircuitMaintenance, form: Any, status: int = 200) -> Any:
        """Render the override page with the form and the current override, if any."""
        current = getattr(maintenance, "override", None) if hasattr(maintenance, "override") else None
        context = {"object": maintenance, "form": form, "current": current, "title": f"Override: {maintenance}"}
        return render(request, OVERRIDE_TEMPLATE, context, status=status)
