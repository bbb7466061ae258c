"""Maintenances as an iCalendar (RFC 5545) feed, written with the `icalendar` library: one event per window.

Calendar tools and NOC wall screens subscribe to it; the UIDs are stable, so a rescheduled window
moves the existing event instead of adding one. Each event also carries the NANOG maintenance
notification BCOP properties (X-MAINTNOTE-*), so a tool that reads provider notifications in that
format (circuit-maintenance-parser among them) reads this feed too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import icalendar

from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices

PRODID = "-//nautobot-ssot-circuit-maintenance//Circuit Maintenances//EN"
UID_DOMAIN = "nautobot-ssot-circuit-maintenance"
EVENT_STATUS = {
    MaintenanceStatusChoices.TENTATIVE: "TENTATIVE",
    MaintenanceStatusChoices.CANCELLED: "CANCELLED",
}
# The BCOP's X-MAINTNOTE-STATUS values; UNKNOWN is not one of them and is left out (the BCOP allows that).
BCOP_STATUSES = {
    MaintenanceStatusChoices.TENTATIVE,
    MaintenanceStatusChoices.CONFIRMED,
    MaintenanceStatusChoices.CANCELLED,
    MaintenanceStatusChoices.IN_PROCESS,
    MaintenanceStatusChoices.COMPLETED,
    MaintenanceStatusChoices.RE_SCHEDULED,
}
# Least to most severe: a maintenance's X-MAINTNOTE-IMPACT is the worst of its circuits'.
IMPACT_ORDER = [
    ImpactChoices.NO_IMPACT,
    ImpactChoices.REDUCED_REDUNDANCY,
    ImpactChoices.DEGRADED,
    ImpactChoices.OUTAGE,
]


def worst_impact(impacts: Iterable[str]) -> str:
    """The most severe impact; OUTAGE (the model's default) when no circuit is known."""
    impacts = [impact for impact in impacts if impact in IMPACT_ORDER]
    return max(impacts, key=IMPACT_ORDER.index) if impacts else ImpactChoices.OUTAGE


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def _description(maintenance, impacts: list[tuple[str, str]], locations: list[str]) -> str:
    lines = [f"Provider: {maintenance.provider.name}", f"Maintenance ID: {maintenance.maintenance_id}"]
    lines.append(f"Status: {maintenance.get_status_display()}{'' if maintenance.ack else ' (not acknowledged)'}")
    labels = dict(ImpactChoices.CHOICES)
    lines.append("Circuits: " + (", ".join(f"{cid} ({labels[impact]})" for cid, impact in impacts) or "none known"))
    if locations:
        lines.append("Locations: " + ", ".join(locations))
    if maintenance.unresolved_circuit_ids:
        lines.append("Unknown circuit IDs: " + ", ".join(maintenance.unresolved_circuit_ids))
    if maintenance.description:
        lines.extend(["", maintenance.description])
    return "\n".join(lines)


def build_calendar(
    maintenances: Iterable,
    *,
    url_for: Callable[[object], str],
    locations: dict | None = None,
    impacts: Mapping[Any, Iterable[tuple[str, str]]] | None = None,
    name: str = "",
) -> icalendar.Calendar:
    """The feed as an `icalendar.Calendar`. `maintenances` should come with their provider.

    `impacts` maps a maintenance's pk to its circuits' (cid, impact); without it, each maintenance's circuit
    impacts are read (prefetch them, with their circuits). `locations` maps a maintenance's pk to the locations
    its circuits terminate at (models/reach.py).
    Nothing depends on the clock: the same records give the same bytes (the feed's ETag relies on it).
    """
    calendar = _calendar(name)
    for maintenance in maintenances:
        for event in maintenance_events(maintenance, url_for=url_for, locations=locations, impacts=impacts):
            calendar.add_component(event)
    return calendar


def render_calendar(maintenances: Iterable, *, name: str = "", **kwargs: Any) -> bytes:
    """The feed as bytes, the same as `build_calendar(...).to_ical()` (CRLF line ends, lines folded at 75 octets).

    Written one maintenance at a time: a feed of a thousand maintenances held as one tree of icalendar objects is
    some two hundred thousand objects at once, and that many new objects make Python's garbage collector walk
    every object of the process (half a second in a Nautobot worker) on each request. One maintenance's events
    are gone before the next are made.
    """
    head, end = _calendar(name).to_ical().rsplit(b"END:VCALENDAR", 1)
    parts = [head]
    for maintenance in maintenances:
        parts.extend(event.to_ical() for event in maintenance_events(maintenance, **kwargs))
    parts.append(b"END:VCALENDAR" + end)
    return b"".join(parts)


def _calendar(name: str) -> icalendar.Calendar:
    """The calendar's own properties, no events."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def maintenance_events(
    maintenance: Any,
    *,
    url_for: Callable[[object], str],
    locations: dict | None = None,
    impacts: Mapping[Any, Iterable[tuple[str, str]]] | None = None,
) -> list[icalendar.Event]:
    """One event per window of the maintenance (`build_calendar` says what the arguments are)."""
    circuits = (
        impacts.get(maintenance.pk, ())
        if impacts is not None
        else ((impact.circuit.cid, impact.impact) for impact in maintenance.circuit_impacts.all())
    )
    impacted = sorted(circuits)
    places = [location.name for location in (locations or {}).get(maintenance.pk, [])]
    description = _description(maintenance, impacted, places)
    overall = worst_impact(impact for _, impact in impacted)
    changed = _utc(maintenance.last_updated or maintenance.start_time)
    windows = maintenance.window_times
    events = []
    for number, (start, end) in enumerate(windows, start=1):
        title = f"[{maintenance.provider.name}] {maintenance.name}"
        if len(windows) > 1:
            title += f" ({number}/{len(windows)})"
        event = icalendar.Event()
        event.add("uid", f"{maintenance.pk}-{number}@{UID_DOMAIN}")
        event.add("dtstamp", changed)
        event.add("last-modified", changed)
        # Grows with every change of the record: calendar clients replace the older copy.
        event.add("sequence", int(changed.timestamp()))
        event.add("dtstart", _utc(start))
        event.add("dtend", _utc(end))
        event.add("summary", title)
        event.add("description", description)
        event.add("status", EVENT_STATUS.get(maintenance.status, "CONFIRMED"))
        event.add("url", url_for(maintenance))
        event.add("transp", "OPAQUE")
        if places:
            event.add("location", ", ".join(places))
        # NANOG maintenance-notification BCOP.
        event.add("x-maintnote-provider", maintenance.provider.name)
        event.add("x-maintnote-account", maintenance.provider.account or "")
        event.add("x-maintnote-maintenance-id", maintenance.maintenance_id)
        for cid, impact in impacted:
            event.add("x-maintnote-object-id", cid, parameters={"X-MAINTNOTE-OBJECT-IMPACT": impact})
        for cid in maintenance.unresolved_circuit_ids:
            event.add("x-maintnote-object-id", cid)
        event.add("x-maintnote-impact", overall)
        if maintenance.status in BCOP_STATUSES:
            event.add("x-maintnote-status", maintenance.status)
        events.append(event)
    return events


def etag_for(body: bytes) -> str:
    """A strong ETag for the feed's bytes: the first 32 hex digits of their SHA-256, quoted."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
