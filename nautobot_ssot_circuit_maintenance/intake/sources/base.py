"""The interface every mailbox kind implements: read-only, incremental fetch in batches."""

from __future__ import annotations

import abc
import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nautobot_ssot_circuit_maintenance.config import SourceSettings
from nautobot_ssot_circuit_maintenance.redaction import Scrubber, scrubber_for

# The longest error text a source hands out (a server's answer can be long).
MAX_ERROR_LENGTH = 500
# What a source reads of a message over `max_message_bytes`: its header block is in here.
HEAD_BYTES = 256 * 1024


def sized_batches(items: list[Any], sizes: list[int], *, count: int, max_bytes: int) -> Iterator[list[Any]]:
    """Consecutive groups of at most `count` items and at most `max_bytes` (an item larger than that goes alone)."""
    batch: list[Any] = []
    total = 0
    for item, size in zip(items, sizes, strict=True):
        if batch and (len(batch) >= count or total + size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += size
    if batch:
        yield batch


class SourceError(Exception):
    """A mailbox cannot be reached, refuses the login, or drops the connection.

    Messages are written for an operator and never contain a secret: every SourceError that leaves
    a source has been through the source's scrubber (see `MailboxSource.__init_subclass__`).
    """


@dataclass(frozen=True)
class FetchedMessage:
    """One message as the mailbox holds it."""

    raw: bytes
    # When the mailbox received it (IMAP INTERNALDATE, file mtime); None when unknown.
    received: datetime | None
    # Where it came from, for logs and the UI: "INBOX:1234", a file name, "mbox#17".
    location: str
    # The message's real size when `raw` holds only its header block (it is over `max_message_bytes`).
    size: int | None = None

    @property
    def full_size(self) -> int:
        """The message's size in the mailbox, also when only its header block is held."""
        return self.size if self.size is not None else len(self.raw)


@dataclass
class FetchBatch:
    """Messages fetched together, and the cursor that is true once they are all stored."""

    messages: list[FetchedMessage]
    cursor: dict[str, Any] = field(default_factory=dict)


def _scrubbed(scrub: Callable[[Any], str], error: BaseException, doing: str, name: str) -> SourceError:
    """`error` as a SourceError whose text went through `scrub`; other exceptions keep their type name."""
    if isinstance(error, SourceError):
        text = str(error)
    else:
        detail = str(error).strip()
        text = f"Source {name}: {doing} failed ({type(error).__name__}{': ' + detail if detail else ''})"
    text = scrub(text)
    return SourceError(text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…")


def _guard_init(method: Callable) -> Callable:
    @functools.wraps(method)
    def wrapper(self: MailboxSource, settings: SourceSettings, *args: Any, **kwargs: Any) -> None:
        try:
            method(self, settings, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - every failure leaves as a scrubbed SourceError
            raise _scrubbed(scrubber_for(settings), error, "setting up", settings.name) from None

    return wrapper


def _guard_call(doing: str) -> Callable[[Callable], Callable]:
    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def wrapper(self: MailboxSource, *args: Any, **kwargs: Any) -> Any:
            try:
                result = method(self, *args, **kwargs)
            except Exception as error:  # noqa: BLE001
                raise _scrubbed(self.scrub, error, doing, self.settings.name) from None
            return self.scrub(result) if isinstance(result, str) else result

        return wrapper

    return decorate


def _guard_fetch(method: Callable) -> Callable:
    @functools.wraps(method)
    def wrapper(self: MailboxSource, *args: Any, **kwargs: Any) -> Iterator[FetchBatch]:
        try:
            yield from method(self, *args, **kwargs)
        except Exception as error:  # noqa: BLE001
            raise _scrubbed(self.scrub, error, "reading the mailbox", self.settings.name) from None

    return wrapper


def _guard_mark(method: Callable) -> Callable:
    @functools.wraps(method)
    def wrapper(self: MailboxSource, *args: Any, **kwargs: Any) -> list[str]:
        try:
            problems = method(self, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - mark never raises
            return [str(_scrubbed(self.scrub, error, "labelling messages", self.settings.name))]
        return [str(_scrubbed(self.scrub, SourceError(problem), "", self.settings.name)) for problem in problems]

    return wrapper


def _guard_close(method: Callable) -> Callable:
    @functools.wraps(method)
    def wrapper(self: MailboxSource) -> None:
        with contextlib.suppress(Exception):
            method(self)

    return wrapper


# Every entry point of a source, and how its failures and texts are made safe to show.
_GUARDS: dict[str, Callable[[Callable], Callable]] = {
    "__init__": _guard_init,
    "fetch": _guard_fetch,
    "test_connection": _guard_call("checking the connection"),
    "restrict_to_senders": _guard_call("choosing the senders"),
    "mark": _guard_mark,
    "close": _guard_close,
}


class MailboxSource(abc.ABC):
    """A mailbox the app reads notifications from.

    `fetch` never changes the mailbox (no flags, no moves, no deletes).

    Every subclass's entry points are wrapped when the class is defined: whatever a client library
    raises (imaplib, ssl, OSError, google-auth, googleapiclient…) leaves as a SourceError, and every
    SourceError message, `mark` problem and `test_connection` text has been through `scrub`. So
    nothing a server echoed (a password, a token, a credentials-file value) reaches the UI, the
    API, the job log or the database.
    """

    batch_size = 200
    # A batch holds at most `batch_size` messages and about `batch_bytes` of mail; a message over
    # `max_message_bytes` is read as its header block only (see FetchedMessage.size).
    batch_bytes = 64 * 1024 * 1024
    max_message_bytes: int | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Wrap each entry point the subclass defines so its failures and texts are scrubbed."""
        super().__init_subclass__(**kwargs)
        for name, guard in _GUARDS.items():
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "_scrubbed", False):
                wrapped = guard(method)
                wrapped._scrubbed = True
                setattr(cls, name, wrapped)

    def __init__(self, settings: SourceSettings):
        """Keep the source's settings; its scrubber is built when first needed."""
        self.settings = settings
        self._scrubber: Scrubber | None = None

    def set_limits(self, *, max_message_bytes: int, batch_bytes: int) -> None:
        """Bound what one fetch holds in memory (from the app's `message_limits`)."""
        self.max_message_bytes = max_message_bytes
        self.batch_bytes = batch_bytes

    def oversized(self, size: int) -> bool:
        """Whether a message of `size` bytes is over `max_message_bytes`, so only its head is read."""
        return self.max_message_bytes is not None and size > self.max_message_bytes

    def runtime_secrets(self) -> list[str]:
        """Secrets obtained while running (e.g. an access token just issued), scrubbed as well."""
        return []

    def scrub(self, text: Any) -> str:
        """`text` without any secret of this source (configured, from its credentials file, or runtime).

        A server's answer may hold NUL, which PostgreSQL refuses in the source's stored `last_error`.
        """
        if getattr(self, "_scrubber", None) is None:
            self._scrubber = scrubber_for(self.settings)
        runtime = [secret for secret in self.runtime_secrets() if secret]
        return (Scrubber(runtime) if runtime else self._scrubber)(self._scrubber(text)).replace("\x00", "\ufffd")

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
        """The source itself, closed on leaving the block."""
        return self

    def __exit__(self, *exc_info) -> None:
        """Close the source's connection."""
        self.close()
