"""Drafts of customer notices, made and kept in step with the maintenances: one notice per tenant and overlap.

For each tenant, the maintenances that affect it and are not over are grouped by overlapping time spans: several
maintenances hitting one tenant in overlapping windows make one notice. Each group's notice is then brought in line:

- no notice yet: a draft is made ("new"), unless everything in the group is cancelled (nobody was told);
- a notice not sent yet (draft, awaiting approval, approved): rewritten when what it says changed (its
  `fingerprint`, or its words under an edited template), and back to draft, since its approval was of the old
  words; discarded when everything in it was cancelled before anyone was told;
- a notice sent (or sending): never rewritten; when what it says changed, a follow-up draft is made
  ("updated", or "cancelled" when everything in it is), pointing at it (`follows`).

A notice not sent whose maintenances no longer affect the tenant is discarded. Each tenant is drafted under its
row lock, so two drafters at once (the sync and the job) make one draft. Every write is change-logged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from nautobot.tenancy.models import Tenant

from nautobot_ssot_circuit_maintenance.calendar.ical import worst_impact
from nautobot_ssot_circuit_maintenance.choices import (
    MaintenanceStatusChoices,
    NoticeKindChoices,
    NoticeStateChoices,
)
from nautobot_ssot_circuit_maintenance.compat.approvals import cancel_workflow, pending_workflows
from nautobot_ssot_circuit_maintenance.compat.changelog import change_logged, system_user
from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.customers.affected import AFFECTED_PREFETCH, TenantImpact, affected_tenants
from nautobot_ssot_circuit_maintenance.customers.recipients import Recipient, tenant_recipients, tenant_wants_notices
from nautobot_ssot_circuit_maintenance.customers.render import Rendered, render_notice
from nautobot_ssot_circuit_maintenance.customers.settings import notice_settings
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, CustomerNotice, CustomerNoticeRecipient

CHANGE_CONTEXT_DETAIL = f"{APP_NAME}: customer notice drafts"
TOLD = (NoticeStateChoices.SENDING, NoticeStateChoices.SENT)

Entry = tuple[Any, TenantImpact]  # (maintenance, how it affects the tenant)


@dataclass(frozen=True)
class DraftChange:
    """One thing done to a tenant's notices: created, rewritten or discarded."""

    action: str  # "create", "update", "discard"
    notice: CustomerNotice

    def describe(self) -> str:
        """As the job log says it."""
        return f"{self.action} {self.notice.get_kind_display().lower()} notice for {self.notice.tenant}"


@dataclass
class DraftOutcome:
    """What a drafting run did."""

    changes: list[DraftChange] = field(default_factory=list)


def candidates(now: datetime) -> list[Any]:
    """The maintenances notices may be about: not ended and not completed (cancelled ones too), with their reach."""
    return list(
        CircuitMaintenance.objects.filter(end_time__gte=now)
        .exclude(status=MaintenanceStatusChoices.COMPLETED)
        .select_related("provider")
        .prefetch_related(*AFFECTED_PREFETCH)
        .order_by("start_time", "pk")
    )


def overlapping_groups(entries: list[Entry]) -> list[list[Entry]]:
    """The entries grouped by overlapping spans (start to end), each group earliest first."""
    groups: list[list[Entry]] = []
    end = None
    for entry in sorted(entries, key=lambda e: (e[0].start_time, str(e[0].pk))):
        maintenance = entry[0]
        if groups and maintenance.start_time <= end:
            groups[-1].append(entry)
            end = max(end, maintenance.end_time)
        else:
            groups.append([entry])
            end = maintenance.end_time
    return groups


def is_cancelled(maintenance: Any) -> bool:
    """Whether the provider cancelled it."""
    return maintenance.status == MaintenanceStatusChoices.CANCELLED


def basis_of(group: list[Entry]) -> dict[str, Any]:
    """What a notice says, as data: each maintenance's status, windows and circuits as they reach the tenant."""
    return {
        "impact": worst_impact(reached.impact for _, reached in group),
        "maintenances": [
            {
                "id": str(maintenance.pk),
                "provider": maintenance.provider.name,
                "maintenance_id": maintenance.maintenance_id,
                "status": maintenance.status,
                "windows": [[start.isoformat(), end.isoformat()] for start, end in sorted(maintenance.window_times)],
                "impact": reached.impact,
                "circuits": [[circuit.cid, impact] for circuit, impact in reached.circuits],
            }
            for maintenance, reached in group
        ],
    }


def fingerprint(basis: dict[str, Any]) -> str:
    """The digest of a basis: equal bases, equal fingerprints."""
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()


def set_recipients(notice: CustomerNotice, recipients: list[Recipient]) -> None:
    """Make the notice's (unsent) recipient rows these."""
    wanted = {recipient.address.lower(): recipient for recipient in recipients}
    rows = {row.address.lower(): row for row in notice.recipients.all()}
    CustomerNoticeRecipient.objects.filter(pk__in=[row.pk for key, row in rows.items() if key not in wanted]).delete()
    for key, recipient in wanted.items():
        row = rows.get(key) or CustomerNoticeRecipient(notice=notice, address=recipient.address)
        row.name, row.via = recipient.name, recipient.via
        row.save()


class _TenantDrafts:
    """The drafting of one tenant's notices, under its row lock."""

    def __init__(self, tenant: Tenant, role: str, report: Callable[[DraftChange], None]):
        self.tenant = tenant
        self.role = role
        self.report = report
        self.notices = list(
            CustomerNotice.objects.select_for_update(of=("self",))  # the sender moves approved notices to sending
            .filter(tenant=tenant)
            .exclude(state=NoticeStateChoices.DISCARDED)
            .prefetch_related("maintenances", "recipients")
            .order_by("-created", "-pk")
        )
        self.covers = {notice.pk: {m.pk for m in notice.maintenances.all()} for notice in self.notices}
        self.used: set = set()

    def in_any_notice(self, maintenance: Any) -> bool:
        return any(maintenance.pk in covered for covered in self.covers.values())

    def run(self, entries: list[Entry]) -> None:
        # A cancelled maintenance matters only to a tenant that has (or had) a notice about it.
        entries = [entry for entry in entries if not is_cancelled(entry[0]) or self.in_any_notice(entry[0])]
        for group in overlapping_groups(entries):
            self.group(group)
        for notice in self.notices:
            if notice.pk not in self.used and notice.state in NoticeStateChoices.REWRITABLE:
                self.discard(notice)

    def group(self, group: list[Entry]) -> None:
        pks = {maintenance.pk for maintenance, _ in group}
        touching = [n for n in self.notices if n.pk not in self.used and self.covers[n.pk] & pks]
        unsent = [n for n in touching if n.state in NoticeStateChoices.REWRITABLE]
        told = [n for n in touching if n.state in TOLD]
        self.used.update(n.pk for n in touching)
        previous = told[0] if told else None
        all_cancelled = all(is_cancelled(maintenance) for maintenance, _ in group)
        if all_cancelled:
            kind = NoticeKindChoices.CANCELLED
        else:
            kind = NoticeKindChoices.UPDATED if previous is not None else NoticeKindChoices.NEW
        basis = basis_of(group)
        digest = fingerprint(basis)
        for extra in unsent[1:]:
            self.discard(extra)
        if unsent:
            notice = unsent[0]
            if (all_cancelled and previous is None) or (previous is not None and previous.fingerprint == digest):
                self.discard(notice)  # nobody was told, or what was told holds again
            else:
                # Rewritten when what it says changed, or its template did (a template edit reaches unsent drafts).
                rendered = render_notice(self.tenant, kind, basis["impact"], group, previous)
                said = (notice.fingerprint, notice.kind, notice.subject, notice.body, notice.calendar)
                if said != (digest, kind, rendered.subject, rendered.body, rendered.calendar):
                    self.write(notice, group, kind, basis, digest, previous, "update", rendered)
        elif previous is not None:
            if previous.fingerprint != digest:
                self.write(CustomerNotice(tenant=self.tenant), group, kind, basis, digest, previous, "create")
        elif not all_cancelled:
            self.write(CustomerNotice(tenant=self.tenant), group, kind, basis, digest, None, "create")

    def write(
        self,
        notice: CustomerNotice,
        group: list[Entry],
        kind: str,
        basis: dict[str, Any],
        digest: str,
        previous: CustomerNotice | None,
        action: str,
        rendered: Rendered | None = None,
    ) -> None:
        rendered = rendered or render_notice(self.tenant, kind, basis["impact"], group, previous)
        if notice.pk is not None and notice.state != NoticeStateChoices.DRAFT:
            withdraw(notice, "The maintenances changed: the notice was rewritten and needs a new approval.")
        notice.kind, notice.impact = kind, basis["impact"]
        notice.start_time = min(maintenance.start_time for maintenance, _ in group)
        notice.end_time = max(maintenance.end_time for maintenance, _ in group)
        notice.subject, notice.body, notice.calendar = rendered.subject, rendered.body, rendered.calendar
        notice.basis, notice.fingerprint, notice.follows = basis, digest, previous
        notice.validated_save()
        notice.maintenances.set([maintenance.pk for maintenance, _ in group])
        set_recipients(notice, tenant_recipients(self.tenant, self.role))
        self.report(DraftChange(action, notice))

    def discard(self, notice: CustomerNotice) -> None:
        if notice.state != NoticeStateChoices.DRAFT:
            withdraw(notice, "The maintenances no longer call for this notice.")
        notice.state = NoticeStateChoices.DISCARDED
        notice.save()
        self.used.add(notice.pk)
        self.report(DraftChange("discard", notice))


def draft_notices(
    maintenance_pks: Iterable[Any] | None = None,
    *,
    now: datetime | None = None,
    report: Callable[[DraftChange], None] | None = None,
) -> DraftOutcome:
    """Bring the notices of the tenants these maintenances affect (every tenant when None) in line; return the changes.

    A template that fails to render stops that tenant only (NoticeTemplateError is reported by the caller).
    """
    now = now or timezone.now()
    outcome = DraftOutcome()

    def note(change: DraftChange) -> None:
        outcome.changes.append(change)
        if report is not None:
            report(change)

    maintenances = candidates(now)
    by_tenant: dict[Any, list[Entry]] = {}
    for maintenance in maintenances:
        for tenant_pk, reached in affected_tenants(maintenance).items():
            by_tenant.setdefault(tenant_pk, []).append((maintenance, reached))
    unsent = CustomerNotice.objects.filter(state__in=NoticeStateChoices.REWRITABLE)
    if maintenance_pks is None:
        tenants = set(by_tenant) | set(unsent.values_list("tenant", flat=True))
    else:
        pks = set(maintenance_pks)
        tenants = {t for t, entries in by_tenant.items() if any(m.pk in pks for m, _ in entries)}
        tenants |= set(CustomerNotice.objects.filter(maintenances__in=pks).values_list("tenant", flat=True))
    role = notice_settings().contact_role
    for tenant_pk in sorted(tenants, key=str):
        with transaction.atomic(), change_logged(CHANGE_CONTEXT_DETAIL):
            tenant = Tenant.objects.select_for_update(of=("self",)).filter(pk=tenant_pk).first()
            if tenant is None or not tenant_wants_notices(tenant):
                continue
            _TenantDrafts(tenant, role, note).run(by_tenant.get(tenant_pk, []))
    return outcome


def withdraw(notice: CustomerNotice, reason: str) -> None:
    """Take back the approval of a notice about to be rewritten (not saved): cancel a pending workflow, clear who."""
    for workflow in pending_workflows(notice):
        cancel_workflow(workflow, system_user(), reason)
    notice.state = NoticeStateChoices.DRAFT
    notice.approved_by = None
    notice.approved_at = None
