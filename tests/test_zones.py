"""The provider's time zone: found next to the times of a notice, verified against its window, named or not kept."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from django.test import SimpleTestCase

from nautobot_ssot_circuit_maintenance.display import format_provider_window
from nautobot_ssot_circuit_maintenance.intake.fold import APP_FACTS, Notice, fold
from nautobot_ssot_circuit_maintenance.intake.notice_facts import replaced_ids
from nautobot_ssot_circuit_maintenance.zones import provider_time_zone, zone_info


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


WINDOW = (utc(2026, 12, 8, 2), utc(2026, 12, 8, 4))


class ProviderTimeZoneTest(SimpleTestCase):
    def test_zones_written_next_to_the_window_times_are_named(self):
        for text, expected in (
            ("Start: 2026-12-08 03:00 CET, end: 2026-12-08 05:00 CET", "CET (UTC+01:00)"),
            ("Window 08/12/2026 9:00 PM EST - 11:00 PM EST", "EST (UTC-05:00)"),
            ("between 2026-12-08 04:00:00 - 2026-12-08 06:00:00 UTC+2", "UTC+02:00"),
            ("from 03:00 GMT+01:00 to 05:00 GMT+01:00", "UTC+01:00"),
            ("08-Dec-2026 19:00 to 08-Dec-2026 20:00 ( Pacific )", "America/Los_Angeles"),
            ("Start 02:00 UTC End 04:00 UTC", "UTC"),
            ("DTSTART;TZID=Europe/Paris:20261208T030000\r\nDTEND;TZID=Europe/Paris:20261208T050000", "Europe/Paris"),
        ):
            self.assertEqual(provider_time_zone(text, [WINDOW]), expected, text)

    def test_the_providers_own_zone_wins_over_utc_and_an_ambiguous_one_takes_the_offset_that_matches(self):
        text = "Activity Window (GMT) 2026-12-08 02:00 GMT to 04:00 GMT\nActivity Window (IST) 07:30 IST to 09:30 IST"
        self.assertEqual(provider_time_zone(text, [WINDOW]), "IST (UTC+05:30)")
        self.assertEqual(zone_info("IST (UTC+05:30)").utcoffset(None), timedelta(hours=5, minutes=30))

    def test_a_zone_that_does_not_fit_the_window_or_cannot_be_named_is_not_kept(self):
        for text in (
            "Received: Thu, 6 Mar 2025 19:49:27 -0800 (PST)\nStart: 2026-12-08 03:00",  # not next to the window
            "Start: 2026-12-08 03:00 PST",  # 03:00 PST is not this window
            "Start: 2026-12-08 03:00 XYZ",  # no such zone
            "Start: 2026-12-08 03:00 Cet",  # an abbreviation is written in capitals
            "DTSTART;TZID=Mars/Olympus_Mons:20261208T030000",
            "DTSTART;TZID=Pacific Standard Time:20261208T030000",
            "",
        ):
            self.assertEqual(provider_time_zone(text, [WINDOW]), "", text)
        self.assertEqual(provider_time_zone("03:00 CET", []), "")

    def test_stored_names_are_read_back_and_nothing_else(self):
        self.assertEqual(zone_info("CET (UTC+01:00)").tzname(None), "CET")
        self.assertEqual(zone_info("UTC-05:00").utcoffset(None), timedelta(hours=-5))
        self.assertEqual(zone_info("Europe/Paris").key, "Europe/Paris")
        for unknown in ("", "CET", "EST", "../../etc/passwd", "Mars/Olympus_Mons", "UTC+99:00", "X (UTC+01:00)"):
            self.assertIsNone(zone_info(unknown), unknown)

    def test_a_window_is_written_in_the_providers_zone_beside_utc(self):
        self.assertEqual(
            format_provider_window(*WINDOW, zone_info("CET (UTC+01:00)")),
            "2026-12-08 03:00–05:00 CET (02:00–04:00 UTC)",
        )
        late = (utc(2026, 12, 8, 23), utc(2026, 12, 9, 1))
        self.assertEqual(
            format_provider_window(*late, zone_info("Europe/Paris")),
            "2026-12-09 00:00–02:00 CET (2026-12-08 23:00–2026-12-09 01:00 UTC)",
        )


def notice(key: str, sequence: int, zone: str = "") -> Notice:
    maintenance = {
        "maintenance_id": "M-1",
        "status": "CONFIRMED",
        "start": int(WINDOW[0].timestamp()),
        "end": int(WINDOW[1].timestamp()),
        "sequence": sequence,
        "stamp": 0,
        "circuits": [],
    }
    if zone:
        maintenance[APP_FACTS] = {"time_zone": zone}
    return Notice(key, utc(2026, 12, 1) + timedelta(hours=sequence), (maintenance,))


class FoldTimeZoneTest(SimpleTestCase):
    def test_the_newest_notice_that_names_a_zone_decides_in_any_order(self):
        notices = [notice("a", 1, "CET (UTC+01:00)"), notice("b", 2, "Europe/Paris"), notice("c", 3)]
        for ordering in (notices, notices[::-1], [notices[1], notices[2], notices[0]]):
            self.assertEqual(fold(ordering).time_zone, "Europe/Paris")
        self.assertEqual(fold([notice("c", 3)]).time_zone, "")


class HostileTextTest(SimpleTestCase):
    def test_long_runs_that_would_make_a_pattern_backtrack_find_nothing(self):
        # Each used to be a catastrophic backtrack with unbounded gaps; now each is one pass over the text.
        for text in (
            "replaces" + " " * 200_000,
            "replaces the " * 50_000,
            "12:00" + " " * 200_000 + "x",
            "DTSTART;" + ";" * 200_000,
        ):
            self.assertEqual(replaced_ids(text, "M-1"), [])
            self.assertEqual(provider_time_zone(text, [WINDOW]), "")
