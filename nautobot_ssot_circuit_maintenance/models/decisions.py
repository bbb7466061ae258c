"""What a person decided about a maintenance, which no notice overrules.

An override of what the notices say, and the deletion of a maintenance (its notices so far never bring it back).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from nautobot.apps.models import BaseModel

from nautobot_ssot_circuit_maintenance.choices import MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.display import format_local_windows
from nautobot_ssot_circuit_maintenance.models.maintenance import CircuitMaintenance
from nautobot_ssot_circuit_maintenance.validation import validate_windows


class MaintenanceOverride(BaseModel):
    """A person's word on a maintenance's status and/or windows, held until a person releases it.

    Later notices are still stored and folded; where they disagree with the override the maintenance keeps the
    override and gets a note saying what the notice would have changed.
    """

    maintenance = models.OneToOneField(CircuitMaintenance, on_delete=models.CASCADE, related_name="override")
    # "" when the status is not overridden.
    status = models.CharField(max_length=20, choices=MaintenanceStatusChoices, blank=True)
    # [] when the windows are not overridden; else [{"start": iso, "end": iso}, ...] sorted.
    windows = models.JSONField(default=list, blank=True, validators=[validate_windows])
    # None when the circuits are not overridden; else {circuit pk (str): impact} (the provider's circuits).
    circuits = models.JSONField(null=True, blank=True, default=None)
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(auto_now=True)

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False

    class Meta:
        """Meta attributes."""

        verbose_name = "maintenance override"

    def __str__(self):
        """Which maintenance the override holds."""
        return f"Override of {self.maintenance}"

    @property
    def window_times(self) -> list[tuple[datetime, datetime]]:
        """The override's windows as (start, end) datetimes."""
        return [(datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"])) for w in self.windows]

    def describe(self) -> str:
        """What it holds, in words, for the person reading (times in their zone): "status CANCELLED, windows …"."""
        parts = []
        if self.status:
            parts.append(f"status {self.status}")
        if self.windows:
            parts.append(f"windows {format_local_windows(self.window_times)}")
        if self.circuits is not None:
            parts.append(f"{len(self.circuits)} circuit{'s' if len(self.circuits) != 1 else ''}")
        return ", ".join(parts) or "nothing"


class DeletedMaintenance(BaseModel):
    """A maintenance a person deleted: the notices stored until then never re-create it (newer notices may)."""

    provider = models.ForeignKey("circuits.Provider", on_delete=models.CASCADE, related_name="+")
    maintenance_id = models.CharField(max_length=255)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    deleted_at = models.DateTimeField()

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False

    class Meta:
        """Meta attributes."""

        unique_together = (("provider", "maintenance_id"),)
        verbose_name = "deleted maintenance"

    def __str__(self):
        """The deleted maintenance's ID, marked as deleted."""
        return f"{self.maintenance_id} (deleted)"
