"""Source adapter of the import: the records of nautobot-circuit-maintenance, in this app's terms.

Reads through an `OlderAppReader` (its models, or SQL on its left-over tables) and maps:

- a maintenance named `<provider>-<maintenance id>` → (provider, maintenance ID), taken from its
  newest parsed notification, else from the name (the longest provider name it starts with), else
  from its circuits' one provider; ack, status, description, times and impacts kept;
- its notes → maintenance notes, level kept, plus a provenance note, and a note where the older
  app kept one window of a notification that named several;
- raw notifications → raw notifications (outcome from its `parsed` flag), keyed like this app's own;
- parsed notifications → parsed notifications linked to the maintenance;
- notification sources → the providers attached to them.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import json
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from diffsync import Adapter
from nautobot.circuits.models import Circuit, Provider

from nautobot_ssot_circuit_maintenance.choices import (
    ImpactChoices,
    MaintenanceStatusChoices,
    NoteLevelChoices,
    OutcomeChoices,
)
from nautobot_ssot_circuit_maintenance.display import DATE_TIME
from nautobot_ssot_circuit_maintenance.intake.fold import as_utc
from nautobot_ssot_circuit_maintenance.mail.headers import message_key, raw_key
from nautobot_ssot_circuit_maintenance.mail.storable import storable_json, storable_text
from nautobot_ssot_circuit_maintenance.models.maintenance import NOTE_TITLE_LENGTH
from nautobot_ssot_circuit_maintenance.older_app.diffsync.models import (
    ONE_WINDOW_TITLE,
    PROVENANCE_TITLE,
    ImportedMaintenance,
    ImportedNote,
    ImportedParsedNotification,
    ImportedRawNotification,
    ImportedSource,
)
from nautobot_ssot_circuit_maintenance.older_app.reader import (
    OLDER_APP_NAME,
    OlderAppReader,
    OldMaintenance,
    OldParsed,
    OldRaw,
)
from nautobot_ssot_circuit_maintenance.validation import normalize_cid

NONEXISTENT_CIRCUIT_PREFIX = "Nonexistent circuit ID "  # the older app's note for an unknown circuit ID
MAINTENANCE_ID_LENGTH = 255


def utc(value: datetime) -> datetime:
    """The datetime converted to UTC."""
    return value.astimezone(timezone.utc)


def key_of_payload(payload: bytes) -> str:
    """The key this app's own pipeline gives the same message (Message-ID + body hash), when the stored bytes allow."""
    try:
        head = payload.replace(b"\r\n", b"\n").partition(b"\n\n")[0]
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
        return message_key(headers, payload)
    except Exception:  # noqa: BLE001 - a broken header block keeps the content hash
        return raw_key(payload)


def split_name(name: str, provider_names: list[str]) -> tuple[str, str] | None:
    """`<provider>-<maintenance id>` → (provider, maintenance id), the longest matching provider name winning."""
    for provider in sorted(provider_names, key=len, reverse=True):
        if name.startswith(f"{provider}-") and len(name) > len(provider) + 1:
            return provider, name[len(provider) + 1 :]
    return None


def window_text(start: datetime, end: datetime) -> str:
    """A window as the import's notes write it: "start–end UTC"."""
    return f"{start:{DATE_TIME}}–{end:{DATE_TIME}} UTC"


def json_rank_key(data: dict) -> str:
    """A parsed notice as canonical JSON, to rank a message's notices by content."""
    return json.dumps(data, sort_keys=True, default=str)


class OlderAppAdapter(Adapter):
    """What the older app holds, as this app would hold it."""

    notification_source = ImportedSource
    maintenance = ImportedMaintenance
    maintenance_note = ImportedNote
    raw_notification = ImportedRawNotification
    parsed_notification = ImportedParsedNotification
    top_level = ["notification_source", "maintenance", "maintenance_note", "raw_notification", "parsed_notification"]

    def __init__(self, *args, reader: OlderAppReader, job=None, **kwargs):
        """Read through `reader`; no message key or skipped record known yet."""
        super().__init__(*args, **kwargs)
        self.reader = reader
        self.job = job
        # message key → the older app's raw notification pk (its payload is read when it is written)
        self.raw_pks: dict[str, Any] = {}
        # Sentences for the job log: old records that could not be carried over, and why.
        self.skipped: list[str] = []

    # --- loading ---------------------------------------------------------------------------------

    def load(self) -> None:
        """Load the older app's sources, maintenances, notes and notifications, each in this app's terms."""
        reader = self.reader
        self.provider_names: dict[Any, str] = dict(Provider.objects.values_list("pk", "name"))
        raws = {raw.pk: raw for raw in reader.raw_notifications()}
        parsed = reader.parsed_notifications()
        keys = self._message_keys(raws)
        self._load_sources(raws)
        maintenance_keys = self._load_maintenances(raws, parsed)
        self._load_raws(raws, keys)
        self._load_parsed(raws, parsed, keys, maintenance_keys)

    def _message_keys(self, raws: dict[Any, OldRaw]) -> dict[Any, str]:
        """Each raw notification's message key, its payload read a few at a time and not kept."""
        found = {pk: key_of_payload(payload) for pk, payload in self.reader.payloads()}
        keys: dict[Any, str] = {}
        used: set[str] = set()
        for raw in sorted(raws.values(), key=lambda r: (r.stamp, str(r.pk))):
            key = found.get(raw.pk) or f"{OLDER_APP_NAME}:{raw.pk}"
            if key in used:  # the same bytes stored twice: keep both, apart
                key = f"{key[:200]}~{raw.pk}"
            used.add(key)
            keys[raw.pk] = key
        return keys

    def _load_sources(self, raws: dict[Any, OldRaw]) -> None:
        self.source_names: dict[Any, str] = {}
        for source in self.reader.sources():
            self.source_names[source.pk] = source.name
            providers = sorted({self.provider_names[pk] for pk in source.provider_pks if pk in self.provider_names})
            self.add(self.notification_source(name=source.name, providers=providers))

    def _maintenance_key(
        self, old: OldMaintenance, parsed: list[OldParsed], raws: dict[Any, OldRaw], circuit_providers: set[str]
    ) -> tuple[str, str] | None:
        for item in sorted(parsed, key=lambda p: (raws[p.raw_pk].stamp, str(p.pk)), reverse=True):
            provider = self.provider_names.get(raws[item.raw_pk].provider_pk)
            maintenance_id = str(item.json.get("maintenance_id") or "")
            if provider and maintenance_id:
                return provider, maintenance_id[:MAINTENANCE_ID_LENGTH]
        from_name = split_name(old.name, list(self.provider_names.values()))
        if from_name:
            return from_name
        if len(circuit_providers) == 1 and old.name:
            return next(iter(circuit_providers)), old.name
        return None

    def _load_maintenances(self, raws: dict[Any, OldRaw], parsed: list[OldParsed]) -> dict[Any, tuple[str, str]]:
        """Maintenances and their notes; returns old maintenance pk → (provider, maintenance ID)."""
        reader = self.reader
        parsed_by_maintenance: dict[Any, list[OldParsed]] = defaultdict(list)
        for item in parsed:
            if item.raw_pk in raws:
                parsed_by_maintenance[item.maintenance_pk].append(item)
        impacts = defaultdict(list)
        for impact in reader.impacts():
            impacts[impact.maintenance_pk].append(impact)
        circuits = {
            pk: (cid, provider)
            for pk, cid, provider in Circuit.objects.filter(
                pk__in={i.circuit_pk for rows in impacts.values() for i in rows}
            ).values_list("pk", "cid", "provider__name")
        }
        notes = defaultdict(list)
        for note in reader.notes():
            notes[note.maintenance_pk].append(note)

        keys: dict[Any, tuple[str, str]] = {}
        taken: dict[tuple[str, str], str] = {}
        for old in sorted(reader.maintenances(), key=lambda m: (m.name, str(m.pk))):
            own_circuits = [(circuits[i.circuit_pk], i.impact) for i in impacts[old.pk] if i.circuit_pk in circuits]
            key = self._maintenance_key(
                old, parsed_by_maintenance[old.pk], raws, {provider for (_, provider), _ in own_circuits}
            )
            if key is None:
                self.skipped.append(
                    f"maintenance {old.name!r}: no parsed notification, no provider name in its name and no "
                    "circuits of one provider tell its provider"
                )
                continue
            if key in taken:
                self.skipped.append(f"maintenance {old.name!r}: same provider and ID as {taken[key]!r}")
                continue
            taken[key] = old.name
            keys[old.pk] = key
            provider, maintenance_id = key
            unknown = [
                n.title[len(NONEXISTENT_CIRCUIT_PREFIX) :].strip()
                for n in notes[old.pk]
                if n.title.startswith(NONEXISTENT_CIRCUIT_PREFIX)
            ]
            self.add(
                self.maintenance(
                    provider=provider,
                    maintenance_id=maintenance_id,
                    name=maintenance_id,
                    description=old.description or "",
                    status=old.status if old.status in MaintenanceStatusChoices.values() else "UNKNOWN",
                    ack=bool(old.ack),
                    start_time=utc(old.start_time),
                    end_time=utc(old.end_time),
                    circuits=sorted(
                        f"{cid}|{impact if impact in ImpactChoices.values() else ImpactChoices.OUTAGE}"
                        for (cid, _), impact in own_circuits
                    ),
                    unresolved_circuit_ids=self._still_unknown(provider, unknown),
                )
            )
            self._load_notes(old, key, notes[old.pk], parsed_by_maintenance[old.pk], raws)
        return keys

    def _still_unknown(self, provider: str, cids: list[str]) -> list[str]:
        """The circuit IDs the older app could not match that are still not circuits of the provider here."""
        if not cids:
            return []
        known = {
            normalize_cid(cid) for cid in Circuit.objects.filter(provider__name=provider).values_list("cid", flat=True)
        }
        return sorted({cid for cid in cids if cid and normalize_cid(cid) not in known})

    def _load_notes(self, old: OldMaintenance, key: tuple[str, str], notes: list, parsed: list, raws: dict) -> None:
        provider, maintenance_id = key
        entries = {
            PROVENANCE_TITLE: (
                NoteLevelChoices.INFO,
                f"Imported from the {OLDER_APP_NAME} maintenance {old.name!r}. While this note is here and no "
                "notification fetched by this app names the maintenance, a new import run keeps it in step.",
            )
        }
        window_note = self._one_window_note(old, parsed, raws)
        if window_note:
            entries[ONE_WINDOW_TITLE] = (NoteLevelChoices.WARNING, window_note)
        for note in notes:
            title = storable_text(note.title, NOTE_TITLE_LENGTH)
            level = note.level if note.level in NoteLevelChoices.values() else NoteLevelChoices.INFO
            entries.setdefault(title, (level, note.comment or ""))
        for title, (level, comment) in entries.items():
            self.add(
                self.maintenance_note(
                    provider=provider, maintenance_id=maintenance_id, title=title, level=level, comment=comment
                )
            )

    def _one_window_note(self, old: OldMaintenance, parsed: list[OldParsed], raws: dict[Any, OldRaw]) -> str:
        """The older app stored one window per maintenance: say so when its last notification named several."""
        if not parsed:
            return ""
        newest = max(raws[p.raw_pk].stamp for p in parsed)
        windows = set()
        for item in parsed:
            if raws[item.raw_pk].stamp == newest:
                try:
                    windows.add((as_utc(item.json["start"]), as_utc(item.json["end"])))
                except (KeyError, TypeError, ValueError, OverflowError, OSError):
                    continue
        if len(windows) < 2:
            return ""
        listed = ", ".join(window_text(start, end) for start, end in sorted(windows))
        return (
            f"{OLDER_APP_NAME} stored one window, {window_text(utc(old.start_time), utc(old.end_time))}, but its last "
            f"notification named {len(windows)}: {listed}. The import keeps the stored window and invents none; the "
            "next notification of this maintenance that this app reads folds them all in."
        )

    def _load_raws(self, raws: dict[Any, OldRaw], keys: dict[Any, str]) -> None:
        for raw in raws.values():
            key = keys[raw.pk]
            self.raw_pks[key] = raw.pk
            self.add(
                self.raw_notification(
                    message_key=key,
                    source=self.source_names.get(raw.source_pk, "") if raw.source_pk else "",
                    provider=self.provider_names.get(raw.provider_pk, ""),
                    sender=storable_text(raw.sender or "", 255),
                    subject=storable_text(raw.subject or "", 255),
                    date=utc(raw.stamp),
                    outcome=OutcomeChoices.PARSED if raw.parsed else OutcomeChoices.IGNORED,
                )
            )

    def _load_parsed(
        self,
        raws: dict[Any, OldRaw],
        parsed: list[OldParsed],
        keys: dict[Any, str],
        maintenance_keys: dict[Any, tuple[str, str]],
    ) -> None:
        groups: dict[tuple[str, str, str], list[tuple[dict, str]]] = defaultdict(list)
        for item in parsed:
            raw = raws.get(item.raw_pk)
            provider = self.provider_names.get(raw.provider_pk) if raw else None
            if not provider:
                continue
            linked = maintenance_keys.get(item.maintenance_pk)
            maintenance_id = str(item.json.get("maintenance_id") or (linked[1] if linked else ""))
            if not maintenance_id:
                continue
            link = linked[1] if linked and linked[0] == provider else ""
            groups[(keys[raw.pk], provider, maintenance_id[:MAINTENANCE_ID_LENGTH])].append(
                (storable_json(item.json), link)
            )
        for (key, provider, maintenance_id), entries in groups.items():
            for rank, (data, link) in enumerate(sorted(entries, key=lambda e: (json_rank_key(e[0]), e[1]))):
                self.add(
                    self.parsed_notification(
                        message_key=key,
                        provider=provider,
                        provider_maintenance_id=maintenance_id,
                        rank=rank,
                        linked_maintenance_id=link,
                        notice=data,
                    )
                )

    # --- what this app keeps for itself ----------------------------------------------------------

    def leave_alone(self, maintenances: set[tuple[str, str]], raw_keys: set[str]) -> list[str]:
        """Drop what this app already keeps from its own mail, with what depends on it; returns one line per record."""
        lines = []
        for model in list(self.get_all("maintenance")):
            if (model.provider, model.maintenance_id) in maintenances:
                self.remove(model)
                lines.append(f"maintenance {model.provider} {model.maintenance_id}: kept by this app's own mail")
        for model in list(self.get_all("maintenance_note")):
            if (model.provider, model.maintenance_id) in maintenances:
                self.remove(model)
        for model in list(self.get_all("raw_notification")):
            if model.message_key in raw_keys:
                self.remove(model)
                lines.append(f"raw notification {model.subject!r}: already fetched by this app")
        for model in list(self.get_all("parsed_notification")):
            if model.message_key in raw_keys or (model.provider, model.linked_maintenance_id) in maintenances:
                self.remove(model)
        return lines
