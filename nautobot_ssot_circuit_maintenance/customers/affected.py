"""Which tenants a maintenance affects, and how badly: the customers to tell.

A tenant is reached two ways (`models/reach.py` computes both): it holds a circuit the maintenance impacts, or it
holds a device cabled to such a circuit. A circuit's tenant is affected as the provider says the circuit is (outage,
degraded, reduced redundancy). A device's tenant is affected as the device is: the isolation flags (flags/) say
whether the device, or the location it stands at, is cut off (an outage) or down to its last link (reduced
redundancy) while the maintenance runs; a device with no flag is taken to suffer the worst of its circuits, since
nothing shows that it keeps another link. A tenant that only sees NO-IMPACT circuits is not told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nautobot_ssot_circuit_maintenance.calendar.ical import worst_impact
from nautobot_ssot_circuit_maintenance.choices import FlagKindChoices, ImpactChoices
from nautobot_ssot_circuit_maintenance.models.reach import REACH_PREFETCH, circuit_interfaces, maintenance_reach

# What `affected_tenants` reads of a maintenance, prefetched once for any number of them.
AFFECTED_PREFETCH = (*REACH_PREFETCH, "flags")
FLAG_IMPACT = {
    FlagKindChoices.ISOLATION: ImpactChoices.OUTAGE,
    FlagKindChoices.LOST_REDUNDANCY: ImpactChoices.REDUCED_REDUNDANCY,
}


@dataclass(frozen=True)
class TenantImpact:
    """How one maintenance affects one tenant: the worst of what it does to the tenant's circuits and devices."""

    tenant: Any
    impact: str
    # (circuit, impact) of every circuit through which the maintenance reaches the tenant, by circuit ID.
    circuits: tuple[tuple[Any, str], ...]
    devices: tuple[Any, ...]


def _device_impact(device: Any, circuit_impacts: list[str], flags: list[Any]) -> str:
    """How the maintenance affects a device: by its isolation flags, else by the worst of its circuits."""
    found = [
        FLAG_IMPACT[flag.kind]
        for flag in flags
        if flag.device_id == device.pk or (flag.location_id is not None and flag.location_id == device.location_id)
    ]
    return worst_impact(found) if found else worst_impact(circuit_impacts)


def affected_tenants(maintenance: Any) -> dict[Any, TenantImpact]:
    """Each tenant the maintenance affects (by pk), with how (reads `AFFECTED_PREFETCH` when prefetched)."""
    reach = maintenance_reach(maintenance)
    flags = list(maintenance.flags.all())
    circuits: dict[Any, dict[Any, tuple[Any, str]]] = {}
    devices: dict[Any, dict[Any, Any]] = {}
    impacts: dict[Any, list[str]] = {}
    tenants: dict[Any, Any] = {}

    def reached(tenant: Any, circuit: Any, impact: str) -> None:
        tenants[tenant.pk] = tenant
        circuits.setdefault(tenant.pk, {})[circuit.pk] = (circuit, impact)

    by_device: dict[Any, list[tuple[Any, str]]] = {}
    for circuit_impact in reach.impacts:
        circuit = circuit_impact.circuit
        if circuit.tenant is not None:
            reached(circuit.tenant, circuit, circuit_impact.impact)
            impacts.setdefault(circuit.tenant.pk, []).append(circuit_impact.impact)
        for interface in circuit_interfaces(circuit):
            by_device.setdefault(interface.device.pk, []).append((circuit, circuit_impact.impact))
    for device in reach.devices:
        if device.tenant is None:
            continue
        links = by_device.get(device.pk, [])
        for circuit, impact in links:
            reached(device.tenant, circuit, impact)
        devices.setdefault(device.tenant.pk, {})[device.pk] = device
        impacts.setdefault(device.tenant.pk, []).append(_device_impact(device, [i for _, i in links], flags))
    result = {}
    for pk, tenant in tenants.items():
        impact = worst_impact(impacts.get(pk, []))
        if impact == ImpactChoices.NO_IMPACT:
            continue
        result[pk] = TenantImpact(
            tenant=tenant,
            impact=impact,
            circuits=tuple(sorted(circuits[pk].values(), key=lambda pair: pair[0].cid)),
            devices=tuple(sorted(devices.get(pk, {}).values(), key=lambda device: device.name or "")),
        )
    return result
