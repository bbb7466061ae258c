"""Test data for the UI, API and filter tests: real Nautobot circuits and a few maintenances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from nautobot.circuits.models import Circuit, CircuitType, Provider
from nautobot.extras import management
from nautobot.extras.models import ContactAssociation, Role, Status

from nautobot_ssot_circuit_maintenance.choices import (
    ImpactChoices,
    MaintenanceStatusChoices,
    NoteLevelChoices,
    OutcomeChoices,
)
from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)

T0 = datetime(2030, 1, 10, 22, 0, tzinfo=timezone.utc)

SCRIPT_MAIL = (
    b"From: NOC <noc@provider-a.example>\r\n"
    b"Subject: Maintenance <script>alert(1)</script>\r\n"
    b"Message-ID: <xss@provider-a.example>\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    b"<html><body><h1>Planned work</h1><script>alert(1)</script>"
    b'<img src=x onerror="alert(2)"> caf\xc3\xa9 \xff\xfe</body></html>\r\n'
)


@dataclass
class UIData:
    providers: list[Provider]
    circuit_type: CircuitType
    circuits: list[Circuit]
    sources: list[NotificationSource]
    maintenances: list[CircuitMaintenance]
    impacts: list[CircuitImpact]
    notes: list[MaintenanceNote]
    raw_notifications: list[RawNotification]
    parsed_notifications: list[ParsedNotification]


def build_ui_data() -> UIData:
    """Three providers, circuits, sources, maintenances (with impacts and notes) and notifications."""
    # A TransactionTestCase earlier in a --keepdb run truncates the statuses migrations created.
    management.populate_status_choices(apps, None)
    # Nautobot 3.0's generic filter tests give contacts the first Role for ContactAssociation, which that
    # truncation removed too (Nautobot 3.2's make one when there is none).
    contact_role, _ = Role.objects.get_or_create(name="Administration")
    contact_role.content_types.add(ContentType.objects.get_for_model(ContactAssociation))
    status = Status.objects.get_for_model(Circuit).first()
    providers = [Provider.objects.create(name=f"CM Provider {letter}") for letter in "ABC"]
    circuit_type = CircuitType.objects.create(name="CM Transit")
    circuits = [
        Circuit.objects.create(cid=f"CM-CID-{i}", provider=providers[i % 3], circuit_type=circuit_type, status=status)
        for i in range(6)
    ]
    sources = [
        NotificationSource.objects.create(name="Mailbox one", source_type="imaps", attach_all_providers=True),
        NotificationSource.objects.create(name="Mailbox two", source_type="imap"),
        NotificationSource.objects.create(name="Mailbox three", source_type="file"),
    ]
    sources[1].providers.set([providers[0], providers[1]])
    sources[2].providers.set([providers[2]])

    statuses = [
        MaintenanceStatusChoices.CONFIRMED,
        MaintenanceStatusChoices.TENTATIVE,
        MaintenanceStatusChoices.COMPLETED,
    ]
    maintenances = []
    for i in range(3):
        start = T0 + timedelta(days=i)
        windows = [
            {"start": start.isoformat(), "end": (start + timedelta(hours=4)).isoformat()},
            {"start": (start + timedelta(days=7)).isoformat(), "end": (start + timedelta(days=7, hours=2)).isoformat()},
        ]
        maintenances.append(
            CircuitMaintenance.objects.create(
                provider=providers[i],
                maintenance_id=f"CM-MAINT-{i}",
                name=f"Planned work {i}",
                description=f"Fibre work number {i}",
                status=statuses[i],
                start_time=start,
                end_time=start + timedelta(days=7, hours=2),
                windows=windows,
                ack=i == 2,
                unresolved_circuit_ids=["GHOST-1"] if i == 0 else [],
            )
        )
    # Cancelled, with no circuits and no windows recorded.
    maintenances.append(
        CircuitMaintenance.objects.create(
            provider=providers[0],
            maintenance_id="CM-MAINT-3",
            name="Planned work 3",
            status=MaintenanceStatusChoices.CANCELLED,
            start_time=T0 + timedelta(days=30),
            end_time=T0 + timedelta(days=30, hours=2),
        )
    )
    impacts = [
        CircuitImpact.objects.create(maintenance=maintenances[0], circuit=circuits[0], impact=ImpactChoices.OUTAGE),
        CircuitImpact.objects.create(maintenance=maintenances[0], circuit=circuits[3], impact=ImpactChoices.DEGRADED),
        CircuitImpact.objects.create(maintenance=maintenances[1], circuit=circuits[1], impact=ImpactChoices.NO_IMPACT),
        CircuitImpact.objects.create(maintenance=maintenances[2], circuit=circuits[2], impact=ImpactChoices.OUTAGE),
    ]
    notes = [
        MaintenanceNote.objects.create(
            maintenance=maintenances[0], title="Unknown circuit GHOST-1", level=NoteLevelChoices.WARNING
        ),
        MaintenanceNote.objects.create(maintenance=maintenances[1], title="Called the NOC", comment="They confirmed."),
        MaintenanceNote.objects.create(maintenance=maintenances[2], title="Done", comment="All good."),
        MaintenanceNote.objects.create(maintenance=maintenances[3], title="Cancelled by the provider"),
    ]
    raws = [
        RawNotification.objects.create(
            source=sources[0],
            message_key="<xss@provider-a.example>",
            provider=providers[0],
            sender="noc@provider-a.example",
            subject="Maintenance <script>alert(1)</script>",
            date=T0 - timedelta(days=3),
            raw=SCRIPT_MAIL,
            raw_size=len(SCRIPT_MAIL),
            outcome=OutcomeChoices.PARSED,
            location="INBOX/1",
        ),
        RawNotification.objects.create(
            source=sources[1],
            message_key="<m2@provider-b.example>",
            provider=providers[1],
            sender="noc@provider-b.example",
            subject="Tentative maintenance",
            date=T0 - timedelta(days=2),
            raw=b"Subject: Tentative maintenance\r\n\r\nplain body\r\n",
            raw_size=44,
            outcome=OutcomeChoices.UNKNOWN_CIDS,
        ),
        RawNotification.objects.create(
            source=sources[2],
            message_key="<m3@elsewhere.example>",
            provider=None,
            sender="someone@elsewhere.example",
            subject="Lunch?",
            date=T0 - timedelta(days=1),
            raw=b"Subject: Lunch?\r\n\r\nno\r\n",
            raw_size=24,
            outcome=OutcomeChoices.UNKNOWN_PROVIDER,
            error="No provider for elsewhere.example",
        ),
    ]
    parsed = [
        ParsedNotification.objects.create(
            raw_notification=raws[0],
            maintenance=maintenances[0],
            provider=providers[0],
            provider_maintenance_id="CM-MAINT-0",
            json={"status": "CONFIRMED", "summary": "<b>bold</b> & <script>alert(3)</script>"},
        ),
        ParsedNotification.objects.create(
            raw_notification=raws[1],
            maintenance=maintenances[1],
            provider=providers[1],
            provider_maintenance_id="CM-MAINT-1",
            json={"status": "TENTATIVE"},
        ),
        ParsedNotification.objects.create(
            raw_notification=raws[1],
            maintenance=None,
            provider=providers[1],
            provider_maintenance_id="CM-MAINT-X",
            json={"status": "CANCELLED"},
        ),
    ]
    return UIData(providers, circuit_type, circuits, sources, maintenances, impacts, notes, raws, parsed)
