"""GmailSource through the real google-api-python-client and google-auth, against a loopback Gmail (no database)."""

from __future__ import annotations

import shutil
import tempfile
import unittest
from datetime import datetime, timedelta, timezone
from pathlib import Path

from nautobot_ssot_circuit_maintenance.config import SourceSettings
from nautobot_ssot_circuit_maintenance.intake.sources import GmailSource, SourceError, get_source
from nautobot_ssot_circuit_maintenance.intake.sources.gmail import OVERLAP_SECONDS
from tests.servers.gmail_server import MODIFY, FakeGmail, new_private_key

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SINCE = NOW - timedelta(days=7)
GMAIL_URL = "https://accounts.google.com/o/oauth2/auth"


def mail(number: int, sender: str = "noc@carrier.example") -> bytes:
    return (
        f"From: Carrier NOC <{sender}>\r\nSubject: notice {number}\r\nMessage-ID: <n{number}@carrier.example>\r\n"
        f"\r\nbody {number}\r\n"
    ).encode()


class LoopbackGmailMixin:
    """A loopback Gmail with a service-account key for it; `source()` reads it through the real client stack."""

    fake_gmail_options: dict = {}

    def setUp(self) -> None:
        self.gmail = FakeGmail(**self.fake_gmail_options).start()
        self.addCleanup(self.gmail.stop)
        self.dir = Path(tempfile.mkdtemp(prefix="cm-gmail-"))
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.key_file = self.gmail.service_account_file(self.dir / "sa.json")

    def source(self, credentials: Path | None = None, **extra) -> GmailSource:
        settings = SourceSettings(
            name="Gmail NOC",
            url=GMAIL_URL,
            account=self.gmail.account,
            extra={"credentials_file": str(credentials or self.key_file), "api_endpoint": self.gmail.url, **extra},
        )
        source = get_source(settings)
        self.assertIsInstance(source, GmailSource)
        source.retry_delay = 0.01  # the backoff's first pause, in seconds
        self.addCleanup(source.close)
        return source

    def read(self, source: GmailSource, cursor: dict | None = None) -> tuple[list, dict]:
        messages, last = [], cursor
        for batch in source.fetch(cursor, SINCE):
            messages.extend(batch.messages)
            last = batch.cursor
        return messages, last


class GmailSourceTestCase(LoopbackGmailMixin, unittest.TestCase):
    def test_first_run_reads_the_look_back_window_oldest_first_then_only_new_mail(self):
        self.gmail.add(mail(0), NOW - timedelta(days=30))  # before the look-back window
        for number in range(1, 8):  # 7 messages over 3 pages of the listing
            self.gmail.add(mail(number), NOW - timedelta(hours=10 - number))
        source = self.source()
        source.batch_size = 3
        messages, cursor = self.read(source)
        self.assertEqual([m.raw for m in messages], [mail(n) for n in range(1, 8)])
        self.assertEqual(messages[0].location, "gmail:0000000000000002")
        self.assertEqual(messages[0].received, NOW - timedelta(hours=9))
        self.assertEqual(self.gmail.queries[0], f"after:{int(SINCE.timestamp())}")

        again, cursor = self.read(self.source(), cursor)
        self.assertEqual(again, [])
        self.gmail.add(mail(8), NOW)
        new, _ = self.read(self.source(), cursor)
        self.assertEqual([m.raw for m in new], [mail(8)])

    def test_batches_bounded_by_bytes_and_oversized_messages_kept_as_their_head(self):
        padding = b"x" * 30_000
        for number in range(1, 5):
            self.gmail.add(mail(number) + padding, NOW - timedelta(hours=10 - number))
        self.gmail.add(mail(5) + b"y" * 400_000, NOW - timedelta(hours=1))
        source = self.source()
        source.set_limits(max_message_bytes=300_000, batch_bytes=60_000)
        batches = list(source.fetch(None, SINCE))
        self.assertEqual([len(batch.messages) for batch in batches], [2, 2, 1])
        self.assertEqual(
            [m.raw for batch in batches[:2] for m in batch.messages], [mail(n) + padding for n in range(1, 5)]
        )
        head = batches[2].messages[0]
        self.assertEqual(head.size, len(mail(5)) + 400_000)
        self.assertTrue(head.raw.startswith(mail(5)))
        self.assertLessEqual(len(head.raw), 256 * 1024)
        # Only the last batch's cursor moves the bound past the listing.
        self.assertIn("seen", batches[0].cursor)
        self.assertEqual(batches[-1].cursor["after"], int((NOW - timedelta(hours=1)).timestamp()) - OVERLAP_SECONDS)

    def test_cursor_keeps_an_hour_of_overlap_for_late_indexed_mail(self):
        self.gmail.add(mail(1), NOW)
        _, cursor = self.read(self.source())
        self.assertEqual(cursor["after"], int(NOW.timestamp()) - OVERLAP_SECONDS)
        # Stamped before the newest mail read, but searchable only now: still read, and only once.
        self.gmail.add(mail(2), NOW - timedelta(minutes=5))
        late, cursor = self.read(self.source(), cursor)
        self.assertEqual([m.raw for m in late], [mail(2)])
        self.assertEqual(self.read(self.source(), cursor)[0], [])

    def test_a_dropped_connection_fails_clearly_and_the_last_cursor_resumes_without_duplicates(self):
        for number in range(6):
            self.gmail.add(mail(number), NOW - timedelta(minutes=60 - number))
        self.gmail.drop_gets_after = 4
        source = self.source()
        source.batch_size = 2
        read, cursor = [], None
        with self.assertRaisesRegex(SourceError, "cannot reach the Gmail API while reading messages"):
            for batch in source.fetch(None, SINCE):
                read.extend(batch.messages)
                cursor = batch.cursor
        self.assertEqual(len(read), 4)
        self.gmail.drop_gets_after = None
        rest, _ = self.read(self.source(), cursor)
        self.assertEqual([m.raw for m in read + rest], [mail(n) for n in range(6)])

    def test_reads_only_the_providers_senders_when_the_sender_header_is_from(self):
        self.gmail.add(mail(1, "noc@carrier.example"), NOW)
        self.gmail.add(mail(2, "alerts@other.example"), NOW)
        self.gmail.add(mail(3, "ops@second.example"), NOW)
        source = self.source()
        source.restrict_to_senders(["noc@carrier.example", "@second.example"])
        messages, _ = self.read(source)
        self.assertEqual(
            sorted(m.raw for m in messages), [mail(1, "noc@carrier.example"), mail(3, "ops@second.example")]
        )
        self.assertIn("from:(second.example OR noc@carrier.example)", self.gmail.queries[-1])

    def test_other_sender_header_uses_limit_emails_with_not_header_from(self):
        self.gmail.add(mail(1, "list@lists.example"), NOW)
        self.gmail.add(mail(2, "someone@else.example"), NOW)
        source = SourceSettings(
            name="Gmail list",
            url=GMAIL_URL,
            account=self.gmail.account,
            source_header="X-Original-Sender",
            extra={
                "credentials_file": str(self.key_file),
                "api_endpoint": self.gmail.url,
                "limit_emails_with_not_header_from": ["list@lists.example"],
            },
        )
        gmail_source = get_source(source)
        gmail_source.restrict_to_senders(["noc@carrier.example"])
        messages, _ = self.read(gmail_source)
        self.assertEqual([m.raw for m in messages], [mail(1, "list@lists.example")])

    def test_authorized_user_file(self):
        self.gmail.add(mail(1), NOW)
        messages, _ = self.read(self.source(self.gmail.authorized_user_file(self.dir / "user.json")))
        self.assertEqual(len(messages), 1)

    def test_refused_credentials_fail_clearly_without_secrets(self):
        cases = {
            "another key": self.gmail.service_account_file(self.dir / "other.json", key=new_private_key()),
            "revoked refresh token": self.gmail.authorized_user_file(
                self.dir / "old.json", refresh_token="stale-refresh-9f3c"
            ),
        }
        for case, credentials in cases.items():
            with self.subTest(case), self.assertRaisesRegex(SourceError, "Google refused the credentials") as caught:
                self.source(credentials).test_connection()
            text = str(caught.exception)
            self.assertNotIn("PRIVATE KEY", text)
            self.assertNotIn("stale-refresh-9f3c", text)
            self.assertNotIn("client-secret-1", text)

    def test_unusable_credentials_files(self):
        (self.dir / "client.json").write_text('{"web": {"client_id": "x", "client_secret": "s3cr3t"}}')
        (self.dir / "broken.json").write_text('{"type": "service_account", "private_key": "s3cr3t"}')
        (self.dir / "text.json").write_text("s3cr3t")
        cases = {
            "client.json": "OAuth client, which needs a one-time consent",
            "broken.json": "incomplete or malformed",
            "text.json": "not JSON",
            "missing.json": "cannot read the credentials file",
        }
        for name, expected in cases.items():
            with self.subTest(name), self.assertRaisesRegex(SourceError, expected) as caught:
                self.source(self.dir / name).test_connection()
            self.assertNotIn("s3cr3t", str(caught.exception))

    def test_unreachable_api(self):
        self.gmail.stop()
        with self.assertRaisesRegex(SourceError, "Source Gmail NOC: .*(cannot reach|refused)"):
            self.source().test_connection()

    def test_connection_check(self):
        self.gmail.add(mail(1), NOW)
        self.assertEqual(self.source().test_connection(), f"Gmail {self.gmail.account}, 1 messages")

    def test_labels_need_the_modify_scope_and_never_raise(self):
        first = self.gmail.add(mail(1), NOW)
        second = self.gmail.add(mail(2), NOW)
        labels = {"parsed": "Label_P", "unknown-provider": "Label_U"}
        outcomes = {"parsed": [f"gmail:{first}"], "unknown-provider": [f"gmail:{second}"], "ignored": ["gmail:x"]}
        problems = self.source(labels=labels).mark(outcomes)
        self.assertEqual(len(problems), 2)
        self.assertIn("Gmail API error 403 while labelling parsed", problems[0])
        self.assertEqual(self.gmail.labels_of(first), set())

        self.assertEqual(self.source(labels=labels, extra_scopes=[MODIFY]).mark(outcomes), [])
        self.assertEqual(self.gmail.labels_of(first), {"Label_P"})
        self.assertEqual(self.gmail.labels_of(second), {"Label_U"})


class GmailUrlTestCase(unittest.TestCase):
    def test_only_known_api_hosts(self):
        settings = SourceSettings(name="Elsewhere", url="https://mail.example.com/api", account="a")
        with self.assertRaisesRegex(SourceError, "unsupported API URL .* use https://accounts.google.com"):
            get_source(settings)
