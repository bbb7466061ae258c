"""Providers as the app sees them: their sender addresses and which parser reads their mail."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import getaddresses

from circuit_maintenance_parser import SUPPORTED_PROVIDER_NAMES

# Same keys as nautobot-circuit-maintenance, so existing provider data carries over.
EMAILS_FIELD = "emails_circuit_maintenances"
PARSER_FIELD = "provider_parser_circuit_maintenances"

CUSTOM_FIELDS = {
    EMAILS_FIELD: {
        "label": "Emails for Circuit Maintenance",
        "description": "Comma-separated sender addresses of this provider's maintenance notifications; "
        "'@example.com' matches any sender of that domain.",
    },
    PARSER_FIELD: {
        "label": "Provider Parser for Circuit Maintenance",
        "description": "circuit-maintenance-parser parser to read this provider's mail with, "
        "when it differs from the provider's name.",
    },
}


def split_addresses(value: str | None) -> list[str]:
    """The normalised entries of an `emails_circuit_maintenances` value."""
    if not value:
        return []
    return [entry.strip().lower() for entry in value.split(",") if entry.strip()]


def sender_addresses(header_value: str | None) -> list[str]:
    """The bare, lower-cased addresses in a From-like header."""
    if not header_value:
        return []
    return [address.lower() for _, address in getaddresses([header_value]) if "@" in address]


def parser_name_for(name: str, override: str | None) -> str | None:
    """The parser library's name for a provider: the override if set, else its name if the library knows it."""
    if override:
        candidate = override.strip().lower()
        return candidate if candidate in SUPPORTED_PROVIDER_NAMES else None
    candidate = name.strip().lower().replace(" ", "").replace("-", "")
    return candidate if candidate in SUPPORTED_PROVIDER_NAMES else None


@dataclass(frozen=True)
class ProviderEntry:
    pk: object
    name: str
    parser: str | None


class SenderDirectory:
    """Maps sender addresses to the providers that claim them (exact address first, then `@domain`)."""

    def __init__(self, providers: Iterable[tuple[object, str, dict]]):
        self._by_address: dict[str, ProviderEntry] = {}
        self._by_domain: dict[str, ProviderEntry] = {}
        for pk, name, custom_fields in providers:
            entry = ProviderEntry(pk, name, parser_name_for(name, (custom_fields or {}).get(PARSER_FIELD)))
            for address in split_addresses((custom_fields or {}).get(EMAILS_FIELD)):
                if address.startswith("@"):
                    self._by_domain.setdefault(address[1:], entry)
                else:
                    self._by_address.setdefault(address, entry)

    def __bool__(self) -> bool:
        return bool(self._by_address or self._by_domain)

    def addresses(self) -> list[str]:
        """Every claimed address, domains as `@domain`: a source may use them to narrow what it reads."""
        return sorted([*self._by_address, *(f"@{domain}" for domain in self._by_domain)])

    def domains_of(self, provider: ProviderEntry) -> set[str]:
        """The sender domains of `provider` here: those of its addresses and its `@domain`s (for authentication)."""
        found = {domain for domain, entry in self._by_domain.items() if entry == provider}
        found |= {address.rpartition("@")[2] for address, entry in self._by_address.items() if entry == provider}
        return {domain for domain in found if "." in domain}

    def lookup(self, header_value: str | None) -> ProviderEntry | None:
        for address in sender_addresses(header_value):
            if address in self._by_address:
                return self._by_address[address]
            domain = address.rpartition("@")[2]
            if domain in self._by_domain:
                return self._by_domain[domain]
        return None
