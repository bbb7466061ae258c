"""Nautobot: approval workflows (3.0+), as customer notices use them.

A model opts in with `ApprovableModelMixin`; `begin_approval_workflow()` starts the workflow whose definition
matches it (or returns None), and the workflow calls back `on_workflow_approved` / `_denied` / `_canceled` when
decided. Pending workflows are the model's `associated_approval_workflows`; `ApprovalWorkflow.cancel(user,
comments)` cancels one (it records the user's CANCELED response on the active stage). Those names are what this
module relies on; tests/test_compat.py pins them on the installed release.
"""

from __future__ import annotations

from typing import Any


def start_workflow(instance: Any) -> Any:
    """Start (or find the pending) approval workflow of `instance`; None when no definition applies."""
    return instance.begin_approval_workflow()


def has_workflow_definition(instance: Any) -> bool:
    """Whether an approval workflow definition applies to `instance`."""
    return instance.has_approval_workflow_definition()


def pending_workflows(instance: Any) -> list[Any]:
    """The approval workflows of `instance` still waiting for a decision."""
    from nautobot.extras.choices import ApprovalWorkflowStateChoices  # models/ import this before Nautobot's apps load

    return list(instance.associated_approval_workflows.filter(current_state=ApprovalWorkflowStateChoices.PENDING))


def cancel_workflow(workflow: Any, user: Any, comments: str) -> None:
    """Cancel a pending workflow in `user`'s name (Nautobot then calls the object's `on_workflow_canceled`)."""
    workflow.cancel(user, comments)


def last_approver(workflow: Any) -> Any:
    """The user whose response approved the workflow last, None when none is recorded."""
    from nautobot.extras.choices import ApprovalWorkflowStateChoices  # models/ import this before Nautobot's apps load
    from nautobot.extras.models import ApprovalWorkflowStageResponse

    response = (
        ApprovalWorkflowStageResponse.objects.filter(
            approval_workflow_stage__approval_workflow=workflow, state=ApprovalWorkflowStateChoices.APPROVED
        )
        .select_related("user")
        .order_by("-last_updated")
        .first()
    )
    return response.user if response is not None else None
