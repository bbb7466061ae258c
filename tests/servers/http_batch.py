"""Google's HTTP batch format, server side: the calls of a multipart/mixed request, and the answer to them.

A batch request is a multipart/mixed body whose parts (`Content-Type: application/http`, each with a
`Content-ID`) hold whole HTTP requests with only the path of their URL. Google answers with a
multipart/mixed body of whole HTTP responses, one part per call, each part named
`Content-ID: <response-ID>` after the call's own Content-ID. See developers.google.com/gmail/api/guides/batch.
"""

from __future__ import annotations

import email
import json
import secrets
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    """One HTTP request inside a batch."""

    content_id: str
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes


class MalformedBatch(ValueError):
    """The request is not a multipart/mixed body of application/http parts."""


def parse_batch(content_type: str, body: bytes) -> list[Call]:
    envelope = email.message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    if not envelope.is_multipart():
        raise MalformedBatch("a batch request is multipart/mixed")
    calls = []
    for part in envelope.get_payload():
        if part.get_content_type() != "application/http":
            raise MalformedBatch("each part of a batch is application/http")
        text = part.get_payload(decode=True) or b""
        request_line, _, rest = text.replace(b"\r\n", b"\n").partition(b"\n")
        try:
            method, target, _version = request_line.decode("ascii").split(" ", 2)
        except ValueError:
            raise MalformedBatch("a part does not start with an HTTP request line") from None
        head, _, call_body = rest.partition(b"\n\n")
        url = urlsplit(target)
        calls.append(
            Call(
                content_id=(part.get("Content-ID") or "").strip("<> "),
                method=method,
                path=url.path,
                query={key: values[0] for key, values in parse_qs(url.query).items()},
                headers=email.message_from_bytes(head + b"\n\n"),
                body=call_body,
            )
        )
    return calls


def batch_answer(answers: list[tuple[str, int, dict | None]]) -> tuple[str, bytes]:
    """The Content-Type and body answering calls: (their Content-ID, status, JSON payload or None)."""
    boundary = f"batch_{secrets.token_hex(12)}"
    lines: list[str] = []
    for content_id, status, payload in answers:
        body = "" if payload is None else json.dumps(payload)
        lines += [
            f"--{boundary}",
            "Content-Type: application/http",
            f"Content-ID: <response-{content_id}>",
            "",
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            "Content-Type: application/json; charset=UTF-8",
            "Vary: Origin, X-Origin, Referer",
            f"Content-Length: {len(body.encode())}",
            "",
            body,
        ]
    lines.append(f"--{boundary}--")
    return f"multipart/mixed; boundary={boundary}", ("\r\n".join(lines) + "\r\n").encode()
