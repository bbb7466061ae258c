"""Push and upload: one raw RFC 822 message in, stored for the built-in "pushed" source.

The REST endpoint (api/views.py `PushView`) and the upload form (views/maintenances.py) both come here. A message
is stored as a `PushedMessage`; the sync reads it like any mailbox's mail (intake/pushed.py). Asked to
process it now, the sync job runs at once for the pushed source only, in this process (in the request's
own thread, whatever the web server) and holding the source's lock: the same per-message path and the same
writes as a scheduled run.
"""

from __future__ import annotations

import email.policy
import logging
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from typing import Any

from django.db import IntegrityError, transaction
from nautobot.apps.choices import JobResultStatusChoices
from nautobot.apps.utils import sanitize

from nautobot_ssot_circuit_maintenance.compat.jobs import job_failure_text, run_job_here
from nautobot_ssot_circuit_maintenance.config import PUSH_DISABLED, PUSHED_SOURCE_NAME, app_settings, push_enabled
from nautobot_ssot_circuit_maintenance.intake.locking import SyncBusy, source_locks
from nautobot_ssot_circuit_maintenance.intake.provision import sync_sources_from_config
from nautobot_ssot_circuit_maintenance.mail.bounds import MIB, MessageBounds
from nautobot_ssot_circuit_maintenance.mail.headers import header_bytes, message_key, raw_key
from nautobot_ssot_circuit_maintenance.models import NotificationSource, PushedMessage, RawNotification
from nautobot_ssot_circuit_maintenance.sync.trigger import SyncUnavailable, enabled_sync_job, start_sync, sync_kwargs

logger = logging.getLogger(__name__)

# How long a push asked to be processed now waits for a running sync before queueing a run for it instead.
PROCESS_NOW_WAIT_SECONDS = 10.0
# The longest `error` an answer carries.
MAX_ERROR_LENGTH = 1000


class PushRefused(Exception):
    """The message cannot be taken; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        """Keep the HTTP status to answer with."""
        super().__init__(message)
        self.status = status


@dataclass
class PushResult:
    """What became of one pushed message.

    `processing` says it truthfully: `done` (processed: `outcome` is its outcome), `queued` (stored and
    waiting for a sync: `reason` says why, and `job_result` is the run queued for it, if one is), or
    `failed` (processing now was asked and did not happen: `error` says why, `job_result` is the run
    that failed, if one ran). A waiting or failed message stays stored: the next sync reads it.
    """

    message_key: str
    # False when the same message (same Message-ID and body) was pushed or fetched before.
    created: bool
    # None while it waits for a sync.
    outcome: str | None = None
    # The message's own error once processed (e.g. why it could not be parsed); why processing failed otherwise.
    error: str = ""
    raw_notification: Any = None  # RawNotification, once processed
    processing: str = "queued"  # done | queued | failed
    sequence: int | None = None  # the PushedMessage, while it waits
    reason: str = "the next sync reads it"
    job_result: Any = None  # the JobResult that processed it, is queued for it, or failed

    def as_dict(self) -> dict[str, Any]:
        """The result as the push endpoint answers it, with the maintenances the message fed."""
        raw = self.raw_notification
        job_result = self.job_result
        return {
            "message_key": self.message_key,
            "created": self.created,
            "processing": self.processing,
            "outcome": self.outcome,
            "error": self.error,
            "reason": self.reason,
            "job_result": str(job_result.pk) if job_result is not None else None,
            "job_status": job_result.status if job_result is not None else None,
            "message_kept": raw.message_kept if raw is not None else None,
            "raw_notification": str(raw.pk) if raw is not None else None,
            "provider": raw.provider.name if raw is not None and raw.provider_id else None,
            "maintenances": sorted({str(p.maintenance_id) for p in raw.parsed_notifications.all() if p.maintenance_id})
            if raw is not None
            else [],
        }


def max_push_bytes() -> int:
    """`message_limits.max_message_mb`: a larger push is refused with 413."""
    return MessageBounds.from_settings(app_settings()).max_message_bytes


def identity(raw: bytes) -> str:
    """The key the pipeline stores the message under (Message-ID and a body hash, else a hash); never raises."""
    try:
        head = header_bytes(raw)
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
        return message_key(headers, raw)
    except Exception:  # noqa: BLE001 - an unreadable header block keeps the content hash
        return raw_key(raw)


def _stored(key: str, sequence: int | None = None) -> PushResult | None:
    """The message stored under `key` (or, once processed, as pushed row `sequence`), if any."""
    raws = RawNotification.objects.select_related("provider")
    raw = raws.filter(message_key=key).first()
    if raw is None and sequence is not None:
        # The pipeline read a broken header block differently from `identity`: find it by where it came from.
        raw = raws.filter(source__name=PUSHED_SOURCE_NAME, location=f"push#{sequence}").first()
    if raw is not None:
        return PushResult(raw.message_key, False, raw.outcome, raw.error, raw, "done", reason="processed")
    pending = PushedMessage.objects.filter(message_key=key).values_list("sequence", flat=True).first()
    if pending is not None:
        return PushResult(key, False, sequence=pending)
    return None


def _forget_processed() -> None:
    """Drop pushed rows the pushed source's cursor has passed: they are stored as RawNotifications."""
    source = NotificationSource.objects.filter(name=PUSHED_SOURCE_NAME).first()
    last = int((source.cursor or {}).get("last_sequence", 0)) if source else 0
    if last:
        PushedMessage.objects.filter(sequence__lte=last).delete()


def accept(raw: bytes, user: Any) -> PushResult:
    """Store one message for the pushed source, or answer with the one already stored under its key."""
    if not push_enabled():
        raise PushRefused(PUSH_DISABLED, 404)
    if not raw.strip():
        raise PushRefused("The request body is empty: send one RFC 822 message")
    limit = max_push_bytes()
    if len(raw) > limit:
        raise PushRefused(f"The message is {len(raw):,} bytes, more than the {limit / MIB:g} MiB allowed", 413)
    key = identity(raw)
    existing = _stored(key)
    if existing is not None:
        return existing
    _forget_processed()
    try:
        with transaction.atomic():
            row = PushedMessage.objects.create(
                message_key=key, raw=raw, pushed_by=(getattr(user, "username", "") or "")[:150]
            )
    except IntegrityError:
        # The same message pushed at the same moment: the other push stored it.
        return _stored(key) or PushResult(key, False)
    return PushResult(key, True, sequence=row.sequence)


def process_now(result: PushResult, user: Any) -> PushResult:
    """Run the sync for the pushed source now (holding its source lock), then read the message's outcome.

    The run happens in this process and this thread (compat.run_job_here: any thread of any web server).
    When another sync holds that lock, a run is queued for the pushed source (sync/trigger.py, as the mailbox
    watcher does), so the message is read as soon as the lock is free rather than at the next schedule.
    Never raises for a failed run: the answer says `failed` and why; the message stays stored.
    """
    if result.processing == "done":
        return result
    job_result = None
    try:
        sync_sources_from_config()
        source = NotificationSource.objects.get(name=PUSHED_SOURCE_NAME)
        # Session-level advisory locks nest: the job takes the same lock again on this connection.
        with source_locks([source], wait_seconds=PROCESS_NOW_WAIT_SECONDS):
            job_result = run_job_here(enabled_sync_job(), user, sync_kwargs(sources=[source]))
    except SyncUnavailable as error:
        return _failed(result, f"{error}; the message is stored and the next enabled run reads it")
    except SyncBusy:
        return _queue_behind_running_sync(result, user)
    except Exception as error:  # noqa: BLE001 - the database or the installation: the answer says so
        logger.exception("Processing pushed message %s now failed", result.message_key)
        return _failed(result, f"processing failed ({type(error).__name__}: {error}); the next run reads it")
    done = _stored(result.message_key, result.sequence)
    if done is None or done.processing != "done":  # still waiting as pushed: the run did not take it
        why = job_failure_text(job_result) or f"the sync job ended {job_result.status} without storing it"
        return _failed(result, f"{why}; the message is stored and the next run reads it", job_result)
    done.created = result.created
    done.job_result = job_result
    if job_result.status != JobResultStatusChoices.STATUS_SUCCESS:
        done.reason = f"processed, but the sync run ended {job_result.status}: {job_failure_text(job_result)}"
    return done


def _failed(result: PushResult, why: str, job_result: Any = None) -> PushResult:
    result.processing = "failed"
    result.error = sanitize(why if len(why) <= MAX_ERROR_LENGTH else why[: MAX_ERROR_LENGTH - 1] + "…")
    result.reason = "processing now failed"
    result.job_result = job_result
    return result


def _queue_behind_running_sync(result: PushResult, user: Any) -> PushResult:
    """Another sync is reading the pushed source: queue a run for the pushed source (or join the one already queued)."""
    source = NotificationSource.objects.filter(name=PUSHED_SOURCE_NAME).first()
    if source is None:  # the first push ever, while a sync runs
        source = next(s for s in sync_sources_from_config() if s.name == PUSHED_SOURCE_NAME)
    try:
        queued = start_sync([source], user)
    except SyncUnavailable as error:
        return _failed(result, f"a sync was running and no run can be queued: {error}; the next enabled run reads it")
    result.processing = "queued"
    result.job_result = queued
    result.reason = (
        f"another sync held the lock for more than {PROCESS_NOW_WAIT_SECONDS:g} s: "
        f"run {queued.pk} is queued to read it as soon as the lock is free"
    )
    return result
