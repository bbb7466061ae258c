"""A loopback HTTPS server playing Microsoft Entra ID (Azure AD) and Microsoft Graph, for the Microsoft 365 source.

The real msal and requests talk to it, over TLS with a throwaway CA (`tests.servers.dovecot.make_certificates`),
because msal only accepts https authorities:

- the identity platform: the tenant's OpenID discovery document (`/{tenant}/v2.0/.well-known/openid-configuration`)
  and its v2.0 token endpoint, client-credentials grants only, with a client secret or a certificate
  assertion (a JWT whose signature is checked against the certificate registered here);
- Graph: mail folders (well-known names, display-name lookup, child folders), the folder's
  `messages/delta` with `$filter=receivedDateTime ge …`, paging by `@odata.nextLink` (page size from
  `Prefer: odata.maxpagesize`, capped by `page_size`), a `@odata.deltaLink` at the end of a round that
  later returns only what changed, and `/messages/{id}/$value` (the MIME). Requests need a bearer token
  this server issued for the Mail.Read role, on a mailbox its application access policy allows.

Hostile modes: `throttle(n, retry_after)` answers the next n Graph calls 429, `unavailable(n)` 503,
`revoke_secret()` refuses the secret and every token issued with it (Microsoft's AADSTS7000222),
`expire_delta_links()` makes every earlier delta and skip token answer 410, `drop_values_after` cuts
the connection on MIME reads beyond that count, and `echo_requests` makes every error repeat what the
request carried (the token form, the Authorization header), as some servers and proxies do.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import shutil
import ssl
import tempfile
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.servers.dovecot import make_certificates

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def client_certificate() -> tuple[str, rsa.RSAPrivateKey]:
    """A self-signed certificate for an app registration: (PEM of key + certificate, the key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "circuit-maintenance-sync")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + cert.public_bytes(serialization.Encoding.PEM)
    return pem.decode(), key


@dataclass
class StoredMail:
    id: str
    folder: str
    raw: bytes
    received: datetime
    changed: int  # the change number of its last change
    deleted: bool = False


def _token(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _untoken(value: str) -> dict | None:
    try:
        payload = json.loads(base64.urlsafe_b64decode(value.encode()))
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


class FakeGraph:
    def __init__(self, account: str = "noc@example.net", page_size: int = 3):
        self.tenant_id = str(uuid.uuid4())
        self.client_id = str(uuid.uuid4())
        self.client_secret = "Xy8Q~" + secrets.token_urlsafe(24)
        self.certificate_pem, self._cert_key = client_certificate()
        self.account = account
        self.allowed_mailboxes = {account}
        self.page_size = page_size
        self.roles = ["Mail.Read"]
        # folder id -> (display name, parent id or None); "inbox" is the well-known Inbox.
        self.folders: dict[str, tuple[str, str | None]] = {"inbox": ("Inbox", None)}
        self.mail: list[StoredMail] = []
        self.change = 0
        self.generation = 0
        self.tokens: dict[str, str] = {}  # access token -> how it was granted ("secret" or "certificate")
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.grants: list[dict] = []  # every token request's form (for the tests)
        self.echo_requests = False
        self.secret_revoked = False
        self._throttle = 0
        self._throttle_status = 429
        self.retry_after: str | None = "0"
        self.value_reads = 0
        self.drop_values_after: int | None = None
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._dir: Path | None = None
        self.ca_file = ""
        self.port = 0

    # -- life cycle ------------------------------------------------------------------------------------
    def start(self) -> FakeGraph:
        fake = self

        class Handler(GraphHandler):
            graph = fake

        self._dir = Path(tempfile.mkdtemp(prefix="cm-graph-tls-"))
        ca_file, cert_file, key_file = make_certificates(self._dir)
        self.ca_file = str(ca_file)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def source_keys(self, **extra) -> dict:
        """The configuration keys of a source reading this mailbox (secret included)."""
        return {
            "url": "https://graph.microsoft.com/",
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "account": self.account,
            "authority_host": self.url,
            "api_endpoint": self.url,
            "ca_file": self.ca_file,
            **extra,
        }

    # -- mailbox ---------------------------------------------------------------------------------------
    def add_folder(self, name: str, parent: str | None = None) -> str:
        folder_id = "AAMk" + secrets.token_urlsafe(12)
        self.folders[folder_id] = (name, parent)
        return folder_id

    def add(self, raw: bytes, received: datetime, folder: str = "inbox") -> str:
        with self.lock:
            self.change += 1
            # Graph ids are long, URL-safe base64 with '=' and '-' in them.
            message_id = "AAMkAGI2TG93AAA=" + secrets.token_urlsafe(40) + f"-{len(self.mail) + 1}"
            self.mail.append(StoredMail(message_id, folder, raw, received.astimezone(timezone.utc), self.change))
            return message_id

    def touch(self, message_id: str) -> None:
        """Change a message (a flag set by a reader): it shows up in the next delta again."""
        with self.lock:
            self.change += 1
            next(m for m in self.mail if m.id == message_id).changed = self.change

    def delete(self, message_id: str) -> None:
        with self.lock:
            self.change += 1
            mail = next(m for m in self.mail if m.id == message_id)
            mail.deleted, mail.changed = True, self.change

    def throttle(self, count: int, retry_after: str | None = "0", status: int = 429) -> None:
        with self.lock:
            self._throttle, self._throttle_status, self.retry_after = count, status, retry_after

    def unavailable(self, count: int, retry_after: str | None = None) -> None:
        self.throttle(count, retry_after, status=503)

    def revoke_secret(self) -> None:
        with self.lock:
            self.secret_revoked = True
            self.tokens = {token: how for token, how in self.tokens.items() if how != "secret"}

    def expire_delta_links(self) -> None:
        with self.lock:
            self.generation += 1

    def graph_requests(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path in self.requests if path.startswith("/v1.0/")]

    # -- identity platform -----------------------------------------------------------------------------
    def token_endpoint(self) -> str:
        return f"{self.url}/{self.tenant_id}/oauth2/v2.0/token"

    def discovery(self) -> dict:
        base = f"{self.url}/{self.tenant_id}"
        return {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": self.token_endpoint(),
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{self.url}/{self.tenant_id}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        }

    def check_assertion(self, assertion: str) -> bool:
        try:
            claims = jwt.decode(
                assertion,
                key=self._cert_key.public_key(),
                algorithms=["RS256", "PS256"],
                audience=self.token_endpoint(),
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.PyJWTError:
            return False
        return claims.get("iss") == self.client_id and claims.get("sub") == self.client_id

    def issue(self, how: str) -> dict:
        token = "eyJ0eXAiOiJKV1QiLCJub25jZSI6" + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = how
        return {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}

    # -- delta -----------------------------------------------------------------------------------------
    def delta_page(self, folder: str, state: dict, page_size: int) -> dict:
        """One page of a round: changes after `since` (a change number), received at or after `after`."""
        with self.lock:
            since, after, offset = state.get("since", 0), state.get("after"), state.get("offset", 0)
            snapshot = state.get("snapshot", self.change)
            found = [
                m
                for m in self.mail
                if m.folder == folder
                and since < m.changed <= snapshot
                and (after is None or m.received >= datetime.fromisoformat(after))
                and not (m.deleted and since == 0)
            ]
            found.sort(key=lambda m: m.changed)
            page = found[offset : offset + page_size]
            generation = self.generation
        items = []
        for mail in page:
            if mail.deleted:
                items.append({"id": mail.id, "@removed": {"reason": "deleted"}})
            else:
                items.append(
                    {
                        "@odata.etag": f'W/"{mail.changed}"',
                        "id": mail.id,
                        "receivedDateTime": mail.received.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                )
        link = f"{self.url}/v1.0/users/{self.account}/mailFolders/{folder}/messages/delta"
        payload: dict = {"@odata.context": f"{self.url}/v1.0/$metadata#Collection(message)", "value": items}
        if offset + page_size < len(found):
            skip = {**state, "offset": offset + page_size, "snapshot": snapshot, "generation": generation}
            payload["@odata.nextLink"] = f"{link}?$skiptoken={_token(skip)}"
        else:
            delta = {"since": snapshot, "after": after, "generation": generation}
            payload["@odata.deltaLink"] = f"{link}?$deltatoken={_token(delta)}"
        return payload


class GraphHandler(BaseHTTPRequestHandler):
    graph: FakeGraph
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _reply(self, status: int, payload: dict, headers: dict | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _graph_error(self, status: int, code: str, message: str, headers: dict | None = None) -> None:
        if self.graph.echo_requests:
            authorization = self.headers.get("Authorization", "")
            message = f"{message} Authorization: {authorization} (token {authorization.split(' ')[-1]})"
        self._reply(status, {"error": {"code": code, "message": message}}, headers)

    def _oauth_error(self, status: int, error: str, description: str, body: str) -> None:
        payload = {
            "error": error,
            "error_description": description,
            "error_codes": [int(re.match(r"AADSTS(\d+)", description)[1])],
        }
        if self.graph.echo_requests:
            form = {key: values[0] for key, values in parse_qs(body).items()}
            payload["error_description"] = f"{description} Request was: {body}"
            payload["request"] = form
        self._reply(status, payload)

    # -- identity platform -----------------------------------------------------------------------------
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        graph = self.graph
        path = urlsplit(self.path).path
        graph.requests.append(("POST", path))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if path != f"/{graph.tenant_id}/oauth2/v2.0/token":
            self._graph_error(405, "ErrorInvalidRequest", "The OData request is not supported.")
            return
        form = {key: values[0] for key, values in parse_qs(body).items()}
        graph.grants.append(form)
        if form.get("grant_type") != "client_credentials":
            self._oauth_error(
                400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.", body
            )
            return
        if form.get("client_id") != graph.client_id:
            self._oauth_error(
                400, "unauthorized_client", f"AADSTS7000013: Application '{form.get('client_id')}' was not found.", body
            )
            return
        if form.get("scope") != GRAPH_DEFAULT_SCOPE:
            self._oauth_error(400, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid.", body)
            return
        if "client_secret" in form:
            if graph.secret_revoked:
                self._oauth_error(
                    401,
                    "invalid_client",
                    f"AADSTS7000222: The provided client secret keys for app '{graph.client_id}' are expired.",
                    body,
                )
                return
            if form["client_secret"] != graph.client_secret:
                self._oauth_error(
                    401,
                    "invalid_client",
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request "
                    "is the client secret value, not the client secret ID, for a secret added to app "
                    f"'{graph.client_id}'.",
                    body,
                )
                return
            self._reply(200, graph.issue("secret"))
            return
        if form.get("client_assertion_type") == ASSERTION_TYPE and graph.check_assertion(
            form.get("client_assertion", "")
        ):
            self._reply(200, graph.issue("certificate"))
            return
        self._oauth_error(
            401,
            "invalid_client",
            "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on "
            "application.",
            body,
        )

    # -- Graph -----------------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        graph = self.graph
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        graph.requests.append(("GET", path))
        if path == f"/{graph.tenant_id}/v2.0/.well-known/openid-configuration":
            self._reply(200, graph.discovery())
            return
        if path.endswith("/.well-known/openid-configuration"):
            self._reply(400, {"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant not found."})
            return
        if not path.startswith("/v1.0/"):
            self._graph_error(404, "NotFound", "Resource not found.")
            return
        authorization = self.headers.get("Authorization", "")
        if not authorization.startswith("Bearer ") or authorization[7:] not in graph.tokens:
            self._graph_error(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
            return
        with graph.lock:
            throttled = graph._throttle > 0
            if throttled:
                graph._throttle -= 1
                status, retry_after = graph._throttle_status, graph.retry_after
        if throttled:
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            code = "TooManyRequests" if status == 429 else "ServiceUnavailable"
            self._graph_error(status, code, "Application is over its MailboxConcurrency limit.", headers)
            return
        segments = path.split("/")[2:]  # users, {account}, ...
        if len(segments) < 3 or segments[0] != "users":
            self._graph_error(400, "BadRequest", "Unsupported request.")
            return
        if "Mail.Read" not in graph.roles:
            self._graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
            return
        if segments[1].lower() not in {m.lower() for m in graph.allowed_mailboxes}:
            self._graph_error(
                403,
                "ErrorAccessDenied",
                "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings.",
            )
            return
        if segments[1].lower() != graph.account.lower():
            self._graph_error(404, "ErrorInvalidUser", f"The requested user '{segments[1]}' is invalid.")
            return
        self._mailbox(segments[2:], query)

    def _folder_listing(self, parent: str | None, query: dict) -> None:
        wanted = None
        flt = query.get("$filter", "")
        if flt.startswith("displayName eq '") and flt.endswith("'"):
            wanted = flt[len("displayName eq '") : -1].replace("''", "'")
        value = [
            {"id": folder_id, "displayName": name}
            for folder_id, (name, folder_parent) in self.graph.folders.items()
            if folder_parent == parent and (wanted is None or name.lower() == wanted.lower())
        ]
        self._reply(200, {"value": value})

    def _mailbox(self, rest: list[str], query: dict) -> None:
        graph = self.graph
        if rest == ["mailFolders"]:
            self._folder_listing(None, query)
            return
        if len(rest) >= 2 and rest[0] == "mailFolders":
            folder = rest[1].lower() if rest[1].lower() == "inbox" else rest[1]
            if folder not in graph.folders:
                self._graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
                return
            if rest[2:] == []:
                count = sum(1 for m in graph.mail if m.folder == folder and not m.deleted)
                self._reply(200, {"id": folder, "displayName": graph.folders[folder][0], "totalItemCount": count})
                return
            if rest[2:] == ["childFolders"]:
                self._folder_listing(folder, query)
                return
            if rest[2:] == ["messages", "delta"]:
                self._delta(folder, query)
                return
        if len(rest) == 3 and rest[0] == "messages" and rest[2] == "$value":
            self._value(rest[1])
            return
        self._graph_error(400, "BadRequest", "Unsupported request.")

    def _delta(self, folder: str, query: dict) -> None:
        graph = self.graph
        prefer = self.headers.get("Prefer", "")
        page_size = graph.page_size
        if prefer.startswith("odata.maxpagesize="):
            page_size = min(page_size, int(prefer.split("=", 1)[1]))
        token = query.get("$skiptoken") or query.get("$deltatoken")
        if token:
            state = _untoken(token)
            if state is None or state.get("generation") != graph.generation:
                self._graph_error(410, "SyncStateNotFound", "The sync state generation is not found.")
                return
        else:
            flt = query.get("$filter", "")
            if flt and not flt.startswith("receivedDateTime ge "):
                self._graph_error(
                    400, "ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes."
                )
                return
            after = flt.removeprefix("receivedDateTime ge ") or None
            if after:
                after = datetime.fromisoformat(after.replace("Z", "+00:00")).isoformat()
            state = {"since": 0, "after": after}
        self._reply(200, graph.delta_page(folder, state, page_size))

    def _value(self, message_id: str) -> None:
        graph = self.graph
        with graph.lock:
            graph.value_reads += 1
            dropping = graph.drop_values_after is not None and graph.value_reads > graph.drop_values_after
        if dropping:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        mail = next((m for m in graph.mail if m.id == message_id and not m.deleted), None)
        if mail is None:
            self._graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            return
        self._send(200, mail.raw, "text/plain")
