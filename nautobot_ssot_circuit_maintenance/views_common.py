"""What the app's UI view modules share (views, views_mail, views_sources): none of them imports another."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import MethodNotAllowed

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
