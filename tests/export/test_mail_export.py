"""Failed mail exported in bulk: a zip of the stored .eml files and a manifest, read back with zipfile."""

from __future__ import annotations

import io
import json
import zipfile

from django.urls import reverse
from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.export import mail as export
from nautobot_ssot_circuit_maintenance.mail.packing import parser_version
from nautobot_ssot_circuit_maintenance.models import RawNotification
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD
from tests.fixtures.job_helpers import FolderSyncMixin
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits

MESSAGES = corpus_by_name()
PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
API = "plugins-api:nautobot_ssot_circuit_maintenance-api"
WHOLE = {"raw_notification_size": 1_000_000}
MANIFEST_FIELDS = {
    "file",
    "id",
    "outcome",
    "error",
    "sender",
    "provider",
    "subject",
    "date",
    "received",
    "parser_version",
    "message_key",
    "stored",
}


def read_zip(response) -> tuple[dict[str, bytes], list[dict]]:
    """The archive's .eml files by name and its manifest."""
    body = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(files.pop("manifest.json"))
    return files, manifest


class MailExportTest(FolderSyncMixin, TransactionTestCase):
    """Mail synced by the real job from a local folder: AT&T's fails to parse (a wrong parser), Zayo's is unknown."""

    settings = WHOLE

    def setUp(self):
        super().setUp()
        self.providers = create_providers_and_circuits()
        att = self.providers["att"]
        att._custom_field_data[PARSER_FIELD] = "ntt"  # AT&T's notice fails to parse
        att.validated_save()
        zayo = self.providers["zayo"]
        zayo._custom_field_data[EMAILS_FIELD] = ""  # Zayo's notice comes from an unknown sender
        zayo.validated_save()
        self.sync(*((name, MESSAGES[name]) for name in ("att1", "aws3", "zayo4")))
        self.failed = RawNotification.objects.get(outcome=OutcomeChoices.PARSING_FAILED)
        self.unknown = RawNotification.objects.get(outcome=OutcomeChoices.UNKNOWN_PROVIDER)
        self.parsed = RawNotification.objects.get(outcome=OutcomeChoices.PARSED)
        self.client.force_login(self.user)

    def grant_view(self) -> None:
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_rawnotification")

    def test_filtered_list_exports_the_mail_as_received_with_its_manifest(self):
        self.grant_view()
        url = reverse(f"{PREFIX}:rawnotification_export_mail")
        response = self.client.get(url, {"outcome": OutcomeChoices.PARSING_FAILED})
        self.assertHttpStatus(response, 200)
        self.assertTrue(response.streaming, "the archive is streamed, not built in memory")
        self.assertEqual(response["Content-Type"], "application/zip")
        self.assertIn("attachment", response["Content-Disposition"])
        files, manifest = read_zip(response)
        self.assertEqual(len(files), 1)
        [(name, data)] = files.items()
        self.assertEqual(data, MESSAGES["att1"], "the .eml is the message as received, byte for byte")
        [entry] = manifest
        self.assertEqual(set(entry), MANIFEST_FIELDS)
        self.assertEqual(entry["file"], name)
        self.assertEqual(entry["id"], str(self.failed.pk))
        self.assertEqual(entry["outcome"], OutcomeChoices.PARSING_FAILED)
        self.assertTrue(entry["error"])
        self.assertEqual(entry["provider"], self.providers["att"].name)
        self.assertEqual(entry["subject"], self.failed.subject)
        self.assertEqual(entry["sender"], self.failed.sender)
        self.assertEqual(entry["parser_version"], parser_version())
        self.assertEqual(entry["received"], self.failed.witnessed.isoformat())

        everything, manifest = read_zip(self.client.get(url))
        self.assertEqual(len(everything), 3, "no filter: every notification")
        self.assertEqual(sorted(everything.values()), sorted(MESSAGES[n] for n in ("att1", "aws3", "zayo4")))
        self.assertEqual([entry["file"] for entry in manifest], list(everything))
        self.assertIsNone(next(e for e in manifest if e["outcome"] == OutcomeChoices.UNKNOWN_PROVIDER)["provider"])

    def test_selected_rows_are_exported_and_the_list_offers_the_buttons(self):
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_rawnotification",
            "nautobot_ssot_circuit_maintenance.change_rawnotification",
        )
        url = reverse(f"{PREFIX}:rawnotification_export_mail")
        page = self.client.get(reverse(f"{PREFIX}:rawnotification_list"), {"outcome": "parsed"}).content.decode()
        self.assertIn('id="export-mail-filtered"', page)
        self.assertIn(f'href="{url}?outcome=parsed"', page)
        self.assertIn('id="export-mail-selected"', page)
        response = self.client.post(url, {"pk": [str(self.failed.pk), str(self.unknown.pk)]})
        self.assertHttpStatus(response, 200)
        files, manifest = read_zip(response)
        self.assertEqual(sorted(files.values()), sorted([MESSAGES["att1"], MESSAGES["zayo4"]]))
        self.assertEqual({entry["id"] for entry in manifest}, {str(self.failed.pk), str(self.unknown.pk)})
        # Nautobot's "select all matching": what the filters in the query string show.
        files, _ = read_zip(self.client.post(f"{url}?outcome=parsed", {"_all": "on", "pk": [str(self.failed.pk)]}))
        self.assertEqual(list(files.values()), [MESSAGES["aws3"]])

    def test_the_triage_queue_exports_only_what_needs_a_person(self):
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_rawnotification",
            "nautobot_ssot_circuit_maintenance.change_rawnotification",
        )
        page = self.client.get(reverse(f"{PREFIX}:triage_list")).content.decode()
        self.assertIn(reverse(f"{PREFIX}:triage_export_mail"), page)
        files, manifest = read_zip(self.client.get(reverse(f"{PREFIX}:triage_export_mail")))
        self.assertEqual(sorted(files.values()), sorted([MESSAGES["att1"], MESSAGES["zayo4"]]))
        self.assertNotIn(str(self.parsed.pk), {entry["id"] for entry in manifest})
        # A parsed notification selected by hand is not in the queue: not exported from there.
        files, _ = read_zip(self.client.post(reverse(f"{PREFIX}:triage_export_mail"), {"pk": [str(self.parsed.pk)]}))
        self.assertEqual(files, {})

    def test_bad_requests_get_a_400_with_a_message(self):
        self.grant_view()
        url = reverse(f"{PREFIX}:rawnotification_export_mail")
        for data, text in (
            ({"pk": ["not-a-uuid"]}, "UUID"),
            ({"pk": [str(self.failed.pk), "../etc"]}, "UUID"),
            ({}, "Select at least one"),
        ):
            response = self.client.post(url, data)
            self.assertHttpStatus(response, 400, data)
            self.assertIn(text, response.content.decode())
        response = self.client.get(url, {"outcome": "no-such-outcome"})
        self.assertHttpStatus(response, 400)
        self.assertIn("outcome", response.content.decode())

    def test_the_view_permission_is_needed_and_bounds_what_is_exported(self):
        url = reverse(f"{PREFIX}:rawnotification_export_mail")
        self.assertHttpStatus(self.client.get(url), 403)
        self.assertHttpStatus(self.client.post(url, {"pk": [str(self.failed.pk)]}), 403)
        self.assertHttpStatus(self.client.get(reverse(f"{API}:rawnotification-export")), 403)
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_rawnotification")
        # Limited to one notification by an object permission's constraint.
        permission = self.user.object_permissions.get()
        permission.constraints = {"pk": str(self.unknown.pk)}
        permission.save()
        files, manifest = read_zip(self.client.get(url))
        self.assertEqual(list(files.values()), [MESSAGES["zayo4"]])
        files, _ = read_zip(self.client.post(url, {"pk": [str(self.failed.pk), str(self.unknown.pk)]}))
        self.assertEqual(list(files.values()), [MESSAGES["zayo4"]])
        files, _ = read_zip(self.client.get(reverse(f"{API}:rawnotification-export")))
        self.assertEqual(list(files.values()), [MESSAGES["zayo4"]])

    def test_rest_api_exports_by_filter_or_ids(self):
        self.grant_view()
        url = reverse(f"{API}:rawnotification-export")
        response = self.client.get(url, {"outcome": OutcomeChoices.UNKNOWN_PROVIDER})
        self.assertHttpStatus(response, 200)
        files, manifest = read_zip(response)
        self.assertEqual(list(files.values()), [MESSAGES["zayo4"]])
        self.assertEqual(manifest[0]["outcome"], OutcomeChoices.UNKNOWN_PROVIDER)
        response = self.client.post(url, {"ids": [str(self.failed.pk)]}, content_type="application/json")
        self.assertHttpStatus(response, 200)
        self.assertEqual(list(read_zip(response)[0].values()), [MESSAGES["att1"]])
        for body in ({"ids": ["x"]}, {"ids": "all"}, {}, {"ids": []}):
            response = self.client.post(url, body, content_type="application/json")
            self.assertHttpStatus(response, 400, body)
            self.assertIn("ids", response.json())
        response = self.client.get(url, {"outcome": "no-such-outcome"})
        self.assertHttpStatus(response, 400)
        self.assertIn("outcome", response.json())

    def test_many_messages_stream_in_batches(self):
        self.grant_view()
        stored = list(RawNotification.objects.all())
        template = self.failed
        # More than a few batches of stored copies (the same mail under other keys).
        for index in range(export.EXPORT_BATCH * 3 + 1):
            template.pk = None
            template.message_key = f"copy-{index}@example.com"
            template.save()
        response = self.client.get(reverse(f"{PREFIX}:rawnotification_export_mail"))
        pieces = list(response.streaming_content)
        self.assertGreater(len(pieces), export.EXPORT_BATCH * 3, "one piece per message, not one blob")
        with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive:
            self.assertIsNone(archive.testzip())
            names = archive.namelist()
        self.assertEqual(len(names), len(stored) + export.EXPORT_BATCH * 3 + 1 + 1)
        self.assertEqual(len(set(names)), len(names), "every file name is unique")
