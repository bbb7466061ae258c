"""What the app does about a maintenance outside Nautobot.

The Alertmanager silences it keeps (actions/silences.py), the action rules people write (tell someone, run a
job, at a live-state transition or a moment around the window) and each time a rule fired for a maintenance
(actions/runs.py).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse
from nautobot.apps.models import BaseModel, PrimaryModel

from nautobot_ssot_circuit_maintenance.choices import (
    ActionKindChoices,
    ActionOccasionChoices,
    ActionRunStatusChoices,
    ImpactChoices,
    LiveStateChoices,
)
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
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


# A rule fires at most a week before the start or after the end.
MAX_OFFSET_MINUTES = 7 * 24 * 60


def _check_list(value: object, allowed: set[str], what: str) -> None:
    if not isinstance(value, list) or any(item not in allowed for item in value):
        raise ValidationError(f"a list of {what}: {', '.join(sorted(allowed))}")


def validate_transitions(value: object) -> None:
    """A JSON list of live states a maintenance can enter (`LiveStateChoices.TRANSITIONS`)."""
    _check_list(value, set(LiveStateChoices.TRANSITIONS), "live states")


def validate_impacts(value: object) -> None:
    """A JSON list of impacts (`ImpactChoices`)."""
    _check_list(value, set(ImpactChoices.values()), "impacts")


class ActionRule(PrimaryModel):
    """Tell someone (a message through apprise) or run a Job, for the maintenances it matches, at its occasion.

    Change-logged. Which maintenances: empty lists match any; a location matches a maintenance reaching it or a
    location inside it. When: a live-state transition (`transitions`, empty: any), or `offset_minutes` before the
    start or after the end. The message's destination is an apprise URL read from `secrets_group` (its URL-type
    secret) when the rule fires: it holds credentials, so it is never stored here nor shown.
    """

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    kind = models.CharField(max_length=20, choices=ActionKindChoices, default=ActionKindChoices.NOTIFY)
    occasion = models.CharField(max_length=20, choices=ActionOccasionChoices, default=ActionOccasionChoices.TRANSITION)
    transitions = models.JSONField(default=list, blank=True, validators=[validate_transitions])
    offset_minutes = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(MAX_OFFSET_MINUTES)], verbose_name="Offset (minutes)"
    )
    providers = models.ManyToManyField("circuits.Provider", blank=True, related_name="+")
    locations = models.ManyToManyField("dcim.Location", blank=True, related_name="+")
    tenants = models.ManyToManyField("tenancy.Tenant", blank=True, related_name="+")
    impacts = models.JSONField(default=list, blank=True, validators=[validate_impacts])
    # None: either; True: only acknowledged maintenances; False: only those nobody acknowledged.
    acknowledged = models.BooleanField(null=True, blank=True, default=None)
    secrets_group = models.ForeignKey(
        "extras.SecretsGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Its URL-type secret is the apprise URL of the destination (Slack, Teams, mailto://, json://…)",
    )
    subject_template = models.CharField(max_length=255, blank=True)
    body_template = models.TextField(blank=True)
    job = models.ForeignKey(
        "extras.Job",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Run with the maintenance as its `maintenance` input",
    )

    class Meta:
        """Meta attributes."""

        ordering = ("name",)
        verbose_name = "action rule"

    def __str__(self):
        """The rule's name."""
        return self.name

    def get_absolute_url(self, api: bool = False) -> str:
        """The rule's page, or its REST API endpoint with `api`."""
        if api:
            return reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:actionrule-detail", args=[self.pk])
        return reverse(f"{URL_NAMESPACE}:actionrule", args=[self.pk])

    def clean(self) -> None:
        """A message rule needs its destination and body, a job rule its job; a moment rule has no transitions."""
        super().clean()
        if self.kind == ActionKindChoices.NOTIFY and self.secrets_group_id is None:
            raise ValidationError({"secrets_group": "A message needs a destination: a SecretsGroup with a URL secret."})
        if self.kind == ActionKindChoices.NOTIFY and not self.body_template.strip():
            raise ValidationError({"body_template": "A message needs a body."})
        if self.kind == ActionKindChoices.JOB and self.job_id is None:
            raise ValidationError({"job": "Choose the job to run."})
        if self.occasion != ActionOccasionChoices.TRANSITION and self.transitions:
            raise ValidationError({"transitions": "Transitions apply only to rules that fire at a transition."})


class ActionRun(BaseModel):
    """One firing of a rule for a maintenance at one occasion: unique, so that it fires once whoever runs it.

    `occasion` names the moment: a transition as `<state> at <when it was recorded>` (a maintenance that starts
    again after a reschedule has a new one), a moment as `before-start at <due time>` (a reschedule before it fired
    makes a new moment; the old one never fires). Bookkeeping written by `actions/runs.py` under the row's lock.
    `result` is what the destination or the job answered, scrubbed of the destination's secrets.
    """

    rule = models.ForeignKey(ActionRule, on_delete=models.CASCADE, related_name="runs")
    maintenance = models.ForeignKey(CircuitMaintenance, on_delete=models.CASCADE, related_name="action_runs")
    occasion = models.CharField(max_length=100)
    due = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=ActionRunStatusChoices, default=ActionRunStatusChoices.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt = models.DateTimeField(null=True, blank=True, db_index=True)
    last_attempt = models.DateTimeField(null=True, blank=True)
    result = models.TextField(blank=True)

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False

    class Meta:
        """Meta attributes."""

        ordering = ("maintenance", "due")
        unique_together = (("rule", "maintenance", "occasion"),)
        verbose_name = "action run"

    def __str__(self):
        """The rule and its occasion."""
        return f"{self.rule} ({self.occasion})"

    def get_status_class(self) -> str:
        """The Bootstrap colour of the status badge."""
        return ActionRunStatusChoices.CSS_CLASSES.get(self.status, "secondary")
