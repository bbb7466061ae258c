"""Reading notices with a template, without the database: attachments (CSV, XLSX), ISO dates with offsets, status
words found in the text, and what a template reads nothing from."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timezone
from email.message import EmailMessage

from django.test import SimpleTestCase
from openpyxl import Workbook

from nautobot_ssot_circuit_maintenance.notice_templates.extract import TemplateError, template_maintenances
from nautobot_ssot_circuit_maintenance.notice_templates.spec import spec_problems

ROWS = [
    ("Circuit", "Impact", "Ticket", "From", "Until"),
    ("ACME-0001", "Hard down", "CHG-77", "2027-06-01T23:00:00+02:00", "2027-06-02T03:00:00+02:00"),
    ("ACME-0002", "Resilience at risk", "CHG-77", "2027-06-01T23:00:00+02:00", "2027-06-02T03:00:00+02:00"),
]
ATTACHMENT_TEMPLATE = {
    "maintenance_id_source": "attachment",
    "maintenance_id_column": "ticket",
    "start_source": "attachment",
    "start_column": "From",
    "end_source": "attachment",
    "end_column": "Until",
    "circuits_source": "attachment",
    "circuits_column": "Circuit",
    "status_source": "text",
    "status_words": {"has been cancelled": "CANCELLED", "will take place": "CONFIRMED"},
    "default_status": "TENTATIVE",
    "impact_source": "attachment",
    "impact_column": "Impact",
    "impact_words": {"hard down": "OUTAGE", "resilience at risk": "REDUCED-REDUNDANCY"},
    "default_impact": "OUTAGE",
    "date_formats": "ISO 8601",
    "time_zone": "UTC",
}


def spec(**changes) -> dict:
    full = {
        f"{item}_{part}": ""
        for item in ("maintenance_id", "start", "end", "circuits", "status", "impact")
        for part in ("source", "pattern", "column")
    }
    return {**full, **ATTACHMENT_TEMPLATE, **changes}


def acme_mail(
    attachment: bytes, filename: str, kind: str, text: str = "The work will take place as planned."
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "changes@acme.example"
    message["Subject"] = "ACME change notification"
    message["Date"] = "Tue, 18 May 2027 10:00:00 +0000"
    message.set_content(text)
    maintype, subtype = kind.split("/")
    message.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=filename)
    return message


def csv_bytes() -> bytes:
    return "\n".join(";".join(row) for row in ROWS).encode("utf-8-sig")


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    for row in ROWS:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read(template: dict, message: EmailMessage) -> dict:
    (maintenance,) = template_maintenances(
        template, message, provider="ACME", organizer="changes@acme.example", stamp=1
    )
    return json.loads(maintenance.to_json())


class AttachmentTest(SimpleTestCase):
    EXPECTED = {
        "maintenance_id": "CHG-77",
        "status": "CONFIRMED",
        "start": int(datetime(2027, 6, 1, 21, tzinfo=timezone.utc).timestamp()),
        "end": int(datetime(2027, 6, 2, 1, tzinfo=timezone.utc).timestamp()),
        "circuits": [
            {"circuit_id": "ACME-0001", "impact": "OUTAGE"},
            {"circuit_id": "ACME-0002", "impact": "REDUCED-REDUNDANCY"},
        ],
    }

    def check(self, message: EmailMessage) -> None:
        self.assertEqual(spec_problems(spec()), {})
        got = read(spec(), message)
        self.assertEqual({key: got[key] for key in self.EXPECTED}, self.EXPECTED)
        self.assertEqual(got["provider"], "ACME")
        self.assertEqual(got["summary"], "ACME change notification")

    def test_a_csv_attachment_read_by_column_header(self):
        self.check(acme_mail(csv_bytes(), "change.csv", "text/csv"))

    def test_an_xlsx_attachment_read_by_column_header(self):
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        self.check(acme_mail(xlsx_bytes(), "change.xlsx", kind))

    def test_a_status_word_found_in_the_text(self):
        message = acme_mail(csv_bytes(), "change.csv", "text/csv", text="Change CHG-77 has been cancelled.")
        self.assertEqual(read(spec(), message)["status"], "CANCELLED")
        message = acme_mail(csv_bytes(), "change.csv", "text/csv", text="Details attached.")
        self.assertEqual(read(spec(), message)["status"], "TENTATIVE")


class ReadsNothingTest(SimpleTestCase):
    def test_what_is_missing_is_said(self):
        message = acme_mail(csv_bytes(), "change.csv", "text/csv")
        cases = [
            (spec(circuits_column="Service"), "no circuits found in column 'Service' of an attachment"),
            (spec(impact_words={"hard down": "OUTAGE"}), "the impact word 'Resilience at risk' is not one of"),
            (spec(date_formats="%d.%m.%Y"), "fits none of the date formats (%d.%m.%Y)"),
            (spec(start_column="Until", end_column="From"), "End time"),
            (spec(time_zone="Nowhere/Land"), "the template is not valid: time_zone"),
        ]
        for template, said in cases:
            with self.subTest(said), self.assertRaisesRegex(TemplateError, re.escape(said)):
                read(template, message)


class BrokenAttachmentTest(SimpleTestCase):
    def test_a_broken_attachment_is_skipped_and_named_when_it_was_needed(self):
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        message = acme_mail(b"PK\x03\x04 not a workbook", "change.xlsx", kind, text="Ticket CHG-77 will take place.")
        with self.assertRaisesRegex(TemplateError, r"no maintenance id found .*\(unreadable: change.xlsx: \w+"):
            read(spec(), message)
        # A template that reads the text only does not need it.
        from_text = spec(
            maintenance_id_source="text", maintenance_id_column="", maintenance_id_pattern=r"Ticket (CHG-\d+)"
        )
        with self.assertRaisesRegex(TemplateError, "no start found in column 'From' of an attachment"):
            read(from_text, message)
