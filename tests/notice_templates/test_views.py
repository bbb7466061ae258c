"""Notice template pages: Nautobot's generic view tests, a bad template refused on the form with its message, the
JSON download and upload, and what the template reads from stored mail (writing nothing)."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from nautobot.apps.testing import FilterTestCases, TestCase, ViewTestCases
from nautobot.circuits.models import Provider

from nautobot_ssot_circuit_maintenance import filters
from nautobot_ssot_circuit_maintenance.models import NoticeTemplate
from nautobot_ssot_circuit_maintenance.notice_templates.spec import SPEC_FIELDS
from tests.fixtures import velox_mail

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"


def form_of(template: dict, **changes) -> dict:
    """A template as its form posts it (word maps as JSON text)."""
    data = {**template, **changes}
    for name in ("status_words", "impact_words"):
        if isinstance(data.get(name), dict):
            data[name] = json.dumps(data[name])
    return data


class NoticeTemplateViewTest(
    ViewTestCases.GetObjectViewTestCase,
    ViewTestCases.GetObjectChangelogViewTestCase,
    ViewTestCases.CreateObjectViewTestCase,
    ViewTestCases.EditObjectViewTestCase,
    ViewTestCases.DeleteObjectViewTestCase,
    ViewTestCases.ListObjectsViewTestCase,
    ViewTestCases.BulkDeleteObjectsViewTestCase,
):
    model = NoticeTemplate

    @classmethod
    def setUpTestData(cls) -> None:
        for number in range(3):
            velox_mail.save_template(Provider.objects.create(name=f"Template provider {number}"))
        new = Provider.objects.create(name="Provider with no template")
        cls.form_data = form_of(velox_mail.TEMPLATE, provider=new.pk, time_zone="Europe/Berlin")

    def assertInstanceEqual(self, instance, data, *args, **kwargs):  # noqa: N802 - Nautobot's name
        """The word maps compared as the JSON they are, not as text (the form posts them as text)."""
        words = [k for k in data if k.endswith("_words")]
        for name in words:
            value = data[name]
            self.assertEqual(getattr(instance, name), json.loads(value) if isinstance(value, str) else value)
        data = {k: v for k, v in data.items() if k not in words}
        super().assertInstanceEqual(instance, data, *args, **kwargs)


class NoticeTemplatePagesTest(TestCase):
    user_permissions = [
        "nautobot_ssot_circuit_maintenance.add_noticetemplate",
        "nautobot_ssot_circuit_maintenance.change_noticetemplate",
        "nautobot_ssot_circuit_maintenance.view_noticetemplate",
        "nautobot_ssot_circuit_maintenance.view_rawnotification",
        "circuits.view_provider",
    ]

    def setUp(self) -> None:
        super().setUp()
        self.provider = Provider.objects.create(name=velox_mail.PROVIDER)

    def test_a_bad_template_is_refused_on_the_form_with_its_message(self) -> None:
        cases = {
            "maintenance_id_pattern": ("(VLX-[", "Not a regular expression"),
            "date_formats": ("%d/%m/%Y %Q", "unknown directive(s) %Q"),
            "time_zone": ("Europe/Atlantis", "is not a time zone"),
        }
        for field, (value, said) in cases.items():
            with self.subTest(field):
                response = self.client.post(
                    reverse(f"{PREFIX}:noticetemplate_add"),
                    form_of(velox_mail.TEMPLATE, provider=self.provider.pk, **{field: value}),
                )
                self.assertEqual(response.status_code, 200)
                self.assertIn(said, response.content.decode())
        self.assertFalse(NoticeTemplate.objects.exists())

    def test_the_json_download_uploaded_again_gives_the_same_template(self) -> None:
        template = velox_mail.save_template(self.provider, description="round trip")
        download = self.client.get(reverse(f"{PREFIX}:noticetemplate_export", args=[template.pk]))
        self.assertEqual(download.status_code, 200)
        self.assertIn('attachment; filename="notice-template-velox-fibre.json"', download["Content-Disposition"])
        before = {name: getattr(template, name) for name in ("description", *SPEC_FIELDS)}
        template.delete()

        upload = SimpleUploadedFile("t.json", download.content, content_type="application/json")
        response = self.client.post(reverse(f"{PREFIX}:noticetemplate_import_json"), {"file": upload})
        imported = NoticeTemplate.objects.get(provider=self.provider)
        self.assertRedirects(response, imported.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual({name: getattr(imported, name) for name in before}, before)

    def test_an_upload_that_is_no_template_is_a_400_that_says_why(self) -> None:
        cases = [
            (b"{not json", "Not JSON"),
            (b'{"format": "x"}', "Not a notice template"),
            (b"[" * 100_000, "Not JSON"),
        ]
        for data, said in cases:
            with self.subTest(said):
                upload = SimpleUploadedFile("t.json", data, content_type="application/json")
                response = self.client.post(reverse(f"{PREFIX}:noticetemplate_import_json"), {"file": upload})
                self.assertEqual(response.status_code, 400)
                self.assertIn(said, response.content.decode())
        self.assertFalse(NoticeTemplate.objects.exists())

    def test_trying_an_invalid_form_says_so_and_saves_nothing(self) -> None:
        response = self.client.post(
            reverse(f"{PREFIX}:noticetemplate_try_new"),
            form_of(velox_mail.TEMPLATE, provider=self.provider.pk, end_pattern="(("),
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("Not a regular expression", response.content.decode())
        self.assertIn("cm-try-invalid", response.content.decode())
        self.assertFalse(NoticeTemplate.objects.exists())


class NoticeTemplateFilterSetTest(FilterTestCases.FilterTestCase):
    queryset = NoticeTemplate.objects.all()
    filterset = filters.NoticeTemplateFilterSet
    generic_filter_tests = (
        ["provider", "provider__id"],
        ["provider", "provider__name"],
        ["description"],
    )

    @classmethod
    def setUpTestData(cls) -> None:
        for number in range(3):
            provider = Provider.objects.create(name=f"Filtered provider {number}")
            velox_mail.save_template(provider, description=f"template number {number}")

    def test_search(self) -> None:
        self.assertEqual(self.filterset({"q": "provider 1"}, self.queryset).qs.get().description, "template number 1")
        self.assertEqual(self.filterset({"q": "number 2"}, self.queryset).qs.get().description, "template number 2")
