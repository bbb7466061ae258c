"""Stored mail: kept whole and compressed, read back decoded, its HTML made inert, hostile mail never an error."""

from __future__ import annotations

import zlib
from datetime import datetime, timezone
from email.message import EmailMessage

from django.test import SimpleTestCase
from hypothesis import HealthCheck, given, settings

from nautobot_ssot_circuit_maintenance.choices import MessageKeptChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.intake.parse import process_message
from nautobot_ssot_circuit_maintenance.intake.sources.base import HEAD_BYTES, FetchedMessage
from nautobot_ssot_circuit_maintenance.mail import packing, readable
from nautobot_ssot_circuit_maintenance.mail.bounds import MIB, MessageBounds
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, SenderDirectory
from tests.fixtures.hostile_mail import hostile_mail
from tests.fixtures.mail_samples import ATTACHMENT_BYTES, corpus_message, hostile_html_mail
from tests.fixtures.sample_data import corpus_messages

RECEIVED = datetime(2030, 1, 1, tzinfo=timezone.utc)


class StorageTest(SimpleTestCase):
    def test_pack_round_trip_and_bounded_unpack(self):
        raw = corpus_message("zayo8")
        packed = packing.pack(raw)
        self.assertLess(len(packed), len(raw) / 2)
        self.assertEqual(packing.unpack(packed, len(raw)), raw)
        # However the stored data were made, reading them never inflates past the limit.
        bomb = zlib.compress(b"\0" * (8 * MIB))
        self.assertEqual(len(packing.unpack(bomb, 1000)), 1000)
        self.assertEqual(packing.unpack(b"", 10), b"")

    def test_the_pipeline_keeps_every_message_whole_and_the_parser_version(self):
        directory = SenderDirectory([(1, "Zayo", {EMAILS_FIELD: "mr@zayo.com"})])
        raw = corpus_message("zayo8")
        parsed = process_message(
            FetchedMessage(raw, RECEIVED, "INBOX:1"), directory=directory, source_header="From", raw_size_limit=8192
        )
        self.assertEqual(parsed.outcome, OutcomeChoices.PARSED)
        fields = parsed.stored_fields()
        self.assertEqual(fields["raw"], raw[:8192])
        self.assertTrue(fields["raw_truncated"])
        self.assertEqual(fields["raw_size"], len(raw))
        self.assertEqual(packing.unpack(fields["message"], len(raw)), raw)
        self.assertEqual(fields["message_kept"], MessageKeptChoices.WHOLE)
        self.assertEqual(fields["parser_version"], packing.parser_version())
        self.assertRegex(fields["parser_version"], r"^\d+\.\d+")

    def test_unknown_sender_is_kept_whole_but_not_parsed(self):
        raw = corpus_message("zayo8")
        parsed = process_message(
            FetchedMessage(raw, RECEIVED, "x"), directory=SenderDirectory([]), source_header="From", raw_size_limit=100
        )
        self.assertEqual(parsed.outcome, OutcomeChoices.UNKNOWN_PROVIDER)
        self.assertEqual(packing.unpack(parsed.message, len(raw)), raw)
        self.assertEqual(parsed.parser_version, "")

    def test_a_message_over_the_size_bound_keeps_its_head_only(self):
        big = b"From: mr@zayo.com\r\nSubject: big\r\n\r\n" + b"A" * (2 * MIB)
        bounds = MessageBounds(max_message_bytes=MIB)
        # Whether the source cut it (IMAP, Gmail) or handed it over whole (a local file).
        for fetched in (
            FetchedMessage(big[:HEAD_BYTES], RECEIVED, "x", size=len(big)),
            FetchedMessage(big, RECEIVED, "x"),
        ):
            parsed = process_message(
                fetched, directory=SenderDirectory([]), source_header="From", raw_size_limit=8192, bounds=bounds
            )
            self.assertEqual(parsed.outcome, OutcomeChoices.TOO_LARGE)
            self.assertEqual(parsed.message_kept, MessageKeptChoices.HEAD)
            self.assertEqual(packing.unpack(parsed.message, len(big)), big[:HEAD_BYTES])
            self.assertEqual(parsed.raw_size, len(big))


class ReadMailTest(SimpleTestCase):
    def test_corpus_mail_is_decoded(self):
        read = readable.read_mail(corpus_message("zayo8"))
        self.assertIn("RESCHEDULE NOTIFICATION", read.headers["Subject"])
        self.assertIn("mr@zayo.com", read.headers["From"])
        self.assertIn("Zayo or one of its providers has rescheduled the maintenance listed below.", read.text)
        self.assertNotIn("=20", read.text)
        self.assertIn("TTN-0001234567", read.html)
        self.assertFalse(read.problems)

    def test_every_corpus_mail_reads_without_problems(self):
        for name, raw, _ in corpus_messages():
            with self.subTest(name):
                read = readable.read_mail(raw)
                self.assertFalse(read.problems)
                self.assertTrue(read.text or read.html or read.attachments, name)

    def test_hostile_html_is_inert_and_parts_are_decoded(self):
        read = readable.read_mail(hostile_html_mail())
        self.assertEqual(read.headers["From"], "NOC équipe <noc@provider-a.example>")
        self.assertIn("Jérôme", read.headers["To"])
        self.assertEqual(read.headers["Subject"], "Maintenance <script>alert(1)</script> café")
        self.assertIn("Planned work café – window", read.text.replace("?", "–"))
        self.assertIn("Planned work café", read.html)
        lowered = read.html.lower()
        for active in (
            "<script",
            "onload",
            "onclick",
            "onerror",
            "javascript:",
            "<iframe",
            "<style",
            "tracker.example",
            "evil.example",
            "alert(",
        ):
            self.assertNotIn(active, lowered)
        self.assertIn('href="https://noc.example/ticket/1"', read.html)
        self.assertIn('rel="noopener noreferrer nofollow"', read.html)
        self.assertEqual(
            read.attachments, [readable.Attachment(0, "../../evil.html", "text/html", len(ATTACHMENT_BYTES))]
        )
        item, data = readable.attachment(hostile_html_mail(), 0)
        self.assertEqual(data, ATTACHMENT_BYTES)
        self.assertIsNone(readable.attachment(hostile_html_mail(), 1))

    def test_the_frame_document_forbids_every_load(self):
        document = readable.html_document(readable.read_mail(hostile_html_mail()).html)
        self.assertIn("default-src 'none'", document)
        self.assertIn("img-src data:", document)

    def test_unknown_charset_and_binary_attachment(self):
        message = EmailMessage()
        message["From"] = "noc@example.com"
        message["Subject"] = "charset"
        message.set_content("caf\xe9 ok")
        message.add_attachment(
            b"\x89PNG\r\n\x1a\n" + bytes(range(256)), maintype="image", subtype="png", filename="map.png"
        )
        raw = message.as_bytes().replace(b'charset="utf-8"', b'charset="x-unknown"')
        read = readable.read_mail(raw)
        self.assertIn("caf", read.text)
        self.assertEqual([(a.filename, a.content_type) for a in read.attachments], [("map.png", "image/png")])

    def test_deep_nesting_is_refused_without_error(self):
        raw = b"From: a@b.c\r\nSubject: deep\r\n"
        inner = b"Content-Type: text/plain\r\n\r\nhello\r\n"
        for level in range(200):
            inner = (
                b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
                + inner
                + b"\r\n--b%d--\r\n" % level
            )
        read = readable.read_mail(raw + inner)
        self.assertEqual(read.headers["Subject"], "deep")
        self.assertIn("nested", read.problems[0])
        self.assertIsNone(readable.attachment(raw + inner, 0))

    def test_an_empty_text_part_does_not_shift_the_attachments(self):
        """A second text/plain part is listed and found again as the same attachment, even after an empty one."""
        message = EmailMessage()
        message["From"] = "noc@example.com"
        message.set_content("")
        message.add_attachment("second text", subtype="plain", disposition="inline")
        message.add_attachment(b"%PDF-1.4 x", maintype="application", subtype="pdf", filename="w.pdf")
        raw = message.as_bytes()
        listed = readable.read_mail(raw).attachments
        self.assertEqual([a.content_type for a in listed], ["text/plain", "application/pdf"])
        for item in listed:
            found = readable.attachment(raw, item.index)
            self.assertEqual((found[0].content_type, len(found[1])), (item.content_type, item.size))

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(hostile_mail)
    def test_hostile_mail_never_raises(self, hostile):
        raw = hostile.render("tok")
        read = readable.read_mail(raw)
        for text in (read.text, read.html, read.header_block, *read.headers.values()):
            self.assertNotIn("\x00", text)
            self.assertNotIn("<script", read.html.lower())
        for item in read.attachments[:3]:
            found = readable.attachment(raw, item.index)
            self.assertIsNotNone(found)
            self.assertEqual(len(found[1]), item.size)
