"""One run's mail: fetch from each source, classify and parse, fold with the stored history.

Nothing here writes until `commit()`; a dry run never calls it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from django.db import transaction
from django.utils import timezone as dj_timezone

from .choices import OutcomeChoices
from .config import app_settings, source_settings
from .fold import MaintenanceState, Notice, fold, is_out_of_sequence
from .oauth import with_stored_token
from .pipeline.bounds import MIB, MessageBounds
from .pipeline.history import MaintenanceKey, stored_notices
from .pipeline.parse import ParsedMessage
from .pipeline.resolve import keys_with_newly_known_circuits, matching_circuits
from .pipeline.workers import parse_pool
from .providers import SenderDirectory
from .sources import get_source
from .sources.base import FetchBatch, MailboxSource, SourceError, SourceSettings

BATCH_BYTES = 64 * MIB


@dataclass
class SourceRun:
    """What one source gives this run: the current chunk's messages, and totals over the whole run."""

    source: Any  # NotificationSource
    settings: SourceSettings | None
    messages: list[ParsedMessage] = field(default_factory=list)
    # The cursor that is true once everything fetched so far is committed.
    cursor: dict | None = None
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    error: str = ""
    done: bool = False
    mailbox: MailboxSource | None = field(default=None, repr=False)
    batches: Iterator[FetchBatch] | None = field(default=None, repr=False)
    directory: SenderDirectory | None = field(default=None, repr=False)

    def close(self) -> None:
        if self.mailbox is not None:
            self.mailbox.close()
        self.mailbox = self.batches = None


@dataclass
class ResolvedMaintenance:
    """A folded maintenance with its circuit IDs matched to Nautobot circuits."""

    provider_pk: Any
    provider_name: str
    state: MaintenanceState
    # Nautobot circuit cid → impact
    circuits: dict[str, str]
    unresolved: list[str]


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
        self.read_messages += len(batch.messages)
        self.read_bytes += sum(len(message.raw) for message in batch.messages)

    @property
    def spent(self) -> bool:
        return (self.messages is not None and self.read_messages >= self.messages) or (
            self.size is not None and self.read_bytes >= self.size
        )


class MailIngest:
    """Fetch, parse and fold the new mail of some sources, one chunk at a time.

    With a `chunk_size`, each `fetch()` reads at most about that many messages (whole batches) and
    about `message_limits.chunk_mb` of mail, so memory stays bounded however large the backlog; call
    it again until `exhausted`.
    """

    def __init__(self, sources: Iterable[Any], *, now: datetime | None = None, chunk_size: int | None = None):
        self.now = now or dj_timezone.now()
        self.settings = app_settings()
        self.chunk_size = chunk_size
        limits = self.settings.get("message_limits") or {}
        self.chunk_bytes = int(float(limits.get("chunk_mb", 256)) * MIB) if chunk_size else None
        self.bounds = MessageBounds.from_settings(self.settings)
        self.pool = parse_pool(
            workers=limits.get("parse_workers"),
            bounds=self.bounds,
            fast_charset=bool(self.settings.get("fast_charset_detection", True)),
        )
        # A source batch holds at most this much mail (never more than a chunk).
        self.batch_bytes = min(BATCH_BYTES, self.chunk_bytes or BATCH_BYTES)
        configured = {settings.name: settings for settings in source_settings()}
        self.runs = [SourceRun(source=source, settings=configured.get(source.name)) for source in sources]
        self.exhausted = False
        self.outcomes: Counter[str] = Counter()
        self.provider_names: dict[Any, str] = {}
        self._seen_keys: set[str] = set()
        self._start_chunk()

    def _start_chunk(self) -> None:
        self.maintenances: dict[MaintenanceKey, ResolvedMaintenance] = {}
        # key → the parsed messages of this chunk that speak about it
        self._new_notices: dict[MaintenanceKey, list[tuple[ParsedMessage, Notice]]] = defaultdict(list)
        self.circuit_pks: dict[tuple[Any, str], Any] = {}
        for run in self.runs:
            run.messages = []

    # -- fetch and parse -------------------------------------------------------------------------------
    def fetch(self) -> None:
        """Read the next chunk of new mail from the sources, in order."""
        self._start_chunk()
        budget = ChunkBudget(self.chunk_size, self.chunk_bytes)
        for run in self.runs:
            if run.done:
                continue
            if run.settings is None:
                run.error = f"source {run.source.name!r} is not in PLUGINS_CONFIG any more"
                run.done = True
                continue
            self._fetch_source(run, budget)
            if budget.spent:
                break
        self.exhausted = all(run.done for run in self.runs)

    def close(self) -> None:
        for run in self.runs:
            run.close()

    def _open(self, run: SourceRun) -> None:
        providers = list(run.source.providers.values_list("pk", "name", "_custom_field_data"))
        run.directory = SenderDirectory(providers)
        for pk, name, _ in providers:
            self.provider_names[pk] = name
        since = self.now - timedelta(days=self.settings["raw_notification_initial_days_since"])
        run.mailbox = get_source(with_stored_token(run.settings, run.source))
        run.mailbox.restrict_to_senders(run.directory.addresses())
        run.mailbox.set_limits(max_message_bytes=self.bounds.max_message_bytes, batch_bytes=self.batch_bytes)
        run.batches = run.mailbox.fetch(run.source.cursor or None, since)

    def _fetch_source(self, run: SourceRun, budget: ChunkBudget) -> None:
        """Read whole batches until the budget is spent or the source has no more.

        Whatever the source raises ends this source's part of the run with its error; the others go on.
        """
        try:
            if run.batches is None:
                _from_source(run, lambda: self._open(run))
            while (batch := _from_source(run, lambda: next(run.batches, None))) is not None:
                budget.take(batch)
                self._take_batch(run, batch)
                if budget.spent:
                    return
        except SourceError as error:
            run.error = str(error)
        run.done = True
        run.close()

    def _take_batch(self, run: SourceRun, batch: FetchBatch) -> None:
        from .models import RawNotification

        parsed = self.pool.process(
            batch.messages,
            directory=run.directory,
            source_header=run.settings.source_header,
            raw_size_limit=self.settings["raw_notification_size"],
        )
        keys = {message.message_key for message in parsed}
        stored = set(RawNotification.objects.filter(message_key__in=keys).values_list("message_key", flat=True))
        for message in parsed:
            if message.message_key in stored or message.message_key in self._seen_keys:
                run.duplicates += 1
                continue
            self._seen_keys.add(message.message_key)
            run.messages.append(message)
            run.new += 1
        run.fetched += len(batch.messages)
        run.cursor = batch.cursor

    # -- fold ------------------------------------------------------------------------------------------
    def fold(self) -> None:
        """Fold every maintenance the new mail touches, plus those whose unknown circuits now exist."""
        for run in self.runs:
            for message in run.messages:
                if not message.maintenances:
                    continue
                grouped: dict[str, list[dict]] = defaultdict(list)
                for maintenance in message.maintenances:
                    grouped[maintenance["maintenance_id"]].append(maintenance)
                for maintenance_id, maintenances in grouped.items():
                    notice = Notice(message.message_key, message.date, tuple(maintenances))
                    self._new_notices[(message.provider.pk, maintenance_id)].append((message, notice))

        newly_known = keys_with_newly_known_circuits()
        self.provider_names.update(newly_known)
        keys = set(self._new_notices) | set(newly_known)
        history = stored_notices(keys)

        states: dict[MaintenanceKey, MaintenanceState] = {}
        for key in keys:
            new = self._new_notices.get(key, [])
            states[key] = fold([*history[key], *(notice for _, notice in new)])
            for message, notice in new:
                if is_out_of_sequence(notice, history[key]):
                    message.outcome = OutcomeChoices.OUT_OF_SEQUENCE
        self._resolve(states)
        self.outcomes.update(message.outcome for message in self.messages)

    def _resolve(self, states: dict[MaintenanceKey, MaintenanceState]) -> None:
        from nautobot.circuits.models import Provider

        missing_names = {pk for pk, _ in states} - set(self.provider_names)
        if missing_names:
            self.provider_names.update(Provider.objects.filter(pk__in=missing_names).values_list("pk", "name"))
        by_normalized = matching_circuits(
            {pk for pk, _ in states}, {ncid for state in states.values() for ncid in state.circuits}
        )
        for (provider_pk, maintenance_id), state in states.items():
            circuits: dict[str, str] = {}
            unresolved: list[str] = []
            for ncid, (written, impact) in state.circuits.items():
                match = by_normalized.get((provider_pk, ncid))
                if match is None:
                    unresolved.append(written)
                    continue
                circuit_pk, cid = match
                circuits[cid] = impact
                self.circuit_pks[(provider_pk, cid)] = circuit_pk
            self.maintenances[(provider_pk, maintenance_id)] = ResolvedMaintenance(
                provider_pk=provider_pk,
                provider_name=self.provider_names[provider_pk],
                state=state,
                circuits=circuits,
                unresolved=sorted(unresolved),
            )
            if unresolved:
                for message, _ in self._new_notices.get((provider_pk, maintenance_id), []):
                    if message.outcome == OutcomeChoices.PARSED:
                        message.outcome = OutcomeChoices.UNKNOWN_CIDS
                        message.error = "unknown circuit IDs: " + ", ".join(sorted(unresolved))

    # -- results ---------------------------------------------------------------------------------------
    @property
    def messages(self) -> list[ParsedMessage]:
        return [message for run in self.runs for message in run.messages]

    @property
    def errors(self) -> list[str]:
        return [run.error for run in self.runs if run.error]

    def outcome_counts(self) -> dict[str, int]:
        """Outcomes of every message folded so far in this run."""
        return dict(sorted(self.outcomes.items()))

    def mark_in_mailboxes(self) -> list[str]:
        """Tag this chunk's messages with their outcome in mailboxes that support it (after `commit`)."""
        problems = []
        for run in self.runs:
            if run.settings is None or not run.messages or not run.settings.extra.get("labels"):
                continue
            outcomes: dict[str, list[str]] = defaultdict(list)
            for message in run.messages:
                outcomes[message.outcome].append(message.location)
            try:
                mailbox = run.mailbox or get_source(with_stored_token(run.settings, run.source))
            except SourceError as error:
                problems.append(str(error))
                continue
            problems.extend(mailbox.mark(dict(outcomes)))
        return problems

    def commit(self) -> None:
        """Store the new notifications, link them to their maintenances, then move the cursors.

        Runs inside the sync's transaction, so a run stopped before the end stores nothing and moves
        no cursor: the next run reads the same mail again.
        """
        from .models import CircuitMaintenance, ParsedNotification, RawNotification

        maintenance_pks = {}
        if self.maintenances:
            for pk, provider_id, maintenance_id in CircuitMaintenance.objects.filter(
                provider_id__in={pk for pk, _ in self.maintenances},
                maintenance_id__in={mid for _, mid in self.maintenances},
            ).values_list("pk", "provider_id", "maintenance_id"):
                maintenance_pks[(provider_id, maintenance_id)] = pk

        with transaction.atomic():
            for run in self.runs:
                raws = []
                parsed_rows = []
                for message in run.messages:
                    raw = RawNotification(
                        source=run.source,
                        message_key=message.message_key,
                        provider_id=message.provider.pk if message.provider else None,
                        sender=message.sender,
                        subject=message.subject,
                        date=message.date,
                        outcome=message.outcome,
                        error=message.error,
                        location=message.location,
                        **message.stored_fields(),
                    )
                    raws.append(raw)
                    for maintenance in message.maintenances:
                        key = (message.provider.pk, maintenance["maintenance_id"])
                        parsed_rows.append(
                            ParsedNotification(
                                raw_notification=raw,
                                maintenance_id=maintenance_pks.get(key),
                                provider_id=message.provider.pk,
                                provider_maintenance_id=maintenance["maintenance_id"],
                                json=maintenance,
                            )
                        )
                RawNotification.objects.bulk_create(raws, batch_size=500)
                ParsedNotification.objects.bulk_create(parsed_rows, batch_size=500)
                if run.cursor is not None:
                    run.source.cursor = run.cursor
                run.source.last_run = datetime.now(timezone.utc)
                run.source.last_error = run.error
                run.source.save(update_fields=["cursor", "last_run", "last_error"])
