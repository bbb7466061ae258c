"""Circuit maintenances, what they impact, and the notifications they were built from.

The facts about a maintenance ("is it finished", "is it active now", its windows as times) are
written here once, as queryset methods and properties, and used by the pages, the panels, the
calendar, the metrics and the filters.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from nautobot.apps.models import (
    BaseManager,
    BaseModel,
    OrganizationalModel,
    PrimaryModel,
    RestrictedQuerySet,
    TagsField,
    extras_features,
)

from . import mail
from .choices import (
    FlagKindChoices,
    ImpactChoices,
    LiveStateChoices,
    MaintenanceStatusChoices,
    MessageKeptChoices,
    NoteLevelChoices,
    OutcomeChoices,
)
from .fold import normalize_cid
from .pipeline.bounds import MessageBounds
from .validation import validate_circuit_ids, validate_windows

# Longest page heading of a maintenance (the full name is in its panel).
PAGE_TITLE_LENGTH = 32
# A maintenance in one of these states is over, whatever its windows say.
FINISHED_STATUSES = (MaintenanceStatusChoices.CANCELLED, MaintenanceStatusChoices.COMPLETED)


class CircuitMaintenanceQuerySet(RestrictedQuerySet):
    """The questions asked of maintenances, each answered in one place."""

    def unfinished(self) -> CircuitMaintenanceQuerySet:
        """Neither cancelled nor completed."""
        return self.exclude(status__in=FINISHED_STATUSES)

    def ended_within(self, days: float, *, now: datetime | None = None) -> CircuitMaintenanceQuerySet:
        """Not ended yet, or ended at most `days` ago."""
        return self.filter(end_time__gte=(now or timezone.now()) - timedelta(days=days))

    def upcoming(self, days: float, *, now: datetime | None = None) -> CircuitMaintenanceQuerySet:
        """Unfinished, not ended, and starting within `days` (or already started)."""
        now = now or timezone.now()
        return self.unfinished().filter(end_time__gte=now, start_time__lte=now + timedelta(days=days))

    def maybe_active(self, *, now: datetime | None = None) -> CircuitMaintenanceQuerySet:
        """Those that may be active at `now` (in SQL); `CircuitMaintenance.is_active` decides between windows."""
        now = now or timezone.now()
        return self.unfinished().filter(
            Q(status=MaintenanceStatusChoices.IN_PROCESS) | Q(start_time__lte=now, end_time__gte=now)
        )

    def not_over(self, *, now: datetime | None = None) -> CircuitMaintenanceQuerySet:
        """Unfinished and not ended yet: what is active or still to come."""
        return self.unfinished().ended_within(0, now=now)

    def terminating_at(self, locations: Iterable[Any]) -> CircuitMaintenanceQuerySet:
        """Those impacting a circuit with a termination at one of `locations` or at a location under them."""
        pks = {pk for location in locations for pk in location.cacheable_descendants_pks(include_self=True)}
        return self.filter(
            pk__in=self.model.objects.filter(circuit_impacts__circuit__circuit_terminations__location__in=pks).values(
                "pk"
            )
        )

    def reaching_devices(self, devices: Iterable[Any]) -> CircuitMaintenanceQuerySet:
        """Those impacting a circuit whose terminations are cabled (through any patch panel) to these devices."""
        from nautobot.dcim.models import Interface

        interfaces = Interface.objects.filter(device__in=list(devices)).values("pk")
        return self.filter(
            pk__in=self.model.objects.filter(
                circuit_impacts__circuit__circuit_terminations__cable_paths__destination_id__in=interfaces
            ).values("pk")
        )

    def needs_attention(self, *, now: datetime | None = None) -> CircuitMaintenanceQuerySet:
        """Not acknowledged, and active or upcoming: unfinished and not ended (or in process by the provider's word)."""
        now = now or timezone.now()
        return (
            self.unfinished()
            .filter(ack=False)
            .filter(Q(end_time__gte=now) | Q(status=MaintenanceStatusChoices.IN_PROCESS))
        )

    def ongoing(self, *, now: datetime | None = None) -> CircuitMaintenanceQuerySet:
        """Active at `now` (in progress or overrunning): `maybe_active` narrowed by `is_active` (few rows)."""
        now = now or timezone.now()
        return self.filter(pk__in=[m.pk for m in self.maybe_active(now=now) if m.is_active(now)])

    def unacknowledged(self, *, now: datetime | None = None) -> CircuitMaintenanceQuerySet:
        """Not acknowledged by an operator, unfinished and not ended yet: work someone still has to look at."""
        return self.unfinished().filter(ack=False, end_time__gte=now or timezone.now())

    def in_live_state(
        self, states: list[str] | tuple[str, ...], *, now: datetime | None = None, soon_hours: float | None = None
    ) -> CircuitMaintenanceQuerySet:
        """Those whose `live_state` is one of `states`: narrowed in SQL, decided by `live_state` on the few left."""
        now = now or timezone.now()
        hours = starting_soon_hours() if soon_hours is None else float(soon_hours)
        state, wanted = LiveStateChoices, set(states)
        candidates = Q(pk__in=[])
        if state.CANCELLED in wanted:
            candidates |= Q(status=MaintenanceStatusChoices.CANCELLED)
        if state.ENDED in wanted:
            candidates |= Q(status=MaintenanceStatusChoices.COMPLETED)
            candidates |= Q(end_time__lt=now, status__in=_OPEN_STATUSES_BUT_IN_PROCESS)
        if state.OVERRUNNING in wanted:
            candidates |= Q(status=MaintenanceStatusChoices.IN_PROCESS, end_time__lt=now)
        not_ended = Q(end_time__gte=now) & ~Q(status__in=FINISHED_STATUSES)
        # Starts after the soon horizon and the provider has not said it began: surely upcoming.
        surely_upcoming = (
            not_ended & Q(start_time__gt=now + timedelta(hours=hours)) & ~Q(status=MaintenanceStatusChoices.IN_PROCESS)
        )
        if state.UPCOMING in wanted:
            candidates |= surely_upcoming
        if {state.IN_PROGRESS, state.STARTING_SOON, state.UPCOMING} & wanted:
            # The rest of the not-ended ones (started, or starting within the horizon: few) depend on the windows.
            undecided = self.filter(not_ended).exclude(surely_upcoming)
            candidates |= Q(pk__in=[m.pk for m in undecided if m.live_state(now, soon_hours=hours) in wanted])
        return self.filter(candidates)


_OPEN_STATUSES_BUT_IN_PROCESS = [
    status
    for status in MaintenanceStatusChoices.values()
    if status not in FINISHED_STATUSES and status != MaintenanceStatusChoices.IN_PROCESS
]


def starting_soon_hours() -> float:
    """The `starting_soon_hours` app setting."""
    from .config import app_settings

    return float(app_settings()["starting_soon_hours"])


@extras_features(
    "custom_links",
    "custom_validators",
    "export_templates",
    "graphql",
    "relationships",
    "webhooks",
)
class CircuitMaintenance(PrimaryModel):
    """One planned work of a provider, as its notifications describe it today.

    Identity is (provider, maintenance_id); everything else comes from folding the
    notifications in order (see `fold.py`), except `ack`, which belongs to the operator.
    """

    provider = models.ForeignKey("circuits.Provider", on_delete=models.PROTECT, related_name="circuit_maintenances")
    maintenance_id = models.CharField(max_length=255, verbose_name="Maintenance ID")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=MaintenanceStatusChoices, default=MaintenanceStatusChoices.UNKNOWN, db_index=True
    )
    start_time = models.DateTimeField(db_index=True)
    end_time = models.DateTimeField()
    # Every window of the maintenance, [{"start": iso, "end": iso}, ...] sorted; start/end span them all.
    windows = models.JSONField(default=list, blank=True, validators=[validate_windows])
    ack = models.BooleanField(default=False, verbose_name="Acknowledged")
    # Who acknowledged it and when; cleared with `ack` when the maintenance materially changes.
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name="Acknowledged at")
    # Circuit IDs the notifications name that are not (yet) circuits of this provider in Nautobot.
    unresolved_circuit_ids = models.JSONField(default=list, blank=True, validators=[validate_circuit_ids])
    # Named apart from the older app's CircuitMaintenance.tags (`Tag.circuitmaintenance_set`), so that both
    # apps can be installed side by side while its records are imported (docs/migrating.md).
    tags = TagsField(related_name="ssot_circuit_maintenances")
    # Live-state transitions already published as events ({"starting-soon": iso time, ...}); see live_events.py.
    # Written with queryset.update(): bookkeeping, not a change of the maintenance.
    live_events = models.JSONField(default=dict, blank=True, editable=False)

    objects = BaseManager.from_queryset(CircuitMaintenanceQuerySet)()

    natural_key_field_names = ["provider", "maintenance_id"]

    class Meta:
        ordering = ("-start_time", "maintenance_id")
        unique_together = (("provider", "maintenance_id"),)
        verbose_name = "circuit maintenance"

    def __str__(self):
        return self.name

    @property
    def page_title(self) -> str:
        """The page heading: a 64-character hash id would run under the search box, so long names are cut."""
        return self.name if len(self.name) <= PAGE_TITLE_LENGTH else self.name[: PAGE_TITLE_LENGTH - 1] + "…"

    def get_absolute_url(self, api: bool = False) -> str:
        if api:
            return reverse(
                "plugins-api:nautobot_ssot_circuit_maintenance-api:circuitmaintenance-detail", args=[self.pk]
            )
        return reverse("plugins:nautobot_ssot_circuit_maintenance:circuitmaintenance", args=[self.pk])

    @property
    def window_times(self) -> list[tuple[datetime, datetime]]:
        """Every window as (start, end) datetimes; the overall span when no window is stored."""
        if not self.windows:
            return [(self.start_time, self.end_time)]
        return [(datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"])) for w in self.windows]

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    def needs_attention(self, now: datetime | None = None) -> bool:
        """Not acknowledged and active or still to come (the row-level twin of the queryset method)."""
        if self.ack or self.is_finished:
            return False
        now = now or timezone.now()
        return self.status == MaintenanceStatusChoices.IN_PROCESS or self.end_time >= now

    def acknowledge(self, user: Any, now: datetime | None = None) -> None:
        """Mark as handled by `user` (not saved)."""
        self.ack = True
        self.acknowledged_by = user
        self.acknowledged_at = now or timezone.now()

    def clear_acknowledgement(self) -> bool:
        """Forget the acknowledgement (not saved); True if there was one."""
        had = self.ack
        self.ack = False
        self.acknowledged_by = None
        self.acknowledged_at = None
        return had

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> CircuitMaintenance:
        instance = super().from_db(db, field_names, values)
        instance._ack_as_loaded = instance.__dict__.get("ack", False)
        return instance

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Edit forms, bulk edit and the REST API set `ack` alone: record who and when from the change context.
        if not self.ack:
            self.acknowledged_by = None
            self.acknowledged_at = None
        elif self.acknowledged_at is None and not getattr(self, "_ack_as_loaded", False):
            self.acknowledged_at = timezone.now()
            if self.acknowledged_by_id is None:
                self.acknowledged_by = _change_context_user()
        super().save(*args, **kwargs)

    def is_active(self, now: datetime | None = None) -> bool:
        """In progress by the provider's word, or one of its windows (not the gap between nights) contains `now`."""
        if self.is_finished:
            return False
        if self.status == MaintenanceStatusChoices.IN_PROCESS:
            return True
        now = now or timezone.now()
        return any(start <= now <= end for start, end in self.window_times)

    def live_state(self, now: datetime | None = None, *, soon_hours: float | None = None) -> str:
        """Where the maintenance stands at `now` (a `LiveStateChoices` value), beside the provider's status.

        Cancelled stays cancelled and COMPLETED is ended. Otherwise: in progress while `is_active` and not past
        the end; overrunning when the provider said IN-PROCESS and the end has passed with no COMPLETED; ended
        when the end has passed; starting soon when the next window starts within `soon_hours` (the
        `starting_soon_hours` setting); upcoming before that. Between two windows it waits for the next one.
        """
        now = now or timezone.now()
        if self.status == MaintenanceStatusChoices.CANCELLED:
            return LiveStateChoices.CANCELLED
        if self.status == MaintenanceStatusChoices.COMPLETED:
            return LiveStateChoices.ENDED
        if now > self.end_time:
            if self.status == MaintenanceStatusChoices.IN_PROCESS:
                return LiveStateChoices.OVERRUNNING
            return LiveStateChoices.ENDED
        if self.is_active(now):
            return LiveStateChoices.IN_PROGRESS
        soon = timedelta(hours=starting_soon_hours() if soon_hours is None else soon_hours)
        starts = [start for start, _ in self.window_times if start > now]
        if starts and min(starts) - now <= soon:
            return LiveStateChoices.STARTING_SOON
        return LiveStateChoices.UPCOMING

    def get_live_state_display(self, now: datetime | None = None) -> str:
        return LiveStateChoices.as_dict()[self.live_state(now)]

    def get_live_state_class(self, now: datetime | None = None) -> str:
        return LiveStateChoices.CSS_CLASSES[self.live_state(now)]

    def get_live_state_style(self, now: datetime | None = None) -> str:
        return LiveStateChoices.CSS_STYLES.get(self.live_state(now), "")

    def get_status_class(self) -> str:
        return {
            MaintenanceStatusChoices.CONFIRMED: "warning",
            MaintenanceStatusChoices.TENTATIVE: "info",
            MaintenanceStatusChoices.RE_SCHEDULED: "info",
            MaintenanceStatusChoices.IN_PROCESS: "danger",
            MaintenanceStatusChoices.COMPLETED: "success",
            MaintenanceStatusChoices.CANCELLED: "secondary",
        }.get(self.status, "secondary")


def _change_context_user() -> Any:
    """The user of the current web request or job, if any."""
    from nautobot.extras.context_managers import change_context_state

    context = change_context_state.get()
    user = getattr(context, "user", None) if context is not None else None
    return user if getattr(user, "is_authenticated", False) else None


@extras_features("custom_links", "custom_validators", "export_templates", "graphql", "webhooks")
class CircuitImpact(OrganizationalModel):
    """How one maintenance affects one circuit."""

    maintenance = models.ForeignKey(CircuitMaintenance, on_delete=models.CASCADE, related_name="circuit_impacts")
    circuit = models.ForeignKey("circuits.Circuit", on_delete=models.CASCADE, related_name="circuit_impacts")
    impact = models.CharField(max_length=20, choices=ImpactChoices, default=ImpactChoices.OUTAGE)

    natural_key_field_names = ["maintenance", "circuit"]

    class Meta:
        ordering = ("maintenance", "circuit")
        unique_together = (("maintenance", "circuit"),)

    def __str__(self):
        return f"{self.maintenance}: {self.circuit} ({self.impact})"

    def get_impact_class(self) -> str:
        return ImpactChoices.CSS_CLASSES.get(self.impact, "secondary")


@extras_features("custom_links", "export_templates", "graphql", "webhooks")
class MaintenanceNote(OrganizationalModel):
    """A remark on a maintenance: written by the sync (e.g. an unknown circuit ID) or by an operator.

    Named apart from Nautobot's own ``extras.Note`` (object notes); the REST and UI endpoint stays
    ``note/`` as in the older app.
    """

    maintenance = models.ForeignKey(CircuitMaintenance, on_delete=models.CASCADE, related_name="maintenance_notes")
    title = models.CharField(max_length=200)
    level = models.CharField(max_length=20, choices=NoteLevelChoices, default=NoteLevelChoices.INFO)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ("maintenance", "created")
        verbose_name = "maintenance note"

    def __str__(self):
        return self.title


@extras_features("graphql")
class NotificationSource(OrganizationalModel):
    """A mailbox named in the app's configuration; the configuration holds its URL and secrets."""

    name = models.CharField(max_length=100, unique=True)
    # The kind of mailbox, from `sources.source_kind(url)`: imap, imaps, file or gmail; shown as the type.
    source_type = models.CharField(max_length=20, blank=True)
    providers = models.ManyToManyField("circuits.Provider", related_name="notification_sources", blank=True)
    attach_all_providers = models.BooleanField(default=False)
    # Where the last committed run stopped, per the source kind (IMAP: uidvalidity + last_uid).
    cursor = models.JSONField(default=dict, blank=True)
    last_run = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    natural_key_field_names = ["name"]

    class Meta:
        ordering = ("name",)

    def __str__(self):
        return self.name


# Outcomes that need a person: an action in the triage queue resolves each.
TRIAGE_OUTCOMES = (
    OutcomeChoices.UNKNOWN_PROVIDER,
    OutcomeChoices.PARSING_FAILED,
    OutcomeChoices.UNKNOWN_CIDS,
    OutcomeChoices.TOO_LARGE,
    OutcomeChoices.PARSE_TIMEOUT,
    # Dismiss it, or fix the provider's addresses / the trusted authserv-ids and reprocess (re-checked then).
    OutcomeChoices.UNAUTHENTICATED,
)


class RawNotificationQuerySet(RestrictedQuerySet):
    def needs_triage(self) -> RawNotificationQuerySet:
        """Not dismissed, with an outcome a person must resolve.

        An unknown-cids notification leaves the queue once no maintenance it fed still has an unknown
        circuit ID (the circuit was created, or an alias maps it, and the sync linked it).
        """
        still_unknown = Exists(
            ParsedNotification.objects.filter(raw_notification=OuterRef("pk")).filter(
                Q(maintenance__isnull=True) | ~Q(maintenance__unresolved_circuit_ids=[])
            )
        )
        return self.filter(dismissed_at__isnull=True).filter(
            Q(outcome__in=[outcome for outcome in TRIAGE_OUTCOMES if outcome != OutcomeChoices.UNKNOWN_CIDS])
            | (Q(outcome=OutcomeChoices.UNKNOWN_CIDS) & still_unknown)
        )


class RawNotification(BaseModel):
    """One fetched message and what became of it. Not change-logged; reprocessing updates its outcome."""

    source = models.ForeignKey(
        NotificationSource, on_delete=models.SET_NULL, null=True, blank=True, related_name="raw_notifications"
    )
    # Message-ID when the message has one, else a hash of its content: the same mail is stored once.
    message_key = models.CharField(max_length=255, unique=True)
    provider = models.ForeignKey(
        "circuits.Provider", on_delete=models.SET_NULL, null=True, blank=True, related_name="raw_notifications"
    )
    sender = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    date = models.DateTimeField(db_index=True)
    # The head of the message, at most `raw_notification_size` bytes: what the API and lists show.
    raw = models.BinaryField()
    # `raw` is shorter than the message.
    raw_truncated = models.BooleanField(default=False)
    # The message's size in bytes.
    raw_size = models.PositiveIntegerField(default=0)
    # The message compressed (`mail.pack`): whole, or what could be kept of it (see `message_kept`).
    message = models.BinaryField(default=b"", blank=True, editable=False)
    message_kept = models.CharField(max_length=20, choices=MessageKeptChoices, blank=True)
    # circuit-maintenance-parser's version at the last parse of this message ("" when it was never parsed).
    parser_version = models.CharField(max_length=50, blank=True)
    outcome = models.CharField(max_length=20, choices=OutcomeChoices, db_index=True)
    error = models.TextField(blank=True)
    location = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # Taken out of the triage queue by a person, with a reason.
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.CharField(max_length=500, blank=True)

    objects = BaseManager.from_queryset(RawNotificationQuerySet)()

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False
    natural_key_field_names = ["message_key"]

    class Meta:
        ordering = ("-date",)

    def __str__(self):
        return self.subject or self.message_key

    def get_absolute_url(self, api: bool = False) -> str:
        if api:
            return reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:rawnotification-detail", args=[self.pk])
        return reverse("plugins:nautobot_ssot_circuit_maintenance:rawnotification", args=[self.pk])

    @property
    def kept(self) -> str:
        """How much of the message is stored (MessageKeptChoices); rows made without `message` hold only `raw`."""
        if self.message_kept:
            return self.message_kept
        return MessageKeptChoices.TRUNCATED if self.raw_truncated else MessageKeptChoices.WHOLE

    @property
    def is_whole(self) -> bool:
        """The stored message is the whole message: it can be read and parsed again as it came."""
        return self.kept == MessageKeptChoices.WHOLE

    def message_bytes(self) -> bytes:
        """The message as stored: the whole message when `is_whole`, else the part that was kept."""
        if self.message:
            return mail.unpack(self.message, max(self.raw_size, len(self.raw or b"")))
        return bytes(self.raw or b"")

    def readable(self) -> mail.ReadableMail:
        """The message as a person reads it: decoded headers, text, sanitized HTML, attachments."""
        return mail.read_mail(self.message_bytes(), _bounds())

    def attachment(self, index: int) -> tuple[mail.Attachment, bytes] | None:
        """One attachment of the message (as `readable().attachments` lists them) with its bytes."""
        return mail.attachment(self.message_bytes(), index, _bounds())

    def get_outcome_class(self) -> str:
        return OutcomeChoices.CSS_CLASSES.get(self.outcome, "secondary")

    @property
    def sender_address(self) -> str:
        """The bare sender address, lower-cased ("" when there is none)."""
        from .providers import sender_addresses

        found = sender_addresses(self.sender)
        return found[0] if found else ""

    @property
    def needs_triage(self) -> bool:
        return RawNotification.objects.filter(pk=self.pk).needs_triage().exists()


def _bounds() -> MessageBounds:
    from .config import app_settings

    return MessageBounds.from_settings(app_settings())


class ParsedNotification(BaseModel):
    """One maintenance the parser read out of a raw notification. An immutable fact: not change-logged."""

    raw_notification = models.ForeignKey(RawNotification, on_delete=models.CASCADE, related_name="parsed_notifications")
    maintenance = models.ForeignKey(
        CircuitMaintenance,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="parsed_notifications",
    )
    # The maintenance identity, kept here so history is found even before the maintenance exists.
    provider = models.ForeignKey("circuits.Provider", on_delete=models.CASCADE, related_name="+")
    provider_maintenance_id = models.CharField(max_length=255, verbose_name="Maintenance ID")
    json = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False

    class Meta:
        ordering = ("raw_notification", "created")
        indexes = [models.Index(fields=["provider", "provider_maintenance_id"])]

    def __str__(self):
        return f"{self.provider_maintenance_id} ({self.json.get('status', '?')})"


class CircuitAlias(BaseModel):
    """A circuit ID as a provider writes it, mapped by a person to a Nautobot circuit; future notices match it.

    Change-logged through the views that write it (triage), like the circuits it points at.
    """

    provider = models.ForeignKey("circuits.Provider", on_delete=models.CASCADE, related_name="circuit_aliases")
    alias = models.CharField(max_length=255, help_text="The circuit ID as the provider's notices write it.")
    # `fold.normalize_cid(alias)`: how the sync compares circuit IDs.
    normalized = models.CharField(max_length=255, editable=False)
    circuit = models.ForeignKey("circuits.Circuit", on_delete=models.CASCADE, related_name="circuit_aliases")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False
    natural_key_field_names = ["provider", "normalized"]

    class Meta:
        ordering = ("provider", "normalized")
        unique_together = (("provider", "normalized"),)
        verbose_name = "circuit alias"
        verbose_name_plural = "circuit aliases"

    def __str__(self):
        return f"{self.alias} → {self.circuit}"

    def get_absolute_url(self, api: bool = False) -> str:
        return reverse("plugins:nautobot_ssot_circuit_maintenance:circuitalias", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        self.normalized = normalize_cid(self.alias)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.normalized = normalize_cid(self.alias)
        super().save(*args, **kwargs)


class SourceOAuthToken(BaseModel):
    """The refresh token a user granted a Gmail source through Google's consent page (OAuth client files).

    Kept apart from NotificationSource so that no serializer, form, table, GraphQL type or change
    log ever carries it: nothing but the Gmail source reads it.
    """

    source = models.OneToOneField(NotificationSource, on_delete=models.CASCADE, related_name="oauth_token")
    refresh_token = models.TextField()
    scopes = models.JSONField(default=list)
    granted_by = models.CharField(max_length=150, blank=True)
    granted = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"OAuth grant for {self.source}"


@extras_features("graphql")
class MaintenanceFlag(BaseModel):
    """A location isolated or down to its last circuit (or a device cut off) while maintenances overlap.

    Derived data: rebuilt by `flags.py` after every sync (and by the flag job), never edited, not
    change-logged. Exactly one of `location` and `device` is set.
    """

    kind = models.CharField(max_length=20, choices=FlagKindChoices, db_index=True)
    location = models.ForeignKey(
        "dcim.Location", on_delete=models.CASCADE, null=True, blank=True, related_name="circuit_maintenance_flags"
    )
    device = models.ForeignKey(
        "dcim.Device", on_delete=models.CASCADE, null=True, blank=True, related_name="circuit_maintenance_flags"
    )
    start_time = models.DateTimeField(db_index=True)
    end_time = models.DateTimeField()
    # How many circuits (location) or circuit-facing interfaces (device) there are, and which ones are down/left.
    total = models.PositiveIntegerField()
    down = models.JSONField(default=list)
    left = models.JSONField(default=list)
    # Circuits only DEGRADED or REDUCED-REDUNDANCY meanwhile (counted apart, not as down).
    impaired = models.JSONField(default=list)
    maintenances = models.ManyToManyField(CircuitMaintenance, related_name="flags")
    circuits = models.ManyToManyField("circuits.Circuit", related_name="+")
    computed = models.DateTimeField(auto_now=True)

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False

    class Meta:
        ordering = ("start_time", "kind")

    def __str__(self):
        return f"{self.label}: {self.scope} {self.start_time:%Y-%m-%d %H:%M}"

    @property
    def scope(self) -> Any:
        """The location or the device flagged."""
        return self.location or self.device

    @property
    def is_isolation(self) -> bool:
        return self.kind == FlagKindChoices.ISOLATION

    @property
    def label(self) -> str:
        """ "Isolation" / "Lost redundancy"; a device that is isolated is "Cut off"."""
        if self.is_isolation and self.device_id:
            return "Cut off"
        return self.get_kind_display()


class CalendarFeedToken(BaseModel):
    """A user's secret for the subscribable calendar feed: put in the feed's URL, good for that feed only.

    Calendar applications cannot send an Authorization header; this key stands in for it on one URL,
    and the feed it opens is what its user may view (object permissions apply). Rotating replaces it.
    """

    user = models.OneToOneField("users.User", on_delete=models.CASCADE, related_name="circuit_maintenance_feed_token")
    key = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now=True)

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False

    def __str__(self):
        return f"Calendar feed token of {self.user}"

    @staticmethod
    def new_key() -> str:
        import secrets

        return secrets.token_urlsafe(32)

    @classmethod
    def for_user(cls, user: Any, *, rotate: bool = False) -> CalendarFeedToken:
        """The user's token, made on first use; `rotate` replaces the key (the old URL stops working)."""
        token, created = cls.objects.get_or_create(user=user, defaults={"key": cls.new_key()})
        if rotate and not created:
            token.key = cls.new_key()
            token.save()
        return token


class PushedMessage(models.Model):
    """A message posted to the push endpoint or uploaded in the UI, waiting for the sync to read it.

    The built-in "pushed" source (sources/push.py) reads these in `sequence` order; its cursor is the
    last sequence committed, so nothing is read twice and nothing is skipped. A row the cursor has
    passed is stored as a RawNotification and is deleted by the next push (see push.py).
    Its `add` permission is the push permission.
    """

    sequence = models.BigAutoField(primary_key=True)
    # Same key as the RawNotification it becomes (pipeline/parse.py `message_key`): duplicates answer with it.
    message_key = models.CharField(max_length=255, unique=True)
    raw = models.BinaryField()
    received = models.DateTimeField(auto_now_add=True)
    pushed_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ("sequence",)
        verbose_name = "pushed message"

    def __str__(self):
        return f"pushed #{self.sequence}"

    @property
    def location(self) -> str:
        """Where the stored RawNotification says it came from."""
        return f"push#{self.sequence}"
