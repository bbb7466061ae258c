"""ImapSource against a real Dovecot on loopback (plain unittest, no database)."""

from __future__ import annotations

import traceback
import unittest
from datetime import datetime, timedelta, timezone
from itertools import count

from nautobot_ssot_circuit_maintenance.config import SourceSettings
from nautobot_ssot_circuit_maintenance.intake.sources import ImapSource, SourceError, get_source
from tests.fixtures.corpus import load_corpus
from tests.servers.dovecot import DovecotServer
from tests.servers.fault_proxy import Fault, FaultProxy
from tests.servers.ports import free_port

PASSWORD = "S3cret-Pa55word!"
NOW = datetime.now(timezone.utc)
SINCE = NOW - timedelta(days=7)
_users = count(1)


def _normalise(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").rstrip(b"\n")


def _synthetic(subject: str, body_size: int = 200) -> bytes:
    body = ("x" * 76 + "\r\n") * max(1, body_size // 78)
    return (
        f"From: noc@provider.example\r\nTo: ops@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@provider.example>\r\n\r\n{body}"
    ).encode()


class ImapSourceTestCase(unittest.TestCase):
    """One Dovecot for the class; every test gets its own mailbox user."""

    server: DovecotServer

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = DovecotServer().start()
        cls.corpus = load_corpus()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()
        super().tearDownClass()

    def setUp(self) -> None:
        self.user = f"user{next(_users)}@example.com"
        self.server.add_user(self.user, PASSWORD)

    # -- helpers ----------------------------------------------------------------------------

    def settings(self, url: str | None = None, **kwargs) -> SourceSettings:
        values = {
            "name": "test-imap",
            "url": url or f"imap://{self.server.host}:{self.server.imap_port}",
            "account": self.user,
            "secret": PASSWORD,
            "ca_file": self.server.ca_file,
        }
        values.update(kwargs)
        return SourceSettings(**values)

    def source(self, url: str | None = None, batch_size: int | None = None, **kwargs) -> ImapSource:
        source = get_source(self.settings(url, **kwargs))
        self.assertIsInstance(source, ImapSource)
        if batch_size:
            source.batch_size = batch_size
        self.addCleanup(source.close)
        return source

    def append(self, raw: bytes, days_ago: float = 1, folder: str = "INBOX", flags: tuple = ()) -> int:
        uid = self.server.append(
            self.user, raw, folder=folder, internal_date=NOW - timedelta(days=days_ago), flags=flags
        )
        self.assertIsNotNone(uid)
        return uid

    def fetch_all(self, source: ImapSource, cursor=None, since: datetime = SINCE):
        batches = list(source.fetch(cursor, since))
        messages = [message for batch in batches for message in batch.messages]
        return batches, messages

    def flags(self, folder: str = "INBOX") -> dict[int, set[bytes]]:
        client = self.server.client(self.user)
        try:
            client.select_folder(folder, readonly=True)
            return {uid: set(flags) - {b"\\Recent"} for uid, flags in client.get_flags(client.search(["ALL"])).items()}
        finally:
            client.logout()

    def assertNoSecret(self, error: BaseException) -> None:
        text = "".join(traceback.format_exception(error))
        self.assertNotIn(PASSWORD, text)
        self.assertNotIn(PASSWORD, repr(error))

    # -- connection modes -------------------------------------------------------------------

    def test_implicit_tls_with_ca_file(self) -> None:
        raw = self.corpus[0][1]
        self.append(raw)
        source = self.source(f"imaps://{self.server.host}:{self.server.imaps_port}")
        self.assertTrue(source.implicit_tls)
        self.assertEqual(source.test_connection(), "INBOX: 1 messages")
        _, messages = self.fetch_all(source)
        self.assertEqual(len(messages), 1)
        self.assertEqual(_normalise(messages[0].raw), _normalise(raw))

    def test_port_993_means_implicit_tls(self) -> None:
        self.assertTrue(ImapSource(SourceSettings(name="x", url="imap://mail.example.com")).implicit_tls)
        self.assertEqual(ImapSource(SourceSettings(name="x", url="imap://mail.example.com")).port, 993)
        self.assertFalse(ImapSource(SourceSettings(name="x", url="imap://mail.example.com:143")).implicit_tls)
        plain = ImapSource(SourceSettings(name="x", url="imap://mail.example.com", tls=False))
        self.assertEqual((plain.port, plain.implicit_tls), (143, False))

    def test_starttls(self) -> None:
        self.append(_synthetic("starttls"))
        source = self.source()
        self.assertFalse(source.implicit_tls)
        self.assertEqual(source.test_connection(), "INBOX: 1 messages")
        self.assertTrue(source._client._starttls_done)
        _, messages = self.fetch_all(source)
        self.assertEqual(len(messages), 1)

    def test_plaintext_when_tls_is_off(self) -> None:
        self.append(_synthetic("plain"))
        source = self.source(tls=False, ca_file=None)
        _, messages = self.fetch_all(source)
        self.assertEqual(len(messages), 1)
        self.assertFalse(source._client._starttls_done)

    def test_certificate_is_checked_without_ca_file(self) -> None:
        for url in (
            f"imaps://{self.server.host}:{self.server.imaps_port}",
            f"imap://{self.server.host}:{self.server.imap_port}",
        ):
            with self.subTest(url=url):
                source = self.source(url, ca_file=None)
                with self.assertRaises(SourceError) as caught:
                    source.test_connection()
                message = str(caught.exception)
                self.assertIn("test-imap", message)
                self.assertIn(self.server.host, message)
                self.assertIn("CERTIFICATE_VERIFY_FAILED", message)
                self.assertNoSecret(caught.exception)

    def test_wrong_password_does_not_leak_the_secret(self) -> None:
        wrong = PASSWORD + "-wrong"
        source = self.source(secret=wrong)
        with self.assertRaises(SourceError) as caught:
            list(source.fetch(None, SINCE))
        message = str(caught.exception)
        self.assertIn("rejected", message)
        self.assertIn("test-imap", message)
        self.assertNotIn(wrong, "".join(traceback.format_exception(caught.exception)))
        self.assertNoSecret(caught.exception)
        self.assertNotIn("secret", repr(source.settings))

    def test_connection_refused(self) -> None:
        source = self.source(f"imap://127.0.0.1:{free_port()}", tls=False)
        with self.assertRaises(SourceError) as caught:
            source.test_connection()
        self.assertIn("connect failed", str(caught.exception))
        self.assertNoSecret(caught.exception)

    def test_missing_folder(self) -> None:
        with self.assertRaises(SourceError) as caught:
            self.source(folder="Nope").test_connection()
        self.assertIn("Nope", str(caught.exception))

    # -- fetching ---------------------------------------------------------------------------

    def test_first_run_reads_the_look_back_window_only(self) -> None:
        self.append(_synthetic("old"), days_ago=30)
        recent = [self.append(raw, days_ago=2) for _, raw, _ in self.corpus[:3]]
        batches, messages = self.fetch_all(self.source())
        self.assertEqual([m.location for m in messages], [f"INBOX:{uid}" for uid in recent])
        for message, (_, raw, _) in zip(messages, self.corpus[:3], strict=True):
            self.assertEqual(_normalise(message.raw), _normalise(raw))
            self.assertEqual(message.received.tzinfo, timezone.utc)
            self.assertAlmostEqual(message.received.timestamp(), (NOW - timedelta(days=2)).timestamp(), delta=2)
        self.assertEqual(len(batches), 1)
        self.assertEqual(batches[0].cursor["last_uid"], recent[-1])
        self.assertEqual(batches[0].cursor["folder"], "INBOX")
        self.assertEqual(batches[0].cursor["uidvalidity"], self.server.uidvalidity(self.user))

    def test_incremental(self) -> None:
        for i in range(3):
            self.append(_synthetic(f"first {i}"))
        batches, messages = self.fetch_all(self.source())
        self.assertEqual(len(messages), 3)
        cursor = batches[-1].cursor
        # Nothing new: nothing yielded (also checks the "n:*" quirk of IMAP).
        self.assertEqual(self.fetch_all(self.source(), cursor)[0], [])
        # Messages older than the look-back window still count once the cursor exists.
        new = [self.append(_synthetic("second 0"), days_ago=60), self.append(_synthetic("second 1"))]
        batches, messages = self.fetch_all(self.source(), cursor)
        self.assertEqual([m.location for m in messages], [f"INBOX:{uid}" for uid in new])
        self.assertEqual(batches[-1].cursor["last_uid"], new[-1])

    def test_batches_carry_their_own_cursor(self) -> None:
        uids = [self.append(_synthetic(f"batch {i}")) for i in range(5)]
        batches, messages = self.fetch_all(self.source(batch_size=2))
        self.assertEqual([len(b.messages) for b in batches], [2, 2, 1])
        self.assertEqual([b.cursor["last_uid"] for b in batches], [uids[1], uids[3], uids[4]])
        self.assertEqual([m.location for m in messages], [f"INBOX:{uid}" for uid in uids])
        # Resuming from the first batch's cursor yields the rest.
        _, rest = self.fetch_all(self.source(batch_size=2), batches[0].cursor)
        self.assertEqual([m.location for m in rest], [f"INBOX:{uid}" for uid in uids[2:]])

    def test_fetch_is_lazy(self) -> None:
        for i in range(4):
            self.append(_synthetic(f"lazy {i}"))
        iterator = self.source(batch_size=1).fetch(None, SINCE)
        first = next(iterator)
        self.assertEqual(len(first.messages), 1)
        iterator.close()

    def test_seen_flags_are_unchanged(self) -> None:
        self.append(_synthetic("read"), flags=(b"\\Seen",))
        self.append(_synthetic("unread"))
        self.append(_synthetic("flagged"), flags=(b"\\Flagged",))
        before = self.flags()
        self.assertEqual(sum(b"\\Seen" in f for f in before.values()), 1)
        source = self.source()
        source.test_connection()
        _, messages = self.fetch_all(source)
        self.assertEqual(len(messages), 3)
        source.close()
        self.assertEqual(self.flags(), before)

    def test_uidvalidity_change_rescans_the_look_back_window(self) -> None:
        for folder in ("INBOX", "Maintenance"):
            with self.subTest(folder=folder):
                self.append(_synthetic(f"{folder} old"), days_ago=30, folder=folder)
                self.append(_synthetic(f"{folder} a"), folder=folder)
                self.append(_synthetic(f"{folder} b"), folder=folder)
                batches, messages = self.fetch_all(self.source(folder=folder))
                self.assertEqual(len(messages), 2)
                cursor = batches[-1].cursor
                self.assertEqual(cursor["folder"], folder)
                new_validity = self.server.set_uidvalidity_change(self.user, folder)
                self.assertNotEqual(new_validity, cursor["uidvalidity"])
                self.append(_synthetic(f"{folder} c"), folder=folder)
                batches, messages = self.fetch_all(self.source(folder=folder), cursor)
                # Everything in the window again (the store deduplicates), not the old message.
                self.assertEqual(len(messages), 3)
                self.assertEqual(batches[-1].cursor["uidvalidity"], new_validity)

    def test_cursor_of_another_folder_is_ignored(self) -> None:
        self.append(_synthetic("in inbox"))
        self.append(_synthetic("in other"), folder="Other")
        batches, _ = self.fetch_all(self.source())
        cursor = dict(batches[-1].cursor)
        _, messages = self.fetch_all(self.source(folder="Other"), cursor)
        self.assertEqual([m.location for m in messages], ["Other:1"])

    def test_server_dropping_mid_fetch(self) -> None:
        uids = [self.append(_synthetic(f"big {i}", body_size=40_000)) for i in range(6)]
        with FaultProxy(self.server.imap_port) as proxy:
            proxy.arm(Fault(server_bytes=100_000))
            source = self.source(f"imap://{proxy.host}:{proxy.port}", batch_size=2, tls=False)
            received = []
            with self.assertRaises(SourceError) as caught:
                for batch in source.fetch(None, SINCE):
                    received.append(batch)
            self.assertEqual(proxy.cuts, 1)
        self.assertIn("test-imap", str(caught.exception))
        self.assertNoSecret(caught.exception)
        self.assertEqual(len(received), 1)
        self.assertEqual(received[0].cursor["last_uid"], uids[1])
        source.close()  # the connection is gone: close() must not raise
        # The cursor of the completed batch is valid: the rest comes on the next run.
        _, rest = self.fetch_all(self.source(batch_size=2), received[0].cursor)
        self.assertEqual([m.location for m in rest], [f"INBOX:{uid}" for uid in uids[2:]])

    def test_whole_corpus_round_trips(self) -> None:
        for _, raw, _ in self.corpus:
            self.append(raw)
        _, messages = self.fetch_all(self.source(batch_size=7))
        self.assertEqual(len(messages), len(self.corpus))
        for message, (name, raw, _) in zip(messages, self.corpus, strict=True):
            self.assertEqual(_normalise(message.raw), _normalise(raw), name)


if __name__ == "__main__":
    unittest.main()

    # -- bounds -------------------------------------------------------------------------------

    def test_batches_bounded_by_bytes_and_oversized_messages_read_as_headers(self) -> None:
        small = [self.append(_synthetic(f"small {index}", 20_000)) for index in range(4)]
        big = self.append(_synthetic("big one", 3_000_000))
        source = self.source()
        source.set_limits(max_message_bytes=1_000_000, batch_bytes=45_000)
        batches, messages = self.fetch_all(source)
        # 20 KB messages, at most 45 KB a batch: two per batch; the big one alone.
        self.assertEqual([len(batch.messages) for batch in batches], [2, 2, 1])
        self.assertEqual([message.location for message in messages], [f"INBOX:{uid}" for uid in [*small, big]])
        self.assertTrue(all(message.size is None for message in messages[:4]))
        head = messages[4]
        self.assertGreater(head.size, 3_000_000)
        self.assertEqual(head.full_size, head.size)
        self.assertLess(len(head.raw), 1000)
        self.assertIn(b"Subject: big one", head.raw)
        self.assertEqual(batches[-1].cursor["last_uid"], big)
