"""The SSoT job that carries nautobot-circuit-maintenance's records over to this app.

Dry-run shows the diff and writes nothing; a sync writes it in one transaction, each change logged.
A second run changes nothing; what this app keeps from its own mail, and anything else created here,
is left alone (nothing is ever deleted).
"""

from __future__ import annotations

from diffsync.enum import DiffSyncFlags
from django.db import transaction
from django.urls import reverse
from nautobot_ssot.jobs.base import DataMapping, DataSource

from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.older_app.diffsync.adapters.import_target import ImportTargetAdapter
from nautobot_ssot_circuit_maintenance.older_app.diffsync.adapters.older_app import OlderAppAdapter
from nautobot_ssot_circuit_maintenance.older_app.reader import (
    OLDER_APP_NAME,
    OlderAppNotFound,
    older_app_installed,
    open_reader,
)

name = "Circuit Maintenance"  # Job grouping in the UI


class OlderAppImportDataSource(DataSource):
    """Import the maintenances, notes, notifications and sources of nautobot-circuit-maintenance."""

    class Meta:
        """Meta attributes."""

        name = "nautobot-circuit-maintenance → this app"
        data_source = OLDER_APP_NAME
        data_target = "Nautobot (Circuit Maintenance SSoT)"
        description = (
            f"Carry over {OLDER_APP_NAME}'s records, from its models while it is installed or from the tables it "
            "left once removed from PLUGINS. Dry-run shows the diff and writes nothing; re-runnable."
        )
        has_sensitive_variables = False

    def __init__(self):
        """Never delete or log unchanged records; the reader is opened when the source adapter loads."""
        super().__init__()
        # Never delete (records made here since stay); unchanged records are not logged one by one.
        self.diffsync_flags = DiffSyncFlags.CONTINUE_ON_FAILURE | DiffSyncFlags.SKIP_UNMATCHED_DST
        self.reader = None

    @classmethod
    def data_mappings(cls):
        """The older app's records and what each becomes here."""
        maintenances = reverse(f"{URL_NAMESPACE}:circuitmaintenance_list")
        return (
            DataMapping("Circuit Maintenance (name <provider>-<id>)", None, "Circuit Maintenance", maintenances),
            DataMapping("Circuit Impact", None, "Circuit Impact", None),
            DataMapping("Note", None, "Maintenance note", None),
            DataMapping("Raw Notification (parsed flag)", None, "Raw notification (outcome)", None),
            DataMapping("Parsed Notification", None, "Parsed notification", None),
            DataMapping("Notification Source (providers)", None, "Notification source (providers)", None),
        )

    @classmethod
    def config_information(cls):
        """Where the import reads from: the older app's models or its left-over tables."""
        installed = older_app_installed()
        return {
            "Reads from": f"{OLDER_APP_NAME} models (installed)"
            if installed
            else f"{OLDER_APP_NAME} tables left in the database, if any",
        }

    def load_source_adapter(self):
        """Open the reader, load the older app's records and log those that cannot be carried over."""
        try:
            self.reader = open_reader()
        except OlderAppNotFound as error:
            self.logger.error(str(error))
            raise
        self.logger.info("Reading %s", self.reader.description)
        self.source_adapter = OlderAppAdapter(reader=self.reader, job=self)
        self.source_adapter.load()
        for line in self.source_adapter.skipped:
            self.logger.warning("Not imported: %s", line)

    def load_target_adapter(self):
        """Load this app's matching records and log those left alone as this app's own."""
        self.target_adapter = ImportTargetAdapter(source_adapter=self.source_adapter, reader=self.reader, job=self)
        self.target_adapter.load()
        left_alone = self.source_adapter.leave_alone(
            self.target_adapter.native_maintenances, self.target_adapter.native_raw_keys
        )
        for line in left_alone:
            self.logger.info("Left alone: %s", line)

    def execute_sync(self):
        """Write the diff in one transaction: a stopped run leaves nothing half-imported."""
        # All or nothing: a run stopped half-way leaves no half-imported maintenance behind.
        with transaction.atomic():
            self.source_adapter.sync_to(self.target_adapter, flags=self.diffsync_flags, diff=self.diff)

    def lookup_object(self, model_name, unique_id):
        """The record the import wrote for a DiffSync model, for the SSoT log's link."""
        if self.target_adapter is None:
            return None
        return self.target_adapter.records.get((model_name, unique_id))

    def run(self, *args, **kwargs):
        """Run the import, then log how many records are to be created, updated or left unchanged."""
        super().run(*args, **kwargs)
        summary = self.diff.summary() if self.diff else {}
        self.logger.info(
            "%s: %d to create, %d to update, %d unchanged",
            "Dry run" if self.dryrun else "Import",
            summary.get("create", 0),
            summary.get("update", 0),
            summary.get("no-change", 0),
        )
