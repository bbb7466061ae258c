"""Reprocess stored notifications: the same per-message path as new mail, read from the database.

After a person resolved what stopped a message (its sender now belongs to a provider, an unknown
circuit ID now has an alias), the sync job runs again over just those messages: each is parsed by
the parse pool (`parse.process_message`, with the same bounds), folded with the stored history of
its maintenances, diffed and written by the sync's own adapters. The stored row keeps its identity;
its outcome, provider, error, parser version and parsed notifications are replaced. No cursor
moves, no mailbox is opened or labelled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from ..choices import MessageKeptChoices
from ..config import source_settings
from ..providers import SenderDirectory
from ..sources.base import FetchBatch, FetchedMessage, SourceSettings
from .commit import STORE_BATCH, parsed_notifications, stored_maintenance_pks
from .intake import Chunk, Intake
from .read import MailReader, SourceRun


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


class StoredReader(MailReader):
    """Reads stored RawNotifications instead of mailboxes: one batch per source, no de-duplication."""

    def __init__(self, notifications: list[Any], **kwargs: Any):
        sources = {raw.source.pk: raw.source for raw in notifications}
        configured = {entry.name: entry for entry in source_settings()}
        # A source taken out of the configuration still has its providers and its stored mail.
        for source in sources.values():
            configured.setdefault(source.name, SourceSettings(name=source.name, url="stored:"))
        super().__init__(list(sources.values()), configured, **kwargs)
        self.notifications = notifications
        # Per source, the stored rows in the order their messages are handed to the parser.
        self.rows: dict[Any, list[Any]] = {}

    def _open(self, run: SourceRun) -> None:
        providers = list(run.source.providers.values_list("pk", "name", "_custom_field_data"))
        run.directory = SenderDirectory(providers)
        for pk, name, _ in providers:
            self.provider_names[pk] = name
        rows = [raw for raw in self.notifications if raw.source_id == run.source.pk]
        self.rows[run.source.pk] = rows
        messages = [FetchedMessage(raw=raw.message_bytes(), received=raw.date, location=raw.location) for raw in rows]
        run.batches = iter([FetchBatch(messages=messages, cursor=None)])

    def _take_batch(self, run: SourceRun, batch: FetchBatch) -> None:
        # Stored already, on purpose: no de-duplication against the database.
        parsed = self.parse(run, batch)
        run.messages.extend(parsed)
        run.fetched += len(batch.messages)
        run.new += len(parsed)

    def label_in_mailboxes(self) -> list[str]:
        return []


class StoredIntake(Intake):
    """An Intake over stored notifications: one chunk, committed by replacing the stored rows' results."""

    def __init__(self, notifications: Iterable[Any], **kwargs: Any):
        notifications = list(notifications)
        self.skipped = {raw.pk: cannot_reprocess(raw) for raw in notifications if cannot_reprocess(raw)}
        self.notifications = [raw for raw in notifications if raw.pk not in self.skipped]
        super().__init__([], **kwargs)

    def _reader(self, sources: Iterable[Any], configured: dict, **kwargs: Any) -> MailReader:
        return StoredReader(self.notifications, **kwargs)

    def next_chunk(self) -> Chunk:
        """Fold without the notices these messages left last time: they are read again, perhaps differently."""
        from ..models import ParsedNotification

        with transaction.atomic():
            ParsedNotification.objects.filter(raw_notification__in=[raw.pk for raw in self.notifications]).delete()
            chunk = super().next_chunk()
            transaction.set_rollback(True)
        return chunk

    def commit(self, chunk: Chunk) -> None:
        """Replace each stored row's outcome and parsed notifications (inside the sync's transaction)."""
        from ..models import ParsedNotification, RawNotification

        maintenance_pks = stored_maintenance_pks(chunk)
        with transaction.atomic():
            updated, parsed_rows = [], []
            for run in chunk.runs:
                for raw, message in zip(self.reader.rows.get(run.source.pk, []), run.messages, strict=True):
                    raw.outcome = message.outcome
                    raw.error = message.error
                    raw.provider_id = message.provider.pk if message.provider else None
                    raw.parser_version = message.parser_version or raw.parser_version
                    updated.append(raw)
                    parsed_rows.extend(parsed_notifications(raw, message, maintenance_pks))
            ParsedNotification.objects.filter(raw_notification__in=[raw.pk for raw in updated]).delete()
            RawNotification.objects.bulk_update(updated, ["outcome", "error", "provider", "parser_version"])
            ParsedNotification.objects.bulk_create(parsed_rows, batch_size=STORE_BATCH)
