"""The triage queue: each action resolves a real corpus case, through the real sync job."""

from __future__ import annotations

import re

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from nautobot.apps.testing import TransactionTestCase
from nautobot.circuits.models import Circuit
from nautobot.extras.models import JobResult
from nautobot.users.models import ObjectPermission

from nautobot_ssot_circuit_maintenance.choices import MessageKeptChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.models import (
    CircuitAlias,
    CircuitImpact,
    CircuitMaintenance,
    NotificationSource,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD
from nautobot_ssot_circuit_maintenance.triage.actions import triage_count
from tests.fixtures.job_helpers import FolderSyncMixin
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits

MESSAGES = corpus_by_name()
PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
AWS_LAG = "dxlag-00000003"  # named by aws3; not a circuit in Nautobot here
# Keep whole messages (the default 8 KiB would cut att1, and a cut message cannot be reprocessed).
WHOLE = {"raw_notification_size": 1_000_000}


def grant(user, *names: str) -> None:
    """Object permissions as an administrator would give them (one per model)."""
    for name in names:
        app_label, codename = name.split(".")
        action, model = codename.split("_", 1)
        permission = ObjectPermission.objects.create(name=f"{name} for {user}", actions=[action])
        permission.object_types.add(ContentType.objects.get(app_label=app_label, model=model))
        permission.users.add(user)


class TriageTestCase(FolderSyncMixin, TransactionTestCase):
    """Mail synced from a local folder; then a person works the queue in the UI."""

    settings = WHOLE

    def setUp(self):
        super().setUp()
        self.providers = create_providers_and_circuits(skip_cids=frozenset({AWS_LAG}))

    def sync(self, *names: str) -> None:
        super().sync(*((name, MESSAGES[name]) for name in names))

    def create_lag_circuit(self) -> Circuit:
        """The circuit AWS's notice aws3 names as AWS_LAG, created in Nautobot under another ID, AWS-LAG-3."""
        some = Circuit.objects.first()
        return Circuit.objects.create(
            cid="AWS-LAG-3", provider=self.providers["aws"], circuit_type=some.circuit_type, status=some.status
        )

    def grant_all(self) -> None:
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_rawnotification",
            "nautobot_ssot_circuit_maintenance.change_rawnotification",
            "nautobot_ssot_circuit_maintenance.add_circuitalias",
            "nautobot_ssot_circuit_maintenance.change_notificationsource",
            "circuits.view_provider",
            "circuits.change_provider",
            "circuits.view_circuit",
            "extras.run_job",
        )

    # -- unknown sender → provider → parsed on reprocess ---------------------------------------------------
    def test_unknown_sender_assigned_to_provider_is_parsed_on_reprocess(self):
        att = self.providers["att"]
        att._custom_field_data[EMAILS_FIELD] = ""
        att.validated_save()
        self.sync("att1")
        raw = RawNotification.objects.get()
        self.assertEqual(raw.outcome, OutcomeChoices.UNKNOWN_PROVIDER)
        self.grant_all()

        self.assertContains(self.client.get(reverse(f"{PREFIX}:triage_list")), "Triage queue (1)")
        rows = self.client.get(reverse(f"{PREFIX}:triage_list"), HTTP_HX_REQUEST="true")  # the table, as HTMX loads it
        self.assertContains(rows, reverse(f"{PREFIX}:triage_assign_sender", args=[raw.pk]))
        self.assertNotContains(rows, reverse(f"{PREFIX}:triage_map_circuit", args=[raw.pk]))
        self.assertEqual(triage_count(self.user), 1)

        url = reverse(f"{PREFIX}:triage_assign_sender", args=[raw.pk])
        self.assertContains(self.client.get(url), "g31654@att.com")
        response = self.client.post(url, {"provider": str(att.pk), "reprocess": "on"})

        att.refresh_from_db()
        self.assertEqual(att._custom_field_data[EMAILS_FIELD], "g31654@att.com")
        self.assertIn(att, NotificationSource.objects.get().providers.all())
        result = JobResult.objects.filter(job_model__job_class_name="CircuitMaintenanceDataSource").latest(
            "date_created"
        )
        self.assertRedirects(response, result.get_absolute_url(), fetch_redirect_response=False)
        self.assertIn("Sync: maintenances 1 created", self.job_log(result))
        raw.refresh_from_db()
        self.assertEqual(raw.outcome, OutcomeChoices.PARSED)
        self.assertEqual(raw.provider, att)
        maintenance = CircuitMaintenance.objects.get(provider=att, maintenance_id="1234567")
        self.assertEqual(
            list(maintenance.circuit_impacts.values_list("circuit__cid", flat=True)), ["23/HCGS/123456/SC"]
        )
        self.assertEqual(raw.parsed_notifications.get().maintenance, maintenance)
        self.assertEqual(triage_count(self.user), 0)
        # The same mail arriving again is still stored once.
        self.sync()
        self.assertEqual(RawNotification.objects.count(), 1)

    def test_whole_domain_claims_every_sender_of_it(self):
        att = self.providers["att"]
        att._custom_field_data[EMAILS_FIELD] = ""
        att.validated_save()
        self.sync("att1")
        raw = RawNotification.objects.get()
        self.grant_all()
        url = reverse(f"{PREFIX}:triage_assign_sender", args=[raw.pk])
        self.client.post(url, {"provider": str(att.pk), "whole_domain": "on"})
        att.refresh_from_db()
        self.assertEqual(att._custom_field_data[EMAILS_FIELD], "@att.com")
        raw.refresh_from_db()
        self.assertEqual(raw.outcome, OutcomeChoices.UNKNOWN_PROVIDER, "not reprocessed unless asked")

    # -- unknown circuit ID → alias → impact linked ----------------------------------------------------------
    def test_unknown_circuit_mapped_to_a_circuit_links_the_impact(self):
        self.sync("aws3")
        raw = RawNotification.objects.get()
        self.assertEqual(raw.outcome, OutcomeChoices.UNKNOWN_CIDS)
        maintenance = CircuitMaintenance.objects.get()
        self.assertEqual(maintenance.unresolved_circuit_ids, [AWS_LAG])
        aws = self.providers["aws"]
        lag = self.create_lag_circuit()
        self.grant_all()
        self.assertIn(raw, RawNotification.objects.needs_triage())

        url = reverse(f"{PREFIX}:triage_map_circuit", args=[raw.pk])
        self.assertContains(self.client.get(url), AWS_LAG)
        self.client.post(url, {"circuit_id": AWS_LAG, "circuit": str(lag.pk), "reprocess": "on"})

        alias = CircuitAlias.objects.get()
        self.assertEqual(
            (alias.provider, alias.normalized, alias.circuit, alias.created_by), (aws, "DXLAG-00000003", lag, self.user)
        )
        maintenance.refresh_from_db()
        self.assertEqual(maintenance.unresolved_circuit_ids, [])
        self.assertEqual(CircuitImpact.objects.get(maintenance=maintenance, circuit=lag).impact, "OUTAGE")
        self.assertEqual(maintenance.circuit_impacts.count(), 3)
        raw.refresh_from_db()
        self.assertEqual(raw.outcome, OutcomeChoices.PARSED)
        self.assertNotIn(raw, RawNotification.objects.needs_triage())

    def test_an_alias_alone_is_matched_by_the_next_sync(self):
        self.sync("aws3")
        raw = RawNotification.objects.get()
        lag = self.create_lag_circuit()
        self.grant_all()
        self.client.post(
            reverse(f"{PREFIX}:triage_map_circuit", args=[raw.pk]), {"circuit_id": AWS_LAG, "circuit": str(lag.pk)}
        )
        self.assertIn(raw, RawNotification.objects.needs_triage(), "still unknown until a sync links it")
        self.sync()  # no new mail: the maintenance is folded again because its unknown ID now matches
        self.assertTrue(CircuitImpact.objects.filter(circuit=lag).exists())
        self.assertEqual(CircuitMaintenance.objects.get().unresolved_circuit_ids, [])
        self.assertNotIn(raw, RawNotification.objects.needs_triage())
        # A second alias for the same ID of the same provider is refused with a message.
        response = self.client.post(
            reverse(f"{PREFIX}:triage_map_circuit", args=[raw.pk]), {"circuit_id": AWS_LAG, "circuit": str(lag.pk)}
        )
        self.assertEqual(response.status_code, 404, "no longer in the queue")

    def test_map_circuit_offers_and_accepts_only_the_notice_providers_circuits(self):
        self.sync("aws3")
        raw = RawNotification.objects.get()
        aws = self.providers["aws"]
        elsewhere = Circuit.objects.exclude(provider=aws).first()
        self.grant_all()
        url = reverse(f"{PREFIX}:triage_map_circuit", args=[raw.pk])
        page = self.client.get(url).content.decode()
        # The dropdown asks the REST API for the provider's circuits only.
        widget = re.search(r'<select[^>]*name="circuit"[^>]*>', page).group(0)
        self.assertIn(f'data-query-param-provider="[&quot;{aws.pk}&quot;]"', widget)
        self.assertNotIn("$provider", widget)
        # Another provider's circuit, posted by hand, is refused with a message.
        response = self.client.post(url, {"circuit_id": AWS_LAG, "circuit": str(elsewhere.pk)})
        self.assertContains(response, f"Choose a circuit of provider {aws}", status_code=400)
        self.assertFalse(CircuitAlias.objects.exists())

    def test_a_mapped_circuit_id_leaves_no_stale_note_and_shows_on_the_timeline(self):
        self.sync("aws3")
        raw = RawNotification.objects.get()
        maintenance = CircuitMaintenance.objects.get()
        self.assertTrue(maintenance.maintenance_notes.filter(title__contains=AWS_LAG).exists())
        lag = self.create_lag_circuit()
        self.grant_all()
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
            "nautobot_ssot_circuit_maintenance.view_circuitimpact",
            "nautobot_ssot_circuit_maintenance.view_maintenancenote",
        )
        self.client.post(
            reverse(f"{PREFIX}:triage_map_circuit", args=[raw.pk]),
            {"circuit_id": AWS_LAG, "circuit": str(lag.pk), "reprocess": "on"},
        )
        maintenance.refresh_from_db()
        self.assertEqual(maintenance.unresolved_circuit_ids, [])
        self.assertFalse(
            maintenance.maintenance_notes.filter(title__icontains="unknown circuit").exists(),
            "the note about the unknown circuit ID is gone once it is known",
        )
        page = self.client.get(maintenance.get_absolute_url()).content.decode()
        rows = [
            " ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r'<tr class="cm-timeline-row[^"]*">(.*?)</tr>', page, re.S)
        ]
        mapped = [row for row in rows if "mapped" in row]
        self.assertEqual(len(mapped), 1, rows)
        self.assertIn(f"{AWS_LAG} mapped to circuit AWS-LAG-3 by {self.user.username}", mapped[0])
        self.assertIn("circuit AWS-LAG-3 added (OUTAGE)", mapped[0])
        alias = CircuitAlias.objects.get()
        self.assertIn(f"{alias.created:%Y-%m-%d %H:%M}", mapped[0])
        self.assertIs(rows[-1], mapped[0], "after the notice it resolves")

    # -- dismiss ---------------------------------------------------------------------------------------------
    def test_dismiss_records_who_when_and_why(self):
        self.sync("aws3")
        raw = RawNotification.objects.get()
        self.grant_all()
        url = reverse(f"{PREFIX}:triage_dismiss", args=[raw.pk])
        self.assertEqual(self.client.post(url, {"reason": "  "}).status_code, 400)
        self.assertEqual(self.client.post(url, {"reason": "a" * 501}).status_code, 400)
        self.client.post(url, {"reason": "Circuit  decommissioned\nlast year"})
        raw.refresh_from_db()
        self.assertEqual(raw.dismissed_by, self.user)
        self.assertIsNotNone(raw.dismissed_at)
        self.assertEqual(raw.dismiss_reason, "Circuit decommissioned last year")
        self.assertEqual(triage_count(self.user), 0)

    # -- reprocess ------------------------------------------------------------------------------------------
    def test_a_truncated_message_cannot_be_reprocessed_and_says_why(self):
        self.sync("aws3")
        raw = RawNotification.objects.get()
        # As an older version stored it: the first raw_notification_size bytes only.
        RawNotification.objects.filter(pk=raw.pk).update(
            raw_truncated=True, raw_size=50_000, message=b"", message_kept=MessageKeptChoices.TRUNCATED
        )
        self.grant_all()
        url = reverse(f"{PREFIX}:triage_reprocess", args=[raw.pk])
        self.assertContains(self.client.get(url), "cannot be reprocessed")
        response = self.client.post(url)
        self.assertContains(response, "raw_notification_size", status_code=400)
        self.assertEqual(JobResult.objects.count(), 1, "no job started")

    def test_reprocess_alone_runs_the_sync_job_over_the_stored_message(self):
        aws = self.providers["aws"]
        self.sync("aws3")
        raw = RawNotification.objects.get()
        Circuit.objects.create(
            cid=AWS_LAG,
            provider=aws,
            circuit_type=Circuit.objects.first().circuit_type,
            status=Circuit.objects.first().status,
        )
        self.grant_all()
        cursor = NotificationSource.objects.get().cursor
        response = self.client.post(reverse(f"{PREFIX}:triage_reprocess", args=[raw.pk]))
        result = JobResult.objects.latest("date_created")
        self.assertRedirects(response, result.get_absolute_url(), fetch_redirect_response=False)
        self.assertIn("maintenances 0 created, 1 updated", self.job_log(result))
        raw.refresh_from_db()
        self.assertEqual(raw.outcome, OutcomeChoices.PARSED)
        self.assertEqual(raw.parsed_notifications.count(), 1)
        self.assertEqual(CircuitMaintenance.objects.get().circuit_impacts.count(), 3)
        self.assertEqual(NotificationSource.objects.get().cursor, cursor, "reprocessing moves no cursor")

    # -- permissions and bad input -------------------------------------------------------------------------
    def test_each_action_needs_its_permission(self):
        self.sync("aws3")
        raw = RawNotification.objects.get()
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_rawnotification")
        self.assertEqual(self.client.get(reverse(f"{PREFIX}:triage_list")).status_code, 200)
        for name in ("triage_assign_sender", "triage_map_circuit", "triage_dismiss", "triage_reprocess"):
            url = reverse(f"{PREFIX}:{name}", args=[raw.pk])
            self.assertEqual(self.client.get(url).status_code, 403, name)
            self.assertEqual(self.client.post(url, {"reason": "x"}).status_code, 403, name)
        raw.refresh_from_db()
        self.assertIsNone(raw.dismissed_at)
        self.client.logout()
        response = self.client.get(reverse(f"{PREFIX}:triage_list"))
        self.assertEqual(response.status_code, 302)

    def test_a_provider_the_user_may_not_change_is_refused(self):
        att = self.providers["att"]
        att._custom_field_data[EMAILS_FIELD] = ""
        att.validated_save()
        self.sync("att1")
        raw = RawNotification.objects.get()
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_rawnotification",
            "nautobot_ssot_circuit_maintenance.change_rawnotification",
            "nautobot_ssot_circuit_maintenance.change_notificationsource",
            "circuits.view_provider",
        )
        grant(self.user, "circuits.change_provider")
        ObjectPermission.objects.filter(name__startswith="circuits.change_provider").update(
            constraints={"name": "Zayo"}
        )
        response = self.client.post(reverse(f"{PREFIX}:triage_assign_sender", args=[raw.pk]), {"provider": str(att.pk)})
        self.assertEqual(response.status_code, 400)
        att.refresh_from_db()
        self.assertEqual(att._custom_field_data[EMAILS_FIELD], "")

    def test_bad_parameters_answer_400_or_404(self):
        self.sync("aws3")
        raw = RawNotification.objects.get()
        self.grant_all()
        self.assertEqual(
            self.client.post(
                reverse(f"{PREFIX}:triage_map_circuit", args=[raw.pk]), {"circuit_id": "nope", "circuit": "x"}
            ).status_code,
            400,
        )
        self.assertEqual(
            self.client.post(
                reverse(f"{PREFIX}:triage_assign_sender", args=[raw.pk]),
                {"provider": "00000000-0000-0000-0000-000000000000"},
            ).status_code,
            400,
        )
        self.assertEqual(
            self.client.post(reverse(f"{PREFIX}:triage_dismiss", args=[raw.pk]), {"reason": "bad\x00"}).status_code, 400
        )
        missing = reverse(f"{PREFIX}:triage_dismiss", args=["00000000-0000-0000-0000-000000000000"])
        self.assertEqual(self.client.post(missing, {"reason": "x"}).status_code, 404)
        self.assertEqual(self.client.get("/plugins/circuit-maintenance/triage/not-a-uuid/dismiss/").status_code, 404)
        self.assertEqual(self.client.get(reverse(f"{PREFIX}:triage_list") + "?outcome=nonsense").status_code, 200)
