"""Detail-page buttons to a person's decisions, each shown only where the decision applies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nautobot.apps.ui import Button, ButtonColorChoices

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE


class DecisionButton(Button):
    """A link to a decision's form page, rendered when `applies(object)` holds."""

    def __init__(self, *, applies: Callable[[Any], bool], **kwargs: Any) -> None:
        """Keep the `applies(object)` test that decides whether the button is shown."""
        super().__init__(**kwargs)
        self.applies = applies

    def should_render(self, context: Any) -> bool:
        """Render only on a page whose object the decision applies to."""
        obj = context.get("object")
        return obj is not None and self.applies(obj) and super().should_render(context)


NOTIFICATION_BUTTONS = (
    DecisionButton(
        weight=100,
        label="Confirm",
        icon="mdi-check-decagram",
        color=ButtonColorChoices.GREEN,
        link_name=f"{URL_NAMESPACE}:rawnotification_confirm",
        required_permissions=["nautobot_ssot_circuit_maintenance.change_rawnotification"],
        applies=lambda raw: raw.outcome == OutcomeChoices.AWAITING_CONFIRMATION and not raw.is_excluded,
    ),
    DecisionButton(
        weight=200,
        label="Exclude",
        icon="mdi-cancel",
        color=ButtonColorChoices.RED,
        link_name=f"{URL_NAMESPACE}:rawnotification_exclude",
        required_permissions=["nautobot_ssot_circuit_maintenance.change_rawnotification"],
        applies=lambda raw: not raw.is_excluded and raw.parsed_notifications.exists(),
    ),
    DecisionButton(
        weight=200,
        label="Include again",
        icon="mdi-undo",
        color=ButtonColorChoices.YELLOW,
        link_name=f"{URL_NAMESPACE}:rawnotification_include",
        required_permissions=["nautobot_ssot_circuit_maintenance.change_rawnotification"],
        applies=lambda raw: raw.is_excluded,
    ),
)

OVERRIDE_BUTTON = DecisionButton(
    weight=200,
    label="Override",
    icon="mdi-account-lock",
    color=ButtonColorChoices.YELLOW,
    link_name=f"{URL_NAMESPACE}:circuitmaintenance_override",
    required_permissions=["nautobot_ssot_circuit_maintenance.change_circuitmaintenance"],
    applies=lambda maintenance: True,
)
