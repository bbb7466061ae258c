"""Who receives a tenant's notices: the tenant's own list when it has one, else its contacts and teams.

Nautobot's Contacts and Teams are associated with a tenant (`ContactAssociation`) with a role; those with the
configured role (`customer_notices.contact_role`) receive its maintenance notices. A contact is reached at its
e-mail address; a team at its own address, or at each of its members' when it has none. A tenant's notice
settings (`TenantNoticeSettings.recipients`) replace all of that when not empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from nautobot.extras.models import ContactAssociation
from nautobot.tenancy.models import Tenant

from nautobot_ssot_circuit_maintenance.models import TenantNoticeSettings


@dataclass(frozen=True)
class Recipient:
    """One address a notice goes to, the name of whom it reaches and where it came from."""

    address: str
    name: str = ""
    via: str = ""


def _add(found: dict[str, Recipient], address: str, name: str, via: str) -> None:
    if address and address.lower() not in found:
        found[address.lower()] = Recipient(address, name, via)


def tenant_recipients(tenant: Tenant, role: str) -> list[Recipient]:
    """The tenant's recipients, each address once (compared without case), in a stable order."""
    override = TenantNoticeSettings.objects.filter(tenant=tenant).first()
    found: dict[str, Recipient] = {}
    if override is not None and override.recipients:
        for address in override.recipients:
            _add(found, address, "", "tenant notice settings")
        return list(found.values())
    associations = (
        ContactAssociation.objects.filter(
            associated_object_type=ContentType.objects.get_for_model(Tenant),
            associated_object_id=tenant.pk,
            role__name=role,
        )
        .select_related("contact", "team", "role")
        .prefetch_related("team__contacts")
        .order_by("contact__name", "team__name")
    )
    for association in associations:
        if association.contact is not None:
            _add(found, association.contact.email, association.contact.name, f"contact ({role})")
        elif association.team is not None:
            team: Any = association.team
            if team.email:
                _add(found, team.email, team.name, f"team ({role})")
            else:
                for member in sorted(team.contacts.all(), key=lambda contact: contact.name):
                    _add(found, member.email, member.name, f"team {team.name} ({role})")
    return list(found.values())


def tenant_wants_notices(tenant: Tenant) -> bool:
    """Whether the tenant is told at all (its settings may turn it off)."""
    return not TenantNoticeSettings.objects.filter(tenant=tenant, notify=False).exists()
