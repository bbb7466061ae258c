"""Google's consent flow for Gmail sources configured with an OAuth client file, against a loopback Google.

The browser's part is played by `requests`: it opens the consent URL Validate redirects to, the
loopback consent page answers with the redirect back, and the Django test client follows it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.test import override_settings
from django.urls import reverse
from nautobot.apps.testing import TestCase
from nautobot.extras.models import ObjectChange

from nautobot_ssot_circuit_maintenance.config import APP_NAME
from nautobot_ssot_circuit_maintenance.intake.provision import sync_sources_from_config
from nautobot_ssot_circuit_maintenance.models import NotificationSource, SourceOAuthToken
from tests.servers.gmail_server import MODIFY, READONLY, FakeGmail, s256

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
CALLBACK = "http://nautobot.example.com/plugins/circuit-maintenance/source/google_oauth2callback/"  # the test host


def messages_of(response) -> str:
    return " | ".join(str(message) for message in response.context["messages"])


class GoogleConsentTestCase(TestCase):
    def setUp(self) -> None:
        super().setUp()
        # The loopback Google speaks plain HTTP; oauthlib refuses that unless told (see test_http_token_uri_is_refused).
        self.enterContext(mock.patch.dict(os.environ, {"OAUTHLIB_INSECURE_TRANSPORT": "1"}))
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
        self.consent_location = response["Location"]
        return {key: values[0] for key, values in parse_qs(location.query).items()}

    def google_answers(self) -> dict[str, str]:
        """The browser at Google's consent page (the last Validate's redirect): the query Google sends back."""
        answer = requests.get(self.consent_location, allow_redirects=False, timeout=10)
        self.assertEqual(answer.status_code, 302, answer.text)
        back = urlsplit(answer.headers["Location"])
        self.assertEqual(f"{back.scheme}://{back.netloc}{back.path}", CALLBACK)
        return {key: values[0] for key, values in parse_qs(back.query).items()}

    def callback(self, query: dict[str, str], **kwargs):
        return self.client.get(reverse(f"{PREFIX}:google_oauth2callback"), query, **kwargs)

    def test_validate_asks_for_consent_then_the_callback_keeps_the_grant(self):
        params = self.start_consent()
        self.assertEqual(params["client_id"], self.gmail.client_id)
        self.assertEqual(params["redirect_uri"], CALLBACK)
        self.assertEqual(params["scope"], READONLY)
        self.assertEqual((params["access_type"], params["prompt"]), ("offline", "consent"))
        self.assertEqual(params["login_hint"], self.gmail.account)
        # PKCE: the browser carries only the challenge; the verifier stays on the server.
        self.assertEqual(params["code_challenge_method"], "S256")
        self.assertEqual(len(params["code_challenge"]), 43)

        response = self.callback(self.google_answers())
        self.assertRedirects(response, self.source.get_absolute_url(), fetch_redirect_response=False)
        (grant_request,) = self.gmail.code_grants
        self.assertEqual(s256(grant_request["code_verifier"]), params["code_challenge"])
        self.assertNotIn(grant_request["code_verifier"], self.consent_location)
        self.assertEqual(grant_request["redirect_uri"], CALLBACK)
        grant = SourceOAuthToken.objects.get(source=self.source)
        self.assertEqual(grant.refresh_token, self.gmail.refresh_token)
        self.assertEqual(grant.granted_by, self.user.username)
        self.assertEqual(grant.scopes, [READONLY])
        page = self.client.get(self.source.get_absolute_url()).content.decode()
        self.assertIn("Google consent saved. Gmail consent: connected. Gmail noc@example.net, 1 messages", page)

        # With a grant, Validate checks the mailbox instead of asking again.
        response = self.validate()
        self.assertRedirects(response, self.source.get_absolute_url(), fetch_redirect_response=False)
        self.assertNotIn(grant.refresh_token, page)

    def test_the_grant_never_leaves_the_server(self):
        self.start_consent()
        with self.assertLogs(level="DEBUG") as logs:  # every logger, at every level
            self.callback(self.google_answers())
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
        for page in [*pages, "\n".join(logs.output)]:
            self.assertNotIn(token, page)
        # Nor the code, its verifier or the client secret (requests-oauthlib logs the token request at DEBUG).
        (grant_request,) = self.gmail.code_grants
        for secret in (grant_request["code"], grant_request["code_verifier"], self.gmail.client_secret):
            self.assertNotIn(secret, "\n".join(logs.output))
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
        answer = self.google_answers()
        response = self.callback({**answer, "state": params["state"] + "x"}, follow=True)
        self.assertIn("the consent answer is invalid or expired", messages_of(response))
        # Another user's state (same source, same code): refused, and Google is never asked.
        other = self.user.__class__.objects.create(username="other-operator", is_superuser=True)
        self.client.force_login(other)
        response = self.callback(answer, follow=True)
        self.assertIn("the consent was started by another user", messages_of(response))
        self.assertFalse(SourceOAuthToken.objects.exists())
        self.assertEqual(self.gmail.code_grants, [])

    def test_a_state_is_single_use(self):
        self.start_consent()
        answer = self.google_answers()
        self.callback(answer)
        granted = SourceOAuthToken.objects.get(source=self.source).refresh_token

        # The same state again, even with a fresh consent code, within its 15 minutes: refused, grant unchanged.
        replay = self.callback({**answer, "code": self.gmail.consent(CALLBACK, {READONLY})}, follow=True)
        self.assertIn("this consent answer was already used", messages_of(replay))
        self.assertEqual(SourceOAuthToken.objects.get(source=self.source).refresh_token, granted)
        self.assertEqual(self.gmail.refresh_token, granted)  # Google was not even asked
        self.assertEqual(len(self.gmail.code_grants), 1)

        # A refused answer (consent denied) uses the state up as well.
        self.start_consent(consent=1)
        self.gmail.deny_consent = True
        denied = self.google_answers()
        self.assertEqual(denied["error"], "access_denied")
        self.callback(denied)
        replay = self.callback(
            {"code": self.gmail.consent(CALLBACK, {READONLY}), "state": denied["state"]}, follow=True
        )
        self.assertIn("this consent answer was already used", messages_of(replay))

    def test_a_code_only_redeems_with_the_verifier_of_its_own_consent(self):
        """PKCE: a code obtained for one consent, injected into another consent's callback, is refused by Google."""
        self.start_consent()
        first = self.google_answers()
        self.start_consent(consent=1)
        second = self.google_answers()
        response = self.callback({"code": first["code"], "state": second["state"]}, follow=True)
        self.assertIn("Google refused the consent code: Invalid code verifier.", messages_of(response))
        self.assertFalse(SourceOAuthToken.objects.exists())
        (grant_request,) = self.gmail.code_grants
        self.assertEqual(grant_request["code"], first["code"])
        self.assertNotEqual(s256(grant_request["code_verifier"]), self.gmail.consents[0]["code_challenge"])

    def test_granted_scopes_are_kept(self):
        source = {**settings.PLUGINS_CONFIG[APP_NAME]["notification_sources"][0], "extra_scopes": [MODIFY]}
        config = dict(settings.PLUGINS_CONFIG)
        config[APP_NAME] = {**config[APP_NAME], "notification_sources": [source]}
        self.enterContext(override_settings(PLUGINS_CONFIG=config))
        params = self.start_consent()
        self.assertEqual(params["scope"].split(), [READONLY, MODIFY])
        self.callback(self.google_answers())
        self.assertEqual(SourceOAuthToken.objects.get(source=self.source).scopes, sorted([READONLY, MODIFY]))

    def test_plain_http_endpoints_are_refused(self):
        """Outside tests, oauthlib refuses Google endpoints over plain HTTP: no code or client secret in clear."""
        self.start_consent()
        answer = self.google_answers()
        del os.environ["OAUTHLIB_INSECURE_TRANSPORT"]
        response = self.callback(answer, follow=True)
        self.assertIn("Gmail consent: the OAuth client's token_uri is not https", messages_of(response))
        self.assertEqual(self.gmail.code_grants, [])
        response = self.client.post(
            reverse(f"{PREFIX}:notificationsource_validate", kwargs={"pk": self.source.pk}), follow=True
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Gmail consent: the OAuth client's auth_uri is not https", messages_of(response))
        self.assertFalse(SourceOAuthToken.objects.exists())

    def test_refused_code_does_not_echo_the_client_secret(self):
        self.gmail.echo_requests = True
        params = self.start_consent()
        response = self.callback({"code": "made-up-code", "state": params["state"]}, follow=True)
        text = messages_of(response)
        self.assertIn("Google refused the consent code: Malformed auth code. Rejected '***'. Request was:", text)
        (grant_request,) = self.gmail.code_grants
        for secret in (self.gmail.client_secret, "made-up-code", grant_request["code_verifier"]):
            self.assertNotIn(secret, text)
            self.assertNotIn(secret, response.content.decode())

    def test_a_wrong_client_secret_is_refused_without_echo(self):
        self.gmail.echo_requests = True
        self.gmail.client_secret = "rotated-secret-2"  # Google's side changed; the file still holds the old one
        self.start_consent()
        response = self.callback(self.google_answers(), follow=True)
        text = messages_of(response)
        self.assertIn("Google refused the consent code: Unauthorized", text)
        basic = base64.b64encode(f"{self.gmail.client_id}:web-client-secret-1".encode()).decode()
        self.assertNotIn("web-client-secret-1", text)
        self.assertNotIn(basic, text)
        self.assertFalse(SourceOAuthToken.objects.exists())

    def test_denied_consent_and_refused_code(self):
        self.start_consent()
        self.gmail.deny_consent = True
        response = self.callback(self.google_answers(), follow=True)
        self.assertIn("Google consent not given (access_denied)", messages_of(response))
        params = self.start_consent()
        response = self.callback({"code": "made-up", "state": params["state"]}, follow=True)
        self.assertIn("Google refused the consent code: Malformed auth code.", messages_of(response))
        self.assertFalse(SourceOAuthToken.objects.exists())

    def test_consent_needs_the_change_permission(self):
        self.remove_permissions("nautobot_ssot_circuit_maintenance.change_notificationsource")
        response = self.validate()
        self.assertEqual(response.status_code, 403)  # Validate itself needs the change permission
        self.assertFalse(SourceOAuthToken.objects.exists())

    def test_a_state_for_a_source_the_user_may_no_longer_change_is_a_404(self):
        self.start_consent()
        answer = self.google_answers()
        self.remove_permissions("nautobot_ssot_circuit_maintenance.change_notificationsource")
        self.assertEqual(self.callback(answer).status_code, 404)
        self.assertEqual(self.gmail.code_grants, [])
