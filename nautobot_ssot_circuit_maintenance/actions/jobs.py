"""The jobs that act on maintenances: keep the Alertmanager silences (scheduled, or a Job Hook receiver), fire rules."""

from __future__ import annotations

import smtplib
from typing import Any

from nautobot.apps.jobs import DryRunVar, IntegerVar, Job, JobHookReceiver, ObjectVar, StringVar

from nautobot_ssot_circuit_maintenance.actions.digest import (
    DEFAULT_DIGEST_DAYS,
    build_digest,
    digest_recipients,
    send_digest,
)
from nautobot_ssot_circuit_maintenance.actions.runs import ActionsOutcome, RunReport, run_due_actions
from nautobot_ssot_circuit_maintenance.actions.silences import (
    SilenceChange,
    SyncOutcome,
    alertmanager_client,
    maintenances_to_sync,
    silence_settings,
    sync_silences,
)
from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.events.jobs import record_live_transitions
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance
from nautobot_ssot_circuit_maintenance.models.reach import maintenance_reach

name = "Circuit Maintenance"  # Job grouping in the UI

NOT_CONFIGURED = (
    f'Alertmanager is not configured: set "alertmanager": {{"url": ...}} in PLUGINS_CONFIG["{APP_NAME}"] '
    "(docs/actions.md)"
)


class SilencesFailed(RuntimeError):
    """Some silences could not be brought in line; the job log says which and why."""


class _SilenceJobMixin:
    """What both silence jobs share: the settings, the client, logging each change and failing on failures."""

    logger: Any

    def sync(self, pks: list[Any], dry_run: bool = False) -> SyncOutcome:
        """Sync the silences of these maintenances (and expire those of deleted ones), log it all, fail on failure."""
        settings = silence_settings()
        if settings is None:
            raise SilencesFailed(NOT_CONFIGURED)
        client = alertmanager_client(settings)
        prefix = "Would " if dry_run else ""

        def report(change: SilenceChange) -> None:
            verb = change.describe()
            text = f"{prefix}{verb}" if dry_run else verb[0].upper() + verb[1:]
            extra = {"object": change.maintenance} if change.maintenance is not None else {}
            self.logger.info(text, extra=extra)

        outcome = sync_silences(pks, settings, client, dry_run=dry_run, report=report)
        for pk, message in outcome.failures:
            maintenance = CircuitMaintenance.objects.filter(pk=pk).first() if pk else None
            extra = {"object": maintenance} if maintenance is not None else {}
            self.logger.error(
                "Silences of %s not synced: %s", maintenance or "deleted maintenances", message, extra=extra
            )
        self.logger.info(
            "%d silence change(s)%s, %d failure(s)",
            len(outcome.changes),
            " (dry run: nothing done)" if dry_run else "",
            len(outcome.failures),
        )
        if outcome.failures:
            raise SilencesFailed(f"{len(outcome.failures)} maintenance(s) not synced; the next run retries")
        return outcome


class SyncAlertmanagerSilences(_SilenceJobMixin, Job):
    """Keep one Alertmanager silence per window of every maintenance not over, for what it affects."""

    dryrun = DryRunVar(description="Show what would be created, updated or expired, and do nothing")

    class Meta:
        """Meta attributes."""

        name = "Sync Alertmanager silences"
        description = (
            "Keep an Alertmanager silence for what each circuit maintenance affects (devices, interfaces, circuits, "
            "locations, by the configured matcher templates), from each window's start minus a margin to its end "
            "plus a margin: created, moved when rescheduled, expired when cancelled or completed. Schedule it "
            "every few minutes; a Job Hook (Sync Alertmanager silences on change) acts at once."
        )
        has_sensitive_variables = False

    def run(self, dryrun: bool = False) -> None:  # pylint: disable=arguments-differ
        """Sync the silences of every maintenance not over, and of those that still have one."""
        from django.utils import timezone

        self.sync(maintenances_to_sync(timezone.now()), dry_run=dryrun)


class SyncAlertmanagerSilencesOnChange(_SilenceJobMixin, JobHookReceiver):
    """The Job Hook receiver: sync the silences of the circuit maintenance that changed."""

    class Meta:
        """Meta attributes."""

        name = "Sync Alertmanager silences on change"
        description = (
            "Job Hook receiver: bind it to Circuit Maintenance create, update and delete, and the changed "
            "maintenance's Alertmanager silence is created, moved or expired at once."
        )
        has_sensitive_variables = False

    def receive_job_hook(self, change: Any, action: str, changed_object: Any) -> None:
        """Sync the changed maintenance's silences (a deleted one's are expired)."""
        pks = [changed_object.pk] if isinstance(changed_object, CircuitMaintenance) else []
        self.sync(pks)


class RunMaintenanceActions(Job):
    """Record the live-state transitions due, then fire the action rules due, each once, retrying failures."""

    dryrun = DryRunVar(description="List what would fire (and be retried), and do nothing")

    class Meta:
        """Meta attributes."""

        name = "Run maintenance actions"
        description = (
            "Record the live-state transitions now due, then fire each action rule (a message, a job) due for each "
            "maintenance it applies to, once per transition or moment, and retry failed ones with backoff. "
            "Schedule it every few minutes: how often it runs is how late an action may fire."
        )
        has_sensitive_variables = False

    def run(self, dryrun: bool = False) -> None:
        """Record the transitions (unless a dry run), then run (or list) the actions due."""
        if not dryrun:
            record_live_transitions(self.logger)
        outcome = fire_actions(self.logger, self.user, dry_run=dryrun)
        failed = outcome.count("failed") + outcome.count("retrying")
        if failed and not dryrun:
            raise ActionsFailed(f"{failed} action(s) failed; see the log (retried ones run again later)")


class ActionsFailed(RuntimeError):
    """Some actions failed this time; the log and the maintenances' timelines say which and why."""


def fire_actions(logger: Any, user: Any, *, dry_run: bool = False) -> ActionsOutcome:
    """Run the actions due and log each step; what the sync job calls after it records transitions."""

    def report(item: RunReport) -> None:
        prefix = "Would fire: " if dry_run and item.what == "due" else ("Dry run: " if dry_run else "")
        level = logger.warning if item.what in ("failed", "retrying") else logger.info
        level("%s%s", prefix, item.describe(), extra={"object": item.maintenance})

    outcome = run_due_actions(user=user, dry_run=dry_run, report=report)
    logger.info(
        "%d action(s) due, %d succeeded, %d to retry, %d failed%s",
        outcome.count("due"),
        outcome.count("succeeded"),
        outcome.count("retrying"),
        outcome.count("failed"),
        " (dry run: nothing done)" if dry_run else "",
    )
    return outcome


class CheckMaintenanceReach(Job):
    """An example of a job bound to an action rule: log what the maintenance affects (its `maintenance` input)."""

    maintenance = ObjectVar(model=CircuitMaintenance, description="The maintenance to check")

    class Meta:
        """Meta attributes."""

        name = "Check circuit maintenance reach"
        description = (
            "Log the circuits, interfaces and devices a circuit maintenance affects. An example of a job run by an "
            "action rule before the start or after the end: such a job declares an ObjectVar named `maintenance`."
        )
        has_sensitive_variables = False

    def run(self, maintenance: CircuitMaintenance) -> None:
        """Log each affected circuit, interface and device, linked to it."""
        reach = maintenance_reach(maintenance)
        self.logger.info("%s (%s): %s", maintenance, maintenance.provider.name, maintenance.get_status_display())
        for impact in reach.impacts:
            self.logger.info(
                "Circuit %s: %s", impact.circuit.cid, impact.get_impact_display(), extra={"object": impact.circuit}
            )
        for interface in reach.interfaces:
            self.logger.info("Interface %s on %s", interface.name, interface.device.name, extra={"object": interface})
        self.logger.info(
            "%d circuit(s), %d interface(s), %d device(s)",
            len(reach.impacts),
            len(reach.interfaces),
            len(reach.devices),
        )


class SendMaintenanceDigest(Job):
    """E-mail the maintenances of the next days, with what each affects, to the NOC; schedule it daily."""

    days = IntegerVar(default=DEFAULT_DIGEST_DAYS, min_value=1, max_value=90, description="How many days ahead")
    recipients = StringVar(
        required=False,
        description="E-mail addresses, separated by commas (default: the app's digest.recipients setting)",
    )

    class Meta:
        """Meta attributes."""

        name = "Send maintenance digest"
        description = (
            "E-mail the circuit maintenances of the next days (their windows, circuits with impact, locations, "
            "tenants) through Nautobot's e-mail settings. Schedule it daily (Run → Recurring, daily)."
        )
        has_sensitive_variables = False

    def run(self, days: int = DEFAULT_DIGEST_DAYS, recipients: str = "") -> None:
        """Build the digest and send it; fail when there is nobody to send it to or the server refuses it."""
        addresses = digest_recipients(recipients)
        if not addresses:
            raise DigestFailed(
                f'No recipients: give some, or set "digest": {{"recipients": [...]}} in PLUGINS_CONFIG["{APP_NAME}"]'
            )
        digest = build_digest(days)
        try:
            send_digest(digest, addresses)
        except (OSError, smtplib.SMTPException) as error:
            raise DigestFailed(f"The digest could not be sent: {type(error).__name__}: {error}") from None
        self.logger.info("Sent %r (%d maintenance(s)) to %s", digest.subject, digest.count, ", ".join(addresses))


class DigestFailed(RuntimeError):
    """The digest could not be sent; the message says why."""
