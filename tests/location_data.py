"""Test data for locations, devices and isolation: real locations, routers, cables and maintenances.

    CM Europe ─┬─ CM PAR1  (2 circuits: PA from provider A, PB from provider B; router par-r1)
               └─ CM LON1  (3 circuits: LA (A), LB (B), LC (C); router lon-r1)
    CM Americas ── CM NYC1 (the Z end of PA)

Maintenances, from BASE (two days from now):
    M1  provider A  OUTAGE  PA, LA        0h–4h
    M2  provider B  OUTAGE  PB, LB        2h–6h
    M3  provider C  DEGRADED LC           0h–6h
    M4  provider C  OUTAGE  LC            2h–4h   CANCELLED
So PAR1 loses redundancy 0–2h, is isolated 2–4h (across providers A and B), loses redundancy 4–6h;
LON1 is down to LC 2–4h (LC degraded meanwhile); par-r1 is cut off 2–4h; lon-r1 keeps one link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.utils import timezone
from nautobot.circuits.models import Circuit, CircuitType, Provider
from nautobot.extras import management
from nautobot.tenancy.models import Tenant

from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.models import CircuitImpact, CircuitMaintenance
from tests.site_data import basics, location, provider_network, router, terminate


@dataclass
class SiteData:
    base: datetime
    europe: Any
    americas: Any
    par: Any
    lon: Any
    nyc: Any
    par_router: Any
    lon_router: Any
    circuits: dict[str, Circuit]
    maintenances: dict[str, CircuitMaintenance]
    tenants: dict[str, Tenant]


def at(base: datetime, hours: float) -> datetime:
    return base + timedelta(hours=hours)


def maintenance(
    provider: Provider, key: str, base: datetime, start: float, end: float, status: str
) -> CircuitMaintenance:
    return CircuitMaintenance.objects.create(
        provider=provider,
        maintenance_id=f"LOC-{key}",
        name=f"Site work {key}",
        status=status,
        start_time=at(base, start),
        end_time=at(base, end),
        windows=[{"start": at(base, start).isoformat(), "end": at(base, end).isoformat()}],
    )


def build_site_data() -> SiteData:
    management.populate_status_choices(apps, None)
    b = basics()
    base = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    providers = {letter: Provider.objects.create(name=f"LOC Provider {letter}") for letter in "ABC"}
    circuit_type, _ = CircuitType.objects.get_or_create(name="LOC Internet")
    tenants = {name: Tenant.objects.create(name=f"LOC Tenant {name}") for name in "XY"}
    circuits = {
        cid: Circuit.objects.create(
            cid=cid,
            provider=providers[letter],
            circuit_type=circuit_type,
            status=b.active,
            tenant=tenants.get(tenant) if tenant else None,
        )
        for cid, letter, tenant in [
            ("PA", "A", "X"),
            ("PB", "B", None),
            ("LA", "A", None),
            ("LB", "B", None),
            ("LC", "C", "Y"),
        ]
    }
    europe = location(b, "CM Europe")
    americas = location(b, "CM Americas")
    par = location(b, "CM PAR1", europe)
    lon = location(b, "CM LON1", europe)
    nyc = location(b, "CM NYC1", americas)
    par_router = router(b, "par-r1", par)
    lon_router = router(b, "lon-r1", lon)
    terminate(b, circuits["PA"], "A", site=par, interface="par-r1:eth0")
    terminate(b, circuits["PA"], "Z", site=nyc)
    terminate(b, circuits["PB"], "A", site=par, interface="par-r1:eth1")
    terminate(b, circuits["PB"], "Z", provider_network=provider_network(providers["B"]))
    for cid, interface in (("LA", "eth0"), ("LB", "eth1"), ("LC", "eth2")):
        terminate(b, circuits[cid], "A", site=lon, interface=f"lon-r1:{interface}")

    confirmed, cancelled = MaintenanceStatusChoices.CONFIRMED, MaintenanceStatusChoices.CANCELLED
    maintenances = {
        "M1": maintenance(providers["A"], "M1", base, 0, 4, confirmed),
        "M2": maintenance(providers["B"], "M2", base, 2, 6, confirmed),
        "M3": maintenance(providers["C"], "M3", base, 0, 6, confirmed),
        "M4": maintenance(providers["C"], "M4", base, 2, 4, cancelled),
    }
    for key, cid, impact in (
        ("M1", "PA", ImpactChoices.OUTAGE),
        ("M1", "LA", ImpactChoices.OUTAGE),
        ("M2", "PB", ImpactChoices.OUTAGE),
        ("M2", "LB", ImpactChoices.OUTAGE),
        ("M3", "LC", ImpactChoices.DEGRADED),
        ("M4", "LC", ImpactChoices.OUTAGE),
    ):
        CircuitImpact.objects.create(maintenance=maintenances[key], circuit=circuits[cid], impact=impact)
    return SiteData(base, europe, americas, par, lon, nyc, par_router, lon_router, circuits, maintenances, tenants)
