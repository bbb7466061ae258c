"""Reprocess stored notifications: the same per-message path as new mail, read from the database.

After a person resolved what stopped a message (its sender now belongs to a provider, an unknown
circuit ID now has an alias), the sync job runs again over just those messages: each is parsed by
the parse pool (`parse.process_message`, with the same bounds), folded with the stored history of
its maintenances, diffed and written by the sync's own adapters. The stored row keeps its identity;
its outcome, provider, error, parser version and parsed notifications are replaced. No cursor
moves, no mailbox is opened or labelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from nautobot_ssot_circuit_maintenance.choices import MessageKeptChoices
from nautobot_ssot_circuit_maintenance.config import SourceSettings, source_settings
from nautobot_ssot_circuit_maintenance.intake.chunk import Chunk
from nautobot_ssot_circuit_maintenance.intake.chunks import Intake
from nautobot_ssot_circuit_maintenance.intake.commit import (
    STORE_BATCH,
    link_replaced,
    parsed_notifications,
    stored_maintenance_pks,
)
from nautobot_ssot_circuit_maintenance.intake.parse import ParsedMessage
from nautobot_ssot_circuit_maintenance.intake.read import ChunkBudget, MailReader, SourceRun
from nautobot_ssot_circuit_maintenance.intake.sources.base import FetchBatch, FetchedMessage
from nautobot_ssot_circuit_maintenance.mail.forwards import notice_sender
from nautobot_ssot_circuit_maintenance.models import ParsedNotification, RawNotification
from nautobot_ssot_circuit_maintenance.providers import SenderDirectory


def cannot_reprocess(raw: Any) -> str:
    """Why a stored notification cannot go through the parser again ("" when it can)."""
    if not raw.is_whole:
        why = (
            "it is over message_limits.max_message_mb"
            if raw.kept == MessageKeptChoices.HEAD
            else "an older version of the app kept only raw_notification_size bytes"
        )
        return (
            f"only the first {len(raw.message_bytes()):,} of its {raw.raw_size:,} bytes are stored ({why}); "
            "the parser would read a cut message"
        )
    if raw.source_id is None:
        return "the source it came from no longer exists, so no provider list applies to it"
    return ""


# Stored messages read (and decompressed) per batch: only a batch's messages are in memory at once.
STORED_BATCH = 200


class StoredReader(MailReader):
    """Reads stored RawNotifications instead of mailboxes: batches per source, no de-duplication.

    `notifications` may be rows without their `message` and `raw` loaded (`.defer()`): each batch
    loads its own messages, so a large selection is read in bounded memory.
    """

    def __init__(self, notifications: list[Any], **kwargs: Any):
        """Read the sources of `notifications`, a source no longer configured standing in as `stored:`."""
        sources = {raw.source.pk: raw.source for raw in notifications}
        configured = {entry.name: entry for entry in source_settings()}
        # A source taken out of the configuration still has its providers and its stored mail.
        for source in sources.values():
            configured.setdefault(source.name, SourceSettings(name=source.name, url="stored:"))
        super().__init__(list(sources.values()), configured, **kwargs)
        self.notifications = notifications
        # Per source, the current chunk's stored rows in the order their messages went to the parser.
        self.rows: dict[Any, list[Any]] = {}
        # Per source, the rows of batches fetched and not yet taken into a chunk (read ahead), in fetch order.
        self.fetched_rows: dict[Any, list[Any]] = {}

    def read_chunk(self, budget: ChunkBudget) -> list[ParsedMessage]:
        """Start the chunk's stored rows afresh, then read it as MailReader does."""
        self.rows = {}
        return super().read_chunk(budget)

    def _open(self, run: SourceRun) -> None:
        self._load_directory(run)
        run.batches = self._batches(run, [raw.pk for raw in self.notifications if raw.source_id == run.source.pk])

    def _batches(self, run: SourceRun, pks: list[Any]) -> Iterator[FetchBatch]:
        for start in range(0, len(pks), STORED_BATCH):
            loaded = RawNotification.objects.in_bulk(pks[start : start + STORED_BATCH])
            rows = [loaded[pk] for pk in pks[start : start + STORED_BATCH] if pk in loaded]
            self.fetched_rows.setdefault(run.source.pk, []).extend(rows)
            yield FetchBatch(
                messages=[
                    FetchedMessage(raw=raw.message_bytes(), received=raw.witnessed, location=raw.location)
                    for raw in rows
                ],
                cursor=None,
            )

    def _take_batch(self, run: SourceRun, batch: FetchBatch, parsed: list[ParsedMessage]) -> None:
        # Stored already, on purpose: no de-duplication against the database.
        # A person's word on a stored notice survives its re-reading: excluded stays excluded, confirmed confirmed.
        fetched = self.fetched_rows[run.source.pk]
        batch_rows, fetched[:] = fetched[: len(batch.messages)], fetched[len(batch.messages) :]
        self.rows.setdefault(run.source.pk, []).extend(batch_rows)
        for raw, message in zip(batch_rows, parsed, strict=True):
            message.excluded = raw.is_excluded
            message.stored_at = raw.created
            if raw.confirmed_at is not None:
                message.confirm_changes = False
        run.messages.extend(parsed)
        run.fetched += len(batch.messages)
        run.new += len(parsed)

    def drop_stored_meanwhile(self) -> list[ParsedMessage]:
        """Every message of the chunk: they are stored rows read again, on purpose."""
        return [message for run in self.runs for message in run.messages]

    def label_in_mailboxes(self) -> list[str]:
        """Label nothing: the stored messages are not read from a mailbox."""
        return []


class StoredIntake(Intake):
    """An Intake over stored notifications, committed by replacing the stored rows' results.

    With a `chunk_size` (a real run) the selection is read, folded and committed chunk by chunk;
    without it (a dry run) it is one chunk.
    """

    def __init__(self, notifications: Iterable[Any], **kwargs: Any):
        """Keep the notifications that can be reprocessed, and the reason each other one is skipped."""
        reasons = {raw: cannot_reprocess(raw) for raw in notifications}
        self.skipped = {raw.pk: reason for raw, reason in reasons.items() if reason}
        self.notifications = [raw for raw, reason in reasons.items() if not reason]
        super().__init__([], **kwargs)

    def _reader(self, sources: Iterable[Any], configured: dict, **kwargs: Any) -> MailReader:
        return StoredReader(self.notifications, **kwargs)

    def chunk_of(self, messages: list[ParsedMessage]) -> Chunk:
        """Fold without the notices these messages left last time: they are read again, perhaps differently.

        The other selected messages keep theirs until their own chunk: they are still what is known.
        """
        current = [raw.pk for rows in self.reader.rows.values() for raw in rows]
        with transaction.atomic():
            ParsedNotification.objects.filter(raw_notification__in=current).delete()
            chunk = super().chunk_of(messages)
            transaction.set_rollback(True)
        return chunk

    def commit(self, chunk: Chunk) -> None:
        """Replace each stored row's outcome and parsed notifications (inside the sync's transaction)."""
        maintenance_pks = stored_maintenance_pks(chunk)
        with transaction.atomic():
            updated, parsed_rows = [], []
            for run in chunk.runs:
                for raw, message in zip(self.reader.rows.get(run.source.pk, []), run.messages, strict=True):
                    raw.outcome = message.outcome
                    raw.error = message.error
                    raw.provider_id = message.provider.pk if message.provider else None
                    raw.parser_version = message.parser_version or raw.parser_version
                    raw.sender_authenticated = message.sender_authenticated
                    updated.append(raw)
                    parsed_rows.extend(parsed_notifications(raw, message, maintenance_pks))
            ParsedNotification.objects.filter(raw_notification__in=[raw.pk for raw in updated]).delete()
            RawNotification.objects.bulk_update(
                updated, ["outcome", "error", "provider", "parser_version", "sender_authenticated"]
            )
            ParsedNotification.objects.bulk_create(parsed_rows, batch_size=STORE_BATCH)
            link_replaced(chunk)


def stored_for_reparse(
    *,
    sources: Iterable[Any] = (),
    providers: Iterable[Any] = (),
    outcomes: Iterable[str] = (),
    since: date | None = None,
    until: date | None = None,
    parser_versions: Iterable[str] = (),
    other_parser_version: bool = False,
) -> QuerySet:
    """The stored notifications a re-parse selects, oldest first, without their message bytes loaded.

    Each criterion narrows the selection; none selects every stored notification. A provider selects
    the mail attributed to it and the mail attributed to none whose sender it now claims (the mail
    that came before the provider's addresses were configured). Dates are the messages' own, inclusive.
    `parser_versions` selects the mail last parsed by those circuit-maintenance-parser versions,
    `other_parser_version` the mail last parsed by any version but the installed one.
    """
    selected = RawNotification.objects.select_related("source").defer("message", "raw")
    if sources := list(sources):
        selected = selected.filter(source__in=sources)
    if outcomes := list(outcomes):
        selected = selected.filter(outcome__in=outcomes)
    if parser_versions := [version.strip() for version in parser_versions if version.strip()]:
        selected = selected.filter(parser_version__in=parser_versions)
    if other_parser_version:
        selected = selected.parsed_with_other_version()
    if since:
        selected = selected.filter(date__date__gte=since)
    if until:
        selected = selected.filter(date__date__lte=until)
    if providers := list(providers):
        directory = SenderDirectory([(p.pk, p.name, p.cf) for p in providers])
        selected = selected.filter(Q(provider__in=providers) | Q(pk__in=_now_claimed(selected, directory)))
    return selected.order_by("date", "pk")


def _now_claimed(selected: QuerySet, directory: SenderDirectory) -> list[Any]:
    """The unattributed notifications of `selected` whose sender `directory` claims.

    The sender is read as classification reads it: from the stored message's header (the source's
    `source_header`), never from the stored display text.

    The stored `sender` only narrows the search: the sender's address appears in it as written, so a row whose
    text holds none of the claimed addresses or `@domain`s cannot be claimed; the others are read.
    """
    entries = directory.addresses()
    configured = {entry.name: entry for entry in source_settings()}
    unattributed = selected.filter(provider__isnull=True).values_list("pk", "sender")
    candidates = [pk for pk, sender in unattributed.iterator() if any(e in (sender or "").lower() for e in entries)]
    claimed = []
    for start in range(0, len(candidates), STORED_BATCH):
        rows = RawNotification.objects.filter(pk__in=candidates[start : start + STORED_BATCH]).select_related("source")
        for raw in rows:
            entry = configured.get(raw.source.name) if raw.source is not None else None
            header, forwarders = (entry.source_header, entry.forwarders) if entry is not None else ("From", ())
            # A forward from one of the source's forwarders is claimed by the sender of the notice it carries.
            if directory.provider_of(notice_sender(raw.message_bytes(), header, forwarders)) is not None:
                claimed.append(raw.pk)
    return claimed
