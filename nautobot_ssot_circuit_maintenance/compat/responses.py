"""Django and DRF: a response the app has logged itself, a failed CSRF check in a UI view set."""

from __future__ import annotations

from typing import Any

# -- Django: a response the app has logged itself -----------------------------------------------------
# Django's `django.utils.log.log_response` writes "Not Found: <path>" (and the like) for every 4xx/5xx
# answer, unless the response carries `_has_been_logged`. The calendar feed's path can hold its token,
# so the feed logs its own line without it and marks the response (tests/calendar/test_calendar.py pins this).


def mark_response_logged(response: Any) -> Any:
    """Tell Django's request logging that `response` is already logged (it then writes nothing)."""
    response._has_been_logged = True
    return response


# -- DRF: a failed CSRF check in a UI view set ----------------------------------------------------------
# Nautobot's UI view sets are DRF views (csrf_exempt for Django's middleware); DRF's session
# authentication checks CSRF itself and raises PermissionDenied("CSRF Failed: <reason>"), after which
# the request has no user, and the page renderer's object lookup answered 404. The app's view sets
# answer such a failure with Django's CSRF failure view (Nautobot's page), as a plain view would.
# tests/views/test_access.py pins the message prefix.
CSRF_FAILED_PREFIX = "CSRF Failed: "


def csrf_failure_reason(exc: BaseException) -> str | None:
    """Django's reason ("CSRF token missing.") when `exc` is DRF's CSRF refusal, else None."""
    from rest_framework.exceptions import PermissionDenied  # DRF loads Django settings: not at import

    detail = str(getattr(exc, "detail", ""))
    if isinstance(exc, PermissionDenied) and detail.startswith(CSRF_FAILED_PREFIX):
        return detail[len(CSRF_FAILED_PREFIX) :]
    return None
