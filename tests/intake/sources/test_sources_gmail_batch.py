"""A Gmail backlog read in HTTP batch requests: the real googleapiclient BatchHttpRequest against the loopback Gmail.

Each test compares what was read with the mailbox itself, counts the HTTP requests the loopback
received, and makes single calls inside a batch answer 429, 5xx, 404 or a refusal.
"""

from __future__ import annotations

import unittest
from datetime import datetime, timedelta, timezone

from nautobot_ssot_circuit_maintenance.config import ConfigurationError, validate_config
from nautobot_ssot_circuit_maintenance.intake.sources import SourceError
from tests.intake.sources.test_sources_gmail import LoopbackGmailMixin

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SINCE = NOW - timedelta(days=7)
GMAIL_URL = "https://accounts.google.com/o/oauth2/auth"


def mail(number: int, padding: int = 0) -> bytes:
    return (
        f"From: Carrier NOC <noc@carrier.example>\r\nSubject: notice {number}\r\n"
        f"Message-ID: <n{number}@carrier.example>\r\n\r\nbody {number}\r\n"
    ).encode() + b"p" * padding


class GmailBatchTestCase(LoopbackGmailMixin, unittest.TestCase):
    fake_gmail_options = {"page_size": 500}

    def backlog(self, count: int) -> list[str]:
        return [self.gmail.add(mail(n), NOW - timedelta(minutes=count - n)) for n in range(count)]

    def test_a_backlog_takes_a_handful_of_requests_and_reads_what_one_request_per_message_reads(self):
        ids = self.backlog(120)
        batched, cursor = self.read(self.source())
        self.assertEqual([m.raw for m in batched], [mail(n) for n in range(120)])
        self.assertEqual([m.location for m in batched], [f"gmail:{i}" for i in ids])
        self.assertEqual(batched[0].received, NOW - timedelta(minutes=120))
        # A token, a listing page, then batches of at most 50 calls: sizes, then the raw messages.
        self.assertLessEqual(self.gmail.requests, 10)
        self.assertLessEqual(max(self.gmail.batch_calls), 50)
        self.assertEqual(sum(self.gmail.batch_calls), 240)
        self.assertEqual(set(cursor["seen"]), set(ids[59:]))  # the newest hour of mail

        before = self.gmail.requests
        single, single_cursor = self.read(self.source(api_batch_size=1))
        self.assertEqual(
            [(m.raw, m.location, m.received) for m in single], [(m.raw, m.location, m.received) for m in batched]
        )
        self.assertEqual(single_cursor, cursor)
        self.assertGreaterEqual(self.gmail.requests - before, 120)
        self.assertEqual(self.gmail.batches, 6)  # none more: one request per message

    def test_a_throttled_or_failed_call_is_sent_again_in_a_later_batch(self):
        ids = self.backlog(60)
        self.gmail.fail(ids[7], 429, form="raw")
        self.gmail.fail(ids[30], 503, form="minimal")
        self.gmail.fail(ids[45], 403, times=2, form="raw")  # userRateLimitExceeded, twice
        messages, _ = self.read(self.source(api_batch_size=20))
        self.assertEqual([m.raw for m in messages], [mail(n) for n in range(60)])
        self.assertEqual(self.gmail.faults, {ids[7]: [], ids[30]: [], ids[45]: []})
        # 3 batches of sizes and 3 of messages, plus a batch of one id per retry (sent as a plain request).
        self.assertEqual(self.gmail.batch_calls, [20, 20, 20, 20, 20, 20])

    def test_a_batch_request_that_gets_no_answer_is_sent_again(self):
        self.backlog(8)
        self.gmail.drop_batches = 2  # the sizes, then their second try
        messages, _ = self.read(self.source())
        self.assertEqual([m.raw for m in messages], [mail(n) for n in range(8)])
        self.assertEqual(self.gmail.batch_calls, [8, 8, 8, 8])

    def test_throttling_that_outlasts_every_attempt_fails_the_source_after_the_batches_before_it(self):
        ids = self.backlog(6)
        self.gmail.fail(ids[4], 429, times=5, form="raw")
        source = self.source(api_batch_size=2)
        source.batch_size = 2
        read, cursor = [], None
        with self.assertRaisesRegex(SourceError, "Gmail API error 429 while reading messages: Too many concurrent"):
            for batch in source.fetch(None, SINCE):
                read.extend(batch.messages)
                cursor = batch.cursor
        self.assertEqual([m.raw for m in read], [mail(n) for n in range(4)])
        rest, _ = self.read(self.source(), cursor)
        self.assertEqual([m.raw for m in rest], [mail(4), mail(5)])

    def test_a_message_deleted_after_the_listing_is_skipped(self):
        ids = self.backlog(10)
        self.gmail.fail(ids[2], 404, form="minimal")  # gone before its size was asked
        self.gmail.fail(ids[6], 404, form="raw")  # gone between its size and its content
        messages, cursor = self.read(self.source())
        self.assertEqual([m.raw for m in messages], [mail(n) for n in range(10) if n not in (2, 6)])
        self.assertNotIn(ids[2], cursor["seen"])
        self.assertNotIn(ids[6], cursor["seen"])
        # Deleted for good, it is never asked for again; still there (here), it is read by the next run.
        again, _ = self.read(self.source(), cursor)
        self.assertEqual([m.raw for m in again], [mail(2), mail(6)])

    def test_the_last_message_deleted_still_ends_the_listing(self):
        ids = self.backlog(3)
        self.gmail.fail(ids[2], 404, times=2)
        batches = list(self.source().fetch(None, SINCE))
        self.assertEqual([m.raw for m in batches[-1].messages], [mail(0), mail(1)])
        self.assertEqual(batches[-1].cursor["after"], int((NOW - timedelta(minutes=2)).timestamp()) - 3600)

    def test_any_other_refusal_of_a_call_is_the_sources_error_without_secrets(self):
        ids = self.backlog(5)
        self.gmail.echo_requests = True  # the refusal repeats the call's Authorization header
        self.gmail.fail(ids[3], 400, form="raw")
        with self.assertRaisesRegex(
            SourceError, "Gmail API error 400 while reading messages: Invalid id value"
        ) as caught:
            self.read(self.source())
        self.assertTrue(self.gmail.tokens)
        for token in self.gmail.tokens:
            self.assertNotIn(token, str(caught.exception))
        self.assertNotIn("Bearer", str(caught.exception).replace("Bearer ***", ""))

    def test_one_batch_answer_carries_a_bounded_amount_of_mail(self):
        for number in range(1, 5):
            self.gmail.add(mail(number, padding=30_000), NOW - timedelta(hours=10 - number))
        self.gmail.add(mail(5, padding=400_000), NOW - timedelta(hours=1))
        source = self.source()
        source.set_limits(max_message_bytes=300_000, batch_bytes=70_000)
        messages, _ = self.read(source)
        self.assertEqual([m.raw[:40] for m in messages], [mail(n)[:40] for n in range(1, 6)])
        self.assertEqual(messages[-1].size, len(mail(5, padding=400_000)))
        # Sizes of all five in one batch; then two messages a batch; the big one alone, as a plain request.
        self.assertEqual(self.gmail.batch_calls, [5, 2, 2])
        self.assertEqual(self.gmail.gets, 5)

    def test_api_batch_size_is_validated(self):
        entry = {"name": "G", "url": GMAIL_URL, "account": "a@example.net", "credentials_file": "/etc/g.json"}
        validate_config({"notification_sources": [{**entry, "api_batch_size": 1}]})
        validate_config({"notification_sources": [{**entry, "api_batch_size": 100}]})
        for wrong in (0, 101, "50"):
            with self.subTest(wrong), self.assertRaisesRegex(ConfigurationError, "api_batch_size"):
                validate_config({"notification_sources": [{**entry, "api_batch_size": wrong}]})
