"""Circuit resolution: the circuit IDs notices name, matched to Nautobot circuits in SQL.

A circuit ID matches a circuit of the maintenance's provider by its `cid`, else through a
`CircuitAlias` a person mapped in the triage queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Func, Value
from django.db.models.functions import Trim, Upper

from nautobot_ssot_circuit_maintenance.intake.fold import MaintenanceState
from nautobot_ssot_circuit_maintenance.intake.history import MaintenanceKey
from nautobot_ssot_circuit_maintenance.models import CircuitAlias, CircuitMaintenance
from nautobot_ssot_circuit_maintenance.validation import normalize_cid


@dataclass
class ResolvedMaintenance:
    """A folded maintenance with its circuit IDs matched to Nautobot circuits."""

    provider_pk: Any
    provider_name: str
    state: MaintenanceState
    # Nautobot circuit ID (as Nautobot writes it) → impact
    circuits: dict[str, str]
    # Nautobot circuit ID → circuit pk
    circuit_pks: dict[str, Any] = field(default_factory=dict)
    # Circuit IDs the notices name that are not circuits of the provider, as written
    unresolved: list[str] = field(default_factory=list)
    # What new notices would have changed, had a person's override not held it (pipeline/decisions.py).
    held_back: list[str] = field(default_factory=list)


def normalized_cid_expression():
    """SQL twin of `fold.normalize_cid` (PostgreSQL)."""
    return Upper(Trim(Func(F("cid"), Value(r"\s+"), Value(" "), Value("g"), function="REGEXP_REPLACE")))


def keys_with_newly_known_circuits() -> dict[MaintenanceKey, str]:
    """Stored maintenances with an unresolved circuit ID that is now a circuit: key → provider name."""
    from nautobot.circuits.models import Circuit

    pending = list(
        CircuitMaintenance.objects.exclude(unresolved_circuit_ids=[]).values_list(
            "provider_id", "maintenance_id", "unresolved_circuit_ids", "provider__name"
        )
    )
    if not pending:
        return {}
    wanted = {normalize_cid(cid) for *_, cids, _ in pending for cid in cids}
    providers = {row[0] for row in pending}
    found = set(
        Circuit.objects.annotate(ncid=normalized_cid_expression())
        .filter(provider_id__in=providers, ncid__in=wanted)
        .values_list("provider_id", "ncid")
    )
    found |= set(_aliases(providers, wanted).values_list("provider_id", "normalized"))
    return {
        (provider_id, maintenance_id): provider_name
        for provider_id, maintenance_id, cids, provider_name in pending
        if any((provider_id, normalize_cid(cid)) in found for cid in cids)
    }


def matching_circuits(provider_pks: Iterable[Any], normalized_cids: set[str]) -> dict[tuple[Any, str], tuple[Any, str]]:
    """(provider pk, normalised circuit ID) → (circuit pk, circuit ID as Nautobot writes it)."""
    from nautobot.circuits.models import Circuit

    if not normalized_cids:
        return {}
    provider_pks = set(provider_pks)
    # A circuit's own ID wins over an alias of the same text.
    matches = {
        (provider_id, ncid): (pk, cid)
        for provider_id, ncid, pk, cid in _aliases(provider_pks, normalized_cids).values_list(
            "provider_id", "normalized", "circuit_id", "circuit__cid"
        )
    }
    matches.update(
        {
            (provider_id, ncid): (pk, cid)
            for pk, provider_id, cid, ncid in Circuit.objects.annotate(ncid=normalized_cid_expression())
            .filter(provider_id__in=provider_pks, ncid__in=normalized_cids)
            .values_list("pk", "provider_id", "cid", "ncid")
        }
    )
    return matches


def _aliases(provider_pks: set[Any], normalized_cids: set[str]):
    return CircuitAlias.objects.filter(provider_id__in=provider_pks, normalized__in=normalized_cids)


def resolve_circuits(
    states: dict[MaintenanceKey, MaintenanceState], provider_names: dict[Any, str]
) -> dict[MaintenanceKey, ResolvedMaintenance]:
    """Each state's circuit IDs matched to the provider's circuits, in one query for them all."""
    by_normalized = matching_circuits(
        {pk for pk, _ in states}, {ncid for state in states.values() for ncid in state.circuits}
    )
    resolved = {}
    for (provider_pk, maintenance_id), state in states.items():
        maintenance = ResolvedMaintenance(provider_pk, provider_names[provider_pk], state, circuits={})
        for ncid, (written, impact) in state.circuits.items():
            match = by_normalized.get((provider_pk, ncid))
            if match is None:
                maintenance.unresolved.append(written)
                continue
            circuit_pk, cid = match
            maintenance.circuits[cid] = impact
            maintenance.circuit_pks[cid] = circuit_pk
        maintenance.unresolved.sort()
        resolved[(provider_pk, maintenance_id)] = maintenance
    return resolved
