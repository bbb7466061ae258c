"""Maintenances placed around a given moment, one per live state (and a few more), for the live-state,
calendar, feed and overview tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from nautobot.circuits.models import Circuit, CircuitTermination, CircuitType, Provider
from nautobot.dcim.models import Location, LocationType
from nautobot.extras import management
from nautobot.extras.models import Status

from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.models import CircuitImpact, CircuitMaintenance

H = timedelta(hours=1)
D = timedelta(days=1)


def window(start: datetime, end: datetime) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat()}


@dataclass
class LiveData:
    now: datetime
    providers: list[Provider]
    circuits: list[Circuit]
    region: Location
    sites: list[Location]
    by_name: dict[str, CircuitMaintenance]


def make(provider: Provider, name: str, status: str, windows: list[tuple[datetime, datetime]], **extra):
    return CircuitMaintenance.objects.create(
        provider=provider,
        maintenance_id=name.upper(),
        name=name,
        status=status,
        start_time=min(s for s, _ in windows),
        end_time=max(e for _, e in windows),
        windows=[window(s, e) for s, e in windows],
        **extra,
    )


def build_live_data(now: datetime) -> LiveData:
    """Two providers, four circuits terminating at two sites under one region, and a maintenance per state.

    With `starting_soon_hours` at its default (24): upcoming (in 3 days), starting-soon (in 5 hours),
    in-progress (started 1 hour ago), between-nights (two windows, now in the gap, next in 10 hours),
    overrunning (IN-PROCESS, ended 2 hours ago), ended (ended yesterday), completed (COMPLETED, still
    within its window), cancelled (in 2 days), far-past (ended 90 days ago).
    """
    management.populate_status_choices(apps, None)
    active = Status.objects.get(name="Active")
    providers = [Provider.objects.create(name=f"Live Provider {letter}", account=f"ACCT-{letter}") for letter in "AB"]
    circuit_type = CircuitType.objects.create(name="Live Transit")
    circuits = [
        Circuit.objects.create(cid=f"LIVE-CID-{i}", provider=providers[i % 2], circuit_type=circuit_type, status=active)
        for i in range(4)
    ]
    region_type = LocationType.objects.create(name="Live Region")
    site_type = LocationType.objects.create(name="Live Site", parent=region_type)
    site_type.content_types.add(*_content_types(CircuitTermination))
    region = Location.objects.create(name="Live Region 1", location_type=region_type, status=active)
    sites = [
        Location.objects.create(name=f"Live Site {n}", location_type=site_type, parent=region, status=active)
        for n in (1, 2)
    ]
    # Circuits 0 and 1 terminate at site 1 (A side) and site 2 (Z side); circuits 2 and 3 at site 2 only.
    for circuit, a_site in zip(circuits, (sites[0], sites[0], sites[1], sites[1]), strict=True):
        CircuitTermination.objects.create(circuit=circuit, term_side="A", location=a_site)
    CircuitTermination.objects.create(circuit=circuits[0], term_side="Z", location=sites[1])

    a, b = providers
    S = MaintenanceStatusChoices
    spec = {
        "upcoming": (a, S.CONFIRMED, [(now + 3 * D, now + 3 * D + 4 * H)], [0]),
        "starting-soon": (a, S.TENTATIVE, [(now + 5 * H, now + 9 * H)], [1]),
        "in-progress": (b, S.CONFIRMED, [(now - H, now + 3 * H)], [0, 2]),
        "between-nights": (b, S.CONFIRMED, [(now - 14 * H, now - 10 * H), (now + 10 * H, now + 14 * H)], [3]),
        "overrunning": (a, S.IN_PROCESS, [(now - 6 * H, now - 2 * H)], [2]),
        "ended": (b, S.CONFIRMED, [(now - 30 * H, now - 26 * H)], [1]),
        "completed": (a, S.COMPLETED, [(now - 2 * H, now + 2 * H)], [3]),
        "cancelled": (b, S.CANCELLED, [(now + 2 * D, now + 2 * D + 2 * H)], [0]),
        "far-past": (a, S.CONFIRMED, [(now - 90 * D, now - 90 * D + 4 * H)], [0]),
    }
    by_name = {}
    for name, (provider, status, windows, circuit_numbers) in spec.items():
        maintenance = make(provider, name, status, windows, ack=name in ("ended", "completed", "far-past"))
        impacts = [ImpactChoices.OUTAGE, ImpactChoices.DEGRADED]
        for n, number in enumerate(circuit_numbers):
            CircuitImpact.objects.create(maintenance=maintenance, circuit=circuits[number], impact=impacts[n % 2])
        by_name[name] = maintenance
    return LiveData(now, providers, circuits, region, sites, by_name)


def _content_types(model):
    from django.contrib.contenttypes.models import ContentType

    return [ContentType.objects.get_for_model(model)]
