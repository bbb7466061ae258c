"""Google's consent flow for Gmail sources configured with an OAuth client file, against a loopback Google."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.test import override_settings
from django.urls import reverse
from nautobot.apps.testing import TestCase
from nautobot.extras.models import ObjectChange

from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.models import NotificationSource, SourceOAuthToken
from nautobot_ssot_circuit_maintenance.setup import sync_sources_from_config
from tests.servers.gmail_server import READONLY, FakeGmail

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
CALLBACK = "http://nautobot.example.com/plugins/circuit-maintenance/source/google_oauth2callback/"  # the test host


def messages_of(response) -> str:
    return " | ".join(str(message) for message in response.context["messages"])


class GoogleConsentTestCase(TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.gmail = FakeGmail().start()
        self.addCleanup(self.gmail.stop)
        self.gmail.add(b"From: noc@carrier.example\r\nSubject: hi\r\n\r\nhello\r\n", datetime.now(timezone.utc))
        folder = Path(tempfile.mkdtemp(prefix="cm-oauth-"))
        self.addCleanup(shutil.rmtree, folder, True)
        source = {
            "name": "Gmail consent",
            "url": "https://accounts.google.com/o/oauth2/auth",
            "account": self.gmail.account,
            "credentials_file": str(self.gmail.web_client_file(folder / "client.json")),
            "api_endpoint": self.gmail.url,
        }
        config = dict(settings.PLUGINS_CONFIG)
        config[APP_NAME] = {**config[APP_NAME], "notification_sources": [source]}
        self.enterContext(override_settings(PLUGINS_CONFIG=config))
        (self.source,) = sync_sources_from_config()
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_notificationsource",
            "nautobot_ssot_circuit_maintenance.change_notificationsource",
        )

    def validate(self, **params):
        url = reverse(f"{PREFIX}:notificationsource_validate", kwargs={"pk": self.source.pk})
        return self.client.post(url, params)  # Validate is a POST

    def start_consent(self, **params) -> dict[str, str]:
        response = self.validate(**params)
        self.assertEqual(response.status_code, 302)
        location = urlsplit(response["Location"])
        self.assertEqual(f"{location.scheme}://{location.netloc}{location.path}", f"{self.gmail.url}/auth")
        return {key: values[0] for key, values in parse_qs(location.query).items()}

    def test_validate_asks_for_consent_then_the_callback_keeps_the_grant(self):
        params = self.start_consent()
        self.assertEqual(params["client_id"], self.gmail.client_id)
        self.assertEqual(params["redirect_uri"], CALLBACK)
        self.assertEqual(params["scope"], READONLY)
        self.assertEqual((params["access_type"], params["prompt"]), ("offline", "consent"))
        self.assertEqual(params["login_hint"], self.gmail.account)

        code = self.gmail.consent(CALLBACK, {READONLY})
        response = self.client.get(reverse(f"{PREFIX}:google_oauth2callback"), {"code": code, "state": params["state"]})
        self.assertRedirects(response, self.source.get_absolute_url(), fetch_redirect_response=False)
        grant = SourceOAuthToken.objects.get(source=self.source)
        self.assertEqual(grant.refresh_token, self.gmail.refresh_token)
        self.assertEqual(grant.granted_by, self.user.username)
        page = self.client.get(self.source.get_absolute_url()).content.decode()
        self.assertIn("Google consent saved. Gmail consent: connected. Gmail noc@example.net, 1 messages", page)

        # With a grant, Validate checks the mailbox instead of asking again.
        response = self.validate()
        self.assertRedirects(response, self.source.get_absolute_url(), fetch_redirect_response=False)
        self.assertNotIn(grant.refresh_token, page)

    def test_the_grant_never_leaves_the_server(self):
        params = self.start_consent()
        code = self.gmail.consent(CALLBACK, {READONLY})
        self.client.get(reverse(f"{PREFIX}:google_oauth2callback"), {"code": code, "state": params["state"]})
        token = SourceOAuthToken.objects.get().refresh_token
        self.add_permissions("extras.view_objectchange")
        api = self.client.get(
            reverse(
                "plugins-api:nautobot_ssot_circuit_maintenance-api:notificationsource-detail",
                kwargs={"pk": self.source.pk},
            ),
            **self.header_kwargs(),
        )
        self.assertEqual(api.status_code, 200)
        self.assertEqual(api.json()["name"], "Gmail consent")
        pages = [
            self.client.get(self.source.get_absolute_url()).content.decode(),
            self.client.get(reverse(f"{PREFIX}:notificationsource_list")).content.decode(),
            api.content.decode(),
        ]
        for page in pages:
            self.assertNotIn(token, page)
        changes = ObjectChange.objects.filter(
            changed_object_type__in=ContentType.objects.get_for_models(NotificationSource, SourceOAuthToken).values()
        )
        self.assertNotIn(token, json.dumps(list(changes.values_list("object_data", "object_data_v2"))))

    def header_kwargs(self) -> dict:
        from nautobot.users.models import Token

        token = Token.objects.create(user=self.user)
        return {"HTTP_AUTHORIZATION": f"Token {token.key}"}

    def test_tampered_or_foreign_state_is_refused(self):
        params = self.start_consent()
        code = self.gmail.consent(CALLBACK, {READONLY})
        response = self.client.get(
            reverse(f"{PREFIX}:google_oauth2callback"), {"code": code, "state": params["state"] + "x"}, follow=True
        )
        self.assertIn("the consent answer is invalid or expired", messages_of(response))
        self.assertFalse(SourceOAuthToken.objects.exists())

    def test_a_state_is_single_use(self):
        params = self.start_consent()
        callback = reverse(f"{PREFIX}:google_oauth2callback")
        code = self.gmail.consent(CALLBACK, {READONLY})
        self.client.get(callback, {"code": code, "state": params["state"]})
        granted = SourceOAuthToken.objects.get(source=self.source).refresh_token

        # The same state again, even with a fresh consent code, within its 15 minutes: refused, grant unchanged.
        replay = self.client.get(
            callback, {"code": self.gmail.consent(CALLBACK, {READONLY}), "state": params["state"]}, follow=True
        )
        self.assertIn("this consent answer was already used", messages_of(replay))
        self.assertEqual(SourceOAuthToken.objects.get(source=self.source).refresh_token, granted)
        self.assertEqual(self.gmail.refresh_token, granted)  # Google was not even asked

        # A refused answer (consent denied) uses the state up as well.
        params = self.start_consent(consent=1)
        self.client.get(callback, {"error": "access_denied", "state": params["state"]})
        replay = self.client.get(
            callback, {"code": self.gmail.consent(CALLBACK, {READONLY}), "state": params["state"]}, follow=True
        )
        self.assertIn("this consent answer was already used", messages_of(replay))

    def test_refused_code_does_not_echo_the_client_secret(self):
        self.gmail.echo_requests = True
        params = self.start_consent()
        response = self.client.get(
            reverse(f"{PREFIX}:google_oauth2callback"), {"code": "made-up-code", "state": params["state"]}, follow=True
        )
        text = messages_of(response)
        self.assertIn("Google refused the consent code: Malformed auth code. Rejected '***'. Request was:", text)
        for secret in (self.gmail.client_secret, "made-up-code"):
            self.assertNotIn(secret, text)
            self.assertNotIn(secret, response.content.decode())

    def test_denied_consent_and_refused_code(self):
        params = self.start_consent()
        response = self.client.get(
            reverse(f"{PREFIX}:google_oauth2callback"),
            {"error": "access_denied", "state": params["state"]},
            follow=True,
        )
        self.assertIn("Google consent not given (access_denied)", messages_of(response))
        params = self.start_consent()
        response = self.client.get(
            reverse(f"{PREFIX}:google_oauth2callback"), {"code": "made-up", "state": params["state"]}, follow=True
        )
        self.assertIn("Google refused the consent code: Malformed auth code.", messages_of(response))
        self.assertFalse(SourceOAuthToken.objects.exists())

    def test_consent_needs_the_change_permission(self):
        self.remove_permissions("nautobot_ssot_circuit_maintenance.change_notificationsource")
        response = self.validate()
        self.assertEqual(response.status_code, 403)  # Validate itself needs the change permission
        self.assertFalse(SourceOAuthToken.objects.exists())
