"""nautobot-ssot: a DataSource whose run is diffed, written and committed one chunk at a time.

nautobot-ssot's `DataSource.sync_data` loads both adapters, diffs them and writes the diff once per
run, and `sync_log` saves one SyncLogEntry per call. A backlog of mail must not sit in memory whole,
and a log row per record must not cost a statement each, so `ChunkedDataSource` re-enters
`sync_data` once per chunk (its load, diff and sync timings summed over the chunks) and buffers the
log entries until the subclass writes them with its records. This reads two internals: what
`DataSource.sync_data` calls and sets, and SyncLogEntry's fields as `sync_log` fills them.
tests/test_compat.py pins both against the installed nautobot-ssot.

The run's diff grows with every chunk, and nautobot-ssot saves the whole Sync row several times per pass
(each timing). So the run's Sync is held with its `diff` deferred — Django then saves only the loaded
fields — and `save_run_diff` writes the diff once per chunk (the subclass's `calculate_diff` computes it as
nautobot-ssot's does, without setting it on the row).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db import OperationalError
from nautobot_ssot.jobs.base import DataSource
from nautobot_ssot.models import Sync, SyncLogEntry

from nautobot_ssot_circuit_maintenance.compat.changelog import change_logged_models_read_once
from nautobot_ssot_circuit_maintenance.compat.releases import request_cache

# The Sync fields `DataSource.sync_data` sets on each pass: here, summed over the chunks.
TIMING_FIELDS = ("source_load_time", "target_load_time", "diff_time", "sync_time")


class ChunkedDataSource(DataSource):
    """A DataSource whose `chunks()` are each loaded, diffed and synced by nautobot-ssot's own `sync_data`."""

    def __init__(self) -> None:
        """Start with no chunk and no log entries collected."""
        super().__init__()
        self.chunk: Any = None
        self._sync_log: list[SyncLogEntry] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the job (Nautobot's `Job.__call__`) with Nautobot's model-metadata lookups read once, not per record.

        That is the custom fields of each record serialized for the change log (Nautobot's `request_cache`, as a
        web request has it) and the change-logged models asked for each change's Job Hooks when the job ends.
        """
        with change_logged_models_read_once(), request_cache():
            return super().__call__(*args, **kwargs)

    def chunks(self) -> Iterator[Any]:
        """The run's chunks; `self.chunk` is each in turn while the adapters load and the diff is written."""
        raise NotImplementedError

    def sync_data(self, memory_profiling: bool) -> None:
        """Run nautobot-ssot's `sync_data` once per chunk, then save the timings summed over all chunks."""
        if self.sync is not None:
            # The row as nautobot-ssot created it, its diff deferred: the saves below leave it to `save_run_diff`.
            self.sync = Sync.objects.defer("diff").get(pk=self.sync.pk)
        timings: dict[str, timedelta] = {}
        for chunk in self.chunks():
            self.chunk = chunk
            super().sync_data(memory_profiling)
            for name in TIMING_FIELDS:
                if getattr(self.sync, name, None):
                    timings[name] = timings.get(name, timedelta(0)) + getattr(self.sync, name)
        for name, total in timings.items():
            setattr(self.sync, name, total)
        self.sync.save()

    def save_run_diff(self, diff: dict, summary: dict) -> None:
        """Write the run's diff and summary so far (once per chunk).

        A diff too large to store is left out, as nautobot-ssot leaves it out.
        """
        self.sync.summary = summary
        self.sync.save(update_fields=["summary"])
        try:
            Sync.objects.filter(pk=self.sync.pk).update(diff=diff)
        except OperationalError:
            self.logger.warning("Unable to save JSON diff to the database; likely the diff is too large.")

    def sync_log(
        self,
        action: str,
        status: str,
        message: str = "",
        diff: Any = None,
        synced_object: Any = None,
        object_repr: str = "",
    ) -> None:
        """Collect the run's log entries; `write_sync_log` writes them with the records they link to."""
        self._sync_log.append(
            SyncLogEntry(
                sync=self.sync,
                action=action,
                status=status,
                message=message,
                diff=diff,
                synced_object=synced_object,
                object_repr=object_repr or (repr(synced_object) if synced_object else ""),
            )
        )

    def write_sync_log(self) -> None:
        """Write the entries collected so far, in one statement per 500."""
        SyncLogEntry.objects.bulk_create(self._sync_log, batch_size=500)
        self._sync_log = []
