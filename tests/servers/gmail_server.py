"""A small loopback HTTP server speaking what the Gmail source uses of Google's APIs.

The real google-api-python-client and google-auth talk to it: the OAuth token endpoint (service
account JWT grants, whose signatures are checked against the key this server issued, and refresh
tokens) and the Gmail API (profile, messages.list with `after:`/`from:` and paging, messages.get
in raw and minimal format, messages.batchModify), alone or inside HTTP batch requests (`POST
/batch/gmail/v1`, answered part by part as Google does). Requests need the bearer token it issued,
with the scope. `requests` counts every HTTP request received, `batches` the batch requests.
`batch_calls` the number of calls in each batch request. `fail(message_id, status)` makes the next
read of a message answer an error (429, 404, 500…), once per call, whether alone or as one part of a batch.

Google's consent for OAuth clients: `GET /auth` is the consent page of a user who agrees (or, with
`deny_consent`, refuses): it checks the client and its registered redirect URI and answers with the
redirect back, carrying a one-time code and the state. The token endpoint redeems a code once, for
the client it was issued to (Basic or form credentials), the same redirect URI, and, when the
consent carried a PKCE challenge, the code verifier whose S256 hash it is.

Hostile modes, for the secrets tests: `refuse_grants` makes the token endpoint refuse every grant,
`refuse_api` makes the Gmail API refuse every call, and `echo_requests` makes every error answer
repeat what the request carried (the token endpoint's form body and Authorization header, the API's
Authorization header and the bare access token), as some servers and proxies do.
"""

from __future__ import annotations

import base64
import email
import hashlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import getaddresses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

from .gmail_api import BATCH_PATH, MODIFY, READONLY, GmailApi

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-auth signs service-account grants for Google's token endpoint, wherever `token_uri` points.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


def new_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _key_id(assertion: str) -> str:
    """The `kid` a JWT grant names in its header (unverified), as a token endpoint would quote it."""
    header = assertion.split(".", 1)[0]
    try:
        return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))).get("kid", "")
    except ValueError:
        return ""


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a code verifier (RFC 7636)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


@dataclass
class IssuedCode:
    redirect_uri: str
    scopes: set[str]
    challenge: str | None = None
    challenge_method: str | None = None


@dataclass
class StoredMail:
    id: str
    raw: bytes
    internal_ms: int
    labels: set[str] = field(default_factory=set)

    @property
    def senders(self) -> list[str]:
        headers = email.message_from_bytes(self.raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n")
        return [address.lower() for _, address in getaddresses(headers.get_all("From", []))]


class FakeGmail:
    def __init__(self, account: str = "noc@example.net", page_size: int = 3):
        self.account = account
        self.page_size = page_size
        self.key = new_private_key()
        self.client_email = "cm-sync@example-project.iam.gserviceaccount.com"
        self.refresh_token = secrets.token_urlsafe(16)
        self.client_id = "web-client-1.apps.googleusercontent.com"
        self.client_secret = "web-client-secret-1"
        self.redirect_uris = ["http://nautobot.example.com/plugins/circuit-maintenance/source/google_oauth2callback/"]
        # consent code → what it was issued for
        self.codes: dict[str, IssuedCode] = {}
        # every consent page request and authorization-code grant, as Google received them (for assertions)
        self.consents: list[dict[str, str]] = []
        self.code_grants: list[dict[str, str]] = []
        self.deny_consent = False
        self.mail: list[StoredMail] = []
        self.tokens: dict[str, set[str]] = {}
        self.queries: list[str] = []
        # HTTP requests received (the token endpoint's too), and the number of calls in each batch request
        self.requests = 0
        self.batch_calls: list[int] = []
        # seconds each HTTP request waits before it is answered: a round trip to Google, for benchmarks
        self.latency = 0.0
        # message id → the (status, format) of its next failing reads, one per call (see `fail`)
        self.faults: dict[str, list[tuple[int, str | None]]] = {}
        # messages read in raw format; past `drop_gets_after` of them, the connection is dropped instead
        self.gets = 0
        self.drop_gets_after: int | None = None
        # how many of the next batch requests lose their connection before any answer
        self.drop_batches = 0
        self.echo_requests = False
        self.refuse_grants = False
        self.refuse_api = False
        self.authorized_client_secret = "client-secret-1"
        self.private_key_id = "k1"
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- life cycle ------------------------------------------------------------------------------------
    def start(self) -> FakeGmail:
        fake = self

        class Handler(GmailHandler):
            gmail = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- mailbox and credentials -----------------------------------------------------------------------
    def add(self, raw: bytes, received: datetime) -> str:
        with self.lock:
            message_id = f"{len(self.mail) + 1:016x}"
            self.mail.append(StoredMail(message_id, raw, int(received.timestamp() * 1000)))
            return message_id

    def fail(self, message_id: str, status: int, times: int = 1, form: str | None = None) -> None:
        """The next `times` reads of the message (in `form`at, else any; alone or in a batch) answer `status`."""
        with self.lock:
            self.faults.setdefault(message_id, []).extend([(status, form)] * times)

    def take_fault(self, message_id: str, form: str) -> int | None:
        with self.lock:
            faults = self.faults.get(message_id, [])
            for index, (status, wanted) in enumerate(faults):
                if wanted in (None, form):
                    del faults[index]
                    return status
            return None

    @property
    def batches(self) -> int:
        return len(self.batch_calls)

    def labels_of(self, message_id: str) -> set[str]:
        return next(m.labels for m in self.mail if m.id == message_id)

    def service_account_file(self, path: Path, key: rsa.RSAPrivateKey | None = None) -> Path:
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "example-project",
                    "private_key_id": self.private_key_id,
                    "private_key": private_pem(key or self.key),
                    "client_email": self.client_email,
                    "client_id": "1234567890",
                    "token_uri": f"{self.url}/token",
                }
            )
        )
        return path

    def authorized_user_file(self, path: Path, refresh_token: str | None = None) -> Path:
        path.write_text(
            json.dumps(
                {
                    "type": "authorized_user",
                    "client_id": "client-1.apps.googleusercontent.com",
                    "client_secret": self.authorized_client_secret,
                    "refresh_token": refresh_token or self.refresh_token,
                    "token_uri": f"{self.url}/token",
                }
            )
        )
        return path

    def web_client_file(self, path: Path) -> Path:
        path.write_text(
            json.dumps(
                {
                    "web": {
                        "client_id": self.client_id,
                        "client_secret": self.client_secret,
                        "auth_uri": f"{self.url}/auth",
                        "token_uri": f"{self.url}/token",
                        "redirect_uris": self.redirect_uris,
                    }
                }
            )
        )
        return path

    def consent(self, redirect_uri: str, scopes: set[str], challenge: str | None = None) -> str:
        """What Google's consent page does when the user agrees: a one-time code for this redirect URI."""
        code = secrets.token_urlsafe(12)
        self.codes[code] = IssuedCode(redirect_uri, scopes, challenge, "S256" if challenge else None)
        return code

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def issue(self, scopes: set[str]) -> dict:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = scopes
        return {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    # -- search ----------------------------------------------------------------------------------------
    def search(self, query: str) -> list[StoredMail]:
        after = re.search(r"after:(\d+)", query)
        senders = re.search(r"from:\(([^)]*)\)", query)
        terms = [term.strip().lower() for term in senders.group(1).split(" OR ")] if senders else []
        found = []
        for mail in self.mail:
            if after and mail.internal_ms // 1000 < int(after.group(1)):
                continue
            if terms and not any(term in address for term in terms for address in mail.senders):
                continue
            found.append(mail)
        return sorted(found, key=lambda m: m.internal_ms, reverse=True)


class GmailHandler(GmailApi, BaseHTTPRequestHandler):
    gmail: FakeGmail
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm and the client's delayed ACK, each
    # answer on a kept-alive connection would wait ~40 ms, a cost of this server that Google does not have.
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:
        pass

    def _reply(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str, reason: str) -> None:
        self._reply(*self._error_answer(status, message, reason, self.headers, f"{self.command} {self.path}"))

    def _error_answer(self, status: int, message: str, reason: str, headers, target: str) -> tuple[int, dict]:
        if self.gmail.echo_requests:
            header = headers.get("Authorization", "")
            token = header.split(" ")[-1]
            message = f"{message} Authorization: {header} (token {token}) on {target}"
        return status, {"error": {"code": status, "message": message, "status": reason}}

    def _grant_error(self, status: int, error: str, description: str, body: str) -> None:
        """An OAuth error; in echo mode its description repeats the request body, raw and as JSON."""
        payload = {"error": error, "error_description": description}
        if self.gmail.echo_requests:
            form = {key: values[0] for key, values in parse_qs(body).items()}
            rejected = form.get("refresh_token") or form.get("code") or _key_id(form.get("assertion", ""))
            authorization = self.headers.get("Authorization", "")
            payload["error_description"] = (
                f"{description} Rejected {rejected!r}. Request was: {body} Authorization: {authorization}"
            )
            payload["request"] = form
        self._reply(status, payload)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _scopes(self, headers=None) -> set[str] | None:
        header = (headers or self.headers).get("Authorization", "")
        token = header.removeprefix("Bearer ")
        return self.gmail.tokens.get(token) if header.startswith("Bearer ") else None

    # -- OAuth -----------------------------------------------------------------------------------------
    def _token(self) -> None:
        body = self._body().decode()
        form = {key: values[0] for key, values in parse_qs(body).items()}
        gmail = self.gmail
        if gmail.refuse_grants:
            self._grant_error(400, "invalid_grant", "Token has been expired or revoked.", body)
            return
        if form.get("grant_type") == JWT_GRANT:
            try:
                claims = jwt.decode(
                    form.get("assertion", ""),
                    certs=gmail.public_pem(),
                    audience=[GOOGLE_TOKEN_AUDIENCE, f"{gmail.url}/token"],
                )
            except ValueError:
                self._reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
                return
            if claims.get("iss") != gmail.client_email or claims.get("sub") != gmail.account:
                self._reply(401, {"error": "unauthorized_client", "error_description": "Client is unauthorized."})
                return
            self._reply(200, gmail.issue(set(claims.get("scope", "").split())))
            return
        if form.get("grant_type") == "authorization_code":
            gmail.code_grants.append({**form, "authorization": self.headers.get("Authorization", "")})
            client = self._client_credentials(form)
            if client != (gmail.client_id, gmail.client_secret):
                self._grant_error(401, "invalid_client", "Unauthorized", body)
                return
            issued = gmail.codes.pop(form.get("code", ""), None)
            if issued is None or issued.redirect_uri != form.get("redirect_uri"):
                self._grant_error(400, "invalid_grant", "Malformed auth code.", body)
                return
            if issued.challenge is not None:
                verifier = form.get("code_verifier")
                if not verifier:
                    self._grant_error(400, "invalid_grant", "Missing code verifier.", body)
                    return
                if s256(verifier) != issued.challenge:
                    self._grant_error(400, "invalid_grant", "Invalid code verifier.", body)
                    return
            gmail.refresh_token = secrets.token_urlsafe(16)
            token = gmail.issue(issued.scopes)
            self._reply(200, {**token, "scope": " ".join(sorted(issued.scopes)), "refresh_token": gmail.refresh_token})
            return
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") != gmail.refresh_token:
                self._reply(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
                return
            self._reply(200, gmail.issue(set(form.get("scope", READONLY).split())))
            return
        self._reply(400, {"error": "unsupported_grant_type"})

    def _client_credentials(self, form: dict[str, str]) -> tuple[str | None, str | None]:
        """The client id and secret of a grant: HTTP Basic (as requests-oauthlib sends them) or the form."""
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return None, None
            return unquote_plus(user), unquote_plus(password)
        return form.get("client_id"), form.get("client_secret")

    def _consent_page(self, query: dict[str, str]) -> None:
        """Google's consent page, answered at once by a user who agrees (or refuses, `deny_consent`)."""
        gmail = self.gmail
        gmail.consents.append(query)
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != gmail.client_id or redirect_uri not in gmail.redirect_uris:
            # Google shows an error page and does not send the user back.
            self._reply(400, {"error": "redirect_uri_mismatch"})
            return
        method = query.get("code_challenge_method")
        if query.get("response_type") != "code" or (method is not None and method != "S256"):
            self._reply(400, {"error": "invalid_request"})
            return
        if gmail.deny_consent:
            answer = {"error": "access_denied", "state": query.get("state", "")}
        else:
            code = secrets.token_urlsafe(12)
            gmail.codes[code] = IssuedCode(
                redirect_uri, set(query.get("scope", "").split()), query.get("code_challenge"), method
            )
            answer = {"code": code, "state": query.get("state", ""), "scope": query.get("scope", "")}
        self.send_response(302)
        self.send_header("Location", f"{redirect_uri}?{urlencode(answer)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    # -- Gmail API -------------------------------------------------------------------------------------
    def _count(self) -> None:
        with self.gmail.lock:
            self.gmail.requests += 1
        if self.gmail.latency:
            time.sleep(self.gmail.latency)

    def _drop(self) -> None:
        self.close_connection = True
        self.connection.shutdown(2)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._count()
        path = urlsplit(self.path).path
        if path == "/token":
            self._token()
            return
        body = self._body()
        if path == BATCH_PATH:
            self._batch(body)
            return
        scopes = self._scopes()
        if scopes is None or self.gmail.refuse_api:
            self._error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
            return
        if path == "/gmail/v1/users/me/messages/batchModify":
            if MODIFY not in scopes:
                self._error(403, "Request had insufficient authentication scopes.", "PERMISSION_DENIED")
                return
            request = json.loads(body)
            with self.gmail.lock:
                for mail in self.gmail.mail:
                    if mail.id in request.get("ids", []):
                        mail.labels.update(request.get("addLabelIds", []))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._error(404, "Not Found", "NOT_FOUND")

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._count()
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path == "/auth":
            self._consent_page(query)
            return
        answer = self._api_get(parts.path, query, self.headers)
        if answer is None:
            self._drop()
            return
        self._reply(*answer)
