"""A Microsoft 365 (Exchange Online) mailbox read through Microsoft Graph, with the Mail.Read application permission.

Configured with `url` https://graph.microsoft.com/, `tenant_id`, `client_id`, `client_secret` (or
`certificate_file`, a PEM holding the private key and its certificate), `account` (the mailbox) and
optionally `folder` (a well-known name such as `inbox`, or a path of display names such as
`Inbox/Maintenance`). `authority_host` and `api_endpoint` point elsewhere than Microsoft's public
cloud (a national cloud, or a test server).

The token comes from msal's client-credentials flow; the mail from the folder's delta query
(`messages/delta`), one page (`@odata.nextLink`) after the other, each message read whole as MIME
(`/messages/{id}/$value`) so that the parser sees what the provider sent. Nothing is ever written.

The cursor is the link to ask next: the `@odata.deltaLink` once a round was read to its end (the
next run then gets only what changed since), or, in the middle of a round, the page being read plus
the ids of that page already handed out. Graph throttles with 429 (and 503) and a Retry-After:
a request is retried a few times, waiting as told, up to a bound.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import msal
import requests

from nautobot_ssot_circuit_maintenance.config import SourceSettings
from nautobot_ssot_circuit_maintenance.intake.sources.base import (
    HEAD_BYTES,
    FetchBatch,
    FetchedMessage,
    MailboxSource,
    SourceError,
)
from nautobot_ssot_circuit_maintenance.intake.sources.graph_auth import DEFAULT_AUTHORITY, GraphCredentials

logger = logging.getLogger(__name__)

GRAPH_HOST = "graph.microsoft.com"
DEFAULT_API = "https://graph.microsoft.com"
# Well-known folder names Graph accepts in place of a folder id.
WELL_KNOWN_FOLDERS = frozenset(
    {"inbox", "archive", "deleteditems", "drafts", "junkemail", "sentitems", "outbox", "clutter", "conversationhistory"}
)
PAGE_SIZE = 50
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 60
# Throttling (429) and unavailable (5xx) answers: retried this many times in all, waiting as asked.
MAX_ATTEMPTS = 5
# A Retry-After longer than this fails the source for this run: the next run resumes from the cursor.
MAX_RETRY_WAIT = 120.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Answers meaning the delta or skip token is no longer honoured: the round starts again.
EXPIRED_STATUSES = frozenset({410})
CHUNK_BYTES = 64 * 1024


def _received(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class GraphHttpError(SourceError):
    """A Graph answer with an error status (kept apart so that 404 and 410 can be told from the rest)."""

    def __init__(self, text: str, status: int):
        """Keep the HTTP status of the error answer."""
        super().__init__(text)
        self.status = status


class _Session(requests.Session):
    """requests with a timeout on every call, msal's included (msal passes none to a given http_client).

    The session's `verify` (the source's `ca_file`) is passed on each call: requests would otherwise let
    a REQUESTS_CA_BUNDLE of the environment override it.
    """

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", (CONNECT_TIMEOUT, READ_TIMEOUT))
        kwargs.setdefault("verify", self.verify)
        return super().request(*args, **kwargs)


class GraphSource(GraphCredentials, MailboxSource):
    """A Microsoft 365 mailbox folder read through Microsoft Graph's delta query, with Mail.Read."""

    batch_size = 100
    # Seconds between retries of a 5xx answer without Retry-After (doubled each time).
    retry_backoff = 1.0

    def __init__(self, settings: SourceSettings):
        """Check that the tenant, client and mailbox are set; the session and token are made when first needed."""
        super().__init__(settings)
        self.extra: dict[str, Any] = settings.extra or {}
        for key in ("tenant_id", "client_id"):
            if not self.extra.get(key):
                raise SourceError(f"Source {settings.name}: {key!r} is required for a Microsoft 365 source")
        if not settings.account:
            raise SourceError(f"Source {settings.name}: 'account' (the mailbox) is required for a Microsoft 365 source")
        self.api = (self.extra.get("api_endpoint") or DEFAULT_API).rstrip("/")
        self.authority = (
            f"{(self.extra.get('authority_host') or DEFAULT_AUTHORITY).rstrip('/')}/{self.extra['tenant_id']}"
        )
        self.mailbox_url = f"{self.api}/v1.0/users/{quote(settings.account, safe='@')}"
        self.folder = settings.folder or "inbox"
        self._session: requests.Session | None = None
        self._app: msal.ConfidentialClientApplication | None = None
        self._token: str | None = None
        # Every token issued to this source object, the renewed ones included, for the scrubber.
        self._issued: list[str] = []
        self._folder_id: str | None = None

    # -- connection ------------------------------------------------------------------------------------
    def _fail(self, what: str) -> SourceError:
        return SourceError(f"Source {self.settings.name}: {what}")

    def _http(self) -> requests.Session:
        if self._session is None:
            session = _Session()
            session.verify = self.settings.ca_file or True
            session.headers["User-Agent"] = "nautobot-ssot-circuit-maintenance"
            self._session = session
        return self._session

    @staticmethod
    def _retry_after(response: requests.Response) -> float | None:
        value = response.headers.get("Retry-After", "").strip()
        try:
            return max(0.0, float(value)) if value else None
        except ValueError:
            return None

    def _error_text(self, response: requests.Response) -> str:
        try:
            error = response.json().get("error", {})
        except (ValueError, AttributeError):
            error = {}
        if not isinstance(error, dict):
            error = {}
        text = ": ".join(str(part) for part in (error.get("code"), error.get("message")) if part)
        return self.scrub(text or response.reason or "")[:200]

    def _get(self, url: str, doing: str, *, stream: bool = False, params: dict | None = None) -> requests.Response:
        """GET with the access token; throttling and 5xx retried (bounded), every failure a SourceError."""
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            headers = {"Authorization": f"Bearer {self._access_token()}", "Prefer": f"odata.maxpagesize={PAGE_SIZE}"}
            try:
                response = self._http().get(
                    url, params=params, headers=headers, stream=stream, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
                )
            except (requests.RequestException, OSError) as error:
                raise self._fail(f"cannot reach Microsoft Graph while {doing} ({type(error).__name__})") from None
            status = response.status_code
            if status < 400:
                return response
            if status in RETRY_STATUSES and attempt < MAX_ATTEMPTS:
                wait = self._retry_after(response)
                if wait is None:
                    wait = self.retry_backoff * 2 ** (attempt - 1)
                if wait > MAX_RETRY_WAIT:
                    response.close()
                    raise self._fail(
                        f"Microsoft Graph asked to wait {wait:.0f} s ({status}) while {doing}; the next run resumes"
                    )
                response.close()
                logger.info(
                    "Source %s: Graph answered %s while %s, retrying in %.1f s", self.settings.name, status, doing, wait
                )
                time.sleep(wait)
                continue
            if status == 401 and not renewed:
                # The token may have been revoked or expired early: ask for a new one, once.
                response.close()
                renewed = True
                self._token = None
                self._app = None
                continue
            raise self._http_error(response, doing)

    def _http_error(self, response: requests.Response, doing: str) -> GraphHttpError:
        status = response.status_code
        detail = self._error_text(response)
        response.close()
        return GraphHttpError(str(self._describe(status, detail, doing)), status)

    def _describe(self, status: int, detail: str, doing: str) -> SourceError:
        account = self.settings.account
        if status == 401:
            return self._fail(f"Microsoft Graph refused the access token for {account} while {doing} (401 {detail})")
        if status == 403:
            return self._fail(
                f"Microsoft Graph denied access to mailbox {account} while {doing} (403 {detail}); the application "
                "needs the Mail.Read application permission, with admin consent, and an application access policy "
                "that includes this mailbox"
            )
        if status == 404:
            return self._fail(f"mailbox {account} or its folder was not found while {doing} (404 {detail})")
        if status in RETRY_STATUSES:
            return self._fail(f"Microsoft Graph kept answering {status} while {doing}, after {MAX_ATTEMPTS} attempts")
        return self._fail(f"Microsoft Graph error {status} while {doing}: {detail}")

    def close(self) -> None:
        """Close the HTTP session and drop the msal client application."""
        session, self._session = self._session, None
        self._app = None
        if session is not None:
            session.close()

    # -- folders ---------------------------------------------------------------------------------------
    def _find_folder(self, url: str, name: str, doing: str) -> str:
        escaped = name.replace("'", "''")
        response = self._get(url, doing, params={"$filter": f"displayName eq '{escaped}'", "$select": "id,displayName"})
        found = response.json().get("value", [])
        if not found:
            raise self._fail(f"folder {self.folder!r} not found in mailbox {self.settings.account}")
        return found[0]["id"]

    def folder_id(self) -> str:
        """The id (or well-known name) of the configured folder, e.g. `inbox` or `Inbox/Maintenance`."""
        if self._folder_id is None:
            parts = [part for part in self.folder.split("/") if part]
            if not parts:
                raise self._fail(f"folder {self.folder!r} is not a folder name")
            first = parts[0]
            if first.lower() in WELL_KNOWN_FOLDERS:
                current = first.lower()
            else:
                current = self._find_folder(f"{self.mailbox_url}/mailFolders", first, "looking up the folder")
            for part in parts[1:]:
                current = self._find_folder(
                    f"{self.mailbox_url}/mailFolders/{quote(current, safe='')}/childFolders",
                    part,
                    "looking up the folder",
                )
            self._folder_id = current
        return self._folder_id

    def test_connection(self) -> str:
        """The mailbox, its folder's display name and its message count."""
        folder = self.folder_id()
        response = self._get(
            f"{self.mailbox_url}/mailFolders/{quote(folder, safe='')}",
            "opening the folder",
            params={"$select": "displayName,totalItemCount"},
        )
        info = response.json()
        return (
            f"Microsoft 365 {self.settings.account}, folder {info.get('displayName', self.folder)}: "
            f"{info.get('totalItemCount', 0)} messages"
        )

    # -- fetch -----------------------------------------------------------------------------------------
    def _first_link(self, since: datetime) -> tuple[str, dict[str, str]]:
        stamp = since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        url = f"{self.mailbox_url}/mailFolders/{quote(self.folder_id(), safe='')}/messages/delta"
        return url, {"$select": "id,receivedDateTime", "$filter": f"receivedDateTime ge {stamp}"}

    def _cursor_usable(self, cursor: dict[str, Any]) -> bool:
        link = cursor.get("link")
        return (
            isinstance(link, str)
            and link.startswith(self.api + "/")
            and cursor.get("account") == self.settings.account
            and cursor.get("folder") == self.folder
        )

    def _cursor(self, link: str, seen: list[str]) -> dict[str, Any]:
        return {"account": self.settings.account, "folder": self.folder, "link": link, "seen": list(seen)}

    def _download(self, message_id: str) -> tuple[bytes, int | None] | None:
        """The message's MIME (its head only when it is over the bound) and its full size when cut; None if gone."""
        url = f"{self.mailbox_url}/messages/{quote(message_id, safe='')}/$value"
        try:
            response = self._get(url, "reading a message", stream=True)
        except GraphHttpError as error:
            if error.status == 404:
                return None  # deleted between the listing and the read
            raise
        with response:
            declared = response.headers.get("Content-Length", "")
            declared_size = int(declared) if declared.isdigit() else None
            if declared_size is not None and self.oversized(declared_size):
                head = response.raw.read(HEAD_BYTES, decode_content=True)
                return head, declared_size
            kept = bytearray()
            total = 0
            try:
                for chunk in response.iter_content(CHUNK_BYTES):
                    total += len(chunk)
                    if not self.oversized(total):
                        kept.extend(chunk)
                    elif len(kept) < HEAD_BYTES:
                        kept.extend(chunk[: HEAD_BYTES - len(kept)])
                        del kept[HEAD_BYTES:]
            except (requests.RequestException, OSError) as error:
                raise self._fail(
                    f"cannot reach Microsoft Graph while reading a message ({type(error).__name__})"
                ) from None
        if self.oversized(total):
            return bytes(kept[:HEAD_BYTES]), total
        return bytes(kept), None

    def fetch(self, cursor: dict[str, Any] | None, since: datetime) -> Iterator[FetchBatch]:
        """Yield the folder's new messages, resuming from the cursor's delta link while it is still valid."""
        cursor = cursor or {}
        if self._cursor_usable(cursor):
            link, params = cursor["link"], None
            seen = [str(item) for item in cursor.get("seen", [])]
            resumed = True
        else:
            link, params = self._first_link(since)
            seen, resumed = [], False
        batch: list[FetchedMessage] = []
        batch_bytes = 0
        while True:
            try:
                response = self._get(link, "reading the folder's changes", params=params)
            except GraphHttpError as error:
                if resumed and error.status in EXPIRED_STATUSES:
                    logger.info("Source %s: the delta link expired, reading the folder again", self.settings.name)
                    link, params = self._first_link(since)
                    seen, resumed = [], False
                    continue
                raise
            page = response.json()
            page_url = response.url if params else link
            already = set(seen)
            for item in page.get("value", []):
                message_id = item.get("id")
                if not message_id or "@removed" in item or message_id in already:
                    continue
                got = self._download(message_id)
                seen.append(message_id)
                already.add(message_id)
                if got is None:
                    continue
                raw, size = got
                batch.append(
                    FetchedMessage(
                        raw=raw,
                        received=_received(item.get("receivedDateTime")),
                        location=f"graph:{message_id}",
                        size=size,
                    )
                )
                batch_bytes += len(raw)
                if len(batch) >= self.batch_size or batch_bytes >= self.batch_bytes:
                    yield FetchBatch(batch, self._cursor(page_url, seen))
                    batch, batch_bytes = [], 0
            next_link = page.get("@odata.nextLink")
            delta_link = page.get("@odata.deltaLink")
            if next_link:
                link, params, seen, resumed = next_link, None, [], False
                continue
            if not delta_link:
                raise self._fail("Microsoft Graph ended the changes without a delta link")
            yield FetchBatch(batch, self._cursor(delta_link, []))
            return
