"""Circuit resolution: the circuit IDs notices name, matched to Nautobot circuits in SQL.

A circuit ID matches a circuit of the maintenance's provider by, in this order of precedence:

1. the circuit's own `cid`;
2. a `CircuitAlias` a person mapped (in the triage queue, by CSV import or the REST API);
3. the cross-connect id (`xconnect_id`) of one of the circuit's terminations, as providers often name
   the circuit by the cross-connect of a site. A cross-connect id two circuits of the provider share
   matches neither: it stays unknown, and the note says which circuits share it (an alias settles it).

Every comparison is normalised (`validation.normalize_cid`), and the matching runs a fixed number of
queries for all the providers and IDs at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import F, Func, Value
from django.db.models.functions import Trim, Upper

from nautobot_ssot_circuit_maintenance.intake.fold import MaintenanceState
from nautobot_ssot_circuit_maintenance.intake.history import MaintenanceKey
from nautobot_ssot_circuit_maintenance.models import CircuitAlias, CircuitMaintenance
from nautobot_ssot_circuit_maintenance.validation import normalize_cid

# How a circuit ID was matched (`CircuitMatch.via`), as the log and the timeline say it.
MATCHED_BY_CID = "circuit ID"
MATCHED_BY_ALIAS = "alias"
MATCHED_BY_XCONNECT = "cross-connect id"


class CircuitMatch(NamedTuple):
    """The circuit a normalised circuit ID matched, and how."""

    circuit_pk: Any
    cid: str  # the circuit ID as Nautobot writes it
    via: str  # MATCHED_BY_CID, MATCHED_BY_ALIAS or MATCHED_BY_XCONNECT


@dataclass
class CircuitMatches:
    """What `match_circuits` found, keyed by (provider pk, normalised circuit ID)."""

    found: dict[tuple[Any, str], CircuitMatch] = field(default_factory=dict)
    # A cross-connect id several circuits of the provider share → those circuits' IDs, sorted.
    ambiguous: dict[tuple[Any, str], list[str]] = field(default_factory=dict)


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
    # Nautobot circuit ID → the cross-connect id the notices named it by (circuits matched that way only)
    by_xconnect: dict[str, str] = field(default_factory=dict)
    # Unresolved circuit ID (as written) → the circuits that share it as their cross-connect id
    ambiguous: dict[str, list[str]] = field(default_factory=dict)


def normalized_cid_expression(field_name: str = "cid"):
    """SQL twin of `validation.normalize_cid` (PostgreSQL), over `field_name`."""
    return Upper(Trim(Func(F(field_name), Value(r"\s+"), Value(" "), Value("g"), function="REGEXP_REPLACE")))


def ambiguity_reason(circuit_ids: list[str]) -> str:
    """Why an ID several circuits share as their cross-connect id stays unknown."""
    return f"the cross-connect id of circuits {', '.join(circuit_ids)}"


def keys_with_newly_known_circuits() -> dict[MaintenanceKey, str]:
    """Stored maintenances with an unresolved circuit ID that now matches a circuit: key → provider name."""
    pending = list(
        CircuitMaintenance.objects.exclude(unresolved_circuit_ids=[]).values_list(
            "provider_id", "maintenance_id", "unresolved_circuit_ids", "provider__name"
        )
    )
    if not pending:
        return {}
    found = match_circuits(
        {row[0] for row in pending}, {normalize_cid(cid) for *_, cids, _ in pending for cid in cids}
    ).found
    return {
        (provider_id, maintenance_id): provider_name
        for provider_id, maintenance_id, cids, provider_name in pending
        if any((provider_id, normalize_cid(cid)) in found for cid in cids)
    }


def match_circuits(provider_pks: Iterable[Any], normalized_cids: set[str]) -> CircuitMatches:
    """Match normalised circuit IDs to the providers' circuits: by cid, else alias, else cross-connect id.

    Three queries however many providers and IDs: the circuits, the aliases, the terminations.
    """
    from nautobot.circuits.models import Circuit, CircuitTermination

    matches = CircuitMatches()
    if not normalized_cids:
        return matches
    provider_pks = set(provider_pks)
    by_xconnect: dict[tuple[Any, str], dict[Any, str]] = defaultdict(dict)
    for provider_id, nxid, pk, cid in (
        CircuitTermination.objects.annotate(nxid=normalized_cid_expression("xconnect_id"))
        .filter(circuit__provider_id__in=provider_pks, nxid__in=normalized_cids)
        .values_list("circuit__provider_id", "nxid", "circuit_id", "circuit__cid")
    ):
        by_xconnect[(provider_id, nxid)][pk] = cid  # both terminations of one circuit: still one circuit
    for key, circuits in by_xconnect.items():
        if len(circuits) == 1:
            ((pk, cid),) = circuits.items()
            matches.found[key] = CircuitMatch(pk, cid, MATCHED_BY_XCONNECT)
        else:
            matches.ambiguous[key] = sorted(circuits.values())
    # An alias (a person's decision) wins over a cross-connect id, a circuit's own ID over both.
    for provider_id, ncid, pk, cid in _aliases(provider_pks, normalized_cids).values_list(
        "provider_id", "normalized", "circuit_id", "circuit__cid"
    ):
        matches.found[(provider_id, ncid)] = CircuitMatch(pk, cid, MATCHED_BY_ALIAS)
    for pk, provider_id, cid, ncid in (
        Circuit.objects.annotate(ncid=normalized_cid_expression())
        .filter(provider_id__in=provider_pks, ncid__in=normalized_cids)
        .values_list("pk", "provider_id", "cid", "ncid")
    ):
        matches.found[(provider_id, ncid)] = CircuitMatch(pk, cid, MATCHED_BY_CID)
    for key in matches.found:
        matches.ambiguous.pop(key, None)
    return matches


def _aliases(provider_pks: set[Any], normalized_cids: set[str]):
    return CircuitAlias.objects.filter(provider_id__in=provider_pks, normalized__in=normalized_cids)


def resolve_circuits(
    states: dict[MaintenanceKey, MaintenanceState], provider_names: dict[Any, str]
) -> dict[MaintenanceKey, ResolvedMaintenance]:
    """Each state's circuit IDs matched to the provider's circuits, in the same few queries for them all."""
    matches = match_circuits({pk for pk, _ in states}, {ncid for state in states.values() for ncid in state.circuits})
    resolved = {}
    for (provider_pk, maintenance_id), state in states.items():
        maintenance = ResolvedMaintenance(provider_pk, provider_names[provider_pk], state, circuits={})
        for ncid, (written, impact) in state.circuits.items():
            match = matches.found.get((provider_pk, ncid))
            if match is None:
                maintenance.unresolved.append(written)
                if (provider_pk, ncid) in matches.ambiguous:
                    maintenance.ambiguous[written] = matches.ambiguous[(provider_pk, ncid)]
                continue
            maintenance.circuits[match.cid] = impact
            maintenance.circuit_pks[match.cid] = match.circuit_pk
            if match.via == MATCHED_BY_XCONNECT:
                maintenance.by_xconnect[match.cid] = written
        maintenance.unresolved.sort()
        resolved[(provider_pk, maintenance_id)] = maintenance
    return resolved
