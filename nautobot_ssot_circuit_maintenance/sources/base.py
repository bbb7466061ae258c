"""The interface every mailbox kind implements: read-only, incremental fetch in batches."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class SourceError(Exception):
    """A mailbox cannot be reached, refuses the login, or drops the connection.

    Messages are written for an operator and never contain a secret.
    """


@dataclass(frozen=True)
class FetchedMessage:
    """One message as the mailbox holds it."""

    raw: bytes
    # When the mailbox received it (IMAP INTERNALDATE, file mtime); None when unknown.
    received: datetime | None
    # Where it came from, for logs and the UI: "INBOX:1234", a file name, "mbox#17".
    location: str


@dataclass
class FetchBatch:
    """Messages fetched together, and the cursor that is true once they are all stored."""

    messages: list[FetchedMessage]
    cursor: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceSettings:
    """One entry of `notification_sources`, already validated."""

    name: str
    url: str
    account: str = ""
    secret: str = field(default="", repr=False)
    source_header: str = "From"
    folder: str = "INBOX"
    tls: bool = True
    ca_file: str | None = None
    attach_all_providers: bool = False
    extra: dict[str, Any] = field(default_factory=dict, repr=False)


class MailboxSource(abc.ABC):
    """A mailbox the app reads notifications from.

    `fetch` never changes the mailbox (no flags, no moves, no deletes).
    """

    batch_size = 200

    def __init__(self, settings: SourceSettings):
        self.settings = settings

    @abc.abstractmethod
    def fetch(self, cursor: dict[str, Any] | None, since: datetime) -> Iterator[FetchBatch]:
        """Yield batches of messages newer than `cursor`.

        With no cursor (first run), or with a cursor the mailbox no longer honours (IMAP
        UIDVALIDITY changed), read what arrived after `since`. Each batch carries the cursor
        to store once that batch and every batch before it is committed.
        Raises SourceError when the mailbox cannot be read.
        """

    @abc.abstractmethod
    def test_connection(self) -> str:
        """Check that the mailbox can be opened; return a short description. Raises SourceError."""

    def restrict_to_senders(self, addresses: list[str]) -> None:  # noqa: B027 - optional hook
        """The addresses (and `@domain`s) of the providers attached to the source; a source may read only their mail."""

    def mark(self, outcomes: dict[str, list[str]]) -> list[str]:
        """After a real run has stored them: tag messages (by `location`) with their outcome, where the source can.

        Returns the problems met; never raises. The base class leaves the mailbox untouched.
        """
        return []

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the connection, if any."""

    def __enter__(self) -> MailboxSource:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
