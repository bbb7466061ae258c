"""The mailbox contract (tests/fixtures/source_contract.py) for IMAP and local folders; Gmail and Graph run it in
their own modules, pushed mail in tests/watch/test_push.py's terms (it has no credentials to refuse)."""

from __future__ import annotations

from datetime import datetime

from nautobot.apps.testing import TransactionTestCase

from tests.fixtures.imap import ACCOUNT, PASSWORD, DovecotTestMixin
from tests.fixtures.job_helpers import MailFolder
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
