"""The import from nautobot-circuit-maintenance: helpers shared by both phases.

`test_installed.py` runs only with `development/nautobot_config_older_app.py` (the older app in
PLUGINS, `./run tests` runs it as a second phase); `tests/older_app/test_import_job.py` runs in the main
suite, with the older app's tables created from `schema.sql` as if it had been removed from PLUGINS.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

from django.db import connection

from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.older_app.diffsync.models import IMPORTED_LOCATION_PREFIX
from nautobot_ssot_circuit_maintenance.older_app.reader import TABLE_PREFIX

SCHEMA = Path(__file__).with_name("schema.sql")
TABLES = (
    "parsednotification",
    "rawnotification",
    "notificationsource_providers",
    "notificationsource",
    "note",
    "circuitimpact",
    "circuitmaintenance",
)


def create_older_tables() -> None:
    """The tables the older app leaves behind when it is removed from PLUGINS."""
    with connection.cursor() as cursor:
        for statement in SCHEMA.read_text().split(";\n"):
            lines = [line for line in statement.splitlines() if not line.startswith("--")]
            if "".join(lines).strip():
                cursor.execute("\n".join(lines))


def drop_older_tables() -> None:
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f'DROP TABLE IF EXISTS "{TABLE_PREFIX}{table}" CASCADE')


def insert(table: str, **values) -> uuid.UUID:
    """One row of the older app's shape (its Nautobot base columns filled in)."""
    now = datetime.now(timezone.utc)
    row = {"created": now, "last_updated": now, "_custom_field_data": "{}"}
    if table != "notificationsource_providers":
        row["id"] = values.pop("id", None) or uuid.uuid4()
    else:
        row = {}
    row.update(values)
    columns = ", ".join(f'"{name}"' for name in row)
    placeholders = ", ".join(["%s"] * len(row))
    params = [str(v) if isinstance(v, uuid.UUID) else v for v in row.values()]
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{TABLE_PREFIX}{table}" ({columns}) VALUES ({placeholders})', params)  # noqa: S608
    return row.get("id")


def imported_state() -> dict:
    """Everything the import wrote, in a comparable form (no primary keys, no creation times)."""
    maintenances = []
    for record in CircuitMaintenance.objects.order_by("provider__name", "maintenance_id"):
        maintenances.append(
            (
                record.provider.name,
                record.maintenance_id,
                record.name,
                record.status,
                record.ack,
                record.description,
                record.start_time,
                record.end_time,
                json.dumps(record.windows),
                tuple(sorted(record.circuit_impacts.values_list("circuit__cid", "impact"))),
                tuple(record.unresolved_circuit_ids),
                tuple(sorted(record.maintenance_notes.values_list("title", "level", "comment"))),
            )
        )
    raws = sorted(
        (
            r.message_key,
            r.source.name if r.source else "",
            r.provider.name if r.provider else "",
            r.sender,
            r.subject,
            r.date,
            r.outcome,
            bytes(r.raw),
            r.location.startswith(IMPORTED_LOCATION_PREFIX),
        )
        for r in RawNotification.objects.select_related("source", "provider")
    )
    parsed = sorted(
        (
            p.raw_notification.message_key,
            p.provider.name,
            p.provider_maintenance_id,
            p.maintenance.maintenance_id if p.maintenance else "",
            json.dumps(p.json, sort_keys=True),
        )
        for p in ParsedNotification.objects.select_related("raw_notification", "provider", "maintenance")
    )
    sources = sorted(
        (s.name, tuple(sorted(s.providers.values_list("name", flat=True))))
        for s in NotificationSource.objects.prefetch_related("providers")
    )
    return {
        "maintenances": maintenances,
        "raws": raws,
        "parsed": parsed,
        "sources": sources,
        "notes": MaintenanceNote.objects.count(),
    }
