"""A loopback HTTP receiver for webhooks: keeps every request it is sent (method, path, headers, JSON body)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One request the receiver was sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """`with WebhookReceiver() as receiver:` listens on 127.0.0.1 (a free port) and answers `status` (200) to anything.

    Set `receiver.status = 500` to have it fail every request (it still keeps them), as a receiver that is down.
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 200
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _keep(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(Received(self.command, self.path, dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_PATCH = _keep

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # http.server's signature
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        """The receiver's URL, by name: Nautobot refuses a webhook URL that is a loopback IP literal at save time."""
        return f"http://localhost:{self._server.server_address[1]}/hook"
