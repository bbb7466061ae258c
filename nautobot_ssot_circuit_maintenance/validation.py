"""What the app accepts from a request: JSON fields of a maintenance, filter values.

One place for each rule, used by the REST serializers, the forms and the filter sets, so that bad
input is refused with a message naming the field (a 400, a form error) instead of being stored
and breaking pages, the calendar, metrics or the next sync later.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import DataError, connection, transaction

# Windows and dates: a maintenance happens between these instants (UTC). PostgreSQL and Python
# cannot read years past 9999 back, and a window shifted by a time zone must stay readable.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)
MAX_WINDOWS = 1000
WINDOW_KEYS = {"start", "end"}

MAX_CIRCUIT_IDS = 10000
MAX_CIRCUIT_ID_LENGTH = 255


def normalize_cid(cid: str) -> str:
    """How circuit IDs compare: case-insensitive, runs of whitespace as one space, trimmed."""
    return " ".join(cid.split()).upper()


# Detail URLs take a primary key (a UUID) only: `source/add/` or `maintenance/x/` is a 404, not a lookup of "add".
PK_URL_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def is_uuid(value: Any) -> bool:
    """A primary key as a request may send it: a UUID string."""
    return isinstance(value, str) and re.fullmatch(PK_URL_PATTERN, value) is not None


# `ended_within_days` (lists, calendar feed): a century back is more than any history kept.
MAX_DAYS = 36500


def parse_instant(value: Any) -> datetime:
    """An ISO 8601 date-time with a time zone, within [EARLIEST, LATEST); ValidationError otherwise."""
    if not isinstance(value, str):
        raise ValidationError("%(value)s is not an ISO 8601 date-time string.", params={"value": repr(value)[:40]})
    if not value.isprintable():  # Python's parser ignores a trailing NUL that PostgreSQL refuses
        raise ValidationError("%(value)s holds a control character.", params={"value": repr(value[:40])})
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as error:
        raise ValidationError("%(value)s is not an ISO 8601 date-time.", params={"value": repr(value[:40])}) from error
    if instant.tzinfo is None:
        raise ValidationError("%(value)s has no time zone (add +00:00 or Z).", params={"value": repr(value[:40])})
    try:
        utc = instant.astimezone(timezone.utc)
    except OverflowError as error:
        raise ValidationError("%(value)s is out of range.", params={"value": repr(value[:40])}) from error
    if not EARLIEST <= utc < LATEST:
        raise ValidationError(
            "%(value)s is outside the years %(first)s-%(last)s.",
            params={"value": repr(value[:40]), "first": EARLIEST.year, "last": LATEST.year - 1},
        )
    return utc


def validate_windows(value: Any) -> None:
    """`CircuitMaintenance.windows`: a list of {"start": ISO, "end": ISO} with start <= end."""
    if not isinstance(value, list):
        raise ValidationError("Windows must be a list of {start, end} objects.")
    if len(value) > MAX_WINDOWS:
        raise ValidationError(f"At most {MAX_WINDOWS} windows.")
    for number, window in enumerate(value, start=1):
        if not isinstance(window, dict) or set(window) != WINDOW_KEYS:
            raise ValidationError(f"Window {number}: must be an object with exactly the keys 'start' and 'end'.")
        try:
            start, end = parse_instant(window["start"]), parse_instant(window["end"])
        except ValidationError as error:
            raise ValidationError(
                "Window %(number)s: %(error)s", params={"number": number, "error": error.messages[0]}
            ) from error
        if start > end:
            raise ValidationError(f"Window {number}: start is after end.")


def circuit_id_problem(cid: Any) -> str | None:
    """What is wrong with one circuit ID (a non-blank string without control characters, bounded), or None."""
    if not isinstance(cid, str) or not cid.strip():
        return "must be a non-blank string"
    if len(cid) > MAX_CIRCUIT_ID_LENGTH:
        return f"longer than {MAX_CIRCUIT_ID_LENGTH} characters"
    if any(ord(char) < 32 for char in cid):
        return "contains a control character"
    return None


def validate_circuit_ids(value: Any) -> None:
    """`CircuitMaintenance.unresolved_circuit_ids`: a bounded list of non-blank strings without control characters."""
    if not isinstance(value, list):
        raise ValidationError("Unresolved circuit IDs must be a list of strings.")
    if len(value) > MAX_CIRCUIT_IDS:
        raise ValidationError(f"At most {MAX_CIRCUIT_IDS} unresolved circuit IDs.")
    for number, cid in enumerate(value, start=1):
        problem = circuit_id_problem(cid)
        if problem:
            raise ValidationError(f"Circuit ID {number}: {problem}.")


#
# Filter values
#

TRUE_VALUES = {"true", "1", "yes", "on"}
FALSE_VALUES = {"false", "0", "no", "off"}


class RawValueSelect(forms.Select):
    """A true/false/blank select that hands the submitted text to the field as is.

    Django's NullBooleanSelect maps anything it does not know to "unknown", which makes a filter
    silently ignore `?ack=maybe`.
    """

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        """The select of blank, Yes and No."""
        super().__init__(attrs, choices=(("", "---------"), ("True", "Yes"), ("False", "No")))

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        """The submitted text as is, never mapped to "unknown"."""
        return data.get(name)

    def format_value(self, value: Any) -> list[str]:
        """Show True and False as their choices' values."""
        if value in (True, False):
            return [str(value)]
        return super().format_value(value)


class StrictNullBooleanField(forms.NullBooleanField):
    """True, False or blank; anything else is an error, not "no filter"."""

    widget = RawValueSelect

    def to_python(self, value: Any) -> bool | None:
        """True, False or None (blank); ValidationError for any other text."""
        if isinstance(value, list):  # a repeated parameter: the last one counts, as for other single-value filters
            value = value[-1] if value else None
        if value in (None, "") or isinstance(value, bool):
            return value if isinstance(value, bool) else None
        text = str(value).strip().lower()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise ValidationError(
            "%(value)s is not a boolean: use true or false.", code="invalid", params={"value": repr(str(value)[:40])}
        )

    def validate(self, value: Any) -> None:
        """Nothing to check beyond `to_python`: blank means no filter."""
        pass


def contains_nul(value: Any) -> bool:
    """PostgreSQL cannot compare or store NUL: a query value holding one can only fail in the database."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple)):
        return any(contains_nul(item) for item in value)
    return False


def validate_regex(value: str) -> None:
    """A pattern PostgreSQL can compile (its regex dialect is not Python's, so PostgreSQL is asked)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT '' ~ %s", [value])
    except DataError as error:
        raise ValidationError(
            "%(value)s is not a valid regular expression.", code="invalid", params={"value": repr(value[:40])}
        ) from error


class NoNulMixin:
    """Refuses a value holding NUL before the field (a model choice field queries the database) sees it."""

    def clean(self, value: Any) -> Any:
        """Refuse a value holding NUL, then clean it as the field does."""
        if contains_nul(value):
            raise ValidationError("NUL characters are not allowed.", code="invalid")
        return super().clean(value)


class RegexMixin(NoNulMixin):
    """A regex lookup: every value must compile."""

    def clean(self, value: Any) -> Any:
        """Clean the value as the field does, then refuse a pattern PostgreSQL cannot compile."""
        value = super().clean(value)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item:
                validate_regex(item)
        return value


_strict_classes: dict[tuple[type, type], type] = {}


def strict_field_class(field_class: type, lookup_expr: str, boolean: bool) -> type:
    """The form field class a filter should use so that a bad value is an error, never a 500 or "no filter"."""
    if boolean:
        return StrictNullBooleanField
    mixin = RegexMixin if lookup_expr in ("regex", "iregex") else NoNulMixin
    key = (mixin, field_class)
    if key not in _strict_classes:
        _strict_classes[key] = type(f"{mixin.__name__[:-5]}{field_class.__name__}", (mixin, field_class), {})
    return _strict_classes[key]


MAX_RECIPIENTS = 200


def validate_email_list(value: Any) -> None:
    """A list of e-mail addresses (a tenant's recipients): each one valid, at most MAX_RECIPIENTS, no repeats."""
    from django.core.validators import validate_email

    if not isinstance(value, list):
        raise ValidationError("Expected a list of e-mail addresses.")
    if len(value) > MAX_RECIPIENTS:
        raise ValidationError("At most %(limit)s recipients.", params={"limit": MAX_RECIPIENTS})
    seen = set()
    for address in value:
        if not isinstance(address, str):
            raise ValidationError("%(value)s is not an e-mail address.", params={"value": repr(address)[:40]})
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError("%(value)s is not an e-mail address.", params={"value": repr(address)[:80]}) from None
        if address.lower() in seen:
            raise ValidationError("%(value)s is listed twice.", params={"value": address[:80]})
        seen.add(address.lower())


def validate_jinja2(value: Any) -> None:
    """A template Nautobot's sandboxed Jinja2 can parse (a customer notice's subject or body)."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    try:
        SandboxedEnvironment().parse(value or "")
    except jinja2.TemplateSyntaxError as error:
        raise ValidationError(
            "Not a valid Jinja2 template (line %(line)s): %(message)s",
            params={"line": error.lineno, "message": error.message},
        ) from None
