"""What a notice template holds, as plain data, and the checks every writer of one goes through.

A template travels to the parse workers as the JSON of `template_spec` (plain data, see intake/workers.py), so
the words here are the model's field names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from circuit_maintenance_parser.output import Impact, Status

# What a template reads, in the order it reads them.
ITEMS = ("maintenance_id", "start", "end", "circuits", "status", "impact")
# Where a value is read from.
SUBJECT, TEXT, TABLE, ATTACHMENT = "subject", "text", "table", "attachment"
SOURCES = (SUBJECT, TEXT, TABLE, ATTACHMENT)
SOURCE_CHOICES = (
    (SUBJECT, "Subject"),
    (TEXT, "Text (plain text and the text of HTML)"),
    (TABLE, "HTML table (column by header)"),
    (ATTACHMENT, "Attached CSV or XLSX (column by header)"),
)
# Items a template may leave unread: the status and impact then take their defaults.
OPTIONAL_ITEMS = ("status", "impact")
# A date format naming ISO 8601 (2026-12-10T22:00:00+01:00, 2026-12-10 22:00) rather than a strptime pattern.
ISO_8601 = "ISO 8601"
STATUS_VALUES = tuple(status.value for status in Status)
IMPACT_VALUES = tuple(impact.value for impact in Impact)
# strptime's directives (the C standard's and Python's own), so an unknown one is refused when saved, not at parse.
_DIRECTIVES = set("aAwdbBmyYHIpMSfzZjUWcxXGuV%")
MAX_PATTERN_LENGTH = 1000


def source_field(item: str) -> str:
    """The field naming where `item` is read from."""
    return f"{item}_source"


def pattern_field(item: str) -> str:
    """The field holding the regular expression that picks `item` out of what it is read from."""
    return f"{item}_pattern"


def column_field(item: str) -> str:
    """The field naming the table or attachment column `item` is read from."""
    return f"{item}_column"


# Every field of a template's spec (what the workers receive, what JSON exports hold), besides the provider.
SPEC_FIELDS = (
    *(name for item in ITEMS for name in (source_field(item), pattern_field(item), column_field(item))),
    "date_formats",
    "time_zone",
    "status_words",
    "default_status",
    "impact_words",
    "default_impact",
)


def date_formats(value: str) -> list[str]:
    """The date formats of a template's `date_formats` text, one per line."""
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def _format_problem(fmt: str) -> str:
    if fmt == ISO_8601:
        return ""
    directives = re.findall(r"%(.)", fmt.replace("%%", ""))
    if not directives:
        return f"{fmt!r} holds no strptime directive (such as %Y-%m-%d %H:%M) and is not {ISO_8601!r}"
    unknown = sorted({d for d in directives if d not in _DIRECTIVES})
    if unknown:
        return f"{fmt!r} uses the unknown directive(s) {', '.join('%' + d for d in unknown)}"
    try:
        datetime.now().strftime(fmt)
    except ValueError as error:
        return f"{fmt!r}: {error}"
    return ""


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A template's regular expression, matched ignoring case; re.error when it is not one."""
    return re.compile(pattern, re.IGNORECASE | re.MULTILINE)


def _words_problem(words: Any, allowed: tuple[str, ...], what: str) -> str:
    if words in (None, ""):
        return ""
    if not isinstance(words, Mapping):
        return f"must map the provider's words to {what} values, as a JSON object"
    for word, value in words.items():
        if not isinstance(word, str) or not word.strip():
            return "a provider's word must be non-empty text"
        if value not in allowed:
            return f"{word!r} maps to {value!r}, which is not one of {', '.join(allowed)}"
    return ""


def spec_problems(spec: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with a template, by field name (empty when nothing is).

    A regular expression that does not compile, a date format strptime does not know, a time zone that does not
    exist, a column asked of a source without columns, a word mapped to no status or impact: each is named here,
    so a form or the REST API answers with it instead of the sync failing on every message.
    """
    problems: dict[str, str] = {}
    for item in ITEMS:
        source = spec.get(source_field(item)) or ""
        pattern = spec.get(pattern_field(item)) or ""
        column = (spec.get(column_field(item)) or "").strip()
        if not source:
            if item not in OPTIONAL_ITEMS:
                problems[source_field(item)] = "Say where the notices write this."
            elif pattern or column:
                problems[source_field(item)] = "Say where this pattern or column is read from."
            continue
        if source not in SOURCES:
            problems[source_field(item)] = f"{source!r} is not one of {', '.join(SOURCES)}."
            continue
        if len(pattern) > MAX_PATTERN_LENGTH:
            problems[pattern_field(item)] = f"At most {MAX_PATTERN_LENGTH} characters."
        elif pattern:
            try:
                compiled = compile_pattern(pattern)
            except re.error as error:
                problems[pattern_field(item)] = f"Not a regular expression: {error}."
            else:
                if compiled.groups > 1 and "value" not in compiled.groupindex:
                    problems[pattern_field(item)] = "With more than one group, name the one to read (?P<value>...)."
        if source in (TABLE, ATTACHMENT):
            if not column:
                problems[column_field(item)] = "Name the column (its header) this is read from."
        else:
            if column:
                problems[column_field(item)] = "Only a table or an attachment has columns."
            if not pattern and item not in OPTIONAL_ITEMS:
                problems[pattern_field(item)] = "Give the regular expression that finds this in the subject or text."
    formats = date_formats(spec.get("date_formats") or "")
    if not formats:
        problems["date_formats"] = f"Give at least one date format (a strptime pattern, or {ISO_8601})."
    for fmt in formats:
        if problem := _format_problem(fmt):
            problems["date_formats"] = f"The date format {problem}."
            break
    zone = (spec.get("time_zone") or "").strip()
    try:
        ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        problems["time_zone"] = f"{zone!r} is not a time zone (such as UTC or Europe/Berlin)."
    for field, allowed, what in (
        ("status_words", STATUS_VALUES, "status"),
        ("impact_words", IMPACT_VALUES, "impact"),
    ):
        if problem := _words_problem(spec.get(field), allowed, what):
            problems[field] = f"This {problem}."
    if spec.get("default_status") not in STATUS_VALUES:
        problems["default_status"] = f"One of {', '.join(STATUS_VALUES)}."
    if spec.get("default_impact") not in IMPACT_VALUES:
        problems["default_impact"] = f"One of {', '.join(IMPACT_VALUES)}."
    return problems
