"""A person approves a customer notice before it is sent.

Where an approval workflow definition of Nautobot (Approvals → Workflow definitions) applies to customer notices,
the notice goes through it: "Request approval" starts the workflow (the notice awaits approval), its approvers
decide in Nautobot's own approval pages, and an approval lets the notice be sent (a denial or a cancellation puts
it back to draft). Where none applies, a user with the app's `approve_customernotice` permission approves it
directly. Either way the approval is of the notice as it stands: a notice rewritten afterwards (its maintenance
changed again) goes back to draft and is approved anew. Approving queues the send job (customers/jobs.py).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from nautobot_ssot_circuit_maintenance.choices import NoticeStateChoices, RecipientStateChoices
from nautobot_ssot_circuit_maintenance.compat.approvals import has_workflow_definition, last_approver, start_workflow
from nautobot_ssot_circuit_maintenance.compat.changelog import change_logged
from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.customers.jobs import queue_send_job
from nautobot_ssot_circuit_maintenance.models import CustomerNotice

CHANGE_CONTEXT_DETAIL = f"{APP_NAME}: customer notice approval"


class ApprovalRefused(ValueError):
    """The notice cannot be approved (or sent for approval) as it stands; the message says why."""


def _locked(notice: CustomerNotice) -> CustomerNotice:
    return CustomerNotice.objects.select_for_update(of=("self",)).get(pk=notice.pk)


def _check_sendable(notice: CustomerNotice) -> None:
    if not notice.recipients.exists():
        raise ApprovalRefused("The notice has no recipients: add contacts with the notice role to the tenant first.")


def request_approval(notice: CustomerNotice) -> Any:
    """Start the notice's approval workflow; ApprovalRefused when none applies or the notice is not a draft."""
    with transaction.atomic(), change_logged(CHANGE_CONTEXT_DETAIL):
        notice = _locked(notice)
        if notice.state != NoticeStateChoices.DRAFT:
            raise ApprovalRefused(f"The notice is {notice.get_state_display().lower()}, not a draft.")
        _check_sendable(notice)
        workflow = start_workflow(notice)
        if workflow is None:
            raise ApprovalRefused("No approval workflow applies to customer notices: approve it directly.")
        return workflow


def approve(notice: CustomerNotice, user: Any) -> CustomerNotice:
    """Approve a draft for sending in `user`'s name (the caller checked `approve_customernotice`), and queue the send.

    Refused where an approval workflow applies: its approvers decide.
    """
    with transaction.atomic(), change_logged(CHANGE_CONTEXT_DETAIL):
        notice = _locked(notice)
        if notice.state != NoticeStateChoices.DRAFT:
            raise ApprovalRefused(f"The notice is {notice.get_state_display().lower()}, not a draft.")
        _check_sendable(notice)
        if has_workflow_definition(notice):
            raise ApprovalRefused("An approval workflow applies to customer notices: request approval instead.")
        _mark_approved(notice, user)
    queue_send(notice, user)
    return notice


def _mark_approved(notice: CustomerNotice, user: Any) -> None:
    notice.state = NoticeStateChoices.APPROVED
    notice.approved_by = user
    notice.approved_at = timezone.now()
    notice.save()


def queue_send(notice: CustomerNotice, user: Any) -> None:
    """Queue the send job for the notice once the transaction commits (nothing when the job is not enabled)."""
    transaction.on_commit(lambda: queue_send_job(notice, user))


def workflow_initiated(notice: CustomerNotice, workflow: Any) -> None:
    """Nautobot started the notice's workflow: it awaits approval."""
    if notice.state == NoticeStateChoices.DRAFT:
        notice.state = NoticeStateChoices.AWAITING_APPROVAL
        notice.save()


def workflow_approved(notice: CustomerNotice, workflow: Any) -> None:
    """The workflow approved the notice: approve it in its last approver's name and queue the send."""
    with transaction.atomic(), change_logged(CHANGE_CONTEXT_DETAIL):
        notice = _locked(notice)
        if notice.state != NoticeStateChoices.AWAITING_APPROVAL:
            return
        user = last_approver(workflow)
        _mark_approved(notice, user)
    queue_send(notice, user)


def workflow_ended(notice: CustomerNotice, workflow: Any) -> None:
    """The workflow was denied or cancelled: the notice is a draft again."""
    with transaction.atomic(), change_logged(CHANGE_CONTEXT_DETAIL):
        notice = _locked(notice)
        if notice.state == NoticeStateChoices.AWAITING_APPROVAL:
            notice.state = NoticeStateChoices.DRAFT
            notice.save()


def resend(notice: CustomerNotice, user: Any, addresses: list[str] | None = None) -> int:
    """Send again to these recipients (all that were not sent when None), on a person's request; return how many.

    The caller checked `send_customernotice`. Only a sent notice, or one still sending, can be resent.
    """
    with transaction.atomic(), change_logged(CHANGE_CONTEXT_DETAIL):
        notice = _locked(notice)
        if notice.state not in (NoticeStateChoices.SENT, NoticeStateChoices.SENDING):
            raise ApprovalRefused(f"The notice is {notice.get_state_display().lower()}: only a sent notice is resent.")
        rows = notice.recipients.select_for_update(of=("self",)).exclude(state=RecipientStateChoices.SENDING)
        if addresses is None:
            rows = rows.exclude(state=RecipientStateChoices.SENT)
        else:
            rows = rows.filter(address__in=addresses)
        count = rows.update(state=RecipientStateChoices.PENDING, answer="", claimed_at=None)
        if count:
            notice.state = NoticeStateChoices.SENDING
            notice.save()
    if count:
        queue_send(notice, user)
    return count


# What each event of a notice's approval workflow does (models.customers.workflow_decided, connected in signals.py).
WORKFLOW_STEPS = {"initiated": workflow_initiated, "approved": workflow_approved, "ended": workflow_ended}
