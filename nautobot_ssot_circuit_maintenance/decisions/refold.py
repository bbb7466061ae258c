"""Recompute maintenances now, from their stored notices and the people's decisions (no mail is read).

What a person decides (a notice excluded or confirmed, an override set or released) takes effect at
once: the maintenances it touches are folded again from the notices that count, written through the
sync's own adapters (so the change log shows the change), holding the locks of those maintenances
(intake/locking.py). A maintenance none of whose notices counts any more is deleted: nothing that is believed
says it exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from nautobot.circuits.models import Provider

from nautobot_ssot_circuit_maintenance.intake.chunk import Chunk
from nautobot_ssot_circuit_maintenance.intake.commit import stored_maintenance_pks
from nautobot_ssot_circuit_maintenance.intake.history import READABLE_KEYS, MaintenanceKey, fold_with_history
from nautobot_ssot_circuit_maintenance.intake.locking import maintenance_locks
from nautobot_ssot_circuit_maintenance.intake.overrides import apply_overrides
from nautobot_ssot_circuit_maintenance.intake.resolve import resolve_circuits
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, ParsedNotification
from nautobot_ssot_circuit_maintenance.sync.diffsync.adapters.mailbox import MailboxAdapter
from nautobot_ssot_circuit_maintenance.sync.diffsync.adapters.nautobot import NautobotAdapter

# How long a person's action waits for a running sync before it gives up with a message.
REFOLD_WAIT_SECONDS = 30.0


@dataclass
class Refolded:
    """What recomputing changed: maintenances updated (or created) and deleted, as "provider maintenance-id"."""

    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    # The records recomputed (for what follows them: flags, live events).
    changed_pks: list = field(default_factory=list)


def refold(keys: set[MaintenanceKey]) -> Refolded:
    """Fold these maintenances again and write the result; locking.SyncBusy if a sync writes them for too long."""
    outcome = Refolded()
    if not keys:
        return outcome
    with maintenance_locks(keys, wait_seconds=REFOLD_WAIT_SECONDS), transaction.atomic():
        states = fold_with_history({}, also=keys)
        names = dict(Provider.objects.filter(pk__in={pk for pk, _ in keys}).values_list("pk", "name"))
        chunk = Chunk(runs=[], maintenances=resolve_circuits(states, names))
        apply_overrides(chunk.maintenances, noticed=set())
        source = MailboxAdapter(chunk=chunk)
        source.load()
        target = NautobotAdapter.for_chunk(chunk)
        target.load()
        diff = target.diff_from(source)
        if diff.has_diffs():
            source.sync_to(target, diff=diff)
            outcome.changed = sorted(f"{names[pk]} {mid}" for pk, mid in chunk.maintenances)
        for (provider_pk, maintenance_id), pk in stored_maintenance_pks(chunk).items():
            if outcome.changed:
                outcome.changed_pks.append(pk)
            ParsedNotification.objects.filter(
                provider_id=provider_pk, provider_maintenance_id=maintenance_id, maintenance__isnull=True
            ).update(maintenance_id=pk)
        # Only those that came from notices: a maintenance a person created has none and stays.
        noticed = set(
            ParsedNotification.objects.filter(
                provider_id__in={pk for pk, _ in keys},
                provider_maintenance_id__in={mid for _, mid in keys},
                json__has_keys=READABLE_KEYS,
            ).values_list("provider_id", "provider_maintenance_id")
        )
        for provider_pk, maintenance_id in sorted((keys - set(states)) & noticed, key=str):
            for record in CircuitMaintenance.objects.filter(provider_id=provider_pk, maintenance_id=maintenance_id):
                record.delete()
                outcome.deleted.append(f"{names.get(provider_pk, provider_pk)} {maintenance_id}")
    return outcome
