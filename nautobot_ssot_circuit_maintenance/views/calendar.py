"""The calendar page, and the subscribable feed with its per-user token."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from nautobot.apps.forms import BootstrapMixin, DynamicModelMultipleChoiceField, StaticSelect2Multiple
from nautobot.apps.ui import Breadcrumbs, Titles, ViewNameBreadcrumbItem
from nautobot.apps.views import GenericView
from nautobot.circuits.models import Provider
from nautobot.dcim.models import Location

from nautobot_ssot_circuit_maintenance.calendar.feed import calendar_response, feed_queryset, text_error
from nautobot_ssot_circuit_maintenance.calendar.layout import VIEWS, build_layout, parse_anchor
from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices, MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.compat.responses import mark_response_logged
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.filters import CircuitMaintenanceFilterSet
from nautobot_ssot_circuit_maintenance.models import CalendarFeedToken, CircuitMaintenance
from nautobot_ssot_circuit_maintenance.models.reach import at_locations_q, maintenance_locations
from nautobot_ssot_circuit_maintenance.redaction import mask_feed_tokens

logger = logging.getLogger(__name__)
VIEW_PERMISSION = "nautobot_ssot_circuit_maintenance.view_circuitmaintenance"
LIST_URL = f"{URL_NAMESPACE}:circuitmaintenance_list"
BREADCRUMBS = Breadcrumbs(items={"*": [ViewNameBreadcrumbItem(view_name=LIST_URL, label="Circuit Maintenances")]})


def require_view_permission(request: HttpRequest) -> None:
    """PermissionDenied unless the user may view circuit maintenances."""
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied("You may not view circuit maintenances.")


def filter_errors(filterset: Any) -> list[str]:
    """The filter set's errors, one "field: message" line per field."""
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
        """The calendar page for the view, date and filters asked for; 400 with the errors on bad input."""
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
                queryset.select_related("provider")
                .prefetch_related("circuit_impacts__circuit", "superseded_by")  # superseded: each live state asks
                .order_by("start_time")
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


class FeedSubscribeView(GenericView):
    """The user's feed address, shown once when its token is made, and a button to make a new one.

    Only the token's digest is stored (as with a password), so the address can be shown only when
    it is made: on the first visit, and on every rotation (the POST answers with the page itself,
    not a redirect, so the token goes nowhere else: no session, no URL).
    """

    template_name = "nautobot_ssot_circuit_maintenance/calendar_subscribe.html"
    view_titles = Titles(titles={"*": "Subscribe to the maintenance calendar"})
    breadcrumbs = BREADCRUMBS

    def page(self, request: HttpRequest, token: CalendarFeedToken | None, key: str = "") -> HttpResponse:
        """Render the subscribe page; with a new `key`, its feed addresses, kept out of every cache."""
        context = {
            "token": token,
            "feed_base_url": request.build_absolute_uri(reverse(f"{URL_NAMESPACE}:calendar_feed_by_credential")),
            "view_titles": self.get_view_titles(),
            "breadcrumbs": self.get_breadcrumbs(),
        }
        if key:
            url = request.build_absolute_uri(reverse(f"{URL_NAMESPACE}:calendar_feed", kwargs={"key": key}))
            context |= {"key": key, "feed_url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}
        response = render(request, self.template_name, context)
        if key:
            # A page with a secret on it: no cache may keep it, no back button may show it again.
            response["Cache-Control"] = "no-store"
        return response

    def get(self, request: HttpRequest) -> HttpResponse:
        """The subscribe page; the first visit makes the token and shows its address, once."""
        require_view_permission(request)
        token = CalendarFeedToken.objects.filter(user=request.user).first()
        if token is None:
            # The first visit makes the address, as it always has; later visits cannot show it again.
            key = CalendarFeedToken.issue(request.user)
            return self.page(request, CalendarFeedToken.objects.get(user=request.user), key)
        return self.page(request, token)

    def post(self, request: HttpRequest) -> HttpResponse:
        """Make a new token, so the old address stops working, and show the new address."""
        require_view_permission(request)
        key = CalendarFeedToken.issue(request.user)
        messages.success(
            request, "New feed address made: the old one no longer works. Update your calendar subscriptions."
        )
        return self.page(request, CalendarFeedToken.objects.get(user=request.user), key)


def bearer_token(request: HttpRequest) -> str:
    """The token of an `Authorization: Bearer <token>` header, else of a `?token=` parameter, else ""."""
    scheme, _, credential = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return credential.strip()
    return request.GET.get("token", "")


def feed_error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """A plain-text error of the feed, logged here with the address's token masked and not by Django.

    Django would log "Not Found: <path>", and the path can hold the token (compat.mark_response_logged).
    """
    logger.info("Calendar feed answered %s: %s (%s)", status, message, mask_feed_tokens(request.get_full_path()))
    return mark_response_logged(text_error(status, message))


class CalendarFeedView(View):
    """The feed by token: no session; the token's user's view of the maintenances.

    The token comes in the path (`calendar/feed/<token>.ics`, for calendar applications, which can
    send nothing else), an `Authorization: Bearer <token>` header or a `?token=` parameter (at
    `calendar/feed.ics`). Takes the same filters as the maintenance list. Errors are plain text with a
    4xx status; no log line the app writes holds the token.
    """

    def get(self, request: HttpRequest, key: str = "") -> HttpResponse:
        """The feed of the token's user, filtered as asked; a plain-text 4xx when the token or filters are wrong."""
        key = key or bearer_token(request)
        if not key:
            response = feed_error(
                request,
                401,
                "The calendar feed needs its token: an 'Authorization: Bearer <token>' header, a '?token=<token>' "
                "parameter, or the address from the Subscribe page.",
            )
            response["WWW-Authenticate"] = 'Bearer realm="circuit maintenance calendar feed"'
            return response
        token = CalendarFeedToken.lookup(key)
        if token is None or not token.user.is_active:
            return feed_error(request, 404, "No such calendar feed: the token is wrong or was rotated.")
        user = token.user
        if not user.has_perm(VIEW_PERMISSION):
            return feed_error(request, 403, "The owner of this feed may not view circuit maintenances.")
        params = request.GET.copy()
        params.pop("token", None)
        filterset = CircuitMaintenanceFilterSet(params, queryset=CircuitMaintenance.objects.restrict(user, "view"))
        if not filterset.is_valid():
            return feed_error(request, 400, "Bad filter: " + "; ".join(filter_errors(filterset)))
        return calendar_response(request, feed_queryset(filterset.qs, params))
