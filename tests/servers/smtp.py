"""A loopback SMTP server (aiosmtpd): keeps every message it accepts, or refuses chosen recipients.

`with SmtpServer() as smtp:` listens on 127.0.0.1 (a free port); `smtp.port` goes into Django's
EMAIL_PORT (or the app's SMTP settings), `smtp.messages` holds what was delivered, each with its envelope
and the parsed message. `smtp.refuse(address, "550 5.1.1 No such user")` makes the server answer a RCPT
for that address with that reply, as a real relay does for an unknown mailbox. `SmtpServer(credentials=(user,
password))` requires AUTH with exactly those and keeps who logged in (`smtp.logins`).
"""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers.ports import LOOPBACK, free_port


@dataclass
class Delivered:
    """One message the server accepted: the envelope sender and recipients, and the message itself."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        """The message's plain-text body (its first text/plain part)."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def attachments(self) -> list[tuple[str, str, bytes]]:
        """(filename, content type, payload) of each attachment."""
        return [
            (part.get_filename() or "", part.get_content_type(), part.get_payload(decode=True) or b"")
            for part in self.message.iter_attachments()
        ]


class SmtpServer:
    """A real SMTP server on loopback for the tests of what the app sends."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        """With `credentials` (user, password), the server requires AUTH (PLAIN or LOGIN) with exactly those."""
        self.credentials = credentials
        self.logins: list[str] = []
        self.messages: list[Delivered] = []
        self.refused: dict[str, str] = {}
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        self.port = 0

    def refuse(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        """Answer RCPT TO for `address` with `reply` (an SMTP code and text) from now on."""
        self.refused[address.lower()] = reply

    def clear(self) -> None:
        """Forget what was delivered so far."""
        with self._lock:
            self.messages.clear()

    def delivered_to(self, address: str) -> list[Delivered]:
        """The messages whose envelope names `address` as a recipient."""
        with self._lock:
            return [message for message in self.messages if address.lower() in map(str.lower, message.recipients)]

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        """Accept exactly the configured user and password; remember who logged in."""
        if isinstance(auth_data, LoginPassword) and self.credentials is not None:
            given = (auth_data.login.decode(), auth_data.password.decode())
            if given == self.credentials:
                self.logins.append(given[0])
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802  # aiosmtpd's hook name
        reply = self.refused.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802  # aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def __enter__(self) -> SmtpServer:
        self.port = free_port()
        auth = {}
        if self.credentials is not None:
            # Loopback only: plaintext AUTH, as a relay inside a trusted network may take it.
            auth = {"auth_required": True, "auth_require_tls": False, "authenticator": self.authenticate}
        self._controller = Controller(self, hostname=LOOPBACK, port=self.port, **auth)
        self._controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
