"""The `customer_notices` settings, with their defaults, and the SMTP connection they describe."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings
from django.core.mail import get_connection

from nautobot_ssot_circuit_maintenance.config import app_settings

# The ContactAssociation role whose contacts and teams receive a tenant's notices, unless configured otherwise.
DEFAULT_CONTACT_ROLE = "Maintenance notices"
DEFAULT_TIMEOUT_SECONDS = 30.0
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class NoticeConfigurationError(RuntimeError):
    """The `customer_notices` settings cannot be used (a missing SecretsGroup, an unreadable secret)."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where the notices are handed over: an SMTP relay, with STARTTLS or TLS, and credentials when it needs them."""

    host: str
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    secrets_group: str = ""
    timeout: float = DEFAULT_TIMEOUT_SECONDS


@dataclass(frozen=True)
class NoticeSettings:
    """The `customer_notices` settings."""

    auto_draft: bool = False
    contact_role: str = DEFAULT_CONTACT_ROLE
    from_address: str = ""
    reply_to: str = ""
    smtp: SmtpSettings | None = None


def notice_settings() -> NoticeSettings:
    """The `customer_notices` settings; the sender falls back to Django's DEFAULT_FROM_EMAIL."""
    config = app_settings().get("customer_notices") or {}
    smtp = config.get("smtp")
    return NoticeSettings(
        auto_draft=bool(config.get("auto_draft", False)),
        contact_role=config.get("contact_role", DEFAULT_CONTACT_ROLE),
        from_address=config.get("from_address") or django_settings.DEFAULT_FROM_EMAIL,
        reply_to=config.get("reply_to", ""),
        smtp=SmtpSettings(
            host=smtp["host"],
            port=int(smtp.get("port", 465 if smtp.get("ssl") else 25)),
            starttls=bool(smtp.get("starttls", False)),
            ssl=bool(smtp.get("ssl", False)),
            username=smtp.get("username", ""),
            password=smtp.get("password", ""),
            secrets_group=smtp.get("secrets_group", ""),
            timeout=float(smtp.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)),
        )
        if smtp and smtp.get("host")
        else None,
    )


def _credentials(smtp: SmtpSettings) -> tuple[str, str]:
    """(user, password) of the relay: from the SecretsGroup when one is named (read now), else from the settings."""
    if not smtp.secrets_group:
        return smtp.username, smtp.password
    # Nautobot's models are not importable when this module is (settings are read at app load).
    from nautobot.extras.choices import SecretsGroupAccessTypeChoices, SecretsGroupSecretTypeChoices
    from nautobot.extras.models import SecretsGroup
    from nautobot.extras.secrets.exceptions import SecretError

    group = SecretsGroup.objects.filter(name=smtp.secrets_group).first()
    if group is None:
        raise NoticeConfigurationError(f"SecretsGroup {smtp.secrets_group!r} does not exist")
    values = {}
    for secret_type in (SecretsGroupSecretTypeChoices.TYPE_USERNAME, SecretsGroupSecretTypeChoices.TYPE_PASSWORD):
        try:
            values[secret_type] = group.get_secret_value(SecretsGroupAccessTypeChoices.TYPE_GENERIC, secret_type)
        except group.secrets.through.DoesNotExist:
            values[secret_type] = ""
        except SecretError as error:
            raise NoticeConfigurationError(
                f"SecretsGroup {smtp.secrets_group!r}: cannot read its Generic {secret_type} member; "
                f"{type(error).__name__}"
            ) from None
    return values[SecretsGroupSecretTypeChoices.TYPE_USERNAME], values[SecretsGroupSecretTypeChoices.TYPE_PASSWORD]


def mail_connection(settings: NoticeSettings) -> Any:
    """A Django e-mail connection to the configured relay; Django's own EMAIL_* settings when none is configured."""
    if settings.smtp is None:
        return get_connection(fail_silently=False)
    username, password = _credentials(settings.smtp)
    return get_connection(
        SMTP_BACKEND,
        fail_silently=False,
        host=settings.smtp.host,
        port=settings.smtp.port,
        username=username or None,
        password=password or None,
        use_tls=settings.smtp.starttls,
        use_ssl=settings.smtp.ssl,
        timeout=settings.smtp.timeout,
    )
