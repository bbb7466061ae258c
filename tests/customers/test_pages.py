"""Customer notices seen and acted on: the notice page and its preview, the approval's own permission, the panels on
the tenant and maintenance pages, the REST API, GraphQL, and the template and tenant-settings forms."""

from __future__ import annotations

import json

from django.test import override_settings
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase

from nautobot_ssot_circuit_maintenance.choices import NoticeStateChoices
from nautobot_ssot_circuit_maintenance.customers.drafts import draft_notices
from nautobot_ssot_circuit_maintenance.models import CustomerNotice, CustomerNoticeTemplate, TenantNoticeSettings
from tests.fixtures.customer_data import build_customer_data
from tests.fixtures.job_helpers import plugin_config
from tests.fixtures.location_data import build_site_data

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
PERM = "nautobot_ssot_circuit_maintenance"
SENDER = "noc@operator.example"


def build_notices():
    data = build_site_data()
    build_customer_data(data.tenants)
    draft_notices()
    return data, CustomerNotice.objects.get(tenant=data.tenants["Y"])


@override_settings(PLUGINS_CONFIG=plugin_config([], customer_notices={"from_address": SENDER}))
class NoticePageTests(TestCase):
    def setUp(self):
        super().setUp()
        self.data, self.notice = build_notices()

    def test_the_page_previews_what_each_recipient_gets(self):
        self.add_permissions(f"{PERM}.view_customernotice", f"{PERM}.view_circuitmaintenance")
        page = self.client.get(self.notice.get_absolute_url())
        self.assertIn("exactly what each recipient gets", page.content.decode().lower())
        for address in ("carol@y.example", "dan@y.example"):
            self.assertContains(page, f'<td class="text-break">{address}</td>', html=False)
        self.assertContains(page, SENDER)
        self.assertContains(page, self.notice.subject)
        self.assertContains(page, "maintenance.ics (text/calendar")
        self.assertContains(page, "X-MAINTNOTE-MAINTENANCE-ID:LOC-M3")
        self.assertContains(page, "LOC-M3")  # the maintenances panel

    def test_approving_needs_its_own_permission_not_change(self):
        self.add_permissions(f"{PERM}.view_customernotice", f"{PERM}.change_customernotice")
        url = reverse(f"{PREFIX}:customernotice_approve", args=[self.notice.pk])
        self.assertNotContains(self.client.get(self.notice.get_absolute_url()), url)
        self.assertEqual(self.client.post(url).status_code, 403)
        self.assertEqual(CustomerNotice.objects.get(pk=self.notice.pk).state, NoticeStateChoices.DRAFT)
        self.add_permissions(f"{PERM}.approve_customernotice")
        self.assertEqual(self.client.get(url).status_code, 405, "a link or an <img> cannot approve")
        self.assertContains(self.client.get(self.notice.get_absolute_url()), url)
        response = self.client.post(url)
        self.assertRedirects(response, self.notice.get_absolute_url(), fetch_redirect_response=False)
        notice = CustomerNotice.objects.get(pk=self.notice.pk)
        self.assertEqual((notice.state, notice.approved_by), (NoticeStateChoices.APPROVED, self.user))
        history = self.client.get(reverse(f"{PREFIX}:customernotice_changelog", args=[self.notice.pk]))
        self.assertEqual(history.status_code, 403)  # needs extras.view_objectchange
        self.add_permissions("extras.view_objectchange")
        history = self.client.get(reverse(f"{PREFIX}:customernotice_changelog", args=[self.notice.pk]))
        self.assertContains(history, self.user.username)

    def test_the_tenant_and_maintenance_pages_list_their_notices(self):
        self.add_permissions("tenancy.view_tenant", f"{PERM}.view_customernotice", f"{PERM}.view_circuitmaintenance")
        page = self.client.get(self.data.tenants["Y"].get_absolute_url())
        self.assertIn("maintenance notices", page.content.decode().lower())
        self.assertContains(page, self.notice.get_absolute_url())
        page = self.client.get(self.data.maintenances["M3"].get_absolute_url())
        self.assertIn("customer notices", page.content.decode().lower())
        self.assertContains(page, self.notice.get_absolute_url())

    def test_the_list_filters_by_state_and_refuses_bad_values(self):
        self.add_permissions(f"{PERM}.view_customernotice")
        url = reverse(f"{PREFIX}:customernotice_list")
        htmx = {"HTTP_HX_REQUEST": "true"}  # Nautobot 3.2 fills a list's table through HTMX
        self.assertContains(self.client.get(url, {"state": "draft"}, **htmx), self.notice.get_absolute_url())
        self.assertNotContains(self.client.get(url, {"state": "sent"}, **htmx), self.notice.get_absolute_url())
        refused = self.client.get(url, {"state": "nonsense"}, **htmx)
        self.assertEqual(refused.status_code, 200)
        self.assertContains(refused, "Invalid filters")

    def test_a_template_that_is_not_jinja2_is_refused_with_a_message(self):
        self.add_permissions(f"{PERM}.add_customernoticetemplate", f"{PERM}.view_customernoticetemplate")
        response = self.client.post(
            reverse(f"{PREFIX}:customernoticetemplate_add"),
            {"name": "Broken", "subject": "{{ tenant", "body": "ok"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Not a valid Jinja2 template")
        self.assertFalse(CustomerNoticeTemplate.objects.exists())

    def test_tenant_settings_take_addresses_one_per_line(self):
        self.add_permissions(
            f"{PERM}.add_tenantnoticesettings", f"{PERM}.view_tenantnoticesettings", "tenancy.view_tenant"
        )
        url = reverse(f"{PREFIX}:tenantnoticesettings_add")
        tenant = self.data.tenants["X"]
        response = self.client.post(url, {"tenant": tenant.pk, "notify": "on", "recipients": "not-an-address"})
        self.assertContains(response, "is not an e-mail address")
        self.client.post(url, {"tenant": tenant.pk, "notify": "on", "recipients": "a@x.example\nb@x.example"})
        self.assertEqual(TenantNoticeSettings.objects.get(tenant=tenant).recipients, ["a@x.example", "b@x.example"])


class NoticeApiTests(APITestCase):
    def setUp(self):
        super().setUp()
        self.data, self.notice = build_notices()

    def test_notices_with_their_recipients(self):
        self.add_permissions(f"{PERM}.view_customernotice")
        url = reverse("plugins-api:nautobot_ssot_circuit_maintenance-api:customernotice-list")
        response = self.client.get(url, {"tenant": self.data.tenants["Y"].name, "exclude_m2m": "false"}, **self.header)
        self.assertHttpStatus(response, 200)
        (found,) = response.json()["results"]
        self.assertEqual(sorted(r["address"] for r in found["recipients"]), ["carol@y.example", "dan@y.example"])
        self.assertEqual(found["state"], "draft")

    def test_approve_over_rest_needs_the_approve_permission(self):
        self.add_permissions(f"{PERM}.view_customernotice", f"{PERM}.change_customernotice")
        url = self.notice.get_absolute_url(api=True) + "approve/"
        self.assertHttpStatus(self.client.post(url, **self.header), 403)
        self.add_permissions(f"{PERM}.approve_customernotice")
        response = self.client.post(url, **self.header)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.json()["state"], "approved")
        self.assertEqual(response.json()["approved_by"], self.user.username)
        # Approved once: a second approval is a 400 with the reason.
        response = self.client.post(url, **self.header)
        self.assertHttpStatus(response, 400)
        self.assertIn("not a draft", json.dumps(response.json()))

    def test_graphql(self):
        self.add_permissions(f"{PERM}.view_customernotice")
        query = "{ customer_notices { subject state kind approved_by recipients { address state } } }"
        response = self.client.post(
            "/api/graphql/", data=json.dumps({"query": query}), content_type="application/json", **self.header
        )
        payload = response.json()
        self.assertNotIn("errors", payload, payload)
        notices = {n["subject"]: n for n in payload["data"]["customer_notices"]}
        self.assertEqual(
            sorted(r["address"] for r in notices[self.notice.subject]["recipients"]),
            ["carol@y.example", "dan@y.example"],
        )
