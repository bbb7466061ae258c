"""Read notifications from an IMAP folder, read-only and incrementally by UID."""

from __future__ import annotations

import contextlib
import imaplib
import logging
import socket
import ssl
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from imapclient import IMAPClient
from imapclient import exceptions as imap_exc

from nautobot_ssot_circuit_maintenance.config import SourceSettings
from nautobot_ssot_circuit_maintenance.intake.sources.base import (
    FetchBatch,
    FetchedMessage,
    MailboxSource,
    SourceError,
    sized_batches,
)

logger = logging.getLogger(__name__)

IMAPS_PORT = 993
IMAP_PORT = 143
TIMEOUT_SECONDS = 30.0

# BODY.PEEK[] does not set \Seen (BODY[] and RFC822 would); the server answers with BODY[].
_FETCH_ITEMS = [b"BODY.PEEK[]", b"INTERNALDATE"]
_BODY_KEY = b"BODY[]"
# A message over the size bound: its header block only, for the record of what it was.
_HEAD_ITEMS = [b"BODY.PEEK[HEADER]", b"INTERNALDATE"]
_HEAD_KEY = b"BODY[HEADER]"
# UIDs per RFC822.SIZE request when planning batches.
_SIZE_REQUEST = 1000

# Every way a connection can fail: refused, DNS, TLS, timeouts, server errors, dropped socket.
_NETWORK_ERRORS = (imap_exc.IMAPClientError, imaplib.IMAP4.error, socket.error, OSError, EOFError)


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def arrival_time(internal_date: datetime | None, uid: int) -> datetime | None:
    """When the mailbox received a message: INTERNALDATE, with the UID as microseconds.

    INTERNALDATE's resolution is one second; the UID grows with each arrival in a folder, so that arrivals within
    one second keep their order.
    """
    received = _as_utc(internal_date)
    if received is None:
        return None
    return received.replace(microsecond=0) + timedelta(microseconds=uid % 1_000_000)


class ImapSource(MailboxSource):
    """An IMAP mailbox at `imap://host[:port]`.

    Port 993 (the default) uses implicit TLS, any other port STARTTLS; `tls=False` means
    plaintext (port 143 when none is given). `imaps://host:port` forces implicit TLS on any
    port. The certificate is always checked.
    The folder is selected read-only and bodies are fetched with BODY.PEEK[], so flags never change.
    """

    def __init__(self, settings: SourceSettings):
        """Read the host and port from the URL; TLS is implicit on port 993 or with an imaps URL, when TLS is on."""
        super().__init__(settings)
        parts = urlsplit(settings.url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            raise SourceError(f"Source {settings.name}: expected a URL like imap://host[:port]")
        self.host: str = parts.hostname
        try:
            port = parts.port
        except ValueError:
            raise SourceError(f"Source {settings.name}: invalid port in the URL") from None
        if port is None:
            port = IMAPS_PORT if settings.tls else IMAP_PORT
        self.port: int = port
        self.implicit_tls: bool = settings.tls and (port == IMAPS_PORT or parts.scheme == "imaps")
        self._client: IMAPClient | None = None

    # -- connection -------------------------------------------------------------------------

    def _where(self) -> str:
        return f"source {self.settings.name} ({self.host}:{self.port})"

    def _fail(self, action: str, exc: BaseException) -> SourceError:
        """Build an operator message (scrubbed); the server's text is shown only for non-login steps."""
        detail = self.scrub(str(exc).strip()) or type(exc).__name__
        return SourceError(f"IMAP {self._where()}: {action} failed: {detail}")

    def _ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file or None)

    def _connect(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        implicit_tls = self.implicit_tls
        try:
            context = self._ssl_context() if self.settings.tls else None
            client = IMAPClient(
                self.host,
                port=self.port,
                ssl=implicit_tls,
                ssl_context=context,
                timeout=TIMEOUT_SECONDS,
            )
        except _NETWORK_ERRORS as exc:
            raise self._fail("connect", exc) from exc
        try:
            # Keep INTERNALDATE timezone-aware instead of converting it to naive local time.
            client.normalise_times = False
            if self.settings.tls and not implicit_tls:
                client.starttls(context)
        except imap_exc.CapabilityError:
            self._shutdown(client)
            raise SourceError(f"IMAP {self._where()}: the server does not offer STARTTLS") from None
        except _NETWORK_ERRORS as exc:
            self._shutdown(client)
            raise self._fail("STARTTLS", exc) from exc
        try:
            client.login(self.settings.account, self.settings.secret)
        except imap_exc.LoginError as exc:
            self._shutdown(client)
            # IMAPClient reports a connection lost during LOGIN as a LoginError too.
            if isinstance(exc.__context__, (imaplib.IMAP4.abort, OSError)):
                raise SourceError(f"IMAP {self._where()}: the connection was lost during login") from None
            # The server's answer could echo what was sent: do not chain it.
            raise SourceError(f"IMAP {self._where()}: login as {self.settings.account!r} was rejected") from None
        except _NETWORK_ERRORS as exc:
            self._shutdown(client)
            raise SourceError(
                f"IMAP {self._where()}: login failed ({type(exc).__name__}: connection problem)"
            ) from None
        self._client = client
        return client

    @staticmethod
    def _shutdown(client: IMAPClient) -> None:
        with contextlib.suppress(Exception):
            client.shutdown()

    def close(self) -> None:
        """Log out (best effort) and drop the connection."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # the connection may already be gone
            self._shutdown(client)

    def _select(self, client: IMAPClient) -> dict[bytes, Any]:
        try:
            return client.select_folder(self.settings.folder, readonly=True)
        except _NETWORK_ERRORS as exc:
            self.close()
            raise self._fail(f"opening folder {self.settings.folder!r}", exc) from exc

    # -- MailboxSource ----------------------------------------------------------------------

    def test_connection(self) -> str:
        """Log in and open the folder read-only; return e.g. "INBOX: 25 messages"."""
        client = self._connect()
        info = self._select(client)
        count = int(info.get(b"EXISTS", 0))
        return f"{self.settings.folder}: {count} messages"

    def open_folder(self) -> tuple[IMAPClient, dict[bytes, Any]]:
        """Log in and open the folder read-only; the client and the SELECT answer (for the mailbox watcher's IDLE).

        Raises SourceError (scrubbed); `close()` releases the connection.
        """
        client = self._connect()
        return client, self._select(client)

    def _sizes(self, client: Any, uids: list[int]) -> dict[int, int]:
        """RFC822.SIZE of each message, so batches are bounded by bytes before anything large is read."""
        sizes: dict[int, int] = {}
        for start in range(0, len(uids), _SIZE_REQUEST):
            part = uids[start : start + _SIZE_REQUEST]
            try:
                response = client.fetch(part, [b"RFC822.SIZE"])
            except _NETWORK_ERRORS as exc:
                self.close()
                raise self._fail(f"reading the sizes of UIDs {part[0]}-{part[-1]}", exc) from exc
            for uid, data in response.items():
                size = data.get(b"RFC822.SIZE")
                if isinstance(size, int):
                    sizes[uid] = size
        return sizes

    def fetch(self, cursor: dict[str, Any] | None, since: datetime) -> Iterator[FetchBatch]:
        """Yield new messages in UID order, in batches bounded by count and bytes (see MailboxSource.fetch)."""
        client = self._connect()
        folder = self.settings.folder
        info = self._select(client)
        uidvalidity = int(info[b"UIDVALIDITY"])
        incremental = (
            bool(cursor)
            and cursor.get("folder") == folder
            and cursor.get("uidvalidity") == uidvalidity
            and isinstance(cursor.get("last_uid"), int)
        )
        try:
            if incremental:
                last_uid = cursor["last_uid"]
                # "n:*" always matches the highest UID, even when it is below n.
                uids = [uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid]
            else:
                if cursor:
                    logger.info("%s: cursor no longer valid (UIDVALIDITY or folder changed), rescanning", self._where())
                uids = list(client.search(["SINCE", since.date()]))
        except _NETWORK_ERRORS as exc:
            self.close()
            raise self._fail("search", exc) from exc
        uids.sort()
        sizes = self._sizes(client, uids)
        count = max(1, int(self.batch_size))
        for chunk in sized_batches(uids, [sizes.get(uid, 0) for uid in uids], count=count, max_bytes=self.batch_bytes):
            whole = [uid for uid in chunk if not self.oversized(sizes.get(uid, 0))]
            heads = [uid for uid in chunk if self.oversized(sizes.get(uid, 0))]
            try:
                response = client.fetch(whole, _FETCH_ITEMS) if whole else {}
                if heads:
                    response.update(client.fetch(heads, _HEAD_ITEMS))
            except _NETWORK_ERRORS as exc:
                self.close()
                raise self._fail(f"fetching UIDs {chunk[0]}-{chunk[-1]}", exc) from exc
            messages = []
            for uid in chunk:
                data = response.get(uid) or {}
                body = data.get(_BODY_KEY, data.get(_HEAD_KEY))
                if body is None:
                    # Expunged between SEARCH and FETCH: nothing to read.
                    continue
                messages.append(
                    FetchedMessage(
                        raw=bytes(body),
                        received=arrival_time(data.get(b"INTERNALDATE"), uid),
                        location=f"{folder}:{uid}",
                        size=sizes[uid] if uid in heads else None,
                    )
                )
            yield FetchBatch(
                messages=messages,
                cursor={"uidvalidity": uidvalidity, "last_uid": chunk[-1], "folder": folder},
            )
