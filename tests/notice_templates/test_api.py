"""Notice templates over REST: Nautobot's generic API tests, the 400s a template that could read nothing gets, and
the JSON export and import."""

from __future__ import annotations

from django.urls import reverse
from nautobot.apps.testing import APITestCase, APIViewTestCases
from nautobot.circuits.models import Provider

from nautobot_ssot_circuit_maintenance.models import NoticeTemplate
from nautobot_ssot_circuit_maintenance.notice_templates.spec import SPEC_FIELDS
from tests.fixtures import velox_mail

API = "plugins-api:nautobot_ssot_circuit_maintenance-api"


def providers(count: int, prefix: str = "Template provider") -> list[Provider]:
    return [Provider.objects.create(name=f"{prefix} {number}") for number in range(count)]


def template_of(provider: Provider, **changes) -> NoticeTemplate:
    template = NoticeTemplate(provider=provider, **{**velox_mail.TEMPLATE, **changes})
    template.validated_save()
    return template


class NoticeTemplateAPITest(
    APIViewTestCases.GetObjectViewTestCase,
    APIViewTestCases.ListObjectsViewTestCase,
    APIViewTestCases.CreateObjectViewTestCase,
    APIViewTestCases.UpdateObjectViewTestCase,
    APIViewTestCases.DeleteObjectViewTestCase,
):
    model = NoticeTemplate
    choices_fields = [
        *(f"{item}_source" for item in ("maintenance_id", "start", "end", "circuits", "status", "impact")),
        "default_status",
        "default_impact",
    ]

    @classmethod
    def setUpTestData(cls) -> None:
        for provider in providers(3):
            template_of(provider)
        cls.create_data = [
            {**velox_mail.TEMPLATE, "provider": provider.pk} for provider in providers(3, "New provider")
        ]
        cls.update_data = {"time_zone": "Europe/Berlin", "date_formats": "%d.%m.%Y %H:%M\nISO 8601"}
        cls.bulk_update_data = {"description": "bulk"}


class NoticeTemplateRulesTest(APITestCase):
    """What is refused with a 400 naming the field, never a 500; the provider by name; export and import."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.provider = Provider.objects.create(name=velox_mail.PROVIDER)

    def setUp(self) -> None:
        super().setUp()
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.add_noticetemplate",
            "nautobot_ssot_circuit_maintenance.change_noticetemplate",
            "nautobot_ssot_circuit_maintenance.view_noticetemplate",
            "circuits.view_provider",
        )

    def post(self, **changes):
        body = {**velox_mail.TEMPLATE, "provider": velox_mail.PROVIDER, **changes}
        return self.client.post(reverse(f"{API}:noticetemplate-list"), body, format="json", **self.header)

    def test_the_provider_by_name(self) -> None:
        response = self.post()
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(NoticeTemplate.objects.get().provider, self.provider)

    def test_a_template_that_could_read_nothing_is_a_400_that_says_why(self) -> None:
        cases = {
            "maintenance_id_pattern": ("Planned works (VLX-[", "Not a regular expression"),
            "date_formats": ("%d/%m/%Y %Q", "unknown directive(s) %Q"),
            "time_zone": ("Mars/Olympus_Mons", "is not a time zone"),
            "status_words": ({"scheduled": "PLANNED"}, "'scheduled' maps to 'PLANNED'"),
            "circuits_column": ("", "Name the column"),
            "start_pattern": ("", "Give the regular expression"),
            "default_impact": ("SOME", "is not a valid choice"),
        }
        for field, (value, said) in cases.items():
            with self.subTest(field):
                response = self.post(**{field: value})
                self.assertEqual(response.status_code, 400, response.content)
                self.assertIn(field, response.json())
                self.assertIn(said, " ".join(response.json()[field]))
        self.assertFalse(NoticeTemplate.objects.exists())

    def test_export_then_import_gives_the_same_template(self) -> None:
        template = template_of(self.provider, description="round trip")
        exported = self.client.get(reverse(f"{API}:noticetemplate-export", args=[template.pk]), **self.header)
        self.assertEqual(exported.status_code, 200)
        document = exported.json()
        self.assertEqual(document["provider"], velox_mail.PROVIDER)
        before = {name: getattr(template, name) for name in ("description", *SPEC_FIELDS)}
        template.delete()

        url = reverse(f"{API}:noticetemplate-import-template")
        response = self.client.post(url, document, format="json", **self.header)
        self.assertEqual(response.status_code, 201, response.content)
        imported = NoticeTemplate.objects.get(provider=self.provider)
        self.assertEqual({name: getattr(imported, name) for name in before}, before)
        # Imported again (edited): the provider's template is replaced, not doubled.
        response = self.client.post(url, {**document, "time_zone": "UTC"}, format="json", **self.header)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(NoticeTemplate.objects.get(provider=self.provider).time_zone, "UTC")

    def test_an_import_that_is_no_template_is_a_400(self) -> None:
        url = reverse(f"{API}:noticetemplate-import-template")
        good = {"format": "nautobot-ssot-circuit-maintenance/notice-template", "version": 1, **velox_mail.TEMPLATE}
        cases = [
            ([1, 2], "Not a notice template"),
            ({**good, "provider": "Nobody"}, "No provider is named 'Nobody'"),
            ({**good, "provider": velox_mail.PROVIDER, "version": 7}, "Version 7"),
            ({**good, "provider": velox_mail.PROVIDER, "extra": 1}, "Unknown field(s): extra"),
            ({**good, "provider": velox_mail.PROVIDER, "time_zone": 5}, "Text is expected"),
            ({**good, "provider": velox_mail.PROVIDER, "end_pattern": "(("}, "Not a regular expression"),
        ]
        for body, said in cases:
            with self.subTest(said):
                response = self.client.post(url, body, format="json", **self.header)
                self.assertEqual(response.status_code, 400, response.content)
                self.assertIn(said, response.content.decode())
        self.assertFalse(NoticeTemplate.objects.exists())
