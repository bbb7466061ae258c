"""The provider's time zone through the real sync job: stored on the maintenance, shown beside UTC, in REST."""

from __future__ import annotations

from nautobot.apps.testing import TransactionTestCase
from nautobot.circuits.models import Provider

from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, ParsedNotification
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD
from tests.fixtures.job_helpers import FolderSyncMixin
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits, ical_notice

MESSAGES = corpus_by_name()
SENDER = "noc@zone-carrier.example"


def paris_notice(maintenance_id: str, sequence: int, *, tzid: bool = True) -> bytes:
    """A BCOP notice whose window, 2026-12-01 06:00–08:00 UTC, is written in Europe/Paris (or in UTC)."""
    raw = ical_notice(maintenance_id, ["ZC-1"], sender=SENDER, sequence=sequence).decode()
    if tzid:
        raw = raw.replace("DTSTART;VALUE=DATE-TIME:20261201T060000Z", "DTSTART;TZID=Europe/Paris:20261201T070000")
        raw = raw.replace("DTEND;VALUE=DATE-TIME:20261201T080000Z", "DTEND;TZID=Europe/Paris:20261201T090000")
    return raw.encode()


class ProviderTimeZoneSyncTest(FolderSyncMixin, TransactionTestCase):
    settings = {"raw_notification_size": 1_000_000}

    def setUp(self):
        super().setUp()
        self.providers = create_providers_and_circuits()
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance", "circuits.view_provider")
        self.client.force_login(self.user)

    def test_corpus_zones_are_stored_and_shown_beside_utc(self):
        self.sync(("crowncastle1", MESSAGES["crowncastle1"]), ("zayo5", MESSAGES["zayo5"]), ("aws3", MESSAGES["aws3"]))
        crown = CircuitMaintenance.objects.get(provider=self.providers["crowncastle"])
        # The subject: "… on 1/3/2024 3:00 AM EST".
        self.assertEqual(crown.provider_time_zone, "EST (UTC-05:00)")
        zayo = CircuitMaintenance.objects.get(provider=self.providers["zayo"])
        # "01-Nov-2021 00:01 to 01-Nov-2021 05:00 ( Mountain )" beside the same window in GMT: the provider's own.
        self.assertEqual(zayo.provider_time_zone, "America/Denver")
        self.assertEqual(zayo.provider_windows()[0], "2021-11-01 00:01–05:00 MDT (06:01–11:00 UTC)")
        page = self.client.get(zayo.get_absolute_url()).content.decode()
        self.assertIn("Provider&#x27;s time", page)
        # Each half unbroken, a space between: a narrow panel wraps there.
        self.assertIn('2021-11-01 00:01–05:00 MDT</span> <span class="text-nowrap">(06:01–11:00 UTC)</span>', page)
        # AWS writes its times in GMT only: kept as GMT; nothing is guessed for a zone it does not write.
        aws = CircuitMaintenance.objects.get(provider=self.providers["aws"])
        self.assertEqual(aws.provider_time_zone, "GMT")
        api = self.client.get(zayo.get_absolute_url(api=True)).json()
        self.assertEqual(api["provider_time_zone"], "America/Denver")
        self.assertEqual(api["provider_windows"][0]["start"], "2021-11-01T00:01:00-06:00")
        self.assertEqual(api["provider_windows"][0]["text"], "2021-11-01 00:01–05:00 MDT (06:01–11:00 UTC)")

    def test_the_newest_notice_naming_a_zone_decides_and_the_field_stays_hidden_without_one(self):
        carrier = Provider.objects.create(name="Zone Carrier")
        carrier._custom_field_data.update({EMAILS_FIELD: SENDER, PARSER_FIELD: "genericprovider"})
        carrier.validated_save()
        self.sync(("first", paris_notice("ZC-M1", 1, tzid=False)))
        maintenance = CircuitMaintenance.objects.get(provider=carrier)
        self.assertEqual(maintenance.provider_time_zone, "")
        self.assertNotIn("Provider&#x27;s time", self.client.get(maintenance.get_absolute_url()).content.decode())
        self.assertEqual(self.client.get(maintenance.get_absolute_url(api=True)).json()["provider_windows"], [])

        self.sync(("second", paris_notice("ZC-M1", 2)))
        maintenance.refresh_from_db()
        self.assertEqual(maintenance.provider_time_zone, "Europe/Paris")
        self.assertEqual(maintenance.provider_windows(), ["2026-12-01 07:00–09:00 CET (06:00–08:00 UTC)"])
        self.assertEqual(
            ParsedNotification.objects.filter(maintenance=maintenance).exclude(read_by_app={}).get().read_by_app,
            {"time_zone": "Europe/Paris"},
        )
        self.assertNotIn("read_by_app", ParsedNotification.objects.filter(maintenance=maintenance).first().json)
        # A newer notice without a zone keeps the zone known.
        self.sync(("third", paris_notice("ZC-M1", 3, tzid=False)))
        maintenance.refresh_from_db()
        self.assertEqual(maintenance.provider_time_zone, "Europe/Paris")
        # Idempotent: the same mail again changes nothing.
        self.sync()
        maintenance.refresh_from_db()
        self.assertEqual(maintenance.provider_time_zone, "Europe/Paris")
