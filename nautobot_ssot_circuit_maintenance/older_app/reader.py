"""Reading the records of the older app, nautobot-circuit-maintenance, for the import job.

Two readers behind one small interface: through its models while it is installed (in `PLUGINS`),
or with SQL from the tables it left in the database once it was removed. Both give the same rows;
`open_reader()` picks the one that can work, or says clearly that neither can.

Only columns the older app has had since its 1.x schema are read, so any 1.x–3.x database works.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.apps import apps
from django.db import connection

OLDER_APP_LABEL = "nautobot_circuit_maintenance"
OLDER_APP_NAME = "nautobot-circuit-maintenance"
TABLE_PREFIX = f"{OLDER_APP_LABEL}_"
# Tables the import needs; the m2m table of sources and providers is optional.
REQUIRED_TABLES = (
    "circuitmaintenance",
    "circuitimpact",
    "note",
    "notificationsource",
    "rawnotification",
    "parsednotification",
)
SOURCE_PROVIDERS_TABLE = "notificationsource_providers"


class OlderAppNotFound(RuntimeError):
    """Neither the older app's models nor its tables are in this Nautobot."""


@dataclass(frozen=True)
class OldMaintenance:
    """A maintenance of the older app."""

    pk: Any
    name: str
    description: str
    status: str
    ack: bool
    start_time: datetime
    end_time: datetime


@dataclass(frozen=True)
class OldImpact:
    """How one of the older app's maintenances affects one circuit."""

    maintenance_pk: Any
    circuit_pk: Any
    impact: str


@dataclass(frozen=True)
class OldNote:
    """A note of the older app on one of its maintenances."""

    maintenance_pk: Any
    title: str
    level: str
    comment: str


@dataclass(frozen=True)
class OldSource:
    """A notification source of the older app and its providers' pks."""

    pk: Any
    name: str
    attach_all_providers: bool
    provider_pks: tuple


@dataclass(frozen=True)
class OldRaw:
    """A raw notification without its payload; `OlderAppReader.payloads()` streams those."""

    pk: Any
    source_pk: Any
    provider_pk: Any
    sender: str
    subject: str
    stamp: datetime
    parsed: bool


@dataclass(frozen=True)
class OldParsed:
    """A parsed notification of the older app, its parser JSON decoded."""

    pk: Any
    maintenance_pk: Any
    raw_pk: Any
    json: dict


class OlderAppReader(Protocol):
    """What the import reads of the older app."""

    description: str

    def maintenances(self) -> list[OldMaintenance]:
        """Every maintenance of the older app."""
        ...

    def impacts(self) -> list[OldImpact]:
        """Every circuit impact of the older app's maintenances."""
        ...

    def notes(self) -> list[OldNote]:
        """Every note on the older app's maintenances."""
        ...

    def sources(self) -> list[OldSource]:
        """Every notification source of the older app, with its providers' pks."""
        ...

    def raw_notifications(self) -> list[OldRaw]:
        """Every raw notification of the older app, without its payload."""
        ...

    def parsed_notifications(self) -> list[OldParsed]:
        """Every parsed notification of the older app."""
        ...

    def payloads(self, pks: list | None = None) -> Iterator[tuple[Any, bytes]]:
        """(pk, stored bytes) of raw notifications, all or those named, a few at a time."""
        ...


def parsed_json(value: Any) -> dict:
    """The older app stored the parser's `to_json()` text in its JSON field: a JSON string holding an object."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", "replace")
    # Raw SQL gives the column's JSON text (Django reads jsonb undecoded), the models its decoded value:
    # a string holding the object's JSON in both cases, so up to two decodings.
    for _ in range(2):
        if not isinstance(value, str):
            break
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


PAYLOAD_BATCH = 200


class ModelReader:
    """The older app is installed: read through its models."""

    description = f"{OLDER_APP_NAME} models (the app is installed)"

    def _model(self, name: str):
        return apps.get_model(OLDER_APP_LABEL, name)

    def maintenances(self) -> list[OldMaintenance]:
        """The maintenances, read through the model."""
        fields = ("pk", "name", "description", "status", "ack", "start_time", "end_time")
        return [OldMaintenance(*row) for row in self._model("CircuitMaintenance").objects.values_list(*fields)]

    def impacts(self) -> list[OldImpact]:
        """The circuit impacts, read through the model."""
        rows = self._model("CircuitImpact").objects.values_list("maintenance_id", "circuit_id", "impact")
        return [OldImpact(*row) for row in rows]

    def notes(self) -> list[OldNote]:
        """The notes, read through the model."""
        rows = self._model("Note").objects.values_list("maintenance_id", "title", "level", "comment")
        return [OldNote(*row) for row in rows]

    def sources(self) -> list[OldSource]:
        """The sources with their providers' pks, read through the models."""
        model = self._model("NotificationSource")
        links: dict[Any, list] = {}
        for source_pk, provider_pk in model.providers.through.objects.values_list(
            "notificationsource_id", "provider_id"
        ):
            links.setdefault(source_pk, []).append(provider_pk)
        return [
            OldSource(pk, name, attach_all, tuple(sorted(links.get(pk, []), key=str)))
            for pk, name, attach_all in model.objects.values_list("pk", "name", "attach_all_providers")
        ]

    def raw_notifications(self) -> list[OldRaw]:
        """The raw notifications without their payloads, read through the model."""
        fields = ("pk", "source_id", "provider_id", "sender", "subject", "stamp", "parsed")
        return [OldRaw(*row) for row in self._model("RawNotification").objects.values_list(*fields)]

    def parsed_notifications(self) -> list[OldParsed]:
        """The parsed notifications, read through the model."""
        fields = ("pk", "maintenance_id", "raw_notification_id", "json")
        rows = self._model("ParsedNotification").objects.values_list(*fields)
        return [OldParsed(pk, mpk, rpk, parsed_json(data)) for pk, mpk, rpk, data in rows]

    def payloads(self, pks: list | None = None) -> Iterator[tuple[Any, bytes]]:
        """(pk, stored bytes) of raw notifications, all or those named, a few at a time, through the model."""
        queryset = self._model("RawNotification").objects.order_by("pk")
        if pks is not None:
            queryset = queryset.filter(pk__in=pks)
        for pk, raw in queryset.values_list("pk", "raw").iterator(chunk_size=PAYLOAD_BATCH):
            yield pk, bytes(raw or b"")


class SQLReader:
    """The older app was removed from `PLUGINS` and left its tables: read them with SQL."""

    description = f"{OLDER_APP_NAME} tables left in the database (the app is not installed)"

    def _select(self, table: str, columns: tuple[str, ...], where: str = "", params: list | None = None) -> list[tuple]:
        quote = connection.ops.quote_name
        sql = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(TABLE_PREFIX + table)}{where}"  # noqa: S608 - fixed names
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])
            return cursor.fetchall()

    def maintenances(self) -> list[OldMaintenance]:
        """The maintenances, read from their table."""
        columns = ("id", "name", "description", "status", "ack", "start_time", "end_time")
        return [OldMaintenance(*row) for row in self._select("circuitmaintenance", columns)]

    def impacts(self) -> list[OldImpact]:
        """The circuit impacts, read from their table."""
        return [OldImpact(*row) for row in self._select("circuitimpact", ("maintenance_id", "circuit_id", "impact"))]

    def notes(self) -> list[OldNote]:
        """The notes, read from their table."""
        return [OldNote(*row) for row in self._select("note", ("maintenance_id", "title", "level", "comment"))]

    def sources(self) -> list[OldSource]:
        """The sources with their providers' pks, read from the tables (no providers if the m2m table is gone)."""
        links: dict[Any, list] = {}
        if TABLE_PREFIX + SOURCE_PROVIDERS_TABLE in existing_tables():
            for source_pk, provider_pk in self._select(
                SOURCE_PROVIDERS_TABLE, ("notificationsource_id", "provider_id")
            ):
                links.setdefault(source_pk, []).append(provider_pk)
        return [
            OldSource(pk, name, attach_all, tuple(sorted(links.get(pk, []), key=str)))
            for pk, name, attach_all in self._select("notificationsource", ("id", "name", "attach_all_providers"))
        ]

    def raw_notifications(self) -> list[OldRaw]:
        """The raw notifications without their payloads, read from their table."""
        columns = ("id", "source_id", "provider_id", "sender", "subject", "stamp", "parsed")
        return [OldRaw(*row) for row in self._select("rawnotification", columns)]

    def parsed_notifications(self) -> list[OldParsed]:
        """The parsed notifications, read from their table."""
        rows = self._select("parsednotification", ("id", "maintenance_id", "raw_notification_id", "json"))
        return [OldParsed(pk, mpk, rpk, parsed_json(data)) for pk, mpk, rpk, data in rows]

    def payloads(self, pks: list | None = None) -> Iterator[tuple[Any, bytes]]:
        """(pk, stored bytes) of raw notifications, all or those named, a few at a time, with SQL."""
        if pks is None:
            pks = [row[0] for row in self._select("rawnotification", ("id",))]
        wanted = sorted(pks, key=str)
        for start in range(0, len(wanted), PAYLOAD_BATCH):
            batch = wanted[start : start + PAYLOAD_BATCH]
            placeholders = ", ".join(["%s"] * len(batch))
            for pk, raw in self._select("rawnotification", ("id", "raw"), f" WHERE id IN ({placeholders})", batch):
                yield pk, bytes(raw or b"")


def existing_tables() -> set[str]:
    """The names of every table in Nautobot's database."""
    return set(connection.introspection.table_names())


def older_app_installed() -> bool:
    """Whether the older app is in `PLUGINS`."""
    return apps.is_installed(OLDER_APP_LABEL)


def open_reader() -> OlderAppReader:
    """The reader that can work here: models if the older app is installed, else its left-over tables."""
    if older_app_installed():
        return ModelReader()
    tables = existing_tables()
    missing = [TABLE_PREFIX + name for name in REQUIRED_TABLES if TABLE_PREFIX + name not in tables]
    if not missing:
        return SQLReader()
    if len(missing) == len(REQUIRED_TABLES):
        raise OlderAppNotFound(
            f"Nothing to import: {OLDER_APP_NAME} is not installed (not in PLUGINS) and its tables "
            f"({TABLE_PREFIX}*) are not in this database."
        )
    raise OlderAppNotFound(
        f"Cannot import: {OLDER_APP_NAME} is not installed and some of its tables are missing from this database: "
        f"{', '.join(missing)}."
    )
