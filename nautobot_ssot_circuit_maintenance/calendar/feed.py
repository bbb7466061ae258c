"""Serving the calendar feed: the maintenances a user may see, as iCalendar, with ETag / Last-Modified.

Shared by the REST endpoint (`/api/.../maintenance/calendar/`, token in the Authorization header) and
the subscribable URL (`/.../calendar/feed/<key>.ics`, the user's feed token in the URL).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from nautobot.extras.choices import ObjectChangeActionChoices
from nautobot.extras.models import ObjectChange

from nautobot_ssot_circuit_maintenance.calendar.ical import etag_for, render_calendar
from nautobot_ssot_circuit_maintenance.models import CircuitImpact, CircuitMaintenance
from nautobot_ssot_circuit_maintenance.models.reach import maintenance_locations

# Unless `ended_within_days` says otherwise, maintenances that ended more than this many days ago are left out.
DEFAULT_ENDED_WITHIN_DAYS = 30
CONTENT_TYPE = "text/calendar; charset=utf-8"


def feed_queryset(queryset: QuerySet, params: Any) -> QuerySet:
    """The filtered maintenances of the feed, soonest first, with their providers (`calendar_response` reads the rest).

    Their circuits are not prefetched: a busy month is a thousand maintenances, and a prefetch builds a queryset for
    each; `impacts_of` reads them all in one query as plain values.
    """
    if "ended_within_days" not in params:
        queryset = queryset.ended_within(DEFAULT_ENDED_WITHIN_DAYS)
    return queryset.select_related("provider").order_by("start_time", "maintenance_id")


def impacts_of(maintenances: list[CircuitMaintenance]) -> tuple[dict[Any, list[tuple[str, str]]], dict[Any, list[Any]]]:
    """In one query: each maintenance's circuits as (cid, impact), and as circuit pks (for their locations)."""
    impacts: dict[Any, list[tuple[str, str]]] = defaultdict(list)
    circuits: dict[Any, list[Any]] = defaultdict(list)
    rows = CircuitImpact.objects.filter(maintenance__in=[m.pk for m in maintenances]).values_list(
        "maintenance_id", "circuit_id", "circuit__cid", "impact"
    )
    for maintenance_id, circuit_id, cid, impact in rows.order_by():
        impacts[maintenance_id].append((cid, impact))
        circuits[maintenance_id].append(circuit_id)
    return impacts, circuits


def last_modified(maintenances: list[CircuitMaintenance]) -> datetime | None:
    """The newest change that can alter the feed: an included record, or a deleted maintenance or impact."""
    times = [m.last_updated for m in maintenances if m.last_updated]
    deleted = deletions_after(max(times, default=None)).aggregate(latest=Max("time"))["latest"]
    if deleted:
        times.append(deleted)
    return max(times) if times else None


def deletions_after(after: datetime | None) -> QuerySet:
    """The change log's deletions of maintenances and impacts after `after` (every one when None).

    Only a deletion after the newest included record can be the feed's newest change: bounded by time, the
    change log (every change Nautobot ever recorded) is read from its time index, not end to end.
    """
    types = ContentType.objects.get_for_models(CircuitMaintenance, CircuitImpact).values()
    deleted = ObjectChange.objects.filter(changed_object_type__in=types, action=ObjectChangeActionChoices.ACTION_DELETE)
    return deleted.filter(time__gt=after) if after is not None else deleted


def calendar_response(request: HttpRequest, queryset: QuerySet, *, name: str = "Circuit maintenances") -> HttpResponse:
    """200 with the feed, or 304 when the client's ETag (or, lacking one, its date) is current."""
    maintenances = list(queryset)
    impacts, circuits = impacts_of(maintenances)
    body = render_calendar(
        maintenances,
        url_for=lambda maintenance: request.build_absolute_uri(maintenance.get_absolute_url()),
        locations=maintenance_locations(maintenances, circuits),
        impacts=impacts,
        name=name,
    )
    etag = etag_for(body)
    changed = last_modified(maintenances)
    timestamp = int(changed.timestamp()) if changed else None
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = 'inline; filename="circuit-maintenances.ics"'
    response["ETag"] = etag
    if timestamp is not None:
        response["Last-Modified"] = http_date(timestamp)
    # The feed is one user's view: no shared cache may keep it; clients revalidate with the validators above.
    response["Cache-Control"] = "private, no-cache"
    return get_conditional_response(request, etag=etag, last_modified=timestamp, response=response)


def text_error(status: int, message: str) -> HttpResponse:
    """An error of the subscribable feed: plain text, never labelled text/calendar."""
    return HttpResponse(message.rstrip("\n") + "\n", status=status, content_type="text/plain; charset=utf-8")


def calendar_feed_response_for_api(request: Any, queryset: QuerySet) -> HttpResponse:
    """The REST endpoint's feed: the queryset is already restricted and filtered by DRF."""
    return calendar_response(request, feed_queryset(queryset, request.query_params))
