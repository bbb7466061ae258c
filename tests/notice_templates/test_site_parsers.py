"""Site parsers: a distribution that registers a parser class in the `nautobot_ssot_circuit_maintenance.parsers`
entry point group reads its provider's mail, in the parse workers, through the real sync job.

The distribution is real (tests/fixtures/site_parser_dist: a module and its .dist-info), put on the path of this
process and of the parse workers it starts.
"""

from __future__ import annotations

import importlib
import os
import sys
from email.message import EmailMessage
from pathlib import Path

from django.core.exceptions import ValidationError
from nautobot.apps.testing import TransactionTestCase
from nautobot.circuits.models import Circuit, CircuitType, Provider
from nautobot.extras.models import Status

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.intake.provision import ensure_custom_fields
from nautobot_ssot_circuit_maintenance.intake.workers import close_parse_pools
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, RawNotification
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD, parser_name_for
from nautobot_ssot_circuit_maintenance.site_parsers import GROUP, site_parser, site_parser_names
from tests.fixtures.job_helpers import FolderSyncMixin
from tests.fixtures.sample_data import content_type

DIST = str(Path(__file__).resolve().parent.parent / "fixtures" / "site_parser_dist")
SENDER = "noc@examplenet.example"


def examplenet_notice() -> bytes:
    message = EmailMessage()
    message["From"] = f"ExampleNet NOC <{SENDER}>"
    message["To"] = "noc@customer.example"
    message["Subject"] = "ExampleNet maintenance EXN-42"
    message["Date"] = "Mon, 12 Apr 2027 09:00:00 +0000"
    message["Message-ID"] = "<exn-42@examplenet.example>"
    message.set_content(
        "Maintenance: EXN-42\nCircuits: EXN-C1, EXN-C2\nStart: 2027-05-01T22:00:00+00:00\n"
        "End: 2027-05-02T02:00:00+00:00\nStatus: confirmed\nReason: Line card swap\n"
    )
    return message.as_bytes()


class InstalledDistribution:
    """The test distribution on this process's path and, through PYTHONPATH, on the parse workers'."""

    def __enter__(self) -> InstalledDistribution:
        close_parse_pools()  # workers started before would not see it
        self.pythonpath = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [DIST, self.pythonpath]))
        sys.path.insert(0, DIST)
        importlib.invalidate_caches()
        return self

    def __exit__(self, *exc: object) -> None:
        sys.path.remove(DIST)
        sys.modules.pop("examplenet_parser", None)
        if self.pythonpath is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = self.pythonpath
        importlib.invalidate_caches()
        close_parse_pools()


class SiteParserTest(FolderSyncMixin, TransactionTestCase):
    settings = {"raw_notification_size": 1_000_000}

    def setUp(self):
        super().setUp()
        ensure_custom_fields()
        self.provider = Provider.objects.create(name="ExampleNet")
        self.provider._custom_field_data[EMAILS_FIELD] = SENDER
        self.provider.validated_save()
        circuit_type, _ = CircuitType.objects.get_or_create(name="Transit")
        active = Status.objects.get(name="Active")
        active.content_types.add(content_type(Circuit))
        for cid in ("EXN-C1", "EXN-C2"):
            Circuit.objects.create(cid=cid, provider=self.provider, circuit_type=circuit_type, status=active)

    def test_the_entry_point_is_found_only_while_the_distribution_is_installed(self):
        self.assertNotIn("examplenet", site_parser_names())
        self.assertIsNone(parser_name_for("ExampleNet", None))
        with InstalledDistribution():
            self.assertIn("examplenet", site_parser_names())
            self.assertEqual(parser_name_for("ExampleNet", None), "examplenet")
            self.assertEqual(type(site_parser("ExampleNet")).__name__, "ExampleNet")
            with self.assertRaisesRegex(LookupError, f"no parser is registered as 'nobody' in {GROUP}"):
                site_parser("nobody")

    def test_a_provider_may_name_a_site_parser_only_while_it_is_installed(self):
        self.provider._custom_field_data[PARSER_FIELD] = "examplenet"
        with self.assertRaisesRegex(ValidationError, "Unknown parser 'examplenet'"):
            self.provider.validated_save()
        with InstalledDistribution():
            self.provider.validated_save()

    def test_the_site_parser_reads_its_providers_mail_through_the_sync(self):
        with InstalledDistribution():
            self.sync(("exn-42", examplenet_notice()))
        raw = RawNotification.objects.get()
        self.assertEqual(raw.outcome, OutcomeChoices.PARSED, raw.error)
        record = CircuitMaintenance.objects.get(provider=self.provider)
        self.assertEqual(record.maintenance_id, "EXN-42")
        self.assertEqual(record.status, "CONFIRMED")
        self.assertEqual(sorted(record.circuit_impacts.values_list("circuit__cid", flat=True)), ["EXN-C1", "EXN-C2"])
        self.assertEqual(record.start_time.isoformat(), "2027-05-01T22:00:00+00:00")

    def test_without_the_distribution_the_mail_fails_to_parse(self):
        self.sync(("exn-42", examplenet_notice()))
        self.assertEqual(RawNotification.objects.get().outcome, OutcomeChoices.PARSING_FAILED)
