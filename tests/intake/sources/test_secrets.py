"""No secret in any output: a hostile Google that echoes requests, IMAP failures, config errors, metrics access.

Every configured secret (passwords, client secrets, refresh tokens, the stored consent token,
service-account keys and key ids, the access token a run obtained) is looked for in each of its
spellings (as is, URL-encoded, JSON-escaped, base64 at any alignment) in every place a source's
error can reach: the source's `last_error`, the job's log entries, its JobResult and Sync, the
change log, the REST and GraphQL APIs, the source's page and Validate's answer.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import traceback
import unittest
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, quote_plus

from django.forms.models import model_to_dict
from django.urls import reverse
from nautobot.apps.testing import TestCase, TransactionTestCase
from nautobot.extras.models import JobLogEntry, JobResult, ObjectChange
from nautobot.users.models import Token
from nautobot_ssot.models import Sync

from nautobot_ssot_circuit_maintenance.config import ConfigurationError, SourceSettings, validate_config
from nautobot_ssot_circuit_maintenance.intake.sources import MailboxSource, SourceError, get_source
from nautobot_ssot_circuit_maintenance.models import NotificationSource, SourceOAuthToken
from nautobot_ssot_circuit_maintenance.redaction import Scrubber, scrubber_for
from tests.fixtures.job_helpers import JobTestMixin
from tests.fixtures.sample_data import corpus_messages, create_providers_and_circuits
from tests.servers.dovecot import DovecotServer
from tests.servers.gmail_server import FakeGmail, private_pem
from tests.servers.graph_server import FakeGraph

PREFIX = "plugins:nautobot_ssot_circuit_maintenance"
SOURCES_API = "/api/plugins/circuit-maintenance/notificationsource/"
GRAPHQL = "{ notification_sources { name last_error cursor source_type } }"
# Secrets with characters that every encoding changes: / + = & % @ : and a non-ASCII letter.
CLIENT_SECRET = "GOCSPX-cl!ent/s3cret+=&%é@:x"
STORED_TOKEN = "1//0gStored-refresh+token/with=odd&chars"
KEY_ID = "0123456789abcdef0123456789abcdef01234567"
IMAP_PASSWORD = "Imap-Pa55/w+rd=&%"


def spellings(secret: str) -> set[str]:
    """How a secret can be written back by a server (written here apart from the code under test)."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    raw = secret.encode()
    for offset in range(3):
        encoded = base64.b64encode(b"x" * offset + raw + b"yy").decode()
        middle = encoded[4:-8]  # skip the characters the neighbouring bytes take part in
        if len(middle) >= 12:
            forms |= {middle, middle.translate(str.maketrans("+/", "-_"))}
    if "-----BEGIN" in secret:
        forms |= {line for line in secret.splitlines() if len(line) >= 16}
    return {form for form in forms if len(form) >= 6}


class LeakCheckMixin:
    """Collects every output a source's failure can reach, and asserts no secret is in any of them."""

    checked = 0

    def api_header(self) -> dict:
        token = Token.objects.create(user=self.user)
        return {"HTTP_AUTHORIZATION": f"Token {token.key}"}

    def validate_page(self, source: NotificationSource) -> str:
        """Press Validate (a GET today, a POST once it needs one) and read the page it leads to."""
        url = reverse(f"{PREFIX}:notificationsource_validate", kwargs={"pk": source.pk})
        response = self.client.get(url, follow=True)
        if response.status_code == 405:
            response = self.client.post(url, follow=True)
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def outputs(self, source_name: str, result: JobResult | None) -> dict[str, str]:
        self.add_permissions(
            "nautobot_ssot_circuit_maintenance.view_notificationsource",
            "nautobot_ssot_circuit_maintenance.change_notificationsource",
            "extras.view_objectchange",
        )
        source = NotificationSource.objects.get(name=source_name)
        header = self.api_header()
        rest = self.client.get(SOURCES_API, **header)
        self.assertEqual(rest.status_code, 200)
        graphql = self.client.post(
            "/api/graphql/", data=json.dumps({"query": GRAPHQL}), content_type="application/json", **header
        )
        self.assertEqual(graphql.status_code, 200)
        self.assertIn(source_name, graphql.content.decode())

        def rows(queryset) -> str:
            return json.dumps([model_to_dict(row) for row in queryset], default=str, ensure_ascii=False)

        found = {
            "last_error": source.last_error,
            "REST notificationsource list": rest.content.decode(),
            "GraphQL": graphql.content.decode(),
            "source page": self.client.get(source.get_absolute_url()).content.decode(),
            "source list page": self.client.get(reverse(f"{PREFIX}:notificationsource_list")).content.decode(),
            "change log (ObjectChange)": rows(ObjectChange.objects.all()),
            "Validate answer": self.validate_page(source),
        }
        if result is not None:
            found["job log (JobLogEntry)"] = rows(JobLogEntry.objects.filter(job_result=result))
            found["JobResult"] = rows(JobResult.objects.filter(pk=result.pk))
            found["SSoT Sync"] = rows(Sync.objects.filter(job_result=result))
        return found

    def assertNoLeak(self, outputs: dict[str, str], secrets: dict[str, str]) -> None:
        for place, text in outputs.items():
            for what, secret in secrets.items():
                for form in spellings(secret):
                    self.assertNotIn(form, text, f"{what} ({form!r}) leaked into {place}")
                LeakCheckMixin.checked += 1


class ScrubberTestCase(unittest.TestCase):
    """The scrubber alone: every spelling, URL credentials, secret fields; prose stays readable."""

    def test_every_spelling_of_a_configured_secret_is_removed(self):
        scrub = Scrubber([CLIENT_SECRET])
        written = {CLIENT_SECRET, quote(CLIENT_SECRET, safe=""), quote_plus(CLIENT_SECRET)}
        written |= {json.dumps(CLIENT_SECRET)[1:-1], json.dumps(CLIENT_SECRET).replace("/", "\\/")[1:-1]}
        for form in written:
            for text in (form, f"echo: {form}.", f"a{form}b", f'{{"x": "{form}"}}'):
                self.assertNotIn(form, scrub(text), text)
        # Base64: the secret inside a larger payload, at each byte alignment, in both alphabets.
        for offset in range(3):
            payload = b"p" * offset + f"client_secret={CLIENT_SECRET}&scope=x".encode()
            for encode in (base64.b64encode, base64.urlsafe_b64encode):
                cleaned = scrub(encode(payload).decode())
                for form in spellings(CLIENT_SECRET):
                    self.assertNotIn(form, cleaned)

    def test_url_credentials_and_secret_fields_without_knowing_the_value(self):
        scrub = Scrubber()
        self.assertEqual(
            scrub("cannot open imap://noc:hunter2@mail.example:993"), "cannot open imap://noc:***@mail.example:993"
        )
        self.assertEqual(
            scrub("'imaps://noc%40corp:p@ss/w@mail.example' does not match"),
            "'imaps://noc%40corp:***@mail.example' does not match",
        )
        self.assertEqual(
            scrub("client_secret=abc&refresh_token=1%2F%2Fxyz&x=1"), "client_secret=***&refresh_token=***&x=1"
        )
        self.assertEqual(scrub('{"access_token": "ya29.a0Af", "n": 1}'), '{"access_token": "***", "n": 1}')
        self.assertEqual(scrub('{\\"private_key\\": \\"-----BEGIN\\nAB\\"}'), '{\\"private_key\\": \\"***\\"}')
        self.assertEqual(scrub("Authorization: Bearer ya29.a0AfH6SM"), "Authorization: Bearer ***")
        self.assertEqual(scrub("Authorization: Basic bm9jOmh1bnRlcjI="), "Authorization: Basic ***")
        prose = "Basic authentication failed; the token endpoint said Token has been expired or revoked."
        self.assertEqual(scrub(prose), prose)

    def test_credentials_file_values_except_public_ones(self):
        folder = Path(tempfile.mkdtemp(prefix="cm-scrub-"))
        self.addCleanup(shutil.rmtree, folder, True)
        gmail = FakeGmail().start()
        self.addCleanup(gmail.stop)
        gmail.private_key_id = KEY_ID
        path = gmail.service_account_file(folder / "sa.json")
        key = private_pem(gmail.key)
        settings = SourceSettings(
            name="G", url="https://accounts.google.com/o/oauth2/auth", extra={"credentials_file": str(path)}
        )
        scrub = scrubber_for(settings)
        text = f"{KEY_ID} {json.dumps(key)} {key.splitlines()[5]} {gmail.client_email}"
        cleaned = scrub(text)
        for secret in (KEY_ID, json.dumps(key)[1:-1], key.splitlines()[5]):
            self.assertNotIn(secret, cleaned)
        self.assertIn(gmail.client_email, cleaned)  # public: left for the operator to read


class ConfigErrorTestCase(unittest.TestCase):
    def test_a_bad_url_is_not_echoed(self):
        source = {
            "name": "NOC",
            "url": f"imap://noc:{IMAP_PASSWORD}@mail.example",
            "account": "noc",
            "secret": IMAP_PASSWORD,
        }
        with self.assertRaises(ConfigurationError) as caught:
            validate_config({"notification_sources": [source]})
        message = str(caught.exception)
        self.assertIn("'url'", message)
        for form in spellings(IMAP_PASSWORD) | {"noc:Imap"}:
            self.assertNotIn(form, message)

    def test_a_secret_in_another_key_is_not_echoed(self):
        source = {
            "name": "NOC",
            "url": "imap://mail.example",
            "account": "noc",
            "secret": IMAP_PASSWORD,
            "tls": IMAP_PASSWORD,
        }
        with self.assertRaises(ConfigurationError) as caught:
            validate_config({"notification_sources": [source]})
        self.assertIn("'tls'", str(caught.exception))
        self.assertNotIn(IMAP_PASSWORD, str(caught.exception))


class SourceBoundaryTestCase(unittest.TestCase):
    """What leaves the sources package is a scrubbed SourceError, with no chained original."""

    def assertClean(self, error: BaseException, secret: str) -> str:
        self.assertIsInstance(error, SourceError)
        text = "".join(traceback.format_exception(error))
        for form in spellings(secret):
            self.assertNotIn(form, text)
        self.assertIsNone(error.__cause__)
        return str(error)

    def test_url_with_credentials_and_a_bad_host(self):
        for url in (
            f"imap://noc:{quote(IMAP_PASSWORD, safe='')}@host.invalid:993",
            f"https://noc:{IMAP_PASSWORD}@api.example.com/",
        ):
            settings = SourceSettings(name="Bad host", url=url, account="noc", secret=IMAP_PASSWORD)
            with self.assertRaises(SourceError) as caught, get_source(settings) as source:
                source.test_connection()
            self.assertIn("Bad host", self.assertClean(caught.exception, IMAP_PASSWORD))

    def test_a_client_library_exception_becomes_a_scrubbed_source_error(self):
        auth_plain = base64.b64encode(b"\0noc\0" + IMAP_PASSWORD.encode()).decode()

        class Echoing(MailboxSource):
            """A mailbox kind whose client library raises its own exceptions, with what it sent in them."""

            def fetch(self, cursor, since) -> Iterator:
                yield from ()
                raise ConnectionResetError(f"peer reset after AUTHENTICATE PLAIN {auth_plain}")

            def test_connection(self) -> str:
                raise ValueError(f"bad login noc/{quote(IMAP_PASSWORD)}")

            def mark(self, outcomes):
                raise OSError(f"label failed for {IMAP_PASSWORD}")

        source = Echoing(SourceSettings(name="Echo", url="imap://x", account="noc", secret=IMAP_PASSWORD))
        with self.assertRaises(SourceError) as caught:
            source.test_connection()
        self.assertIn("ValueError", self.assertClean(caught.exception, IMAP_PASSWORD))
        with self.assertRaises(SourceError) as caught:
            list(source.fetch(None, datetime.now(timezone.utc)))
        self.assertIn("ConnectionResetError", self.assertClean(caught.exception, IMAP_PASSWORD))
        (problem,) = source.mark({"parsed": ["x"]})
        self.assertNotIn(IMAP_PASSWORD, problem)


class GmailEchoTestCase(LeakCheckMixin, JobTestMixin, TransactionTestCase):
    """A Google that echoes every request into its errors, through a real job run and a Validate."""

    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        self.gmail = FakeGmail().start()
        self.addCleanup(self.gmail.stop)
        self.gmail.echo_requests = True
        self.gmail.authorized_client_secret = CLIENT_SECRET
        self.gmail.client_secret = CLIENT_SECRET
        self.gmail.private_key_id = KEY_ID
        raw = next(raw for name, raw, _ in corpus_messages() if name == "zayo4")
        self.gmail.add(raw, datetime.now(timezone.utc) - timedelta(minutes=5))
        self.dir = Path(tempfile.mkdtemp(prefix="cm-secrets-"))
        self.addCleanup(shutil.rmtree, self.dir, True)

    def source(self, key_file: Path) -> dict:
        return {
            "name": "Gmail NOC",
            "url": "https://accounts.google.com/o/oauth2/auth",
            "account": self.gmail.account,
            "credentials_file": str(key_file),
            "api_endpoint": self.gmail.url,
            "attach_all_providers": True,
        }

    def run_and_check(self, key_file: Path, secrets: dict[str, str], expected: str, grant: str | None = None) -> None:
        with self.configured([self.source(key_file)]):
            if grant:
                SourceOAuthToken.objects.create(
                    source=NotificationSource.objects.get(name="Gmail NOC"),
                    refresh_token=grant,
                    scopes=[],
                    granted_by="x",
                )
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE", self.job_log(result))
            outputs = self.outputs("Gmail NOC", result)
        self.assertIn(expected, outputs["last_error"])
        self.assertIn(expected, outputs["job log (JobLogEntry)"])
        self.assertIn(expected, outputs["Validate answer"])
        self.assertIn("Request was:", outputs["last_error"])  # the echo did reach the message
        self.assertNoLeak(outputs, secrets)

    def test_refresh_token_grant_echoed(self):
        self.gmail.refuse_grants = True
        key_file = self.gmail.authorized_user_file(self.dir / "user.json")
        secrets = {"client secret": CLIENT_SECRET, "refresh token": self.gmail.refresh_token}
        self.run_and_check(key_file, secrets, "Google refused the credentials")

    def test_stored_consent_token_echoed(self):
        self.gmail.refuse_grants = True
        key_file = self.gmail.web_client_file(self.dir / "client.json")
        secrets = {"client secret": CLIENT_SECRET, "stored refresh token": STORED_TOKEN}
        self.run_and_check(key_file, secrets, "Google refused the credentials", grant=STORED_TOKEN)

    def test_service_account_assertion_echoed(self):
        self.gmail.refuse_grants = True
        key_file = self.gmail.service_account_file(self.dir / "sa.json")
        secrets = {"private key": private_pem(self.gmail.key), "private key id": KEY_ID}
        self.run_and_check(key_file, secrets, "Google refused the credentials")

    def test_access_token_echoed_by_the_api(self):
        self.gmail.refuse_api = True
        key_file = self.gmail.service_account_file(self.dir / "sa.json")
        with self.configured([self.source(key_file)]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE", self.job_log(result))
            outputs = self.outputs("Gmail NOC", result)
        self.assertIn("Gmail API error 401", outputs["last_error"])
        self.assertIn("Authorization: Bearer ***", outputs["last_error"])
        tokens = {f"access token {number}": token for number, token in enumerate(self.gmail.tokens)}
        self.assertGreaterEqual(len(tokens), 2)  # the run's and Validate's
        self.assertNoLeak(outputs, {**tokens, "private key id": KEY_ID})


class GraphEchoTestCase(LeakCheckMixin, JobTestMixin, TransactionTestCase):
    """An Entra ID and a Graph that echo every request into their errors, through a real job run and a Validate."""

    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        self.graph = FakeGraph().start()
        self.addCleanup(self.graph.stop)
        self.graph.echo_requests = True
        self.graph.client_secret = CLIENT_SECRET
        raw = next(raw for name, raw, _ in corpus_messages() if name == "zayo4")
        self.graph.add(raw, datetime.now(timezone.utc) - timedelta(minutes=5))

    def source(self, **overrides) -> dict:
        return {"name": "M365 NOC", "attach_all_providers": True, **self.graph.source_keys(**overrides)}

    def test_revoked_client_secret_echoed(self):
        self.graph.revoke_secret()
        with self.configured([self.source()]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE", self.job_log(result))
            outputs = self.outputs("M365 NOC", result)
        for place in ("last_error", "job log (JobLogEntry)", "Validate answer"):
            self.assertIn("AADSTS7000222", outputs[place])
        self.assertIn("Request was:", outputs["last_error"])  # the echo did reach the message
        self.assertNoLeak(outputs, {"client secret": CLIENT_SECRET})

    def test_certificate_assertion_echoed(self):
        folder = Path(tempfile.mkdtemp(prefix="cm-secrets-"))
        self.addCleanup(shutil.rmtree, folder, True)
        other = FakeGraph()  # another app's certificate: refused, and the assertion echoed
        (folder / "app.pem").write_text(other.certificate_pem)
        with self.configured([self.source(client_secret=None, certificate_file=str(folder / "app.pem"))]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE", self.job_log(result))
            outputs = self.outputs("M365 NOC", result)
        self.assertIn("AADSTS700027", outputs["last_error"])
        key = other.certificate_pem.split("-----BEGIN CERTIFICATE-----")[0]
        assertions = [grant["client_assertion"] for grant in self.graph.grants if "client_assertion" in grant]
        self.assertNoLeak(outputs, {"private key": key, **{f"assertion {n}": a for n, a in enumerate(assertions)}})

    def test_access_token_echoed_by_graph(self):
        self.graph.allowed_mailboxes = set()
        with self.configured([self.source()]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE", self.job_log(result))
            outputs = self.outputs("M365 NOC", result)
        self.assertIn("403 ErrorAccessDenied", outputs["last_error"])
        self.assertIn("Authorization: Bearer ***", outputs["last_error"])
        tokens = {f"access token {number}": token for number, token in enumerate(self.graph.tokens)}
        self.assertGreaterEqual(len(tokens), 2)  # the run's and Validate's
        self.assertNoLeak(outputs, {**tokens, "client secret": CLIENT_SECRET})


class ImapSecretsTestCase(LeakCheckMixin, JobTestMixin, TransactionTestCase):
    """Dovecot refusing the login, and an unreachable host, through a real job run and a Validate."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = DovecotServer().start()
        cls.server.add_user("noc@example.com", "the-right-password")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def imap_source(self, url: str) -> dict:
        return {
            "name": "IMAP NOC",
            "url": url,
            "account": "noc@example.com",
            "secret": IMAP_PASSWORD,
            "ca_file": self.server.ca_file,
            "attach_all_providers": True,
        }

    def test_login_refused(self):
        with self.configured([self.imap_source(f"imaps://{self.server.host}:{self.server.imaps_port}")]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE", self.job_log(result))
            outputs = self.outputs("IMAP NOC", result)
        self.assertIn("login as 'noc@example.com' was rejected", outputs["last_error"])
        self.assertIn("was rejected", outputs["Validate answer"])
        self.assertNoLeak(outputs, {"IMAP password": IMAP_PASSWORD})

    def test_bad_host(self):
        with self.configured([self.imap_source("imaps://mail.host.invalid:993")]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE", self.job_log(result))
            outputs = self.outputs("IMAP NOC", result)
        self.assertIn("connect failed", outputs["last_error"])
        self.assertNoLeak(outputs, {"IMAP password": IMAP_PASSWORD})


class MetricsAccessTestCase(TestCase):
    """/metrics/ and capacity-metrics' app-metrics refuse anonymous scrapes, and take an API token."""

    ENDPOINTS = ("/metrics/", "/api/plugins/capacity-metrics/app-metrics")

    def test_anonymous_is_refused_and_a_token_is_accepted(self):
        from django.conf import settings

        self.assertTrue(settings.METRICS_AUTHENTICATED)
        token = Token.objects.create(user=self.user)
        self.client.logout()
        for path in self.ENDPOINTS:
            with self.subTest(path=path):
                anonymous = self.client.get(path)
                self.assertIn(anonymous.status_code, (401, 403))
                self.assertNotIn(b"circuit_maintenance", anonymous.content)
                self.assertIn(
                    self.client.get(path, HTTP_AUTHORIZATION="Token not-a-real-token").status_code, (401, 403)
                )
                authenticated = self.client.get(path, HTTP_AUTHORIZATION=f"Token {token.key}")
                self.assertEqual(authenticated.status_code, 200)
                self.assertIn(b"# TYPE", authenticated.content)

    def test_a_logged_in_user_can_read_them(self):
        for path in self.ENDPOINTS:
            self.assertEqual(self.client.get(path).status_code, 200, path)
