"""Reprocess stored notifications: the same per-message path as new mail, read from the database.

After a person resolved what stopped a message (its sender now belongs to a provider, an unknown
circuit ID now has an alias), the sync job runs again over just those messages: each is parsed by
the parse pool (`pipeline/parse.py` `process_message`, with the same bounds), folded with the stored
history of its maintenances, diffed and written by the sync's own adapters. The stored row keeps its
identity; its outcome, provider, error and parsed notifications are replaced.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction

from .config import source_settings
from .ingest import MailIngest, SourceRun
from .sources.base import FetchBatch, FetchedMessage, SourceSettings


def cannot_reprocess(raw: Any) -> str:
    """Why a stored notification cannot go through the parser again ("" when it can)."""
    if raw.raw_truncated:
        return (
            f"only the first {len(raw.message_bytes()):,} of its {raw.raw_size:,} bytes were stored "
            "(raw_notification_size); the parser would read a cut message"
        )
    if raw.source_id is None:
        return "the source it came from no longer exists, so no provider list applies to it"
    return ""


class StoredIngest(MailIngest):
    """A `MailIngest` whose messages come from stored RawNotifications instead of mailboxes.

    One chunk; no cursor moves, no mailbox is opened or labelled, nothing is stored twice.
    """

    def __init__(self, notifications: Iterable[Any], *, now: datetime | None = None):
        self.notifications = [raw for raw in notifications if not cannot_reprocess(raw)]
        self.skipped = {raw.pk: cannot_reprocess(raw) for raw in notifications if cannot_reprocess(raw)}
        sources = {raw.source.pk: raw.source for raw in self.notifications}
        super().__init__(list(sources.values()), now=now, chunk_size=None)
        configured = {settings.name: settings for settings in source_settings()}
        for run in self.runs:
            # A source taken out of the configuration still has its providers and its stored mail.
            run.settings = configured.get(run.source.name) or SourceSettings(name=run.source.name, url="stored:")
        # Per source, the stored rows in the order their messages are handed to the parser.
        self._rows: dict[Any, list[Any]] = {}

    def _open(self, run: SourceRun) -> None:
        from .providers import SenderDirectory

        providers = list(run.source.providers.values_list("pk", "name", "_custom_field_data"))
        run.directory = SenderDirectory(providers)
        for pk, name, _ in providers:
            self.provider_names[pk] = name
        rows = [raw for raw in self.notifications if raw.source_id == run.source.pk]
        self._rows[run.source.pk] = rows
        messages = [FetchedMessage(raw=raw.message_bytes(), received=raw.date, location=raw.location) for raw in rows]
        run.batches = iter([FetchBatch(messages=messages, cursor=None)])

    def _take_batch(self, run: SourceRun, batch: FetchBatch) -> None:
        # Already stored, on purpose: no de-duplication against the database.
        parsed = self.pool.process(
            batch.messages,
            directory=run.directory,
            source_header=run.settings.source_header,
            raw_size_limit=self.settings["raw_notification_size"],
        )
        run.messages.extend(parsed)
        run.fetched += len(batch.messages)
        run.new += len(parsed)

    def fold(self) -> None:
        """Fold without the notices these messages left last time: they are read again, perhaps differently."""
        from .models import ParsedNotification

        with transaction.atomic():
            ParsedNotification.objects.filter(raw_notification__in=[raw.pk for raw in self.notifications]).delete()
            super().fold()
            transaction.set_rollback(True)

    def mark_in_mailboxes(self) -> list[str]:
        return []

    def commit(self) -> None:
        """Replace each stored row's outcome and parsed notifications (inside the sync's transaction)."""
        from .models import CircuitMaintenance, ParsedNotification, RawNotification

        maintenance_pks = {}
        if self.maintenances:
            for pk, provider_id, maintenance_id in CircuitMaintenance.objects.filter(
                provider_id__in={pk for pk, _ in self.maintenances},
                maintenance_id__in={mid for _, mid in self.maintenances},
            ).values_list("pk", "provider_id", "maintenance_id"):
                maintenance_pks[(provider_id, maintenance_id)] = pk
        with transaction.atomic():
            updated, parsed_rows = [], []
            for run in self.runs:
                for raw, message in zip(self._rows.get(run.source.pk, []), run.messages, strict=True):
                    raw.outcome = message.outcome
                    raw.error = message.error
                    raw.provider_id = message.provider.pk if message.provider else None
                    updated.append(raw)
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
            ParsedNotification.objects.filter(raw_notification__in=[raw.pk for raw in updated]).delete()
            RawNotification.objects.bulk_update(updated, ["outcome", "error", "provider"])
            ParsedNotification.objects.bulk_create(parsed_rows, batch_size=500)
