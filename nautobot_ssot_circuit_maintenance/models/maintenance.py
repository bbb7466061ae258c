"""A maintenance and what hangs on it.

The circuits it impacts, its notes, the flags it raises, the aliases that map a provider's circuit IDs, and the
calendar feed tokens that publish it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from nautobot.apps.models import (
    BaseManager,
    BaseModel,
    ChangeLoggedModel,
    OrganizationalModel,
    PrimaryModel,
    TagsField,
    extras_features,
)

from nautobot_ssot_circuit_maintenance.choices import (
    FlagKindChoices,
    ImpactChoices,
    LiveStateChoices,
    MaintenanceStatusChoices,
    NoteLevelChoices,
)
from nautobot_ssot_circuit_maintenance.compat.changelog import change_context_user
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.display import format_provider_window, format_utc
from nautobot_ssot_circuit_maintenance.models.querysets import (
    FINISHED_STATUSES,
    CircuitMaintenanceQuerySet,
    starting_soon_hours,
)
from nautobot_ssot_circuit_maintenance.validation import (
    circuit_id_problem,
    normalize_cid,
    validate_circuit_ids,
    validate_windows,
)
from nautobot_ssot_circuit_maintenance.zones import zone_info

# Longest page heading of a maintenance: Nautobot's detail title reads `page_title` (the full name is in its panel).
PAGE_TITLE_LENGTH = 32
# A name longer than this without a space is an identifier, not a name a person reads (see `label`).
OPAQUE_NAME_LENGTH = 24
NOTE_TITLE_LENGTH = 200
# A second alias of a provider that compares equal to one it has (the UI, the REST API and a race at save time).
DUPLICATE_ALIAS = "That circuit ID already has an alias for this provider"


# In GraphQL through `graphql/types.py` (its live state and who acknowledged it), not a generated type.
@extras_features(
    "custom_links",
    "custom_validators",
    "export_templates",
    "relationships",
    "webhooks",
)
class CircuitMaintenance(PrimaryModel):
    """One planned work of a provider, as its notifications describe it today.

    Identity is (provider, maintenance_id); everything else comes from folding the
    notifications in order (see `intake/fold.py`), except `ack`, which belongs to the operator.
    """

    provider = models.ForeignKey("circuits.Provider", on_delete=models.PROTECT, related_name="circuit_maintenances")
    maintenance_id = models.CharField(max_length=255, verbose_name="Maintenance ID")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=MaintenanceStatusChoices, default=MaintenanceStatusChoices.UNKNOWN, db_index=True
    )
    start_time = models.DateTimeField(db_index=True)
    # Indexed: "not over yet" (end after now) is how every page and the sync find the few live ones among years.
    end_time = models.DateTimeField(db_index=True)
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
    # The live state as last recorded (`current_live_state` is what it is now): changed only by a change-logged
    # save at each transition (events/live.py), so Webhooks, Job Hooks and event brokers see it; null until recorded.
    # Null and blank: None is "not recorded yet" (full_clean must pass it); no state is ever "".
    # Indexed with `status` (Meta.indexes): how the rows whose record may lag are found (`live_state_unrecorded`).
    live_state = models.CharField(  # pylint: disable=nb-string-field-blank-null
        max_length=20, choices=LiveStateChoices, null=True, blank=True, default=None, editable=False
    )
    # When each live state was last entered and announced to the event brokers ({"starting-soon": iso time, ...};
    # "skipped (stale)" when noticed too late to announce); see events/live.py.
    # Written with queryset.update(): bookkeeping, not a change of the maintenance.
    live_events = models.JSONField(default=dict, blank=True, editable=False)
    # The zone the provider writes its times in, from the newest notice that gives one and verified against its
    # window (zones.py: `Europe/Paris`, `CET (UTC+01:00)`, `UTC+02:00`); "" when none is known. Set by the sync.
    provider_time_zone = models.CharField(max_length=64, blank=True, editable=False)
    # The provider's older maintenance this one replaces (a new ticket for the same work): set by the sync when a
    # notice names the older ticket, or by a person; the older one is then superseded (models/querysets.py).
    replaces = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="superseded_by",
        help_text="The provider's older maintenance this one replaces (a new ticket for the same work).",
    )
    # A person set (or cleared) `replaces`: the sync never changes it again.
    replaces_by_person = models.BooleanField(default=False, editable=False)

    objects = BaseManager.from_queryset(CircuitMaintenanceQuerySet)()

    natural_key_field_names = ["provider", "maintenance_id"]

    class Meta:
        """Meta attributes."""

        ordering = ("-start_time", "maintenance_id")
        unique_together = (("provider", "maintenance_id"),)
        verbose_name = "circuit maintenance"
        # What a run and the pages ask of years of maintenances, each answered from an index.
        indexes = [
            # The recorded live state that may lag the clock (`CircuitMaintenanceQuerySet.live_state_unrecorded`).
            models.Index(fields=["live_state", "status"], name="cm_live_state_status_idx"),
            # What a run changed (its flags and notices are refreshed): written since it started.
            models.Index(fields=["last_updated"], name="cm_last_updated_idx"),
            # The few with circuit IDs still unknown, looked up again on every run (intake/resolve.py).
            models.Index(
                fields=["start_time"], name="cm_unresolved_cids_idx", condition=~models.Q(unresolved_circuit_ids=[])
            ),
        ]

    def __str__(self):
        """The maintenance as a person reads it (`label`)."""
        return self.label

    @property
    def label(self) -> str:
        """The name a person reads: the provider's name for it, unless that is an opaque identifier.

        For an identifier (AWS writes a 64-hex-digit hash): the provider, the day it starts (UTC) and the
        identifier's first characters. The whole identifier stays on the maintenance's page, one click away.
        """
        if len(self.name) <= OPAQUE_NAME_LENGTH or any(character.isspace() for character in self.name):
            return self.name
        return f"{self.provider.name} {self.start_time.astimezone(dt_timezone.utc):%Y-%m-%d} ({self.name[:8]}…)"

    @property
    def page_title(self) -> str:
        """The page heading (Nautobot's `Titles` read it): the label, cut where it would run under the search box."""
        label = self.label
        return label if len(label) <= PAGE_TITLE_LENGTH else label[: PAGE_TITLE_LENGTH - 1] + "…"

    def get_absolute_url(self, api: bool = False) -> str:
        """The maintenance's UI page, or its REST API endpoint with `api`."""
        if api:
            return reverse(
                "plugins-api:nautobot_ssot_circuit_maintenance-api:circuitmaintenance-detail", args=[self.pk]
            )
        return reverse(f"{URL_NAMESPACE}:circuitmaintenance", args=[self.pk])

    @property
    def window_times(self) -> list[tuple[datetime, datetime]]:
        """Every window as (start, end) datetimes; the overall span when no window is stored."""
        if not self.windows:
            return [(self.start_time, self.end_time)]
        return [(datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"])) for w in self.windows]

    def provider_windows(self) -> list[str]:
        """Each window in the provider's zone beside UTC ("2026-12-08 03:00–05:00 CET (02:00–04:00 UTC)").

        Empty when the provider's zone is not known (zones.py names it or nothing is shown).
        """
        zone = zone_info(self.provider_time_zone)
        if zone is None:
            return []
        return [format_provider_window(start, end, zone) for start, end in self.window_times]

    def clean(self) -> None:
        """Refuse a `replaces` that is this maintenance, another provider's, or one that replaces this one."""
        super().clean()
        if self.replaces_id is None:
            return
        older = self.replaces
        if self.pk is not None and older.pk == self.pk:
            raise ValidationError({"replaces": "A maintenance cannot replace itself."})
        if self.provider_id and older.provider_id != self.provider_id:
            raise ValidationError({"replaces": f"{older} is another provider's maintenance."})
        if self.pk is not None and older.replaces_id == self.pk:
            raise ValidationError({"replaces": f"{older} replaces this maintenance already."})

    @property
    def superseding(self) -> CircuitMaintenance | None:
        """The newest maintenance that replaces this one (None when none does); uses a prefetch of `superseded_by`."""
        newer = sorted(self.superseded_by.all(), key=lambda other: (other.start_time, str(other.pk)))
        return newer[-1] if newer else None

    @property
    def is_superseded(self) -> bool:
        """Whether a newer maintenance of the provider replaces this one (then it is over, like a cancelled one).

        An unsaved instance is replaced by nothing (the live state computed for a row, as migration 0018 does, asks
        no question of a table that may not have the link yet); a prefetch of `superseded_by` is used when there.
        """
        if self._state.adding:
            return False
        prefetched = getattr(self, "_prefetched_objects_cache", {})
        if "superseded_by" in prefetched:
            return bool(prefetched["superseded_by"])
        return self.superseded_by.exists()

    @property
    def is_finished(self) -> bool:
        """Whether the provider said it is COMPLETED or CANCELLED, or a newer maintenance replaces it."""
        return self.status in FINISHED_STATUSES or self.is_superseded

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
        """Remember whether the row was loaded acknowledged, so `save` stamps only a new acknowledgement."""
        instance = super().from_db(db, field_names, values)
        instance._ack_as_loaded = instance.__dict__.get("ack", False)
        return instance

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Clear who and when with `ack`; stamp them from the change context when `ack` is newly set."""
        # Edit forms, bulk edit and the REST API set `ack` alone: record who and when from the change context.
        if not self.ack:
            self.acknowledged_by = None
            self.acknowledged_at = None
        elif self.acknowledged_at is None and not getattr(self, "_ack_as_loaded", False):
            self.acknowledged_at = timezone.now()
            if self.acknowledged_by_id is None:
                self.acknowledged_by = change_context_user()
        super().save(*args, **kwargs)

    def is_active(self, now: datetime | None = None) -> bool:
        """In progress by the provider's word, or one of its windows (not the gap between nights) contains `now`."""
        if self.is_finished:
            return False
        if self.status == MaintenanceStatusChoices.IN_PROCESS:
            return True
        now = now or timezone.now()
        return any(start <= now <= end for start, end in self.window_times)

    def current_live_state(self, now: datetime | None = None, *, soon_hours: float | None = None) -> str:
        """Where the maintenance stands at `now` (a `LiveStateChoices` value), beside the provider's status.

        The one definition of the live state; the `live_state` field is what was last recorded of it (at the
        transitions, by events/live.py), and may lag it until the next run of the live-state job or the sync.

        Cancelled stays cancelled and COMPLETED is ended. Otherwise: in progress while `is_active` and not past
        the end; overrunning when the provider said IN-PROCESS and the end has passed with no COMPLETED; ended
        when the end has passed; starting soon when the next window starts within `soon_hours` (the
        `starting_soon_hours` setting); upcoming before that. Between two windows it waits for the next one.
        """
        now = now or timezone.now()
        if self.status == MaintenanceStatusChoices.CANCELLED or self.is_superseded:
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
        """The live state at `now` (computed, not the recorded field) as a person reads it."""
        return LiveStateChoices.as_dict()[self.current_live_state(now)]

    def get_live_state_class(self, now: datetime | None = None) -> str:
        """The badge class of the live state at `now`."""
        return LiveStateChoices.CSS_CLASSES[self.current_live_state(now)]

    def get_live_state_style(self, now: datetime | None = None) -> str:
        """The inline style of the live state at `now`, if any (the stripes of overrunning)."""
        return LiveStateChoices.CSS_STYLES.get(self.current_live_state(now), "")

    def get_status_class(self) -> str:
        """The badge class of the provider's status."""
        return MaintenanceStatusChoices.CSS_CLASSES.get(self.status, "secondary")


@extras_features("custom_links", "custom_validators", "export_templates", "graphql", "webhooks")
class CircuitImpact(OrganizationalModel):
    """How one maintenance affects one circuit."""

    maintenance = models.ForeignKey(CircuitMaintenance, on_delete=models.CASCADE, related_name="circuit_impacts")
    circuit = models.ForeignKey("circuits.Circuit", on_delete=models.CASCADE, related_name="circuit_impacts")
    impact = models.CharField(max_length=20, choices=ImpactChoices, default=ImpactChoices.OUTAGE)

    natural_key_field_names = ["maintenance", "circuit"]

    class Meta:
        """Meta attributes."""

        ordering = ("maintenance", "circuit")
        unique_together = (("maintenance", "circuit"),)

    def __str__(self):
        """The maintenance, the circuit and the impact."""
        return f"{self.maintenance}: {self.circuit} ({self.impact})"

    def get_impact_class(self) -> str:
        """The badge class of the impact."""
        return ImpactChoices.CSS_CLASSES.get(self.impact, "secondary")


@extras_features("custom_links", "export_templates", "graphql", "webhooks")
class MaintenanceNote(OrganizationalModel):
    """A remark on a maintenance: written by the sync (e.g. an unknown circuit ID) or by an operator.

    Named apart from Nautobot's own ``extras.Note`` (object notes); the REST and UI endpoint stays
    ``note/`` as in the older app.
    """

    maintenance = models.ForeignKey(CircuitMaintenance, on_delete=models.CASCADE, related_name="maintenance_notes")
    title = models.CharField(max_length=NOTE_TITLE_LENGTH)
    level = models.CharField(max_length=20, choices=NoteLevelChoices, default=NoteLevelChoices.INFO)
    comment = models.TextField(blank=True)

    class Meta:
        """Meta attributes."""

        ordering = ("maintenance", "created")
        verbose_name = "maintenance note"

    def __str__(self):
        """The note's title."""
        return self.title


class CircuitAlias(BaseModel, ChangeLoggedModel):
    """A circuit ID as a provider writes it, mapped by a person to a Nautobot circuit; future notices match it.

    Change-logged wherever it is written (the triage queue, the alias pages, the REST API). `clean` holds the rules
    every writer goes through: a readable circuit ID, a circuit of the alias's own provider, one alias per
    provider and normalized form.
    """

    provider = models.ForeignKey("circuits.Provider", on_delete=models.CASCADE, related_name="circuit_aliases")
    alias = models.CharField(max_length=255, help_text="The circuit ID as the provider's notices write it.")
    # `fold.normalize_cid(alias)`: how the sync compares circuit IDs.
    normalized = models.CharField(max_length=255, editable=False)
    circuit = models.ForeignKey("circuits.Circuit", on_delete=models.CASCADE, related_name="circuit_aliases")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept from before the alias was change-logged (ChangeLoggedModel's own `created` may be null).
    created = models.DateTimeField(auto_now_add=True)

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False
    natural_key_field_names = ["provider", "normalized"]

    class Meta:
        """Meta attributes."""

        ordering = ("provider", "normalized")
        unique_together = (("provider", "normalized"),)
        verbose_name = "circuit alias"
        verbose_name_plural = "circuit aliases"

    def __str__(self):
        """The alias and the circuit it means."""
        return f"{self.alias} → {self.circuit}"

    def get_absolute_url(self, api: bool = False) -> str:
        """The alias's UI page, or its REST API endpoint with `api`."""
        if api:
            return reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:circuitalias-detail", args=[self.pk])
        return reverse(f"{URL_NAMESPACE}:circuitalias", args=[self.pk])

    def clean(self) -> None:
        """Refuse an unreadable alias or another provider's circuit; tidy the alias.

        `normalized` is set here, so uniqueness is then checked on the form the sync compares.
        """
        super().clean()
        problem = circuit_id_problem(self.alias)
        if problem:
            raise ValidationError({"alias": f"The circuit ID {problem}."})
        self.tidy()
        if self.provider_id and self.circuit_id:
            circuits = self._meta.get_field("circuit").related_model.objects
            circuit = circuits.filter(pk=self.circuit_id).only("cid", "provider_id").first()
            if circuit is not None and circuit.provider_id != self.provider_id:
                raise ValidationError({"circuit": f"Circuit {circuit.cid} is not a circuit of the alias's provider."})

    def unique_error_message(self, model_class: Any, unique_check: Any) -> ValidationError:
        """Say what a duplicate is in the words of the triage queue, not Django's "Provider and Normalized"."""
        if tuple(unique_check) == ("provider", "normalized"):
            return ValidationError(f"{DUPLICATE_ALIAS} (compared as {self.normalized!r}).", code="unique_together")
        return super().unique_error_message(model_class, unique_check)

    def tidy(self) -> None:
        """Runs of whitespace in the alias as one space, and `normalized` as the sync compares it."""
        self.alias = " ".join(self.alias.split())
        self.normalized = normalize_cid(self.alias)

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Store the alias tidied, with its normalized form (the REST API validates a copy: tidied again here)."""
        self.tidy()
        super().save(*args, **kwargs)


@extras_features("graphql")
class MaintenanceFlag(BaseModel):
    """A location isolated or down to its last circuit (or a device cut off) while maintenances overlap.

    Derived data: rebuilt by `flags/store.py` after every sync (and by the flag job), never edited, not
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
        """Meta attributes."""

        ordering = ("start_time", "kind")

    def __str__(self):
        """The flag's name, what it flags and when it starts (in UTC: the change log stores it)."""
        return f"{self.label}: {self.scope} {format_utc(self.start_time)}"

    @property
    def scope(self) -> Any:
        """The location or the device flagged."""
        return self.location or self.device

    @property
    def is_isolation(self) -> bool:
        """Whether the flag is an isolation, not a lost redundancy."""
        return self.kind == FlagKindChoices.ISOLATION

    def get_kind_class(self) -> str:
        """The badge class of the flag's kind."""
        return FlagKindChoices.CSS_CLASSES[self.kind]

    @property
    def label(self) -> str:
        """The flag's name as shown: "Isolation" / "Lost redundancy"; a device that is isolated is "Cut off"."""
        if self.is_isolation and self.device_id:
            return "Cut off"
        return self.get_kind_display()
