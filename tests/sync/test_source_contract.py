"""The mailbox contract (tests/fixtures/source_contract.py) for IMAP, local folders and pushed mail.

Gmail and Graph run it in their own modules, beside what only they do.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.test import override_settings
from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.config import PUSHED_SOURCE_NAME
from nautobot_ssot_circuit_maintenance.watch.push import accept
from tests.fixtures.imap import ACCOUNT, PASSWORD, DovecotTestMixin
from tests.fixtures.job_helpers import MailFolder, plugin_config
from tests.fixtures.source_contract import SourceSyncContract


class ImapContractTestCase(SourceSyncContract, DovecotTestMixin, TransactionTestCase):
    source_name = "IMAP"
    refusal_text = "was rejected"

    def setUp(self):
        super().setUp()
        self.folder = f"Contract{self.id().rsplit('.', 1)[-1][-24:]}"

    def deliver(self, name: str, raw: bytes, received: datetime) -> None:
        self.dovecot.append(ACCOUNT, raw, folder=self.folder, internal_date=received)

    def source(self) -> dict:
        return self.imap_source(name=self.source_name, folder=self.folder)

    def refused_source(self) -> dict:
        return self.imap_source(name=self.source_name, folder=self.folder, secret="not-the-password")

    def secrets(self) -> list[str]:
        return [PASSWORD, "not-the-password"]


class FolderContractTestCase(SourceSyncContract, TransactionTestCase):
    source_name = "Contract folder"
    refusal_text = "Local source Contract folder"

    def setUp(self):
        super().setUp()
        self.mail = MailFolder(self.source_name)
        self.addCleanup(self.mail.cleanup)

    def deliver(self, name: str, raw: bytes, received: datetime) -> None:
        self.mail.add(raw, name)

    def source(self) -> dict:
        return self.mail.source

    def refused_source(self) -> dict:
        """A folder has no credentials: one that cannot be read is refused the same way."""
        return {**self.mail.source, "url": f"file://{self.mail.path}/missing"}


class PushContractTestCase(SourceSyncContract, TransactionTestCase):
    source_name = PUSHED_SOURCE_NAME
    has_credentials = False
    PUSH_ON = {"push": {"enable": True}}

    def setUp(self):
        super().setUp()
        self.pusher = get_user_model().objects.create_user(username="cm-contract-pusher")

    def deliver(self, name: str, raw: bytes, received: datetime) -> None:
        with override_settings(PLUGINS_CONFIG=plugin_config([], **self.PUSH_ON)):
            self.assertTrue(accept(raw, self.pusher).created)

    def source(self) -> dict:
        return {}

    def configured_with(self, *sources: dict):
        return self.configured([], **self.PUSH_ON)
