"""The daily digest: the maintenances of the next days, with what each affects, e-mailed to the NOC.

Sent through Django's mail (Nautobot's `EMAIL_*` settings: the server the rest of Nautobot mails through), not
apprise: one plain-text e-mail to a list of people is what Django's mail does, with no credentials to keep
apart. Recipients come from the job's input, else from the app's `digest.recipients` setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from nautobot_ssot_circuit_maintenance.config import app_settings
from nautobot_ssot_circuit_maintenance.display import format_utc_windows
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance
from nautobot_ssot_circuit_maintenance.models.reach import REACH_PREFETCH, maintenance_reach

DEFAULT_DIGEST_DAYS = 7


@dataclass(frozen=True)
class Digest:
    """The digest's subject, its plain-text body and how many maintenances it lists."""

    subject: str
    body: str
    count: int


def digest_recipients(given: str = "") -> list[str]:
    """The addresses given (separated by commas), else the `digest.recipients` setting."""
    addresses = [address.strip() for address in (given or "").split(",") if address.strip()]
    if addresses:
        return addresses
    configured = (app_settings().get("digest") or {}).get("recipients") or []
    return [str(address).strip() for address in configured if str(address).strip()]


def _names(objects: tuple) -> str:
    return ", ".join(str(item) for item in objects) or "none known"


def build_digest(days: int, *, now: datetime | None = None) -> Digest:
    """The digest of the maintenances not over that start within `days` (or have started), soonest first."""
    now = now or timezone.now()
    maintenances = (
        CircuitMaintenance.objects.upcoming(days, now=now)
        .select_related("provider")
        .prefetch_related(*REACH_PREFETCH)
        .order_by("start_time", "maintenance_id")
    )
    blocks = []
    for maintenance in maintenances:
        reach = maintenance_reach(maintenance)
        circuits = ", ".join(f"{i.circuit.cid} ({i.get_impact_display()})" for i in reach.impacts) or "none known"
        blocks.append(
            "\n".join(
                [
                    f"* {maintenance.label} — {maintenance.provider.name} {maintenance.maintenance_id}",
                    f"  Status: {maintenance.get_status_display()}; acknowledged: {'yes' if maintenance.ack else 'no'}",
                    f"  When: {format_utc_windows(maintenance.window_times)}",
                    f"  Circuits: {circuits}",
                    f"  Sites: {_names(reach.locations)}",
                    f"  Devices: {_names(reach.devices)}",
                    f"  Tenants: {_names(reach.tenants)}",
                    f"  Page: {maintenance.get_absolute_url()}",
                ]
            )
        )
    count = len(blocks)
    subject = f"Circuit maintenances in the next {days} day(s): {count}"
    intro = f"{count} circuit maintenance(s) not over start within {days} day(s) of {now:%Y-%m-%d %H:%M} UTC."
    return Digest(subject, "\n\n".join([intro, *blocks]) + "\n", count)


def send_digest(digest: Digest, recipients: list[str]) -> None:
    """Send the digest to the recipients through Django's mail; raises what the server says (SMTPException)."""
    message = EmailMessage(digest.subject, digest.body, settings.DEFAULT_FROM_EMAIL or None, recipients)
    message.send(fail_silently=False)
