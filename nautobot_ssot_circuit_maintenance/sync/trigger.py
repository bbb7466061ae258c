"""Start the sync job for some sources through Nautobot's job queue, at most one waiting run per source.

The mailbox watcher (watch/watcher.py), a push that found the sync busy (watch/push.py) and the triage queue's
Reprocess all start the sync job here. A run is queued with `JobResult.enqueue_job`, so it is
logged, shown in the SSoT dashboard and run by a Celery worker like any other, and it takes the
locks (intake/locking.py) like any other.

Debounce: a source that already has a run queued and not yet started gets no second one — that run
reads everything that arrived before it starts. A source whose run has started gets one follow-up
run, and every later request joins that follow-up until it starts. The queued run of each source is
remembered in Nautobot's cache (Redis), so every process that starts syncs shares it; a transaction
advisory lock makes "look, then queue" one step across processes.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction

from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.sync.jobs import CircuitMaintenanceDataSource

# A queued run not started after this long is taken as lost (its broker message gone): the next request queues anew.
QUEUED_RUN_TTL_SECONDS = 15 * 60
_TRIGGER_LOCK_ID = zlib.crc32(f"{APP_NAME}:trigger".encode())


class SyncUnavailable(RuntimeError):
    """The sync job is not installed or not enabled: nothing can be queued."""


def sync_job() -> Any:
    """The sync job's Job record, or None before the app's jobs are registered."""
    from nautobot.extras.models import Job

    return Job.objects.filter(
        module_name=CircuitMaintenanceDataSource.__module__, job_class_name=CircuitMaintenanceDataSource.__name__
    ).first()


def enabled_sync_job() -> Any:
    """The sync job's Job record; SyncUnavailable when it is missing or not enabled."""
    job = sync_job()
    if job is None:
        raise SyncUnavailable("the sync job is not installed (run `nautobot-server post_upgrade`)")
    if not job.enabled:
        raise SyncUnavailable("the sync job is not enabled: enable it under Jobs")
    return job


def sync_kwargs(*, sources: Iterable[Any] = (), notifications: Iterable[Any] = ()) -> dict[str, Any]:
    """The job's inputs for a real run over `sources` (all configured ones when empty) or stored `notifications`."""
    return {
        "sources": [str(source.pk) for source in sources],
        "notifications": [str(raw.pk) for raw in notifications],
        "dryrun": False,
        "memory_profiling": False,
        "parallel_loading": False,
    }


def _queued_key(source: Any) -> str:
    return f"{APP_NAME}:queued-sync:{source.pk}"


def queued_run(source: Any) -> Any:
    """The run queued for `source` that has not started yet, if any."""
    from nautobot.apps.choices import JobResultStatusChoices
    from nautobot.extras.models import JobResult

    pk = cache.get(_queued_key(source))
    if pk is None:
        return None
    return JobResult.objects.filter(pk=pk, status=JobResultStatusChoices.STATUS_PENDING).first()


def start_sync(sources: list[Any], user: Any) -> Any:
    """A queued run that reads the new mail of `sources` (NotificationSource rows, at least one); its JobResult.

    The run already queued for them when there is one (see the module docstring), else a new run for
    the sources without one. Raises SyncUnavailable when the sync job cannot run.
    """
    from nautobot.extras.models import JobResult

    if not sources:
        raise ValueError("start_sync needs at least one source")
    job = enabled_sync_job()
    # The advisory lock ends with the transaction; the queued task is sent when it commits (on_commit).
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TRIGGER_LOCK_ID])
        waiting = {source.pk: queued_run(source) for source in sources}
        uncovered = [source for source in sources if waiting[source.pk] is None]
        if not uncovered:
            return next(iter(waiting.values()))
        result = JobResult.enqueue_job(job, user, **job_inputs(JobResult.enqueue_job, sync_kwargs(sources=uncovered)))
        for source in uncovered:
            cache.set(_queued_key(source), str(result.pk), timeout=QUEUED_RUN_TTL_SECONDS)
    return result


def start_reprocess_run(notifications: list[Any], user: Any) -> Any:
    """Queue the sync job over these stored notifications (the triage queue's Reprocess); never debounced."""
    from nautobot.extras.models import JobResult

    return JobResult.enqueue_job(
        sync_job(), user, **job_inputs(JobResult.enqueue_job, sync_kwargs(notifications=notifications))
    )
