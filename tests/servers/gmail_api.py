"""The Gmail API half of the loopback Gmail: its GET calls, alone or inside HTTP batch requests.

Mixed into the loopback server's request handler (tests/servers/gmail_server.py), whose OAuth half
issues the tokens these calls check. A batch request's calls are answered one by one, each with its
own Authorization, as Google does, and their answers sent back in one multipart/mixed body.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING

from .http_batch import MalformedBatch, batch_answer, parse_batch

if TYPE_CHECKING:
    from .gmail_server import FakeGmail

READONLY = "https://www.googleapis.com/auth/gmail.readonly"
MODIFY = "https://www.googleapis.com/auth/gmail.modify"
# Gmail's batch endpoint (developers.google.com/gmail/api/guides/batch).
BATCH_PATH = "/batch/gmail/v1"
MAX_BATCH_CALLS = 100
# What Gmail answers a call with, by status: (message, status name, reason in `errors`).
ERRORS = {
    400: ("Invalid id value", "INVALID_ARGUMENT", "invalidArgument"),
    403: ("User-rate limit exceeded.", "PERMISSION_DENIED", "userRateLimitExceeded"),
    404: ("Requested entity was not found.", "NOT_FOUND", "notFound"),
    429: ("Too many concurrent requests for user.", "RESOURCE_EXHAUSTED", "rateLimitExceeded"),
    500: ("Internal error encountered.", "INTERNAL", "backendError"),
    503: ("The service is currently unavailable.", "UNAVAILABLE", "backendError"),
}


class GmailApi:
    """The Gmail API GETs and batch requests; the handler provides `_reply`, `_scopes`, `_error_answer`, `_drop`."""

    gmail: FakeGmail

    def _gmail_error(self, status: int, headers, target: str) -> tuple[int, dict]:
        """A call's error as Gmail words it, with the reason its client libraries look at (echoing, if asked)."""
        message, name, reason = ERRORS.get(status, ("Error", "UNKNOWN", "unknown"))
        _, payload = self._error_answer(status, message, name, headers, target)
        payload["error"]["errors"] = [{"message": message, "domain": "global", "reason": reason}]
        return status, payload

    def _batch(self, body: bytes) -> None:
        """Each call answered as if it came alone (its own Authorization), all in one multipart answer."""
        try:
            calls = parse_batch(self.headers.get("Content-Type", ""), body)
        except MalformedBatch as error:
            self._reply(400, {"error": {"code": 400, "message": str(error), "status": "INVALID_ARGUMENT"}})
            return
        with self.gmail.lock:
            self.gmail.batch_calls.append(len(calls))
            dropping = self.gmail.drop_batches > 0
            self.gmail.drop_batches -= dropping
        if dropping:
            self._drop()
            return
        if not calls or len(calls) > MAX_BATCH_CALLS:
            message = f"A batch holds 1 to {MAX_BATCH_CALLS} calls, not {len(calls)}."
            self._reply(400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})
            return
        answers = []
        for call in calls:
            if call.method == "GET":
                answer = self._api_get(call.path, call.query, call.headers)
            else:
                answer = self._error_answer(405, "Method not allowed", "INVALID_ARGUMENT", call.headers, call.path)
            if answer is None:
                self._drop()
                return
            answers.append((call.content_id, *answer))
        content_type, payload = batch_answer(answers)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _api_get(self, path: str, query: dict[str, str], headers) -> tuple[int, dict] | None:
        """A Gmail API GET, alone or inside a batch: its status and payload, or None to drop the connection."""
        scopes = self._scopes(headers)
        if scopes is None or self.gmail.refuse_api:
            message = "Request had invalid authentication credentials."
            return self._error_answer(401, message, "UNAUTHENTICATED", headers, f"GET {path}")
        if not scopes & {READONLY, MODIFY}:
            message = "Request had insufficient authentication scopes."
            return self._error_answer(403, message, "PERMISSION_DENIED", headers, f"GET {path}")
        gmail = self.gmail
        if path == "/gmail/v1/users/me/profile":
            return 200, {"emailAddress": gmail.account, "messagesTotal": len(gmail.mail), "historyId": "1"}
        if path == "/gmail/v1/users/me/messages":
            gmail.queries.append(query.get("q", ""))
            found = gmail.search(query.get("q", ""))
            start = int(query.get("pageToken") or 0)
            page = found[start : start + gmail.page_size]
            payload: dict = {"resultSizeEstimate": len(found)}
            if page:
                payload["messages"] = [{"id": mail.id, "threadId": mail.id} for mail in page]
            if start + gmail.page_size < len(found):
                payload["nextPageToken"] = str(start + gmail.page_size)
            return 200, payload
        match = re.fullmatch(r"/gmail/v1/users/me/messages/([0-9a-f]+)", path)
        if match:
            return self._message(match.group(1), query.get("format", "full"), headers)
        return self._error_answer(404, "Not Found", "NOT_FOUND", headers, f"GET {path}")

    def _message(self, message_id: str, form: str, headers) -> tuple[int, dict] | None:
        gmail = self.gmail
        target = f"GET /gmail/v1/users/me/messages/{message_id}?format={form}"
        fault = gmail.take_fault(message_id, form)
        if fault is not None:
            return self._gmail_error(fault, headers, target)
        if form != "minimal":
            with gmail.lock:
                gmail.gets += 1
                if gmail.drop_gets_after is not None and gmail.gets > gmail.drop_gets_after:
                    return None
        mail = next((m for m in gmail.mail if m.id == message_id), None)
        if mail is None:
            return self._gmail_error(404, headers, target)
        found = {
            "id": mail.id,
            "threadId": mail.id,
            "labelIds": sorted(mail.labels),
            "internalDate": str(mail.internal_ms),
        }
        if form == "minimal":
            found["sizeEstimate"] = len(mail.raw)
        else:
            found["raw"] = base64.urlsafe_b64encode(mail.raw).decode().rstrip("=")
        return 200, found
