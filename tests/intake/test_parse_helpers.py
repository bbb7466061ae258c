"""The pure helpers of intake/parse.py: what PostgreSQL accepts, keys, dates, the checks on parser output."""

from __future__ import annotations

import email
import unittest
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from nautobot_ssot_circuit_maintenance.intake.parse import (
    MAINTENANCE_ID_MAX_LENGTH,
    check_maintenance,
    check_maintenance_id,
)
from nautobot_ssot_circuit_maintenance.mail.headers import (
    believable,
    decoded_header,
    message_date,
    message_key,
    raw_key,
)
from nautobot_ssot_circuit_maintenance.mail.storable import storable_json, storable_text
from nautobot_ssot_circuit_maintenance.validation import MAX_CIRCUIT_ID_LENGTH, MAX_CIRCUIT_IDS

RECEIVED = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def maintenance(**changes) -> dict:
    base = {
        "maintenance_id": "M-1",
        "start": 1_700_000_000,
        "end": 1_700_003_600,
        "stamp": 1_699_000_000,
        "sequence": 1,
        "circuits": [{"circuit_id": "CID-1", "impact": "OUTAGE"}],
    }
    return {**base, **changes}


class StorableTestCase(unittest.TestCase):
    def test_text_loses_nul_surrogates_and_whitespace_runs(self):
        self.assertEqual(storable_text("  a\x00b\t\n c  "), "a b c")
        self.assertEqual(storable_text("x\udc80y"), "x?y")
        self.assertEqual(storable_text("abcdef", 3), "abc")

    @settings(max_examples=200, deadline=None)
    @given(st.text(), st.one_of(st.none(), st.integers(min_value=0, max_value=50)))
    def test_any_text_becomes_valid_utf8_without_nul_within_its_limit(self, value, limit):
        text = storable_text(value, limit)
        self.assertNotIn("\x00", text)
        text.encode("utf-8")  # no lone surrogate left
        if limit is not None:
            self.assertLessEqual(len(text), limit)
        self.assertEqual(text, text.lstrip())  # a cut may end on the space between two words
        self.assertNotIn("  ", text)

    def test_json_cleans_strings_and_keys_at_any_depth(self):
        value = {"a\x00": ["x\x00y", {"k": "\udc80"}], 1: 2.5, "n": None, "b": True}
        self.assertEqual(storable_json(value), {"a": ["xy", {"k": "?"}], "1": 2.5, "n": None, "b": True})

    @settings(max_examples=100, deadline=None)
    @given(
        st.recursive(
            st.text() | st.integers() | st.none(), lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids)
        )
    )
    def test_any_json_has_no_nul_left(self, value):
        import json

        dumped = json.dumps(storable_json(value))
        self.assertNotIn("\\u0000", dumped)


class HeadersAndKeysTestCase(unittest.TestCase):
    def test_encoded_words_are_decoded_and_broken_ones_kept_as_written(self):
        message = email.message_from_string(
            "Subject: =?utf-8?q?Wartung_=C3=BCber_Nacht?=\nFrom: =?bogus-charset?b?!!?= <noc@x.example>\n\nbody"
        )
        self.assertEqual(decoded_header(message, "Subject"), "Wartung über Nacht")
        self.assertIn("noc@x.example", decoded_header(message, "From"))
        self.assertEqual(decoded_header(message, "X-Missing"), "")

    def test_message_key_follows_the_body_not_the_transport_headers(self):
        body = b"\n\nthe notice\n"
        first = b"Received: from a\nMessage-ID: <m1@x>" + body
        second = b"Received: from b\r\nX-Other: 1\r\nMessage-ID: <m1@x>" + body.replace(b"\n", b"\r\n")
        key = message_key(email.message_from_bytes(first), first)
        self.assertTrue(key.startswith("mid:<m1@x>#"))
        self.assertEqual(key, message_key(email.message_from_bytes(second), second))
        # The same Message-ID on another notice is another key.
        other = b"Message-ID: <m1@x>\n\nanother notice\n"
        self.assertNotEqual(key, message_key(email.message_from_bytes(other), other))

    def test_without_a_message_id_the_whole_message_is_the_key(self):
        raw = b"Subject: x\n\nbody"
        self.assertEqual(message_key(email.message_from_bytes(raw), raw), raw_key(raw))
        self.assertRegex(raw_key(raw), r"^sha256:[0-9a-f]{64}$")

    def test_a_huge_message_id_is_cut(self):
        raw = b"Message-ID: <" + b"x" * 5000 + b">\n\nbody"
        key = message_key(email.message_from_bytes(raw), raw)
        self.assertLessEqual(len(key), len("mid:") + 200 + 1 + 16)


class DatesTestCase(unittest.TestCase):
    def test_believable_dates_are_utc_and_between_1970_and_9000(self):
        naive = datetime(2024, 1, 2, 3, 4)
        self.assertEqual(believable(naive), naive.replace(tzinfo=timezone.utc))
        plus2 = datetime(2024, 1, 2, 5, 4, tzinfo=timezone(timedelta(hours=2)))
        self.assertEqual(believable(plus2), datetime(2024, 1, 2, 3, 4, tzinfo=timezone.utc))
        self.assertIsNone(believable(None))
        self.assertIsNone(believable(datetime(1969, 12, 31, 23, 59, tzinfo=timezone.utc)))
        self.assertIsNone(believable(datetime(9000, 1, 1, tzinfo=timezone.utc)))
        self.assertIsNone(believable(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))))  # overflows to UTC

    def test_the_date_header_wins_else_the_received_time(self):
        dated = email.message_from_string("Date: Tue, 07 May 2024 10:00:00 +0200\n\nx")
        self.assertEqual(message_date(dated, RECEIVED), (datetime(2024, 5, 7, 8, 0, tzinfo=timezone.utc), True))
        for header in ("", "Date: not a date\n", "Date: Fri, 01 Jan 10000 00:00:00 +0000\n", "Date: 1 Jan 1900\n"):
            message = email.message_from_string(f"{header}\nx")
            self.assertEqual(message_date(message, RECEIVED), (RECEIVED, False), header)

    def test_with_no_believable_date_at_all_it_is_now(self):
        before = datetime.now(timezone.utc)
        date, from_header = message_date(email.message_from_string("\nx"), None)
        self.assertFalse(from_header)
        self.assertLessEqual(before, date)
        self.assertLessEqual(date, datetime.now(timezone.utc))


class MaintenanceChecksTestCase(unittest.TestCase):
    def test_a_good_maintenance_passes(self):
        check_maintenance(maintenance())
        check_maintenance(maintenance(stamp=None, sequence=None, circuits=[]))

    def test_the_id_must_be_text_that_fits(self):
        for value in (None, "", "   ", 17):
            with self.assertRaisesRegex(ValueError, "no maintenance id"):
                check_maintenance_id(value)
        check_maintenance_id("x" * MAINTENANCE_ID_MAX_LENGTH)
        with self.assertRaisesRegex(ValueError, "more than 255"):
            check_maintenance_id("x" * (MAINTENANCE_ID_MAX_LENGTH + 1))

    def test_refused_maintenances(self):
        refused = {
            "start before 1970": maintenance(start=-1),
            "end in year 9000": maintenance(end=int(datetime(9000, 1, 1, tzinfo=timezone.utc).timestamp())),
            "start not a number": maintenance(start="soon"),
            "missing end": maintenance(end=None),
            "ends before it starts": maintenance(end=1_699_999_999),
            "sequence too large": maintenance(sequence=2**31),
            "sequence not a number": maintenance(sequence="2"),
            "too many circuits": maintenance(circuits=[{"circuit_id": "c"}] * (MAX_CIRCUIT_IDS + 1)),
            "circuit id too long": maintenance(circuits=[{"circuit_id": "c" * (MAX_CIRCUIT_ID_LENGTH + 1)}]),
            "circuit id not text": maintenance(circuits=[{"circuit_id": 5}]),
            "circuit not an object": maintenance(circuits=["CID-1"]),
            "control character": maintenance(circuits=[{"circuit_id": "CID\x07"}]),
        }
        for case, value in refused.items():
            with self.subTest(case), self.assertRaises(ValueError):
                check_maintenance(value)

    def test_whitespace_in_a_circuit_id_is_not_a_control_character(self):
        check_maintenance(maintenance(circuits=[{"circuit_id": "CID 1\t2"}]))
