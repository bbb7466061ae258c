"""Alertmanager silences for what a maintenance affects, kept in step with the maintenance.

**One silence per window of a maintenance.** Alertmanager ANDs a silence's matchers, so a silence cannot say
"device r1 or device r2" with two matchers of the same name. Rather than one silence per affected device (N
silences to create, move and expire for one maintenance, and a Cartesian mess with several templates), each
configured matcher becomes one matcher whose values are joined into an anchored regular expression
(`device=~"r1|r2"`, each name escaped with `re.escape`, so a dot in a name matches only a dot); one value stays an
equality matcher. The operator reads one silence per window in Alertmanager, whose comment names the maintenance.
The price: with two templates (devices and interfaces, say) every combination of their values is muted, which
for the objects of one maintenance is the behaviour a NOC expects. A maintenance with several windows (two nights)
gets one silence per window, so the day between them is not muted.

Each matcher template names at most one of `device`, `interface`, `circuit`, `location` (`config.matcher_kind`) and
is rendered with Nautobot's sandboxed Jinja2 once per such object the maintenance reaches (`maintenance_reach`);
a template naming none of them is rendered once. `maintenance` is in every context, `impact` beside `circuit`.
A template that renders no value (the maintenance reaches no device, say) means no silence: a matcher dropped
would mute more than the maintenance affects.

A silence runs from its window's start minus `margin_minutes.before` to its end plus `margin_minutes.after`;
none for a window whose silence would be over, and none for a cancelled or completed maintenance (completed
early: the silence is expired).

**Bookkeeping.** `MaintenanceSilence` holds the silence ID of each (maintenance, window) with what was posted;
everything is done under the maintenance's row lock (`select_for_update`), so two workers at once keep one
silence. The silence's comment carries a marker with the maintenance's ID and window (`marker`), so a silence whose
row was lost (posted, then the transaction failed) is found again in `GET /api/v2/silences` and taken over, not
duplicated, the next time the maintenance needs one. Alertmanager answers a change that it cannot make in place
(new matchers, an active silence moved) with a new ID and expires the old silence itself: the row follows the ID.
A request that fails rolls back the maintenance's rows, so the next run starts from what is true.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

import jinja2
from django.db import transaction
from django.utils import timezone
from nautobot.core.utils.data import render_jinja2

from nautobot_ssot_circuit_maintenance.actions.alertmanager import (
    ACTIVE,
    EXPIRED,
    AlertmanagerClient,
    AlertmanagerError,
    AlertmanagerUnreachable,
    silence_state,
)
from nautobot_ssot_circuit_maintenance.actions.secrets import preferred_secret
from nautobot_ssot_circuit_maintenance.config import app_settings, matcher_kind
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, MaintenanceSilence
from nautobot_ssot_circuit_maintenance.models.querysets import FINISHED_STATUSES
from nautobot_ssot_circuit_maintenance.models.reach import REACH_PREFETCH, Reach, maintenance_reach

DEFAULT_MATCHERS = ({"name": "device", "value": "{{ device.name }}", "isRegex": False},)
DEFAULT_MARGIN_MINUTES = {"before": 15, "after": 30}
DEFAULT_CREATED_BY = "nautobot"
DEFAULT_TIMEOUT_SECONDS = 10.0
# The marker in a silence's comment: which maintenance and window it is kept for.
MARKER = re.compile(r"\[nautobot-maintenance (?P<pk>[0-9a-f-]{36}) window (?P<window>\d+)\]")
# Secret types read from `secrets_group`, and the access types tried in order.
ACCESS_PREFERENCE = ("HTTP(S)", "REST", "Generic")


class SilenceConfigurationError(AlertmanagerError):
    """The `alertmanager` settings cannot be used (a missing SecretsGroup, a template that fails to render)."""


@dataclass(frozen=True)
class MatcherTemplate:
    """One configured matcher: its label `name`, its Jinja2 `value` template and the kind it is rendered over."""

    name: str
    value: str
    is_regex: bool = False
    kind: str | None = None


@dataclass(frozen=True)
class SilenceSettings:
    """The `alertmanager` settings, with their defaults filled in."""

    url: str
    token: str = field(default="", repr=False)
    secrets_group: str = ""
    ca_file: str = ""
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    before: timedelta = timedelta(minutes=DEFAULT_MARGIN_MINUTES["before"])
    after: timedelta = timedelta(minutes=DEFAULT_MARGIN_MINUTES["after"])
    matchers: tuple[MatcherTemplate, ...] = ()
    created_by: str = DEFAULT_CREATED_BY


def silence_settings() -> SilenceSettings | None:
    """The `alertmanager` settings, or None when no `url` is configured (silences are off)."""
    config = app_settings().get("alertmanager") or {}
    if not config.get("url"):
        return None
    margins = {**DEFAULT_MARGIN_MINUTES, **(config.get("margin_minutes") or {})}
    return SilenceSettings(
        url=config["url"],
        token=config.get("token", ""),
        secrets_group=config.get("secrets_group", ""),
        ca_file=config.get("ca_file", ""),
        timeout=float(config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)),
        before=timedelta(minutes=margins["before"]),
        after=timedelta(minutes=margins["after"]),
        matchers=tuple(
            MatcherTemplate(m["name"], m["value"], bool(m.get("isRegex", False)), matcher_kind(m["value"]))
            for m in config.get("matchers") or DEFAULT_MATCHERS
        ),
        created_by=config.get("created_by", DEFAULT_CREATED_BY),
    )


def _group_secret(group: Any, secret_type: str) -> str:
    """The value of the group's secret of `secret_type` (by `ACCESS_PREFERENCE`), "" when it has none."""
    from nautobot.extras.secrets.exceptions import SecretError

    secret = preferred_secret(group, secret_type, ACCESS_PREFERENCE)
    if secret is None:
        return ""
    try:
        return secret.get_value() or ""
    except SecretError as error:
        raise SilenceConfigurationError(
            f"SecretsGroup {group.name!r}: cannot read its {secret_type}-type member (named {secret.name!r}); "
            f"{type(error).__name__}"
        ) from None


def alertmanager_client(settings: SilenceSettings) -> AlertmanagerClient:
    """The client for the configured Alertmanager, its credentials read from `secrets_group` now if one is named.

    The group gives a Token-type member (sent as a bearer token) or Username and Password members (HTTP Basic).
    """
    token, basic_auth = settings.token, None
    if settings.secrets_group:
        from nautobot.extras.models import SecretsGroup

        group = SecretsGroup.objects.filter(name=settings.secrets_group).first()
        if group is None:
            raise SilenceConfigurationError(f"SecretsGroup {settings.secrets_group!r} does not exist")
        token = _group_secret(group, "token")
        if not token:
            username, password = _group_secret(group, "username"), _group_secret(group, "password")
            if not (username and password):
                raise SilenceConfigurationError(
                    f"SecretsGroup {settings.secrets_group!r} has neither a Token-type member nor "
                    "Username- and Password-type members"
                )
            basic_auth = (username, password)
    return AlertmanagerClient(
        url=settings.url,
        token=token,
        basic_auth=basic_auth,
        timeout=settings.timeout,
        verify=settings.ca_file or True,
    )


@dataclass(frozen=True)
class SilenceSpec:
    """The silence one window of a maintenance should have."""

    window: int
    starts_at: datetime
    ends_at: datetime
    matchers: list[dict[str, Any]]
    comment: str

    def body(self, created_by: str, silence_id: str | None = None, starts_at: datetime | None = None) -> dict:
        """The POST /api/v2/silences body; with `silence_id`, an update of that silence."""
        body = {
            "matchers": self.matchers,
            "startsAt": _iso(starts_at or self.starts_at),
            "endsAt": _iso(self.ends_at),
            "createdBy": created_by,
            "comment": self.comment,
        }
        return {"id": silence_id, **body} if silence_id else body


def _iso(moment: datetime) -> str:
    return moment.astimezone(dt_timezone.utc).isoformat().replace("+00:00", "Z")


def marker(maintenance_pk: Any, window: int) -> str:
    """The tag in a silence's comment naming the maintenance and the window (counted from 1) it is kept for."""
    return f"[nautobot-maintenance {maintenance_pk} window {window + 1}]"


def marked_for(silence: dict[str, Any]) -> tuple[str, int] | None:
    """(maintenance pk, window) of a silence this app keeps, from its comment's marker; None for any other."""
    found = MARKER.search(silence.get("comment") or "")
    return (found["pk"], int(found["window"]) - 1) if found else None


def _objects(kind: str | None, maintenance: CircuitMaintenance, reach: Reach) -> list[dict[str, Any]]:
    """The template contexts a matcher of `kind` is rendered in, one per object of that kind."""
    if kind is None:
        return [{"maintenance": maintenance}]
    if kind == "circuit":
        return [{"maintenance": maintenance, "circuit": i.circuit, "impact": i.impact} for i in reach.impacts]
    objects = {"device": reach.devices, "interface": reach.interfaces, "location": reach.locations}[kind]
    return [{"maintenance": maintenance, kind: obj} for obj in objects]


def render_matchers(
    maintenance: CircuitMaintenance, reach: Reach, templates: Iterable[MatcherTemplate]
) -> tuple[list[dict[str, Any]], str]:
    """The matchers of the maintenance's silences, or ([], why not) when a template renders no value."""
    matchers = []
    for template in templates:
        values = set()
        for context in _objects(template.kind, maintenance, reach):
            try:
                value = render_jinja2(template.value, context).strip()
            except jinja2.TemplateError as error:
                raise SilenceConfigurationError(
                    f"matcher {template.name!r}: template {template.value!r} failed: {error}"
                ) from None
            if value:
                values.add(value)
        if not values:
            return [], f"matcher {template.name!r} has no value (it reaches no {template.kind or 'value'})"
        ordered = sorted(values)
        if len(ordered) == 1:
            matchers.append({"name": template.name, "value": ordered[0], "isRegex": template.is_regex})
        elif template.is_regex:
            matchers.append({"name": template.name, "value": "|".join(f"(?:{v})" for v in ordered), "isRegex": True})
        else:
            matchers.append({"name": template.name, "value": "|".join(re.escape(v) for v in ordered), "isRegex": True})
    return matchers, ""


def desired_silences(
    maintenance: CircuitMaintenance, settings: SilenceSettings, now: datetime
) -> tuple[list[SilenceSpec], str]:
    """The silences the maintenance should have at `now`, one per window still to silence; or ([], why none)."""
    if maintenance.status in FINISHED_STATUSES:
        return [], f"it is {maintenance.get_status_display().lower()}"
    windows = sorted(maintenance.window_times)
    if all(end + settings.after <= now for _, end in windows):
        return [], "it is over"
    matchers, reason = render_matchers(maintenance, maintenance_reach(maintenance), settings.matchers)
    if not matchers:
        return [], reason
    specs = []
    for number, (start, end) in enumerate(windows):
        if end + settings.after <= now:
            continue
        comment = (
            f"Circuit maintenance {maintenance.label} ({maintenance.provider.name} {maintenance.maintenance_id}), "
            f"window {number + 1} of {len(windows)}: {maintenance.get_absolute_url()} {marker(maintenance.pk, number)}"
        )
        specs.append(SilenceSpec(number, start - settings.before, end + settings.after, matchers, comment))
    return specs, ""


@dataclass(frozen=True)
class SilenceChange:
    """One thing done (or, in a dry run, to be done) to a silence: created, updated or expired."""

    action: str  # "create", "update", "expire"
    maintenance: Any  # the maintenance, None when it was deleted
    window: int
    silence_id: str | None  # None for a silence a dry run would create
    spec: SilenceSpec | None = None

    def describe(self) -> str:
        """What was done, as the job log says it."""
        window = f"window {self.window + 1}"
        if self.spec is None:
            return f"{self.action} silence {self.silence_id} ({window})"
        matchers = ", ".join(f"{m['name']}{'=~' if m['isRegex'] else '='}{m['value']!r}" for m in self.spec.matchers)
        return (
            f"{self.action} silence {self.silence_id or '(new)'} ({window}, {_iso(self.spec.starts_at)} → "
            f"{_iso(self.spec.ends_at)}, {matchers})"
        )


def _row_matches(row: MaintenanceSilence, spec: SilenceSpec) -> bool:
    return row.starts_at == spec.starts_at and row.ends_at == spec.ends_at and row.matchers == spec.matchers


def _is_live(silence: dict[str, Any] | None) -> bool:
    return silence is not None and silence_state(silence) != EXPIRED


def sync_maintenance_silences(
    pk: Any,
    settings: SilenceSettings,
    client: AlertmanagerClient,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> list[SilenceChange]:
    """Bring the maintenance's silences in line with `desired_silences`, under its row lock; return what changed.

    A dry run reads Alertmanager and the rows, takes no lock and changes nothing. An AlertmanagerError rolls
    back the maintenance's rows (what was posted before it is found again by its marker).
    """
    now = now or timezone.now()
    with transaction.atomic():
        maintenances = CircuitMaintenance.objects.filter(pk=pk)
        if not dry_run:
            maintenances = maintenances.select_for_update(of=("self",))
        maintenance = maintenances.select_related("provider").prefetch_related(*REACH_PREFETCH).first()
        if maintenance is None:  # deleted: its rows lost their maintenance (`expire_orphaned_silences`)
            return []
        desired, _ = desired_silences(maintenance, settings, now)
        rows = {row.window: row for row in MaintenanceSilence.objects.filter(maintenance=maintenance)}
        reconcile = _Reconcile(maintenance, settings, client, now, dry_run)
        for spec in desired:
            reconcile.keep(spec, rows.pop(spec.window, None))
        for row in rows.values():
            reconcile.expire_row(row)
        reconcile.expire_lost()
        return reconcile.changes


@dataclass
class _Reconcile:
    """The work on one maintenance's silences, under its lock."""

    maintenance: CircuitMaintenance
    settings: SilenceSettings
    client: AlertmanagerClient
    now: datetime
    dry_run: bool
    changes: list[SilenceChange] = field(default_factory=list)
    kept: set[str] = field(default_factory=set)
    listing: list[dict[str, Any]] | None = None

    def ours(self) -> list[dict[str, Any]]:
        """The live silences whose marker names this maintenance (read once, only when a row is missing)."""
        if self.listing is None:
            self.listing = self.client.list_silences()
        pk = str(self.maintenance.pk)
        return [s for s in self.listing if _is_live(s) and (marked_for(s) or ("", 0))[0] == pk]

    def keep(self, spec: SilenceSpec, row: MaintenanceSilence | None) -> None:
        """Make the window's silence what `spec` says, creating it, updating it or taking over a lost one."""
        current = self.client.get_silence(row.silence_id) if row else None
        if row is not None and _is_live(current) and _row_matches(row, spec):
            self.kept.add(row.silence_id)
            return
        silence_id = row.silence_id if row is not None and _is_live(current) else None
        if row is None:
            lost = next((s for s in self.ours() if marked_for(s)[1] == spec.window), None)
            silence_id, current = (lost["id"], lost) if lost else (None, None)
        starts_at = spec.starts_at
        if silence_id and silence_state(current) == ACTIVE and spec.starts_at <= self.now:
            # An active silence keeps its start, or Alertmanager replaces it rather than updating it.
            starts_at = datetime.fromisoformat(current["startsAt"])
        action = "update" if silence_id else "create"
        if self.dry_run:
            self.changes.append(SilenceChange(action, self.maintenance, spec.window, silence_id, spec))
            return
        new_id = self.client.post_silence(spec.body(self.settings.created_by, silence_id, starts_at))
        row = row or MaintenanceSilence(maintenance=self.maintenance, window=spec.window)
        row.silence_id, row.starts_at, row.ends_at, row.matchers = new_id, spec.starts_at, spec.ends_at, spec.matchers
        row.save()
        self.kept.add(new_id)
        self.changes.append(SilenceChange(action, self.maintenance, spec.window, new_id, spec))

    def expire_row(self, row: MaintenanceSilence) -> None:
        """Expire the silence of a window that needs none any more (if it still runs), and forget it."""
        if _is_live(self.client.get_silence(row.silence_id)):
            if not self.dry_run:
                self.client.expire_silence(row.silence_id)
            self.changes.append(SilenceChange("expire", self.maintenance, row.window, row.silence_id))
        if not self.dry_run:
            row.delete()

    def expire_lost(self) -> None:
        """Expire the silences of ours found in the listing (when it was read) that no row keeps."""
        if self.listing is None:
            return
        for silence in self.ours():
            if silence["id"] not in self.kept:
                if not self.dry_run:
                    self.client.expire_silence(silence["id"])
                self.changes.append(SilenceChange("expire", self.maintenance, marked_for(silence)[1], silence["id"]))


def expire_orphaned_silences(client: AlertmanagerClient, *, dry_run: bool = False) -> list[SilenceChange]:
    """Expire the silences of deleted maintenances (rows whose maintenance was set to null) and forget them."""
    changes = []
    with transaction.atomic():
        rows = MaintenanceSilence.objects.filter(maintenance__isnull=True).order_by("pk")  # no join: lockable
        if not dry_run:
            rows = rows.select_for_update(skip_locked=True)
        for row in rows:
            if _is_live(client.get_silence(row.silence_id)):
                if not dry_run:
                    client.expire_silence(row.silence_id)
                changes.append(SilenceChange("expire", None, row.window, row.silence_id))
            if not dry_run:
                row.delete()
    return changes


def maintenances_to_sync(now: datetime) -> list[Any]:
    """The maintenances a full run looks at: those not over, and those with a silence on record (to expire it)."""
    not_over = CircuitMaintenance.objects.not_over(now=now).values_list("pk", flat=True)
    silenced = MaintenanceSilence.objects.filter(maintenance__isnull=False).values_list("maintenance", flat=True)
    return sorted(set(not_over) | set(silenced), key=str)


@dataclass
class SyncOutcome:
    """What a run did: the changes, and the maintenances it could not bring in line (with the reason)."""

    changes: list[SilenceChange] = field(default_factory=list)
    failures: list[tuple[Any, str]] = field(default_factory=list)


def sync_silences(
    pks: Iterable[Any],
    settings: SilenceSettings,
    client: AlertmanagerClient,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    report: Callable[[SilenceChange], None] | None = None,
) -> SyncOutcome:
    """Sync the silences of each maintenance, then expire those of deleted ones; each change goes to `report`.

    A maintenance that fails (an error answer, a template that fails) is noted and the others go on; when
    Alertmanager does not answer at all, the run stops there (the next one picks up from the rows).
    """
    now = now or timezone.now()
    outcome = SyncOutcome()

    def note(changes: list[SilenceChange]) -> None:
        outcome.changes.extend(changes)
        for change in changes:
            if report is not None:
                report(change)

    for pk in pks:
        try:
            note(sync_maintenance_silences(pk, settings, client, now=now, dry_run=dry_run))
        except AlertmanagerUnreachable as error:
            outcome.failures.append((pk, str(error)))
            return outcome
        except AlertmanagerError as error:
            outcome.failures.append((pk, str(error)))
    try:
        note(expire_orphaned_silences(client, dry_run=dry_run))
    except AlertmanagerError as error:
        outcome.failures.append((None, str(error)))
    return outcome
