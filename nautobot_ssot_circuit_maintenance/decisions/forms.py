"""The forms of a person's decisions (the REST API checks the same through decisions/requests.py)."""

from __future__ import annotations

from datetime import timezone
from typing import Any

from django import forms
from nautobot.apps.forms import BootstrapMixin, DynamicModelMultipleChoiceField
from nautobot.circuits.models import Circuit

from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.ui import ZonedTimesMixin
from nautobot_ssot_circuit_maintenance.validation import contains_nul


class ReasonForm(BootstrapMixin, forms.Form):
    """A reason, kept with the decision, with your name and the time."""

    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why no action is needed (kept with the notification, with your name and the time).",
    )

    def clean_reason(self) -> str:
        """The reason with its whitespace collapsed; refused when empty or holding a NUL."""
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason or contains_nul(reason):
            raise forms.ValidationError("Give a reason (text, without NUL characters).")
        return reason


class ExcludeForm(ReasonForm):
    """Why the notice is forged or mistaken (kept with it, with your name and the time)."""


class ConfirmForm(BootstrapMixin, forms.Form):
    """No input: the button is the confirmation."""


class OverrideForm(ZonedTimesMixin, BootstrapMixin, forms.Form):
    """A person's override of a maintenance's status, window and/or circuits, with the reason."""

    status = forms.ChoiceField(
        choices=[("", "— keep what the notices say —"), *MaintenanceStatusChoices.CHOICES],
        required=False,
        help_text="The status that holds, whatever later notices say.",
    )
    start = forms.DateTimeField(required=False, label="Start", help_text="With End: the one window that holds.")
    end = forms.DateTimeField(required=False, label="End")
    set_circuits = forms.BooleanField(
        required=False, label="Override the circuits", help_text="The circuits below (none: no circuit) hold."
    )
    circuits = DynamicModelMultipleChoiceField(queryset=Circuit.objects.all(), required=False)
    impact = forms.ChoiceField(choices=ImpactChoices.CHOICES, initial=ImpactChoices.OUTAGE, required=False)
    reason = forms.CharField(
        max_length=500, widget=forms.Textarea(attrs={"rows": 3}), help_text="Why (shown on the maintenance)."
    )

    def __init__(self, *args: Any, maintenance: Any = None, **kwargs: Any) -> None:
        """Offer only the circuits of the maintenance's provider."""
        super().__init__(*args, **kwargs)
        if maintenance is not None:
            self.fields["circuits"].queryset = Circuit.objects.filter(provider_id=maintenance.provider_id)
            self.fields["circuits"].widget.add_query_param("provider", str(maintenance.provider_id))

    def clean(self) -> dict[str, Any]:
        """Add `windows` and `circuit_impacts` as the override takes them; refuse an override that sets nothing."""
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if (start is None) != (end is None):
            raise forms.ValidationError("Give both the start and the end of the window, or neither.")
        if start is not None:
            # Django read them in the active zone (the help text names it): the same instants, in UTC.
            start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
            if end < start:
                raise forms.ValidationError("The window ends before it starts.")
            data["windows"] = [(start, end)]
        else:
            data["windows"] = []
        impact = data.get("impact") or ImpactChoices.OUTAGE
        data["circuit_impacts"] = (
            [(circuit, impact) for circuit in data.get("circuits") or []] if data.get("set_circuits") else None
        )
        if not data.get("status") and not data["windows"] and data["circuit_impacts"] is None:
            raise forms.ValidationError("An override needs a status, a window or the circuits.")
        data["reason"] = " ".join(str(data.get("reason") or "").split())
        return data
