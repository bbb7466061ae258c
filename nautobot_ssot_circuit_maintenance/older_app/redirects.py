"""The older app's addresses, answered by redirects to the pages that replace them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View

from nautobot_ssot_circuit_maintenance.models import ParsedNotification
from nautobot_ssot_circuit_maintenance.sync.jobs import CircuitMaintenanceDataSource


class LegacyJobRedirectView(LoginRequiredMixin, View):
    """`maintenance/job/` started the older app's job: the sync job's Run page."""

    def get(self, request: Any) -> Any:
        """Redirect to the sync job's Run page."""
        return redirect(
            reverse("extras:job_run_by_class_path", kwargs={"class_path": CircuitMaintenanceDataSource.class_path})
        )


class LegacyParsedNotificationRedirectView(LoginRequiredMixin, View):
    """`parsednotification/<id>/` had its own page: the notification it was read from shows the parser's output."""

    def get(self, request: Any, pk: Any) -> Any:
        """Redirect to the page of the notification the parsed notice was read from."""
        parsed = get_object_or_404(ParsedNotification.objects.select_related("raw_notification"), pk=pk)
        return redirect(parsed.raw_notification.get_absolute_url())
