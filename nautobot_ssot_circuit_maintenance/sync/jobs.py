"""The SSoT job: notification mailboxes → Circuit Maintenances in Nautobot."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date

from diffsync.enum import DiffSyncFlags
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from nautobot.apps.jobs import BooleanVar, MultiChoiceVar, MultiObjectVar, StringVar
from nautobot.circuits.models import Provider
from nautobot_ssot.jobs.base import DataMapping

from nautobot_ssot_circuit_maintenance.actions.jobs import fire_actions
from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.compat.ssot import ChunkedDataSource
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE, app_settings, source_settings
from nautobot_ssot_circuit_maintenance.customers.jobs import draft_notices_after_sync
from nautobot_ssot_circuit_maintenance.events.jobs import record_live_transitions
from nautobot_ssot_circuit_maintenance.flags.store import refresh_flags_after_sync
from nautobot_ssot_circuit_maintenance.intake.chunk import Chunk
from nautobot_ssot_circuit_maintenance.intake.chunks import Intake
from nautobot_ssot_circuit_maintenance.intake.locking import SessionLocks, source_locks
from nautobot_ssot_circuit_maintenance.intake.provision import sync_sources_from_config
from nautobot_ssot_circuit_maintenance.intake.reprocess import StoredIntake, stored_for_reparse
from nautobot_ssot_circuit_maintenance.intake.sources import source_kind
from nautobot_ssot_circuit_maintenance.mail.packing import parser_version as installed_parser_version
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, NotificationSource, RawNotification
from nautobot_ssot_circuit_maintenance.sync.collector import earlier_objects_frozen
from nautobot_ssot_circuit_maintenance.sync.diffsync.adapters.mailbox import MailboxAdapter
from nautobot_ssot_circuit_maintenance.sync.diffsync.adapters.nautobot import NautobotAdapter
from nautobot_ssot_circuit_maintenance.sync.diffsync.run_diff import count_maintenance_actions, merge_chunk_diff

name = "Circuit Maintenance"  # Job grouping in the UI

# Messages per chunk of a real run: bounds memory however large the backlog.
CHUNK_MESSAGES = 500
# Notifications named one by one in the log when they cannot be reprocessed; the rest are counted.
SKIPPED_SHOWN = 20
DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class SourceFailure(RuntimeError):
    """One or more sources could not be read; the others were synced."""


class CircuitMaintenanceDataSource(ChunkedDataSource):
    """Read new provider notifications from the configured mailboxes and sync the maintenances they imply."""

    sources = MultiObjectVar(
        model=NotificationSource,
        required=False,
        description="Sources to read; leave empty for all configured sources.",
    )
    notifications = MultiObjectVar(
        model=RawNotification,
        required=False,
        description="Reprocess these stored notifications instead of reading the mailboxes (the triage queue's "
        "Reprocess).",
    )

    class Meta:
        """Meta attributes."""

        name = "Circuit Maintenance notifications → Nautobot"
        data_source = "Notification mailboxes"
        data_target = "Nautobot"
        description = (
            "Fetch new circuit-maintenance notifications, parse them and create or update Circuit Maintenances. "
            "Dry-run shows the diff and writes nothing."
        )
        has_sensitive_variables = False

    def __call__(self, *args, **kwargs):
        """Run the job with the objects that were there before it out of the garbage collector's passes."""
        with earlier_objects_frozen():
            return super().__call__(*args, **kwargs)

    def __init__(self):
        """Continue past a failing record; no intake, summary or diff yet."""
        super().__init__()
        # One failing record does not stop the others. The target holds only maintenances the chunk
        # implies, so nothing is deleted but an impact a newer notice no longer lists.
        self.diffsync_flags = DiffSyncFlags.CONTINUE_ON_FAILURE
        self.intake: Intake | None = None
        self._summary: Counter[str] = Counter()
        self._diff: dict = {}

    @classmethod
    def data_mappings(cls):
        """What the notifications become in Nautobot."""
        return (
            DataMapping(
                "Notification (mail)",
                None,
                "Circuit Maintenance",
                reverse(f"{URL_NAMESPACE}:circuitmaintenance_list"),
            ),
            DataMapping("Notification circuit IDs", None, "Circuit Impact", None),
            DataMapping("Unknown circuit ID", None, "Maintenance note", None),
        )

    @classmethod
    def config_information(cls):
        """The look-back, the stored size and each configured source, for the job's page."""
        settings = app_settings()
        info = {
            "Initial look-back (days)": settings["raw_notification_initial_days_since"],
            "Stored bytes per notification": settings["raw_notification_size"],
        }
        for source in source_settings():
            kind = source_kind(source.url)
            where = f"account {source.account}" if kind in ("gmail", "graph") else f"folder {source.folder}"
            forwarders = f", forwards read from {', '.join(source.forwarders)}" if source.forwarders else ""
            info[f"Source {source.name}"] = f"{kind}, {where}, sender header {source.source_header}{forwarders}"
        return info

    def run(self, *args, **kwargs):
        """Run the sync (a real one holding its sources' locks), then the live-state transitions and actions due.

        A failure is recorded on the sources. A real run holds the lock of each source it reads, so runs over
        other sources go on at once on other workers; each chunk holds the locks of the maintenances it folds
        (intake/locking.py).
        """
        self.selected_sources = kwargs.get("sources")
        self.selected_notifications = kwargs.get("notifications")
        try:
            if kwargs.get("dryrun", True):
                super().run(*args, **kwargs)
            else:
                with source_locks(self.sources_read()):
                    super().run(*args, **kwargs)
                record_live_transitions(self.logger)
                # Out of the source locks: a slow destination must not hold up the next sync.
                fire_actions(self.logger, self.user)
        except Exception as error:
            if not kwargs.get("dryrun", True):
                self._record_failure(error)
            raise
        self._report()

    def _record_failure(self, error: Exception) -> None:
        """A run stopped by something outside any one message (the database): the sources say so.

        Their `last_error` drives the source-failing metric. Written on a fresh connection if the
        old one died; if the database is unreachable, the job's own failure is all there is.
        """
        if self.intake is None:
            return
        text = f"The sync stopped before it finished ({type(error).__name__}); the next run reads the same mail again."
        pks = [run.source.pk for run in self.intake.runs if not run.error]
        try:
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()
                NotificationSource.objects.filter(pk__in=pks).update(last_error=text)
        except DatabaseError:
            self.logger.warning("Could not record the failure on the sources: the database is unavailable")

    def sources_read(self) -> list[NotificationSource]:
        """The sources a real run reads (none when it reprocesses stored notifications), provisioned first."""
        if self.selected_notifications:
            return []
        sync_sources_from_config()
        return self._sources()

    def _sources(self) -> list[NotificationSource]:
        configured = {source.name for source in source_settings()}
        chosen = list(self.selected_sources) if self.selected_sources else NotificationSource.objects.all()
        return [source for source in chosen if source.name in configured]

    @property
    def chunk_size(self) -> int | None:
        """Messages per chunk: a dry run cannot commit, so it reads everything in one chunk to show the whole diff."""
        return None if self.dryrun else CHUNK_MESSAGES

    def make_intake(self) -> Intake:
        """Where this run's mail comes from: the mailboxes, or the stored notifications picked in triage."""
        if self.selected_notifications:
            return self.stored_intake(self.selected_notifications.select_related("source"))
        return Intake(self._sources(), chunk_size=self.chunk_size, locks=self.maintenance_locks(), stored_by=self.sync)

    def maintenance_locks(self) -> SessionLocks | None:
        """What each chunk of a real run holds while it folds and writes; a dry run writes nothing and holds none."""
        return None if self.dryrun else SessionLocks()

    def stored_intake(self, notifications) -> StoredIntake:
        """The intake over stored notifications, logging those that cannot be reprocessed and why."""
        intake = StoredIntake(notifications, chunk_size=self.chunk_size, locks=self.maintenance_locks())
        for shown, (pk, reason) in enumerate(intake.skipped.items()):
            if shown == SKIPPED_SHOWN:
                self.logger.warning("%d more notifications cannot be reprocessed", len(intake.skipped) - shown)
                break
            self.logger.warning("Notification %s cannot be reprocessed: %s", pk, reason)
        return intake

    def chunks(self) -> Iterator[Chunk]:
        """The backlog chunk by chunk: each is diffed, written and committed with its cursors.

        A dry run cannot commit, so it reads everything in one chunk to show the whole diff.
        """
        self.intake = self.make_intake()
        try:
            yield from self.intake.chunks()
        finally:
            self.intake.close()

    def sync_data(self, memory_profiling):
        """Sync every chunk, refresh the flags of what the run changed, and (`auto_draft`) draft customer notices."""
        super().sync_data(memory_profiling)
        refresh_flags_after_sync(self)
        draft_notices_after_sync(self)

    def calculate_diff(self):
        """Diff the chunk (as nautobot-ssot does), and add it to the run's diff and summary."""
        self.diff = self.source_adapter.diff_to(self.target_adapter, flags=self.diffsync_flags)
        self.logger.info(self.diff.summary())
        # Several chunks make one run: the run's diff and summary cover them all.
        self._summary.update(self.diff.summary())
        merge_chunk_diff(self._diff, self.diff.dict())
        self.save_run_diff(self._diff, dict(self._summary))

    def load_source_adapter(self):
        """Load the maintenances the chunk's notifications imply."""
        self.source_adapter = MailboxAdapter(chunk=self.chunk, job=self)
        self.source_adapter.load()

    def load_target_adapter(self):
        """Load the maintenances Nautobot holds that the chunk touches."""
        self.target_adapter = NautobotAdapter.for_chunk(self.chunk, job=self)
        self.target_adapter.load()

    def execute_sync(self):
        """Write the chunk's maintenances, log, notifications and cursors in one transaction, then label the mail."""
        # One transaction: the maintenances (written by the target adapter), their log, the
        # notifications behind them and the cursors land together.
        with transaction.atomic():
            if self.diff.has_diffs():
                self.source_adapter.sync_to(self.target_adapter, flags=self.diffsync_flags, diff=self.diff)
            self.write_sync_log()
            self.intake.commit(self.chunk)
        # Committed: another run may now fold these maintenances from what this one stored.
        self.intake.release_locks()
        # Stored first: a label that fails to apply loses nothing.
        for problem in self.intake.label_in_mailboxes():
            self.logger.warning("Labels not applied: %s", problem)

    def lookup_object(self, model_name, unique_id):
        """The maintenance or impact a log entry links to, found in the database when not written in this chunk."""
        if self.target_adapter is None:
            return None
        if model_name == "impact":
            return self.target_adapter.impact_records.get(unique_id)
        if model_name != "maintenance":
            return None
        record = self.target_adapter.records.get(unique_id)
        if record is None:
            provider, _, maintenance_id = unique_id.partition("__")
            record = CircuitMaintenance.objects.filter(provider__name=provider, maintenance_id=maintenance_id).first()
        return record

    def _report(self) -> None:
        intake = self.intake
        for run in intake.runs:
            self.logger.info(
                "Source %s: %d messages read, %d new, %d already stored",
                run.source.name,
                run.fetched,
                run.new,
                run.duplicates,
            )
        outcomes = ", ".join(f"{outcome} {count}" for outcome, count in intake.outcome_counts().items()) or "none"
        maintenances = count_maintenance_actions(self._diff)
        self.logger.info(
            "%s: maintenances %d created, %d updated; outcomes: %s",
            "Dry run" if self.dryrun else "Sync",
            maintenances["create"],
            maintenances["update"],
            outcomes,
        )
        if intake.errors:
            for error in intake.errors:
                self.logger.error(error)
            raise SourceFailure("; ".join(intake.errors))


class ReparseDataSource(CircuitMaintenanceDataSource):
    """Parse stored notifications again (a newer parser, a provider configured since) and sync what they now imply."""

    notifications = None  # chosen by the criteria below, not one by one
    sources = MultiObjectVar(
        model=NotificationSource, required=False, description="Only mail stored from these sources."
    )
    providers = MultiObjectVar(
        model=Provider,
        required=False,
        description="Only mail of these providers, including mail no provider claimed that their addresses now match.",
    )
    outcomes = MultiChoiceVar(
        choices=OutcomeChoices.CHOICES,
        required=False,
        description="Only mail with these outcomes (e.g. Parsing failed, Ignored, Unknown provider).",
    )
    # Days as text: Nautobot has no date job variable, and a job's inputs travel as JSON.
    since = StringVar(
        required=False, regex=DAY_PATTERN, description="Only mail dated on or after this day (YYYY-MM-DD)."
    )
    until = StringVar(
        required=False, regex=DAY_PATTERN, description="Only mail dated on or before this day (YYYY-MM-DD)."
    )
    parser_version = StringVar(
        required=False,
        max_length=50,
        label="Parsed with version",
        description="Only mail last parsed by this circuit-maintenance-parser version (e.g. 2.11.0).",
    )
    other_parser_version = BooleanVar(
        default=False,
        label="Parsed with another version",
        description=(
            "Only mail last parsed by a circuit-maintenance-parser version other than the installed one "
            f"({installed_parser_version()})."
        ),
    )

    class Meta:
        """Meta attributes."""

        name = "Re-parse stored notifications → Nautobot"
        data_source = "Stored notifications"
        data_target = "Nautobot"
        description = (
            "Parse stored notifications again with today's parser and providers; dry-run shows the diff, "
            "a real run applies it and replaces each notification's outcome."
        )
        has_sensitive_variables = False

    @staticmethod
    def day_range(since: str | None, until: str | None) -> tuple[date | None, date | None]:
        """The selected days; ValueError saying why when a day is not a date or the range is empty."""
        days = []
        for name, text in (("since", since), ("until", until)):
            try:
                days.append(date.fromisoformat(text) if text else None)
            except ValueError:
                raise ValueError(f"'{name}' ({text}) is not a day of the calendar (YYYY-MM-DD)") from None
        if days[0] and days[1] and days[0] > days[1]:
            raise ValueError(f"'since' ({since}) is after 'until' ({until}): no day is in that range")
        return days[0], days[1]

    @classmethod
    def as_form_class(cls):
        """The job's form, refusing an impossible day range (the UI shows the error, the REST API answers 400)."""
        form_class = super().as_form_class()

        def clean(form):
            cleaned = super(form_class, form).clean()
            try:
                cls.day_range(cleaned.get("since"), cleaned.get("until"))
            except ValueError as error:
                form.add_error("until", str(error))
            return cleaned

        return type("ReparseJobForm", (form_class,), {"clean": clean})

    def run(self, *args, **kwargs):
        """Keep the selection criteria for `make_intake`, then sync with no source or notification picked."""
        since, until = self.day_range(kwargs.get("since"), kwargs.get("until"))
        self.criteria = {name: kwargs.get(name) or () for name in ("sources", "providers", "outcomes")}
        self.criteria.update(since=since, until=until)
        version = (kwargs.get("parser_version") or "").strip()
        self.criteria.update(
            parser_versions=[version] if version else [], other_parser_version=bool(kwargs.get("other_parser_version"))
        )
        super().run(*args, **{**kwargs, "sources": None, "notifications": None})

    def sources_read(self) -> list[NotificationSource]:
        """None: it reads stored mail, no mailbox (each chunk still holds its maintenances' locks)."""
        return []

    def make_intake(self) -> Intake:
        """The intake over the stored notifications the criteria select."""
        selected = stored_for_reparse(**self.criteria)
        intake = self.stored_intake(selected)
        self.logger.info(
            "Re-parsing %d stored notifications (%d cannot be)", len(intake.notifications), len(intake.skipped)
        )
        return intake
