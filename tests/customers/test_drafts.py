"""Who a maintenance affects, who is told, and the drafts: one per tenant and overlap, updated, never duplicated.

On the sites of tests/fixtures/location_data.py: tenant X holds circuit PA (M1, outage, 0–4h), tenant Y holds LC
(M3 degraded 0–6h; M4 outage 2–4h, cancelled). Contacts and teams from tests/fixtures/customer_data.py.
"""

from __future__ import annotations

from datetime import timedelta

import icalendar
from nautobot.apps.testing import TestCase
from nautobot.circuits.models import Circuit
from nautobot.extras.models import ObjectChange
from nautobot.tenancy.models import Tenant

from nautobot_ssot_circuit_maintenance.choices import (
    ImpactChoices,
    MaintenanceStatusChoices,
    NoticeKindChoices,
    NoticeStateChoices,
)
from nautobot_ssot_circuit_maintenance.customers.affected import affected_tenants
from nautobot_ssot_circuit_maintenance.customers.drafts import draft_notices
from nautobot_ssot_circuit_maintenance.customers.recipients import tenant_recipients
from nautobot_ssot_circuit_maintenance.customers.settings import DEFAULT_CONTACT_ROLE
from nautobot_ssot_circuit_maintenance.flags.store import refresh_flags
from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    CustomerNotice,
    CustomerNoticeTemplate,
    TenantNoticeSettings,
)
from nautobot_ssot_circuit_maintenance.models.reach import REACH_PREFETCH
from tests.fixtures.customer_data import associate, build_customer_data
from tests.fixtures.location_data import build_site_data
from tests.fixtures.records import window

H = timedelta(hours=1)


def fetched(maintenance: CircuitMaintenance) -> CircuitMaintenance:
    return CircuitMaintenance.objects.prefetch_related(*REACH_PREFETCH, "flags").get(pk=maintenance.pk)


def move(maintenance: CircuitMaintenance, hours: float) -> None:
    start, end = maintenance.start_time + hours * H, maintenance.end_time + hours * H
    maintenance.start_time, maintenance.end_time, maintenance.windows = start, end, [window(start, end)]
    maintenance.save()


class CustomerTestCase(TestCase):
    def setUp(self):
        super().setUp()
        self.data = build_site_data()
        self.customers = build_customer_data(self.data.tenants)
        self.x, self.y = self.data.tenants["X"], self.data.tenants["Y"]

    def notices(self, tenant: Tenant, *states: str):
        found = CustomerNotice.objects.filter(tenant=tenant).order_by("created")
        return list(found.filter(state__in=states) if states else found)


class AffectedTests(CustomerTestCase):
    def test_a_circuits_tenant_is_affected_as_its_circuit_is(self):
        reached = affected_tenants(fetched(self.data.maintenances["M1"]))
        self.assertEqual(list(reached), [self.x.pk])
        self.assertEqual(reached[self.x.pk].impact, ImpactChoices.OUTAGE)
        self.assertEqual([c.cid for c, _ in reached[self.x.pk].circuits], ["PA"])
        reached = affected_tenants(fetched(self.data.maintenances["M3"]))
        self.assertEqual(reached[self.y.pk].impact, ImpactChoices.DEGRADED)

    def test_a_devices_tenant_is_affected_as_the_isolation_flags_say(self):
        z, w = Tenant.objects.create(name="LOC Tenant Z"), Tenant.objects.create(name="LOC Tenant W")
        for router, tenant in ((self.data.par_router, z), (self.data.lon_router, w)):
            router.tenant = tenant
            router.validated_save()
        # No flags computed: each device suffers the worst of its circuits (M1 takes PA and LA down).
        reached = affected_tenants(fetched(self.data.maintenances["M1"]))
        self.assertEqual((reached[z.pk].impact, reached[w.pk].impact), (ImpactChoices.OUTAGE, ImpactChoices.OUTAGE))
        refresh_flags()
        # With M2, M1 cuts par-r1 off (an outage); lon-r1 keeps LC: reduced redundancy.
        reached = affected_tenants(fetched(self.data.maintenances["M1"]))
        self.assertEqual(reached[z.pk].impact, ImpactChoices.OUTAGE)
        self.assertEqual(reached[w.pk].impact, ImpactChoices.REDUCED_REDUNDANCY)
        self.assertEqual([d.name for d in reached[w.pk].devices], ["lon-r1"])
        self.assertEqual([c.cid for c, _ in reached[w.pk].circuits], ["LA"])


class RecipientTests(CustomerTestCase):
    def test_contacts_and_teams_with_the_notice_role(self):
        self.assertEqual([r.address for r in tenant_recipients(self.x, DEFAULT_CONTACT_ROLE)], ["alice@x.example"])
        self.assertEqual(
            [r.address for r in tenant_recipients(self.y, DEFAULT_CONTACT_ROLE)], ["carol@y.example", "dan@y.example"]
        )
        self.customers.team.email = "noc@y.example"
        self.customers.team.validated_save()
        self.assertEqual([r.address for r in tenant_recipients(self.y, DEFAULT_CONTACT_ROLE)], ["noc@y.example"])
        # The configured role decides: Bob is X's billing contact.
        self.assertEqual([r.address for r in tenant_recipients(self.x, "Billing")], ["bob@x.example"])

    def test_the_tenants_own_list_replaces_its_contacts(self):
        TenantNoticeSettings.objects.create(tenant=self.x, recipients=["ops@x.example", "Alice@X.example"])
        found = tenant_recipients(self.x, DEFAULT_CONTACT_ROLE)
        self.assertEqual([(r.address, r.via) for r in found][0], ("ops@x.example", "tenant notice settings"))
        self.assertEqual(len(found), 2)


class DraftTests(CustomerTestCase):
    def test_one_draft_per_affected_tenant_with_its_recipients(self):
        draft_notices()
        (x_notice,) = self.notices(self.x)
        self.assertEqual(x_notice.state, NoticeStateChoices.DRAFT)
        self.assertEqual(x_notice.kind, NoticeKindChoices.NEW)
        self.assertEqual(x_notice.impact, ImpactChoices.OUTAGE)
        self.assertEqual(list(x_notice.maintenances.all()), [self.data.maintenances["M1"]])
        self.assertEqual([r.address for r in x_notice.recipients.all()], ["alice@x.example"])
        self.assertIn("PA", x_notice.body)
        self.assertNotIn("LA", x_notice.body)  # another customer's circuit in the same maintenance
        self.assertIn("LOC Tenant X", x_notice.subject)
        # Y: M3 only; M4 is cancelled and nobody was told of it.
        (y_notice,) = self.notices(self.y)
        self.assertEqual(list(y_notice.maintenances.all()), [self.data.maintenances["M3"]])
        self.assertEqual(y_notice.recipients.count(), 2)
        self.assertTrue(ObjectChange.objects.filter(changed_object_id=x_notice.pk).exists())

    def test_the_calendar_attached_is_the_feeds_with_only_the_tenants_circuits(self):
        draft_notices()
        (notice,) = self.notices(self.x)
        calendar = icalendar.Calendar.from_ical(notice.calendar)
        (event,) = calendar.walk("VEVENT")
        m1 = self.data.maintenances["M1"]
        self.assertEqual(event["X-MAINTNOTE-MAINTENANCE-ID"], m1.maintenance_id)
        self.assertEqual(event["X-MAINTNOTE-PROVIDER"], m1.provider.name)
        self.assertEqual(str(event["X-MAINTNOTE-OBJECT-ID"]), "PA")
        self.assertEqual(event.decoded("dtstart"), m1.start_time)
        self.assertEqual(event.decoded("dtend"), m1.end_time)

    def test_a_second_run_changes_nothing(self):
        draft_notices()
        before = {n.pk: n.last_updated for n in CustomerNotice.objects.all()}
        self.assertEqual(draft_notices().changes, [])
        self.assertEqual({n.pk: n.last_updated for n in CustomerNotice.objects.all()}, before)

    def test_overlapping_maintenances_make_one_notice(self):
        pb = Circuit.objects.get(cid="PB")
        pb.tenant = self.x
        pb.validated_save()
        draft_notices()
        (notice,) = self.notices(self.x)
        self.assertEqual(set(notice.maintenances.all()), {self.data.maintenances["M1"], self.data.maintenances["M2"]})
        self.assertEqual((notice.start_time, notice.end_time), (self.data.base, self.data.base + 6 * H))
        self.assertEqual(len(icalendar.Calendar.from_ical(notice.calendar).walk("VEVENT")), 2)
        # Moved apart, they make two notices: the one draft is rewritten and a second one is made.
        move(self.data.maintenances["M2"], 24)
        draft_notices()
        self.assertEqual(len(self.notices(self.x, NoticeStateChoices.DRAFT)), 2)
        self.assertTrue(CustomerNotice.objects.filter(pk=notice.pk, state=NoticeStateChoices.DRAFT).exists())

    def test_a_rescheduled_maintenance_updates_its_draft_not_duplicates_it(self):
        draft_notices()
        (notice,) = self.notices(self.x)
        move(self.data.maintenances["M1"], 3)
        changes = draft_notices(maintenance_pks=[self.data.maintenances["M1"].pk]).changes
        self.assertEqual([c.action for c in changes], ["update"])
        (again,) = self.notices(self.x)
        self.assertEqual(again.pk, notice.pk)
        self.assertEqual(again.start_time, self.data.base + 3 * H)
        self.assertNotEqual(again.fingerprint, notice.fingerprint)

    def test_an_approved_notice_rewritten_needs_a_new_approval(self):
        draft_notices()
        (notice,) = self.notices(self.x)
        CustomerNotice.objects.filter(pk=notice.pk).update(state=NoticeStateChoices.APPROVED)
        move(self.data.maintenances["M1"], 1)
        draft_notices()
        notice.refresh_from_db()
        self.assertEqual(notice.state, NoticeStateChoices.DRAFT)

    def test_a_sent_notice_gets_a_follow_up_when_its_maintenance_changes(self):
        draft_notices()
        (sent,) = self.notices(self.x)
        CustomerNotice.objects.filter(pk=sent.pk).update(state=NoticeStateChoices.SENT)
        move(self.data.maintenances["M1"], 2)
        draft_notices()
        follow_up = CustomerNotice.objects.get(follows=sent)
        self.assertEqual(follow_up.kind, NoticeKindChoices.UPDATED)
        self.assertEqual(follow_up.state, NoticeStateChoices.DRAFT)
        sent.refresh_from_db()
        self.assertEqual(sent.state, NoticeStateChoices.SENT)
        self.assertEqual(sent.start_time, self.data.base)  # what was sent is never rewritten
        # Cancelled: the follow-up (not sent yet) becomes the cancellation.
        m1 = self.data.maintenances["M1"]
        m1.status = MaintenanceStatusChoices.CANCELLED
        m1.save()
        draft_notices()
        follow_up.refresh_from_db()
        self.assertEqual(follow_up.kind, NoticeKindChoices.CANCELLED)
        self.assertIn("cancelled", follow_up.body)
        self.assertEqual(CustomerNotice.objects.filter(tenant=self.x).count(), 2)

    def test_a_draft_of_a_maintenance_cancelled_before_anyone_was_told_is_discarded(self):
        draft_notices()
        m1 = self.data.maintenances["M1"]
        m1.status = MaintenanceStatusChoices.CANCELLED
        m1.save()
        draft_notices()
        (notice,) = self.notices(self.x)
        self.assertEqual(notice.state, NoticeStateChoices.DISCARDED)

    def test_templates_for_a_provider_and_for_a_tenant(self):
        m1 = self.data.maintenances["M1"]
        CustomerNoticeTemplate.objects.create(
            name="Provider A", provider=m1.provider, subject="[A] {{ tenant }} {{ kind }}", body="A: {{ impact }}"
        )
        draft_notices()
        (notice,) = self.notices(self.x)
        self.assertEqual((notice.subject, notice.body), ("[A] LOC Tenant X new", "A: Outage"))
        CustomerNoticeTemplate.objects.create(
            name="For X",
            tenant=self.x,
            subject="Dear X",
            body="{% for m in maintenances %}{{ m.maintenance_id }} {{ m.windows[0].start }}{% endfor %}",
        )
        draft_notices()
        notice.refresh_from_db()
        self.assertEqual(notice.subject, "Dear X")
        self.assertEqual(notice.body, f"LOC-M1 {self.data.base:%Y-%m-%d %H:%M} UTC")

    def test_a_template_cannot_reach_outside_the_sandbox(self):
        CustomerNoticeTemplate.objects.create(
            name="Nosy", tenant=self.x, subject="s", body="{{ ''.__class__.__mro__[1].__subclasses__() }}"
        )
        from nautobot_ssot_circuit_maintenance.customers.render import NoticeTemplateError

        with self.assertRaises(NoticeTemplateError):
            draft_notices()

    def test_a_tenant_that_opted_out_gets_no_draft(self):
        TenantNoticeSettings.objects.create(tenant=self.x, notify=False)
        draft_notices()
        self.assertEqual(self.notices(self.x), [])
        self.assertEqual(len(self.notices(self.y)), 1)

    def test_new_contacts_reach_a_rewritten_draft(self):
        draft_notices()
        (notice,) = self.notices(self.x)
        associate(self.x, self.customers.role, contact=self.customers.bob)
        move(self.data.maintenances["M1"], 1)
        draft_notices()
        self.assertEqual(sorted(r.address for r in notice.recipients.all()), ["alice@x.example", "bob@x.example"])
