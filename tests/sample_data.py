"""Providers, circuits and mailbox messages built from the corpus; shared by the tests and the demo."""

from __future__ import annotations

import json
from email.utils import getaddresses

from circuit_maintenance_parser import get_provider_class

from tests.corpus import corpus_dir, load_corpus

PROVIDER_NAMES = {
    "apple": "Apple",
    "aquacomms": "Aqua Comms",
    "att": "AT&T",
    "aws": "AWS",
    "crowncastle": "Crown Castle",
    "eunetworks": "EU Networks",
    "globalcloudxchange": "Global Cloud Xchange",
    "gtt": "GTT",
    "momentum": "Momentum",
    "pccw": "PCCW",
    "sparkle": "Sparkle",
    "tata": "Tata",
    "windstream": "Windstream",
    "zayo": "Zayo",
}


def from_header(entry: dict) -> str:
    """The sample's From header, or the parser's default organizer where the sample has none."""
    if entry["from_header"]:
        return entry["from_header"]
    return get_provider_class(entry["provider_parser"]).get_default_organizer()


def sender_address(entry: dict) -> str:
    return getaddresses([from_header(entry)])[0][1].lower()


def mailbox_message(raw: bytes, entry: dict) -> bytes:
    """The sample as a mailbox would hold it: with a From header."""
    if entry["from_header"]:
        return raw
    return f"From: {from_header(entry)}\r\n".encode() + raw


def expected_maintenances(name: str) -> list[dict]:
    return json.loads((corpus_dir() / f"{name}.expected.json").read_text(encoding="utf-8"))


def corpus_messages() -> list[tuple[str, bytes, dict]]:
    """(name, mailbox-ready bytes, manifest entry) for every sample."""
    return [(name, mailbox_message(raw, entry), entry) for name, raw, entry in load_corpus()]


def create_providers_and_circuits(*, skip_cids: frozenset[str] = frozenset()) -> dict[str, object]:
    """A provider per parser in the corpus (with its sender addresses) and a circuit per circuit ID it names.

    Returns {parser slug: Provider}. Circuit IDs in `skip_cids` are left out (to exercise unknown circuits).
    """
    from nautobot.circuits.models import Circuit, CircuitType, Provider
    from nautobot.extras.models import Status

    from nautobot_ssot_circuit_maintenance.intake.provision import ensure_custom_fields
    from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD

    ensure_custom_fields()
    addresses: dict[str, set[str]] = {}
    cids: dict[str, set[str]] = {}
    for name, _, entry in load_corpus():
        parser = entry["provider_parser"]
        addresses.setdefault(parser, set()).add(sender_address(entry))
        for maintenance in expected_maintenances(name):
            for circuit in maintenance["circuits"]:
                cids.setdefault(parser, set()).add(circuit["circuit_id"])

    circuit_type, _ = CircuitType.objects.get_or_create(name="Transit")
    active = Status.objects.get(name="Active")
    active.content_types.add(*[ct for ct in [_content_type(Circuit)] if ct])
    providers = {}
    for parser, senders in sorted(addresses.items()):
        provider, _ = Provider.objects.get_or_create(name=PROVIDER_NAMES[parser])
        provider._custom_field_data[EMAILS_FIELD] = ", ".join(sorted(senders))
        if provider.name.lower().replace(" ", "") != parser:
            provider._custom_field_data[PARSER_FIELD] = parser
        provider.validated_save()
        providers[parser] = provider
        for cid in sorted(cids.get(parser, ())):
            if cid in skip_cids:
                continue
            Circuit.objects.get_or_create(
                provider=provider, cid=cid, defaults={"circuit_type": circuit_type, "status": active}
            )
    return providers


def _content_type(model):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(model)


def ical_notice(
    maintenance_id: str,
    cids: list[str] | dict[str, str],
    *,
    sender: str,
    summary: str = "Planned work",
    date: str | None = None,
    sequence: int = 1,
    status: str = "CONFIRMED",
) -> bytes:
    """A BCOP iCalendar notice (the generic parser's format) from `sender`; `cids` maps circuit ID → impact."""
    impacts = cids if isinstance(cids, dict) else dict.fromkeys(cids, "OUTAGE")
    objects = "".join(f"X-MAINTNOTE-OBJECT-ID;X-MAINTNOTE-OBJECT-IMPACT={i}:{cid}\r\n" for cid, i in impacts.items())
    calendar = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tests//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
        f"SUMMARY:{summary}\r\nDTSTART;VALUE=DATE-TIME:20261201T060000Z\r\n"
        "DTEND;VALUE=DATE-TIME:20261201T080000Z\r\nDTSTAMP;VALUE=DATE-TIME:20261120T000000Z\r\n"
        f"UID:{maintenance_id}\r\nSEQUENCE:{sequence}\r\nX-MAINTNOTE-PROVIDER:{sender.split('@')[-1]}\r\n"
        f"X-MAINTNOTE-MAINTENANCE-ID:{maintenance_id}\r\nX-MAINTNOTE-ACCOUNT:acct\r\n"
        f"X-MAINTNOTE-STATUS:{status}\r\nX-MAINTNOTE-IMPACT:OUTAGE\r\n"
        f"{objects}ORGANIZER;CN=NOC:mailto:{sender}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    date_header = f"Date: {date}\r\n" if date else ""
    return (
        f"From: NOC <{sender}>\r\nTo: ops@example.net\r\nSubject: Maintenance {maintenance_id}\r\n"
        f"{date_header}Message-ID: <{maintenance_id}.{sequence}@{sender.split('@')[-1]}>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n{calendar}"
    ).encode()
