"""Google's consent flow for Gmail sources whose credentials file is an OAuth client (web or installed app).

Validate on such a source sends the user to Google's consent page; Google sends them back to
`source/google_oauth2callback/` (the older app's address) with a code, which google-auth-oauthlib's
`Flow` exchanges for a refresh token, kept only in SourceOAuthToken.

What is ours, around the library: the `state` is signed, bound to the user and the source, and
single-use. It carries a random nonce under which Django's cache (Redis) keeps, for STATE_MAX_AGE,
the PKCE code verifier of that consent; the callback deletes the entry atomically before it trusts
the state, so a replayed state is refused, and the verifier never travels through the browser.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import requests
from django.core import signing
from django.core.cache import cache
from django.shortcuts import get_object_or_404
from django.urls import reverse
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2.rfc6749.errors import InsecureTransportError

from nautobot_ssot_circuit_maintenance.config import URL_NAMESPACE, SourceSettings
from nautobot_ssot_circuit_maintenance.intake.connect import check_source, configured_settings
from nautobot_ssot_circuit_maintenance.intake.sources import SourceError, source_kind
from nautobot_ssot_circuit_maintenance.intake.sources.gmail import (
    gmail_scopes,
    oauth_client_config,
    read_credentials_file,
)
from nautobot_ssot_circuit_maintenance.intake.sources.secrets_group import resolve_secrets
from nautobot_ssot_circuit_maintenance.models import NotificationSource, SourceOAuthToken
from nautobot_ssot_circuit_maintenance.redaction import Scrubber, credential_file_secrets, credential_info_secrets

__all__ = ["Outcome", "complete_consent", "oauth_client", "validate"]

STATE_SALT = "nautobot_ssot_circuit_maintenance.intake.oauth"
STATE_MAX_AGE = 15 * 60
TOKEN_TIMEOUT = 30
NONCE_KEY = "nautobot_ssot_circuit_maintenance:oauth-state:{nonce}"
CALLBACK_URL_NAME = f"{URL_NAMESPACE}:google_oauth2callback"


@dataclass(frozen=True)
class Outcome:
    """What Validate or the consent callback tells the user (nothing when it sends them to Google), and where to."""

    ok: bool
    message: str
    redirect_to: str


def _nonce_key(nonce: str) -> str:
    return NONCE_KEY.format(nonce=nonce)


def callback_uri(request: Any) -> str:
    return request.build_absolute_uri(reverse(CALLBACK_URL_NAME))


def oauth_client(settings: SourceSettings) -> tuple[SourceSettings, dict[str, dict[str, Any]]] | None:
    """The settings and OAuth client config of a Gmail source whose credentials are an OAuth client, else None.

    Returns (settings with their secrets group read, OAuth client config in Google's client-secrets shape); None
    for other credentials.

    Unreadable credentials are None as well: Validate then reports their problem through the source itself.
    """
    if source_kind(settings.url) != "gmail":
        return None
    try:
        settings = resolve_secrets(settings, "gmail")
        client_config = oauth_client_config(read_credentials_file(settings))
    except SourceError:
        return None
    return (settings, client_config) if client_config is not None else None


def _flow(settings: SourceSettings, client_config: dict[str, Any], redirect_uri: str, **kwargs: Any) -> Flow:
    return Flow.from_client_config(
        client_config, scopes=gmail_scopes(settings.extra), redirect_uri=redirect_uri, **kwargs
    )


def validate(request: Any, source: Any, *, again: bool = False) -> Outcome:
    """Validate on a source: Google's consent page when the source needs a consent, else a check of its mailbox.

    A consent is needed for a Gmail source with an OAuth client file that has no grant yet, or when
    the user asks for it again (`again`).
    """
    settings = configured_settings(source)
    client = oauth_client(settings) if settings else None
    if client is not None and (again or not SourceOAuthToken.objects.filter(source=source).exists()):
        try:
            return Outcome(True, "", _consent_url(request, source, *client))
        except InsecureTransportError:
            return Outcome(False, f"{source.name}: the OAuth client's auth_uri is not https", source.get_absolute_url())
    ok, text = check_source(source, settings)
    return Outcome(ok, text, source.get_absolute_url())


def _consent_url(request: Any, source: Any, settings: SourceSettings, client_config: dict[str, Any]) -> str:
    """Google's consent URL for one consent of this user on `source`, its state made redeemable."""
    nonce = secrets.token_urlsafe(24)
    state = signing.dumps({"source": str(source.pk), "user": str(request.user.pk), "nonce": nonce}, salt=STATE_SALT)
    flow = _flow(settings, client_config, callback_uri(request))
    url, _ = flow.authorization_url(
        state=state,
        prompt="consent",
        include_granted_scopes="true",
        login_hint=settings.account,
    )
    # Only once the URL (and with it the PKCE verifier) exists is the state made redeemable.
    cache.set(_nonce_key(nonce), {"user": str(request.user.pk), "verifier": flow.code_verifier}, STATE_MAX_AGE)
    return url


def _redeem_state(state: str, user_pk: Any) -> tuple[str, str]:
    """(source pk, PKCE verifier) of a valid, fresh, unused state for this user; SourceError otherwise.

    The state is consumed here, whatever happens next: Redis's DEL is atomic, so of two requests
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
    key = _nonce_key(str(data["nonce"]))
    kept = cache.get(key)
    if not cache.delete(key) or not isinstance(kept, dict):
        raise SourceError("this consent answer was already used (or has expired); press Validate again")
    return data["source"], kept.get("verifier") or ""


def _exchange_code(
    settings: SourceSettings, client_config: dict[str, Any], code: str, verifier: str, redirect_uri: str
) -> tuple[str, list[str]]:
    """(refresh token, granted scopes) Google gives for the consent `code`; SourceError without secrets."""
    (client,) = client_config.values()
    flow = _flow(settings, client_config, redirect_uri, code_verifier=verifier, autogenerate_code_verifier=False)
    # The token endpoint may echo the request (code, verifier) and the client's Basic credentials.
    scrub = Scrubber(
        [
            client.get("client_secret"),
            code,
            verifier,
            *credential_file_secrets(settings.extra.get("credentials_file")),
            *credential_info_secrets(settings.extra.get("credentials_info")),
        ]
    )
    try:
        token = flow.fetch_token(code=code, timeout=TOKEN_TIMEOUT)
    except InsecureTransportError:
        raise SourceError(f"Source {settings.name}: the OAuth client's token_uri is not https") from None
    except OAuth2Error as error:
        reason = error.description or error.error or "refused"
        raise SourceError(f"Source {settings.name}: Google refused the consent code: {scrub(reason)[:200]}") from None
    except Warning as warning:
        # oauthlib's "Scope has changed" (include_granted_scopes adds earlier grants): the token is still good.
        token = getattr(warning, "token", None)
        if not isinstance(token, dict):
            raise SourceError(f"Source {settings.name}: Google's token answer is malformed") from None
    except (requests.RequestException, ValueError) as error:
        raise SourceError(
            f"Source {settings.name}: cannot reach Google's token endpoint ({type(error).__name__})"
        ) from None
    refresh_token = token.get("refresh_token")
    if not refresh_token:
        raise SourceError(
            f"Source {settings.name}: Google gave no refresh token; remove the app's access in the Google account "
            "and press Validate again"
        )
    granted = token.get("scope") or gmail_scopes(settings.extra)
    return refresh_token, sorted(granted.split() if isinstance(granted, str) else granted)


def complete_consent(request: Any) -> Outcome:
    """Google's answer to a consent: keep the refresh token in SourceOAuthToken, then check the mailbox with it.

    Http404 when the state names a source the user may not change (or that is gone).
    """
    list_url = reverse(f"{URL_NAMESPACE}:notificationsource_list")
    try:
        source_pk, verifier = _redeem_state(request.GET.get("state", ""), request.user.pk)
    except SourceError as error:
        return Outcome(False, f"Google consent: {error}", list_url)
    source = get_object_or_404(NotificationSource.objects.restrict(request.user, "change"), pk=source_pk)
    settings = configured_settings(source)
    client = oauth_client(settings) if settings else None
    if request.GET.get("error") or client is None:
        reason = request.GET.get("error") or "the source has no OAuth client in its configuration"
        return Outcome(False, f"{source.name}: Google consent not given ({reason[:100]}).", source.get_absolute_url())
    try:
        refresh_token, granted = _exchange_code(*client, request.GET.get("code", ""), verifier, callback_uri(request))
    except SourceError as error:
        return Outcome(False, str(error), source.get_absolute_url())
    SourceOAuthToken.objects.update_or_create(
        source=source,
        defaults={"refresh_token": refresh_token, "scopes": granted, "granted_by": request.user.get_username()},
    )
    ok, text = check_source(source, settings)
    return Outcome(ok, f"Google consent saved. {text}", source.get_absolute_url())
