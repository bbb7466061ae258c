"""Opening a configured source: its mailbox or the pushed messages, with its credentials and stored token."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlsplit

from nautobot_ssot_circuit_maintenance.config import PUSH_SCHEME, SourceSettings, source_settings
from nautobot_ssot_circuit_maintenance.intake.pushed import PushSource
from nautobot_ssot_circuit_maintenance.intake.sources import get_source
from nautobot_ssot_circuit_maintenance.intake.sources.base import MailboxSource, SourceError
from nautobot_ssot_circuit_maintenance.models import SourceOAuthToken


def configured_settings(source: Any) -> SourceSettings | None:
    """The PLUGINS_CONFIG entry of a NotificationSource, or None when it is no longer configured."""
    return next((entry for entry in source_settings() if entry.name == source.name), None)


def with_stored_token(settings: SourceSettings, source: Any) -> SourceSettings:
    """`settings` plus the refresh token a user granted the source through Google's consent, when it has one."""
    token = SourceOAuthToken.objects.filter(source=source).values_list("refresh_token", flat=True).first()
    if not token:
        return settings
    return dataclasses.replace(settings, extra={**settings.extra, "oauth_refresh_token": token})


def open_source(settings: SourceSettings, source: Any) -> MailboxSource:
    """The reader of one NotificationSource: the built-in pushed messages, or its mailbox with its stored token."""
    if urlsplit(settings.url).scheme.lower() == PUSH_SCHEME:
        return PushSource(settings)
    return get_source(with_stored_token(settings, source))


def check_source(source: Any, settings: SourceSettings | None = None) -> tuple[bool, str]:
    """(reachable, what to tell the operator) for one NotificationSource; the text never contains a secret."""
    settings = settings or configured_settings(source)
    if settings is None:
        return False, f"{source.name}: not in PLUGINS_CONFIG any more."
    try:
        with open_source(settings, source) as mailbox:
            return True, f"{source.name}: connected. {mailbox.test_connection()}"
    except SourceError as error:
        return False, str(error)
