"""A provider's new ticket that replaces an old one: linked by the real sync, by a person, and never undone by mail."""

from __future__ import annotations

from datetime import datetime, timezone

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import SimpleTestCase
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TestCase, TransactionTestCase
from nautobot.circuits.models import Provider
from nautobot.extras.context_managers import web_request_context
from nautobot.extras.models import ObjectChange

from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices
from nautobot_ssot_circuit_maintenance.intake.chunk import Chunk
from nautobot_ssot_circuit_maintenance.intake.commit import link_replaced
from nautobot_ssot_circuit_maintenance.intake.fold import MaintenanceState
from nautobot_ssot_circuit_maintenance.intake.notice_facts import replaced_ids
from nautobot_ssot_circuit_maintenance.intake.resolve import ResolvedMaintenance
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD
from tests.fixtures.job_helpers import FolderSyncMixin
from tests.fixtures.records import create_maintenance
from tests.fixtures.sample_data import ical_notice

SENDER = "noc@replace-carrier.example"
OTHER_SENDER = "noc@other-carrier.example"
BEFORE = datetime(2026, 11, 25, tzinfo=timezone.utc)  # before the notices' window (2026-12-01 06:00–08:00 UTC)
API = "plugins-api:nautobot_ssot_circuit_maintenance-api"
User = get_user_model()


class ReplacedIdsTest(SimpleTestCase):
    def test_the_sentences_providers_write_name_the_older_ticket(self):
        for text, expected in (
            ("This maintenance replaces ticket XYZ-123.", ["XYZ-123"]),
            ("This notification supersedes maintenance #CM20231201000", ["CM20231201000"]),
            ("Work rescheduled from PWIC-1234: new date below", ["PWIC-1234"]),
            ("This is a reschedule of the previously announced maintenance 12345678", ["12345678"]),
            ("Nothing replaces good planning. It supersedes the old plan.", []),
            ("This maintenance replaces NEW-2", []),  # never itself
            # Any case, as the pattern ignores case; "ſ" is an "s" to it (the quick check before it agrees).
            ("THIS MAINTENANCE REPLACES TICKET XYZ-9", ["XYZ-9"]),
            ("This notice ſupersedes maintenance #CM77", ["CM77"]),
            ("RESCHEDULED FROM PWIC-77", ["PWIC-77"]),
        ):
            self.assertEqual(replaced_ids(text, "NEW-2"), expected, text)


class ReplacesSyncTest(FolderSyncMixin, TransactionTestCase):
    settings = {"raw_notification_size": 1_000_000}

    def setUp(self):
        super().setUp()
        self.carrier = self.provider("Replace Carrier", SENDER)
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
            "nautobot_ssot_circuit_maintenance.change_circuitmaintenance",
            "circuits.view_provider",
        )
        self.client.force_login(self.user)

    @staticmethod
    def provider(name: str, sender: str) -> Provider:
        provider = Provider.objects.create(name=name)
        provider._custom_field_data.update({EMAILS_FIELD: sender, PARSER_FIELD: "genericprovider"})
        provider.validated_save()
        return provider

    def notice(self, maintenance_id: str, sequence: int = 1, summary: str = "Planned work", sender: str = SENDER):
        return (
            f"{maintenance_id}-{sequence}",
            ical_notice(maintenance_id, ["RC-1"], sender=sender, summary=summary, sequence=sequence),
        )

    def test_a_notice_naming_the_older_ticket_links_them_and_the_older_one_is_over(self):
        self.sync(self.notice("OLD-1"))
        old = CircuitMaintenance.objects.get(maintenance_id="OLD-1")
        self.assertIn(old, CircuitMaintenance.objects.upcoming(30, now=BEFORE))
        self.sync(self.notice("NEW-2", summary="Planned work. This maintenance replaces ticket OLD-1."))
        new = CircuitMaintenance.objects.get(maintenance_id="NEW-2")
        self.assertEqual(new.replaces, old)
        self.assertFalse(new.replaces_by_person)
        old.refresh_from_db()
        self.assertTrue(old.is_superseded)
        self.assertEqual(old.superseding, new)

        # Over like a cancelled one: never upcoming, never in need of attention, its live state cancelled.
        self.assertEqual(list(CircuitMaintenance.objects.upcoming(30, now=BEFORE)), [new])
        self.assertEqual(list(CircuitMaintenance.objects.needs_attention(now=BEFORE)), [new])
        self.assertEqual(old.current_live_state(BEFORE), LiveStateChoices.CANCELLED)
        self.assertEqual(list(CircuitMaintenance.objects.in_live_state(["cancelled"], now=BEFORE)), [old])
        self.assertEqual(list(CircuitMaintenance.objects.in_live_state(["upcoming"], now=BEFORE)), [new])
        self.assertEqual(list(CircuitMaintenance.objects.open_first(now=BEFORE)), [new, old])

        old_page = self.client.get(old.get_absolute_url()).content.decode()
        self.assertIn("Superseded by", old_page)
        self.assertIn(
            f'<span class="badge bg-secondary">superseded</span> <a href="{new.get_absolute_url()}">', old_page
        )
        new_page = self.client.get(new.get_absolute_url()).content.decode()
        self.assertIn(
            f'<span class="badge bg-info text-dark">replaces</span> <a href="{old.get_absolute_url()}">', new_page
        )
        self.assertIn("named by the provider&#x27;s notice", new_page)

        api = self.client.get(old.get_absolute_url(api=True)).json()
        self.assertEqual([item["maintenance_id"] for item in api["superseded_by"]], ["NEW-2"])
        self.assertEqual(self.client.get(new.get_absolute_url(api=True)).json()["replaces"]["id"], str(old.pk))
        listed = self.client.get("/api/plugins/circuit-maintenance/maintenance/?superseded=true").json()["results"]
        self.assertEqual([row["maintenance_id"] for row in listed], ["OLD-1"])
        listed = self.client.get("/api/plugins/circuit-maintenance/maintenance/?replaces=OLD-1").json()["results"]
        self.assertEqual([row["maintenance_id"] for row in listed], ["NEW-2"])

        # Idempotent: the same mail again changes nothing.
        self.sync()
        new.refresh_from_db()
        self.assertEqual(new.replaces, old)

    def test_a_persons_link_is_never_undone_by_mail(self):
        self.sync(self.notice("OLD-1"), self.notice("OTHER-3"))
        self.sync(self.notice("NEW-2", summary="This maintenance supersedes maintenance OLD-1"))
        new = CircuitMaintenance.objects.get(maintenance_id="NEW-2")
        other = CircuitMaintenance.objects.get(maintenance_id="OTHER-3")
        response = self.client.patch(
            new.get_absolute_url(api=True), {"replaces": str(other.pk)}, content_type="application/json"
        )
        self.assertHttpStatus(response, 200)
        new.refresh_from_db()
        self.assertEqual((new.replaces, new.replaces_by_person), (other, True))
        self.assertIn("(set by a person)", self.client.get(new.get_absolute_url()).content.decode())

        self.sync(self.notice("NEW-2", 2, summary="Still: this maintenance replaces ticket OLD-1"))
        new.refresh_from_db()
        self.assertEqual(new.replaces, other, "the notice does not undo a person's link")
        # Cleared by a person: stays cleared.
        response = self.client.patch(
            new.get_absolute_url(api=True), {"replaces": None}, content_type="application/json"
        )
        self.assertHttpStatus(response, 200)
        self.sync(self.notice("NEW-2", 3, summary="Once more: this maintenance replaces ticket OLD-1"))
        new.refresh_from_db()
        self.assertIsNone(new.replaces)
        self.assertTrue(new.replaces_by_person)

    def test_a_link_to_itself_another_providers_or_in_a_circle_is_refused_with_a_message(self):
        other_carrier = self.provider("Other Carrier", OTHER_SENDER)
        self.sync(self.notice("OLD-1"), self.notice("THEIRS-9", sender=OTHER_SENDER))
        self.sync(self.notice("NEW-2", summary="This maintenance replaces ticket OLD-1"))
        old, new = (CircuitMaintenance.objects.get(maintenance_id=mid) for mid in ("OLD-1", "NEW-2"))
        theirs = CircuitMaintenance.objects.get(provider=other_carrier)
        for target, value, text in (
            (new, new.pk, "cannot replace itself"),
            (new, theirs.pk, "another provider"),
            (old, new.pk, "replaces this maintenance already"),
        ):
            response = self.client.patch(
                target.get_absolute_url(api=True), {"replaces": str(value)}, content_type="application/json"
            )
            self.assertHttpStatus(response, 400)
            self.assertIn(text, str(response.json()))
        # A notice naming another provider's ticket links nothing.
        self.sync(self.notice("NEW-4", summary="This maintenance replaces ticket THEIRS-9"))
        self.assertIsNone(CircuitMaintenance.objects.get(maintenance_id="NEW-4").replaces)
        page = self.client.get(new.get_absolute_url() + "edit/").content.decode()
        self.assertIn('name="replaces"', page)


class LinkLogTest(TestCase):
    """The links a chunk writes are change-logged with what their REST serializer reads fetched once, not per link."""

    def setUp(self):
        self.provider = Provider.objects.create(name="Link Carrier")
        self.user = User.objects.create_superuser(username="link-log-admin")

    def link(self, count: int, prefix: str) -> int:
        """Store `count` old and new maintenances, link each new one to its old one; the queries that took."""
        chunk = Chunk(runs=[])
        for index in range(count):
            for name in (f"{prefix}-OLD-{index}", f"{prefix}-NEW-{index}"):
                create_maintenance(self.provider, name, name, "CONFIRMED", [(BEFORE, BEFORE)])
            state = MaintenanceState(
                f"{prefix}-NEW-{index}", "CONFIRMED", "", [(BEFORE, BEFORE)], replaces=(f"{prefix}-OLD-{index}",)
            )
            chunk.maintenances[(self.provider.pk, state.maintenance_id)] = ResolvedMaintenance(
                self.provider.pk, self.provider.name, state, circuits={}
            )
        with web_request_context(self.user), CaptureQueriesContext(connection) as queries:
            self.assertEqual(link_replaced(chunk), count)
        return len(queries)

    def test_each_link_is_logged_as_its_serializer_shows_it_with_queries_that_do_not_grow_per_link(self):
        one, five = self.link(1, "A"), self.link(5, "B")
        # Nautobot's own v1 serializer reads each record's tags: one query per link, nothing more.
        self.assertLessEqual(five - one, 4, "the queries of a link's change log entry grow with the links")
        for index in range(5):
            new = CircuitMaintenance.objects.get(maintenance_id=f"B-NEW-{index}")
            change = ObjectChange.objects.filter(changed_object_id=new.pk, action="update").get()
            self.assertEqual(change.object_data_v2["replaces"]["id"], str(new.replaces_id))
            self.assertEqual(change.object_data["replaces"], str(new.replaces_id))
