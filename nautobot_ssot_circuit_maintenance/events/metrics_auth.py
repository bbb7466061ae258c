"""Require a logged-in user or an API token for nautobot-capacity-metrics' app-metrics endpoint.

Nautobot's own `/metrics/` is protected by `METRICS_AUTHENTICATED = True`; nautobot-capacity-metrics
(4.x) has no such setting and serves `/api/plugins/capacity-metrics/app-metrics` to anyone, and this
app's metrics there name circuits and which are under maintenance. Add this middleware to
`MIDDLEWARE` (after Django's AuthenticationMiddleware, which is where Nautobot puts it) to refuse
anonymous scrapes: Prometheus then sends `Authorization: Token <key>` (see docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import AuthenticationFailed

# URL names (any namespace) of the endpoints to protect.
PROTECTED_URL_NAMES = frozenset({"nautobot_capacity_metrics_app_view"})


class MetricsAuthenticationMiddleware:
    """Answer 401 to an anonymous or wrongly authenticated request for a protected metrics endpoint."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        """Keep the next handler in the middleware chain."""
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Pass the request on: the check is made in `process_view`, once the URL is resolved."""
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any) -> Any:
        """Let a protected endpoint through only to a logged-in user or a valid API token; else 401."""
        match = getattr(request, "resolver_match", None)
        if match is None or match.url_name not in PROTECTED_URL_NAMES:
            return None
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            return None
        from nautobot.core.api.authentication import TokenAuthentication

        try:
            authenticated = TokenAuthentication().authenticate(request)
        except AuthenticationFailed as error:
            return self._refuse(str(error.detail))
        if authenticated is None:
            return self._refuse("Authentication credentials were not provided.")
        request.user = authenticated[0]
        return None

    @staticmethod
    def _refuse(detail: str) -> HttpResponse:
        response = JsonResponse({"detail": detail}, status=401)
        response["WWW-Authenticate"] = "Token"
        return response
