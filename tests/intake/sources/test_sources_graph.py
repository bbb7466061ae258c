"""GraphSource through the real msal and requests, against a loopback Entra ID + Graph over TLS (no database)."""

from __future__ import annotations

import shutil
import tempfile
import unittest
from datetime import datetime, timedelta, timezone
from pathlib import Path

from nautobot_ssot_circuit_maintenance.config import SourceSettings
from nautobot_ssot_circuit_maintenance.intake.sources import GraphSource, SourceError, get_source, source_kind
from nautobot_ssot_circuit_maintenance.intake.sources.graph import MAX_ATTEMPTS
from nautobot_ssot_circuit_maintenance.intake.sources.graph_auth import certificate_credential
from tests.servers.graph_server import FakeGraph, client_certificate

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SINCE = NOW - timedelta(days=7)


def mail(number: int, sender: str = "noc@carrier.example", body: bytes = b"") -> bytes:
    return (
        f"From: Carrier NOC <{sender}>\r\nSubject: notice {number}\r\nMessage-ID: <n{number}@carrier.example>\r\n"
        f"\r\nbody {number}\r\n"
    ).encode() + body


class GraphSourceTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.graph = FakeGraph().start()
        self.addCleanup(self.graph.stop)

    def source(self, **overrides) -> GraphSource:
        keys = self.graph.source_keys(**overrides)
        known = {"url", "account", "ca_file", "folder", "secret", "source_header"}
        settings = SourceSettings(
            name="M365 NOC",
            **{key: value for key, value in keys.items() if key in known},
            extra={key: value for key, value in keys.items() if key not in known},
        )
        source = get_source(settings)
        self.assertIsInstance(source, GraphSource)
        self.addCleanup(source.close)
        return source

    def read(self, source: GraphSource, cursor: dict | None = None) -> tuple[list, dict]:
        messages, last = [], cursor
        for batch in source.fetch(cursor, SINCE):
            messages.extend(batch.messages)
            last = batch.cursor
        return messages, last

    def assert_read_only(self) -> None:
        methods = {(method, path.split("/")[-1]) for method, path in self.graph.requests if method != "GET"}
        self.assertEqual(methods - {("POST", "token")}, set(), "only the token endpoint may be POSTed to")

    def test_kind_and_url(self):
        self.assertEqual(source_kind("https://graph.microsoft.com/"), "graph")
        self.assertEqual(source_kind("https://accounts.google.com/o/oauth2/auth"), "gmail")

    def test_first_run_reads_the_window_through_pages_then_the_delta_link_gives_only_what_changed(self):
        self.graph.add(mail(0), NOW - timedelta(days=30))  # before the look-back window
        ids = [self.graph.add(mail(n), NOW - timedelta(hours=10 - n)) for n in range(1, 8)]  # 3 pages of 3
        source = self.source()
        source.batch_size = 2
        messages, cursor = self.read(source)
        self.assertEqual([m.raw for m in messages], [mail(n) for n in range(1, 8)])
        self.assertEqual(messages[0].location, f"graph:{ids[0]}")
        self.assertEqual(messages[0].received, NOW - timedelta(hours=9))
        self.assertIn("$deltatoken=", cursor["link"])
        self.assertEqual((cursor["account"], cursor["folder"]), (self.graph.account, "INBOX"))
        delta_calls = [path for _, path in self.graph.graph_requests() if path.endswith("/messages/delta")]
        self.assertEqual(len(delta_calls), 3)

        again, cursor = self.read(self.source(), cursor)
        self.assertEqual(again, [])
        new = self.graph.add(mail(8), NOW)
        self.graph.delete(ids[1])  # a deletion is reported as @removed: nothing to read
        self.graph.touch(ids[2])  # a changed message comes back (the pipeline's dedupe knows it)
        changed, cursor = self.read(self.source(), cursor)
        self.assertEqual(sorted(m.location for m in changed), sorted([f"graph:{new}", f"graph:{ids[2]}"]))
        self.assertEqual(self.read(self.source(), cursor)[0], [])
        self.assert_read_only()

    def test_the_mime_is_read_byte_for_byte(self):
        raw = (
            b"From: noc@carrier.example\r\nSubject: =?utf-8?q?Wartung_=C3=BCber?=\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/calendar\r\n\r\n'
            b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n--b\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\nAAECAwQF/w==\r\n--b--\r\n"
        )
        self.graph.add(raw, NOW)
        messages, _ = self.read(self.source())
        self.assertEqual([m.raw for m in messages], [raw])

    def test_batches_bounded_by_bytes_and_oversized_messages_kept_as_their_head(self):
        padding = b"x" * 30_000
        for number in range(1, 5):
            self.graph.add(mail(number, body=padding), NOW - timedelta(hours=10 - number))
        self.graph.add(mail(5, body=b"y" * 400_000), NOW - timedelta(hours=1))
        source = self.source()
        source.set_limits(max_message_bytes=300_000, batch_bytes=60_000)
        batches = list(source.fetch(None, SINCE))
        # The last batch is empty: it only moves the cursor to the delta link once the round is read.
        self.assertEqual([len(batch.messages) for batch in batches], [2, 2, 1, 0])
        self.assertEqual(
            [m.raw for batch in batches[:2] for m in batch.messages], [mail(n, body=padding) for n in range(1, 5)]
        )
        head = batches[2].messages[0]
        self.assertEqual(head.size, len(mail(5)) + 400_000)
        self.assertEqual(head.full_size, len(mail(5)) + 400_000)
        self.assertTrue(head.raw.startswith(mail(5)))
        self.assertLessEqual(len(head.raw), 256 * 1024)
        # Mid-round, the cursor is the page being read and what of it is read already.
        self.assertEqual(len(batches[0].cursor["seen"]), 2)
        self.assertIn("$skiptoken=", batches[1].cursor["link"])
        self.assertEqual(len(batches[1].cursor["seen"]), 1)
        self.assertIn("$deltatoken=", batches[-1].cursor["link"])

    def test_a_dropped_connection_fails_clearly_and_the_last_cursor_resumes_without_duplicates(self):
        for number in range(8):
            self.graph.add(mail(number), NOW - timedelta(minutes=60 - number))
        self.graph.drop_values_after = 5
        source = self.source()
        source.batch_size = 2
        read, cursor = [], None
        with self.assertRaisesRegex(SourceError, "cannot reach Microsoft Graph while reading a message"):
            for batch in source.fetch(None, SINCE):
                read.extend(batch.messages)
                cursor = batch.cursor
        self.assertEqual(len(read), 4)
        self.assertEqual(len(cursor["seen"]), 1)  # the second page's first message is stored already
        self.graph.drop_values_after = None
        rest, cursor = self.read(self.source(), cursor)
        self.assertEqual([m.raw for m in read + rest], [mail(n) for n in range(8)])
        self.assertIn("$deltatoken=", cursor["link"])

    def test_throttling_waits_as_told_and_5xx_is_retried_a_bounded_number_of_times(self):
        self.graph.add(mail(1), NOW)
        self.graph.throttle(MAX_ATTEMPTS - 1, retry_after="0")
        messages, _ = self.read(self.source())
        self.assertEqual(len(messages), 1)

        source = self.source()
        source.retry_backoff = 0.01
        self.graph.unavailable(MAX_ATTEMPTS - 1, retry_after=None)
        self.assertEqual(len(self.read(source)[0]), 1)

        before = len(self.graph.graph_requests())
        self.graph.throttle(MAX_ATTEMPTS + 3, retry_after="0")
        with self.assertRaisesRegex(SourceError, f"kept answering 429 while .* after {MAX_ATTEMPTS} attempts"):
            self.source().test_connection()
        self.assertEqual(len(self.graph.graph_requests()) - before, MAX_ATTEMPTS)

        self.graph.throttle(1, retry_after="3600")
        with self.assertRaisesRegex(SourceError, "asked to wait 3600 s \\(429\\) while .*; the next run resumes"):
            self.source().test_connection()

    def test_a_revoked_secret_fails_clearly_without_the_secret(self):
        self.graph.add(mail(1), NOW)
        source = self.source()
        self.assertIn("1 messages", source.test_connection())
        self.graph.revoke_secret()  # the token this source holds is refused too: it asks again, and is refused
        with self.assertRaisesRegex(
            SourceError, "Microsoft Entra ID refused the credentials .* AADSTS7000222"
        ) as caught:
            self.read(source)
        self.assertNotIn(self.graph.client_secret, str(caught.exception))
        with self.assertRaisesRegex(SourceError, "AADSTS7000222"):
            self.source().test_connection()

    def test_a_wrong_secret_and_a_wrong_client(self):
        with self.assertRaisesRegex(SourceError, "AADSTS7000215: Invalid client secret"):
            self.source(client_secret="not-the-secret-0123").test_connection()
        with self.assertRaisesRegex(SourceError, "AADSTS7000013"):
            self.source(client_id="00000000-0000-0000-0000-000000000000").test_connection()

    def test_certificate_credential(self):
        self.graph.add(mail(1), NOW)
        folder = Path(tempfile.mkdtemp(prefix="cm-graph-"))
        self.addCleanup(shutil.rmtree, folder, True)
        (folder / "app.pem").write_text(self.graph.certificate_pem)
        keys = {"certificate_file": str(folder / "app.pem"), "client_secret": None}
        messages, _ = self.read(self.source(**keys))
        self.assertEqual(len(messages), 1)
        self.assertEqual(set(self.graph.tokens.values()), {"certificate"})
        self.assertNotIn("client_secret", self.graph.grants[-1])

        other, _ = client_certificate()
        (folder / "other.pem").write_text(other)
        with self.assertRaisesRegex(SourceError, "AADSTS700027") as caught:
            self.source(certificate_file=str(folder / "other.pem"), client_secret=None).test_connection()
        self.assertNotIn("PRIVATE KEY", str(caught.exception))
        (folder / "bad.pem").write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
        with self.assertRaisesRegex(SourceError, "one PEM holding an unencrypted private key and its certificate"):
            self.source(certificate_file=str(folder / "bad.pem"), client_secret=None).test_connection()
        with self.assertRaisesRegex(SourceError, "cannot read the certificate file"):
            self.source(certificate_file=str(folder / "missing.pem"), client_secret=None).test_connection()

    def test_certificate_thumbprint_is_the_sha1_of_the_certificate(self):
        credential = certificate_credential(self.graph.certificate_pem)
        self.assertRegex(credential["thumbprint"], "^[0-9a-f]{40}$")
        self.assertIn("BEGIN CERTIFICATE", credential["public_certificate"])

    def test_a_mailbox_outside_the_application_access_policy(self):
        self.graph.allowed_mailboxes = {"someone-else@example.net"}
        with self.assertRaisesRegex(SourceError, "403 ErrorAccessDenied.*application access policy"):
            self.source().test_connection()
        self.graph.allowed_mailboxes = {self.graph.account}
        self.graph.roles = []
        with self.assertRaisesRegex(SourceError, "Mail.Read application permission"):
            self.source().test_connection()

    def test_folders_by_well_known_name_and_by_path(self):
        maintenance = self.graph.add_folder("Maintenance", parent="inbox")
        self.graph.add(mail(1), NOW)
        self.graph.add(mail(2), NOW, folder=maintenance)
        self.assertEqual([m.raw for m in self.read(self.source(folder="inbox"))[0]], [mail(1)])
        self.assertEqual([m.raw for m in self.read(self.source(folder="Inbox/Maintenance"))[0]], [mail(2)])
        self.assertIn("folder Maintenance: 1 messages", self.source(folder="Inbox/Maintenance").test_connection())
        with self.assertRaisesRegex(SourceError, "folder 'Inbox/Nope' not found in mailbox"):
            self.source(folder="Inbox/Nope").test_connection()

    def test_a_cursor_of_another_folder_or_an_expired_delta_link_reads_the_window_again(self):
        self.graph.add(mail(1), NOW)
        _, cursor = self.read(self.source())
        self.graph.expire_delta_links()
        messages, cursor = self.read(self.source(), cursor)
        self.assertEqual([m.raw for m in messages], [mail(1)])
        self.assertIn("$deltatoken=", cursor["link"])
        maintenance = self.graph.add_folder("Maintenance")
        self.graph.add(mail(2), NOW, folder=maintenance)
        other, _ = self.read(self.source(folder="Maintenance"), cursor)
        self.assertEqual([m.raw for m in other], [mail(2)])

    def test_a_message_gone_between_listing_and_reading_is_skipped(self):
        first = self.graph.add(mail(1), NOW)
        self.graph.add(mail(2), NOW)
        source = self.source()
        original = source._download

        def download(message_id):
            if message_id == first:
                self.graph.delete(first)
            return original(message_id)

        source._download = download
        self.assertEqual([m.raw for m in self.read(source)[0]], [mail(2)])

    def test_tls_is_checked(self):
        with self.assertRaisesRegex(SourceError, "cannot reach the Microsoft identity platform at 127.0.0.1"):
            self.source(ca_file=None).test_connection()

    def test_unreachable(self):
        self.graph.stop()
        with self.assertRaisesRegex(SourceError, "Source M365 NOC: cannot reach the Microsoft identity platform"):
            self.source().test_connection()

    def test_missing_keys(self):
        with self.assertRaisesRegex(SourceError, "'tenant_id' is required"):
            self.source(tenant_id="").test_connection()
        with self.assertRaisesRegex(SourceError, "no client credential: set 'client_secret', 'certificate_file' or"):
            self.source(client_secret=None).test_connection()

    def test_an_echoing_server_leaks_nothing(self):
        self.graph.echo_requests = True
        with self.assertRaisesRegex(SourceError, "Request was:") as caught:
            self.source(client_secret=self.graph.client_secret + "-wrong").test_connection()
        self.assertNotIn(self.graph.client_secret, str(caught.exception))
        self.graph.allowed_mailboxes = set()
        source = self.source()
        with self.assertRaisesRegex(SourceError, "Authorization: Bearer \\*\\*\\*") as caught:
            source.test_connection()
        for token in self.graph.tokens:
            self.assertNotIn(token, str(caught.exception))
            self.assertNotIn(token[-20:], str(caught.exception))
