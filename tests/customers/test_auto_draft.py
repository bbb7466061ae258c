"""With `auto_draft`, the sync job drafts the notices of what it wrote: new, rescheduled, cancelled; without it, none.

Real mail (BCOP iCalendar notices of a provider read with the generic parser) in a folder source, synced by the
real job; the circuits belong to a tenant whose contact has the notice role.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from nautobot.apps.testing import TestCase
from nautobot.circuits.models import Circuit, CircuitType, Provider
from nautobot.extras.models import Contact
from nautobot.tenancy.models import Tenant

from nautobot_ssot_circuit_maintenance.choices import NoticeKindChoices, NoticeStateChoices
from nautobot_ssot_circuit_maintenance.intake.provision import ensure_custom_fields
from nautobot_ssot_circuit_maintenance.models import CustomerNotice
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD
from tests.fixtures.customer_data import associate, notice_role
from tests.fixtures.job_helpers import FolderSyncMixin
from tests.fixtures.sample_data import ical_notice
from tests.fixtures.site_data import _status

SENDER = "noc@carrier.example"
# ical_notice's window (2026-12-01 06:00–08:00 UTC), moved to days from now so the maintenance is still to come.
WINDOW = (b"20261201T060000Z", b"20261201T080000Z")


def future_notice(maintenance_id: str, days: int, *, sequence: int = 1, status: str = "CONFIRMED") -> bytes:
    start = (timezone.now() + timedelta(days=days)).replace(hour=6, minute=0, second=0, microsecond=0)
    stamps = [f"{moment:%Y%m%dT%H%M%SZ}".encode() for moment in (start, start + timedelta(hours=2))]
    raw = ical_notice(maintenance_id, ["CAR-A"], sender=SENDER, sequence=sequence, status=status)
    return raw.replace(WINDOW[0], stamps[0]).replace(WINDOW[1], stamps[1])


class AutoDraftTests(FolderSyncMixin, TestCase):
    settings = {"customer_notices": {"auto_draft": True}}

    def setUp(self):
        super().setUp()
        ensure_custom_fields()
        carrier = Provider.objects.create(name="Carrier")
        carrier._custom_field_data.update({EMAILS_FIELD: SENDER, PARSER_FIELD: "genericprovider"})
        carrier.validated_save()
        self.tenant = Tenant.objects.create(name="Initech")
        Circuit.objects.create(
            provider=carrier,
            cid="CAR-A",
            circuit_type=CircuitType.objects.get_or_create(name="Transit")[0],
            status=_status("Active", Circuit),
            tenant=self.tenant,
        )
        contact = Contact.objects.create(name="Ops", email="ops@initech.example")
        associate(self.tenant, notice_role(), contact=contact)

    def test_the_sync_drafts_updates_and_cancels(self):
        self.sync(("first", future_notice("CAR-1", 3)))
        (notice,) = CustomerNotice.objects.filter(tenant=self.tenant)
        self.assertEqual((notice.kind, notice.state), (NoticeKindChoices.NEW, NoticeStateChoices.DRAFT))
        self.assertEqual([r.address for r in notice.recipients.all()], ["ops@initech.example"])
        self.sync(("moved", future_notice("CAR-1", 4, sequence=2)))
        (notice,) = CustomerNotice.objects.filter(tenant=self.tenant)  # rewritten, not a second one
        self.assertEqual(notice.start_time.date(), (timezone.now() + timedelta(days=4)).date())
        CustomerNotice.objects.filter(pk=notice.pk).update(state=NoticeStateChoices.SENT)
        self.sync(("cancelled", future_notice("CAR-1", 4, sequence=3, status="CANCELLED")))
        follow_up = CustomerNotice.objects.get(follows=notice)
        self.assertEqual((follow_up.kind, follow_up.state), (NoticeKindChoices.CANCELLED, NoticeStateChoices.DRAFT))


class NoAutoDraftTests(AutoDraftTests):
    settings = {}

    def test_the_sync_drafts_updates_and_cancels(self):
        self.sync(("first", future_notice("CAR-1", 3)))
        self.assertFalse(CustomerNotice.objects.exists())
