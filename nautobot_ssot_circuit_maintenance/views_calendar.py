"""The calendar page, the overview page, and the subscribable feed with its per-user token."""

from __future__ import annotations

import uuid
from datetime import timezone as dt_timezone
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views import View
from nautobot.apps.forms import BootstrapMixin, DynamicModelMultipleChoiceField, StaticSelect2Multiple
from nautobot.apps.ui import DataTablePanel, SectionChoices
from nautobot.circuits.models import Provider
from nautobot.core.ui.breadcrumbs import Breadcrumbs, ViewNameBreadcrumbItem
from nautobot.core.ui.titles import Titles
from nautobot.core.views.generic import GenericView
from nautobot.dcim.models import Location

from . import overview
from .calendar_page import VIEWS, build_layout, parse_anchor
from .choices import LiveStateChoices, MaintenanceStatusChoices, OutcomeChoices
from .feed import calendar_response, feed_queryset, text_error
from .filters import CircuitMaintenanceFilterSet
from .models import CalendarFeedToken, CircuitMaintenance
from .tables import live_state_badge
from .terminations import at_locations_q, maintenance_locations

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
VIEW_PERMISSION = "nautobot_ssot_circuit_maintenance.view_circuitmaintenance"
LIST_URL = f"{PREFIX}:circuitmaintenance_list"
BREADCRUMBS = Breadcrumbs(items={"*": [ViewNameBreadcrumbItem(view_name=LIST_URL, label="Circuit Maintenances")]})


def require_view_permission(request: HttpRequest) -> None:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied("You may not view circuit maintenances.")


def filter_errors(filterset: Any) -> list[str]:
    return [f"{name}: {' '.join(str(m) for m in errors)}" for name, errors in filterset.errors.items()]


#
# Calendar page
#


class CalendarFilterForm(BootstrapMixin, forms.Form):
    """The calendar's filters; provider, status and live state go through the maintenance filter set."""

    provider = DynamicModelMultipleChoiceField(queryset=Provider.objects.all(), to_field_name="name", required=False)
    location = DynamicModelMultipleChoiceField(queryset=Location.objects.all(), required=False)
    status = forms.MultipleChoiceField(choices=MaintenanceStatusChoices, required=False, widget=StaticSelect2Multiple())
    live_state = forms.MultipleChoiceField(
        choices=LiveStateChoices, required=False, widget=StaticSelect2Multiple(), label="Live state"
    )


def locations_from(request: HttpRequest, values: list[str]) -> tuple[list[Location], list[str]]:
    """The locations named by pk or name that the user may view; errors for the others."""
    found, errors = [], []
    visible = Location.objects.restrict(request.user, "view")
    for value in values:
        value = value[:200]
        query = Q(name=value)
        try:
            query |= Q(pk=uuid.UUID(value))
        except ValueError:
            pass
        location = visible.filter(query).first()
        if location is None:
            errors.append(f"location: {value!r} is not a location you may view")
        else:
            found.append(location)
    return found, errors


class CalendarView(GenericView):
    """Month, week and list of maintenance windows, coloured by live state; filters by provider, location, status."""

    template_name = "nautobot_ssot_circuit_maintenance/calendar.html"
    view_titles = Titles(titles={"*": "Maintenance calendar"})
    breadcrumbs = BREADCRUMBS

    def get(self, request: HttpRequest) -> HttpResponse:
        require_view_permission(request)
        now = timezone.now()
        params = request.GET.copy()
        view = params.pop("view", ["month"])[-1] or "month"
        anchor_text = params.pop("date", [""])[-1]
        location_values = params.pop("location", [])
        params.pop("per_page", None)
        errors = []
        if view not in VIEWS:
            errors.append(f"view: {view[:20]!r} is not one of {', '.join(VIEWS)}")
            view = "month"
        try:
            anchor = parse_anchor(anchor_text, now.date())
        except ValueError as error:
            errors.append(str(error))
            anchor = now.date()
        locations, location_errors = locations_from(request, location_values)
        errors.extend(location_errors)
        filterset = CircuitMaintenanceFilterSet(params, queryset=CircuitMaintenance.objects.restrict(request.user))
        if not filterset.is_valid():
            errors.extend(filter_errors(filterset))
        layout = build_layout(view, anchor, [], now)
        if not errors:
            queryset = filterset.qs
            if locations:
                queryset = queryset.filter(at_locations_q(locations)).distinct()
            queryset = queryset.filter(start_time__lt=layout.range_end, end_time__gte=layout.range_start)
            maintenances = list(
                queryset.select_related("provider").prefetch_related("circuit_impacts__circuit").order_by("start_time")
            )
            layout = build_layout(view, anchor, maintenances, now)
            places = maintenance_locations(maintenances)
        else:
            places = {}
        form = CalendarFilterForm(
            initial={
                **request.GET.dict(),
                "location": locations,
                "provider": params.getlist("provider"),
                "status": params.getlist("status"),
                "live_state": params.getlist("live_state"),
            }
        )
        query = request.GET.copy()
        query.pop("date", None)
        query.pop("view", None)
        context = {
            "layout": layout,
            "errors": errors,
            "form": form,
            "filter_query": query.urlencode(),
            "places": places,
            "legend": [
                (value, label, LiveStateChoices.CSS_CLASSES[value], LiveStateChoices.CSS_STYLES.get(value, ""))
                for value, label in LiveStateChoices.CHOICES
            ],
            "views": VIEWS,
            "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            "today": now.date(),
            "view_titles": self.get_view_titles(),
            "breadcrumbs": self.get_breadcrumbs(),
        }
        return render(request, self.template_name, context, status=400 if errors else 200)


#
# Overview page
#


def maintenance_row(maintenance: CircuitMaintenance) -> dict[str, Any]:
    return {
        "name": format_html('<a href="{}">{}</a>', maintenance.get_absolute_url(), maintenance.name),
        "provider": maintenance.provider.name,
        "live_state": live_state_badge(maintenance),
        "start": maintenance.start_time.astimezone(dt_timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "end": maintenance.end_time.astimezone(dt_timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "circuits": getattr(maintenance, "circuit_count", ""),
        "ack": "yes" if maintenance.ack else format_html('<span class="badge bg-warning">no</span>'),
    }


# A maintenance list's columns: data key → header.
MAINTENANCE_COLUMNS = {
    "name": "Maintenance",
    "provider": "Provider",
    "live_state": "Live state",
    "start": "Start (UTC)",
    "end": "End (UTC)",
    "circuits": "Circuits",
    "ack": "Ack",
}


class MaintenanceListPanel(DataTablePanel):
    """A list of maintenances with a footer link to the full list, filtered the same way."""

    def __init__(self, *, more_key: str, **kwargs: Any) -> None:
        self.more_key = more_key
        super().__init__(
            columns=list(MAINTENANCE_COLUMNS),
            column_headers=list(MAINTENANCE_COLUMNS.values()),
            footer_content_template_path="nautobot_ssot_circuit_maintenance/inc/overview_more.html",
            **kwargs,
        )

    def get_extra_context(self, context: Any) -> dict[str, Any]:
        return {**super().get_extra_context(context), "more": context.get(self.more_key)}


# The other overview tables' columns (data key → header); the per-provider one names the days, so it is built per page.
FLAG_COLUMNS = {"location": "Location", "kind": "Flag", "interval": "When (UTC)", "maintenances": "Maintenances"}
SOURCE_COLUMNS = {
    "source": "Source",
    "last_run": "Last run (UTC)",
    "outcomes": "Outcomes of the last sync",
    "last_error": "Last error",
}


def overview_panel(
    name: str,
    label: str,
    weight: int,
    *,
    section: str = SectionChoices.FULL_WIDTH,
    columns: dict[str, str] | None = None,
) -> DataTablePanel:
    """One table of the overview page: rows from `<name>_rows` of the context, body `#cm-overview-<name>`.

    Without `columns` it lists maintenances, with a footer link (`<name>_more`) to the full list; else
    `columns` maps each row's data keys to their headers.
    """
    common = {
        "label": label,
        "section": section,
        "weight": weight,
        "context_data_key": f"{name}_rows",
        "body_id": f"cm-overview-{name}",
    }
    if columns is None:
        return MaintenanceListPanel(more_key=f"{name}_more", **common)
    return DataTablePanel(columns=list(columns), column_headers=list(columns.values()), **common)


class OverviewView(GenericView):
    """`maintenance/overview/`: active now, the next days, unacknowledged, flags, per provider, per source."""

    template_name = "nautobot_ssot_circuit_maintenance/overview.html"
    view_titles = Titles(titles={"*": "Circuit maintenance overview"})
    breadcrumbs = BREADCRUMBS

    def panels(self, days: int, with_flags: bool) -> list[Any]:
        provider_columns = {
            "provider": "Provider",
            "active": "Active now",
            "upcoming": f"Next {days} days",
            "unacknowledged": "Unacknowledged",
        }
        left, right = SectionChoices.LEFT_HALF, SectionChoices.RIGHT_HALF
        flags = overview_panel("isolation", "Site isolation and lost redundancy", 400, columns=FLAG_COLUMNS)
        isolation = [flags] if with_flags else []
        return [
            overview_panel("active", "Active now", 100),
            overview_panel("upcoming", f"Next {days} days", 200),
            overview_panel("unacknowledged", "Unacknowledged", 300),
            *isolation,
            overview_panel("providers", "Per provider", 500, section=left, columns=provider_columns),
            overview_panel("sources", "Last sync of each source", 500, section=right, columns=SOURCE_COLUMNS),
        ]

    def panels_by_section(self, days: int, with_flags: bool) -> dict[str, list[Any]]:
        panels = sorted(self.panels(days, with_flags), key=lambda panel: panel.weight)
        return {
            f"{name}_panels": [panel for panel in panels if panel.section == section]
            for name, section in (
                ("full", SectionChoices.FULL_WIDTH),
                ("left", SectionChoices.LEFT_HALF),
                ("right", SectionChoices.RIGHT_HALF),
            )
        }

    def get(self, request: HttpRequest) -> HttpResponse:
        require_view_permission(request)
        now = timezone.now()
        days = overview.dashboard_n_days()
        list_url = reverse(LIST_URL)

        def rows_and_more(queryset: Any, query: str) -> tuple[list[dict[str, Any]], str]:
            total = queryset.count()
            rows = [maintenance_row(m) for m in queryset[: overview.ROWS]]
            more = format_html('<a href="{}?{}">All {} →</a>', list_url, query, total) if total > len(rows) else ""
            return rows, more

        active_rows, active_more = rows_and_more(overview.active_now(request.user, now), "ongoing=true")
        upcoming_rows, upcoming_more = rows_and_more(
            overview.next_days(request.user, now, days), f"upcoming_within_days={days}"
        )
        unacked_rows, unacked_more = rows_and_more(overview.needs_attention(request.user, now), "unacknowledged=true")
        flags = overview.isolation_flags(request.user, now)
        outcome_labels = dict(OutcomeChoices.CHOICES)
        provider_rows = [
            {
                "provider": format_html(
                    '<a href="{}?provider={}&unacknowledged=true">{}</a>',
                    list_url,
                    row.provider.name,
                    row.provider.name,
                ),
                "active": row.active,
                "upcoming": row.upcoming,
                "unacknowledged": row.unacknowledged,
            }
            for row in overview.per_provider(request.user, now, days)
        ]
        source_rows = [
            {
                "source": format_html('<a href="{}">{}</a>', row.source.get_absolute_url(), row.source.name),
                "last_run": row.last_run.astimezone(dt_timezone.utc).strftime("%Y-%m-%d %H:%M")
                if row.last_run
                else "never",
                "outcomes": format_html_join(
                    " ",
                    '<span class="badge bg-secondary">{}: {}</span>',
                    ((outcome_labels.get(k, k), v) for k, v in row.outcomes.items()),
                )
                or "no new mail",
                "last_error": row.last_error or "—",
            }
            for row in overview.last_syncs(request.user)
        ]
        context = {
            **self.panels_by_section(days, flags is not None),
            "active_rows": active_rows,
            "active_more": active_more,
            "upcoming_rows": upcoming_rows,
            "upcoming_more": upcoming_more,
            "unacknowledged_rows": unacked_rows,
            "unacknowledged_more": unacked_more,
            "isolation_rows": flags or [],
            "providers_rows": provider_rows,
            "sources_rows": source_rows,
            "days": days,
            "view_titles": self.get_view_titles(),
            "breadcrumbs": self.get_breadcrumbs(),
        }
        return render(request, self.template_name, context)


#
# The subscribable feed and its token
#


class FeedSubscribeView(GenericView):
    """The user's feed URL (with their token) and a button to rotate the token."""

    template_name = "nautobot_ssot_circuit_maintenance/calendar_subscribe.html"
    view_titles = Titles(titles={"*": "Subscribe to the maintenance calendar"})
    breadcrumbs = BREADCRUMBS

    def get(self, request: HttpRequest) -> HttpResponse:
        require_view_permission(request)
        token = CalendarFeedToken.for_user(request.user)
        url = request.build_absolute_uri(reverse(f"{PREFIX}:calendar_feed", kwargs={"key": token.key}))
        context = {
            "feed_url": url,
            "webcal_url": "webcal://" + url.split("://", 1)[1],
            "token": token,
            "view_titles": self.get_view_titles(),
            "breadcrumbs": self.get_breadcrumbs(),
        }
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        require_view_permission(request)
        CalendarFeedToken.for_user(request.user, rotate=True)
        messages.success(request, "New feed URL made: the old one no longer works. Update your calendar subscriptions.")
        return redirect(f"{PREFIX}:calendar_subscribe")


class CalendarFeedView(View):
    """The feed by token: no session, no Authorization header; the token's user's view of the maintenances.

    Takes the same filters as the maintenance list. Errors are plain text with a 4xx status.
    """

    def get(self, request: HttpRequest, key: str) -> HttpResponse:
        token = CalendarFeedToken.objects.select_related("user").filter(key=key).first()
        if token is None or not token.user.is_active:
            return text_error(404, "No such calendar feed: the URL is wrong or its token was rotated.")
        user = token.user
        if not user.has_perm(VIEW_PERMISSION):
            return text_error(403, "The owner of this feed may not view circuit maintenances.")
        filterset = CircuitMaintenanceFilterSet(request.GET, queryset=CircuitMaintenance.objects.restrict(user, "view"))
        if not filterset.is_valid():
            return text_error(400, "Bad filter: " + "; ".join(filter_errors(filterset)))
        return calendar_response(request, feed_queryset(filterset.qs, request.GET))
