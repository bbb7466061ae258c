"""Circuit aliases imported from CSV in the UI: the alias list's Import, which runs Nautobot's import job."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.models import Job, JobLogEntry, JobResult

from nautobot_ssot_circuit_maintenance.models import CircuitAlias
from tests.fixtures.ui_data import build_ui_data

IMPORT_URL = reverse("extras:job_run_by_class_path", kwargs={"class_path": "nautobot.core.jobs.ImportObjects"})
LIST_URL = reverse("plugins:nautobot_ssot_circuit_maintenance:circuitalias_list")


class AliasCsvImportTestCase(TransactionTestCase):
    """A person imports aliases as CSV (`provider,alias,circuit`: provider name, the ID as written, circuit ID)."""

    databases = ("default", "job_logs")

    def setUp(self):
        super().setUp()
        self.data = build_ui_data()
        self.provider_a, self.provider_b = self.data.providers[0], self.data.providers[1]
        Job.objects.filter(module_name="nautobot.core.jobs", job_class_name="ImportObjects").update(enabled=True)
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.add_circuitalias",
            "nautobot_ssot_circuit_maintenance.view_circuitalias",
            "circuits.view_provider",
            "circuits.view_circuit",
            "extras.run_job",
            "extras.view_job",
            "extras.view_jobresult",
        )

    def import_csv(self, csv_data: str) -> JobResult:
        response = self.client.post(
            IMPORT_URL,
            {
                "content_type": ContentType.objects.get_for_model(CircuitAlias).pk,
                "csv_data": csv_data,
                "roll_back_if_error": True,
                "_schedule_type": "immediately",
            },
        )
        self.assertHttpStatus(response, 302)
        return JobResult.objects.latest("date_created")

    def log(self, result: JobResult, level: str) -> list[str]:
        """The import job's messages of one level (it runs at once here; its logs say how it went)."""
        return list(JobLogEntry.objects.filter(job_result=result, log_level=level).values_list("message", flat=True))

    def test_the_alias_list_offers_import(self):
        response = self.client.get(LIST_URL)
        self.assertHttpStatus(response, 200)
        content_type = ContentType.objects.get_for_model(CircuitAlias)
        self.assertIn(f"{IMPORT_URL}?content_type={content_type.pk}", response.content.decode())

    def test_csv_rows_become_aliases_of_the_named_circuits(self):
        result = self.import_csv(
            "provider,alias,circuit\n"
            f"{self.provider_a.name},XC 100,CM-CID-0\n"
            f"{self.provider_a.name},  xc-101 ,CM-CID-3\n"
            f"{self.provider_b.name},XC-100,CM-CID-4\n"
        )
        self.assertEqual(self.log(result, "error"), [])
        self.assertIn("Created 3 circuitalias object(s) from 3 row(s) of data", self.log(result, "info"))
        self.assertEqual(
            sorted(CircuitAlias.objects.values_list("provider__name", "alias", "circuit__cid", "created_by")),
            [
                (self.provider_a.name, "XC 100", "CM-CID-0", self.user.pk),
                (self.provider_a.name, "xc-101", "CM-CID-3", self.user.pk),
                (self.provider_b.name, "XC-100", "CM-CID-4", self.user.pk),
            ],
        )

    def test_a_bad_row_is_named_and_nothing_is_imported(self):
        # CM-CID-1 is provider B's circuit; row 3 repeats row 1's ID (compared as the sync compares).
        for rows, expected in (
            (f"{self.provider_a.name},XC-2,CM-CID-1", "Row 2: `circuit`: `Related object not found"),
            (
                f"{self.provider_a.name}, xc-1 ,CM-CID-3",
                "Row 2: `__all__`: `That circuit ID already has an alias for this provider",
            ),
            ("No such provider,XC-2,CM-CID-0", "Row 2: `provider`: `Related object not found"),
        ):
            with self.subTest(rows=rows):
                result = self.import_csv(f"provider,alias,circuit\n{self.provider_a.name},XC-1,CM-CID-0\n{rows}\n")
                errors = self.log(result, "error")
                self.assertTrue(any(error.startswith(expected) for error in errors), errors)
                self.assertIn("No circuitalias objects were created", self.log(result, "warning"))
                self.assertFalse(CircuitAlias.objects.exists())
