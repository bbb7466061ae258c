"""Google's consent flow for Gmail sources whose credentials file is an OAuth client (web or installed app).

Validate on such a source sends the user to Google's consent page; Google sends them back to
`source/google_oauth2callback/` (the older app's address) with a code, which is exchanged here for
a refresh token, kept in SourceOAuthToken. The `state` is signed, bound to the user and the source,
and single-use: it carries a random nonce kept in Django's cache (Redis) for STATE_MAX_AGE, and the
callback deletes the nonce atomically before it trusts the state, so a replayed state is refused.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from typing import Any
from urllib.parse import urlencode

import requests
from django.core import signing
from django.core.cache import cache

from .redaction import Scrubber, credential_file_secrets, credential_info_secrets
from .sources import SourceError, SourceSettings, source_kind
from .sources.gmail import GMAIL_READONLY, credentials_text
from .sources.secrets_group import resolve_secrets

STATE_SALT = "nautobot_ssot_circuit_maintenance.oauth"
STATE_MAX_AGE = 15 * 60
TOKEN_TIMEOUT = 30
NONCE_KEY = "nautobot_ssot_circuit_maintenance:oauth-state:{nonce}"


def _nonce_key(nonce: str) -> str:
    return NONCE_KEY.format(nonce=nonce)


def new_state(source_pk: Any, user_pk: Any) -> str:
    """A signed, single-use state for one consent of `user_pk` on source `source_pk`."""
    nonce = secrets.token_urlsafe(24)
    cache.set(_nonce_key(nonce), str(user_pk), timeout=STATE_MAX_AGE)
    return signing.dumps({"source": str(source_pk), "user": str(user_pk), "nonce": nonce}, salt=STATE_SALT)


def oauth_client(settings: SourceSettings) -> dict[str, Any] | None:
    """The `web` or `installed` client of a Gmail source's credentials file, or None for other credentials."""
    if source_kind(settings.url) != "gmail":
        return None
    try:
        settings = resolve_secrets(settings, "gmail")
        info = json.loads(credentials_text(settings.extra))
    except (OSError, ValueError, SourceError):
        return None
    client = (info.get("web") or info.get("installed")) if isinstance(info, dict) else None
    return client if isinstance(client, dict) else None


def scopes(settings: SourceSettings) -> list[str]:
    return [GMAIL_READONLY, *(s for s in settings.extra.get("extra_scopes", []) if s != GMAIL_READONLY)]


def consent_url(
    settings: SourceSettings, client: dict[str, Any], source_pk: Any, user_pk: Any, redirect_uri: str
) -> str:
    state = new_state(source_pk, user_pk)
    params = {
        "client_id": client["client_id"],
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes(settings)),
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "login_hint": settings.account,
        "state": state,
    }
    auth_uri = client.get("auth_uri", "https://accounts.google.com/o/oauth2/auth")
    return f"{auth_uri}?{urlencode(params)}"


def read_state(state: str, user_pk: Any) -> str:
    """The source pk a valid, fresh, unused state names for this user; raises SourceError otherwise.

    The state is consumed here (whatever happens next): Redis's DEL is atomic, so of two requests
    carrying the same state only one gets past this point.
    """
    try:
        data = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.BadSignature:
        raise SourceError("the consent answer is invalid or expired; press Validate again") from None
    if not isinstance(data, dict) or not data.get("nonce") or "source" not in data:
        raise SourceError("the consent answer is invalid or expired; press Validate again")
    if data.get("user") != str(user_pk):
        raise SourceError("the consent was started by another user; press Validate again")
    if not cache.delete(_nonce_key(str(data["nonce"]))):
        raise SourceError("this consent answer was already used (or has expired); press Validate again")
    return data["source"]


def exchange_code(settings: SourceSettings, client: dict[str, Any], code: str, redirect_uri: str) -> str:
    """The refresh token Google gives for the consent `code`; raises SourceError (without secrets)."""
    token_uri = client.get("token_uri", "https://oauth2.googleapis.com/token")
    try:
        response = requests.post(
            token_uri,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client["client_id"],
                "client_secret": client.get("client_secret", ""),
                "redirect_uri": redirect_uri,
            },
            timeout=TOKEN_TIMEOUT,
        )
    except requests.RequestException as error:
        raise SourceError(
            f"Source {settings.name}: cannot reach Google's token endpoint ({type(error).__name__})"
        ) from None
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if response.status_code != 200:
        if not isinstance(payload, dict):
            payload = {}
        reason = payload.get("error_description") or payload.get("error") or f"HTTP {response.status_code}"
        # The endpoint may echo the form it was sent: the client secret and the code.
        scrub = Scrubber(
            [
                client.get("client_secret"),
                code,
                *credential_file_secrets(settings.extra.get("credentials_file")),
                *credential_info_secrets(settings.extra.get("credentials_info")),
            ]
        )
        raise SourceError(f"Source {settings.name}: Google refused the consent code: {scrub(reason)[:200]}")
    refresh_token = payload.get("refresh_token")
    if not refresh_token:
        raise SourceError(
            f"Source {settings.name}: Google gave no refresh token; remove the app's access in the Google account "
            "and press Validate again"
        )
    return refresh_token


def with_stored_token(settings: SourceSettings, source: Any) -> SourceSettings:
    """`settings` plus the source's granted refresh token, when it has one."""
    from .models import SourceOAuthToken

    token = SourceOAuthToken.objects.filter(source=source).values_list("refresh_token", flat=True).first()
    if not token:
        return settings
    return dataclasses.replace(settings, extra={**settings.extra, "oauth_refresh_token": token})
