"""Many Gmail `users.messages.get` calls at once, through the API's HTTP batch endpoint.

A backlog of N messages costs about N/50 HTTP requests instead of N: googleapiclient's
`BatchHttpRequest` sends up to `per_batch` calls in one multipart/mixed request and hands back one
answer per call. Gmail still counts every call against the user's quota (5 units each), and answers a
call it throttles with that call's own 429 (or 403 `rateLimitExceeded`) inside an otherwise good
batch. So each call is judged on its own:

- a throttled call, or one that failed on Google's side (5xx), is sent again in a later batch after an
  exponential backoff with jitter, at most `attempts` times in all;
- a call answered 404 (the message was deleted after the listing) is left out;
- any other failure is raised as the HttpError it is, for the source to report.

The batch request itself is retried the same way when it cannot reach Google or is throttled as a
whole. A group of one call goes as a plain request: `per_batch` 1 is one request per message.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

import httplib2
from google.auth.exceptions import TransportError
from googleapiclient.errors import BatchError, HttpError
from googleapiclient.http import BatchHttpRequest

# Gmail takes at most 100 calls in a batch and advises no more than 50, which trigger its rate limits less.
MAX_PER_BATCH = 100
DEFAULT_PER_BATCH = 50
# Gmail's batch endpoint as its batching guide gives it. The library's `new_batch_http_request()` would take
# the discovery document's root and ignore a custom `api_endpoint` (googleapis/google-api-python-client#1107),
# so the address is built here, from the source's endpoint when it has one.
GMAIL_BATCH_ROOT = "https://www.googleapis.com"
BATCH_PATH = "/batch/gmail/v1"
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}
# Failures of the request itself (no answer at all): worth another try.
UNREACHABLE = (TimeoutError, TransportError, httplib2.HttpLib2Error, OSError)


def batch_uri(api_endpoint: str | None) -> str:
    """Where the batch requests of a source go: its `api_endpoint`, else Gmail's."""
    return (api_endpoint or GMAIL_BATCH_ROOT).rstrip("/") + BATCH_PATH


def reasons(error: HttpError) -> set[str]:
    """The machine-readable reasons of an error answer (`errors[].reason`, `details[].reason`)."""
    try:
        body = json.loads(error.content).get("error")
    except (ValueError, TypeError, AttributeError):
        return set()
    if not isinstance(body, dict):
        return set()
    found = set()
    for key in ("errors", "details"):
        items = body.get(key)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("reason"), str):
                found.add(item["reason"])
    return found


def retryable(error: HttpError) -> bool:
    """Throttled (429, or 403 with a rate-limit reason) or failed on Google's side (5xx)."""
    status = error.status_code
    if status == 429 or status >= 500:
        return True
    return status == 403 and bool(reasons(error) & RATE_LIMIT_REASONS)


class MessageReader:
    """`users.messages.get` for many ids, `per_batch` calls to an HTTP request, with bounded retries."""

    def __init__(
        self, messages: Any, *, uri: str, per_batch: int = DEFAULT_PER_BATCH, attempts: int = 5, delay: float = 1.0
    ):
        """Read through `messages` (the service's users().messages()), with up to `attempts` tries per call."""
        self.messages = messages  # the service's users().messages() resource
        self.uri = uri
        self.per_batch = max(1, min(per_batch, MAX_PER_BATCH))
        self.attempts = attempts
        self.delay = delay

    def get(self, ids: list[str], **params: Any) -> dict[str, dict]:
        """Each id's message resource (`params` as for messages.get); ids of deleted messages are missing.

        Raises HttpError (a call Gmail refused, or still throttled after every attempt), BatchError (an
        answer not in the batch format), or the transport error of a request that never got an answer.
        """
        found: dict[str, dict] = {}
        for start in range(0, len(ids), self.per_batch):
            found.update(self._get_group(ids[start : start + self.per_batch], params))
        return found

    def _get_group(self, ids: list[str], params: dict[str, Any]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        pending = list(ids)
        last_error: Exception | None = None
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.delay * 2 ** (attempt - 1) + random.uniform(0, self.delay))  # noqa: S311 - jitter
            try:
                answers = self._send(pending, params)
            except BatchError:
                raise
            except HttpError as error:
                if not retryable(error):
                    raise
                last_error = error
                continue
            except UNREACHABLE as error:
                last_error = error
                continue
            again = []
            for message_id in pending:
                answer = answers[message_id]
                if not isinstance(answer, HttpError):
                    found[message_id] = answer
                elif answer.status_code == 404:
                    continue
                elif retryable(answer):
                    again.append(message_id)
                    last_error = answer
                else:
                    raise answer
            if not again:
                return found
            pending = again
        raise last_error

    def _send(self, ids: list[str], params: dict[str, Any]) -> dict[str, dict | HttpError]:
        """One HTTP request for `ids`: each id's resource or the HttpError Gmail answered for it."""
        if len(ids) == 1:
            try:
                return {ids[0]: self.messages.get(userId="me", id=ids[0], **params).execute()}
            except HttpError as error:
                return {ids[0]: error}
        answers: dict[str, dict | HttpError] = {}

        def keep(request_id: str, response: dict | None, error: HttpError | None) -> None:
            answers[request_id] = error if error is not None else response

        batch = BatchHttpRequest(callback=keep, batch_uri=self.uri)
        for message_id in ids:
            batch.add(self.messages.get(userId="me", id=message_id, **params), request_id=message_id)
        try:
            batch.execute()
        except KeyError:
            # The library looks each call's answer up by its Content-ID.
            raise BatchError("the batch answer lacks a part for one of its calls") from None
        return answers
