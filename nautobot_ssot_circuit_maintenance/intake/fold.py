"""Notifications → the state they imply, one maintenance at a time.

A pure function of the notifications (no database, no clock), so the same notifications in any
arrival order give the same state.

What a sender claims never outranks what we witnessed. A notice's order is (sequence, stamp, date),
all written by the sender, so each claim is held to what our side saw:

- its stamp and date count at most until `witnessed + CLOCK_SKEW` (when our mailbox received it):
  a notice dated in year 8998 is ordered as if sent when it arrived;
- its sequence counts only where it is believable: walking the notices in the order they were
  witnessed, a sequence more than `MAX_SEQUENCE_STEP` above the highest one believed so far is a
  jump (flagged for a person, see `sequence_jumps`) and ranks as that highest one; a notice whose
  sequence is not to be believed at all (an unauthenticated sender where the source asks for
  authentication) ranks the same way;
- a notice caught claiming too much (a date or stamp after its arrival plus the skew, a sequence
  jump) is *doubted*: it never outranks a notice that arrived after it, whatever either claims. So the
  genuine notices a provider sends (or sends again) after such a forgery win over it, even when they are
  dated before it. (A sender that is merely not authenticated is not doubted: its honest claims still
  order its notices, in any arrival order; the source's `confirm` policy holds its changes that matter.)

Real mail is untouched by these rules (notices are dated before they arrive, and providers count
revisions one by one), so real notices that arrive out of order still fold by what they say.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from nautobot_ssot_circuit_maintenance.choices import ImpactChoices, MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.validation import normalize_cid

NO_CHANGE = "NO-CHANGE"
# The key of a parsed maintenance under which the app keeps what it read besides the parser (intake/notice_facts.py).
APP_FACTS = "read_by_app"
KNOWN_STATUSES = {value for value, _ in MaintenanceStatusChoices.CHOICES}
# Breaks ties between notices with the same sequence, stamp and date: work moves forward, not back.
STATUS_PROGRESS = {
    MaintenanceStatusChoices.TENTATIVE: 0,
    MaintenanceStatusChoices.CONFIRMED: 1,
    MaintenanceStatusChoices.RE_SCHEDULED: 2,
    MaintenanceStatusChoices.IN_PROCESS: 3,
    MaintenanceStatusChoices.COMPLETED: 4,
    MaintenanceStatusChoices.CANCELLED: 4,
}
# How far after its arrival a notice's own date or stamp may lie (clocks of mail servers differ).
CLOCK_SKEW = timedelta(minutes=5)
# The highest sequence a first notice may carry, and the largest step above the highest sequence believed
# so far, that are believed: providers number revisions 0, 1, 2, …; 2147483647 is a claim, not a revision.
BASELINE_SEQUENCE = 1
MAX_SEQUENCE_STEP = 20
IMPACT_SEVERITY = {
    ImpactChoices.NO_IMPACT: 0,
    ImpactChoices.REDUCED_REDUNDANCY: 1,
    ImpactChoices.DEGRADED: 2,
    ImpactChoices.OUTAGE: 3,
}


def as_utc(epoch: int | float) -> datetime:
    """A parser epoch (Unix seconds) as an aware UTC datetime."""
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc)


class derived:  # noqa: N801 - used as a decorator, like `property`
    """A value computed once from a frozen notice's fields, then read as a plain attribute.

    Like `functools.cached_property`, which on Python 3.11 takes a lock on every first read: the fold ranks
    each maintenance's notices again for every new one, and these values are read millions of times.
    """

    def __init__(self, function: Any):
        """Wrap `function(notice)`."""
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        """Compute the value and keep it in the instance's dict, which Python reads before this descriptor."""
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.function(instance)
        return value


@dataclass(frozen=True)
class Notice:
    """What one notification says about one maintenance (one parser dict per window).

    `date` is the date the message claims (its Date header, else when the mailbox received it);
    `witnessed` is when our side received it (None where unknown: then claims are taken as written);
    `sequence_believed` is False for a sender whose sequence numbers are not to be believed.
    `ranked_sequence` is set by `believed`: the sequence the notice ranks with among its peers.
    Frozen: what is derived from the fields alone is computed once per notice (`derived`).
    """

    message_key: str
    date: datetime
    maintenances: tuple[dict, ...]
    witnessed: datetime | None = None
    sequence_believed: bool = True
    ranked_sequence: int | None = None
    # Set by `believed`: the notice's place among its peers (see `order`).
    rank: tuple | None = None
    # The last time the same message reached us again (the provider sent it again), if it did.
    seen_again: datetime | None = None

    @derived
    def claimed_sequence(self) -> int:
        """The highest sequence number the notice's windows claim (0 when none)."""
        return max(int(m.get("sequence") or 0) for m in self.maintenances)

    @derived
    def latest_credible(self) -> datetime | None:
        """The latest date or stamp this notice may claim: when it arrived, plus clock skew."""
        return None if self.witnessed is None else self.witnessed + CLOCK_SKEW

    @derived
    def credible_date(self) -> datetime:
        """The notice's date, held to no later than it arrived plus clock skew."""
        limit = self.latest_credible
        return self.date if limit is None else min(self.date, limit)

    @derived
    def credible_stamp(self) -> int:
        """The notice's highest stamp, held to no later than it arrived plus clock skew."""
        stamp = self.claimed_stamp
        limit = self.latest_credible
        return stamp if limit is None else min(stamp, int(limit.timestamp()))

    @derived
    def claimed_stamp(self) -> int:
        """The highest stamp the notice's windows claim (0 when none)."""
        return max(int(m.get("stamp") or 0) for m in self.maintenances)

    @derived
    def progress(self) -> int:
        """How far along the work its windows say it is (breaks ties: work moves forward, not back)."""
        return max(STATUS_PROGRESS.get(m.get("status"), 0) for m in self.maintenances)

    @property
    def claims_order(self) -> tuple:
        """Its place by what it says, each claim held to what was witnessed: newest last."""
        return self.claims_order_with(self.claimed_sequence if self.ranked_sequence is None else self.ranked_sequence)

    def claims_order_with(self, sequence: int) -> tuple:
        """`claims_order` with `sequence` as the sequence it ranks with."""
        return (sequence, self.credible_stamp, self.credible_date, self.progress, self.message_key)

    @property
    def doubted(self) -> bool:
        """It claims a date or stamp after its arrival, or a sequence that jumped."""
        return self.doubted_with(self.ranked_sequence)

    def doubted_with(self, ranked_sequence: int | None) -> bool:
        """`doubted` with `ranked_sequence` as the sequence it ranks with."""
        return (
            (self.sequence_believed and ranked_sequence is not None and ranked_sequence != self.claimed_sequence)
            or self.credible_date != self.date
            or self.credible_stamp != self.claimed_stamp
        )

    @property
    def order(self) -> tuple:
        """Where the notice ranks among its maintenance's notices (its `rank` once `believed` set it): newest last."""
        return self.rank if self.rank is not None else self.claims_order

    @derived
    def arrival(self) -> tuple:
        """When our side first received it (its credible date where that is unknown), for the sequence walk."""
        return (self.witnessed or self.credible_date, self.message_key)

    @derived
    def latest_arrival(self) -> tuple:
        """When our side last received it: a notice sent again arrives again."""
        first = self.witnessed or self.credible_date
        return (max(first, self.seen_again) if self.seen_again else first, self.message_key)


def believed(notices: Iterable[Notice]) -> list[Notice]:
    """The notices with the sequence and the rank each has among its peers (the module docstring), in arrival order.

    Pure and deterministic: it depends on the notices and their witnessed times only, never on the
    order they are given in. A rank is (claims order, 0, arrival) for a notice that is believed; a
    doubted one ranks at most just below every notice that arrived after it: (their lowest claims
    order, -1, its own arrival).
    """
    by_arrival = sorted(notices, key=lambda notice: notice.arrival)
    highest: int | None = None  # the highest sequence believed so far
    sequences = []
    for notice in by_arrival:
        claimed = notice.claimed_sequence
        limit = (BASELINE_SEQUENCE if highest is None else highest) + MAX_SEQUENCE_STEP
        if notice.sequence_believed and claimed <= limit:
            sequence = claimed
            highest = claimed if highest is None else max(highest, claimed)
        else:
            # Never above what was believed before it (nothing believed yet: never above 0).
            sequence = min(claimed, 0 if highest is None else highest)
        sequences.append(sequence)
    lowest_later: tuple | None = None  # the lowest rank of the notices that arrived after this one
    ranks: list[tuple] = [()] * len(by_arrival)
    for index in sorted(range(len(by_arrival)), key=lambda index: by_arrival[index].latest_arrival, reverse=True):
        notice, sequence = by_arrival[index], sequences[index]
        rank = (notice.claims_order_with(sequence), 0, notice.latest_arrival)
        if notice.doubted_with(sequence) and lowest_later is not None:
            rank = min(rank, (lowest_later[0], -1, notice.latest_arrival))
        lowest_later = rank if lowest_later is None else min(lowest_later, rank)
        ranks[index] = rank
    return [
        replace(notice, ranked_sequence=sequence, rank=rank)
        for notice, sequence, rank in zip(by_arrival, sequences, ranks, strict=True)
    ]


def sequence_jumps(notices: Iterable[Notice]) -> set[str]:
    """Message keys of the notices whose sequence jumped implausibly above what was seen before them."""
    return jumped(believed(notices))


def jumped(ranked: Iterable[Notice]) -> set[str]:
    """`sequence_jumps` of notices `believed` has already ranked."""
    return {
        notice.message_key
        for notice in ranked
        if notice.sequence_believed and notice.ranked_sequence != notice.claimed_sequence
    }


@dataclass
class MaintenanceState:
    """What the notices make of one maintenance: status, description, windows, circuits and deciding notice."""

    maintenance_id: str
    status: str
    description: str
    windows: list[tuple[datetime, datetime]]
    # normalised circuit ID → (circuit ID as the provider wrote it, impact)
    circuits: dict[str, tuple[str, str]] = field(default_factory=dict)
    decided_by: str = ""
    # The zone the provider writes its times in, from the newest notice that names one (zones.py); "" when none.
    time_zone: str = ""
    # The provider's older maintenance ids the newest notice that names any says this one replaces.
    replaces: tuple[str, ...] = ()

    @property
    def start_time(self) -> datetime:
        """The start of the earliest window."""
        return min(start for start, _ in self.windows)

    @property
    def end_time(self) -> datetime:
        """The end of the latest window."""
        return max(end for _, end in self.windows)


def _circuits_of(notice: Notice) -> dict[str, tuple[str, str]]:
    circuits: dict[str, tuple[str, str]] = {}
    for maintenance in notice.maintenances:
        for circuit in maintenance.get("circuits") or []:
            cid = circuit.get("circuit_id") or ""
            key = normalize_cid(cid)
            if not key:
                continue
            impact = circuit.get("impact") or ImpactChoices.OUTAGE
            if impact not in IMPACT_SEVERITY:
                impact = ImpactChoices.OUTAGE
            known = circuits.get(key)
            if known is None or IMPACT_SEVERITY[impact] > IMPACT_SEVERITY[known[1]]:
                circuits[key] = (known[0] if known else " ".join(cid.split()), impact)
    return circuits


def app_facts(maintenance: dict) -> dict:
    """What the app read out of the notice for this maintenance besides the parser (empty when nothing)."""
    facts = maintenance.get(APP_FACTS)
    return facts if isinstance(facts, dict) else {}


def _time_zone_of(notice: Notice) -> str:
    zones = sorted({str(zone) for m in notice.maintenances if (zone := app_facts(m).get("time_zone"))})
    return zones[0] if zones else ""


def _replaced_by(notice: Notice) -> tuple[str, ...]:
    named: list[str] = []
    for maintenance in notice.maintenances:
        for item in app_facts(maintenance).get("replaces") or ():
            if isinstance(item, str) and item not in named:
                named.append(item)
    return tuple(named)


def fold(notices: Iterable[Notice]) -> MaintenanceState:
    """The state of one maintenance.

    The newest notice decides, NO-CHANGE keeps the status, a notice without circuits keeps the circuits already
    known, a notice that names no time zone (or no ticket it replaces) keeps the one already known.
    """
    return fold_ranked(believed(notices))


def fold_ranked(ranked: Iterable[Notice]) -> MaintenanceState:
    """`fold` of notices `believed` has already ranked (all of one maintenance's notices, ranked together)."""
    ordered = sorted(ranked, key=lambda notice: notice.order)
    if not ordered:
        raise ValueError("a maintenance needs at least one notice")
    status = MaintenanceStatusChoices.UNKNOWN
    description = ""
    circuits: dict[str, tuple[str, str]] = {}
    windows: list[tuple[datetime, datetime]] = []
    time_zone = ""
    replaces: tuple[str, ...] = ()
    for notice in ordered:
        time_zone = _time_zone_of(notice) or time_zone
        replaces = _replaced_by(notice) or replaces
        statuses = {m.get("status") for m in notice.maintenances}
        statuses.discard(NO_CHANGE)
        if statuses:
            # Several windows of one notice normally share a status; pick deterministically if not.
            value = sorted(statuses, key=str)[0]
            status = value if value in KNOWN_STATUSES else MaintenanceStatusChoices.UNKNOWN
        summaries = [m.get("summary") for m in notice.maintenances if m.get("summary")]
        if summaries:
            description = summaries[0]
        notice_circuits = _circuits_of(notice)
        if notice_circuits:
            circuits = notice_circuits
        notice_windows = sorted({(as_utc(m["start"]), as_utc(m["end"])) for m in notice.maintenances})
        if notice_windows:
            windows = notice_windows
    return MaintenanceState(
        maintenance_id=ordered[-1].maintenances[0]["maintenance_id"],
        status=status,
        description=description,
        windows=windows,
        circuits=circuits,
        decided_by=ordered[-1].message_key,
        time_zone=time_zone,
        replaces=replaces,
    )


def is_out_of_sequence(notice: Notice, stored: Iterable[Notice]) -> bool:
    """True when a notice already stored is newer: this one arrived late and decides nothing."""
    return outranked(notice.message_key, believed([*stored, notice]))


def outranked(message_key: str, ranked: Iterable[Notice]) -> bool:
    """Whether another of the notices `believed` ranked ranks above the one with `message_key`.

    With the stored notices and one new one ranked together, that is `is_out_of_sequence` of the new one.
    """
    ranked = list(ranked)
    mine = next(notice for notice in ranked if notice.message_key == message_key)
    return any(other.order > mine.order for other in ranked if other.message_key != message_key)


# Statuses that end a maintenance: a notice that brings one changes what matters.
ENDING_STATUSES = {MaintenanceStatusChoices.CANCELLED, MaintenanceStatusChoices.COMPLETED}


def changes_that_matter(before: MaintenanceState | None, after: MaintenanceState) -> list[str]:
    """What in `after` a person must confirm when an unauthenticated notice brings it (empty: nothing).

    A cancellation or completion, a window moved and a circuit removed matter; a new maintenance, a
    new circuit or a new description do not (they take nothing away that was known).
    """
    if before is None:
        return []
    found = []
    if after.status != before.status and after.status in ENDING_STATUSES:
        found.append(f"status {before.status} → {after.status}")
    if after.windows != before.windows:
        found.append("windows moved")
    removed = sorted(before.circuits.keys() - after.circuits.keys())
    if removed:
        found.append("circuits removed: " + ", ".join(before.circuits[key][0] for key in removed))
    return found
