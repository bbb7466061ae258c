"""Provisioning from the configuration: the providers' custom fields and one NotificationSource per configured source.

Idempotent; run after migrations and before each sync.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from nautobot_ssot_circuit_maintenance.config import source_settings
from nautobot_ssot_circuit_maintenance.intake.locking import PROVISIONING, lock_for_transaction
from nautobot_ssot_circuit_maintenance.intake.sources import source_kind
from nautobot_ssot_circuit_maintenance.models import NotificationSource
from nautobot_ssot_circuit_maintenance.providers import CUSTOM_FIELDS


def ensure_custom_fields() -> None:
    """Create the providers' custom fields (CUSTOM_FIELDS) and attach them to Provider."""
    from nautobot.circuits.models import Provider
    from nautobot.extras.choices import CustomFieldTypeChoices
    from nautobot.extras.models import CustomField

    provider_type = ContentType.objects.get_for_model(Provider)
    for key, attrs in CUSTOM_FIELDS.items():
        field, _ = CustomField.objects.get_or_create(
            key=key,
            defaults={
                "label": attrs["label"],
                "description": attrs["description"],
                "type": CustomFieldTypeChoices.TYPE_TEXT,
            },
        )
        # Through the link table: our fields have no default, so there is nothing for Nautobot's
        # ProvisionCustomField job to fill in on existing providers (and no user to run it as here).
        CustomField.content_types.through.objects.get_or_create(customfield=field, contenttype=provider_type)


def sync_sources_from_config() -> list:
    """One NotificationSource per configured source; providers attached per `attach_all_providers`.

    Runs starting at once on several workers provision one after the other (PROVISIONING), not into each other's
    inserts.
    """
    with transaction.atomic():
        lock_for_transaction(PROVISIONING)
        return _sources_from_config()


def _sources_from_config() -> list:
    from nautobot.circuits.models import Provider

    sources = []
    for settings in source_settings():
        source_type = source_kind(settings.url)
        source, created = NotificationSource.objects.get_or_create(
            name=settings.name,
            defaults={"source_type": source_type, "attach_all_providers": settings.attach_all_providers},
        )
        if not created and (
            source.source_type != source_type or source.attach_all_providers != settings.attach_all_providers
        ):
            source.source_type = source_type
            source.attach_all_providers = settings.attach_all_providers
            source.save()
        if settings.attach_all_providers:
            missing = Provider.objects.exclude(notification_sources=source)
            if missing.exists():
                source.providers.add(*missing)
        sources.append(source)
    return sources
