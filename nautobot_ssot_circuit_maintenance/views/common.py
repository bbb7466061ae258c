"""What the app's UI view modules share (views, views_mail, views_sources): none of them imports another."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import get_callable
from rest_framework.exceptions import MethodNotAllowed

from nautobot_ssot_circuit_maintenance.compat import csrf_failure_reason

# A Button that submits a POST: ours, as Nautobot 3.0 has no PostButton.
POST_BUTTON_TEMPLATE = "nautobot_ssot_circuit_maintenance/inc/post_button.html"


class RoutedMethodsOnly:
    """A route answers only the methods it maps (e.g. Validate: POST); others get a 405.

    Nautobot's edit mixin gives the view set Django's `get`/`put` handlers, which DRF would
    otherwise call for any route whose action does not map the method.
    """

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        if request.method.lower() not in self.action_map and request.method != "OPTIONS":
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)


class CsrfFailurePage:
    """A POST that fails the CSRF check gets Nautobot's "CSRF failure" page, 403, with the reason.

    In a DRF-based UI view set, DRF's session authentication checks CSRF and drops the user on
    failure, so the page's object lookup answered 404 instead (see compat.csrf_failure_reason).
    """

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        # Authenticate (and so check CSRF) before anything else is decided, e.g. a 405, whose page would
        # otherwise authenticate while it is rendered, outside the exception handling.
        request.user  # noqa: B018 - DRF authenticates on first access
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Any:
        reason = csrf_failure_reason(exc)
        if reason is not None:
            # The view Django's CSRF middleware answers with (Nautobot's, unless the settings name another).
            return get_callable(settings.CSRF_FAILURE_VIEW)(self.request._request, reason=reason)
        return super().handle_exception(exc)
