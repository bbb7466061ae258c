"""One hostile message never stops the sync: each case of issue 6, through the real job and database.

Every case delivers the hostile mail beside a good provider notice (Zayo) and checks that the job
succeeds, the good notice syncs, the hostile one is stored with a sensible outcome, what was stored
reads back through the REST API and the pages, and a second run changes nothing.
"""

from __future__ import annotations

import base64
import io
import os
import time
import zipfile
from datetime import datetime, timezone
from email.utils import format_datetime

from django.db import connection
from django.test import Client
from django.urls import reverse
from nautobot.apps.testing import TransactionTestCase
from nautobot.circuits.models import Provider
from nautobot.users.models import User
from nautobot_ssot.models import SyncLogEntry

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.intake.sources.localfolder import LocalFolderSource
from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits, ical_notice

MESSAGES = corpus_by_name()
GOOD = "zayo4"
GOOD_ID = "TTN-0002345678"
HOSTILE_SENDER = "noc@hostile.example"


def with_headers(raw: bytes, **headers: str | None) -> bytes:
    """A copy of a mail with some headers replaced (None removes one), keeping the body as it is."""
    head, sep, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    names = {name.replace("_", "-").lower(): value for name, value in headers.items()}
    lines: list[bytes] = []
    skipping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                lines.append(line)
            continue
        name = line.split(b":", 1)[0].decode("ascii", "replace").lower()
        skipping = name in names
        if not skipping:
            lines.append(line)
    for name, value in names.items():
        if value is not None:
            lines.append(f"{name.title()}: {value}".encode("utf-8", "surrogateescape"))
    return b"\n".join(lines) + sep + body


def nested_multipart(depth: int, sender: str = "mr@zayo.com") -> bytes:
    """A small message whose multiparts nest `depth` deep (the parser's walk is exponential in it)."""
    lines = [f"From: {sender}", "Subject: nested", "Date: Fri, 20 Nov 2026 10:00:00 +0000", "MIME-Version: 1.0"]
    for level in range(depth):
        lines += [f'Content-Type: multipart/mixed; boundary="b{level}"', "", f"--b{level}"]
    lines += ["Content-Type: text/plain", "", "hello"]
    for level in reversed(range(depth)):
        lines += [f"--b{level}--"]
    return "\r\n".join(lines).encode()


def xlsx_bomb(declared_mb: int) -> bytes:
    """A mail from AT&T with an .xlsx attachment that inflates to `declared_mb` MiB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(declared_mb):
                member.write(block)
    payload = base64.encodebytes(buffer.getvalue()).decode()
    return (
        "From: ATT Maintenance <g31654@att.com>\r\nSubject: Planned maintenance\r\n"
        "Date: Fri, 20 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bomb@att.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n'
        "--x\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n"
        'Content-Disposition: attachment; filename="att_1.xlsx"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        f"{payload}\r\n--x--\r\n"
    ).encode()


class HostileMailTestCase(JobTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        self.providers = create_providers_and_circuits()
        hostile = Provider.objects.create(name="Hostile Carrier")
        hostile._custom_field_data.update({EMAILS_FIELD: HOSTILE_SENDER, PARSER_FIELD: "genericprovider"})
        hostile.validated_save()
        self.folder = MailFolder()
        self.addCleanup(self.folder.cleanup)
        self.client = Client()
        self.client.force_login(User.objects.create_superuser(username="hostile-admin"))

    def sync_with_good_mail(self, *hostile: bytes, **settings) -> dict[str, RawNotification]:
        """Deliver the hostile mail after a good notice, run the job twice; return the stored rows by file name."""
        self.folder.add(MESSAGES[GOOD], GOOD)
        paths = [self.folder.add(raw, f"hostile{index}") for index, raw in enumerate(hostile)]
        with self.configured([self.folder.source], **settings):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(RawNotification.objects.count(), 1 + len(hostile), self.job_log(result))
            self.assertTrue(CircuitMaintenance.objects.filter(maintenance_id=GOOD_ID).exists())
            counts = (
                RawNotification.objects.count(),
                ParsedNotification.objects.count(),
                MaintenanceNote.objects.count(),
            )
            again, sync = self.run_sync()
            self.assertEqual(again.status, "SUCCESS", self.job_log(again))
            self.assertEqual(
                counts,
                (RawNotification.objects.count(), ParsedNotification.objects.count(), MaintenanceNote.objects.count()),
            )
            self.assertFalse(SyncLogEntry.objects.filter(sync=sync, action__in=["create", "update"]).exists())
        self.assert_everything_reads_back()
        return {path.name: RawNotification.objects.get(location__endswith=path.name) for path in paths}

    def assert_everything_reads_back(self) -> None:
        for name in ("rawnotification", "parsednotification", "circuitmaintenance", "maintenancenote"):
            url = reverse(f"plugins-api:nautobot_ssot_circuit_maintenance-api:{name}-list")
            response = self.client.get(url, {"depth": 1}, HTTP_ACCEPT="application/json")
            self.assertEqual(response.status_code, 200, f"{url}: {response.content[:300]}")
        for raw in RawNotification.objects.all():
            response = self.client.get(raw.get_absolute_url())
            self.assertEqual(response.status_code, 200, raw.get_absolute_url())
        for maintenance in CircuitMaintenance.objects.all():
            response = self.client.get(maintenance.get_absolute_url())
            self.assertEqual(response.status_code, 200, maintenance.get_absolute_url())
        calendar = reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:circuitmaintenance-calendar")
        self.assertEqual(self.client.get(calendar, HTTP_ACCEPT="text/calendar").status_code, 200)

    def test_malformed_encoded_words_in_subject_and_from(self):
        words = ["=?x-unknown?q?hi?=", "=?utf-8?q?=FF=FE?=", "=?utf-8?b?YWJj?= =?utf-8?b?Y?="]
        spam = [
            f"From: {word} <spam{index}@unknown.example>\r\nSubject: {word}\r\n"
            f"Message-ID: <s{index}@x>\r\n\r\nbuy\r\n".encode()
            for index, word in enumerate(words)
        ]
        from_header = with_headers(MESSAGES["zayo5"], from_=f"{words[0]} <mr@zayo.com>")
        subject = with_headers(MESSAGES["zayo6"], subject=words[1])
        stored = self.sync_with_good_mail(*spam, from_header, subject)
        rows = list(stored.values())
        self.assertEqual([row.outcome for row in rows[:3]], [OutcomeChoices.UNKNOWN_PROVIDER] * 3)
        self.assertIn("hi", rows[0].subject)
        self.assertEqual(rows[3].outcome, OutcomeChoices.PARSED, rows[3].error)
        # Zayo's parser reads the subject: this notice fails to parse, as its own outcome, with the reason.
        self.assertIn(rows[4].outcome, (OutcomeChoices.PARSED, OutcomeChoices.PARSING_FAILED))
        self.assertTrue(rows[4].outcome == OutcomeChoices.PARSED or rows[4].error)

    def test_nul_in_encoded_header_raw_mail_and_ical_summary(self):
        encoded = with_headers(MESSAGES["zayo5"], from_="=?utf-8?q?MR=00Zayo?= <mr@zayo.com>")
        raw_nul = with_headers(MESSAGES["zayo6"], x_junk="raw\x00nul") + b"\n\x00trailing NUL\n"
        ical = ical_notice(
            "NUL-1",
            ["GHOST-1"],
            sender=HOSTILE_SENDER,
            summary="Plan\\u0000ned\x00work",
            date="Fri, 20 Nov 2026 10:00:00 +0000",
        )
        stored = self.sync_with_good_mail(encoded, raw_nul, ical)
        for row in stored.values():
            self.assertNotIn("\x00", row.subject + row.sender + row.error)
            self.assertNotEqual(row.outcome, OutcomeChoices.PARSING_FAILED, row.error)
        maintenance = CircuitMaintenance.objects.get(maintenance_id="NUL-1")
        self.assertNotIn("\x00", maintenance.description)
        self.assertEqual(stored["00003-hostile1.eml"].raw_size, len(raw_nul))

    def test_multipart_nested_fifty_deep_is_refused_at_once(self):
        started = time.monotonic()
        stored = self.sync_with_good_mail(nested_multipart(50))
        (row,) = stored.values()
        self.assertEqual(row.outcome, OutcomeChoices.TOO_LARGE)
        self.assertIn("nested", row.error)
        self.assertLess(time.monotonic() - started, 120)

    def test_a_parse_over_its_deadline_is_stopped_and_stored(self):
        # Depth 24 is within this run's depth bound, and takes the parser far longer than 2 s.
        limits = {"max_mime_depth": 40, "parse_timeout_seconds": 2}
        stored = self.sync_with_good_mail(nested_multipart(24), message_limits=limits)
        (row,) = stored.values()
        self.assertEqual(row.outcome, OutcomeChoices.PARSE_TIMEOUT)
        self.assertEqual(row.sender, "mr@zayo.com")
        self.assertIn("longer than 2 s", row.error)

    def test_date_beyond_year_9999_utc_uses_the_mailbox_time(self):
        absurd = with_headers(MESSAGES["zayo5"], date="Fri, 31 Dec 9999 23:59:59 -1200")
        stored = self.sync_with_good_mail(absurd)
        (row,) = stored.values()
        self.assertEqual(row.outcome, OutcomeChoices.PARSED, row.error)
        self.assertLess(abs((row.date - datetime.now(timezone.utc)).total_seconds()), 3600)

    def test_provider_mail_without_date_parses_with_the_received_time(self):
        undated = with_headers(MESSAGES["zayo5"], date=None)
        received = datetime.fromtimestamp(int(time.time()) - 86400, tz=timezone.utc)
        self.folder.add(MESSAGES[GOOD], GOOD)
        path = self.folder.add(undated, "undated")
        os.utime(path, (received.timestamp(), received.timestamp()))
        with self.configured([self.folder.source]):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        row = RawNotification.objects.get(location__endswith=path.name)
        self.assertEqual(row.outcome, OutcomeChoices.PARSED, row.error)
        self.assertEqual(row.date, received)
        self.assertEqual(format_datetime(row.date), format_datetime(received))

    def test_xlsx_that_inflates_past_the_bound_is_too_large(self):
        stored = self.sync_with_good_mail(xlsx_bomb(64), message_limits={"max_inflated_mb": 16})
        (row,) = stored.values()
        self.assertEqual(row.outcome, OutcomeChoices.TOO_LARGE)
        self.assertIn("inflate", row.error)

    def test_message_over_the_size_bound_is_stored_unparsed(self):
        big = with_headers(MESSAGES["zayo5"]) + b"x" * (1024 * 1024)
        stored = self.sync_with_good_mail(big, message_limits={"max_message_mb": 0.5})
        (row,) = stored.values()
        self.assertEqual(row.outcome, OutcomeChoices.TOO_LARGE)
        self.assertEqual(row.sender, "MR Zayo <mr@zayo.com>")
        self.assertEqual(row.raw_size, len(big))

    def test_a_parse_over_the_worker_memory_cap_is_too_large(self):
        # 60 MB of HTML within the size bound, in workers capped at 512 MiB of address space (imports take ~320).
        body = ("<p>" + "x" * 70 + "</p>\r\n") * (60 * 1024 * 1024 // 77)
        huge = with_headers(MESSAGES["zayo5"], content_type="text/html", content_transfer_encoding=None)
        huge = huge.split(b"\n\n", 1)[0] + b"\n\n" + body.encode()
        stored = self.sync_with_good_mail(huge, message_limits={"max_message_mb": 100, "worker_memory_mb": 512})
        (row,) = stored.values()
        self.assertEqual(row.outcome, OutcomeChoices.TOO_LARGE)
        self.assertIn("memory", row.error)

    def test_five_thousand_unknown_circuit_ids_make_one_note(self):
        cids = [f"GHOST-{index:05d}" for index in range(5000)]
        notice = ical_notice("MANY-CIDS-1", cids, sender=HOSTILE_SENDER, date="Fri, 20 Nov 2026 10:00:00 +0000")
        stored = self.sync_with_good_mail(notice)
        (row,) = stored.values()
        self.assertEqual(row.outcome, OutcomeChoices.UNKNOWN_CIDS)
        maintenance = CircuitMaintenance.objects.get(maintenance_id="MANY-CIDS-1")
        self.assertEqual(len(maintenance.unresolved_circuit_ids), 5000)
        (note,) = MaintenanceNote.objects.filter(maintenance=maintenance)
        self.assertEqual(note.title, "5,000 unknown circuit IDs")
        self.assertIn("GHOST-04999", note.comment)

    def test_chunks_are_bounded_by_bytes(self):
        # Each mail is over the chunk's byte budget: every chunk holds one batch, and all are stored.
        original = LocalFolderSource.batch_size
        LocalFolderSource.batch_size = 1
        self.addCleanup(setattr, LocalFolderSource, "batch_size", original)
        mails = [with_headers(MESSAGES[name]) for name in ("zayo5", "zayo6", "zayo7")]
        stored = self.sync_with_good_mail(*mails, message_limits={"chunk_mb": 0.001})
        self.assertEqual(len(stored), 3)
        self.assertTrue(all(row.outcome != OutcomeChoices.PARSING_FAILED for row in stored.values()))


class DatabaseFailureTestCase(JobTestMixin, TransactionTestCase):
    """Only a source or the database fails a run — and then the sources say so, and nothing is half-stored."""

    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        self.folder = MailFolder()
        self.addCleanup(self.folder.cleanup)

    def refuse_raw_notifications(self) -> None:
        """A real PostgreSQL refusal (a trigger), as a full disk or a constraint would give."""
        table = RawNotification._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE OR REPLACE FUNCTION cm_test_refuse() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER cm_test_refuse BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION cm_test_refuse()"
            )

        def remove():
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TRIGGER IF EXISTS cm_test_refuse ON {table}")
                cursor.execute("DROP FUNCTION IF EXISTS cm_test_refuse()")

        self.addCleanup(remove)
        return remove

    def test_a_database_failure_fails_the_run_sets_last_error_and_the_next_run_completes(self):
        self.folder.add(MESSAGES[GOOD], GOOD)
        self.folder.add(MESSAGES["zayo5"], "zayo5")
        with self.configured([self.folder.source]):
            remove = self.refuse_raw_notifications()
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE")
            source = NotificationSource.objects.get(name=self.folder.name)
            self.assertIn("The sync stopped before it finished", source.last_error)
            self.assertEqual(source.cursor, {})
            self.assertEqual((RawNotification.objects.count(), CircuitMaintenance.objects.count()), (0, 0))
            remove()
            result, _ = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            source.refresh_from_db()
            self.assertEqual(source.last_error, "")
            self.assertEqual(RawNotification.objects.count(), 2)
            self.assertEqual(
                set(CircuitMaintenance.objects.values_list("maintenance_id", flat=True)), {GOOD_ID, "TTN-0003456789"}
            )
