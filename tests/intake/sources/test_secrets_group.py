"""Sources taking their secrets from a Nautobot SecretsGroup (environment-variable secrets), not the configuration.

IMAP against Dovecot and Microsoft 365 against the loopback Entra ID + Graph, through real job runs;
Gmail through the real Google client stack. Errors name the group and the secret, never the value.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.choices import SecretsGroupAccessTypeChoices, SecretsGroupSecretTypeChoices
from nautobot.extras.models import Secret, SecretsGroup, SecretsGroupAssociation

from nautobot_ssot_circuit_maintenance.config import ConfigurationError, SourceSettings, validate_config
from nautobot_ssot_circuit_maintenance.intake.sources import SourceError, get_source
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, NotificationSource
from nautobot_ssot_circuit_maintenance.sync.diffsync.run_diff import count_maintenance_actions
from tests.fixtures.job_helpers import JobTestMixin
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits
from tests.intake.sources.test_secrets import LeakCheckMixin
from tests.servers.dovecot import DovecotServer
from tests.servers.gmail_server import FakeGmail
from tests.servers.graph_server import FakeGraph

MESSAGES = corpus_by_name()
NOW = datetime.now(timezone.utc)
IMAP_USER = "noc@example.com"
IMAP_PASSWORD = "Vault-Pa55/w+rd=&%" + secrets.token_hex(4)


class SecretsGroupMixin:
    def env_secret(self, name: str, value: str | None) -> Secret:
        """A Secret read from an environment variable of this test process (unset when `value` is None)."""
        variable = f"CM_TEST_{name.upper().replace('-', '_')}_{secrets.token_hex(3).upper()}"
        if value is not None:
            os.environ[variable] = value
            self.addCleanup(os.environ.pop, variable, None)
        return Secret.objects.create(name=name, provider="environment-variable", parameters={"variable": variable})

    def group(self, name: str, *members: tuple[Secret, str, str]) -> SecretsGroup:
        group = SecretsGroup.objects.create(name=name)
        for secret, access_type, secret_type in members:
            SecretsGroupAssociation.objects.create(
                secrets_group=group, secret=secret, access_type=access_type, secret_type=secret_type
            )
        return group


class ImapSecretsGroupTestCase(SecretsGroupMixin, LeakCheckMixin, JobTestMixin, TransactionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = DovecotServer().start()
        cls.server.add_user(IMAP_USER, IMAP_PASSWORD)
        cls.server.append(IMAP_USER, MESSAGES["zayo4"], internal_date=NOW - timedelta(hours=1))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        create_providers_and_circuits()

    def source(self, group: str = "NOC mailbox") -> dict:
        return {
            "name": "IMAP NOC",
            "url": f"imaps://{self.server.host}:{self.server.imaps_port}",
            "account": IMAP_USER,
            "secrets_group": group,
            "ca_file": self.server.ca_file,
            "attach_all_providers": True,
        }

    def test_the_password_comes_from_the_group(self):
        validate_config({"notification_sources": [self.source()]})  # no `secret` in the configuration
        password = self.env_secret("imap-password", IMAP_PASSWORD)
        generic, password_type = SecretsGroupAccessTypeChoices.TYPE_GENERIC, SecretsGroupSecretTypeChoices.TYPE_PASSWORD
        self.group("NOC mailbox", (password, generic, password_type))
        with self.configured([self.source()]):
            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(count_maintenance_actions(sync.diff)["create"], 1)
            self.assertTrue(CircuitMaintenance.objects.filter(maintenance_id="TTN-0002345678").exists())
            outputs = self.outputs("IMAP NOC", result)
        self.assertIn("connected", outputs["Validate answer"])
        self.assertNoLeak(outputs, {"IMAP password": IMAP_PASSWORD})

    def test_a_wrong_password_in_the_group_is_refused_without_the_value(self):
        wrong = "Wr0ng/" + IMAP_PASSWORD
        self.group(
            "NOC mailbox",
            (self.env_secret("imap-password", wrong), "Generic", SecretsGroupSecretTypeChoices.TYPE_PASSWORD),
        )
        with self.configured([self.source()]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE", self.job_log(result))
            outputs = self.outputs("IMAP NOC", result)
        self.assertIn("login as 'noc@example.com' was rejected", outputs["last_error"])
        self.assertNoLeak(outputs, {"wrong IMAP password": wrong})

    def test_errors_name_the_group_and_the_secret(self):
        cases = {
            "Nowhere": "SecretsGroup 'Nowhere' does not exist",
            "Only a token": (
                "SecretsGroup 'Only a token' has no Password-type member (add one with access type Generic)"
            ),
            "Unset variable": (
                "SecretsGroup 'Unset variable': cannot read its Password-type member (named 'unset-password'); "
                "SecretValueNotFoundError: Undefined environment variable"
            ),
        }
        self.group("Only a token", (self.env_secret("token", "t0ken-value-123"), "Generic", "token"))
        self.group("Unset variable", (self.env_secret("unset-password", None), "Generic", "password"))
        for group, expected in cases.items():
            with self.subTest(group), self.configured([self.source(group)]):
                result, _ = self.run_sync()
                self.assertEqual(result.status, "FAILURE")
                source = NotificationSource.objects.get(name="IMAP NOC")
                self.assertIn(f"Source IMAP NOC: {expected}", source.last_error)
                self.assertIn(expected, self.job_log(result))
                self.assertNotIn("t0ken-value-123", source.last_error)

    def test_the_access_type_preferred_when_a_group_holds_several(self):
        self.group(
            "NOC mailbox",
            (self.env_secret("ssh-password", "not-this-one"), "SSH", "password"),
            (self.env_secret("imap-password", IMAP_PASSWORD), "Generic", "password"),
        )
        settings = SourceSettings(
            name="IMAP NOC",
            url=f"imaps://{self.server.host}:{self.server.imaps_port}",
            account=IMAP_USER,
            ca_file=self.server.ca_file,
            extra={"secrets_group": "NOC mailbox"},
        )
        with get_source(settings) as source:
            self.assertEqual(source.settings.secret, IMAP_PASSWORD)
            self.assertIn("INBOX", source.test_connection())
        self.assertNotIn(IMAP_PASSWORD, repr(source.settings))


class GraphSecretsGroupTestCase(SecretsGroupMixin, LeakCheckMixin, JobTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        self.graph = FakeGraph().start()
        self.addCleanup(self.graph.stop)
        self.graph.add(MESSAGES["gtt7"], NOW - timedelta(minutes=5))

    def source(self) -> dict:
        keys = self.graph.source_keys(secrets_group="M365 app")
        del keys["client_secret"]
        return {"name": "M365 NOC", "attach_all_providers": True, **keys}

    def test_the_client_secret_comes_from_the_group(self):
        validate_config({"notification_sources": [self.source()]})
        secret = self.env_secret("graph-secret", self.graph.client_secret)
        self.group("M365 app", (secret, SecretsGroupAccessTypeChoices.TYPE_HTTP, "secret"))
        with self.configured([self.source()]):
            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(count_maintenance_actions(sync.diff)["create"], 1)
            outputs = self.outputs("M365 NOC", result)
        self.assertEqual(set(self.graph.tokens.values()), {"secret"})
        self.assertIn("connected. Microsoft 365", outputs["Validate answer"])
        self.assertNoLeak(outputs, {"client secret": self.graph.client_secret})

    def test_the_certificate_comes_from_the_group(self):
        self.group("M365 app", (self.env_secret("graph-cert", self.graph.certificate_pem), "HTTP(S)", "key"))
        with self.configured([self.source()]):
            result, sync = self.run_sync()
            self.assertEqual(result.status, "SUCCESS", self.job_log(result))
            self.assertEqual(count_maintenance_actions(sync.diff)["create"], 1)
        self.assertEqual(set(self.graph.tokens.values()), {"certificate"})

    def test_an_echoed_secret_from_the_group_leaks_nowhere(self):
        self.graph.echo_requests = True
        self.graph.revoke_secret()
        self.group("M365 app", (self.env_secret("graph-secret", self.graph.client_secret), "Generic", "secret"))
        with self.configured([self.source()]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE", self.job_log(result))
            outputs = self.outputs("M365 NOC", result)
        self.assertIn("AADSTS7000222", outputs["last_error"])
        self.assertIn("Request was:", outputs["last_error"])  # the echo did reach the message
        self.assertNoLeak(outputs, {"client secret": self.graph.client_secret})

    def test_a_group_without_a_secret_or_a_key(self):
        self.group("M365 app", (self.env_secret("graph-user", "app-user"), "Generic", "username"))
        with self.configured([self.source()]):
            result, _ = self.run_sync()
            self.assertEqual(result.status, "FAILURE")
            self.assertIn(
                "SecretsGroup 'M365 app' has no Secret-type member (the client_secret) and no Key-type member "
                "(the certificate PEM)",
                NotificationSource.objects.get(name="M365 NOC").last_error,
            )


class GmailSecretsGroupTestCase(SecretsGroupMixin, TransactionTestCase):
    def test_the_credentials_file_content_comes_from_the_group(self):
        gmail = FakeGmail().start()
        self.addCleanup(gmail.stop)
        gmail.add(MESSAGES["zayo4"], NOW - timedelta(minutes=5))
        folder = Path(tempfile.mkdtemp(prefix="cm-gmail-sg-"))
        key = gmail.service_account_file(folder / "sa.json").read_text()
        (folder / "sa.json").unlink()
        folder.rmdir()
        self.group("Gmail robot", (self.env_secret("gmail-key", key), "REST", "key"))
        settings = SourceSettings(
            name="Gmail NOC",
            url="https://accounts.google.com/o/oauth2/auth",
            account=gmail.account,
            extra={"secrets_group": "Gmail robot", "api_endpoint": gmail.url},
        )
        with get_source(settings) as source:
            self.assertEqual(source.test_connection(), f"Gmail {gmail.account}, 1 messages")
            self.assertIn("PRIVATE KEY", source.settings.extra["credentials_info"])
            self.assertNotIn("PRIVATE KEY", source.scrub(key))

    def test_config_needs_a_secret_or_a_group(self):
        source = {"name": "IMAP NOC", "url": "imaps://mail.example:993", "account": "noc"}
        with self.assertRaisesRegex(ConfigurationError, "needs one of the keys 'secret', 'secrets_group'"):
            validate_config({"notification_sources": [source]})
        graph = {"name": "M365", "url": "https://graph.microsoft.com/", "account": "noc@x", "tenant_id": "t"}
        with self.assertRaisesRegex(ConfigurationError, "missing key 'client_id'"):
            validate_config({"notification_sources": [graph]})
        graph["client_id"] = "c"
        with self.assertRaisesRegex(
            ConfigurationError, "needs one of the keys 'client_secret', 'certificate_file', 'secrets_group'"
        ):
            validate_config({"notification_sources": [graph]})

    def test_a_local_folder_takes_no_secret(self):
        SecretsGroup.objects.create(name="Anything")
        settings = SourceSettings(name="Folder", url="file:///tmp", extra={"secrets_group": "Anything"})
        with self.assertRaises(SourceError) as caught:
            get_source(settings)
        self.assertIn("SecretsGroup 'Anything': a file source takes none", str(caught.exception))
