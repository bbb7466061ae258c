"""The mailbox watcher: new mail starts the sync for its source within seconds, without a person.

`nautobot-server watch_mailboxes` runs `watch()`: an optional process beside Nautobot's Celery worker
and beat (docs/operate.md). Each IMAP source is held in IDLE by a `FolderIdler` thread (watch/idle.py);
their events come to one `Dispatcher`, which starts the sync job for the source through Nautobot's
job queue (sync/trigger.py: queued, at most one waiting run per source) and follows the runs it started:

- new mail while a run for the source waits: nothing more (that run reads it); while a run is going:
  one follow-up run (sync/trigger.py's debounce);
- a (re)connection: a run when the folder holds mail beyond the source's cursor (mail that came
  while nobody watched);
- a run that failed — among others one that waited 5 minutes for its source's lock and gave up
  (intake/locking.py) — is started again after a back-off (30 s doubling up to 10 minutes), so mail is
  never left to the next schedule; the cursor did not move, so nothing is lost or read twice.

Sources IDLE cannot watch (local folder, Gmail, Microsoft 365) are synced every `poll_seconds` when
that is set, else left to their scheduled sync with a log line saying so. The pushed source is
started by the push itself.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections, connection

from nautobot_ssot_circuit_maintenance.config import PUSHED_SOURCE_NAME, SourceSettings, source_settings
from nautobot_ssot_circuit_maintenance.intake.provision import sync_sources_from_config
from nautobot_ssot_circuit_maintenance.intake.sources import ImapSource, get_source, source_kind
from nautobot_ssot_circuit_maintenance.models import NotificationSource
from nautobot_ssot_circuit_maintenance.sync.trigger import SyncUnavailable, start_sync
from nautobot_ssot_circuit_maintenance.watch.idle import Connected, FolderIdler, MailArrived

logger = logging.getLogger(__name__)

IMAP_KINDS = ("imap", "imaps")


class Dispatcher:
    """Start and follow the sync runs the watcher asks for (see the module docstring)."""

    def __init__(
        self,
        user: Any,
        *,
        retry_seconds: float = 30.0,
        max_retry_seconds: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        """Start runs as `user`, retrying a failed one after `retry_seconds`, doubling up to `max_retry_seconds`."""
        self.user = user
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.clock = clock
        self.runs: dict[str, str] = {}  # source name -> pk of the last run started for it, until it ends
        self.retry_at: dict[str, float] = {}
        self.backoff: dict[str, float] = {}
        # The JobResults of the runs started, in order (the latest ones: the process may run for months).
        self.started: deque[Any] = deque(maxlen=1000)
        self.requests = 0  # how many requests for a run were handled
        self.connections: Counter[str] = Counter()  # (re)connections per source

    def request(self, names: list[str], why: str) -> None:
        """Have a run read these sources' new mail (the queued one, or a new one)."""
        try:
            self._request(names, why)
        except Exception as error:  # noqa: BLE001 - the database away, say: try again later, keep watching
            logger.error("Sources %s: could not start a sync (%s: %s)", ", ".join(names), type(error).__name__, error)
            for name in names:
                self._retry_later(name)
        finally:
            self.requests += 1

    def _request(self, names: list[str], why: str) -> None:
        sources = list(NotificationSource.objects.filter(name__in=names).order_by("name"))
        if not sources:
            return
        try:
            result = start_sync(sources, self.user)
        except SyncUnavailable as error:
            logger.error("Sources %s: %s; nothing started", ", ".join(names), error)
            for source in sources:
                self._retry_later(source.name)
            return
        for source in sources:
            self.retry_at.pop(source.name, None)
            self.runs[source.name] = str(result.pk)
        if any(str(previous.pk) == str(result.pk) for previous in self.started):
            logger.debug("Sources %s: %s; joined the run already queued (%s)", ", ".join(names), why, result.pk)
        else:
            self.started.append(result)
            logger.info("Sources %s: %s; sync queued (job result %s)", ", ".join(names), why, result.pk)

    def on_connected(self, event: Connected) -> None:
        """A (re)connection: sync when the folder holds mail past the source's cursor."""
        self.connections[event.source] += 1
        try:
            source = NotificationSource.objects.filter(name=event.source).first()
        except Exception:  # noqa: BLE001 - cannot compare with the cursor: a run finds out
            source = None
        cursor = (source.cursor or {}) if source is not None else {}
        last_uid = cursor.get("last_uid")
        if not isinstance(last_uid, int) or cursor.get("uidvalidity") != event.uidvalidity:
            if event.exists:
                self.request([event.source], "connected, the folder was never read or has a new UIDVALIDITY")
        elif event.uidnext is None or event.uidnext - 1 > last_uid:
            self.request([event.source], "connected, mail arrived while nobody watched")

    def tick(self) -> None:
        """Follow the runs started: retry failed ones after a back-off; start the retries that are due."""
        from nautobot.apps.choices import JobResultStatusChoices
        from nautobot.extras.models import JobResult

        if self.runs:
            found = JobResult.objects.filter(pk__in=set(self.runs.values())).values_list("pk", "status")
            statuses = {str(pk): status for pk, status in found}
            for name, pk in list(self.runs.items()):
                if pk not in statuses:  # deleted (a job-result cleanup): nothing more to follow
                    del self.runs[name]
                    continue
                status = statuses[pk]
                if status not in JobResultStatusChoices.READY_STATES:
                    continue
                del self.runs[name]
                if status == JobResultStatusChoices.STATUS_SUCCESS:
                    self.backoff.pop(name, None)
                else:
                    delay = self._retry_later(name)
                    logger.warning(
                        "Source %s: sync run %s ended %s; starting it again in %g s", name, pk, status, delay
                    )
        now = self.clock()
        due = sorted(name for name, at in self.retry_at.items() if at <= now)
        for name in due:
            self.retry_at.pop(name, None)
            self.request([name], "retrying after a failed run")

    def _retry_later(self, name: str) -> float:
        delay = self.backoff.get(name, self.retry_seconds)
        self.backoff[name] = min(delay * 2, self.max_retry_seconds)
        self.retry_at[name] = self.clock() + delay
        return delay


def _source_factory(settings: SourceSettings) -> Callable[[], ImapSource]:
    """Build the source at each (re)connection, so a rotated SecretsGroup secret is read again."""

    def make() -> ImapSource:
        try:
            source = get_source(settings)
        finally:
            # The SecretsGroup lookup ran on this thread's own database connection: release it.
            connection.close()
        if not isinstance(source, ImapSource):
            raise TypeError(f"source {settings.name} is not an IMAP source")
        return source

    return make


def plan(poll_seconds: float) -> tuple[list[SourceSettings], list[str]]:
    """The IMAP sources to hold in IDLE and the names of the sources to poll; logs what is left alone."""
    idle, polled = [], []
    for settings in source_settings():
        kind = source_kind(settings.url)
        if settings.name == PUSHED_SOURCE_NAME:
            continue  # a push starts its own sync
        if kind in IMAP_KINDS:
            idle.append(settings)
        elif poll_seconds > 0:
            polled.append(settings.name)
            logger.info("Source %s (%s): IDLE is IMAP only; synced every %g s", settings.name, kind, poll_seconds)
        else:
            logger.info(
                "Source %s (%s): not watched (IDLE is IMAP only); its scheduled sync reads it, or pass --poll-seconds",
                settings.name,
                kind,
            )
    return idle, polled


def watch(
    stop: threading.Event,
    user: Any,
    *,
    poll_seconds: float = 0.0,
    check_seconds: float = 1.0,
    retry_seconds: float = 30.0,
    min_backoff_seconds: float = 1.0,
    max_backoff_seconds: float = 60.0,
    dispatcher: Dispatcher | None = None,
) -> Dispatcher:
    """Watch the configured sources until `stop` is set; the dispatcher (its `started` runs) is returned."""
    sync_sources_from_config()
    dispatcher = dispatcher or Dispatcher(user, retry_seconds=retry_seconds)
    events: queue.Queue = queue.Queue()
    idle, polled = plan(poll_seconds)
    if not idle and not polled:
        logger.warning("No source to watch: configure an IMAP source, or pass --poll-seconds for the others")
    idlers = [
        FolderIdler(
            settings.name,
            _source_factory(settings),
            events,
            stop,
            check_seconds=check_seconds,
            min_backoff_seconds=min_backoff_seconds,
            max_backoff_seconds=max_backoff_seconds,
        )
        for settings in idle
    ]
    for idler in idlers:
        idler.start()
    next_poll = time.monotonic() + poll_seconds
    try:
        while not stop.is_set():
            try:
                event = events.get(timeout=check_seconds)
            except queue.Empty:
                event = None
            close_old_connections()
            # Several messages at once make one request.
            arrived: set[str] = set()
            while event is not None:
                if isinstance(event, MailArrived):
                    arrived.add(event.source)
                elif isinstance(event, Connected):
                    dispatcher.on_connected(event)
                event = events.get_nowait() if not events.empty() else None
            if arrived:
                dispatcher.request(sorted(arrived), "new mail")
            if polled and time.monotonic() >= next_poll:
                next_poll = time.monotonic() + poll_seconds
                dispatcher.request(polled, "polling")
            try:
                dispatcher.tick()
            except Exception as error:  # noqa: BLE001 - the runs are looked at again on the next tick
                logger.error("Could not read the state of the sync runs (%s: %s)", type(error).__name__, error)
    finally:
        stop.set()
        for idler in idlers:
            idler.join(timeout=max(5.0, check_seconds * 3))
    return dispatcher
