"""Hold one IMAP folder in IDLE (RFC 2177) and report new mail; the IMAP half of the mailbox watcher.

One `FolderIdler` thread per IMAP source. It logs in (TLS, STARTTLS and credentials exactly as the
sync does, through `ImapSource.open_folder`), opens the folder read-only, and sits in IDLE. Every
`* n EXISTS` the server sends becomes a `MailArrived` event; each (re)connection becomes a
`Connected` event carrying the folder's UIDVALIDITY and UIDNEXT, so the watcher can tell whether
mail arrived while it was away. IDLE is left and entered again every `reidle_seconds` (RFC 2177 asks
for less than 29 minutes). Any failure — refused login, dropped socket, server gone — is logged
(scrubbed of the source's secrets) and followed by a new connection after a back-off that doubles
up to `max_backoff_seconds` and starts again after a connection that worked.

No Django here: the source (with its secrets resolved) comes from `make_source`, events go to a queue.
"""

from __future__ import annotations

import imaplib
import logging
import queue
import select
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nautobot_ssot_circuit_maintenance.intake.sources.base import SourceError
from nautobot_ssot_circuit_maintenance.intake.sources.imap import ImapSource

logger = logging.getLogger(__name__)

# RFC 2177: clients should re-issue IDLE at least every 29 minutes.
REIDLE_SECONDS = 25 * 60


@dataclass(frozen=True)
class MailArrived:
    """The server reported a new message count (`* n EXISTS`) for the source's folder."""

    source: str


@dataclass(frozen=True)
class Connected:
    """The watcher (re)opened the source's folder; what the folder's SELECT answered."""

    source: str
    uidvalidity: int | None
    uidnext: int | None
    exists: int


class ConnectionLost(ConnectionError):
    """The server closed the connection during IDLE."""


def _readable(sock: Any, timeout: float) -> bool:
    """Whether the socket has something to read within `timeout` (bytes TLS already decrypted count)."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(timeout * 1000))


def _buffered_lines(client: Any) -> list[bytes]:
    """Whole lines imaplib already holds in its read buffer, which a poll of the socket cannot see.

    Right after IDLE is entered, the server's continuation and an untagged `* n EXISTS` can come in one
    packet: the second stays in the buffer, and nothing would report it until the next packet.
    """
    sock = client.socket()
    timeout = sock.gettimeout()
    sock.setblocking(False)
    lines = []
    try:
        while True:
            try:
                lines.append(client._imap._get_line())  # noqa: SLF001 - imaplib's reader, as imapclient's idle_check
            except (OSError, imaplib.IMAP4.abort):
                # Nothing more to read without blocking (imaplib calls that "EOF"); a closed connection
                # shows on the next poll.
                break
    finally:
        sock.settimeout(timeout)
    return lines


def _has_new_mail(responses: list[Any]) -> bool:
    return any(
        (isinstance(response, tuple) and len(response) >= 2 and response[1] == b"EXISTS")
        or (isinstance(response, bytes) and response.split()[2:3] == [b"EXISTS"])
        for response in responses
    )


def _number(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class FolderIdler(threading.Thread):
    """Watch one IMAP source's folder until `stop` is set (see the module docstring)."""

    def __init__(
        self,
        name: str,
        make_source: Callable[[], ImapSource],
        events: queue.Queue,
        stop: threading.Event,
        *,
        check_seconds: float = 1.0,
        reidle_seconds: float = REIDLE_SECONDS,
        min_backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 60.0,
    ):
        """A daemon thread for one source, connected through `make_source`, posting to `events` until `stop`."""
        super().__init__(name=f"idle:{name}", daemon=True)
        self.source_name = name
        self.make_source = make_source
        self.events = events
        self.stop = stop
        self.check_seconds = check_seconds
        self.reidle_seconds = reidle_seconds
        self.min_backoff_seconds = min_backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.connections = 0  # successful connections so far (the first one and every reconnection)

    def run(self) -> None:
        """Connect, IDLE and report, reconnecting with a doubling backoff; stop for a server without IDLE."""
        backoff = self.min_backoff_seconds
        while not self.stop.is_set():
            source: ImapSource | None = None
            try:
                source = self.make_source()
                client, selected = source.open_folder()
                if not client.has_capability("IDLE"):
                    logger.error(
                        "Source %s: the IMAP server does not offer IDLE; not watched (its scheduled sync reads it)",
                        self.source_name,
                    )
                    return
                self.connections += 1
                backoff = self.min_backoff_seconds
                logger.info(
                    "Source %s: watching folder %s (%s)",
                    self.source_name,
                    source.settings.folder,
                    "connected" if self.connections == 1 else "reconnected",
                )
                self.events.put(
                    Connected(
                        self.source_name,
                        _number(selected.get(b"UIDVALIDITY")),
                        _number(selected.get(b"UIDNEXT")),
                        _number(selected.get(b"EXISTS")) or 0,
                    )
                )
                self._idle(client)
            except Exception as error:  # noqa: BLE001 - every failure means: log, wait, connect again
                if self.stop.is_set():
                    break
                # A SourceError is already worded for an operator; anything else is named by its type.
                text = str(error) if isinstance(error, SourceError) else f"{type(error).__name__}: {error}".strip()
                logger.warning(
                    "Source %s: %s; connecting again in %.1f s",
                    self.source_name,
                    source.scrub(text) if source is not None else text,
                    backoff,
                )
                self.stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_seconds)
            finally:
                if source is not None:
                    source.close()
        logger.info("Source %s: stopped watching", self.source_name)

    def _idle(self, client: Any) -> None:
        """IDLE until `stop`; raise when the connection fails (the caller reconnects)."""
        self._enter_idle(client)
        since = time.monotonic()
        try:
            while not self.stop.is_set():
                if time.monotonic() - since >= self.reidle_seconds:
                    self._report(client.idle_done()[1])
                    self._enter_idle(client)
                    since = time.monotonic()
                if not _readable(client.socket(), self.check_seconds):
                    continue
                responses = client.idle_check(timeout=0)
                if not responses:
                    # Readable with no whole response: the server closed the socket (imapclient reads EOF as
                    # "nothing"). Leaving IDLE tells a closed connection (raises) from a partial line (answers).
                    self._report(client.idle_done()[1])
                    self._enter_idle(client)
                    since = time.monotonic()
                    continue
                self._report(responses)
                if any(response[:1] == (b"BYE",) for response in responses if isinstance(response, tuple)):
                    raise ConnectionLost("the server ended the session (BYE)")
        finally:
            if self.stop.is_set():
                # A polite end; the connection is closed by the caller whatever happens here.
                try:
                    client.idle_done()
                except Exception:  # noqa: BLE001, S110 - closing anyway
                    pass

    def _enter_idle(self, client: Any) -> None:
        client.idle()
        self._report(_buffered_lines(client))

    def _report(self, responses: list[Any]) -> None:
        if _has_new_mail(responses):
            self.events.put(MailArrived(self.source_name))
