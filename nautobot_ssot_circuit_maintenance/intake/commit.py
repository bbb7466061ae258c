"""Commit: a chunk's notifications stored and linked to their maintenances, then its cursors moved.

Runs inside the sync's transaction, after the target adapter has written the maintenances, so a
run stopped before the end stores nothing and moves no cursor: the next run reads the same mail.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone as dj_timezone

from nautobot_ssot_circuit_maintenance.choices import NoteLevelChoices
from nautobot_ssot_circuit_maintenance.compat.changelog import log_bulk_updates
from nautobot_ssot_circuit_maintenance.intake.chunk import Chunk
from nautobot_ssot_circuit_maintenance.intake.fold import APP_FACTS, app_facts
from nautobot_ssot_circuit_maintenance.intake.locking import lock_message_keys
from nautobot_ssot_circuit_maintenance.intake.parse import ParsedMessage
from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    MaintenanceNote,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.models.reach import SERIALIZED_PREFETCH, SERIALIZED_RELATED

STORE_BATCH = 500


def stored_maintenance_pks(chunk: Chunk) -> dict[tuple[Any, str], Any]:
    """(provider pk, maintenance id) → pk of the CircuitMaintenance, for those of the chunk that exist."""
    if not chunk.maintenances:
        return {}
    return {
        (provider_id, maintenance_id): pk
        for pk, provider_id, maintenance_id in CircuitMaintenance.objects.filter(
            provider_id__in={pk for pk, _ in chunk.maintenances},
            maintenance_id__in={mid for _, mid in chunk.maintenances},
        ).values_list("pk", "provider_id", "maintenance_id")
    }


def parsed_notifications(raw: Any, message: ParsedMessage, maintenance_pks: dict) -> list[Any]:
    """The ParsedNotification rows of one stored message, linked to their maintenances where they exist."""
    return [
        ParsedNotification(
            raw_notification=raw,
            maintenance_id=maintenance_pks.get((message.provider.pk, maintenance["maintenance_id"])),
            provider_id=message.provider.pk,
            provider_maintenance_id=maintenance["maintenance_id"],
            json={key: value for key, value in maintenance.items() if key != APP_FACTS},
            read_by_app=app_facts(maintenance),
        )
        for maintenance in message.maintenances
    ]


def held_back_notes(chunk: Chunk, maintenance_pks: dict) -> list[Any]:
    """A note on each overridden maintenance whose new notices said otherwise: what they would have changed."""
    notes = []
    for key, resolved in chunk.maintenances.items():
        if resolved.held_back and key in maintenance_pks:
            notes.append(
                MaintenanceNote(
                    maintenance_id=maintenance_pks[key],
                    title=("A notice would have changed " + "; ".join(resolved.held_back))[:200],
                    level=NoteLevelChoices.WARNING,
                    comment="A person's override holds until a person releases it; the notice is stored and "
                    "counts from then on.",
                )
            )
    return notes


def link_replaced(chunk: Chunk) -> int:
    """Link each maintenance of the chunk to the provider's older maintenance its notices say it replaces.

    The first id named that is a stored maintenance of the same provider; a link a person set or cleared
    (`replaces_by_person`) is never changed; a maintenance never replaces itself, nor one that replaces it.
    Written only where it changes, in one statement, each change logged as a save logs it. Returns how many
    links changed.
    """
    named = {key: resolved.state.replaces for key, resolved in chunk.maintenances.items() if resolved.state.replaces}
    if not named:
        return 0
    stored = {
        (record.provider_id, record.maintenance_id): record
        for record in CircuitMaintenance.objects.filter(
            provider_id__in={provider for provider, _ in named},
            maintenance_id__in={mid for key, ids in named.items() for mid in (key[1], *ids)},
        )
    }
    changed = []
    now = dj_timezone.now()
    for (provider, maintenance_id), ids in named.items():
        record = stored.get((provider, maintenance_id))
        if record is None or record.replaces_by_person:
            continue
        older = next((stored[(provider, mid)] for mid in ids if (provider, mid) in stored), None)
        if older is None or older.pk == record.pk or older.replaces_id == record.pk or record.replaces_id == older.pk:
            continue
        record.replaces = older
        record.last_updated = now
        changed.append(record)
    if changed:
        CircuitMaintenance.objects.bulk_update(changed, ["replaces", "last_updated"], batch_size=STORE_BATCH)
        # Logged as read back with what their serializer reads: the records above hold none of it.
        log_bulk_updates(
            list(
                CircuitMaintenance.objects.filter(pk__in=[record.pk for record in changed])
                .select_related(*SERIALIZED_RELATED)
                .prefetch_related(*SERIALIZED_PREFETCH)
            )
        )
    return len(changed)


def stored_meanwhile(chunk: Chunk) -> set[str]:
    """The chunk's messages another run has stored since this one read them (the same notice in two mailboxes).

    Their maintenances' locks kept the notices out of the way (intake/locking.py); this takes the lock of each
    message, so of two runs storing one message at once, the second waits for the first and finds it.
    """
    keys = [message.message_key for run in chunk.runs for message in run.messages]
    if not keys:
        return set()
    lock_message_keys(keys)
    return set(RawNotification.objects.filter(message_key__in=keys).values_list("message_key", flat=True))


def commit_chunk(chunk: Chunk, stored_by: Any = None) -> None:
    """Store every new message of the chunk with its outcome and parsed notices; move each source's cursor.

    `stored_by` is the run's Sync: each stored message and each source's last run name it.
    """
    maintenance_pks = stored_maintenance_pks(chunk)

    with transaction.atomic():
        stored = stored_meanwhile(chunk)
        for run in chunk.runs:
            raws = []
            parsed_rows = []
            for message in run.messages:
                if message.message_key in stored:
                    continue
                raw = RawNotification(
                    source=run.source,
                    sync=stored_by,
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
                parsed_rows.extend(parsed_notifications(raw, message, maintenance_pks))
            RawNotification.objects.bulk_create(raws, batch_size=STORE_BATCH)
            for message_key, when in run.seen_again.items():
                RawNotification.objects.filter(message_key=message_key).filter(
                    Q(last_seen__isnull=True) | Q(last_seen__lt=when)
                ).update(last_seen=when)
            ParsedNotification.objects.bulk_create(parsed_rows, batch_size=STORE_BATCH)
            if run.cursor is not None:
                run.source.cursor = run.cursor
            run.source.last_run_started = run.started
            run.source.last_run = datetime.now(timezone.utc)
            run.source.last_sync = stored_by
            run.source.last_error = run.error
            run.source.save(update_fields=["cursor", "last_run_started", "last_run", "last_sync", "last_error"])
        MaintenanceNote.objects.bulk_create(held_back_notes(chunk, maintenance_pks), batch_size=STORE_BATCH)
        link_replaced(chunk)
