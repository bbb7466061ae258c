"""The jobs that act on maintenances: keep the Alertmanager silences, scheduled or as a Job Hook receiver."""

from __future__ import annotations

from typing import Any

from nautobot.apps.jobs import DryRunVar, Job, JobHookReceiver

from nautobot_ssot_circuit_maintenance.actions.silences import (
    SilenceChange,
    SyncOutcome,
    alertmanager_client,
    maintenances_to_sync,
    silence_settings,
    sync_silences,
)
from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance

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
