"""Locations, devices and cabled circuit terminations; shared by the tests and the demo. Every step is idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def _status(name: str, *models: Any) -> Any:
    from django.contrib.contenttypes.models import ContentType
    from nautobot.extras.models import Status

    status, _ = Status.objects.get_or_create(name=name)
    status.content_types.add(*[ContentType.objects.get_for_model(model) for model in models])
    return status


@dataclass
class Basics:
    region_type: Any
    site_type: Any
    active: Any
    connected: Any
    role: Any
    device_type: Any


def basics() -> Basics:
    from django.contrib.contenttypes.models import ContentType
    from nautobot.circuits.models import Circuit, CircuitTermination
    from nautobot.dcim.models import Cable, Device, DeviceType, Interface, Location, LocationType, Manufacturer
    from nautobot.extras.models import Role

    region_type, _ = LocationType.objects.get_or_create(name="Region", defaults={"nestable": True})
    site_type, _ = LocationType.objects.get_or_create(name="Site", defaults={"parent": region_type})
    site_type.content_types.add(
        ContentType.objects.get_for_model(Device), ContentType.objects.get_for_model(CircuitTermination)
    )
    active = _status("Active", Location, Device, Interface, Circuit)
    connected = _status("Connected", Cable)
    role, _ = Role.objects.get_or_create(name="Edge router")
    role.content_types.add(ContentType.objects.get_for_model(Device))
    manufacturer, _ = Manufacturer.objects.get_or_create(name="Generic")
    device_type, _ = DeviceType.objects.get_or_create(manufacturer=manufacturer, model="Edge router")
    return Basics(region_type, site_type, active, connected, role, device_type)


def location(b: Basics, name: str, parent: Any = None) -> Any:
    from nautobot.dcim.models import Location

    location_type = b.site_type if parent is not None else b.region_type
    found, _ = Location.objects.get_or_create(
        name=name, parent=parent, defaults={"location_type": location_type, "status": b.active}
    )
    return found


def router(b: Basics, name: str, site: Any) -> Any:
    from nautobot.dcim.models import Device

    device, _ = Device.objects.get_or_create(
        name=name,
        location=site,
        defaults={"device_type": b.device_type, "role": b.role, "status": b.active},
    )
    return device


def terminate(
    b: Basics, circuit: Any, side: str, *, site: Any = None, provider_network: Any = None, interface: Any = None
) -> Any:
    """Termination `side` of `circuit` at `site` (or a provider network), cabled to `interface` when given."""
    from nautobot.circuits.models import CircuitTermination
    from nautobot.dcim.models import Cable, Interface

    termination = CircuitTermination.objects.filter(circuit=circuit, term_side=side).first()
    if termination is None:
        termination = CircuitTermination(circuit=circuit, term_side=side)
    termination.location = site
    termination.provider_network = provider_network
    termination.validated_save()
    if interface is not None and termination.cable is None:
        if isinstance(interface, str):
            device, _, name = interface.partition(":")
            interface, _ = Interface.objects.get_or_create(
                device=site.devices.get(name=device), name=name, defaults={"type": "10gbase-x-sfpp", "status": b.active}
            )
        Cable.objects.create(termination_a=termination, termination_b=interface, status=b.connected)
    return termination


def provider_network(provider: Any) -> Any:
    from nautobot.circuits.models import ProviderNetwork

    found, _ = ProviderNetwork.objects.get_or_create(provider=provider, name=f"{provider.name} backbone")
    return found


# The demo: the corpus circuits that terminate at our sites. Chicago DC1 has two circuits, both from
# Windstream and both in Windstream's maintenance 123456: that maintenance isolates the site and cuts
# off its router. Frankfurt DC2 has three: two AWS Direct Connect links that AWS's maintenance takes
# down together, and a Zayo wave whose maintenance has no impact: redundancy lost, one circuit left.
DEMO_SITES = {
    ("North America", "Chicago DC1", "chi-edge-01"): [
        ("windstream", "WS/KJUS/12345/ /WXN /", "xe-0/0/0", "Acme Retail"),
        ("windstream", "WS/KJUS/22345/ /WXN /", "xe-0/0/1", "Acme Retail"),
    ],
    ("Europe", "Frankfurt DC2", "fra-edge-01"): [
        ("aws", "aaaaa-00000001", "et-0/0/0", None),
        ("aws", "aaaaa-00000002", "et-0/0/1", None),
        ("zayo", "/OGYX/123418/   /ZYO /", "et-0/0/2", "Globex"),
    ],
}


def create_demo_sites(providers: dict[str, Any]) -> list[Any]:
    """The demo's locations, routers and cabled terminations (A: our site, Z: the provider's network)."""
    from nautobot.circuits.models import Circuit
    from nautobot.tenancy.models import Tenant

    b = basics()
    sites = []
    for (region_name, site_name, device_name), circuits in DEMO_SITES.items():
        site = location(b, site_name, location(b, region_name))
        router(b, device_name, site)
        for parser, cid, interface, tenant_name in circuits:
            circuit = Circuit.objects.get(provider=providers[parser], cid=cid)
            if tenant_name and circuit.tenant is None:
                circuit.tenant, _ = Tenant.objects.get_or_create(name=tenant_name)
                circuit.validated_save()
            terminate(b, circuit, "A", site=site, interface=f"{device_name}:{interface}")
            terminate(b, circuit, "Z", provider_network=provider_network(circuit.provider))
        sites.append(site)
    return sites
