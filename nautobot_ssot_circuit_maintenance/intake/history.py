"""History: stored notices in, new ones out; folded together into the state of each maintenance.

What counts is decided here, at the database edge, and the fold (pure) does the rest: a notice a person
excluded, a notice still awaiting a person's confirmation, and the notices a deleted maintenance had
when a person deleted it never count. New notices from a sender the source could not authenticate,
under its `confirm` policy, count only when what they change does not matter (fold.changes_that_matter);
otherwise they wait in triage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.intake.fold import (
    APP_FACTS,
    MaintenanceState,
    Notice,
    believed,
    changes_that_matter,
    fold,
    fold_ranked,
    is_out_of_sequence,
    jumped,
    outranked,
)
from nautobot_ssot_circuit_maintenance.intake.parse import ParsedMessage
from nautobot_ssot_circuit_maintenance.models import DeletedMaintenance, ParsedNotification

MaintenanceKey = tuple[Any, str]  # (provider pk, maintenance_id)
# What the fold reads of every stored notice: data without them (written by hand, or by an older app) is not folded.
READABLE_KEYS = ["maintenance_id", "start", "end"]


def _deleted_at(keys: set[MaintenanceKey]) -> dict[MaintenanceKey, datetime]:
    """When a person deleted each of these maintenances (only those deleted)."""
    rows = DeletedMaintenance.objects.filter(
        provider_id__in={pk for pk, _ in keys}, maintenance_id__in={mid for _, mid in keys}
    ).values_list("provider_id", "maintenance_id", "deleted_at")
    return {(pk, mid): at for pk, mid, at in rows if (pk, mid) in keys}


def stored_notices(
    keys: set[MaintenanceKey],
    seen_again: dict[str, datetime] | None = None,
    deleted: dict[MaintenanceKey, datetime] | None = None,
) -> dict[MaintenanceKey, list[Notice]]:
    """Every stored notice of these maintenances that counts, one Notice per (maintenance, message), in two queries.

    `seen_again` (message key → when) adds the mailboxes' new sightings of stored messages, not yet stored.
    """
    seen_again = seen_again or {}

    history: dict[MaintenanceKey, list[Notice]] = defaultdict(list)
    if not keys:
        return history
    deleted = _deleted_at(keys) if deleted is None else deleted
    rows = (
        ParsedNotification.objects.filter(
            provider_id__in={pk for pk, _ in keys}, provider_maintenance_id__in={mid for _, mid in keys}
        )
        .filter(raw_notification__excluded_at__isnull=True, json__has_keys=READABLE_KEYS)
        .exclude(raw_notification__outcome=OutcomeChoices.AWAITING_CONFIRMATION)
        .values_list(
            "provider_id",
            "provider_maintenance_id",
            "raw_notification__message_key",
            "raw_notification__date",
            "raw_notification__received",
            "raw_notification__created",
            "raw_notification__sender_authenticated",
            "raw_notification__last_seen",
            "json",
            "read_by_app",
        )
        .order_by()
    )
    per_message: dict[tuple, list[dict]] = defaultdict(list)
    facts: dict[str, tuple[datetime, datetime, bool, datetime | None]] = {}
    for provider_id, maintenance_id, message_key, date, received, created, authenticated, last_seen, data, read in rows:
        key = (provider_id, maintenance_id)
        if key not in keys or (key in deleted and created <= deleted[key]):
            continue
        per_message[(provider_id, maintenance_id, message_key)].append({**data, APP_FACTS: read} if read else data)
        witnessed = received if received is not None and received <= created else created
        again = max(filter(None, (last_seen, seen_again.get(message_key))), default=None)
        facts[message_key] = (date, witnessed, authenticated is not False, again)
    for (provider_id, maintenance_id, message_key), maintenances in per_message.items():
        date, witnessed, believed, again = facts[message_key]
        history[(provider_id, maintenance_id)].append(
            Notice(
                message_key,
                date,
                tuple(maintenances),
                witnessed=witnessed,
                sequence_believed=believed,
                seen_again=again,
            )
        )
    return history


def witnessed_now(message: ParsedMessage, now: datetime) -> datetime:
    """When our side received a new message: its mailbox's time, never later than now."""
    return min(message.received, now) if message.received is not None else now


def new_notices(messages: Iterable[ParsedMessage]) -> dict[MaintenanceKey, list[tuple[ParsedMessage, Notice]]]:
    """What each new message says, per maintenance: one Notice per (maintenance, message)."""
    now = datetime.now(timezone.utc)
    notices: dict[MaintenanceKey, list[tuple[ParsedMessage, Notice]]] = defaultdict(list)
    for message in messages:
        grouped: dict[str, list[dict]] = defaultdict(list)
        for maintenance in message.maintenances:
            grouped[maintenance["maintenance_id"]].append(maintenance)
        for maintenance_id, maintenances in grouped.items():
            notice = Notice(
                message.message_key,
                message.date,
                tuple(maintenances),
                witnessed=witnessed_now(message, now),
                sequence_believed=message.sender_authenticated is not False,
                seen_again=message.seen_again,
            )
            notices[(message.provider.pk, maintenance_id)].append((message, notice))
    return notices


def _held_for_confirmation(
    known: list[Notice], arrived: list[tuple[ParsedMessage, Notice]]
) -> list[tuple[ParsedMessage, Notice]]:
    """The arrived notices that count; those that must wait for a person get the outcome awaiting-confirmation."""
    counted: list[tuple[ParsedMessage, Notice]] = []
    for message, notice in sorted(arrived, key=lambda pair: pair[1].arrival):
        if message.confirm_changes:
            earlier = [*known, *(other for _, other in counted)]
            matters = changes_that_matter(fold(earlier) if earlier else None, fold([*earlier, notice]))
            if matters:
                message.outcome = OutcomeChoices.AWAITING_CONFIRMATION
                message.error = (
                    f"the sender is not authenticated ({message.error or 'no proof'}); it would change "
                    + "; ".join(matters)
                    + ", so it waits for a person to confirm it"
                )[:2000]
                continue
        counted.append((message, notice))
    return counted


def fold_with_history(
    new: dict[MaintenanceKey, list[tuple[ParsedMessage, Notice]]],
    also: Iterable[MaintenanceKey] = (),
    seen_again: dict[str, datetime] | None = None,
) -> dict[MaintenanceKey, MaintenanceState]:
    """The state of every maintenance the new notices (or `also`) touch: stored and new notices folded.

    A maintenance none of whose notices counts has no state. A new notice older than what is stored
    changes nothing: its message's outcome becomes out-of-sequence. A new notice whose sequence jumped
    implausibly is marked sequence-jump (it counts, ranked as the fold ranks it).
    """
    keys = set(new) | set(also)
    deleted = _deleted_at(keys)
    history = stored_notices(keys, seen_again, deleted)
    states: dict[MaintenanceKey, MaintenanceState] = {}
    for key in keys:
        known = history[key]
        arrived = [
            (message, notice)
            for message, notice in new.get(key, [])
            if key not in deleted or message.stored_at is None or message.stored_at > deleted[key]
        ]
        counted = _held_for_confirmation(known, arrived)
        notices = [*known, *(notice for _, notice in counted)]
        if not notices:
            continue
        ranked = believed(notices)
        states[key] = fold_ranked(ranked)
        jumps = jumped(ranked)
        for message, notice in counted:
            # One new notice: the ranking of all of them is that of the stored ones and it (no second ranking).
            late = outranked(notice.message_key, ranked) if len(counted) == 1 else is_out_of_sequence(notice, known)
            if late:
                message.outcome = OutcomeChoices.OUT_OF_SEQUENCE
            elif notice.message_key in jumps:
                message.outcome = OutcomeChoices.SEQUENCE_JUMP
                message.error = (
                    f"its sequence {notice.claimed_sequence} jumps above what this maintenance had seen; "
                    "it ranks as the highest believable one and does not outrank notices received after it"
                )
    return states


def keys_seen_again(message_keys: Iterable[str]) -> set[MaintenanceKey]:
    """The maintenances the stored messages with these keys speak of (their ranks move when they arrive again)."""
    message_keys = list(message_keys)
    if not message_keys:
        return set()
    return set(
        ParsedNotification.objects.filter(raw_notification__message_key__in=message_keys).values_list(
            "provider_id", "provider_maintenance_id"
        )
    )
