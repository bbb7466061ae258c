"""A source's password, client secret, certificate or credentials file taken from a Nautobot SecretsGroup.

`secrets_group` names the group in the source's configuration; its secrets are read when the source
is opened (each run, each Validate), through whatever providers the group's secrets use
(environment variable, text file, HashiCorp Vault, AWS Secrets Manager…), and never stored by the
app. What each kind of source takes from the group, by secret type:

    IMAP            Password  -> the login password (`secret`)
    Gmail           Key       -> the content of the credentials file (service account or authorized user JSON)
    Microsoft 365   Secret    -> the client secret (`client_secret`)
                    Key       -> the certificate: one PEM with the private key and its certificate

Nautobot has no IMAP or OAuth access type: any access type is accepted, and when the group holds
several secrets of one type the first access type of `ACCESS_PREFERENCE` wins (Generic for IMAP,
HTTP(S) then REST then Generic for the API sources). Errors name the source, the group, the secret
type and the secret's name, never a value. They are worded so that Nautobot's job-log sanitizer, which
masks the word after "secret" or "password", leaves them readable ("SecretsGroup", "Password-type").
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nautobot_ssot_circuit_maintenance.config import SourceSettings
from nautobot_ssot_circuit_maintenance.intake.sources.base import SourceError

# (secret type, where the value goes, required) per source kind; "extra:key" is a key of `extra`.
WANTED: dict[str, list[tuple[str, str, bool]]] = {
    "imap": [("password", "secret", True)],
    "gmail": [("key", "extra:credentials_info", True)],
    "graph": [("secret", "extra:client_secret", False), ("key", "extra:certificate_pem", False)],
}
WANTED["imaps"] = WANTED["imap"]
ACCESS_PREFERENCE: dict[str, list[str]] = {
    "imap": ["Generic"],
    "imaps": ["Generic"],
    "gmail": ["HTTP(S)", "REST", "Generic"],
    "graph": ["HTTP(S)", "REST", "Generic"],
}
# What must be there when every entry of a kind is optional (at least one of them).
ONE_OF_MESSAGE = {"graph": "no Secret-type member (the client_secret) and no Key-type member (the certificate PEM)"}


def _label(secret_type: str) -> str:
    from nautobot.extras.choices import SecretsGroupSecretTypeChoices

    return dict(SecretsGroupSecretTypeChoices.CHOICES).get(secret_type, secret_type)


def resolve_secrets(settings: SourceSettings, kind: str) -> SourceSettings:
    """`settings` with the secrets of its `secrets_group` filled in; unchanged when it names none.

    Raises SourceError naming the group and the missing or unreadable secret.
    """
    group_name = (settings.extra or {}).get("secrets_group")
    if not group_name:
        return settings
    from nautobot.extras.models import SecretsGroup, SecretsGroupAssociation
    from nautobot.extras.secrets.exceptions import SecretError

    where = f"Source {settings.name}: SecretsGroup {group_name!r}"
    wanted = WANTED.get(kind)
    if wanted is None:
        raise SourceError(f"{where}: a {kind} source takes none")
    group = SecretsGroup.objects.filter(name=group_name).first()
    if group is None:
        raise SourceError(f"{where} does not exist")
    preference = ACCESS_PREFERENCE.get(kind, [])
    values: dict[str, Any] = {}
    extra = dict(settings.extra)
    found = 0
    for secret_type, target, required in wanted:
        associations = list(
            SecretsGroupAssociation.objects.filter(secrets_group=group, secret_type=secret_type).select_related(
                "secret"
            )
        )
        if not associations:
            if required:
                raise SourceError(
                    f"{where} has no {_label(secret_type)}-type member (add one with access type {preference[0]})"
                )
            continue
        associations.sort(
            key=lambda a: preference.index(a.access_type) if a.access_type in preference else len(preference)
        )
        secret = associations[0].secret
        try:
            value = secret.get_value()
        except SecretError as error:
            # Nautobot's message names the secret, its provider and what is missing (a variable, a file), no value.
            raise SourceError(
                f"{where}: cannot read its {_label(secret_type)}-type member (named {secret.name!r}); "
                f"{type(error).__name__}: {error.message}"
            ) from None
        except Exception as error:  # noqa: BLE001 - a provider's own failure, shown by type only
            raise SourceError(
                f"{where}: cannot read its {_label(secret_type)}-type member (named {secret.name!r}); "
                f"{type(error).__name__}"
            ) from None
        if not isinstance(value, str) or not value:
            raise SourceError(f"{where}: its {_label(secret_type)}-type member (named {secret.name!r}) is empty")
        found += 1
        if target.startswith("extra:"):
            extra[target.removeprefix("extra:")] = value
        else:
            values[target] = value
    if not found:
        raise SourceError(f"{where} has {ONE_OF_MESSAGE.get(kind, 'no secret')}")
    return dataclasses.replace(settings, extra=extra, **values)
