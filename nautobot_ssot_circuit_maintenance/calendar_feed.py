"""Maintenances as an iCalendar (RFC 5545) feed: one event per maintenance window.

Calendar tools and NOC wall screens subscribe to it; the UIDs are stable, so a rescheduled window
moves the existing event instead of adding one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from .choices import MaintenanceStatusChoices

PRODID = "-//nautobot-ssot-circuit-maintenance//Circuit Maintenances//EN"
EVENT_STATUS = {
    MaintenanceStatusChoices.TENTATIVE: "TENTATIVE",
    MaintenanceStatusChoices.CANCELLED: "CANCELLED",
}


def escape_text(value: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon, comma and newlines escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF and a space, never inside a character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts, current, limit = [], b"", 75
    for char in line:
        piece = char.encode("utf-8")
        if len(current) + len(piece) > limit:
            parts.append(current.decode("utf-8"))
            current, limit = b"", 74  # continuation lines start with a space
        current += piece
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def stamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _description(maintenance) -> str:
    lines = [f"Provider: {maintenance.provider.name}", f"Maintenance ID: {maintenance.maintenance_id}"]
    lines.append(f"Status: {maintenance.get_status_display()}{'' if maintenance.ack else ' (not acknowledged)'}")
    impacts = sorted((impact.circuit.cid, impact.get_impact_display()) for impact in maintenance.circuit_impacts.all())
    lines.append("Circuits: " + (", ".join(f"{cid} ({impact})" for cid, impact in impacts) or "none known"))
    if maintenance.unresolved_circuit_ids:
        lines.append("Unknown circuit IDs: " + ", ".join(maintenance.unresolved_circuit_ids))
    if maintenance.description:
        lines.extend(["", maintenance.description])
    return "\n".join(lines)


def render_calendar(
    maintenances: Iterable, *, url_for: Callable[[object], str], now: datetime | None = None, name: str = ""
) -> str:
    """The feed as text with CRLF line ends. `maintenances` should prefetch provider and circuit impacts."""
    now = now or datetime.now(timezone.utc)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    for maintenance in maintenances:
        windows = maintenance.window_times
        description = _description(maintenance)
        url = url_for(maintenance)
        for number, (start, end) in enumerate(windows, start=1):
            title = f"[{maintenance.provider.name}] {maintenance.name}"
            if len(windows) > 1:
                title += f" ({number}/{len(windows)})"
            lines += [
                "BEGIN:VEVENT",
                f"UID:{maintenance.pk}-{number}@nautobot-ssot-circuit-maintenance",
                f"DTSTAMP:{stamp(now)}",
                f"LAST-MODIFIED:{stamp(maintenance.last_updated or now)}",
                f"DTSTART:{stamp(start)}",
                f"DTEND:{stamp(end)}",
                f"SUMMARY:{escape_text(title)}",
                f"DESCRIPTION:{escape_text(description)}",
                f"STATUS:{EVENT_STATUS.get(maintenance.status, 'CONFIRMED')}",
                f"URL:{url}",
                "TRANSP:OPAQUE",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "".join(f"{fold(line)}\r\n" for line in lines)
