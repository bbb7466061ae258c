"""Action rules in the UI and the REST API: written change-logged, their destination never shown, and the
maintenance page's preview of what will fire and when."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from nautobot.apps.testing import TestCase
from nautobot.extras.models import ObjectChange
from nautobot.users.models import Token

from nautobot_ssot_circuit_maintenance.choices import LiveStateChoices
from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE
from nautobot_ssot_circuit_maintenance.models import ActionRule
from tests.actions.helpers import H, destination, message_rule, move, now
from tests.fixtures.location_data import build_site_data

HOOK_URL = "json://noc-bot:Hook-Passw0rd-xyz@hooks.example.net/incoming/T0k3nPart1234"  # noqa: S105 - a test value
API = "plugins-api:nautobot_ssot_circuit_maintenance-api:actionrule"


class ActionRuleUITestCase(TestCase):
    """Pages and REST of the rules, as a superuser."""

    def setUp(self):
        super().setUp()
        self.user = get_user_model().objects.create_user(username="rules-admin", is_superuser=True, is_staff=True)
        self.client.force_login(self.user)
        self.token = Token.objects.create(user=self.user)
        self.data = build_site_data()
        self.group = destination("Slack NOC", HOOK_URL)

    def assert_no_secret(self, text: str) -> None:
        for part in ("Hook-Passw0rd-xyz", "T0k3nPart1234", "hooks.example.net"):
            self.assertNotIn(part, text)

    def test_created_through_rest_change_logged_and_listed_without_the_destination_url(self):
        provider = self.data.maintenances["M1"].provider
        response = self.client.post(
            reverse(f"{API}-list"),
            {
                "name": "Slack the NOC",
                "kind": "notify",
                "occasion": "transition",
                "transitions": [LiveStateChoices.IN_PROGRESS],
                "providers": [str(provider.pk)],
                "secrets_group": str(self.group.pk),
                "subject_template": "{{ maintenance.name }}",
                "body_template": "{{ occasion }}",
            },
            format="json",
            HTTP_AUTHORIZATION=f"Token {self.token.key}",
        )
        self.assertEqual(response.status_code, 201, response.content)
        rule = ActionRule.objects.get(name="Slack the NOC")
        self.assertTrue(
            ObjectChange.objects.filter(
                changed_object_type=ContentType.objects.get_for_model(ActionRule), changed_object_id=rule.pk
            ).exists()
        )
        for url in (
            reverse(f"{URL_NAMESPACE}:actionrule_list"),
            reverse(f"{URL_NAMESPACE}:actionrule", args=[rule.pk]),
            reverse(f"{URL_NAMESPACE}:actionrule_edit", args=[rule.pk]),
        ):
            page = self.client.get(url)
            self.assertEqual(page.status_code, 200, url)
            self.assert_no_secret(page.content.decode())
        # The list's rows come with the page's htmx request.
        listing = self.client.get(reverse(f"{URL_NAMESPACE}:actionrule_list"), HTTP_HX_REQUEST="true")
        self.assertContains(listing, "Slack the NOC")
        self.assertContains(listing, "entering in progress")
        api = self.client.get(reverse(f"{API}-detail", args=[rule.pk]), HTTP_AUTHORIZATION=f"Token {self.token.key}")
        self.assert_no_secret(api.content.decode())

    def test_rest_refuses_a_bad_rule_with_a_message(self):
        response = self.client.post(
            reverse(f"{API}-list"),
            {"name": "Nowhere", "kind": "notify", "body_template": "x", "transitions": ["sideways"]},
            format="json",
            HTTP_AUTHORIZATION=f"Token {self.token.key}",
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("transitions", response.json())

    def test_the_maintenance_page_shows_the_preview(self):
        m1 = self.data.maintenances["M1"]
        start = now() + 2 * H
        move(m1, start, start + 4 * H)
        message_rule("Tell the NOC", self.group, providers=[m1.provider], transitions=[LiveStateChoices.IN_PROGRESS])
        page = self.client.get(m1.get_absolute_url())
        self.assertContains(page, "Actions: what will fire, when".upper())
        self.assertContains(page, "Tell the NOC")
        self.assertContains(page, "on entering in progress")
        self.assertContains(page, "Planned")
        self.assert_no_secret(page.content.decode())
