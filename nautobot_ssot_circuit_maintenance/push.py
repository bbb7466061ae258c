"""Push and upload: one raw RFC 822 message in, stored for the built-in "pushed" source.

The REST endpoint (api/views.py `PushView`) and the upload form (views.py) both come here. A message
is stored as a `PushedMessage`; the sync reads it like any mailbox's mail (sources/push.py). Asked to
process it now, the sync job runs at once for the pushed source only, in this process and under the
sync lock: the same per-message path and the same writes as a scheduled run.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from typing import Any

from django.db import IntegrityError, transaction

from .compat import job_inputs
from .config import PUSHED_SOURCE_NAME, app_settings, push_enabled
from .locking import SyncBusy, sync_lock
from .pipeline.bounds import MIB, MessageBounds
from .pipeline.parse import HEADER_BLOCK_LIMIT, message_key, raw_key

# How long a push asked to be processed now waits for a running sync before queueing a run for it instead.
PROCESS_NOW_WAIT_SECONDS = 10.0


class PushRefused(Exception):
    """The message cannot be taken; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class PushResult:
    """What became of one pushed message."""

    message_key: str
    # False when the same message (same Message-ID and body) was pushed or fetched before.
    created: bool
    # None while it waits for a sync.
    outcome: str | None = None
    error: str = ""
    raw_notification: Any = None  # RawNotification, once processed
    # queued | done | busy (a sync held the lock: a run is queued for it) | failed (the sync job failed);
    # all but done: the next run takes it
    processing: str = "queued"
    sequence: int | None = None  # the PushedMessage, while it waits

    def as_dict(self) -> dict[str, Any]:
        raw = self.raw_notification
        return {
            "message_key": self.message_key,
            "created": self.created,
            "processing": self.processing,
            "outcome": self.outcome,
            "error": self.error,
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
        head = raw[:HEADER_BLOCK_LIMIT].replace(b"\r\n", b"\n").partition(b"\n\n")[0]
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
        return message_key(headers, raw)
    except Exception:  # noqa: BLE001 - an unreadable header block keeps the content hash
        return raw_key(raw)


def _stored(key: str, sequence: int | None = None) -> PushResult | None:
    """The message stored under `key` (or, once processed, as pushed row `sequence`), if any."""
    from .models import PushedMessage, RawNotification

    raws = RawNotification.objects.select_related("provider")
    raw = raws.filter(message_key=key).first()
    if raw is None and sequence is not None:
        # The pipeline read a broken header block differently from `identity`: find it by where it came from.
        raw = raws.filter(source__name=PUSHED_SOURCE_NAME, location=f"push#{sequence}").first()
    if raw is not None:
        return PushResult(raw.message_key, False, raw.outcome, raw.error, raw, "done")
    pending = PushedMessage.objects.filter(message_key=key).values_list("sequence", flat=True).first()
    if pending is not None:
        return PushResult(key, False, sequence=pending)
    return None


def _forget_processed() -> None:
    """Drop pushed rows the pushed source's cursor has passed: they are stored as RawNotifications."""
    from .models import NotificationSource, PushedMessage

    source = NotificationSource.objects.filter(name=PUSHED_SOURCE_NAME).first()
    last = int((source.cursor or {}).get("last_sequence", 0)) if source else 0
    if last:
        PushedMessage.objects.filter(sequence__lte=last).delete()


def accept(raw: bytes, user: Any) -> PushResult:
    """Store one message for the pushed source, or answer with the one already stored under its key."""
    from .models import PushedMessage

    if not push_enabled():
        raise PushRefused("Push is not enabled: set PLUGINS_CONFIG['nautobot_ssot_circuit_maintenance']['push']", 404)
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
    """Run the sync for the pushed source now (under the sync lock), then read the message's outcome.

    When another sync holds the lock, a run is queued for the pushed source (trigger.py, as the mailbox
    watcher does), so the message is read as soon as the lock is free rather than at the next schedule.
    """
    from nautobot.extras.models import JobResult

    from .models import NotificationSource
    from .provision import sync_sources_from_config
    from .trigger import SyncUnavailable, start_sync, sync_job, sync_kwargs

    if result.processing == "done":
        return result
    try:
        # Session-level advisory locks nest: the job takes the same lock again on this connection.
        with sync_lock(wait_seconds=PROCESS_NOW_WAIT_SECONDS):
            sync_sources_from_config()
            source = NotificationSource.objects.get(name=PUSHED_SOURCE_NAME)
            job = sync_job()
            if job is None or not job.enabled:
                result.error = "the sync job is not enabled: the next enabled run reads it"
                return result
            job_result = JobResult.execute_job(
                job_model=job, user=user, **job_inputs(JobResult.execute_job, sync_kwargs(sources=[source]))
            )
    except SyncBusy:
        result.processing = "busy"
        source = NotificationSource.objects.filter(name=PUSHED_SOURCE_NAME).first()
        if source is None:  # the first push ever, while a sync runs
            source = next(s for s in sync_sources_from_config() if s.name == PUSHED_SOURCE_NAME)
        try:
            start_sync([source], user)
        except SyncUnavailable as error:
            result.error = f"{error}; the next enabled run reads it"
        return result
    done = _stored(result.message_key, result.sequence)
    if done is None:
        result.processing = "failed"
        result.error = f"the sync job ended {job_result.status}; the next run reads it again"
        return result
    done.created = result.created
    return done
