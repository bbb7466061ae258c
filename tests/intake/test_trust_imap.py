"""The issue's forgeries through a real Dovecot: a real Zayo notice, a forged copy of it (cancelled, dated in year
8998), an iCalendar notice with SEQUENCE 2147483647, a display name that reads as the provider's address; then
the genuine notices sent again. The genuine notices rule in the end, and the display name rules nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from nautobot.apps.testing import TransactionTestCase
from nautobot.circuits.models import Circuit, Provider

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD
from tests.fixtures.corpus import load_corpus
from tests.fixtures.imap import ACCOUNT, DovecotTestMixin
from tests.fixtures.sample_data import create_providers_and_circuits, ical_notice

NOW = datetime.now(timezone.utc).replace(microsecond=0)
BCOP_SENDER = "noc@bcop-carrier.example"


def zayo4() -> bytes:
    return next(raw for name, raw, _ in load_corpus() if name == "zayo4")


def forged_cancellation(genuine: bytes) -> bytes:
    """The notice's copy that says it is cancelled, dated in year 8998, with a Message-ID of its own."""
    forged = genuine.replace(b"will be performing maintenance", b"has cancelled maintenance")
    forged = re.sub(rb"(?m)^Date: .*$", b"Date: Mon, 1 Jan 8998 00:00:00 +0000", forged, count=1)
    return re.sub(rb"(?m)^Message-ID: <", b"Message-ID: <forged.", forged, count=1)


class ForgeriesThroughImapTestCase(DovecotTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        providers = create_providers_and_circuits()
        self.carrier = Provider.objects.create(name="BCOP Carrier")
        self.carrier._custom_field_data.update({EMAILS_FIELD: BCOP_SENDER, PARSER_FIELD: "genericprovider"})
        self.carrier.validated_save()
        template = Circuit.objects.filter(provider=providers["zayo"]).first()
        Circuit.objects.create(
            provider=self.carrier, cid="BC-1", circuit_type=template.circuit_type, status=template.status
        )
        self.folder = f"Forgeries{self.id().rsplit('.', 1)[-1][:20]}"

    def deliver(self, raw: bytes, hours_ago: float) -> None:
        self.dovecot.append(ACCOUNT, raw, folder=self.folder, internal_date=NOW - timedelta(hours=hours_ago))
        with self.configured([self.imap_source(folder=self.folder)]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))

    def status(self, maintenance_id: str) -> str:
        return CircuitMaintenance.objects.get(maintenance_id=maintenance_id).status

    def test_three_forgeries_then_the_genuine_notices_again(self):
        genuine_zayo = zayo4()
        genuine_bcop = ical_notice("BC-MAINT-1", ["BC-1"], sender=BCOP_SENDER, date="Mon, 2 Nov 2026 10:00:00 +0000")
        self.deliver(genuine_zayo, 50)
        self.deliver(genuine_bcop, 49)
        self.assertEqual(self.status("TTN-0002345678"), "CONFIRMED")
        self.assertEqual(self.status("BC-MAINT-1"), "CONFIRMED")

        # 1. A forged copy dated in year 8998 says it is cancelled.
        self.deliver(forged_cancellation(genuine_zayo), 40)
        # 2. An iCalendar notice with SEQUENCE 2147483647 cancels the other.
        forged_bcop = ical_notice(
            "BC-MAINT-1",
            ["BC-1"],
            sender=BCOP_SENDER,
            sequence=2**31 - 1,
            status="CANCELLED",
            date="Mon, 2 Nov 2026 11:00:00 +0000",
        )
        self.deliver(forged_bcop, 39)
        jump = RawNotification.objects.get(subject__contains="BC-MAINT-1", outcome=OutcomeChoices.SEQUENCE_JUMP)
        self.assertTrue(RawNotification.objects.filter(pk=jump.pk).needs_triage().exists())
        # 3. A display name that reads as Zayo's address, from someone else's address.
        impostor = re.sub(
            rb"(?m)^From: .*$",
            b"From: =?utf-8?q?mr=40zayo=2Ecom?= <attacker@evil.example>",
            forged_cancellation(genuine_zayo),
            count=1,
        )
        impostor = impostor.replace(b"TTN-0002345678", b"TTN-0009999999")
        self.deliver(impostor, 38)
        self.assertFalse(CircuitMaintenance.objects.filter(maintenance_id="TTN-0009999999").exists())

        # The provider sends its notices again: the very same messages reach the mailbox once more.
        self.deliver(genuine_zayo, 2)
        self.deliver(genuine_bcop, 1)
        self.assertEqual(self.status("TTN-0002345678"), "CONFIRMED")
        self.assertEqual(self.status("BC-MAINT-1"), "CONFIRMED")
        self.assertFalse(CircuitMaintenance.objects.filter(maintenance_id="TTN-0009999999").exists())
        self.assertTrue(RawNotification.objects.filter(last_seen__isnull=False).exists(), "the sending again is kept")

    def test_all_in_one_second_and_one_sync(self):
        """The genuine notice, the forgery and the genuine notice again land within one second and are read by one
        sync: the mailbox's order of arrival (its UIDs) still decides which the forgery cannot outrank."""
        genuine_zayo = zayo4()
        moment = NOW - timedelta(hours=3)
        for raw in (genuine_zayo, forged_cancellation(genuine_zayo), genuine_zayo):
            self.dovecot.append(ACCOUNT, raw, folder=self.folder, internal_date=moment)
        with self.configured([self.imap_source(folder=self.folder)]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertEqual(self.status("TTN-0002345678"), "CONFIRMED")
        genuine = RawNotification.objects.exclude(message_key__startswith="mid:<forged.").get(
            subject__contains="TTN-0002345678"
        )
        self.assertIsNotNone(genuine.last_seen, "the second copy is kept as a sighting of the first")
