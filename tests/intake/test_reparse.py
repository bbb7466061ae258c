"""The re-parse job: stored notifications parsed again, selected by source, provider, outcome and dates."""

from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock

from django.urls import reverse
from nautobot.apps.testing import TransactionTestCase, run_job_for_testing
from nautobot.extras.models import Job, JobResult
from nautobot.users.models import Token
from nautobot_ssot.models import Sync

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.intake import reprocess
from nautobot_ssot_circuit_maintenance.mail.packing import parser_version
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, ParsedNotification, RawNotification
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD
from nautobot_ssot_circuit_maintenance.sync import jobs
from tests.fixtures.job_helpers import FolderSyncMixin
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits

MESSAGES = corpus_by_name()
WHOLE = {"raw_notification_size": 1_000_000}
ZAYO = ("zayo4", "zayo5", "zayo6", "zayo7", "zayo8")


class ReparseJobTest(FolderSyncMixin, TransactionTestCase):
    """Mail synced from a local folder, then parsed again from the database by the re-parse job."""

    settings = WHOLE
    enabled_jobs = ("CircuitMaintenanceDataSource", "ReparseDataSource")

    def setUp(self):
        super().setUp()
        self.providers = create_providers_and_circuits()

    def sync(self, *names: str) -> None:
        super().sync(*((name, MESSAGES[name]) for name in names))

    def reparse(self, dryrun: bool = False, **criteria):
        job = Job.objects.get(job_class_name="ReparseDataSource")
        inputs = {"dryrun": dryrun, "memory_profiling": False, **criteria}
        result = run_job_for_testing(job, **job_inputs(run_job_for_testing, inputs))
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
        return result, Sync.objects.get(job_result=result)

    def stored_state(self) -> list:
        maintenances = CircuitMaintenance.objects.order_by("maintenance_id").values_list(
            "maintenance_id", "status", "windows", "ack"
        )
        impacts = CircuitMaintenance.objects.order_by("maintenance_id", "circuit_impacts__circuit__cid").values_list(
            "maintenance_id", "circuit_impacts__circuit__cid", "circuit_impacts__impact"
        )
        outcomes = RawNotification.objects.order_by("message_key").values_list("message_key", "outcome", "provider")
        return [list(maintenances), list(impacts), list(outcomes), ParsedNotification.objects.count()]

    def test_a_parsing_failed_mail_becomes_a_maintenance_once_its_provider_is_configured(self):
        att = self.providers["att"]
        parser = att._custom_field_data.get(PARSER_FIELD)
        att._custom_field_data[PARSER_FIELD] = "ntt"  # a wrong parser: the AT&T notice fails to parse
        att.validated_save()
        self.sync("att1", "aws3")
        failed = RawNotification.objects.get(provider=att)
        self.assertEqual(failed.outcome, OutcomeChoices.PARSING_FAILED)
        self.assertFalse(CircuitMaintenance.objects.filter(provider=att).exists())

        att._custom_field_data[PARSER_FIELD] = parser
        att.validated_save()
        before = self.stored_state()
        result, sync = self.reparse(dryrun=True, outcomes=[OutcomeChoices.PARSING_FAILED])
        self.assertIn("Re-parsing 1 stored notifications", self.job_log(result))
        self.assertIn("Dry run: maintenances 1 created, 0 updated; outcomes: parsed 1", self.job_log(result))
        self.assertIn("1234567", str(sync.diff), "the dry run's diff shows the maintenance it would create")
        self.assertEqual(self.stored_state(), before, "a dry run writes nothing")

        result, _ = self.reparse(outcomes=[OutcomeChoices.PARSING_FAILED])
        self.assertIn("Sync: maintenances 1 created, 0 updated; outcomes: parsed 1", self.job_log(result))
        failed.refresh_from_db()
        self.assertEqual((failed.outcome, failed.error), (OutcomeChoices.PARSED, ""))
        maintenance = CircuitMaintenance.objects.get(provider=att, maintenance_id="1234567")
        self.assertEqual(failed.parsed_notifications.get().maintenance, maintenance)
        self.assertEqual(
            list(maintenance.circuit_impacts.values_list("circuit__cid", flat=True)), ["23/HCGS/123456/SC"]
        )

    def test_a_provider_selects_the_mail_it_now_claims(self):
        att = self.providers["att"]
        addresses = att._custom_field_data[EMAILS_FIELD]
        att._custom_field_data[EMAILS_FIELD] = ""
        att.validated_save()
        self.sync("att1", "aws3", "zayo4")
        self.assertEqual(RawNotification.objects.get(provider=None).outcome, OutcomeChoices.UNKNOWN_PROVIDER)

        self.assertEqual(reprocess.stored_for_reparse(providers=[att]).count(), 0)
        att._custom_field_data[EMAILS_FIELD] = addresses
        att.validated_save()
        self.assertEqual([raw.provider_id for raw in reprocess.stored_for_reparse(providers=[att])], [None])

        result, _ = self.reparse(providers=[att.pk])
        self.assertIn("Re-parsing 1 stored notifications", self.job_log(result))
        self.assertEqual(RawNotification.objects.get(provider=att).outcome, OutcomeChoices.PARSED)
        self.assertTrue(CircuitMaintenance.objects.filter(provider=att).exists())

    def test_dates_and_sources_narrow_the_selection(self):
        self.sync("att1", "aws3", "zayo4")
        dates = sorted(RawNotification.objects.values_list("date", flat=True))
        first, last = dates[0].date(), dates[-1].date()
        self.assertEqual(reprocess.stored_for_reparse(since=first, until=last).count(), 3)
        self.assertEqual(reprocess.stored_for_reparse(until=first).count(), sum(d.date() <= first for d in dates))
        self.assertEqual(reprocess.stored_for_reparse(since=last + timedelta(days=1)).count(), 0)
        self.assertEqual(reprocess.stored_for_reparse(sources=[]).count(), 3, "no criterion selects everything")
        source = RawNotification.objects.first().source
        self.assertEqual(reprocess.stored_for_reparse(sources=[source]).count(), 3)
        self.assertEqual(reprocess.stored_for_reparse(outcomes=[OutcomeChoices.IGNORED]).count(), 0)

        result, sync = self.reparse(since=str(last + timedelta(days=1)))
        self.assertIn("Re-parsing 0 stored notifications", self.job_log(result))
        self.assertEqual(sync.diff, {})

    def test_everything_parsed_again_chunk_by_chunk_changes_nothing(self):
        self.sync("att1", "aws3", *ZAYO)
        before = self.stored_state()
        # Chunks of two messages, batches of one: the history of a maintenance spans chunks.
        with mock.patch.object(jobs, "CHUNK_MESSAGES", 2), mock.patch.object(reprocess, "STORED_BATCH", 1):
            result, _ = self.reparse()
        self.assertIn(f"Re-parsing {2 + len(ZAYO)} stored notifications", self.job_log(result))
        self.assertIn("Sync: maintenances 0 created, 0 updated", self.job_log(result))
        self.assertEqual(self.stored_state(), before)

    def test_an_empty_date_range_is_refused_with_a_message(self):
        self.add_permissions("extras.run_job", "extras.view_job")
        job = Job.objects.get(job_class_name="ReparseDataSource")
        url = reverse("extras-api:job-run", kwargs={"pk": job.pk})
        token = Token.objects.create(user=self.user)
        for data, message in (
            ({"since": "2024-05-02", "until": "2024-05-01"}, "no day is in that range"),
            ({"since": "2024-02-30"}, "is not a day of the calendar"),
            ({"until": "May 1st"}, "Must match regex"),
            ({"outcomes": ["exploded"]}, "not one of the available choices"),
        ):
            response = self.client.post(
                url,
                json.dumps({"data": data}),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {token.key}",
            )
            self.assertEqual(response.status_code, 400, response.content)
            self.assertIn(message, response.content.decode())
        self.assertFalse(JobResult.objects.filter(job_model=job).exists(), "no run was started")


class ReparseByParserVersionTest(FolderSyncMixin, TransactionTestCase):
    """The version of circuit-maintenance-parser each notification was last parsed with selects a re-parse."""

    settings = WHOLE
    enabled_jobs = ("CircuitMaintenanceDataSource", "ReparseDataSource")
    OLD = "2.0.0"
    reparse = ReparseJobTest.reparse

    def setUp(self):
        super().setUp()
        self.providers = create_providers_and_circuits()
        self.sync(*((name, MESSAGES[name]) for name in ("att1", "aws3", "zayo4")))
        # att1 as if parsed by an older parser before an upgrade.
        self.old = RawNotification.objects.get(provider=self.providers["att"])
        RawNotification.objects.filter(pk=self.old.pk).update(parser_version=self.OLD)

    def test_the_job_selects_mail_parsed_with_another_version_or_a_given_one(self):
        self.assertEqual(list(reprocess.stored_for_reparse(other_parser_version=True)), [self.old])
        self.assertEqual(list(reprocess.stored_for_reparse(parser_versions=[self.OLD])), [self.old])
        self.assertEqual(reprocess.stored_for_reparse(parser_versions=[parser_version()]).count(), 2)
        # Never parsed (no version recorded): not "another version".
        RawNotification.objects.exclude(pk=self.old.pk).update(parser_version="")
        self.assertEqual(list(reprocess.stored_for_reparse(other_parser_version=True)), [self.old])

        result, _ = self.reparse(parser_version=self.OLD)
        self.assertIn("Re-parsing 1 stored notifications", self.job_log(result))
        self.old.refresh_from_db()
        self.assertEqual(self.old.parser_version, parser_version(), "re-parsed by the installed parser")
        RawNotification.objects.filter(pk=self.old.pk).update(parser_version=self.OLD)
        result, _ = self.reparse(other_parser_version=True)
        self.assertIn("Re-parsing 1 stored notifications", self.job_log(result))
        self.assertEqual(reprocess.stored_for_reparse(other_parser_version=True).count(), 0)

    def test_the_list_filters_and_rest_expose_the_version(self):
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_rawnotification")
        self.client.force_login(self.user)
        api = reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:rawnotification-list")
        for query, expected in (
            ({"parser_outdated": "true"}, {self.old.pk}),
            ({"parser_version": self.OLD}, {self.old.pk}),
            (
                {"parser_version__n": self.OLD},
                set(RawNotification.objects.exclude(pk=self.old.pk).values_list("pk", flat=True)),
            ),
            (
                {"parser_outdated": "false"},
                set(RawNotification.objects.exclude(pk=self.old.pk).values_list("pk", flat=True)),
            ),
        ):
            response = self.client.get(api, query)
            self.assertHttpStatus(response, 200, query)
            found = {row["id"] for row in response.json()["results"]}
            self.assertEqual(found, {str(pk) for pk in expected}, query)
            self.assertIn("parser_version", response.json()["results"][0])
        response = self.client.get(api, {"parser_outdated": "maybe"})
        self.assertHttpStatus(response, 400)
        self.assertIn("parser_outdated", response.json())

        url = reverse("plugins:nautobot_ssot_circuit_maintenance:rawnotification_list")
        table = self.client.get(url, {"parser_outdated": "true"}, HTTP_HX_REQUEST="true").content.decode()
        self.assertIn(self.old.subject, table)
        self.assertIn(f"<td>{self.OLD}</td>", table.replace(" ", "").replace("\n", "").replace("<td>", "<td>"))
        self.assertNotIn(RawNotification.objects.get(provider=self.providers["zayo"]).subject, table)
        page = self.client.get(url).content.decode()
        self.assertIn('name="parser_outdated"', page)
        self.assertIn(f'<option value="{self.OLD}"', page)
