"""mail/bounds.py alone: what one message may cost (no database, no parser)."""

from __future__ import annotations

import io
import unittest
import zipfile
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from nautobot_ssot_circuit_maintenance.mail.bounds import MIB, MessageBounds, OverBound, check_size, check_structure


def nested(depth: int) -> Message:
    """A message whose MIME tree is `depth` levels deep (the top counts as 1)."""
    inner: Message = MIMEText("leaf")
    for _ in range(depth - 1):
        outer = MIMEMultipart()
        outer.attach(inner)
        inner = outer
    return inner


def zip_bytes(members: dict[str, int]) -> bytes:
    """A zip whose members inflate to the given sizes (zeros compress to almost nothing)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, size in members.items():
            archive.writestr(name, b"\0" * size)
    return buffer.getvalue()


def with_attachment(data: bytes) -> Message:
    message = MIMEMultipart()
    message.attach(MIMEText("see attached"))
    message.attach(MIMEApplication(data, Name="maintenance.xlsx"))
    return message


class FromSettingsTestCase(unittest.TestCase):
    def test_defaults_when_nothing_is_configured(self):
        self.assertEqual(MessageBounds.from_settings({}), MessageBounds())
        self.assertEqual(MessageBounds.from_settings({"message_limits": None}), MessageBounds())

    def test_megabytes_become_bytes_and_each_limit_is_read(self):
        bounds = MessageBounds.from_settings(
            {
                "message_limits": {
                    "max_message_mb": 1.5,
                    "max_mime_depth": 3,
                    "max_mime_parts": 7,
                    "max_inflated_mb": 2,
                    "parse_timeout_seconds": 4,
                    "worker_memory_mb": 512,
                }
            }
        )
        self.assertEqual(
            bounds,
            MessageBounds(
                max_message_bytes=int(1.5 * MIB),
                max_mime_depth=3,
                max_mime_parts=7,
                max_inflated_bytes=2 * MIB,
                parse_timeout_seconds=4.0,
                worker_memory_bytes=512 * MIB,
            ),
        )
        self.assertIsInstance(bounds.parse_timeout_seconds, float)

    def test_a_partial_configuration_keeps_the_other_defaults(self):
        bounds = MessageBounds.from_settings({"message_limits": {"max_mime_depth": 5}})
        self.assertEqual(bounds.max_mime_depth, 5)
        self.assertEqual(bounds.max_message_bytes, MessageBounds().max_message_bytes)


class SizeTestCase(unittest.TestCase):
    def test_the_limit_itself_is_allowed(self):
        bounds = MessageBounds(max_message_bytes=1000)
        check_size(1000, bounds)
        with self.assertRaisesRegex(OverBound, r"message is 1,001 bytes, more than the limit of 1,000"):
            check_size(1001, bounds)


class StructureTestCase(unittest.TestCase):
    def test_depth_up_to_the_limit_passes_one_more_is_refused(self):
        bounds = MessageBounds(max_mime_depth=4)
        check_structure(nested(4), bounds)
        with self.assertRaisesRegex(OverBound, r"MIME parts nested 5 deep, more than the limit of 4"):
            check_structure(nested(5), bounds)

    def test_a_deep_tree_is_refused_without_recursion(self):
        # Far beyond Python's recursion limit: the walk is iterative.
        with self.assertRaisesRegex(OverBound, "nested 13 deep"):
            check_structure(nested(5000), MessageBounds())

    def test_part_count(self):
        message = MIMEMultipart()
        for index in range(4):
            message.attach(MIMEText(f"part {index}"))
        check_structure(message, MessageBounds(max_mime_parts=5))  # the container and its 4 parts
        with self.assertRaisesRegex(OverBound, "more than 4 MIME parts"):
            check_structure(message, MessageBounds(max_mime_parts=4))

    def test_an_attached_message_counts_as_a_level(self):
        inner = MIMEText("forwarded")
        wrapper = Message()
        wrapper.set_type("message/rfc822")
        wrapper.set_payload(inner)
        check_structure(wrapper, MessageBounds(max_mime_depth=2))
        with self.assertRaises(OverBound):
            check_structure(wrapper, MessageBounds(max_mime_depth=1))

    def test_zip_attachments_are_measured_inflated(self):
        data = zip_bytes({"a.xml": 3 * MIB, "b.xml": 3 * MIB})
        self.assertLess(len(data), 100_000)  # small on the wire
        check_structure(with_attachment(data), MessageBounds(max_inflated_bytes=6 * MIB))
        with self.assertRaisesRegex(OverBound, "attachments inflate to more than 5,242,880 bytes"):
            check_structure(with_attachment(data), MessageBounds(max_inflated_bytes=5 * MIB))

    def test_inflated_sizes_add_up_across_attachments(self):
        message = MIMEMultipart()
        for _ in range(3):
            message.attach(MIMEApplication(zip_bytes({"x": 2 * MIB})))
        check_structure(message, MessageBounds(max_inflated_bytes=6 * MIB))
        with self.assertRaises(OverBound):
            check_structure(message, MessageBounds(max_inflated_bytes=6 * MIB - 1))

    def test_plain_and_broken_attachments_inflate_nothing(self):
        bounds = MessageBounds(max_inflated_bytes=10)
        check_structure(with_attachment(b"just bytes, far more than ten of them"), bounds)
        check_structure(with_attachment(b"PK\x03\x04 but not a zip at all"), bounds)
        broken = MIMEText("=?utf-8?b?not base64?=")
        broken.replace_header("Content-Transfer-Encoding", "base64")
        check_structure(broken, bounds)
