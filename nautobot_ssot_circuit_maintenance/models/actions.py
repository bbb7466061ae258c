"""What the app did about a maintenance outside Nautobot: the Alertmanager silences it keeps (actions/silences.py)."""

from __future__ import annotations

from django.db import models
from nautobot.apps.models import BaseModel

from nautobot_ssot_circuit_maintenance.models.maintenance import CircuitMaintenance


class MaintenanceSilence(BaseModel):
    """The Alertmanager silence kept for one window of a maintenance, as it was last posted.

    Bookkeeping, written only by `actions/silences.py` under the maintenance's row lock, not change-logged. The
    maintenance is set to null when it is deleted, so the row still names the silence to expire.
    """

    maintenance = models.ForeignKey(
        CircuitMaintenance, on_delete=models.SET_NULL, null=True, blank=True, related_name="silences"
    )
    # The window's position among the maintenance's windows ordered by start (0 for the first).
    window = models.PositiveIntegerField()
    silence_id = models.CharField(max_length=64, verbose_name="Silence ID")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    matchers = models.JSONField(default=list)
    posted = models.DateTimeField(auto_now=True)

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False

    class Meta:
        """Meta attributes."""

        ordering = ("maintenance", "window")
        unique_together = (("maintenance", "window"),)
        verbose_name = "maintenance silence"

    def __str__(self):
        """The silence's ID and the window it covers."""
        return f"Silence {self.silence_id} (window {self.window + 1})"
