"""What the app tells customers: a notice per affected tenant, its recipients, its templates and per-tenant settings.

Drafted by `customers/drafts.py`, approved by a person (`customers/approval.py`), sent by `customers/send.py`.
A notice and its templates and settings are change-logged; a recipient row is the send's bookkeeping (its state
machine is what keeps a message from leaving twice) and is written only under its row lock.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.dispatch import Signal
from django.urls import reverse
from nautobot.apps.models import ApprovableModelMixin, BaseModel, PrimaryModel, extras_features

from nautobot_ssot_circuit_maintenance.choices import (
    ImpactChoices,
    NoticeKindChoices,
    NoticeStateChoices,
    RecipientStateChoices,
)
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.display import format_utc
from nautobot_ssot_circuit_maintenance.models.maintenance import CircuitMaintenance
from nautobot_ssot_circuit_maintenance.validation import validate_email_list, validate_jinja2

# A customer notice's approval workflow moved (keyword arguments: notice, workflow, event = "initiated", "approved"
# or "ended"): sent by the notice's workflow hooks, answered by customers/approval.py (connected in signals.py).
workflow_decided = Signal()

SUBJECT_LENGTH = 255


def _url(name: str, pk: object, api: bool) -> str:
    if api:
        return reverse(f"plugins-api:nautobot_ssot_circuit_maintenance-api:{name}-detail", args=[pk])
    return reverse(f"{URL_NAMESPACE}:{name}", args=[pk])


@extras_features("custom_links", "export_templates", "graphql", "webhooks")
class CustomerNoticeTemplate(PrimaryModel):
    """The subject and body of customer notices, as Jinja2 (Nautobot's sandbox), for a tenant, a provider or all.

    A tenant's template wins over a provider's, which wins over one for neither; without any, the app's own
    (customers/default_notice.txt) is used.
    """

    name = models.CharField(max_length=100, unique=True)
    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.CASCADE, null=True, blank=True, related_name="+", help_text="For this tenant"
    )
    provider = models.ForeignKey(
        "circuits.Provider",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="For maintenances of this provider",
    )
    subject = models.CharField(max_length=SUBJECT_LENGTH, validators=[validate_jinja2])
    body = models.TextField(validators=[validate_jinja2])

    class Meta:
        """Meta attributes."""

        ordering = ("name",)
        verbose_name = "customer notice template"

    def __str__(self):
        """The template's name."""
        return self.name

    def get_absolute_url(self, api: bool = False) -> str:
        """The template's page, or its REST API endpoint with `api`."""
        return _url("customernoticetemplate", self.pk, api)


@extras_features("custom_links", "export_templates", "graphql", "webhooks")
class TenantNoticeSettings(PrimaryModel):
    """How one tenant is told about maintenances: whether at all, and who receives them instead of its contacts."""

    tenant = models.OneToOneField(
        "tenancy.Tenant", on_delete=models.CASCADE, related_name="maintenance_notice_settings"
    )
    notify = models.BooleanField(default=True, help_text="Draft maintenance notices for this tenant")
    # When not empty, these addresses receive the tenant's notices instead of its contacts and teams.
    recipients = models.JSONField(default=list, blank=True, validators=[validate_email_list])

    class Meta:
        """Meta attributes."""

        ordering = ("tenant",)
        verbose_name = "tenant notice settings"
        verbose_name_plural = "tenant notice settings"

    def __str__(self):
        """Whose settings these are."""
        return f"Notice settings of {self.tenant}"

    def get_absolute_url(self, api: bool = False) -> str:
        """The settings' page, or their REST API endpoint with `api`."""
        return _url("tenantnoticesettings", self.pk, api)


# In GraphQL through `graphql/types.py` (who approved it, its recipients), not a generated type.
@extras_features("custom_links", "export_templates", "webhooks")
class CustomerNotice(ApprovableModelMixin, PrimaryModel):
    """What one tenant is told about the maintenances that hit it in overlapping windows: drafted, approved, sent.

    `basis` is what the notice was drafted from (each maintenance's status, windows and impact on the tenant) and
    `fingerprint` its digest: a redraft that finds the same fingerprint changes nothing. A notice rewritten after
    approval goes back to draft; a notice already sent is followed by a new one (`follows`), never rewritten.
    """

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="maintenance_notices")
    maintenances = models.ManyToManyField(CircuitMaintenance, related_name="customer_notices", blank=True)
    state = models.CharField(
        max_length=20, choices=NoticeStateChoices, default=NoticeStateChoices.DRAFT, db_index=True, editable=False
    )
    kind = models.CharField(max_length=20, choices=NoticeKindChoices, default=NoticeKindChoices.NEW)
    impact = models.CharField(max_length=20, choices=ImpactChoices, default=ImpactChoices.OUTAGE)
    start_time = models.DateTimeField(db_index=True)
    end_time = models.DateTimeField()
    subject = models.CharField(max_length=SUBJECT_LENGTH)
    body = models.TextField()
    # The iCalendar attached (calendar/ical.py), as sent.
    calendar = models.TextField(blank=True, editable=False)
    basis = models.JSONField(default=dict, blank=True, editable=False)
    fingerprint = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    follows = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups", editable=False
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        """Meta attributes."""

        ordering = ("-start_time", "tenant")
        verbose_name = "customer notice"
        permissions = (
            ("approve_customernotice", "Can approve customer notices for sending"),
            ("send_customernotice", "Can send (and resend) approved customer notices"),
        )

    def __str__(self):
        """The tenant, what the notice announces and when."""
        return f"{self.tenant}: {self.get_kind_display()} {format_utc(self.start_time)}"

    def get_absolute_url(self, api: bool = False) -> str:
        """The notice's page, or its REST API endpoint with `api`."""
        return _url("customernotice", self.pk, api)

    def get_state_class(self) -> str:
        """The badge class of the state."""
        return NoticeStateChoices.CSS_CLASSES[self.state]

    def get_kind_class(self) -> str:
        """The badge class of the kind."""
        return NoticeKindChoices.CSS_CLASSES[self.kind]

    def get_impact_class(self) -> str:
        """The badge class of the impact."""
        return ImpactChoices.CSS_CLASSES.get(self.impact, "secondary")

    # Nautobot's approval workflow calls these (ApprovableModelMixin). The feature that acts on them imports the
    # models, so they announce the event (`workflow_decided`) and customers/approval.py, connected in signals.py,
    # does the work.
    def on_workflow_initiated(self, approval_workflow: object) -> None:
        """A workflow started: the notice awaits its decision."""
        workflow_decided.send(sender=CustomerNotice, notice=self, workflow=approval_workflow, event="initiated")

    def on_workflow_approved(self, approval_workflow: object) -> None:
        """The workflow approved the notice: it may be sent."""
        workflow_decided.send(sender=CustomerNotice, notice=self, workflow=approval_workflow, event="approved")

    def on_workflow_denied(self, approval_workflow: object) -> None:
        """The workflow denied it: back to draft."""
        workflow_decided.send(sender=CustomerNotice, notice=self, workflow=approval_workflow, event="ended")

    def on_workflow_canceled(self, approval_workflow: object) -> None:
        """The workflow was cancelled: back to draft."""
        workflow_decided.send(sender=CustomerNotice, notice=self, workflow=approval_workflow, event="ended")


class CustomerNoticeRecipient(BaseModel):
    """One address a notice goes to, with what became of it (the server's answer when refused).

    The send's state machine: a worker claims a pending row (pending → sending) in a committed transaction under
    the row's lock before it talks to the SMTP server, and records the outcome after. A row left in `sending` by a
    worker that died is never sent again by itself (`unknown`): only a person's resend does.
    """

    notice = models.ForeignKey(CustomerNotice, on_delete=models.CASCADE, related_name="recipients")
    address = models.EmailField()
    name = models.CharField(max_length=255, blank=True)
    # Where the address came from: a contact, a team, or the tenant's settings.
    via = models.CharField(max_length=255, blank=True)
    state = models.CharField(
        max_length=20, choices=RecipientStateChoices, default=RecipientStateChoices.PENDING, db_index=True
    )
    answer = models.TextField(blank=True, help_text="What the mail server answered")
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False

    class Meta:
        """Meta attributes."""

        ordering = ("notice", "address")
        unique_together = (("notice", "address"),)
        verbose_name = "customer notice recipient"

    def __str__(self):
        """The address and its state."""
        return f"{self.address} ({self.get_state_display()})"

    def get_state_class(self) -> str:
        """The badge class of the state."""
        return RecipientStateChoices.CSS_CLASSES[self.state]
