"""The intake of one run: chunks of new mail, each with the maintenance states it implies.

    sources ──read──▶ new parsed messages ──history + fold──▶ states ──resolve──▶ Chunk
                                                                         (the source adapter's input)

Nothing here writes: the target adapter writes the maintenances and `commit.commit_chunk` the
notifications and cursors; a dry run calls neither.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.utils import timezone as dj_timezone

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.config import app_settings, source_settings
from nautobot_ssot_circuit_maintenance.intake.chunk import Chunk
from nautobot_ssot_circuit_maintenance.intake.commit import commit_chunk
from nautobot_ssot_circuit_maintenance.intake.history import (
    fold_with_history,
    keys_seen_again,
    new_notices,
)
from nautobot_ssot_circuit_maintenance.intake.locking import SessionLocks, maintenance_lock_key
from nautobot_ssot_circuit_maintenance.intake.overrides import apply_overrides
from nautobot_ssot_circuit_maintenance.intake.parse import ParsedMessage
from nautobot_ssot_circuit_maintenance.intake.read import ChunkBudget, MailReader, SourceRun, look_back_start
from nautobot_ssot_circuit_maintenance.intake.resolve import (
    ambiguity_reason,
    keys_with_newly_known_circuits,
    resolve_circuits,
)
from nautobot_ssot_circuit_maintenance.intake.workers import parse_pool
from nautobot_ssot_circuit_maintenance.mail.bounds import MIB, MessageBounds


class Intake:
    """A run's mail, chunk by chunk.

    With a `chunk_size`, each chunk reads at most about that many messages (whole batches) and about
    `message_limits.chunk_mb` of mail, so memory stays bounded however large the backlog. Without it
    (a dry run, which cannot commit) the whole backlog is one chunk.
    """

    def __init__(
        self,
        sources: Iterable[Any],
        *,
        now: datetime | None = None,
        chunk_size: int | None = None,
        locks: SessionLocks | None = None,
        stored_by: Any = None,
    ):
        """Open the reader over `sources` with the app's message limits, parse pool and look-back start.

        With `locks` (a real run), each chunk holds the locks of the maintenances it folds from before it reads
        their history until `release_locks()`, called once its writes are committed (intake/locking.py).
        `stored_by` is the run's Sync, recorded on what it stores.
        """
        self.locks = locks
        self.stored_by = stored_by
        settings = app_settings()
        limits = settings.get("message_limits") or {}
        bounds = MessageBounds.from_settings(settings)
        self.chunk_size = chunk_size
        self.chunk_bytes = int(float(limits.get("chunk_mb", 256)) * MIB) if chunk_size else None
        self.reader = self._reader(
            sources,
            {entry.name: entry for entry in source_settings()},
            pool=parse_pool(
                workers=limits.get("parse_workers"),
                bounds=bounds,
                fast_charset=bool(settings.get("fast_charset_detection", True)),
            ),
            bounds=bounds,
            since=look_back_start(now or dj_timezone.now(), settings["raw_notification_initial_days_since"]),
            raw_size_limit=settings["raw_notification_size"],
            batch_bytes=self.chunk_bytes or MIB * 64,
        )
        self.outcomes: Counter[str] = Counter()
        self._started = False

    def _reader(self, sources: Iterable[Any], configured: dict, **kwargs: Any) -> MailReader:
        return MailReader(sources, configured, **kwargs)

    @property
    def runs(self) -> list[SourceRun]:
        """Each source's run: its messages, cursor, counts and error."""
        return self.reader.runs

    @property
    def errors(self) -> list[str]:
        """The errors of the sources that failed in this run."""
        return [run.error for run in self.runs if run.error]

    def chunks(self) -> Iterator[Chunk]:
        """Every chunk of the run; the first one also re-folds stored maintenances whose unknown circuits now exist.

        A run with no new mail still gives one (possibly empty) chunk.
        """
        while True:
            chunk = self.next_chunk()
            yield chunk
            if self.reader.exhausted:
                return

    def next_chunk(self) -> Chunk:
        """Read and fold the next chunk, within the chunk budget of messages and bytes."""
        return self.chunk_of(self.reader.read_chunk(ChunkBudget(self.chunk_size, self.chunk_bytes)))

    def chunk_of(self, messages: list[ParsedMessage]) -> Chunk:
        """The chunk's messages folded with the stored history into the states of their maintenances."""
        newly_known = {} if self._started else keys_with_newly_known_circuits()
        self._started = True
        # The maintenances of stored messages that reached a mailbox again: their ranks move (one query).
        seen_again_keys = keys_seen_again(key for run in self.runs for key in run.seen_again)
        if self.locks is not None:
            self.release_locks()
            self.locks.hold(map(maintenance_lock_key, {*newly_known, *_keys_of(messages), *seen_again_keys}))
            kept = self.reader.drop_stored_meanwhile()
            # Stored by another run meanwhile, they are seen again now: their maintenances (locked above) fold too.
            still = {id(message) for message in kept}
            seen_again_keys |= _keys_of(message for message in messages if id(message) not in still)
            messages = kept
        notices = new_notices(message for message in messages if message.maintenances and not message.excluded)
        excluded = _keys_of(message for message in messages if message.excluded)
        seen_again = {key: when for run in self.runs for key, when in run.seen_again.items()}
        states = fold_with_history(notices, also={*newly_known, *excluded, *seen_again_keys}, seen_again=seen_again)
        provider_names = {**self.reader.provider_names, **newly_known}
        missing = {pk for pk, _ in states} - set(provider_names)
        if missing:
            from nautobot.circuits.models import Provider

            provider_names.update(Provider.objects.filter(pk__in=missing).values_list("pk", "name"))
        chunk = Chunk(runs=self.runs, maintenances=resolve_circuits(states, provider_names))
        apply_overrides(chunk.maintenances, noticed=set(notices))
        self._mark_unknown_circuits(chunk, notices)
        self.outcomes.update(message.outcome for message in messages)
        return chunk

    def release_locks(self) -> None:
        """Release the current chunk's maintenance locks (once its writes are committed, or when the run ends)."""
        if self.locks is not None:
            self.locks.release()

    @staticmethod
    def _mark_unknown_circuits(chunk: Chunk, notices: dict) -> None:
        for key, resolved in chunk.maintenances.items():
            if not resolved.unresolved:
                continue
            for message, _ in notices.get(key, []):
                if message.outcome == OutcomeChoices.PARSED:
                    message.outcome = OutcomeChoices.UNKNOWN_CIDS
                    message.error = "unknown circuit IDs: " + ", ".join(
                        f"{cid} ({ambiguity_reason(resolved.ambiguous[cid])})" if cid in resolved.ambiguous else cid
                        for cid in resolved.unresolved
                    )

    def commit(self, chunk: Chunk) -> None:
        """Store the chunk's notifications and move its cursors (inside the sync's transaction)."""
        commit_chunk(chunk, stored_by=self.stored_by)

    def label_in_mailboxes(self) -> list[str]:
        """Tag the chunk's messages with their outcome where the mailbox supports it (after the commit)."""
        return self.reader.label_in_mailboxes()

    def outcome_counts(self) -> dict[str, int]:
        """Outcomes of every message read so far in this run."""
        return dict(sorted(self.outcomes.items()))

    def close(self) -> None:
        """Close every source and its mailbox connection; release the locks still held."""
        self.release_locks()
        self.reader.close()


def _keys_of(messages: Iterable[ParsedMessage]) -> set[tuple[Any, str]]:
    """The maintenances these messages speak of: (provider pk, maintenance id)."""
    return {
        (message.provider.pk, maintenance["maintenance_id"])
        for message in messages
        if message.provider is not None
        for maintenance in message.maintenances
    }
