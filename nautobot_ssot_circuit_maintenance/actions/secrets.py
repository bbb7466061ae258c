"""Where the actions read credentials: a SecretsGroup's member of one secret type, the preferred access type first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nautobot.extras.models import SecretsGroupAssociation


def preferred_secret(group: Any, secret_type: str, access_types: Sequence[str]) -> Any | None:
    """The group's Secret of `secret_type` whose access type comes first in `access_types` (any other after those).

    None when the group has no member of that type. The value is read by the caller, who words its own error.
    """
    associations = sorted(
        SecretsGroupAssociation.objects.filter(secrets_group=group, secret_type=secret_type).select_related("secret"),
        key=lambda a: access_types.index(a.access_type) if a.access_type in access_types else len(access_types),
    )
    return associations[0].secret if associations else None
