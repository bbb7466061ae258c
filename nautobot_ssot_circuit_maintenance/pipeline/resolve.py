"""Circuit resolution: the circuit IDs notices name, matched to Nautobot circuits in SQL.

A circuit ID matches a circuit of the maintenance's provider by its `cid`, else through a
`CircuitAlias` a person mapped in the triage queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import F, Func, Value
from django.db.models.functions import Trim, Upper

from ..fold import normalize_cid
from .history import MaintenanceKey


def normalized_cid_expression():
    """SQL twin of `fold.normalize_cid` (PostgreSQL)."""
    return Upper(Trim(Func(F("cid"), Value(r"\s+"), Value(" "), Value("g"), function="REGEXP_REPLACE")))


def keys_with_newly_known_circuits() -> dict[MaintenanceKey, str]:
    """Stored maintenances with an unresolved circuit ID that is now a circuit: key → provider name."""
    from nautobot.circuits.models import Circuit

    from ..models import CircuitMaintenance

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
    from ..models import CircuitAlias

    return CircuitAlias.objects.filter(provider_id__in=provider_pks, normalized__in=normalized_cids)
