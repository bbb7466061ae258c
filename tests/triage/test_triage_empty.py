"""The triage queue's table when it has no row: what the queue is for, or why nothing is shown."""

from __future__ import annotations

from django.urls import reverse
from nautobot.apps.testing import TestCase

from nautobot_ssot_circuit_maintenance.models import RawNotification
from tests.fixtures.ui_data import build_ui_data

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
QUEUE = reverse(f"{PREFIX}:triage_list")
NOTHING_NEEDED = "Nothing needs a person now."


class TriageEmptyStateTestCase(TestCase):
    """The queue's empty text, as the HTMX request that fills the list's table gets it."""

    def rows(self, **params):
        response = self.client.get(QUEUE, params, HTTP_HX_REQUEST="true")  # the table, as HTMX loads it
        self.assertHttpStatus(response, 200)
        return response.content.decode()

    def setUp(self):
        super().setUp()
        self.add_permissions("nautobot_ssot_circuit_maintenance.view_rawnotification")

    def test_an_empty_queue_says_what_it_is_for_and_where_to_look(self):
        self.assertFalse(RawNotification.objects.needs_triage().exists())
        body = self.rows()
        self.assertIn("The triage queue lists the notifications that need a person", body)
        self.assertIn(NOTHING_NEEDED, body)
        self.assertIn(f'<a href="{reverse(f"{PREFIX}:rawnotification_list")}">Raw Notifications</a>', body)
        docs = reverse(f"{PREFIX}:docs_page", kwargs={"page": "triage"})
        self.assertIn(f'<a href="{docs}">Triage queue</a>', body)
        self.assertHttpStatus(self.client.get(docs), 200)
        # The page before HTMX fills the table does not claim anything about the queue.
        self.assertNotContains(self.client.get(QUEUE), NOTHING_NEEDED)

    def test_a_queue_filtered_to_nothing_says_so_and_not_that_nothing_is_needed(self):
        build_ui_data()
        self.assertTrue(RawNotification.objects.needs_triage().exists())
        body = self.rows(q="no-notification-says-this")
        self.assertIn("No notification in the triage queue matches these filters.", body)
        self.assertNotIn(NOTHING_NEEDED, body)
        self.assertNotIn(NOTHING_NEEDED, self.rows())  # and a queue with rows has no empty text at all
