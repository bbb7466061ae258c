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
    """Map one of the notice's unknown circuit IDs to a circuit of the notice's provider."""

    circuit_id = forms.ChoiceField(label="Unknown circuit ID", help_text="As the provider's notice writes it.")
    circuit = DynamicModelChoiceField(
        queryset=Circuit.objects.all(),
        help_text="The provider's Nautobot circuit it means; future notices naming this ID are linked to it.",
    )
    reprocess = forms.BooleanField(required=False, initial=True, label="Reprocess now", help_text=REPROCESS_HELP)

    def __init__(
        self, *args: Any, circuit_ids: list[str], provider: Provider | None, circuits: Any = None, **kwargs: Any
    ) -> None:
        """Offer the notice's unknown circuit IDs, and only `provider`'s circuits among `circuits`.

        `circuits` are those the user may view (the view passes them). An alias maps a provider's circuit ID to
        one of that provider's circuits (the sync matches it only there), so both the dropdown (its API query)
        and the check of a posted circuit keep to `provider`; without one, no circuit is offered.
        """
        super().__init__(*args, **kwargs)
        self.fields["circuit_id"].choices = [(cid, cid) for cid in circuit_ids]
        field = self.fields["circuit"]
        circuits = field.queryset if circuits is None else circuits
        if provider is None:
            field.queryset = circuits.none()
            field.error_messages["invalid_choice"] = "The notification has no provider, so no circuit can be mapped."
            return
        field.queryset = circuits.filter(provider=provider)
        field.widget.add_query_param("provider", str(provider.pk))
        field.error_messages["invalid_choice"] = (
            f"Choose a circuit of provider {provider} (the notice's provider) that you may view."
        )


class DismissForm(ReasonForm):
    """Why no action is needed."""


class ReprocessConfirmForm(BootstrapMixin, forms.Form):
    """No input: the button is the confirmation."""
