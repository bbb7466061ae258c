"""DiffSync models of the import from nautobot-circuit-maintenance, shared by its two adapters.

Identities are what both apps can agree on without the older app's primary keys: a maintenance by
(provider, maintenance ID), a note by its maintenance and title, a raw notification by its message
key, a parsed notification by its message, maintenance ID and rank among that message's windows.
Lists are sorted and datetimes UTC-aware on both sides, so a second run sees no change.
"""

from __future__ import annotations

from datetime import datetime

from diffsync import DiffSyncModel

# Written on every imported maintenance: where it came from, and the mark that the import may keep it in step.
PROVENANCE_TITLE = "Imported from nautobot-circuit-maintenance"
ONE_WINDOW_TITLE = "nautobot-circuit-maintenance kept one window of several"
# RawNotification.location of an imported notification: `<prefix><older app's primary key>`.
IMPORTED_LOCATION_PREFIX = "nautobot-circuit-maintenance raw notification "


class ImportedSource(DiffSyncModel):
    """A notification source and the providers the older app attached to it (only ever added here)."""

    _modelname = "notification_source"
    _identifiers = ("name",)
    _attributes = ("providers",)

    name: str
    providers: list[str] = []


class ImportedMaintenance(DiffSyncModel):
    """A maintenance as both apps can hold it, its circuits as sorted "cid|IMPACT" entries."""

    _modelname = "maintenance"
    _identifiers = ("provider", "maintenance_id")
    _attributes = (
        "name",
        "description",
        "status",
        "ack",
        "start_time",
        "end_time",
        "circuits",
        "unresolved_circuit_ids",
    )

    provider: str
    maintenance_id: str
    name: str
    description: str = ""
    status: str
    ack: bool = False
    start_time: datetime
    end_time: datetime
    # "cid|IMPACT", sorted
    circuits: list[str] = []
    unresolved_circuit_ids: list[str] = []


class ImportedNote(DiffSyncModel):
    """A maintenance note, identified by its maintenance and title."""

    _modelname = "maintenance_note"
    _identifiers = ("provider", "maintenance_id", "title")
    _attributes = ("level", "comment")

    provider: str
    maintenance_id: str
    title: str
    level: str
    comment: str = ""


class ImportedRawNotification(DiffSyncModel):
    """A raw notification, identified by the message key this app's pipeline gives it."""

    _modelname = "raw_notification"
    _identifiers = ("message_key",)
    _attributes = ("source", "provider", "sender", "subject", "date", "outcome")

    message_key: str
    source: str = ""
    provider: str = ""
    sender: str = ""
    subject: str = ""
    date: datetime
    outcome: str


class ImportedParsedNotification(DiffSyncModel):
    """One notice the parser read out of a message, identified by message, maintenance and rank."""

    _modelname = "parsed_notification"
    _identifiers = ("message_key", "provider", "provider_maintenance_id", "rank")
    _attributes = ("linked_maintenance_id", "notice")

    message_key: str
    provider: str
    provider_maintenance_id: str
    # Position among this message's notices of the same maintenance (one per window), by content.
    rank: int
    # The maintenance ID (same provider) of the maintenance it is linked to, or "" when none.
    linked_maintenance_id: str = ""
    # The parser's maintenance as stored (ParsedNotification.json)
    notice: dict
