"""Forms of the triage actions; each is bound to one notification."""

from __future__ import annotations

from typing import Any

from django import forms
from nautobot.apps.forms import BootstrapMixin, DynamicModelChoiceField
from nautobot.circuits.models import Circuit, Provider

from nautobot_ssot_circuit_maintenance.decisions.forms import ReasonForm

REPROCESS_HELP = "Run the sync over this notification right away (a job run, shown in the SSoT dashboard)."


class AssignSenderForm(BootstrapMixin, forms.Form):
    """Assign an unknown sender to a provider, by address or whole domain."""

    provider = DynamicModelChoiceField(queryset=Provider.objects.all(), help_text="The provider that sent it.")
    whole_domain = forms.BooleanField(
        required=False,
        label="Whole domain",
        help_text="Claim every sender of the domain (@example.com), not just this address.",
    )
    reprocess = forms.BooleanField(required=False, initial=True, label="Reprocess now", help_text=REPROCESS_HELP)

    def __init__(self, *args: Any, providers: Any = None, **kwargs: Any) -> None:
        """Offer only `providers` (the view passes those the user may change)."""
        super().__init__(*args, **kwargs)
        if providers is not None:
            self.fields["provider"].queryset = providers


class MapCircuitForm(BootstrapMixin, forms.Form):
    """Map one of the notice's unknown circuit IDs to a Nautobot circuit."""

    circuit_id = forms.ChoiceField(label="Unknown circuit ID", help_text="As the provider's notice writes it.")
    circuit = DynamicModelChoiceField(
        queryset=Circuit.objects.all(),
        query_params={"provider": "$provider"},
        help_text="The Nautobot circuit it means; future notices naming this ID are linked to it.",
    )
    reprocess = forms.BooleanField(required=False, initial=True, label="Reprocess now", help_text=REPROCESS_HELP)

    def __init__(self, *args: Any, circuit_ids: list[str], circuits: Any = None, **kwargs: Any) -> None:
        """Offer the notice's unknown circuit IDs, and only `circuits` (the view passes those the user may view)."""
        super().__init__(*args, **kwargs)
        self.fields["circuit_id"].choices = [(cid, cid) for cid in circuit_ids]
        if circuits is not None:
            self.fields["circuit"].queryset = circuits


class DismissForm(ReasonForm):
    """Why no action is needed."""


class ReprocessConfirmForm(BootstrapMixin, forms.Form):
    """No input: the button is the confirmation."""
