"""Where a circuit terminates, and the device interfaces its terminations are cabled to.

The pages read a circuit's terminations through prefetches; the calendar and the feed ask for the
locations of many maintenances at once (`maintenance_locations`, one query whatever their number).

A circuit termination's cable path (Nautobot's `CablePath`, origin = the termination) ends at the
device interface on our side of the circuit, through any patch panels; the interface's device is
what loses that link when the circuit goes down.

Read through prefetches (`termination_prefetch`), so a table of N impacts costs a constant number
of queries, not N (on Nautobot 3.0's Django 4.2, plus one per interface's device: see compat.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import Prefetch, Q
from django.utils.html import format_html_join
from nautobot.apps.templatetags import hyperlinked_object, placeholder
from nautobot.circuits.models import CircuitTermination
from nautobot.dcim.models import CablePath, Device, Interface, Location
from nautobot.tenancy.models import Tenant

from nautobot_ssot_circuit_maintenance.compat.releases import cable_paths, cable_paths_lookup, generic_prefetch


def termination_prefetch(path: str = "circuit__circuit_terminations") -> Prefetch:
    """Prefetch a circuit's terminations with their location and the interfaces their cable paths reach."""
    return Prefetch(
        path,
        queryset=CircuitTermination.objects.select_related("location").prefetch_related(
            Prefetch(
                cable_paths_lookup(),
                queryset=CablePath.objects.prefetch_related(
                    generic_prefetch("destination", [Interface.objects.select_related("device", "device__tenant")])
                ),
            )
        ),
    )


def terminations(circuit: Any) -> list[Any]:
    """The circuit's terminations, A before Z (reads the prefetch when there is one)."""
    return sorted(circuit.circuit_terminations.all(), key=lambda t: t.term_side)


def termination_interfaces(termination: Any) -> list[Interface]:
    """The device interfaces a termination's cable paths end at."""
    return [
        path.destination
        for path in cable_paths(termination)
        if path.destination is not None and isinstance(path.destination, Interface)
    ]


def circuit_locations(circuit: Any) -> list[tuple[str, Any]]:
    """(side, location) for each termination of the circuit that sits at a location."""
    return [(t.term_side, t.location) for t in terminations(circuit) if t.location is not None]


def circuit_interfaces(circuit: Any) -> list[Interface]:
    """Every device interface that loses its link when the circuit goes down."""
    return [interface for t in terminations(circuit) for interface in termination_interfaces(t)]


def locations_html(circuits: Iterable[Any]) -> str:
    """The A/Z locations of circuits, each linked, e.g. `A: Paris-1 · Z: London-2`."""
    seen = []
    for circuit in circuits:
        for side, location in circuit_locations(circuit):
            if (side, location) not in seen:
                seen.append((side, location))
    if not seen:
        return placeholder(None)
    return format_html_join(" · ", "{}: {}", ((side, hyperlinked_object(loc, "name")) for side, loc in seen))


def interfaces_html(circuits: Iterable[Any]) -> str:
    """The device interfaces of circuits, each `device › interface` linked."""
    found = []
    for circuit in circuits:
        for interface in circuit_interfaces(circuit):
            if interface not in found:
                found.append(interface)
    if not found:
        return placeholder(None)
    return format_html_join(
        ", ", "{} › {}", ((hyperlinked_object(i.device), hyperlinked_object(i, "name")) for i in found)
    )


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


def maintenance_locations(
    maintenances: Iterable[Any], circuits: Mapping[UUID, Iterable[UUID]] | None = None
) -> dict[UUID, list[Location]]:
    """For each maintenance, the locations its circuits terminate at.

    Its circuits come from `circuits` (maintenance pk → circuit pks) when given, else from its `circuit_impacts`
    (prefetched).
    """
    maintenances = list(maintenances)
    if circuits is None:
        circuits = {m.pk: [impact.circuit_id for impact in m.circuit_impacts.all()] for m in maintenances}
    by_circuit = locations_by_circuit({pk for m in maintenances for pk in circuits.get(m.pk, ())})
    result = {}
    for maintenance in maintenances:
        seen: list[Location] = []
        for circuit_id in sorted(circuits.get(maintenance.pk, ())):
            seen.extend(loc for loc in by_circuit.get(circuit_id, []) if loc not in seen)
        result[maintenance.pk] = sorted(seen, key=lambda loc: loc.name)
    return result


def at_locations_q(locations: Iterable[Location], prefix: str = "") -> Q:
    """Maintenances of circuits terminating at these locations or any location below them in the tree."""
    pks = set()
    for location in locations:
        pks.update(location.descendants(include_self=True).values_list("pk", flat=True))
    return Q(**{f"{prefix}circuit_impacts__circuit__circuit_terminations__location__in": pks})


# What `maintenance_reach` reads of a maintenance, prefetched once for any number of them.
REACH_PREFETCH = (
    "circuit_impacts__circuit__tenant",
    termination_prefetch("circuit_impacts__circuit__circuit_terminations"),
)
# The flags a maintenance raises, with where each is (a maintenance row's flags column, its REST answer).
MAINTENANCE_FLAGS_PREFETCH = ("flags__location", "flags__device")
# Everything the maintenance's REST serializer reads, hence its change log entry: fetched with
# `.select_related(*SERIALIZED_RELATED).prefetch_related(*SERIALIZED_PREFETCH)`, serializing reads nothing per row.
SERIALIZED_RELATED = ("provider", "replaces__provider")
SERIALIZED_PREFETCH = (*REACH_PREFETCH, *MAINTENANCE_FLAGS_PREFETCH, "superseded_by", "tags")


@dataclass(frozen=True)
class Reach:
    """What a maintenance affects.

    That is its circuits (as impacts), where they terminate, the device interfaces cabled to them and their devices,
    and the tenants of those circuits and devices. Each list is sorted and without repeats.
    """

    impacts: tuple[Any, ...]
    locations: tuple[Location, ...]
    interfaces: tuple[Interface, ...]
    devices: tuple[Device, ...]
    tenants: tuple[Tenant, ...]

    def as_data(self) -> dict[str, list[dict[str, Any]]]:
        """As JSON: each object with its id, name and REST API URL (what event and webhook payloads carry)."""
        return {
            "circuits": [
                {
                    **brief(impact.circuit, "cid"),
                    "impact": impact.impact,
                    "tenant": _brief_or_none(impact.circuit.tenant),
                }
                for impact in self.impacts
            ],
            "locations": [brief(location) for location in self.locations],
            "interfaces": [interface_data(interface) for interface in self.interfaces],
            "devices": [brief(device) for device in self.devices],
            "tenants": [brief(tenant) for tenant in self.tenants],
        }


def brief(instance: Any, name_field: str = "name") -> dict[str, Any]:
    """An object as a payload names it: its id, its name (`name_field`) and its REST API URL."""
    return {
        "id": str(instance.pk),
        name_field: getattr(instance, name_field),
        "url": instance.get_absolute_url(api=True),
    }


def _brief_or_none(instance: Any) -> dict[str, Any] | None:
    return brief(instance) if instance is not None else None


def interface_data(interface: Interface) -> dict[str, Any]:
    """An interface as a payload names it, with its device."""
    return {**brief(interface), "device": brief(interface.device)}


def _unique(items: Iterable[Any], key: Any) -> tuple[Any, ...]:
    return tuple(sorted({item.pk: item for item in items}.values(), key=key))


def maintenance_reach(maintenance: Any) -> Reach:
    """What the maintenance affects (reads `REACH_PREFETCH` when the maintenance was fetched with it)."""
    impacts = sorted(maintenance.circuit_impacts.all(), key=lambda impact: impact.circuit.cid)
    circuits = [impact.circuit for impact in impacts]
    interfaces = _unique(
        (interface for circuit in circuits for interface in circuit_interfaces(circuit)),
        key=lambda interface: (interface.device.name or "", interface.name),
    )
    devices = _unique((interface.device for interface in interfaces), key=lambda device: device.name or "")
    tenants = [circuit.tenant for circuit in circuits] + [device.tenant for device in devices]
    return Reach(
        impacts=tuple(impacts),
        locations=_unique(
            (location for circuit in circuits for _, location in circuit_locations(circuit)),
            key=lambda location: location.name,
        ),
        interfaces=interfaces,
        devices=devices,
        tenants=_unique((tenant for tenant in tenants if tenant is not None), key=lambda tenant: tenant.name),
    )
