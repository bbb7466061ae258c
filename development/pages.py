"""The pages and REST lists people open, timed in the benchmark's process with Django's test client.

Logged in as a superuser (the benchmark's user); each page is requested once to warm up, then `rounds`
times: the median is its figure, with the SQL statements one request runs and the bytes it answers. A
status other than 200 is an error, never a figure. development/benchmark.py runs this on the stored
history (development/store.py); tests/test_benchmark.py runs it small and checks statuses and counts.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db import connections
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from nautobot.circuits.models import Provider

from development.measure import StatementCounter
from development.store import CURRENT_PREFIX
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.models import CalendarFeedToken, CircuitMaintenance, RawNotification

API = "plugins-api:nautobot_ssot_circuit_maintenance-api"
GRAPHQL_QUERY = """
{
  circuit_maintenances(limit: 50) {
    id maintenance_id name status live_state start_time end_time ack
    provider { name }
    circuit_impacts { impact circuit { cid } }
  }
}
"""


@dataclass
class Page:
    """One page or endpoint: its name in the results, and how to request it."""

    name: str
    url: str
    method: str = "get"
    data: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def request(self, client: Client) -> Any:
        """One request of the page with `client`."""
        if self.method == "post":
            return client.post(self.url, data=self.data, content_type=self.content_type, **self.headers)
        return client.get(self.url, **self.headers)


@dataclass
class PageTiming:
    """What one page took: median seconds, SQL statements per request, answer size, HTTP status."""

    name: str
    url: str
    status: int
    seconds: float | None
    statements: int
    size: int
    requests: int = 1

    @property
    def ok(self) -> bool:
        """Answered 200: the figure is one."""
        return self.status == 200


def _ui(name: str, **kwargs: Any) -> str:
    return reverse(f"{URL_NAMESPACE}:{name}", kwargs=kwargs or None)


def _with(url: str, **query: Any) -> str:
    return f"{url}?{urlencode(query)}"


def pages(user: Any) -> list[Page]:
    """The pages and endpoints measured, on the records there are (a maintenance and a notice of the store).

    Makes the user's calendar feed token (a new one each time: only its digest is stored).
    """
    maintenance = _sample_maintenance()
    raw = RawNotification.objects.filter(parsed_notifications__maintenance=maintenance).order_by("-date").first()
    raw = raw or RawNotification.objects.order_by("-date").first()
    provider = maintenance.provider.name if maintenance else Provider.objects.order_by("name").first().name
    maintenances = _ui("circuitmaintenance_list")
    raws = _ui("rawnotification_list")
    calendar = _ui("calendar")
    api_json = {"HTTP_ACCEPT": "application/json"}
    detail = [Page("page_maintenance_detail", _ui("circuitmaintenance", pk=maintenance.pk))] if maintenance else []
    raw_detail = [Page("page_raw_notification_detail", _ui("rawnotification", pk=raw.pk))] if raw else []
    return [
        Page("page_home", reverse("home")),
        Page("page_maintenance_list", maintenances),
        Page("page_maintenance_list_unacknowledged", _with(maintenances, unacknowledged="true")),
        Page("page_maintenance_list_upcoming_14_days", _with(maintenances, upcoming_within_days=14)),
        Page("page_maintenance_list_ongoing", _with(maintenances, ongoing="true")),
        Page("page_maintenance_list_live_state_upcoming", _with(maintenances, live_state="upcoming")),
        Page("page_maintenance_list_status_confirmed", _with(maintenances, status="CONFIRMED")),
        Page("page_maintenance_list_provider", _with(maintenances, provider=provider)),
        Page("page_maintenance_list_search", _with(maintenances, q=f"{CURRENT_PREFIX}1")),
        Page("page_maintenance_list_sort_start", _with(maintenances, sort="-start_time")),
        Page("page_maintenance_list_sort_provider", _with(maintenances, sort="provider")),
        *detail,
        Page("page_overview", _ui("overview")),
        Page("page_calendar_month", calendar),
        Page("page_calendar_list", _with(calendar, view="list")),
        Page("page_calendar_feed", _ui("calendar_feed", key=CalendarFeedToken.issue(user))),
        Page("page_impact_list", _ui("circuitimpact_list")),
        Page("page_raw_notification_list", raws),
        Page("page_raw_notification_list_parsed", _with(raws, outcome="parsed")),
        *raw_detail,
        Page("page_triage_queue", _ui("triage_list")),
        Page("api_maintenance_list", reverse(f"{API}:circuitmaintenance-list"), headers=api_json),
        Page("api_impact_list", reverse(f"{API}:circuitimpact-list"), headers=api_json),
        Page("api_raw_notification_list", reverse(f"{API}:rawnotification-list"), headers=api_json),
        Page("api_parsed_notification_list", reverse(f"{API}:parsednotification-list"), headers=api_json),
        Page(
            "graphql_maintenance_list",
            reverse("graphql-api"),
            method="post",
            data=json.dumps({"query": GRAPHQL_QUERY}),
            content_type="application/json",
            headers=api_json,
        ),
    ]


def _sample_maintenance() -> CircuitMaintenance | None:
    """A maintenance of the store's current slice with the most circuits (its page shows the most), else any."""
    current = CircuitMaintenance.objects.filter(maintenance_id__startswith=CURRENT_PREFIX)
    queryset = current if current.exists() else CircuitMaintenance.objects.all()
    return queryset.annotate(circuits=Count("circuit_impacts")).order_by("-circuits", "-start_time").first()


# A Nautobot list page renders its frame, then the browser fetches the table with an HTMX request.
HTMX_TABLE = b'id="object_table_wrapper"'


@dataclass
class Load:
    """One load of a page as a browser shows it: the page and, for a list, its table."""

    status: int
    seconds: float
    statements: int
    size: int
    requests: int


def load(client: Client, page: Page) -> Load:
    """Request the page, then its table when it is a list (Nautobot fetches that with HTMX); time both."""
    counter = StatementCounter()
    with connections["default"].execute_wrapper(counter):
        started = time.perf_counter()
        response = page.request(client)
        requests, size = 1, len(response.content)
        if response.status_code == 200 and HTMX_TABLE in response.content:
            response = client.get(page.url, HTTP_HX_REQUEST="true", **page.headers)
            requests, size = 2, size + len(response.content)
        seconds = time.perf_counter() - started
    return Load(response.status_code, seconds, counter.count, size, requests)


def measure_pages(
    user: Any, *, rounds: int = 3, only: Callable[[Page], bool] | None = None, progress: bool = False
) -> list[PageTiming]:
    """Each page: one warm-up load, then `rounds` timed ones; the median, and the statements and size of the last.

    A list's figure is its page and its table together (two requests), as a person waits for both.
    """
    client = Client()
    client.force_login(user)
    timings = []
    for page in pages(user):
        if only is not None and not only(page):
            continue
        loads = [load(client, page)]
        if loads[0].status == 200:
            loads = [load(client, page) for _ in range(rounds)]
        last = next((each for each in loads if each.status != 200), loads[-1])
        timing = PageTiming(
            name=page.name,
            url=page.url,
            status=last.status,
            seconds=statistics.median(each.seconds for each in loads) if last.status == 200 else None,
            statements=last.statements,
            size=last.size,
            requests=last.requests,
        )
        timings.append(timing)
        if progress:
            figure = f"{timing.seconds * 1000:.0f} ms" if timing.ok else f"ERROR {page.url}"
            print(
                f"{page.name}: {figure} (HTTP {timing.status}, {timing.requests} request(s), "
                f"{timing.statements} SQL, {timing.size:,} bytes)",
                flush=True,
            )
    return timings
