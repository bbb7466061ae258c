"""The questions asked of the records, each answered once.

What "finished", "active", "upcoming" and "needs attention" mean for a maintenance, and what "needs triage" means
for a notification.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, DateTimeField, Exists, F, OuterRef, Q, When
from django.utils import timezone
from nautobot.apps.models import RestrictedQuerySet

from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices, MaintenanceStatusChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.compat.releases import cable_paths_lookup
from nautobot_ssot_circuit_maintenance.config import app_settings
from nautobot_ssot_circuit_maintenance.mail.packing import parser_version

# A maintenance in one of these states is over, whatever its windows say.
FINISHED_STATUSES = (MaintenanceStatusChoices.CANCELLED, MaintenanceStatusChoices.COMPLETED)


class CircuitMaintenanceQuerySet(RestrictedQuerySet):
    """The questions asked of maintenances, each answered in one place.

    A superseded maintenance (a newer one of the provider `replaces` it) is over like a cancelled one: the work
    moved to the newer ticket. It is never upcoming, ongoing or in need of attention, and its live state is cancelled.
    """

    def superseded_condition(self) -> Q:
        """The condition of a maintenance that a newer one replaces (a subquery: no row is repeated)."""
        return Q(pk__in=self.model.objects.filter(replaces__isnull=False).values("replaces"))

    def superseded(self) -> CircuitMaintenanceQuerySet:
        """Those a newer maintenance of the provider replaces."""
        return self.filter(self.superseded_condition())

    def unfinished(self) -> CircuitMaintenanceQuerySet:
        """Neither cancelled nor completed, nor superseded."""
        return self.exclude(status__in=FINISHED_STATUSES).exclude(self.superseded_condition())

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

    def open_first(self, *, now: datetime | None = None) -> CircuitMaintenanceQuerySet:
        """In the order an operator reads a list: what is still a concern first, soonest first, then what is over.

        Still a concern: unfinished, and not ended or overrunning (as `needs_attention`, acknowledged or not), by
        start; over (ended, cancelled, completed): the latest first.
        """
        now = now or timezone.now()
        concern = (
            ~Q(status__in=FINISHED_STATUSES)
            & ~self.superseded_condition()
            & (Q(end_time__gte=now) | Q(status=MaintenanceStatusChoices.IN_PROCESS))
        )
        return self.annotate(
            concern_start=Case(When(concern, then=F("start_time")), default=None, output_field=DateTimeField())
        ).order_by(F("concern_start").asc(nulls_last=True), "-start_time", "maintenance_id")

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

        reaching = f"circuit_impacts__circuit__circuit_terminations__{cable_paths_lookup()}__destination_id__in"
        return self.filter(pk__in=self.model.objects.filter(**{reaching: interfaces}).values("pk"))

    def needs_attention(self, *, now: datetime | None = None) -> CircuitMaintenanceQuerySet:
        """Not acknowledged, and still someone's concern: unfinished and not ended, or overrunning.

        Overrunning: the provider said IN-PROCESS and never COMPLETED. The one meaning of "unacknowledged" for the
        list badge, the `unacknowledged` filter, the overview panel and its per-provider counts;
        `CircuitMaintenance.needs_attention` is its row-level twin.
        """
        now = now or timezone.now()
        return (
            self.unfinished()
            .filter(ack=False)
            .filter(Q(end_time__gte=now) | Q(status=MaintenanceStatusChoices.IN_PROCESS))
        )

    def ongoing(self, *, now: datetime | None = None) -> CircuitMaintenanceQuerySet:
        """Active at `now` (in progress or overrunning): `maybe_active` narrowed by `is_active` (few rows)."""
        now = now or timezone.now()
        candidates = self.maybe_active(now=now).prefetch_related("superseded_by")  # `is_active` asks: one query
        return self.filter(pk__in=[m.pk for m in candidates if m.is_active(now)])

    def in_live_state(
        self, states: list[str] | tuple[str, ...], *, now: datetime | None = None, soon_hours: float | None = None
    ) -> CircuitMaintenanceQuerySet:
        """Those whose `current_live_state` is one of `states`: narrowed in SQL, decided in Python on the few left.

        Computed, not read from the recorded `live_state` field, which may lag the clock until the next run of the
        live-state job: a filter must agree with the badge the pages show.
        """
        now = now or timezone.now()
        hours = starting_soon_hours() if soon_hours is None else float(soon_hours)
        state, wanted = LiveStateChoices, set(states)
        decided, undecided = _live_state_in_sql(now, hours, self.superseded_condition())
        candidates = Q(pk__in=[])
        for value in wanted & set(decided):
            candidates |= decided[value]
        if {state.IN_PROGRESS, state.STARTING_SOON, state.UPCOMING} & wanted:
            # The rest of the not-ended ones (started, or starting within the horizon: few) depend on the windows.
            rest = self.filter(undecided).prefetch_related("superseded_by")  # asked by each row's live state
            candidates |= Q(pk__in=[m.pk for m in rest if m.current_live_state(now, soon_hours=hours) in wanted])
        return self.filter(candidates)

    def live_state_unrecorded(
        self, *, now: datetime | None = None, soon_hours: float | None = None
    ) -> CircuitMaintenanceQuerySet:
        """Those whose recorded `live_state` may differ from `current_live_state` at `now`: a transition may be due.

        In SQL: every row whose state SQL decides but whose record says otherwise, and the few whose state depends on
        their windows (started, or starting within the soon horizon). Bounded by what moved, never the whole history:
        the rows are looked for among `_may_have_moved` (index scans), and only those are tested.
        """
        now = now or timezone.now()
        hours = starting_soon_hours() if soon_hours is None else float(soon_hours)
        decided, undecided = _live_state_in_sql(now, hours, self.superseded_condition())
        differs = undecided
        for value, condition in decided.items():
            differs |= condition & ~Q(live_state=value)
        return self.filter(self._may_have_moved(now)).filter(differs)

    def _may_have_moved(self, now: datetime) -> Q:
        """A condition every maintenance whose live state may differ from its record meets, each part on an index.

        The clock only moves a maintenance that is not over; one recorded as over (ended, cancelled) differs from its
        record only when it is not over after all (not ended yet, said in process), it is cancelled while recorded as
        ended, or it is recorded cancelled while neither cancelled nor superseded. Every other row is recorded ended
        or cancelled and still is: the bulk of the history, which this keeps PostgreSQL from reading (a bitmap of
        index scans: `live_state` with `status`, `end_time`, the primary key).
        """
        state, status = LiveStateChoices, MaintenanceStatusChoices
        over = (state.ENDED, state.CANCELLED)
        not_cancelled = [value for value in status.values() if value != status.CANCELLED]
        # A list, not a subquery: PostgreSQL scans an index for `id = ANY(list)` inside an OR, not for `IN (SELECT)`.
        superseded = list(self.model.objects.filter(replaces__isnull=False).values_list("replaces", flat=True))
        return (
            Q(live_state__isnull=True)
            | Q(live_state__in=[value for value in state.values() if value not in over])
            | Q(live_state=state.ENDED, status__in=[status.CANCELLED, status.IN_PROCESS])
            | Q(live_state=state.CANCELLED, status__in=not_cancelled)
            | Q(end_time__gte=now)
            | Q(pk__in=superseded)
        )


def _live_state_in_sql(now: datetime, hours: float, superseded: Q) -> tuple[dict[str, Q], Q]:
    """The live states SQL alone decides at `now`, each as a condition; and the condition of the rest.

    The rest (not ended, and started or starting within `hours`, or said IN-PROCESS) depend on the windows:
    `CircuitMaintenance.current_live_state` decides them. The conditions do not overlap. A `superseded`
    maintenance is cancelled.
    """
    state = LiveStateChoices
    not_ended = Q(end_time__gte=now) & ~Q(status__in=FINISHED_STATUSES) & ~superseded
    # Starts after the soon horizon and the provider has not said it began: surely upcoming.
    surely_upcoming = (
        not_ended & Q(start_time__gt=now + timedelta(hours=hours)) & ~Q(status=MaintenanceStatusChoices.IN_PROCESS)
    )
    decided = {
        state.CANCELLED: Q(status=MaintenanceStatusChoices.CANCELLED) | superseded,
        state.ENDED: (
            Q(status=MaintenanceStatusChoices.COMPLETED) | Q(end_time__lt=now, status__in=_OPEN_STATUSES_BUT_IN_PROCESS)
        )
        & ~superseded,
        state.OVERRUNNING: Q(status=MaintenanceStatusChoices.IN_PROCESS, end_time__lt=now) & ~superseded,
        state.UPCOMING: surely_upcoming,
    }
    return decided, not_ended & ~surely_upcoming


_OPEN_STATUSES_BUT_IN_PROCESS = [
    status
    for status in MaintenanceStatusChoices.values()
    if status not in FINISHED_STATUSES and status != MaintenanceStatusChoices.IN_PROCESS
]


def starting_soon_hours() -> float:
    """The `starting_soon_hours` app setting."""
    return float(app_settings()["starting_soon_hours"])


# Outcomes that need a person: an action in the triage queue resolves each.
TRIAGE_OUTCOMES = (
    OutcomeChoices.UNKNOWN_PROVIDER,
    OutcomeChoices.PARSING_FAILED,
    OutcomeChoices.UNKNOWN_CIDS,
    OutcomeChoices.TOO_LARGE,
    OutcomeChoices.PARSE_TIMEOUT,
    # Dismiss it, or fix the provider's addresses / the trusted authserv-ids and reprocess (re-checked then).
    OutcomeChoices.UNAUTHENTICATED,
    # Confirm or exclude it (triage, its page, REST).
    OutcomeChoices.AWAITING_CONFIRMATION,
    # Exclude it if forged, or dismiss it.
    OutcomeChoices.SEQUENCE_JUMP,
)


class RawNotificationQuerySet(RestrictedQuerySet):
    """Notifications, with the one meaning of "needs triage" and of "parsed by another parser version"."""

    def parsed_with_other_version(self, other: bool = True) -> RawNotificationQuerySet:
        """Last parsed by a circuit-maintenance-parser version other than the installed one (`other=False`: by it).

        A message the parser never read (no version recorded: over the size limit, say) is in neither.
        """
        installed = self.exclude(parser_version="")
        if other:
            return installed.exclude(parser_version=parser_version())
        return installed.filter(parser_version=parser_version())

    def needs_triage(self) -> RawNotificationQuerySet:
        """Not dismissed, with an outcome a person must resolve.

        An unknown-cids notification leaves the queue once no maintenance it fed still has an unknown
        circuit ID (the circuit was created, or an alias maps it, and the sync linked it).
        """
        parsed_model = self.model._meta.get_field("parsed_notifications").related_model  # defined below this module
        still_unknown = Exists(
            parsed_model.objects.filter(raw_notification=OuterRef("pk")).filter(
                Q(maintenance__isnull=True) | ~Q(maintenance__unresolved_circuit_ids=[])
            )
        )
        return self.filter(dismissed_at__isnull=True).filter(
            Q(outcome__in=[outcome for outcome in TRIAGE_OUTCOMES if outcome != OutcomeChoices.UNKNOWN_CIDS])
            | (Q(outcome=OutcomeChoices.UNKNOWN_CIDS) & still_unknown)
        )
