"""Provider validation: a sender address belongs to one provider, a parser name is one that is installed.

Installed parsers are the library's and the site parsers (site_parsers.py).
"""

from circuit_maintenance_parser import SUPPORTED_PROVIDER_NAMES
from nautobot.apps.models import CustomValidator

from nautobot_ssot_circuit_maintenance.compat.releases import validated_object
from nautobot_ssot_circuit_maintenance.providers import CUSTOM_FIELD_DATA, EMAILS_FIELD, PARSER_FIELD, split_addresses
from nautobot_ssot_circuit_maintenance.site_parsers import site_parser_names


class ProviderCircuitMaintenanceValidator(CustomValidator):
    """Check a provider's maintenance custom fields when it is saved."""

    model = "circuits.provider"

    def clean(self):
        """Refuse an unknown parser, a malformed address or domain, or one another provider already claims."""
        provider = validated_object(self)
        custom_fields = provider.cf or {}

        parser = (custom_fields.get(PARSER_FIELD) or "").strip().lower()
        site_parsers = site_parser_names() if parser else set()
        if parser and parser not in SUPPORTED_PROVIDER_NAMES and parser not in site_parsers:
            known = ", ".join([*SUPPORTED_PROVIDER_NAMES, *sorted(site_parsers)])
            self.validation_error({f"cf_{PARSER_FIELD}": f"Unknown parser {parser!r}; known parsers: {known}"})

        addresses = split_addresses(custom_fields.get(EMAILS_FIELD))
        for address in addresses:
            if address.startswith("@") and "." not in address[1:]:
                self.validation_error({f"cf_{EMAILS_FIELD}": f"{address!r} is not a domain"})
            elif not address.startswith("@") and "@" not in address:
                self.validation_error({f"cf_{EMAILS_FIELD}": f"{address!r} is not an e-mail address"})
        if not addresses:
            return
        others = (
            type(provider)
            .objects.exclude(pk=provider.pk)
            .filter(**{f"{CUSTOM_FIELD_DATA}__{EMAILS_FIELD}__isnull": False})
        )
        for other_name, other_fields in others.values_list("name", CUSTOM_FIELD_DATA):
            taken = set(split_addresses((other_fields or {}).get(EMAILS_FIELD))) & set(addresses)
            if taken:
                self.validation_error(
                    {f"cf_{EMAILS_FIELD}": f"{sorted(taken)[0]!r} already belongs to provider {other_name!r}"}
                )


custom_validators = [ProviderCircuitMaintenanceValidator]
