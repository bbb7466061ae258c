"""Where impacted circuits terminate: read-only answers from Nautobot's own CircuitTerminations.

Used by the calendar (events, the location filter) and the feed. One query per call, whatever the
number of circuits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.db.models import Q
from nautobot.circuits.models import CircuitTermination
from nautobot.dcim.models import Location


def locations_by_circuit(circuit_pks: Iterable[UUID]) -> dict[UUID, list[Location]]:
    """Each circuit's termination locations, A side before Z side (circuits with none are left out)."""
    found: dict[UUID, list[Location]] = defaultdict(list)
    terminations = (
        CircuitTermination.objects.filter(circuit__in=list(circuit_pks), location__isnull=False)
        .select_related("location")
        .order_by("circuit", "term_side")
    )
    for termination in terminations:
        if termination.location not in found[termination.circuit_id]:
            found[termination.circuit_id].append(termination.location)
    return dict(found)


def maintenance_locations(maintenances: Iterable[Any]) -> dict[UUID, list[Location]]:
    """For each maintenance (with `circuit_impacts` prefetched), the locations its circuits terminate at."""
    maintenances = list(maintenances)
    circuits = {impact.circuit_id for m in maintenances for impact in m.circuit_impacts.all()}
    by_circuit = locations_by_circuit(circuits)
    result = {}
    for maintenance in maintenances:
        seen: list[Location] = []
        for impact in sorted(maintenance.circuit_impacts.all(), key=lambda i: i.circuit_id):
            seen.extend(loc for loc in by_circuit.get(impact.circuit_id, []) if loc not in seen)
        result[maintenance.pk] = sorted(seen, key=lambda loc: loc.name)
    return result


def at_locations_q(locations: Iterable[Location], prefix: str = "") -> Q:
    """Maintenances of circuits terminating at these locations or any location below them in the tree."""
    pks = set()
    for location in locations:
        pks.update(location.descendants(include_self=True).values_list("pk", flat=True))
    return Q(**{f"{prefix}circuit_impacts__circuit__circuit_terminations__location__in": pks})
