"""The corpus forwarded by a colleague, through the real job: read as the notices, as the direct mail is.

Every corpus notice is forwarded attached, inline as Gmail writes it and inline as Outlook writes it
(tests/fixtures/forwards.py), once by a configured forwarder and once by someone else, and the mail is put
in the folder in a shuffled order. The forwarder's give exactly the maintenances the direct mail gives (inline,
the quoted date is to the minute, so a stamp taken from the Date is that minute); the others are not unwrapped.
"""

from __future__ import annotations

import json
import os
import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from nautobot.apps.testing import TransactionTestCase
from nautobot.circuits.models import Provider

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.intake.fold import STATUS_PROGRESS
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, ParsedNotification, RawNotification
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD
from tests.fixtures.forwards import FORWARD, STRANGER, forward_attached
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.sample_data import (
    corpus_messages,
    create_providers_and_circuits,
    expected_maintenances,
    ical_notice,
)


def utc(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def to_the_minute(maintenance: dict) -> dict:
    """A maintenance as an inline forward gives it when its stamp came from the Date: that stamp to the minute."""
    return {**maintenance, "stamp": maintenance["stamp"] - maintenance["stamp"] % 60}


def expected_records(inline: bool) -> dict[str, tuple]:
    """maintenance id → (status, windows, circuit impacts) the corpus's notices imply: the newest decides."""
    notices = defaultdict(list)
    for name, _, _ in corpus_messages():
        for maintenance in expected_maintenances(name):
            notices[maintenance["maintenance_id"]].append(to_the_minute(maintenance) if inline else maintenance)
    records = {}
    for maintenance_id, items in notices.items():

        def order(m):
            return (m["sequence"], m["stamp"], STATUS_PROGRESS.get(m["status"], 0))

        newest = max(order(m) for m in items)
        decided = [m for m in items if order(m) == newest]
        with_circuits = [m for m in sorted(items, key=order) if m["circuits"]]
        impacts = {}
        if with_circuits:
            last = order(with_circuits[-1])
            impacts = {
                " ".join(c["circuit_id"].split()).upper(): c["impact"]
                for m in items
                if order(m) == last
                for c in m["circuits"]
            }
        windows = sorted({(utc(m["start"]), utc(m["end"])) for m in decided})
        records[maintenance_id] = (decided[0]["status"], windows, impacts)
    return records


class ForwardedCorpusTestCase(JobTestMixin, TransactionTestCase):
    def sync_forwarded(self, style: str) -> None:
        create_providers_and_circuits()
        folder = MailFolder("Forwards")
        self.addCleanup(folder.cleanup)
        mail = []
        for name, raw, _ in corpus_messages():
            mail.append((name, FORWARD[style](raw, f"{name}-{style}")))
            mail.append((name, FORWARD[style](raw, f"{name}-{style}-stranger", sender=STRANGER)))
        random.Random(style).shuffle(mail)
        for name, raw in mail:
            folder.add(raw, name)
        with self.configured([{**folder.source, "forwarders": ["@Example.net"]}]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        self.assertEqual(RawNotification.objects.count(), len(mail))

    def assert_as_direct(self, style: str) -> None:
        inline = style != "attached"
        parsed = defaultdict(list)
        for notification in ParsedNotification.objects.all():
            parsed[notification.raw_notification_id].append(json.dumps(notification.json, sort_keys=True))
        for name, _, _ in corpus_messages():
            forwarded = RawNotification.objects.get(message_key__startswith=f"mid:<{name}-{style}@example.net>")
            self.assertIn("nora@example.net", forwarded.forwarded_by, name)
            self.assertIsNotNone(forwarded.forwarded_at, name)
            self.assertEqual(forwarded.outcome, OutcomeChoices.PARSED, f"{name}: {forwarded.error}")
            self.assertNotIn("nora@example.net", forwarded.sender, name)
            expected = expected_maintenances(name)
            allowed = [{json.dumps(m, sort_keys=True), json.dumps(to_the_minute(m), sort_keys=True)} for m in expected]
            got = sorted(parsed[forwarded.pk])
            self.assertEqual(len(got), len(expected), name)
            if not inline:
                self.assertEqual(got, sorted(json.dumps(m, sort_keys=True) for m in expected), name)
            else:
                self.assertTrue(all(any(g in ok for ok in allowed) for g in got), name)

            stranger = RawNotification.objects.get(message_key__startswith=f"mid:<{name}-{style}-stranger@example.net>")
            self.assertEqual(stranger.outcome, OutcomeChoices.UNKNOWN_PROVIDER, name)
            self.assertEqual(stranger.forwarded_by, "")
            self.assertIn("sam@elsewhere.example", stranger.sender)
            self.assertEqual(parsed[stranger.pk], [])

        records = {
            record.maintenance_id: (
                record.status,
                [(w["start"], w["end"]) for w in record.windows],
                {
                    " ".join(cid.split()).upper(): impact
                    for cid, impact in record.circuit_impacts.values_list("circuit__cid", "impact")
                },
            )
            for record in CircuitMaintenance.objects.all()
        }
        self.assertEqual(records, expected_records(inline))

    def test_attached(self):
        self.sync_forwarded("attached")
        self.assert_as_direct("attached")

    def test_inline_gmail(self):
        self.sync_forwarded("gmail")
        self.assert_as_direct("gmail")

    def test_inline_outlook(self):
        self.sync_forwarded("outlook")
        self.assert_as_direct("outlook")


class ForwardedDateTestCase(JobTestMixin, TransactionTestCase):
    def test_a_notice_dated_after_its_forward_arrived_ranks_as_when_it_arrived(self):
        """The notice's date orders it, held to when the forward reached us: a later, honest one wins."""
        create_providers_and_circuits()
        carrier = Provider.objects.create(name="Forward Carrier")
        carrier._custom_field_data.update({EMAILS_FIELD: "noc@carrier.example", PARSER_FIELD: "genericprovider"})
        carrier.validated_save()
        folder = MailFolder()
        self.addCleanup(folder.cleanup)
        now = datetime.now(timezone.utc)
        claims = ical_notice("FWD-1", ["FWD-CID"], sender="noc@carrier.example", date="Thu, 01 Jan 2099 00:00:00 +0000")
        honest = ical_notice(
            "FWD-1",
            ["FWD-CID"],
            sender="noc@carrier.example",
            date=format_datetime(now - timedelta(days=1)),
            status="CANCELLED",
        )
        for name, notice, hours_ago in (("claims", claims, 2), ("honest", honest, 1)):
            path = folder.add(forward_attached(notice, f"fwd-{name}"), name)
            arrived = (now - timedelta(hours=hours_ago)).timestamp()
            os.utime(path, (arrived, arrived))
        with self.configured([{**folder.source, "forwarders": ["nora@example.net"]}]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        stored = RawNotification.objects.get(message_key__startswith="mid:<fwd-claims@example.net>")
        self.assertEqual(stored.date.year, 2099, "the notice's own date is stored as it claims")
        self.assertEqual(CircuitMaintenance.objects.get(maintenance_id="FWD-1").status, "CANCELLED")
