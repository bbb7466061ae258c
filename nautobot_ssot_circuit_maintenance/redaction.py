r"""One scrubber for every error text a mailbox source produces: no secret leaves in any form.

A server can echo what it was sent (a token endpoint repeating its form body, a JWT, an HTTP
Basic header, an HTML error page), so each secret is searched for as written, URL-encoded (form and
path style), JSON-escaped, HTML-escaped (`&amp;`, `&#x27;`, `&#39;`, numeric references),
hex-encoded (plain, `\x..`, `%..` for every byte, spaced or colon-separated), as Python writes it
in a bytes or ASCII repr, and base64-encoded (standard and URL-safe, at each of the three byte
alignments a secret can have inside a larger base64 string); each of those also for the secret
upper-cased, lower-cased, case-swapped and case-folded, and matched without regard to case (so
`%2f` is caught like `%2F`). Credentials written into URLs
(`imap://user:password@host`) and well-known `key=value` / `"key": "value"` secrets
(`client_secret`, `refresh_token`, `assertion`, `Authorization: Bearer …`) are masked even when
their value is not known in advance, such as an access token a server has just issued.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
# Values of a credentials file that are public by design (what Google prints in its consoles and
# sends to browsers); every other value of the file is treated as a secret.
PUBLIC_CREDENTIAL_KEYS = frozenset(
    {
        "type",
        "project_id",
        "client_email",
        "client_id",
        "auth_uri",
        "token_uri",
        "auth_provider_x509_cert_url",
        "client_x509_cert_url",
        "universe_domain",
        "redirect_uris",
        "javascript_origins",
        "quota_project_id",
        "account",
    }
)
# Below this length a base64 fragment is too short to tell a secret from ordinary text.
MIN_BASE64_FRAGMENT = 8
# A PEM body line (64 characters of base64) is a fragment worth masking on its own.
MIN_PEM_LINE = 16

_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/@:'\"<>]*):([^\s'\"<>]*)@")
# Names of fields whose value is a credential, whatever the value.
_SECRET_FIELDS = "|".join(  # noqa: S105
    [
        "client_secret",
        "refresh_token",
        "access_token",
        "id_token",
        "assertion",
        "password",
        "passwd",
        "secret",
        "private_key_id",
        "private_key",
        "oauth_refresh_token",
        "code",
    ]
)
# `client_secret=...` (form or query), `"client_secret": "..."` (JSON, also JSON-escaped inside a string).
_FORM_FIELD = re.compile(rf"(?i)(\b(?:{_SECRET_FIELDS})=)([^&\s'\"<>]+)")
_JSON_FIELD = re.compile(rf"(?i)(\\?[\"'](?:{_SECRET_FIELDS})\\?[\"']\s*:\s*\\?[\"'])((?:[^\"'\\]|\\[^\"'])+)")
_AUTH_HEADER = re.compile(r"(?i)\b((?:bearer|basic)\s+)([A-Za-z0-9._~+/\-]{8,}=*)")


def _base64_fragments(value: bytes) -> set[str]:
    """The base64 text (both alphabets) that `value` produces wherever it sits inside a larger payload."""
    fragments = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + value).decode()
        first = -(-8 * offset // 6)  # the first character computed from `value` bits only
        last = (8 * offset + 8 * len(value)) // 6  # one past the last such character
        fragment = encoded[first:last]
        if len(fragment) >= MIN_BASE64_FRAGMENT:
            fragments.add(fragment)
            fragments.add(fragment.translate(str.maketrans("+/", "-_")))
    return fragments


def _case_variants(secret: str) -> set[str]:
    """The secret as a server that changes case could echo it (`ß` upper-cases to `SS`, so not by regex alone)."""
    return {secret, secret.lower(), secret.upper(), secret.swapcase(), secret.casefold()}


def _html_forms(text: str) -> set[str]:
    """`text` in every form an HTML page can carry it.

    Escaped with or without quotes, `'` as `&#x27;` or `&#39;`, and non-ASCII letters as decimal or hex character
    references.
    """
    forms = set()
    for escaped in (html.escape(text), html.escape(text, quote=False)):
        forms |= {escaped, escaped.replace("&#x27;", "&#39;")}
    for form in list(forms):
        forms.add(form.encode("ascii", "xmlcharrefreplace").decode("ascii"))
        forms.add("".join(c if ord(c) < 128 else f"&#x{ord(c):x};" for c in form))
    return forms


def _hex_forms(raw: bytes) -> set[str]:
    r"""The bytes in hex: plain, `\x`-escaped, percent-encoded byte by byte, space- or colon-separated."""
    return {
        raw.hex(),
        "".join(f"\\x{byte:02x}" for byte in raw),
        "".join(f"%{byte:02x}" for byte in raw),
        raw.hex(" "),
        raw.hex(":"),
    }


def _textual_forms(secret: str) -> set[str]:
    """The spellings of one case variant that are text (URL, JSON, Python reprs), before HTML escaping."""
    raw = secret.encode("utf-8", "surrogatepass")
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
    escaped = json.dumps(secret)[1:-1]
    forms |= {escaped, escaped.replace("/", "\\/"), json.dumps(secret, ensure_ascii=False)[1:-1]}
    forms |= {repr(raw)[2:-1], ascii(secret)[1:-1], repr(secret)[1:-1]}
    return forms


def encoded_forms(secret: str) -> set[str]:
    """Every spelling of `secret` a server could plausibly echo back (matched regardless of case too)."""
    if not secret:
        return set()
    forms: set[str] = set()
    for variant in _case_variants(secret):
        textual = _textual_forms(variant)
        forms |= textual
        for form in textual:
            forms |= _html_forms(form)
        raw = variant.encode("utf-8", "surrogatepass")
        forms |= _hex_forms(raw)
        forms |= _base64_fragments(raw)
    if "-----BEGIN" in secret:
        # A PEM key: each body line is a secret too, in case a server echoes a part of it.
        forms |= {line.strip() for line in secret.splitlines() if len(line.strip()) >= MIN_PEM_LINE}
        body = "".join(line.strip() for line in secret.splitlines() if line.strip() and "-----" not in line)
        forms.add(body)
    # Matching ignores case, so ASCII forms that differ only in case are one pattern (a shorter regex).
    unique: dict[str, str] = {}
    for form in sorted(form for form in forms if form):
        unique.setdefault(form.lower() if form.isascii() else form, form)
    return set(unique.values())


def credential_file_secrets(path: str | Path | None) -> list[str]:
    """Every value of a JSON credentials file except the public ones (see PUBLIC_CREDENTIAL_KEYS)."""
    if not path:
        return []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return []
    return credential_info_secrets(text)


def credential_info_secrets(text: str | None) -> list[str]:
    """Every non-public value of a JSON credentials document (a credentials file's content, e.g. from a secret)."""
    if not text:
        return []
    try:
        info = json.loads(text)
    except ValueError:
        # Not JSON: the whole text is the secret.
        return [text]
    found: list[str] = []

    def walk(value: Any, key: str | None) -> None:
        if isinstance(value, dict):
            for child_key, child in value.items():
                walk(child, str(child_key))
        elif isinstance(value, list):
            for child in value:
                walk(child, key)
        elif isinstance(value, str) and key not in PUBLIC_CREDENTIAL_KEYS:
            found.append(value)

    walk(info, None)
    return found


def mask_url_credentials(text: str) -> str:
    """`imap://user:password@host` → `imap://user:***@host`."""
    return _URL_USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", text)


def mask_known_fields(text: str) -> str:
    """Mask the values of well-known secret fields and authorization headers, whatever their value."""
    text = _FORM_FIELD.sub(lambda m: m.group(1) + MASK, text)
    text = _JSON_FIELD.sub(lambda m: m.group(1) + MASK, text)
    return _AUTH_HEADER.sub(_mask_credential, text)


def _mask_credential(match: re.Match[str]) -> str:
    """`Bearer <token>` / `Basic <base64>`; leaves prose such as "Basic authentication" alone."""
    value = match.group(2)
    looks_like_credential = len(value) >= 24 or bool(re.search(r"[0-9+/=._~\-]|.[A-Z]", value))
    return match.group(1) + MASK if looks_like_credential else match.group(0)


class Scrubber:
    """Removes a fixed set of secrets, in all their encodings, plus URL credentials and secret fields."""

    def __init__(self, secrets: Iterable[str | None] = ()):
        """A scrubber for `secrets`, in every form they can take."""
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str | None) -> Scrubber:
        """Also remove these secrets (e.g. an access token obtained after the scrubber was built)."""
        for secret in secrets:
            if isinstance(secret, str) and secret:
                self._forms |= encoded_forms(secret)
        self._pattern = None
        return self

    def __bool__(self) -> bool:
        """Always true: with no secret it still masks URL credentials and secret fields."""
        return True

    def __call__(self, text: Any) -> str:
        """`text` with every secret form masked, then URL credentials and known secret fields."""
        text = "" if text is None else str(text)
        if self._forms:
            if self._pattern is None:
                ordered = sorted(self._forms, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(form) for form in ordered), re.IGNORECASE)
            text = self._pattern.sub(MASK, text)
        return mask_known_fields(mask_url_credentials(text))


def _file_text(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def scrubber_for(settings: Any) -> Scrubber:
    """The scrubber of one notification source.

    It scrubs the source's password, client secret, certificate key, credentials (from files or from Nautobot
    secrets), stored OAuth token, URL.
    """
    extra = getattr(settings, "extra", None) or {}
    secrets = [
        getattr(settings, "secret", ""),
        extra.get("oauth_refresh_token"),
        extra.get("client_secret"),
        extra.get("certificate_pem"),
        _file_text(extra.get("certificate_file")),
        *credential_file_secrets(extra.get("credentials_file")),
        *credential_info_secrets(extra.get("credentials_info")),
    ]
    return Scrubber(secrets)


def scrub(text: Any, secrets: Iterable[str | None] = ()) -> str:
    """One-off scrubbing of `text` (URL credentials and secret fields are always masked)."""
    return Scrubber(secrets)(text)


# -- Calendar feed tokens in log lines -----------------------------------------------------------------
# The subscribable feed's address may hold its token in the path (/calendar/feed/<token>.ics) or the
# query (?token=<token>). Loggers that write request paths get a filter that masks both.
_FEED_PATH = re.compile(r"(/calendar/feed/)([^\s?#\"'<>]+)")
_TOKEN_PARAMETER = re.compile(r"(?i)([?&;]token=)([^&;\s#\"'<>]*)")
# Django's development server access log, its "Not Found: <path>" and CSRF refusal lines, its template
# debug lines (whose tracebacks carry a Resolver404 naming the path), gunicorn's access log.
FEED_PATH_LOGGERS = ("django.server", "django.request", "django.security.csrf", "django.template", "gunicorn.access")


def mask_feed_tokens(text: str) -> str:
    """`…/calendar/feed/<token>.ics` → `…/calendar/feed/***.ics`; `?token=<token>` → `?token=***`."""
    text = _FEED_PATH.sub(lambda m: m.group(1) + MASK + (".ics" if m.group(2).endswith(".ics") else ""), text)
    return _TOKEN_PARAMETER.sub(lambda m: m.group(1) + MASK, text)


class FeedTokenLogFilter(logging.Filter):
    """Rewrites a log record whose message names a calendar feed address, without its token."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask feed tokens in the record's message and traceback; the record is always kept."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        masked = mask_feed_tokens(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # An exception can name the path too (Django's Resolver404 does): format it here, masked.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            masked = mask_feed_tokens(record.exc_text)
            if masked != record.exc_text:
                record.exc_text, record.exc_info = masked, None
        return True


def install_feed_token_log_filter(names: Iterable[str] = FEED_PATH_LOGGERS) -> None:
    """Put the filter on the loggers that write request paths (once each)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, FeedTokenLogFilter) for existing in logger.filters):
            logger.addFilter(FeedTokenLogFilter())


# requests-oauthlib logs the token request body and the tokens obtained at DEBUG.
OAUTH_LIBRARY_LOGGERS = ("requests_oauthlib", "oauthlib")


def quiet_oauth_library_logs() -> None:
    """Keep the OAuth libraries' DEBUG records (codes, client secret, tokens) out of every log handler."""
    for name in OAUTH_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
