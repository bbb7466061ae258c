"""A Gmail (Google Workspace) mailbox read through the Gmail API, with the read-only scope.

Configured as in the older app: `url` https://accounts.google.com/o/oauth2/auth, `account` (the
mailbox; the user a service account impersonates), `credentials_file` (a service-account key with
domain-wide delegation, an authorized-user file holding a refresh token, or an OAuth client whose
consent a user gave through Validate), optional
`extra_scopes`, `labels` and `limit_emails_with_not_header_from`; `api_batch_size` (1 to 100,
default 50) is how many `messages.get` calls go in one HTTP batch request (gmail_batch.py), 1 for a
request per message.

The cursor is the Gmail search bound `after` (Unix seconds) plus the ids already read at or after it.
It moves forward only when a listing has been read to its end, and keeps an hour of overlap,
because Gmail makes a message searchable a little after it stamps its date.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httplib2
from google.auth.exceptions import GoogleAuthError, RefreshError
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import BatchError, HttpError

from nautobot_ssot_circuit_maintenance.config import SourceSettings
from nautobot_ssot_circuit_maintenance.intake.sources.base import (
    HEAD_BYTES,
    FetchBatch,
    FetchedMessage,
    MailboxSource,
    SourceError,
    sized_batches,
)
from nautobot_ssot_circuit_maintenance.intake.sources.gmail_batch import (
    DEFAULT_PER_BATCH,
    UNREACHABLE,
    MessageReader,
    batch_uri,
)

GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - an endpoint, not a secret
OVERLAP_SECONDS = 3600
# Beyond this, a `from:` filter is dropped and every message is read (classification still applies).
MAX_QUERY_LENGTH = 1500
HTTP_TIMEOUT = 60
# The most mail (by Gmail's size estimates) one batch answer carries; a larger message is read alone.
REQUEST_BYTES = 16 * 1024 * 1024


def credentials_text(extra: dict[str, Any]) -> str:
    """The credentials file's content: from a Nautobot secret (`credentials_info`) or the file. Raises OSError."""
    if extra.get("credentials_info"):
        return extra["credentials_info"]
    return Path(extra.get("credentials_file", "")).read_text(encoding="utf-8")


def _seconds(internal_date_ms: str | int) -> int:
    return int(internal_date_ms) // 1000


# -- a Gmail source's credentials, shared with the consent flow (intake/oauth.py) -----------------------------
def gmail_scopes(extra: dict[str, Any]) -> list[str]:
    """The read-only scope first, then the source's `extra_scopes` (e.g. gmail.modify for labels)."""
    return [GMAIL_READONLY, *(s for s in extra.get("extra_scopes", []) if s != GMAIL_READONLY)]


def read_credentials_file(settings: SourceSettings) -> dict[str, Any]:
    """The JSON object of a Gmail source's credentials (file or `credentials_info`); SourceError (no content quoted)."""
    try:
        info = json.loads(credentials_text(settings.extra or {}))
    except OSError as error:
        raise SourceError(
            f"Source {settings.name}: cannot read the credentials file ({error.strerror or type(error).__name__})"
        ) from None
    except ValueError:
        raise SourceError(f"Source {settings.name}: the credentials file is not JSON") from None
    if not isinstance(info, dict):
        raise SourceError(f"Source {settings.name}: the credentials file is not a JSON object")
    return info


def oauth_client_config(info: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """A credentials file's OAuth client (`web` or `installed`) in Google's client-secrets shape.

    Google's endpoints fill in where the file leaves them out; None when the file holds other credentials.
    """
    for kind in ("web", "installed"):
        client = info.get(kind)
        if isinstance(client, dict):
            return {kind: {"auth_uri": GOOGLE_AUTH_URI, "token_uri": GOOGLE_TOKEN_URI, **client}}
    return None


class GmailSource(MailboxSource):
    """A Gmail mailbox read through the Gmail API, its cursor the search bound and the ids read at it."""

    batch_size = 100
    # Seconds before a throttled call is sent again; doubled at each further attempt (see gmail_batch).
    retry_delay = 1.0

    def __init__(self, settings):
        """Keep the source's `extra` settings; the API service and credentials are made when first needed."""
        super().__init__(settings)
        self.extra: dict[str, Any] = settings.extra or {}
        self._service = None
        self._creds = None
        self.senders: list[str] = []

    # -- connection ------------------------------------------------------------------------------------
    def _fail(self, what: str) -> SourceError:
        return SourceError(f"Source {self.settings.name}: {what}")

    def scopes(self) -> list[str]:
        """The OAuth scopes requested: read-only first, then the source's `extra_scopes`."""
        return gmail_scopes(self.extra)

    def _credentials(self):
        info = read_credentials_file(self.settings)
        kind = info.get("type")
        try:
            if kind == "service_account":
                return service_account.Credentials.from_service_account_info(
                    info, scopes=self.scopes(), subject=self.settings.account
                )
            if kind == "authorized_user":
                creds = user_credentials.Credentials.from_authorized_user_info(info, scopes=self.scopes())
                # google-auth always sets Google's token endpoint here; honour the file's own, as for service accounts.
                return creds.with_token_uri(info["token_uri"]) if info.get("token_uri") else creds
        except (ValueError, KeyError, GoogleAuthError):
            raise self._fail(f"the {kind} credentials file is incomplete or malformed") from None
        client_config = oauth_client_config(info)
        if client_config is not None:
            (client,) = client_config.values()
            refresh_token = self.extra.get("oauth_refresh_token")
            if not refresh_token:
                raise self._fail(
                    "the credentials file is an OAuth client, which needs a one-time consent: "
                    "open the source in Notification Sources and press Validate"
                )
            try:
                return user_credentials.Credentials(
                    None,
                    refresh_token=refresh_token,
                    token_uri=client["token_uri"],
                    client_id=client["client_id"],
                    client_secret=client.get("client_secret"),
                    scopes=self.scopes(),
                )
            except KeyError:
                raise self._fail("the OAuth client in the credentials file has no client_id") from None
        raise self._fail("the credentials file is neither a service account key nor an authorized-user file")

    def runtime_secrets(self) -> list[str]:
        """The access token Google issued to this run, should a server echo it."""
        return [self._creds.token] if self._creds is not None and self._creds.token else []

    def _gmail(self):
        if self._service is None:
            self._creds = self._credentials()
            http = AuthorizedHttp(self._creds, http=httplib2.Http(timeout=HTTP_TIMEOUT))
            endpoint = self.extra.get("api_endpoint")
            self._service = build(
                "gmail",
                "v1",
                http=http,
                static_discovery=True,
                cache_discovery=False,
                client_options={"api_endpoint": endpoint} if endpoint else None,
            )
        return self._service

    @contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        """Every failure of the Google client stack becomes a SourceError an operator can read.

        A server's answer is scrubbed before it is shortened, so no prefix of a secret survives the cut.
        """
        try:
            yield
        except RefreshError as error:
            reason = str(error.args[0]) if error.args else "refused"
            raise self._fail(
                f"Google refused the credentials for {self.settings.account}: {self.scrub(reason)[:200]}"
            ) from None
        except BatchError as error:
            raise self._fail(f"the Gmail API gave a malformed batch answer while {doing}: {error.reason}") from None
        except HttpError as error:
            reason = error.reason if isinstance(error.reason, str) else ""
            raise self._fail(f"Gmail API error {error.status_code} while {doing}: {self.scrub(reason)[:200]}") from None
        except UNREACHABLE as error:
            raise self._fail(f"cannot reach the Gmail API while {doing} ({type(error).__name__})") from None

    def _call(self, request, doing: str) -> dict:
        """Execute one API request (the client retries it twice on 429 and 5xx)."""
        with self._translated(doing):
            return request.execute(num_retries=2)

    def close(self) -> None:
        """Drop the API service."""
        self._service = None

    def test_connection(self) -> str:
        """The mailbox's address and message count, read from its Gmail profile."""
        profile = self._call(self._gmail().users().getProfile(userId="me"), "reading the profile")
        return f"Gmail {profile.get('emailAddress', self.settings.account)}, {profile.get('messagesTotal', 0)} messages"

    # -- fetch -----------------------------------------------------------------------------------------
    def restrict_to_senders(self, addresses: list[str]) -> None:
        """Search only the mail from these addresses and `@domain`s (when the sender header is From)."""
        self.senders = sorted(set(addresses))

    def query(self, after: int) -> str:
        """The Gmail search: newer than `after`, from the providers' addresses when the sender header is From."""
        if self.settings.source_header.lower() == "from":
            senders = self.senders
        else:
            senders = sorted(self.extra.get("limit_emails_with_not_header_from", []))
        query = f"after:{after}"
        if senders:
            with_senders = f"{query} from:({' OR '.join(address.lstrip('@') for address in senders)})"
            if len(with_senders) <= MAX_QUERY_LENGTH:
                query = with_senders
        return query

    def _list_ids(self, query: str) -> list[str]:
        messages = self._gmail().users().messages()
        ids: list[str] = []
        page_token = None
        while True:
            response = self._call(
                messages.list(userId="me", q=query, maxResults=500, pageToken=page_token), "listing messages"
            )
            ids.extend(item["id"] for item in response.get("messages", []))
            page_token = response.get("nextPageToken")
            if not page_token:
                return ids

    def _reader(self) -> MessageReader:
        return MessageReader(
            self._gmail().users().messages(),
            uri=batch_uri(self.extra.get("api_endpoint")),
            per_batch=int(self.extra.get("api_batch_size", DEFAULT_PER_BATCH)),
            delay=self.retry_delay,
        )

    def _read(self, ids: list[str]) -> Iterator[tuple[str, dict]]:
        """Each id's message in raw format, in order; a message deleted since the listing is skipped.

        In batches, Gmail's size estimates come first (format=minimal, a few bytes each), so that one
        batch answer carries at most REQUEST_BYTES of mail; a larger message is read alone.
        """
        reader = self._reader()
        if reader.per_batch == 1:
            groups: Iterator[list[str]] = iter([message_id] for message_id in ids)
        else:
            with self._translated("sizing messages"):
                sizes = reader.get(ids, format="minimal", fields="id,sizeEstimate")
            present = [message_id for message_id in ids if message_id in sizes]
            estimates = [int(sizes[message_id].get("sizeEstimate") or 0) for message_id in present]
            budget = min(self.batch_bytes, REQUEST_BYTES)
            groups = sized_batches(present, estimates, count=reader.per_batch, max_bytes=budget)
        for group in groups:
            with self._translated("reading messages"):
                found = reader.get(group, format="raw")
            for message_id in group:
                if message_id in found:
                    yield message_id, found.pop(message_id)

    def _message(self, message_id: str, data: dict, seen: dict[str, int]) -> FetchedMessage:
        received = _seconds(data.get("internalDate", 0))
        seen[message_id] = received
        encoded = data.pop("raw")
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        del encoded
        size = len(raw)
        if self.oversized(size):
            # Gmail has no header-only read: keep the head, drop the rest at once.
            raw = raw[:HEAD_BYTES]
        return FetchedMessage(
            raw=raw,
            received=datetime.fromtimestamp(received, tz=timezone.utc),
            location=f"gmail:{message_id}",
            size=size if self.oversized(size) else None,
        )

    def fetch(self, cursor: dict[str, Any] | None, since: datetime) -> Iterator[FetchBatch]:
        """Yield the messages after the cursor's bound, oldest first, in batches bounded by count and bytes."""
        cursor = cursor or {}
        after = int(cursor.get("after", since.timestamp()))
        seen: dict[str, int] = dict(cursor.get("seen", {}))
        # Gmail lists newest first; read oldest first.
        pending = [message_id for message_id in reversed(self._list_ids(self.query(after))) if message_id not in seen]
        last_id = pending[-1] if pending else None
        batch: list[FetchedMessage] = []
        batch_bytes = 0
        for start in range(0, len(pending), self.batch_size):
            for message_id, data in self._read(pending[start : start + self.batch_size]):
                message = self._message(message_id, data, seen)
                del data
                batch.append(message)
                batch_bytes += len(message.raw)
                if message_id != last_id and (len(batch) >= self.batch_size or batch_bytes >= self.batch_bytes):
                    yield FetchBatch(batch, self._cursor(after, seen, final=False))
                    batch, batch_bytes = [], 0
        yield FetchBatch(batch, self._cursor(after, seen, final=True))

    @staticmethod
    def _cursor(after: int, seen: dict[str, int], *, final: bool) -> dict[str, Any]:
        if not final:
            # Part of the listing is still unread: keep the bound, remember what is read.
            return {"after": after, "seen": dict(seen)}
        newest = max(seen.values(), default=after)
        new_after = max(after, newest - OVERLAP_SECONDS)
        return {"after": new_after, "seen": {mid: ts for mid, ts in seen.items() if ts >= new_after}}

    # -- labels ----------------------------------------------------------------------------------------
    def mark(self, outcomes: dict[str, list[str]]) -> list[str]:
        """Add the configured Gmail label of each outcome to its messages; return problems (never raises)."""
        labels: dict[str, str] = self.extra.get("labels") or {}
        problems = []
        for outcome, locations in outcomes.items():
            label = labels.get(outcome)
            ids = [location.split(":", 1)[1] for location in locations if location.startswith("gmail:")]
            if not label or not ids:
                continue
            for start in range(0, len(ids), 1000):
                body = {"ids": ids[start : start + 1000], "addLabelIds": [label]}
                try:
                    self._call(
                        self._gmail().users().messages().batchModify(userId="me", body=body), f"labelling {outcome}"
                    )
                except SourceError as error:
                    problems.append(str(error))
                    break
        return problems
