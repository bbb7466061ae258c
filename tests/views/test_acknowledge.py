"""Acknowledgement (one click, selected, who and when, cleared by the sync), layout and the older app's addresses."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from nautobot.apps.testing import TestCase
from nautobot.extras.models import ObjectChange

from nautobot_ssot_circuit_maintenance.choices import MaintenanceStatusChoices
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, MaintenanceNote, NotificationSource
from tests.fixtures.ui_data import build_ui_data

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
HASH_ID = "387c99e743b96cf135b8e97d56c2dbbc02a0acda4eaf9637bcfeb23a7ebc96e2"


class AcknowledgementTestCase(TestCase):
    def setUp(self):
        super().setUp()
        self.data = build_ui_data()
        self.maintenance = self.data.maintenances[0]  # confirmed, in 2030, not acknowledged

    def test_one_click_records_who_and_when(self):
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
            "nautobot_ssot_circuit_maintenance.change_circuitmaintenance",
        )
        page = self.client.get(self.maintenance.get_absolute_url())
        url = reverse(f"{PREFIX}:circuitmaintenance_acknowledge", args=[self.maintenance.pk])
        self.assertContains(page, url)
        self.assertContains(page, "Needs attention")
        self.assertEqual(self.client.get(url).status_code, 405, "a link or an <img> cannot acknowledge")
        before = timezone.now()
        response = self.client.post(url)
        self.assertRedirects(response, self.maintenance.get_absolute_url(), fetch_redirect_response=False)
        self.maintenance.refresh_from_db()
        self.assertTrue(self.maintenance.ack)
        self.assertEqual(self.maintenance.acknowledged_by, self.user)
        self.assertGreaterEqual(self.maintenance.acknowledged_at, before)
        page = self.client.get(self.maintenance.get_absolute_url())
        self.assertContains(page, f"Acknowledged by {self.user.username}")
        self.assertNotContains(page, url, msg_prefix="no Acknowledge button once acknowledged")
        # Change-logged with the user.
        self.assertTrue(ObjectChange.objects.filter(changed_object_id=self.maintenance.pk, user=self.user).exists())

    def test_acknowledge_needs_the_change_permission(self):
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")
        url = reverse(f"{PREFIX}:circuitmaintenance_acknowledge", args=[self.maintenance.pk])
        self.assertNotContains(self.client.get(self.maintenance.get_absolute_url()), url)
        self.assertEqual(self.client.post(url).status_code, 403)
        self.assertEqual(
            self.client.post(
                reverse(f"{PREFIX}:circuitmaintenance_acknowledge_selected"), {"pk": [self.maintenance.pk]}
            ).status_code,
            403,
        )
        self.maintenance.refresh_from_db()
        self.assertFalse(self.maintenance.ack)

    def test_acknowledge_selected(self):
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
            "nautobot_ssot_circuit_maintenance.change_circuitmaintenance",
        )
        list_url = reverse(f"{PREFIX}:circuitmaintenance_list")
        url = reverse(f"{PREFIX}:circuitmaintenance_acknowledge_selected")
        self.assertContains(self.client.get(list_url), url)
        chosen = self.data.maintenances[:2]
        response = self.client.post(url, {"pk": [m.pk for m in chosen], "return_url": list_url + "?status=CONFIRMED"})
        self.assertRedirects(response, list_url + "?status=CONFIRMED", fetch_redirect_response=False)
        for maintenance in chosen:
            maintenance.refresh_from_db()
            self.assertEqual((maintenance.ack, maintenance.acknowledged_by), (True, self.user))
        self.assertFalse(CircuitMaintenance.objects.get(pk=self.data.maintenances[3].pk).ack)
        # Bad input: 400 with a message; a foreign return_url is not followed.
        bad = self.client.post(url, {"pk": ["not-a-uuid"]})
        self.assertEqual(bad.status_code, 400)
        self.assertIn(b"UUID", bad.content)
        response = self.client.post(url, {"pk": [self.data.maintenances[3].pk], "return_url": "https://evil.example/"})
        self.assertRedirects(response, list_url, fetch_redirect_response=False)

    def grant_change(self) -> None:
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
            "nautobot_ssot_circuit_maintenance.change_circuitmaintenance",
            "nautobot_ssot_circuit_maintenance.view_maintenancenote",
        )

    def test_acknowledge_selected_comes_back_to_the_filtered_list(self):
        self.grant_change()
        list_url = reverse(f"{PREFIX}:circuitmaintenance_list")
        page = self.client.get(list_url + "?status=CONFIRMED&per_page=50").content.decode()
        return_url = html.unescape(re.search(r'name="return_url" value="([^"]*)"', page).group(1))
        self.assertEqual(return_url, list_url + "?status=CONFIRMED&per_page=50")
        for name in ("acknowledge_selected", "unacknowledge_selected"):
            response = self.client.post(
                reverse(f"{PREFIX}:circuitmaintenance_{name}"), {"pk": [self.maintenance.pk], "return_url": return_url}
            )
            self.assertRedirects(response, return_url, fetch_redirect_response=False)

    def test_an_acknowledgement_comment_is_kept_with_who_and_shown(self):
        self.grant_change()
        url = reverse(f"{PREFIX}:circuitmaintenance_acknowledge", args=[self.maintenance.pk])
        self.assertContains(self.client.get(self.maintenance.get_absolute_url()), 'name="comment"')
        self.client.post(url, {"comment": "  Agreed with the NOC:\nno traffic moved  "})
        self.maintenance.refresh_from_db()
        self.assertTrue(self.maintenance.ack)
        note = MaintenanceNote.objects.get(maintenance=self.maintenance, title__startswith="Acknowledged")
        self.assertEqual(note.title, f"Acknowledged by {self.user.username}")
        self.assertEqual(note.comment, "Agreed with the NOC:\nno traffic moved")
        self.assertTrue(ObjectChange.objects.filter(changed_object_id=note.pk, user=self.user).exists())
        self.assertContains(self.client.get(self.maintenance.get_absolute_url()), "no traffic moved")
        # Selected rows get one each; no comment, no note; a NUL is refused with a message.
        chosen = [self.data.maintenances[1].pk, self.data.maintenances[3].pk]
        self.client.post(
            reverse(f"{PREFIX}:circuitmaintenance_acknowledge_selected"), {"pk": chosen, "comment": "Weekly review"}
        )
        self.assertEqual(MaintenanceNote.objects.filter(maintenance__in=chosen, comment="Weekly review").count(), 2)
        self.client.post(reverse(f"{PREFIX}:circuitmaintenance_unacknowledge", args=[self.maintenance.pk]))
        self.client.post(url)
        self.assertEqual(
            MaintenanceNote.objects.filter(maintenance=self.maintenance, title__startswith="Acknowledged").count(), 1
        )
        bad = self.client.post(url, {"comment": "bad\x00"})
        self.assertContains(bad, "comment", status_code=400)

    def test_unacknowledge_on_the_page_and_for_selected_rows(self):
        self.grant_change()
        self.client.post(reverse(f"{PREFIX}:circuitmaintenance_acknowledge", args=[self.maintenance.pk]))
        url = reverse(f"{PREFIX}:circuitmaintenance_unacknowledge", args=[self.maintenance.pk])
        page = self.client.get(self.maintenance.get_absolute_url())
        self.assertContains(page, url)
        self.assertEqual(self.client.get(url).status_code, 405, "a link or an <img> cannot unacknowledge")
        response = self.client.post(url)
        self.assertRedirects(response, self.maintenance.get_absolute_url(), fetch_redirect_response=False)
        self.maintenance.refresh_from_db()
        self.assertEqual(
            (self.maintenance.ack, self.maintenance.acknowledged_by, self.maintenance.acknowledged_at),
            (False, None, None),
        )
        change = ObjectChange.objects.filter(changed_object_id=self.maintenance.pk).order_by("time").last()
        self.assertEqual((change.user, change.object_data["ack"]), (self.user, False))
        page = self.client.get(self.maintenance.get_absolute_url())
        self.assertNotContains(page, url, msg_prefix="no Unacknowledge button once unacknowledged")
        # Selected rows: only those the user may change.
        list_url = reverse(f"{PREFIX}:circuitmaintenance_list")
        selected_url = reverse(f"{PREFIX}:circuitmaintenance_unacknowledge_selected")
        self.assertContains(self.client.get(list_url), selected_url)
        acknowledged = self.data.maintenances[2]  # completed and acknowledged
        self.assertTrue(acknowledged.ack)
        response = self.client.post(selected_url, {"pk": [acknowledged.pk, self.maintenance.pk]})
        self.assertRedirects(response, list_url, fetch_redirect_response=False)
        acknowledged.refresh_from_db()
        self.assertFalse(acknowledged.ack)
        self.assertEqual(self.client.post(selected_url, {"pk": ["not-a-uuid"]}).status_code, 400)

    def test_unacknowledge_needs_the_change_permission(self):
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")
        acknowledged = self.data.maintenances[2]
        url = reverse(f"{PREFIX}:circuitmaintenance_unacknowledge", args=[acknowledged.pk])
        self.assertNotContains(self.client.get(acknowledged.get_absolute_url()), url)
        self.assertEqual(self.client.post(url).status_code, 403)
        selected_url = reverse(f"{PREFIX}:circuitmaintenance_unacknowledge_selected")
        self.assertEqual(self.client.post(selected_url, {"pk": [acknowledged.pk]}).status_code, 403)
        acknowledged.refresh_from_db()
        self.assertTrue(acknowledged.ack)

    def test_needs_attention_only_on_active_or_upcoming_unacknowledged(self):
        now = timezone.now()
        past = CircuitMaintenance.objects.create(
            provider=self.data.providers[0],
            maintenance_id="OLD-2021",
            name="Old work",
            status=MaintenanceStatusChoices.CONFIRMED,
            start_time=now - timedelta(days=1500),
            end_time=now - timedelta(days=1499),
        )
        attention = set(CircuitMaintenance.objects.needs_attention(now=now))
        self.assertIn(self.maintenance, attention)  # confirmed, 2030
        self.assertNotIn(past, attention)  # ended
        self.assertNotIn(self.data.maintenances[2], attention)  # completed (and acknowledged)
        self.assertNotIn(self.data.maintenances[3], attention)  # cancelled
        self.assertEqual(
            {m.pk for m in CircuitMaintenance.objects.all() if m.needs_attention(now)}, {m.pk for m in attention}
        )
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_circuitmaintenance")
        rows = self.client.get(reverse(f"{PREFIX}:circuitmaintenance_list"), HTTP_HX_REQUEST="true").content.decode()
        # Nautobot 3.0 answers with the whole page, 3.2 with the table alone: look at the table.
        rows = rows[rows.find("<table") : rows.rfind("</table>")]
        self.assertEqual(rows.count("Needs attention"), len(attention))
        self.assertNotIn("mdi-close-thick", rows, "no red ✗ on every unacknowledged row")

    def test_edit_form_and_clearing_keep_who_and_when_consistent(self):
        self.maintenance.ack = True
        self.maintenance.save()
        self.assertIsNotNone(self.maintenance.acknowledged_at)
        self.assertTrue(self.maintenance.clear_acknowledgement())
        self.maintenance.save()
        self.maintenance.refresh_from_db()
        self.assertEqual(
            (self.maintenance.ack, self.maintenance.acknowledged_by, self.maintenance.acknowledged_at),
            (False, None, None),
        )


class LayoutTestCase(TestCase):
    def setUp(self):
        super().setUp()
        self.data = build_ui_data()
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_circuitmaintenance",
            "nautobot_ssot_circuit_maintenance.view_circuitimpact",
            "nautobot_ssot_circuit_maintenance.view_rawnotification",
            "nautobot_ssot_circuit_maintenance.view_notificationsource",
        )

    def test_long_ids_wrap_and_dates_stay_on_one_line(self):
        maintenance = self.data.maintenances[0]
        CircuitMaintenance.objects.filter(pk=maintenance.pk).update(maintenance_id=HASH_ID, name=HASH_ID)
        page = self.client.get(maintenance.get_absolute_url()).content.decode()
        self.assertIn(f'<span style="overflow-wrap: anywhere">{HASH_ID}</span>', page)
        maintenance.refresh_from_db()
        label = f"{maintenance.provider.name} {maintenance.start_time:%Y-%m-%d} ({HASH_ID[:8]}…)"
        self.assertEqual(maintenance.label, label)
        self.assertIn(f"<title>{maintenance.page_title} - ", page, "the heading is the label; the panel holds the id")
        self.assertNotIn(f"<title>{HASH_ID[:20]}", page)
        self.assertIn('<span class="text-nowrap">2030-01-10 22:00 UTC</span>', page)
        rows = self.client.get(
            reverse(f"{PREFIX}:circuitmaintenance_list") + "?per_page=50", HTTP_HX_REQUEST="true"
        ).content.decode()
        self.assertIn('<span class="text-nowrap">2030-01-10 22:00</span>', rows)
        self.assertIn(f'title="{HASH_ID}">{label}</a>', rows)

    def test_impact_and_outcome_badges_are_coloured(self):
        rows = self.client.get(reverse(f"{PREFIX}:circuitimpact_list"), HTTP_HX_REQUEST="true").content.decode()
        self.assertIn('<span class="badge bg-danger">Outage</span>', rows)
        self.assertIn('<span class="badge bg-warning">Degraded</span>', rows)
        rows = self.client.get(reverse(f"{PREFIX}:rawnotification_list"), HTTP_HX_REQUEST="true").content.decode()
        self.assertIn('<span class="badge bg-success">Parsed</span>', rows)
        self.assertIn('<span class="badge bg-warning">Unknown provider</span>', rows)

    def test_source_cursor_is_folded_away(self):
        source = self.data.sources[0]
        NotificationSource.objects.filter(pk=source.pk).update(cursor={"uidvalidity": 7, "last_uid": 1234})
        page = self.client.get(source.get_absolute_url()).content.decode()
        self.assertIn("<details", page)
        self.assertRegex(page, r"<details[^>]*><summary>Show \(2 keys\)</summary>")


class LegacyAddressTestCase(TestCase):
    def setUp(self):
        super().setUp()
        self.data = build_ui_data()

    def test_old_job_address_opens_the_sync_job(self):
        response = self.client.get("/plugins/circuit-maintenance/maintenance/job/")
        self.assertRedirects(
            response,
            "/extras/jobs/nautobot_ssot_circuit_maintenance.sync.jobs.CircuitMaintenanceDataSource/run/",
            fetch_redirect_response=False,
        )

    def test_old_parsed_notification_address_opens_its_notification(self):
        parsed = self.data.parsed_notifications[0]
        response = self.client.get(f"/plugins/circuit-maintenance/parsednotification/{parsed.pk}/")
        self.assertRedirects(response, parsed.raw_notification.get_absolute_url(), fetch_redirect_response=False)
        missing = self.client.get(
            "/plugins/circuit-maintenance/parsednotification/00000000-0000-0000-0000-000000000000/"
        )
        self.assertEqual(missing.status_code, 404)
        self.assertEqual(self.client.get("/plugins/circuit-maintenance/parsednotification/x/").status_code, 404)

    def test_redirects_need_a_login(self):
        self.client.logout()
        response = self.client.get("/plugins/circuit-maintenance/maintenance/job/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/login/", response["Location"])


class TriageCountTestCase(TestCase):
    """The count shown on the home page and the queue's title (and offered to the overview)."""

    def setUp(self):
        super().setUp()
        self.data = build_ui_data()

    def test_count_follows_the_queue_and_permissions(self):
        from nautobot_ssot_circuit_maintenance.models import RawNotification
        from nautobot_ssot_circuit_maintenance.triage.actions import triage_count

        # Unknown provider, and unknown-cids whose second parsed notice fed no maintenance; not the parsed one.
        self.assertEqual(set(RawNotification.objects.needs_triage()), set(self.data.raw_notifications[1:]))
        self.assertEqual(triage_count(self.user), 0, "no view permission, nothing counted")
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_rawnotification")
        self.assertEqual(triage_count(type(self.user).objects.get(pk=self.user.pk)), 2)  # permissions are cached
        self.assertContains(
            self.client.get("/"),
            '<span class="badge bg-warning text-dark float-end my-1" id="triage-count">2</span>',
            html=False,
        )
        self.assertContains(self.client.get(reverse(f"{PREFIX}:triage_list")), "Triage queue (2)")
