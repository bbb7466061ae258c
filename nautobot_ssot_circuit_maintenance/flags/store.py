"""Isolation and lost-redundancy flags: load the groups and windows, run `isolation.analyse`, store the flags.

Groups are locations (the circuits terminating there) and devices (their circuit-facing
interfaces: those a circuit termination's cable path ends at). Which circuits count and which
locations are left out come from the `site_isolation` setting (see `config.py`).

`refresh_flags(maintenances)` recomputes only the groups those maintenances touch (and those their
existing flags name), so a sync costs in proportion to what it changed; `refresh_flags()` rebuilds
everything. A rescheduled or cancelled maintenance therefore takes its old flags with it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Max, Min, Q, QuerySet
from nautobot.circuits.models import Circuit, CircuitTermination
from nautobot.dcim.models import CablePath, Interface

from nautobot_ssot_circuit_maintenance.choices import FlagKindChoices, ImpactChoices, MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.config import app_settings
from nautobot_ssot_circuit_maintenance.flags.isolation import Window, analyse
from nautobot_ssot_circuit_maintenance.intake.locking import FLAGS, lock_for_transaction
from nautobot_ssot_circuit_maintenance.models import CircuitImpact, CircuitMaintenance, MaintenanceFlag


@dataclass
class Group:
    """A location or a device, its members (member id → circuit id) and how to name each member."""

    location_id: Any = None
    device_id: Any = None
    members: dict[Hashable, Hashable] | None = None
    labels: dict[Hashable, str] | None = None


@dataclass
class RefreshResult:
    """What a refresh did: groups checked, flags now stored for them, stale flags deleted."""

    groups: int = 0
    flags: int = 0
    removed: int = 0


def isolation_settings() -> dict[str, list[str]]:
    """The `site_isolation` setting with its defaults filled in."""
    configured = app_settings().get("site_isolation") or {}
    return {
        "circuit_types": list(configured.get("circuit_types", [])),
        "circuit_statuses": list(configured.get("circuit_statuses", ["Active"])),
        "skip_locations": list(configured.get("skip_locations", [])),
    }


def counted_circuits() -> QuerySet:
    """The circuits that keep a location or a device connected (by type and status, per the settings)."""
    settings = isolation_settings()
    circuits = Circuit.objects.all()
    if settings["circuit_types"]:
        circuits = circuits.filter(circuit_type__name__in=settings["circuit_types"])
    if settings["circuit_statuses"]:
        circuits = circuits.filter(status__name__in=settings["circuit_statuses"])
    return circuits


def _skip_location() -> Q:
    names = isolation_settings()["skip_locations"]
    return Q(location__name__in=names) if names else Q(pk__in=[])


def location_groups(location_ids: set | None = None) -> list[Group]:
    """Every location with at least one counted circuit terminating there (or only those in `location_ids`)."""
    rows = CircuitTermination.objects.filter(circuit__in=counted_circuits(), location__isnull=False).exclude(
        _skip_location()
    )
    if location_ids is not None:
        rows = rows.filter(location_id__in=location_ids)
    groups: dict[Any, Group] = {}
    for location_id, circuit_id, cid in rows.values_list("location_id", "circuit_id", "circuit__cid"):
        group = groups.setdefault(location_id, Group(location_id=location_id, members={}, labels={}))
        group.members[circuit_id] = circuit_id
        group.labels[circuit_id] = cid
    return list(groups.values())


def device_groups(device_ids: set | None = None) -> list[Group]:
    """Every device with an interface cabled to a counted circuit's termination (or only those in `device_ids`)."""
    terminations = dict(
        CircuitTermination.objects.filter(circuit__in=counted_circuits()).values_list("pk", "circuit_id")
    )
    paths = CablePath.objects.filter(
        origin_type=ContentType.objects.get_for_model(CircuitTermination),
        origin_id__in=list(terminations),
        destination_type=ContentType.objects.get_for_model(Interface),
    ).values_list("origin_id", "destination_id")
    circuit_of_interface = {destination: terminations[origin] for origin, destination in paths}
    interfaces = Interface.objects.filter(pk__in=list(circuit_of_interface)).exclude(
        Q(device__location__name__in=isolation_settings()["skip_locations"])
    )
    if device_ids is not None:
        interfaces = interfaces.filter(device_id__in=device_ids)
    cids = dict(Circuit.objects.filter(pk__in=set(circuit_of_interface.values())).values_list("pk", "cid"))
    groups: dict[Any, Group] = {}
    for pk, device_id, name in interfaces.values_list("pk", "device_id", "name"):
        group = groups.setdefault(device_id, Group(device_id=device_id, members={}, labels={}))
        group.members[pk] = circuit_of_interface[pk]
        group.labels[pk] = f"{name} ({cids[circuit_of_interface[pk]]})"
    return list(groups.values())


Span = tuple[datetime, datetime]


def windows_of(circuit_ids: Iterable[Any], span: Span | None = None) -> tuple[list[Window], Span | None]:
    """Every window of every maintenance impacting these circuits, cancelled ones and NO-IMPACT left out.

    With a `span`, only the windows in it — the span first grown until no window crosses its edges, so
    every flag within it is made of windows within it: recomputing the flags of that span alone is
    exact, and a sync of today's mail does not re-read years of history. Returns the span it grew to.
    """
    circuit_ids = set(circuit_ids)
    impacts = (
        CircuitImpact.objects.filter(circuit_id__in=circuit_ids)
        .exclude(impact=ImpactChoices.NO_IMPACT)
        .exclude(maintenance__status=MaintenanceStatusChoices.CANCELLED)
    )
    while True:
        selected = impacts
        if span is not None:
            selected = impacts.filter(maintenance__start_time__lte=span[1], maintenance__end_time__gte=span[0])
        rows = list(selected.values_list("circuit_id", "maintenance_id", "impact"))
        maintenances = {
            m.pk: m
            for m in CircuitMaintenance.objects.filter(pk__in={m for _, m, _ in rows}).only(
                "pk", "status", "start_time", "end_time", "windows"
            )
        }
        if span is None or not maintenances:
            break
        grown = (
            min(span[0], *(m.start_time for m in maintenances.values())),
            max(span[1], *(m.end_time for m in maintenances.values())),
        )
        if grown == span:
            break
        span = grown
    windows = [
        Window(circuit=circuit, maintenance=maintenance, impact=impact, start=start, end=end)
        for circuit, maintenance, impact in rows
        for start, end in maintenances[maintenance].window_times
    ]
    return windows, span


def _changed_span(maintenances: QuerySet) -> Span | None:
    """From the earliest to the latest moment the changed maintenances cover, now or in their existing flags."""
    now = CircuitMaintenance.objects.filter(pk__in=maintenances.values("pk")).aggregate(
        start=Min("start_time"), end=Max("end_time")
    )
    before = MaintenanceFlag.objects.filter(maintenances__in=maintenances.values("pk")).aggregate(
        start=Min("start_time"), end=Max("end_time")
    )
    starts = [value for value in (now["start"], before["start"]) if value is not None]
    ends = [value for value in (now["end"], before["end"]) if value is not None]
    if not starts or not ends:
        return None
    return min(starts), max(ends)


def _touched(maintenances: QuerySet) -> tuple[set, set]:
    """The locations and devices whose flags may change when these maintenances change."""
    circuit_ids = set(CircuitImpact.objects.filter(maintenance__in=maintenances).values_list("circuit_id", flat=True))
    old = MaintenanceFlag.objects.filter(maintenances__in=maintenances)
    location_ids = set(old.exclude(location=None).values_list("location_id", flat=True))
    device_ids = set(old.exclude(device=None).values_list("device_id", flat=True))
    termination_rows = CircuitTermination.objects.filter(circuit_id__in=circuit_ids).values_list("pk", "location_id")
    termination_ids = set()
    for pk, location_id in termination_rows:
        termination_ids.add(pk)
        if location_id:
            location_ids.add(location_id)
    interface_ids = CablePath.objects.filter(
        origin_type=ContentType.objects.get_for_model(CircuitTermination), origin_id__in=termination_ids
    ).values_list("destination_id", flat=True)
    device_ids |= set(Interface.objects.filter(pk__in=list(interface_ids)).values_list("device_id", flat=True))
    return location_ids, device_ids


def refresh_flags(maintenances: QuerySet | None = None) -> RefreshResult:
    """Recompute the flags of the groups `maintenances` touch, in the time they can change; of everything when None.

    One refresh at a time (runs of several sources finish at once on several workers): each reads what the
    others wrote before it, so none writes flags computed from an older state over newer ones.
    """
    with transaction.atomic():
        lock_for_transaction(FLAGS)
        return _refresh_flags(maintenances)


def _refresh_flags(maintenances: QuerySet | None) -> RefreshResult:
    if maintenances is None:
        location_ids = device_ids = span = None
        stale = MaintenanceFlag.objects.all()
    else:
        location_ids, device_ids = _touched(maintenances)
        stale = MaintenanceFlag.objects.filter(Q(location_id__in=location_ids) | Q(device_id__in=device_ids))
        span = _changed_span(maintenances)
    groups = location_groups(location_ids) + device_groups(device_ids)
    windows, span = windows_of({circuit for group in groups for circuit in group.members.values()}, span)
    if span is not None:
        stale = stale.filter(start_time__lte=span[1], end_time__gte=span[0])
    by_circuit: dict[Any, list[Window]] = {}
    for window in windows:
        by_circuit.setdefault(window.circuit, []).append(window)

    new_flags: list[MaintenanceFlag] = []
    links: list[tuple[MaintenanceFlag, set, set]] = []
    for group in groups:
        relevant = [w for circuit in set(group.members.values()) for w in by_circuit.get(circuit, ())]
        for found in analyse(group.members, relevant):
            flag = MaintenanceFlag(
                kind=FlagKindChoices.ISOLATION if found.kind == "isolation" else FlagKindChoices.LOST_REDUNDANCY,
                location_id=group.location_id,
                device_id=group.device_id,
                start_time=found.start,
                end_time=found.end,
                total=found.total,
                down=sorted(group.labels[m] for m in found.down),
                left=sorted(group.labels[m] for m in found.left),
                impaired=list(found.impaired),
            )
            new_flags.append(flag)
            links.append((flag, found.maintenances, {group.members[m] for m in found.down}))
    impaired_cids = dict(
        Circuit.objects.filter(pk__in={c for f in new_flags for c in f.impaired}).values_list("pk", "cid")
    )
    for flag in new_flags:
        flag.impaired = sorted(impaired_cids.get(pk, str(pk)) for pk in flag.impaired)

    with transaction.atomic():
        _, per_model = stale.delete()
        MaintenanceFlag.objects.bulk_create(new_flags, batch_size=500)
        through_m = MaintenanceFlag.maintenances.through
        through_c = MaintenanceFlag.circuits.through
        through_m.objects.bulk_create(
            [through_m(maintenanceflag=flag, circuitmaintenance_id=m) for flag, ms, _ in links for m in ms],
            batch_size=1000,
        )
        through_c.objects.bulk_create(
            [through_c(maintenanceflag=flag, circuit_id=c) for flag, _, cs in links for c in cs], batch_size=1000
        )
    removed = per_model.get(MaintenanceFlag._meta.label, 0)
    return RefreshResult(groups=len(groups), flags=len(new_flags), removed=removed)


def refresh_flags_after_sync(job: Any) -> RefreshResult | None:
    """Called by the sync job once it has written: refresh the flags of what the run changed (a dry run: nothing)."""
    if getattr(job, "dryrun", True):
        return None
    sync = getattr(job, "sync", None)
    since = getattr(sync, "start_time", None)
    # What the run wrote, and flagged maintenances edited since their flags were computed (e.g. cancelled in the UI).
    changed = None
    if since:
        # Two plain queries, read once: an OR across the flags join would scan every maintenance, at
        # each use of the set below.
        pks = set(CircuitMaintenance.objects.filter(last_updated__gte=since).values_list("pk", flat=True))
        pks |= set(
            CircuitMaintenance.objects.filter(flags__computed__lt=F("last_updated")).values_list("pk", flat=True)
        )
        changed = CircuitMaintenance.objects.filter(pk__in=pks)
    result = refresh_flags(changed)
    job.logger.info(
        "Isolation and redundancy flags: %d locations/devices checked, %d flags now", result.groups, result.flags
    )
    return result
