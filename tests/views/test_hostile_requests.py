"""Every filter of every list (UI, REST, calendar feed) answers hostile values with a 4xx, never a 500.

The filters are not listed by hand: each filter set of the app is introspected (`get_filters()`, which
includes the lookup variants Nautobot generates, e.g. `name__ic`, `start_time__gte`, `created__isnull`),
so a filter added later is walked too.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import Any

import django_filters
from django.db import transaction
from django.urls import reverse
from nautobot.apps.testing import TestCase
from nautobot.core.filters import NaturalKeyOrPKMultipleChoiceFilter

from nautobot_ssot_circuit_maintenance import filters, views
from nautobot_ssot_circuit_maintenance.api import views as api_views
from tests.fixtures.ui_data import build_ui_data

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
API = "plugins-api:nautobot_ssot_circuit_maintenance-api"
CALENDAR = f"{API}:circuitmaintenance-calendar"

# What a careless operator, a fuzzer or an attacker would put in a query string.
HOSTILE_VALUES: list[Any] = [
    "",
    " ",
    "-1",
    "800000",
    "9" * 400,
    "1e999",
    "NaN",
    "maybe",
    "\x00",
    "a\x00b",
    "x" * 5000,
    "2026-13-45",
    "10000-01-01",
    "9999-12-31T23:59:59-05:00",
    "0000-00-00T25:61",
    "ünïcødé ☃ 𝔘𝔫𝔦",
    "' OR 1=1; DROP TABLE x; --",
    ".*(",
    "[[:alpha:",
    "%_\\",
    "00000000-0000-0000-0000-00000000000g",
    ["maybe", "2026-01-01"],  # repeated parameter, mixed
    ["", "\x00", "1"],
]

# Values that a typed filter must refuse with a 400 in REST (not ignore, not 500).
BAD_BOOLEANS = {"maybe", "2026-13-45", "800000", "NaN", "\x00"}
BAD_DATES = {"maybe", "2026-13-45", "10000-01-01", "0000-00-00T25:61", "\x00"}
BAD_NUMBERS = {"maybe", "800000", "9" * 400, "1e999", "NaN", "-1", "\x00"}
BAD_UUIDS = {"maybe", "00000000-0000-0000-0000-00000000000g", "\x00"}
BAD_CHOICES = {"maybe", "\x00"}
BAD_REGEXES = {".*(", "[[:alpha:", "%_\\"}


def must_refuse(flt: django_filters.Filter, value: Any) -> bool:
    """Whether REST must answer this value for this filter with a 400."""
    if not isinstance(value, str):
        return False
    if value == "\x00" and not isinstance(flt, django_filters.BooleanFilter):
        return True  # PostgreSQL cannot store or compare NUL: every typed and text filter refuses it
    if isinstance(flt, django_filters.BooleanFilter):
        return value in BAD_BOOLEANS
    if flt.lookup_expr in ("regex", "iregex"):
        return value in BAD_REGEXES
    if isinstance(flt, django_filters.DateTimeFilter):
        return value in BAD_DATES
    if isinstance(flt, django_filters.NumberFilter):
        return value in BAD_NUMBERS
    if isinstance(flt, django_filters.UUIDFilter):
        return value in BAD_UUIDS
    if isinstance(flt, NaturalKeyOrPKMultipleChoiceFilter):
        return False  # 'maybe' may be a name: an unknown one is a 400 as well, but not asserted here
    if isinstance(flt, django_filters.MultipleChoiceFilter) and flt.extra.get("choices"):
        return value in BAD_CHOICES
    return False


# Filter sets no UI or REST list uses (GraphQL filters with them): none since flags have their REST list.
GRAPHQL_ONLY: set[type] = set()


def endpoints() -> list[tuple[type, str | None, str | None]]:
    """(filter set, UI list URL name or None, REST list URL name or None), found from the views."""
    found = []
    for name in filters.__all__:
        filterset = getattr(filters, name)
        model_name = filterset._meta.model._meta.model_name
        ui = [v for v in vars(views).values() if getattr(v, "filterset_class", None) is filterset]
        rest = [v for v in vars(api_views).values() if getattr(v, "filterset_class", None) is filterset]
        found.append(
            (
                filterset,
                f"{PREFIX}:{model_name}_list" if ui else None,
                f"{API}:{model_name}-list" if rest else None,
            )
        )
    return found


class HostileFilterValuesTest(TestCase):
    """Superuser requests: permissions are not what is tested here, the input is."""

    figures: dict[str, int] = {}

    @classmethod
    def setUpTestData(cls) -> None:
        cls.data = build_ui_data()

    @classmethod
    def tearDownClass(cls) -> None:
        pairs = {key: count for key, count in cls.figures.items() if key.endswith("(filter x value)")}
        requests = {key: count for key, count in cls.figures.items() if key not in pairs}
        for label, figures in (("requests", requests), ("filter x value checks", pairs)):
            detail = ", ".join(f"{key}: {count}" for key, count in sorted(figures.items()))
            sys.stderr.write(f"\nhostile filters, {label}: {sum(figures.values())} ({detail})\n")
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.client.force_login(self.user)

    def count(self, key: str) -> None:
        self.figures[key] = self.figures.get(key, 0) + 1

    def get(self, url_name: str, params: dict[str, Any], key: str) -> int | str:
        """The status code, or the exception the server raised (a 500) as text."""
        return self.ask(url_name, params, key)[0]

    def ask(self, url_name: str, params: dict[str, Any], key: str) -> tuple[int | str, set[str]]:
        """The status code (or the exception the server raised, a 500, as text), and the parameters a 400 names.

        Each request runs in a savepoint, as each real request has its own transaction: a database
        error in one must not turn the following ones into errors.
        """
        self.count(key)
        try:
            with transaction.atomic():
                response = self.client.get(reverse(url_name), params)
                transaction.set_rollback(True)
        except Exception as error:  # noqa: BLE001 - any exception the view lets out is the finding
            return f"500 {type(error).__name__}: {str(error)[:160]}", set()
        if response.status_code >= 500:
            return f"{response.status_code} {response.content[:160]!r}", set()
        refused: set[str] = set()
        if response.status_code == 400 and response.get("Content-Type", "").startswith("application/json"):
            body = response.json()
            refused = set(body) if isinstance(body, dict) else set()
        return response.status_code, refused

    def walk_rest(self, filterset: type, url_name: str, key: str, failures: list[str]) -> None:
        """Every filter with every value, filters of the same kind (same filter and form-field class, same
        lookup) sharing a request (see `walk_group`)."""
        groups: dict[tuple, list[tuple[str, django_filters.Filter]]] = defaultdict(list)
        for name, flt in filterset.get_filters().items():
            groups[(type(flt), flt.field_class, flt.lookup_expr)].append((name, flt))
        for value in HOSTILE_VALUES:
            for members in groups.values():
                self.walk_group(url_name, key, members, value, failures)

    def walk_group(
        self, url_name: str, key: str, members: list[tuple[str, Any]], value: Any, failures: list[str]
    ) -> None:
        """One value to filters that share a request.

        REST refuses a whole query for one bad filter, naming each refused filter in its 400; the refused are
        judged from that answer, and the accepted are asked again together, so that each is also applied to
        the query (a value that passes validation and breaks the query must be caught). Any other answer to
        a shared request is asked again one filter at a time.
        """
        status, refused = self.ask(url_name, {name: value for name, _ in members}, key)
        names = {name for name, _ in members}
        if len(members) == 1 or status == 200:
            for name, flt in members:
                self.judge(status, key, name, flt, value, failures)
        elif status == 400 and refused and refused <= names:
            for name, flt in members:
                if name in refused:
                    self.judge(400, key, name, flt, value, failures)
            accepted = [(name, flt) for name, flt in members if name not in refused]
            if accepted:
                self.walk_group(url_name, key, accepted, value, failures)
        else:
            for name, flt in members:
                self.judge(self.get(url_name, {name: value}, key), key, name, flt, value, failures)

    def judge(
        self, status: int | str, key: str, name: str, flt: django_filters.Filter, value: Any, failures: list[str]
    ) -> None:
        self.count(f"{key} (filter x value)")
        shown = f"{key} {name}={repr(value)[:40]}"
        if not isinstance(status, int) or status >= 500:
            failures.append(f"{shown}: {status}")
        elif must_refuse(flt, value) and status != 400:
            failures.append(f"{shown}: {status}, expected 400")

    def walk_ui(self, filterset: type, url_name: str, failures: list[str]) -> None:
        """The UI applies the valid filters and reports the others, so filters can share a request.

        Each value goes to every filter at once (a single-value filter sees it alone), then each
        filter gets every value at once as a repeated parameter (a multi-value filter sees them all).
        """
        key = f"{filterset.__name__} UI"
        names = list(filterset.get_filters())
        for value in HOSTILE_VALUES:
            status = self.get(url_name, {name: value for name in names}, key)
            self.figures[f"{key} (filter x value)"] = self.figures.get(f"{key} (filter x value)", 0) + len(names)
            if not isinstance(status, int) or status >= 500:
                failures.append(f"{key} every filter={repr(value)[:40]}: {status}")
        every_value = [v for value in HOSTILE_VALUES for v in (value if isinstance(value, list) else [value])]
        for name in names:
            status = self.get(url_name, {name: every_value}, key)
            if not isinstance(status, int) or status >= 500:
                failures.append(f"{key} {name}=every value: {status}")

    def check(self, walk: Any, *args: Any) -> None:
        failures: list[str] = []
        walk(*args, failures)
        self.assertEqual(failures, [], f"{len(failures)} hostile requests went wrong:\n" + "\n".join(failures))

    def test_every_filter_set_is_walked(self) -> None:
        for filterset, ui, rest in endpoints():
            with self.subTest(filterset=filterset.__name__):
                if filterset in GRAPHQL_ONLY:
                    self.assertFalse(ui or rest, f"{filterset.__name__} has a list now: walk it here")
                    continue
                self.assertTrue(ui or rest, f"{filterset.__name__} is used by no list")
        self.assertEqual(len(endpoints()), len(filters.__all__))

    def test_calendar_feed(self) -> None:
        self.check(self.walk_rest, filters.CircuitMaintenanceFilterSet, CALENDAR, "calendar")

    def test_calendar_feed_token_in_a_header_or_parameter(self) -> None:
        """Whatever is sent as the feed's token: 401 (none) or 404 (unknown), plain text with a message."""
        url = reverse(f"{PREFIX}:calendar_feed_by_credential")
        failures = []
        for value in [*HOSTILE_VALUES, "Bearer", "x" * 100_000, "é" * 64, "../../etc/passwd", "%00"]:
            values = value if isinstance(value, list) else [value]
            for how, send in (
                ("parameter", lambda values=values: self.client.get(url, {"token": values})),
                ("header", lambda values=values: self.client.get(url, HTTP_AUTHORIZATION=f"Bearer {values[0]}")),
                ("scheme", lambda values=values: self.client.get(url, HTTP_AUTHORIZATION=values[0])),
            ):
                response = send()
                ok = response.status_code in (401, 404) and response["Content-Type"].startswith("text/plain")
                if not ok or not response.content.strip():
                    failures.append(f"{how} {str(value)[:40]!r}: {response.status_code} {response.content[:80]!r}")
        self.assertEqual(failures, [], "\n" + "\n".join(failures))


def _add_tests() -> None:
    """One REST and one UI test per filter set, named after its model (run one alone while debugging)."""
    for filterset, ui, rest in endpoints():
        model_name = filterset._meta.model._meta.model_name
        if rest:
            setattr(
                HostileFilterValuesTest,
                f"test_rest_{model_name}",
                lambda self, fs=filterset, url=rest: self.check(self.walk_rest, fs, url, f"{fs.__name__} REST"),
            )
        if ui:
            setattr(
                HostileFilterValuesTest,
                f"test_ui_{model_name}",
                lambda self, fs=filterset, url=ui: self.check(self.walk_ui, fs, url),
            )


_add_tests()
