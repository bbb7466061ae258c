"""A template applied to a message: the parser library's `Maintenance` objects, or a TemplateError saying why not.

Pure: no database, no clock. It runs in the parse workers (intake/parse.py), within their deadline and memory
bound, and in the preview the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

from circuit_maintenance_parser.output import Impact, Maintenance, Metadata, Status
from pydantic import ValidationError

from nautobot_ssot_circuit_maintenance.notice_templates.document import Document, Row, header_key, read_document
from nautobot_ssot_circuit_maintenance.notice_templates.spec import (
    ATTACHMENT,
    ISO_8601,
    SUBJECT,
    TABLE,
    TEXT,
    column_field,
    compile_pattern,
    date_formats,
    pattern_field,
    source_field,
    spec_problems,
)

# The `_metadata` processor and parser name of what a template produced (the library records the same for its own).
TEMPLATE_PROCESSOR = "NoticeTemplate"
SOURCE_WORDS = {SUBJECT: "the subject", TEXT: "the text", TABLE: "an HTML table", ATTACHMENT: "an attachment"}


class TemplateError(ValueError):
    """The template read no valid maintenance out of this message; the text says what was missing."""


def _picked(match: Any) -> str:
    """What a match of a template's pattern reads: its `value` group, else its one group, else all of it."""
    if "value" in match.re.groupindex:
        return match.group("value") or ""
    return (match.group(1) if match.re.groups else match.group(0)) or ""


def _clean(value: str) -> str:
    return " ".join(value.split())


class Reader:
    """Reads a template's items from one document."""

    def __init__(self, spec: Mapping[str, Any], document: Document):
        """Hold the template and the document it reads."""
        self.spec = spec
        self.document = document

    def where(self, item: str) -> str:
        """Where the template reads `item`, in words (for errors)."""
        source = self.spec.get(source_field(item)) or ""
        column = self.spec.get(column_field(item)) or ""
        return f"column {column!r} of {SOURCE_WORDS[source]}" if column else SOURCE_WORDS.get(source, source)

    def table(self, item: str) -> list[Row] | None:
        """The rows of the first table (or attachment) holding `item`'s column."""
        source = self.spec.get(source_field(item))
        wanted = header_key(self.spec.get(column_field(item)) or "")
        tables = self.document.tables if source == TABLE else self.document.attachments
        return next((rows for rows in tables if rows and wanted in rows[0]), None)

    def matches(self, item: str, text: str) -> Iterator[str]:
        """What `item`'s pattern reads in `text` (all of `text` without a pattern), whitespace tidied."""
        pattern = self.spec.get(pattern_field(item)) or ""
        if not pattern:
            if text.strip():
                yield _clean(text)
            return
        for match in compile_pattern(pattern).finditer(text):
            if value := _clean(_picked(match)):
                yield value

    def values(self, item: str) -> list[str]:
        """Every value of `item`: each match in the subject or text, or each row's cell (its pattern applied)."""
        source = self.spec.get(source_field(item))
        if source in (SUBJECT, TEXT):
            text = self.document.subject if source == SUBJECT else self.document.text
            return list(self.matches(item, text))
        rows = self.table(item) or []
        column = header_key(self.spec.get(column_field(item)) or "")
        return [value for row in rows for value in self.matches(item, row.get(column, ""))]

    def first(self, item: str) -> str:
        """The first value of `item`; TemplateError when there is none."""
        values = self.values(item)
        if not values:
            unreadable = self.document.unreadable
            why = f" (unreadable: {', '.join(unreadable)})" if unreadable and self.reads_attachment(item) else ""
            raise TemplateError(f"no {item.replace('_', ' ')} found in {self.where(item)}{why}")
        return values[0]

    def reads_attachment(self, item: str) -> bool:
        """Whether `item` is read from an attachment."""
        return self.spec.get(source_field(item)) == ATTACHMENT


def parse_time(value: str, formats: list[str], zone: str, item: str) -> int:
    """`value` read with the first date format that fits, in `zone` unless it names its own offset (epoch seconds)."""
    for fmt in formats:
        try:
            moment = datetime.fromisoformat(value) if fmt == ISO_8601 else datetime.strptime(value, fmt)  # noqa: DTZ007 - the zone is set below
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(zone or "UTC"))
        return int(moment.timestamp())
    raise TemplateError(f"{item} {value[:80]!r} fits none of the date formats ({'; '.join(formats)})")


def _word_lookup(words: Mapping[str, str] | None) -> dict[str, str]:
    return {_clean(word).lower(): value for word, value in (words or {}).items()}


def read_word(reader: Reader, item: str, allowed: tuple[str, ...]) -> str:
    """The status or impact: the provider's word mapped by the template's words, else the default.

    With a pattern or a column, the word read must be one of the template's words (or already a value of the
    library's); without one, the first of the template's words found in the subject or text decides.
    """
    words = _word_lookup(reader.spec.get(f"{item}_words"))
    default = reader.spec.get(f"default_{item}")
    source = reader.spec.get(source_field(item))
    if not source:
        return default
    if source in (SUBJECT, TEXT) and not reader.spec.get(pattern_field(item)):
        text = (reader.document.subject if source == SUBJECT else reader.document.text).lower()
        found = [(text.find(word), value) for word, value in words.items() if word in text]
        return min(found)[1] if found else default
    values = reader.values(item)
    if not values:
        return default
    return map_word(values[0], words, allowed, item)


def map_word(value: str, words: Mapping[str, str], allowed: tuple[str, ...], item: str) -> str:
    """One provider word as the library's value; TemplateError for a word the template does not know."""
    key = _clean(value).lower()
    if key in words:
        return words[key]
    if key.upper() in allowed:
        return key.upper()
    raise TemplateError(f"the {item} word {value[:80]!r} is not one of the template's {item} words")


def circuits(reader: Reader, impact: str, allowed: tuple[str, ...]) -> list[dict[str, str]]:
    """The circuits, each with its impact: per row when the impact is a column of the circuits' own table."""
    spec = reader.spec
    per_row = (
        spec.get(source_field("circuits")) in (TABLE, ATTACHMENT)
        and spec.get(source_field("impact")) == spec.get(source_field("circuits"))
        and header_key(spec.get(column_field("impact")) or "") in ((reader.table("circuits") or [{}])[0])
    )
    found: dict[str, str] = {}
    if per_row:
        words = _word_lookup(spec.get("impact_words"))
        column = header_key(spec.get(column_field("circuits")) or "")
        impact_column = header_key(spec.get(column_field("impact")) or "")
        for row in reader.table("circuits") or []:
            word = next(reader.matches("impact", row.get(impact_column, "")), "")
            row_impact = map_word(word, words, allowed, "impact") if word else impact
            for cid in reader.matches("circuits", row.get(column, "")):
                found.setdefault(cid, row_impact)
    else:
        for cid in reader.values("circuits"):
            found.setdefault(cid, impact)
    return [{"circuit_id": cid, "impact": value} for cid, value in found.items()]


def _validation_text(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'maintenance'}: {e['msg']}" for e in error.errors())


def template_maintenances(
    spec: Mapping[str, Any], message: Message, *, provider: str, organizer: str, stamp: int
) -> list[Maintenance]:
    """The maintenance `message` announces, read with the template `spec` (see spec.py for its fields).

    `provider` is the provider's name, `organizer` the sender's address and `stamp` the message's date (epoch
    seconds), as the library's parsers record them. TemplateError, with what was missing, when the template reads
    no valid maintenance.
    """
    if problems := spec_problems(spec):
        raise TemplateError("the template is not valid: " + "; ".join(f"{k}: {v}" for k, v in problems.items()))
    impacts = tuple(value.value for value in Impact)
    statuses = tuple(value.value for value in Status)
    reader = Reader(spec, read_document(message))
    formats = date_formats(spec.get("date_formats") or "")
    zone = spec.get("time_zone") or "UTC"
    maintenance_id = reader.first("maintenance_id")
    start = parse_time(reader.first("start"), formats, zone, "start")
    end = parse_time(reader.first("end"), formats, zone, "end")
    status = read_word(reader, "status", statuses)
    impact = read_word(reader, "impact", impacts)
    found = circuits(reader, impact, impacts)
    if not found and status not in (Status.CANCELLED.value, Status.COMPLETED.value):
        raise TemplateError(f"no circuits found in {reader.where('circuits')}")
    try:
        return [
            Maintenance(
                provider=provider,
                account=provider,
                maintenance_id=maintenance_id,
                status=status,
                circuits=found,
                start=start,
                end=end,
                stamp=stamp,
                organizer=organizer or "unknown",
                summary=reader.document.subject[:500],
                _metadata=Metadata(provider=provider, processor=TEMPLATE_PROCESSOR, parsers=[TEMPLATE_PROCESSOR]),
            )
        ]
    except ValidationError as error:
        raise TemplateError(_validation_text(error)) from None
