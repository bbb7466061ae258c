"""What the app's pages share: the POST button, 405 for unrouted methods, the CSRF page, fields naming their zone."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import get_callable, reverse
from django.utils import timezone as dj_timezone
from django.views import View
from nautobot.apps.views import ObjectPermissionRequiredMixin
from rest_framework.exceptions import MethodNotAllowed

from nautobot_ssot_circuit_maintenance.compat.responses import csrf_failure_reason
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.display import zone_help_text
from nautobot_ssot_circuit_maintenance.models import RawNotification

# A Button that submits a POST: ours, as Nautobot 3.0 has no PostButton.
POST_BUTTON_TEMPLATE = "nautobot_ssot_circuit_maintenance/inc/post_button.html"


class RoutedMethodsOnly:
    """A route answers only the methods it maps (e.g. Validate: POST); others get a 405.

    Nautobot's edit mixin gives the view set Django's `get`/`put` handlers, which DRF would
    otherwise call for any route whose action does not map the method.
    """

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        """Answer 405 for a method this route's action does not map (OPTIONS excepted)."""
        if request.method.lower() not in self.action_map and request.method != "OPTIONS":
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)


class CsrfFailurePage:
    """A POST that fails the CSRF check gets Nautobot's "CSRF failure" page, 403, with the reason.

    In a DRF-based UI view set, DRF's session authentication checks CSRF and drops the user on
    failure, so the page's object lookup answered 404 instead (see compat.csrf_failure_reason).
    """

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        """Authenticate, and so check CSRF, before anything else is decided."""
        # Authenticate (and so check CSRF) before anything else is decided, e.g. a 405, whose page would
        # otherwise authenticate while it is rendered, outside the exception handling.
        request.user  # noqa: B018 - DRF authenticates on first access
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Any:
        """Answer a CSRF failure with the CSRF failure page and its reason, not DRF's response."""
        reason = csrf_failure_reason(exc)
        if reason is not None:
            # The view Django's CSRF middleware answers with (Nautobot's, unless the settings name another).
            return get_callable(settings.CSRF_FAILURE_VIEW)(self.request._request, reason=reason)
        return super().handle_exception(exc)


class NotificationActionView(ObjectPermissionRequiredMixin, View):
    """One action on one stored notification: GET shows its form, POST performs it (bad input answers 400).

    Subclasses give `title`, `form_class` (or `get_form`), `describe` and `perform`; triage and decisions build on it.
    """

    queryset = RawNotification.objects.select_related("source", "provider")
    permission = "nautobot_ssot_circuit_maintenance.change_rawnotification"
    title = ""
    form_class: Any = None
    template_name = "nautobot_ssot_circuit_maintenance/triage_action.html"

    def get_required_permission(self) -> str:
        """The view's `permission`: changing the notification unless a subclass says otherwise."""
        return self.permission

    def get_form(self, raw: RawNotification, data: Any = None) -> Any:
        """The action's form, unbound on GET and bound to the POST data."""
        return self.form_class(data)

    def describe(self, raw: RawNotification) -> str:
        """What the action will do to this notification, shown above the form; nothing by default."""
        return ""

    def get(self, request: Any, pk: Any) -> Any:
        """Show the action's form for the notification."""
        raw = get_object_or_404(self.queryset, pk=pk)
        return self.show(request, raw, self.get_form(raw))

    def post(self, request: Any, pk: Any) -> Any:
        """Perform the action in one transaction and tell the user; on bad input, the form again with 400."""
        raw = get_object_or_404(self.queryset, pk=pk)
        form = self.get_form(raw, request.POST)
        if not form.is_valid():
            return self.show(request, raw, form, status=400)
        try:
            with transaction.atomic():
                text = self.perform(request, raw, form.cleaned_data)
        except (ValidationError, IntegrityError, ValueError) as error:
            form.add_error(None, self.error_text(error))
            return self.show(request, raw, form, status=400)
        messages.success(request, text)
        return self.done(request, raw, form.cleaned_data)

    def perform(self, request: Any, raw: RawNotification, data: dict[str, Any]) -> str:
        """Do the action; return what to tell the user. Raise ValidationError or ValueError for bad input."""
        raise NotImplementedError

    def done(self, request: Any, raw: RawNotification, data: dict[str, Any]) -> Any:
        """Where the user goes after the action: the triage queue."""
        return redirect(reverse(f"{URL_NAMESPACE}:triage_list"))

    def error_text(self, error: Exception) -> str:
        """The error as the form shows it: a ValidationError's messages joined, else its text."""
        if isinstance(error, ValidationError):
            return "; ".join(error.messages)
        return str(error)

    def show(self, request: Any, raw: RawNotification, form: Any, status: int = 200) -> Any:
        """Render the action page: the notification, the form, the title and the description."""
        context = {
            "object": raw,
            "form": form,
            "title": f"{self.title}: {raw}",
            "action_title": self.title,
            "description": self.describe(raw),
            "return_url": reverse(f"{URL_NAMESPACE}:triage_list"),
        }
        return render(request, self.template_name, context, status=status)


class ZonedTimesMixin:
    """Each date-time field of the form says which zone a typed time is read in.

    Django reads a typed date-time in the active time zone (the user's, else settings.TIME_ZONE), so
    the field names that zone, as of the request that builds the form: in its help text, or, with
    `zone_in_label` (Nautobot's filter drawer shows no help text), in its label.
    """

    zone_in_label = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Add the zone to every date-time field's help text (or label)."""
        super().__init__(*args, **kwargs)
        help_text, name = zone_help_text(), dj_timezone.get_current_timezone_name()
        for field in self.fields.values():
            if not isinstance(field, forms.DateTimeField):
                continue
            if self.zone_in_label:
                field.label = f"{field.label} ({name})"
            else:
                field.help_text = f"{field.help_text} {help_text}" if field.help_text else help_text
