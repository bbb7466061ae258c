"""The customer-notice jobs: draft (scheduled, or after each sync with `auto_draft`) and send (queued on approval)."""

from __future__ import annotations

from typing import Any

from nautobot.apps.jobs import Job, ObjectVar

from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.customers.drafts import DraftChange, draft_notices
from nautobot_ssot_circuit_maintenance.customers.render import NoticeTemplateError
from nautobot_ssot_circuit_maintenance.customers.send import RecipientOutcome, SendFailed, notices_to_send, send_notice
from nautobot_ssot_circuit_maintenance.customers.settings import NoticeConfigurationError, notice_settings
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, CustomerNotice

name = "Circuit Maintenance"  # Job grouping in the UI


class NoticesNotSent(RuntimeError):
    """Some notices could not be sent; the job log says which and why."""


def _log_draft(logger: Any) -> Any:
    def report(change: DraftChange) -> None:
        logger.info(change.describe()[0].upper() + change.describe()[1:], extra={"object": change.notice})

    return report


class DraftCustomerNotices(Job):
    """Draft, update or discard the customer notices of every maintenance not over."""

    class Meta:
        """Meta attributes."""

        name = "Draft customer notices"
        description = (
            "Make a draft notice for each tenant a maintenance affects (one per tenant for maintenances in "
            "overlapping windows), rewrite drafts whose maintenances changed, and draft a follow-up for a notice "
            "already sent. Nothing is sent: a person approves each notice."
        )
        has_sensitive_variables = False

    def run(self) -> None:
        """Draft the notices of every maintenance not over."""
        outcome = draft_notices(report=_log_draft(self.logger))
        self.logger.info("%d notice change(s)", len(outcome.changes))


def draft_notices_after_sync(job: Any) -> None:
    """Called by the sync job once it has written: with `auto_draft`, draft the notices of what the run changed."""
    if getattr(job, "dryrun", True) or not notice_settings().auto_draft:
        return
    since = getattr(getattr(job, "sync", None), "start_time", None)
    changed = CircuitMaintenance.objects.all()
    if since:
        changed = changed.filter(last_updated__gte=since)
    try:
        outcome = draft_notices(list(changed.values_list("pk", flat=True)), report=_log_draft(job.logger))
    except NoticeTemplateError as error:
        job.logger.error("Customer notices not drafted: %s", error)
        return
    job.logger.info("Customer notices: %d change(s)", len(outcome.changes))


class SendCustomerNotices(Job):
    """Send the approved customer notices (or one), each recipient at most once; queued when a notice is approved."""

    notice = ObjectVar(
        model=CustomerNotice,
        required=False,
        description="Only this notice (default: every approved notice, and those whose send was cut short)",
    )

    class Meta:
        """Meta attributes."""

        name = "Send customer notices"
        description = (
            "Send the approved customer notices through the configured mail relay, one message per recipient, "
            "and record each recipient's answer. A recipient is never sent twice by a retry or a second worker."
        )
        has_sensitive_variables = False

    def run(self, notice: CustomerNotice | None = None) -> None:
        """Send the notice, or every notice waiting to be sent."""
        settings = notice_settings()
        failures = 0
        for pk in [notice.pk] if notice is not None else notices_to_send():

            def report(result: RecipientOutcome, pk: Any = pk) -> None:
                level = self.logger.info if result.state == "sent" else self.logger.warning
                level(
                    "%s: %s (%s)",
                    result.address,
                    result.state,
                    result.answer,
                    extra={"object": CustomerNotice.objects.get(pk=pk)},
                )

            try:
                outcome = send_notice(pk, settings=settings, report=report)
            except (SendFailed, NoticeConfigurationError) as error:
                failures += 1
                self.logger.error("Notice %s not sent: %s", pk, error)
                continue
            for address in outcome.interrupted:
                self.logger.warning("%s: an earlier send was interrupted; resend it if needed", address)
        if failures:
            raise NoticesNotSent(f"{failures} notice(s) not sent; the next run retries what was not claimed")


def send_job() -> Any:
    """The send job's Job record if it is installed and enabled, else None."""
    from nautobot.extras.models import Job as JobModel  # models are not ready when jobs are imported at registry time

    return JobModel.objects.filter(
        module_name=SendCustomerNotices.__module__, job_class_name=SendCustomerNotices.__name__, enabled=True
    ).first()


def queue_send_job(notice: CustomerNotice, user: Any) -> Any:
    """Queue the send job for the notice on a worker; None when the job is not installed or enabled."""
    from nautobot.extras.models import JobResult  # models are not ready when jobs are imported at registry time

    job = send_job()
    if job is None or user is None:
        return None
    return JobResult.enqueue_job(job, user, **job_inputs(JobResult.enqueue_job, {"notice": str(notice.pk)}))
