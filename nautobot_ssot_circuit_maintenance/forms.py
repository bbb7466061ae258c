"""Forms: list filters, the operator's edit forms."""

from __future__ import annotations

from typing import Any

from django import forms
from nautobot.apps.constants import BOOLEAN_WITH_BLANK_CHOICES
from nautobot.apps.forms import (
    BootstrapMixin,
    BulkEditNullBooleanSelect,
    DateTimePicker,
    DynamicModelChoiceField,
    DynamicModelMultipleChoiceField,
    NautobotBulkEditForm,
    NautobotFilterForm,
    NautobotModelForm,
    StaticSelect2,
    StaticSelect2Multiple,
    TagFilterField,
    TagsBulkEditFormMixin,
    add_blank_choice,
)
from nautobot.circuits.models import Circuit, Provider
from nautobot.dcim.models import Device, Location
from nautobot.extras.models import Job, SecretsGroup
from nautobot.tenancy.models import Tenant

from nautobot_ssot_circuit_maintenance.choices import (
    ActionKindChoices,
    ActionOccasionChoices,
    FlagKindChoices,
    ImpactChoices,
    LiveStateChoices,
    MaintenanceStatusChoices,
    NoteLevelChoices,
    NoticeKindChoices,
    NoticeStateChoices,
    OutcomeChoices,
)
from nautobot_ssot_circuit_maintenance.compat.changelog import change_context_user
from nautobot_ssot_circuit_maintenance.decisions.actions import held_values, hold_person_edits
from nautobot_ssot_circuit_maintenance.models import (
    ActionRule,
    CircuitImpact,
    CircuitMaintenance,
    CustomerNotice,
    CustomerNoticeTemplate,
    MaintenanceNote,
    NoticeTemplate,
    NotificationSource,
    RawNotification,
    TenantNoticeSettings,
)
from nautobot_ssot_circuit_maintenance.notice_templates.spec import SPEC_FIELDS as NOTICE_TEMPLATE_FIELDS
from nautobot_ssot_circuit_maintenance.ui import ZonedTimesMixin
from nautobot_ssot_circuit_maintenance.validation import MAX_DAYS, StrictNullBooleanField, contains_nul

#
# Filter form fields: they read the same query parameters as the filter set, so they take the same
# shapes (a list for a multi-value date filter) and refuse what the filter refuses.
#


class DateTimeListPicker(DateTimePicker):
    """The date-time picker for a multi-value filter: shows the last value given."""

    def format_value(self, value: Any) -> str | None:
        """Show the last of several values."""
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else None
        return super().format_value(value)


class DateTimeFilterField(forms.DateTimeField):
    """A date-time filter field that accepts the list the multi-value date filters read (`?start_time__gte=...`)."""

    widget = DateTimeListPicker

    def to_python(self, value: Any) -> Any:
        """A list of date-times for a repeated parameter, blank items dropped; else one date-time."""
        if isinstance(value, (list, tuple)):
            return [super(DateTimeFilterField, self).to_python(item) for item in value if item]
        return super().to_python(value)

    def validate(self, value: Any) -> None:
        """Validate each date-time of the list."""
        for item in value if isinstance(value, list) else [value]:
            super().validate(item)

    def run_validators(self, value: Any) -> None:
        """Run the validators on each date-time of the list."""
        for item in value if isinstance(value, list) else [value]:
            super().run_validators(item)


class NulFreeFilterFormMixin:
    """A filter form drops query values holding NUL before it renders them.

    The filter set has already refused them (the list shows that error); rendering them would make
    the model-choice widgets look the value up in PostgreSQL, which cannot compare NUL.
    """

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        """Drop the query values holding NUL before the form is bound."""
        if data is not None:
            pairs = data.lists() if hasattr(data, "lists") else data.items()
            refused = [key for key, value in pairs if contains_nul(value)]
            if refused:
                data = data.copy()
                for key in refused:
                    data.pop(key)
        super().__init__(data, *args, **kwargs)


def boolean_filter_field(label: str) -> StrictNullBooleanField:
    """A true/false/blank filter field that refuses anything else."""
    return StrictNullBooleanField(required=False, label=label, widget=StaticSelect2(choices=BOOLEAN_WITH_BLANK_CHOICES))


#
# Circuit Maintenance
#


class CircuitMaintenanceForm(ZonedTimesMixin, NautobotModelForm):
    """A maintenance entered by hand, or manual corrections of one.

    Provider and maintenance ID are its identity: set on creation, not editable afterwards.
    The sync owns status, times and circuits and may overwrite them with the next notification;
    `ack` is the operator's alone.
    """

    provider = DynamicModelChoiceField(queryset=Provider.objects.all())
    replaces = DynamicModelChoiceField(
        queryset=CircuitMaintenance.objects.all(),
        required=False,
        label="Replaces",
        help_text="The provider's older maintenance this one replaces (a new ticket for the same work). Set or "
        "cleared here, it is yours: notices never change it again.",
    )

    class Meta:
        """Meta attributes."""

        model = CircuitMaintenance
        fields = [  # pylint: disable=nb-use-fields-all  # what a person may edit; the rest is the mail's or the sync's
            "provider",
            "maintenance_id",
            "name",
            "ack",
            "description",
            "status",
            "start_time",
            "end_time",
            "replaces",
            "tags",
        ]
        widgets = {
            "start_time": DateTimePicker(),
            "end_time": DateTimePicker(),
        }
        help_texts = {
            "status": "Set by the sync from the provider's notifications. Changed here (or the times), it holds over "
            "later notifications as an override, until released on the maintenance's Override page.",
            "ack": "The maintenance has been reviewed by an operator.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Leave an existing maintenance's provider and ID out (the sync matches on them); note its held values."""
        super().__init__(*args, **kwargs)
        self.held_before = None
        if self.instance.present_in_database:
            # The identity of an existing maintenance: the sync matches notifications on it.
            del self.fields["provider"]
            del self.fields["maintenance_id"]
            self.held_before = held_values(self.instance)
            # Only the same provider's other maintenances (the model's clean refuses the rest).
            self.fields["replaces"].queryset = CircuitMaintenance.objects.filter(
                provider=self.instance.provider_id
            ).exclude(pk=self.instance.pk)
            self.fields["replaces"].widget.add_query_param("provider", str(self.instance.provider_id))

    def save(self, commit: bool = True) -> CircuitMaintenance:
        """Saved; a person's change of the status or times (an override) or of `replaces` holds over later notices."""
        if "replaces" in self.changed_data:
            self.instance.replaces_by_person = True
        instance = super().save(commit=commit)
        if commit and self.held_before is not None:
            hold_person_edits(instance, self.held_before, change_context_user())
        return instance


# Longest acknowledgement comment (kept as a maintenance note's comment).
ACK_COMMENT_LENGTH = 1000


class AcknowledgementForm(BootstrapMixin, forms.Form):
    """The optional comment of an acknowledgement, or of taking one back (on the page and for selected rows)."""

    comment = forms.CharField(
        required=False,
        max_length=ACK_COMMENT_LENGTH,
        help_text="Kept as a note on the maintenance, with your name and the time.",
    )

    def clean_comment(self) -> str:
        """The comment, refused when it holds a NUL."""
        comment = self.cleaned_data["comment"]
        if contains_nul(comment):
            raise forms.ValidationError("The comment cannot hold NUL characters.")
        return comment


class CircuitMaintenanceBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Acknowledge (or un-acknowledge) many maintenances at once."""

    pk = forms.ModelMultipleChoiceField(queryset=CircuitMaintenance.objects.all(), widget=forms.MultipleHiddenInput)
    ack = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect, label="Acknowledged")

    class Meta:
        """Meta attributes."""

        nullable_fields = []


class CircuitMaintenanceFilterForm(NulFreeFilterFormMixin, ZonedTimesMixin, NautobotFilterForm):
    """Filters of the maintenance list."""

    zone_in_label = True

    model = CircuitMaintenance
    field_order = [
        "q",
        "provider",
        "circuit",
        "location",
        "device",
        "tenant",
        "flag",
        "status",
        "live_state",
        "ongoing",
        "upcoming_within_days",
        "unacknowledged",
        "ack",
        "start_time__gte",
        "start_time__lte",
    ]
    q = forms.CharField(required=False, label="Search")
    provider = DynamicModelMultipleChoiceField(queryset=Provider.objects.all(), to_field_name="name", required=False)
    circuit = DynamicModelMultipleChoiceField(
        queryset=Circuit.objects.all(),
        to_field_name="cid",
        required=False,
        query_params={"provider": "$provider"},
    )
    location = DynamicModelMultipleChoiceField(
        queryset=Location.objects.all(), required=False, label="Location (and those under it)"
    )
    device = DynamicModelMultipleChoiceField(queryset=Device.objects.all(), required=False)
    tenant = DynamicModelMultipleChoiceField(queryset=Tenant.objects.all(), to_field_name="name", required=False)
    flag = forms.MultipleChoiceField(choices=FlagKindChoices, required=False, widget=StaticSelect2Multiple())
    status = forms.MultipleChoiceField(choices=MaintenanceStatusChoices, required=False, widget=StaticSelect2Multiple())
    live_state = forms.MultipleChoiceField(
        choices=LiveStateChoices, required=False, widget=StaticSelect2Multiple(), label="Live state"
    )
    ongoing = boolean_filter_field("Ongoing now")
    upcoming_within_days = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_DAYS, label="Starting within (days)"
    )
    unacknowledged = boolean_filter_field("Unacknowledged and not over")
    ack = boolean_filter_field("Acknowledged")
    has_unresolved_circuit_ids = boolean_filter_field("Has unresolved circuit IDs")
    start_time__gte = DateTimeFilterField(required=False, label="Starts after")
    start_time__lte = DateTimeFilterField(required=False, label="Starts before")
    end_time__gte = DateTimeFilterField(required=False, label="Ends after")
    end_time__lte = DateTimeFilterField(required=False, label="Ends before")
    tags = TagFilterField(model)


#
# Circuit Impact
#


class CircuitImpactForm(NautobotModelForm):
    """Edit one circuit's impact."""

    maintenance = DynamicModelChoiceField(queryset=CircuitMaintenance.objects.all())
    circuit = DynamicModelChoiceField(queryset=Circuit.objects.all())

    class Meta:
        """Meta attributes."""

        model = CircuitImpact
        fields = ["maintenance", "circuit", "impact"]  # pylint: disable=nb-use-fields-all  # what a person may edit; the rest is the mail's or the sync's


class CircuitImpactBulkEditForm(NautobotBulkEditForm):
    """Change the impact of many circuits at once."""

    pk = forms.ModelMultipleChoiceField(queryset=CircuitImpact.objects.all(), widget=forms.MultipleHiddenInput)
    impact = forms.ChoiceField(choices=add_blank_choice(ImpactChoices), required=False, widget=StaticSelect2())

    class Meta:
        """Meta attributes."""

        nullable_fields = []


class CircuitImpactFilterForm(NulFreeFilterFormMixin, NautobotFilterForm):
    """Filters of the circuit-impact list."""

    model = CircuitImpact
    q = forms.CharField(required=False, label="Search")
    maintenance = DynamicModelMultipleChoiceField(queryset=CircuitMaintenance.objects.all(), required=False)
    circuit = DynamicModelMultipleChoiceField(queryset=Circuit.objects.all(), to_field_name="cid", required=False)
    impact = forms.MultipleChoiceField(choices=ImpactChoices, required=False, widget=StaticSelect2Multiple())


#
# MaintenanceNote
#


class MaintenanceNoteForm(NautobotModelForm):
    """Edit a maintenance note."""

    maintenance = DynamicModelChoiceField(queryset=CircuitMaintenance.objects.all())

    class Meta:
        """Meta attributes."""

        model = MaintenanceNote
        fields = ["maintenance", "title", "level", "comment"]  # pylint: disable=nb-use-fields-all  # what a person may edit; the rest is the mail's or the sync's


class MaintenanceNoteBulkEditForm(NautobotBulkEditForm):
    """Change the level of many notes at once."""

    pk = forms.ModelMultipleChoiceField(queryset=MaintenanceNote.objects.all(), widget=forms.MultipleHiddenInput)
    level = forms.ChoiceField(choices=add_blank_choice(NoteLevelChoices), required=False, widget=StaticSelect2())

    class Meta:
        """Meta attributes."""

        nullable_fields = []


class MaintenanceNoteFilterForm(NulFreeFilterFormMixin, NautobotFilterForm):
    """Filters of the note list."""

    model = MaintenanceNote
    q = forms.CharField(required=False, label="Search")
    maintenance = DynamicModelMultipleChoiceField(queryset=CircuitMaintenance.objects.all(), required=False)
    level = forms.MultipleChoiceField(choices=NoteLevelChoices, required=False, widget=StaticSelect2Multiple())


#
# Notification Source
#


class NotificationSourceForm(NautobotModelForm):
    """Sources come from the app's configuration; only the providers they serve are edited here."""

    providers = DynamicModelMultipleChoiceField(queryset=Provider.objects.all(), required=False)

    class Meta:
        """Meta attributes."""

        model = NotificationSource
        fields = ["providers"]  # pylint: disable=nb-use-fields-all  # what a person may edit; the rest is the mail's or the sync's


class NotificationSourceFilterForm(NulFreeFilterFormMixin, NautobotFilterForm):
    """Filters of the source list."""

    model = NotificationSource
    q = forms.CharField(required=False, label="Search")
    providers = DynamicModelMultipleChoiceField(queryset=Provider.objects.all(), to_field_name="name", required=False)


#
# Raw Notification (read-only)
#


class RawNotificationFilterForm(NulFreeFilterFormMixin, ZonedTimesMixin, BootstrapMixin, forms.Form):
    """Filters of the raw-notification list (a plain model: no custom fields or relationships)."""

    zone_in_label = True

    model = RawNotification
    field_order = ["q", "source", "provider", "outcome", "date__gte", "date__lte", "parser_version", "parser_outdated"]
    q = forms.CharField(required=False, label="Search")
    source = DynamicModelMultipleChoiceField(
        queryset=NotificationSource.objects.all(), to_field_name="name", required=False
    )
    provider = DynamicModelMultipleChoiceField(queryset=Provider.objects.all(), to_field_name="name", required=False)
    outcome = forms.MultipleChoiceField(choices=OutcomeChoices, required=False, widget=StaticSelect2Multiple())
    date__gte = DateTimeFilterField(required=False, label="Received after")
    date__lte = DateTimeFilterField(required=False, label="Received before")
    parser_version = forms.MultipleChoiceField(
        required=False, label="Parser version", widget=StaticSelect2Multiple(), help_text="circuit-maintenance-parser"
    )
    parser_outdated = boolean_filter_field("Parsed with another parser version than the installed one")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Offer the parser versions the stored notifications were parsed with."""
        super().__init__(*args, **kwargs)
        self.fields["parser_version"].choices = [(v, v) for v in RawNotification.parser_versions()]


class MultipleFileInput(forms.ClearableFileInput):
    """A file input that lets the user pick several files."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """One or more files from one input."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Accept .eml files through a multiple-file input."""
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".eml,message/rfc822"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        """Every file given, each cleaned as a FileField cleans one; required means at least one."""
        items = [item for item in (data if isinstance(data, (list, tuple)) else [data]) if item]
        if not items:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class NotificationUploadForm(BootstrapMixin, forms.Form):
    """`.eml` files to take through the push path (watch/push.py), like mail a sync fetched."""

    files = MultipleFileField(label="Messages (.eml)", help_text="One raw RFC 822 message per file.")
    process_now = forms.BooleanField(
        required=False, initial=True, label="Process now", help_text="Run the sync for them now, not at the next run."
    )


class NoticeTemplateForm(BootstrapMixin, forms.ModelForm):
    """A provider's notice template; `NoticeTemplate.clean` names what is wrong, field by field."""

    provider = DynamicModelChoiceField(queryset=Provider.objects.all())

    class Meta:
        """Meta attributes."""

        model = NoticeTemplate
        fields = ("provider", "description", *NOTICE_TEMPLATE_FIELDS)
        widgets = {
            "date_formats": forms.Textarea(attrs={"rows": 3}),
            "status_words": forms.Textarea(attrs={"rows": 4}),
            "impact_words": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """A regular expression's spaces are part of it: its fields keep them."""
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name.endswith("_pattern"):
                field.strip = False


class NoticeTemplateFilterForm(NulFreeFilterFormMixin, BootstrapMixin, forms.Form):
    """The template list's filter form: search text and provider."""

    model = NoticeTemplate
    q = forms.CharField(required=False, label="Search")
    provider = DynamicModelMultipleChoiceField(queryset=Provider.objects.all(), to_field_name="name", required=False)


class NoticeTemplateImportForm(BootstrapMixin, forms.Form):
    """A template's JSON file (as its Export downloads it) to save as its provider's template."""

    file = forms.FileField(label="Template (.json)", help_text="A file a notice template's Export downloaded.")


#
# Customer notices
#


class CustomerNoticeFilterForm(NulFreeFilterFormMixin, NautobotFilterForm):
    """Filters of the customer notice list."""

    model = CustomerNotice
    q = forms.CharField(required=False, label="Search")
    tenant = DynamicModelMultipleChoiceField(queryset=Tenant.objects.all(), to_field_name="name", required=False)
    maintenance = DynamicModelMultipleChoiceField(queryset=CircuitMaintenance.objects.all(), required=False)
    state = forms.MultipleChoiceField(choices=NoticeStateChoices, required=False, widget=StaticSelect2Multiple())
    kind = forms.MultipleChoiceField(choices=NoticeKindChoices, required=False, widget=StaticSelect2Multiple())
    impact = forms.MultipleChoiceField(choices=ImpactChoices, required=False, widget=StaticSelect2Multiple())


class CustomerNoticeTemplateForm(NautobotModelForm):
    """Edit a customer notice template (Jinja2, rendered in Nautobot's sandbox)."""

    tenant = DynamicModelChoiceField(queryset=Tenant.objects.all(), required=False)
    provider = DynamicModelChoiceField(queryset=Provider.objects.all(), required=False)

    class Meta:
        """Meta attributes."""

        model = CustomerNoticeTemplate
        fields = ["name", "tenant", "provider", "subject", "body", "tags"]  # pylint: disable=nb-use-fields-all  # what a person edits
        widgets = {"body": forms.Textarea(attrs={"rows": 20, "class": "font-monospace"})}


class CustomerNoticeTemplateFilterForm(NulFreeFilterFormMixin, NautobotFilterForm):
    """Filters of the template list."""

    model = CustomerNoticeTemplate
    q = forms.CharField(required=False, label="Search")
    tenant = DynamicModelMultipleChoiceField(queryset=Tenant.objects.all(), to_field_name="name", required=False)
    provider = DynamicModelMultipleChoiceField(queryset=Provider.objects.all(), to_field_name="name", required=False)


class AddressListField(forms.CharField):
    """E-mail addresses, one per line (or separated by commas), as a list; the model validates each one."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value: Any) -> Any:
        """A stored list shown one address per line."""
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        """The addresses typed, without blanks."""
        text = super().to_python(value) or ""
        return [part for part in text.replace(",", "\n").split() if part]


class TenantNoticeSettingsForm(NautobotModelForm):
    """Edit how a tenant is told about maintenances."""

    tenant = DynamicModelChoiceField(queryset=Tenant.objects.all())
    recipients = AddressListField(
        required=False,
        help_text="One address per line. When given, these receive the tenant's notices instead of its contacts.",
    )

    class Meta:
        """Meta attributes."""

        model = TenantNoticeSettings
        fields = ["tenant", "notify", "recipients", "tags"]  # pylint: disable=nb-use-fields-all  # what a person edits


class TenantNoticeSettingsFilterForm(NulFreeFilterFormMixin, NautobotFilterForm):
    """Filters of the tenant notice settings list."""

    model = TenantNoticeSettings
    q = forms.CharField(required=False, label="Search")
    tenant = DynamicModelMultipleChoiceField(queryset=Tenant.objects.all(), to_field_name="name", required=False)


#
# Action rule
#

TRANSITION_CHOICES = [(state, LiveStateChoices.as_dict()[state]) for state in LiveStateChoices.TRANSITIONS]
ACKNOWLEDGED_CHOICES = (("", "Either"), ("true", "Only acknowledged"), ("false", "Only not acknowledged"))


class ActionRuleForm(NautobotModelForm):
    """Edit an action rule: which maintenances, when, and what (a message to a destination, or a job)."""

    transitions = forms.MultipleChoiceField(
        choices=TRANSITION_CHOICES,
        required=False,
        widget=StaticSelect2Multiple(),
        help_text="At a transition: the live states it fires on entering (none: every one)",
    )
    providers = DynamicModelMultipleChoiceField(queryset=Provider.objects.all(), required=False)
    locations = DynamicModelMultipleChoiceField(
        queryset=Location.objects.all(), required=False, help_text="A maintenance reaching one of them or a place in it"
    )
    tenants = DynamicModelMultipleChoiceField(queryset=Tenant.objects.all(), required=False)
    impacts = forms.MultipleChoiceField(choices=ImpactChoices, required=False, widget=StaticSelect2Multiple())
    acknowledged = forms.NullBooleanField(
        required=False, widget=StaticSelect2(choices=ACKNOWLEDGED_CHOICES), label="Acknowledged"
    )
    secrets_group = DynamicModelChoiceField(
        queryset=SecretsGroup.objects.all(),
        required=False,
        label="Destination",
        help_text="A SecretsGroup whose URL-type secret is the apprise URL (slack://, workflows://, mailto://, json://)",
    )
    job = DynamicModelChoiceField(
        queryset=Job.objects.all(), required=False, help_text="It receives the maintenance as its `maintenance` input"
    )

    class Meta:
        """Meta attributes."""

        model = ActionRule
        fields = [  # pylint: disable=nb-use-fields-all  # in the order a person fills them
            "name",
            "enabled",
            "kind",
            "occasion",
            "transitions",
            "offset_minutes",
            "providers",
            "locations",
            "tenants",
            "impacts",
            "acknowledged",
            "secrets_group",
            "subject_template",
            "body_template",
            "job",
            "tags",
        ]


class ActionRuleBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    """Enable or disable many rules at once."""

    pk = forms.ModelMultipleChoiceField(queryset=ActionRule.objects.all(), widget=forms.MultipleHiddenInput)
    enabled = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect())

    class Meta:
        """Meta attributes."""

        nullable_fields = []


class ActionRuleFilterForm(NulFreeFilterFormMixin, NautobotFilterForm):
    """Filters of the rule list."""

    model = ActionRule
    q = forms.CharField(required=False, label="Search")
    kind = forms.MultipleChoiceField(choices=ActionKindChoices, required=False, widget=StaticSelect2Multiple())
    occasion = forms.MultipleChoiceField(choices=ActionOccasionChoices, required=False, widget=StaticSelect2Multiple())
    enabled = forms.NullBooleanField(required=False, widget=StaticSelect2(choices=BOOLEAN_WITH_BLANK_CHOICES))
    providers = DynamicModelMultipleChoiceField(queryset=Provider.objects.all(), required=False, to_field_name="name")
    tags = TagFilterField(model)
