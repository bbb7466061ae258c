"""Validate: open a configured source's mailbox with its credentials, read nothing, and say how it went."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..config import source_settings
from . import get_source
from .base import SourceError, SourceSettings


def configured_settings(source: Any) -> SourceSettings | None:
    """The PLUGINS_CONFIG entry of a NotificationSource, or None when it is no longer configured."""
    return next((entry for entry in source_settings() if entry.name == source.name), None)


def with_stored_token(settings: SourceSettings, source: Any) -> SourceSettings:
    """`settings` plus the refresh token a user granted the source through Google's consent, when it has one."""
    from ..models import SourceOAuthToken

    token = SourceOAuthToken.objects.filter(source=source).values_list("refresh_token", flat=True).first()
    if not token:
        return settings
    return dataclasses.replace(settings, extra={**settings.extra, "oauth_refresh_token": token})


def check_source(source: Any, settings: SourceSettings | None = None) -> tuple[bool, str]:
    """(reachable, what to tell the operator) for one NotificationSource; the text never contains a secret."""
    settings = settings or configured_settings(source)
    if settings is None:
        return False, f"{source.name}: not in PLUGINS_CONFIG any more."
    try:
        with get_source(with_stored_token(settings, source)) as mailbox:
            return True, f"{source.name}: connected. {mailbox.test_connection()}"
    except SourceError as error:
        return False, str(error)
