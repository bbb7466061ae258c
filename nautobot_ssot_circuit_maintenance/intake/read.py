"""Reading: sources → parsed messages, new ones only, one chunk at a time.

Each source is opened once per run and read batch by batch; each batch goes through the parse pool
(the per-message boundary) and is deduplicated against what is stored and what this run has seen.
A source failing in any way fails only itself.

Reading runs one chunk ahead: once a chunk is read, the next chunk's batches are fetched and handed to
the parse pool, which parses them in the background while the sync folds, diffs and writes the chunk
just read. Only what a chunk takes in moves its sources' cursors, and everything that reads or writes
the database stays in the calling thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from nautobot_ssot_circuit_maintenance.config import SourceSettings, app_settings
from nautobot_ssot_circuit_maintenance.intake.authenticate import policy_for, refuse_unauthenticated
from nautobot_ssot_circuit_maintenance.intake.connect import open_source
from nautobot_ssot_circuit_maintenance.intake.parse import ParsedMessage
from nautobot_ssot_circuit_maintenance.intake.sources.base import FetchBatch, MailboxSource, SourceError
from nautobot_ssot_circuit_maintenance.intake.workers import ParsePool, PendingParse
from nautobot_ssot_circuit_maintenance.mail.bounds import MIB, MessageBounds
from nautobot_ssot_circuit_maintenance.models import NoticeTemplate, RawNotification
from nautobot_ssot_circuit_maintenance.providers import PROVIDER_ROW, SenderDirectory

BATCH_BYTES = 64 * MIB


@dataclass
class SourceRun:
    """What one source gives this run: the current chunk's messages, and totals over the whole run."""

    source: Any  # NotificationSource
    settings: SourceSettings | None
    messages: list[ParsedMessage] = field(default_factory=list)
    # Messages of the current chunk already stored that reached the mailbox again: message key → when.
    seen_again: dict[str, datetime] = field(default_factory=dict)
    # The cursor that is true once everything read so far is committed.
    cursor: dict | None = None
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    error: str = ""
    done: bool = False
    # When this run of the source began: stored with its first commit, so the overview counts what the run stored.
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    mailbox: MailboxSource | None = field(default=None, repr=False)
    batches: Iterator[FetchBatch] | None = field(default=None, repr=False)
    directory: SenderDirectory | None = field(default=None, repr=False)

    def sighted_again(self, message_key: str, when: datetime) -> None:
        """A stored message reached the mailbox again at `when`: keep its latest sighting of this chunk."""
        self.seen_again[message_key] = max(filter(None, (self.seen_again.get(message_key), when)))

    def close(self) -> None:
        """Close the source's mailbox and drop its batch iterator."""
        if self.mailbox is not None:
            self.mailbox.close()
        self.mailbox = self.batches = None


def _from_source(run: SourceRun, step: Callable[[], Any]) -> Any:
    """One step of reading a source; anything it raises becomes a SourceError naming the source.

    A source's own errors are already worded for an operator; an unexpected one is named by its type
    only, since its text may hold what the source was configured with.
    """
    try:
        return step()
    except SourceError:
        raise
    except Exception as error:  # noqa: BLE001 - a source failing in any way fails only that source
        raise SourceError(
            f"{run.source.name}: reading the mailbox failed unexpectedly ({type(error).__name__})"
        ) from error


@dataclass
class ChunkBudget:
    """How much one chunk may read: messages and bytes (None: no bound)."""

    messages: int | None
    size: int | None
    read_messages: int = 0
    read_bytes: int = 0

    def take(self, batch: FetchBatch) -> None:
        """Count a batch's messages and bytes against the budget."""
        self.read_messages += len(batch.messages)
        self.read_bytes += sum(len(message.raw) for message in batch.messages)

    @property
    def spent(self) -> bool:
        """Whether the chunk has read its messages or its bytes."""
        return (self.messages is not None and self.read_messages >= self.messages) or (
            self.size is not None and self.read_bytes >= self.size
        )


@dataclass
class PendingBatch:
    """A batch fetched from a source and handed to the parse pool, not yet taken into a chunk."""

    run: SourceRun
    batch: FetchBatch
    parsing: PendingParse


class MailReader:
    """The run's sources, read in order into chunks of new, parsed messages (the next chunk read ahead)."""

    def __init__(
        self,
        sources: Iterable[Any],
        configured: dict[str, SourceSettings],
        *,
        pool: ParsePool,
        bounds: MessageBounds,
        since: datetime,
        raw_size_limit: int,
        batch_bytes: int,
    ):
        """Prepare one run per source (None settings for one not configured any more), with no message read yet."""
        self.runs = [SourceRun(source=source, settings=configured.get(source.name)) for source in sources]
        self.pool = pool
        self.bounds = bounds
        self.since = since
        self.raw_size_limit = raw_size_limit
        self.batch_bytes = min(BATCH_BYTES, batch_bytes)
        self.provider_names: dict[Any, str] = {}
        self._seen_keys: set[str] = set()
        # The current chunk's new messages by key: a second copy in the same chunk is a sighting of the first.
        self._chunk_messages: dict[str, ParsedMessage] = {}
        self.app_settings = app_settings()
        # The next chunk's batches, fetched and being parsed while the current chunk is written.
        self._ahead: list[PendingBatch] = []

    @property
    def exhausted(self) -> bool:
        """Whether every source has been read to its end (or failed), and every batch read taken into a chunk."""
        return all(run.done for run in self.runs) and not self._ahead

    def read_chunk(self, budget: ChunkBudget) -> list[ParsedMessage]:
        """The next chunk's new messages, source after source until the budget is spent; then the next one's are read.

        Batches read ahead count against the chunk that takes them in, so a chunk is the same with or without
        reading ahead.
        """
        self._chunk_messages: dict[str, ParsedMessage] = {}
        for run in self.runs:
            run.messages = []
            run.seen_again = {}
        pending, self._ahead = self._ahead, []
        for waiting in pending:
            budget.take(waiting.batch)
        if not budget.spent:
            pending.extend(self._fetch(budget))
        taken = 0
        try:
            for waiting in pending:
                taken += 1
                self._take_batch(waiting.run, waiting.batch, self._parsed(waiting))
        except BaseException:
            for waiting in pending[taken:]:
                waiting.parsing.cancel()
            raise
        if budget.spent:
            self._ahead = self._fetch(ChunkBudget(budget.messages, budget.size))
        return [message for run in self.runs for message in run.messages]

    def _fetch(self, budget: ChunkBudget) -> list[PendingBatch]:
        """Fetch whole batches, source after source, until the budget is spent; each goes to the parse pool at once."""
        pending: list[PendingBatch] = []
        for run in self.runs:
            if run.done:
                continue
            if run.settings is None:
                run.error = f"source {run.source.name!r} is not in PLUGINS_CONFIG any more"
                run.done = True
                continue
            pending.extend(self._fetch_source(run, budget))
            if budget.spent:
                break
        return pending

    def close(self) -> None:
        """Stop parsing what was read ahead; close every source's mailbox."""
        for waiting in self._ahead:
            waiting.parsing.cancel()
        self._ahead = []
        for run in self.runs:
            run.close()

    def _load_directory(self, run: SourceRun) -> None:
        """The source's providers (with their notice templates) as the parse workers classify by, and their names."""
        providers = list(run.source.providers.values_list(*PROVIDER_ROW))
        run.directory = SenderDirectory(providers, NoticeTemplate.specs_for(pk for pk, _, _ in providers))
        for pk, name, _ in providers:
            self.provider_names[pk] = name

    def _open(self, run: SourceRun) -> None:
        self._load_directory(run)
        run.mailbox = open_source(run.settings, run.source)
        # The forwarders' mail is read too: it may carry notices (mail/forwards.py).
        run.mailbox.restrict_to_senders([*run.directory.addresses(), *run.settings.forwarders])
        run.mailbox.set_limits(max_message_bytes=self.bounds.max_message_bytes, batch_bytes=self.batch_bytes)
        run.batches = run.mailbox.fetch(run.source.cursor or None, self.since)

    def _fetch_source(self, run: SourceRun, budget: ChunkBudget) -> list[PendingBatch]:
        """Fetch whole batches of one source until the budget is spent or the source has no more.

        Whatever the source raises ends this source's part of the run with its error; the others go on.
        """
        pending: list[PendingBatch] = []
        try:
            if run.batches is None:
                _from_source(run, lambda: self._open(run))
            while (batch := _from_source(run, lambda: next(run.batches, None))) is not None:
                budget.take(batch)
                pending.append(PendingBatch(run, batch, self._submit(run, batch)))
                if budget.spent:
                    return pending
        except SourceError as error:
            run.error = str(error)
        run.done = True
        run.close()
        return pending

    def _submit(self, run: SourceRun, batch: FetchBatch) -> PendingParse:
        """Hand the batch to the parse pool, which parses it in the background."""
        return self.pool.submit(
            batch.messages,
            directory=run.directory,
            source_header=run.settings.source_header,
            raw_size_limit=self.raw_size_limit,
            forwarders=run.settings.forwarders,
        )

    def _parsed(self, waiting: PendingBatch) -> list[ParsedMessage]:
        """The batch's parse results, then (here, in the parent, on the whole messages) sender authentication."""
        run, batch = waiting.run, waiting.batch
        parsed = waiting.parsing.result()
        refuse_unauthenticated(
            batch.messages,
            parsed,
            policy=lambda provider: policy_for(self.app_settings, run.settings, provider.name),
            domains=run.directory.claims_of,
        )
        return parsed

    def _take_batch(self, run: SourceRun, batch: FetchBatch, parsed: list[ParsedMessage]) -> None:
        """Keep the batch's parsed messages neither stored nor already seen in this run; move the source's cursor."""
        keys = {message.message_key for message in parsed}
        stored = set(RawNotification.objects.filter(message_key__in=keys).values_list("message_key", flat=True))
        now = datetime.now(timezone.utc)
        for message in parsed:
            if message.message_key in stored or message.message_key in self._seen_keys:
                run.duplicates += 1
                # The same message reaching the mailbox again is a sighting of its own (intake/fold.py: sent again).
                again = min(message.received, now) if message.received is not None else None
                first = self._chunk_messages.get(message.message_key)
                if again is not None and first is not None:
                    first.seen_again = max(filter(None, (first.seen_again, again)))
                elif again is not None and message.message_key in stored:
                    run.sighted_again(message.message_key, again)
                continue
            self._chunk_messages[message.message_key] = message
            self._seen_keys.add(message.message_key)
            run.messages.append(message)
            run.new += 1
        run.fetched += len(batch.messages)
        run.cursor = batch.cursor

    def drop_stored_meanwhile(self) -> list[ParsedMessage]:
        """The chunk's messages less those another run stored since they were read; those count as sightings.

        The same notice in two mailboxes read by two runs at once: the run that locked its maintenances second
        finds it stored (intake/locking.py), and takes it as a message stored before, not as a new one.
        """
        keys = {message.message_key for run in self.runs for message in run.messages}
        stored = set(RawNotification.objects.filter(message_key__in=keys).values_list("message_key", flat=True))
        if stored:
            now = datetime.now(timezone.utc)
            for run in self.runs:
                kept = []
                for message in run.messages:
                    if message.message_key not in stored:
                        kept.append(message)
                        continue
                    run.new -= 1
                    run.duplicates += 1
                    if message.received is not None:
                        run.sighted_again(message.message_key, min(message.received, now))
                run.messages = kept
        return [message for run in self.runs for message in run.messages]

    def label_in_mailboxes(self) -> list[str]:
        """Tag the current chunk's messages with their outcome where the mailbox supports it (after commit)."""
        problems = []
        for run in self.runs:
            if run.settings is None or not run.messages or not run.settings.extra.get("labels"):
                continue
            outcomes: dict[str, list[str]] = {}
            for message in run.messages:
                outcomes.setdefault(message.outcome, []).append(message.location)
            try:
                mailbox = run.mailbox or open_source(run.settings, run.source)
            except SourceError as error:
                problems.append(str(error))
                continue
            problems.extend(mailbox.mark(outcomes))
        return problems


def look_back_start(now: datetime, days: int) -> datetime:
    """How far back a source's first run reads (`raw_notification_initial_days_since`)."""
    return now - timedelta(days=days)
