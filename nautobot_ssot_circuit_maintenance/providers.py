"""Providers as the app sees them: their sender addresses and which parser reads their mail."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import getaddresses

from circuit_maintenance_parser import SUPPORTED_PROVIDER_NAMES

from nautobot_ssot_circuit_maintenance.site_parsers import site_parser_names

# Same keys as nautobot-circuit-maintenance, so existing provider data carries over.
EMAILS_FIELD = "emails_circuit_maintenances"
PARSER_FIELD = "provider_parser_circuit_maintenances"
# The column Nautobot keeps custom field values in (what `provider.cf` reads), for queries.
CUSTOM_FIELD_DATA = "_custom_field_data"
# What a SenderDirectory is built from, one row per provider.
PROVIDER_ROW = ("pk", "name", CUSTOM_FIELD_DATA)

CUSTOM_FIELDS = {
    EMAILS_FIELD: {
        "label": "Emails for Circuit Maintenance",
        "description": "Comma-separated sender addresses of this provider's maintenance notifications; "
        "'@example.com' matches any sender of that domain.",
    },
    PARSER_FIELD: {
        "label": "Provider Parser for Circuit Maintenance",
        "description": "circuit-maintenance-parser parser (or site parser) to read this provider's mail with, "
        "when it differs from the provider's name.",
    },
}


def split_addresses(value: str | None) -> list[str]:
    """The normalised entries of an `emails_circuit_maintenances` value."""
    if not value:
        return []
    return [entry.strip().lower() for entry in value.split(",") if entry.strip()]


# An address as it may stand in a header: a local part and a domain of dot-separated labels, neither holding
# whitespace, quotes, brackets or other specials, the domain no `=` or `?` either (no encoded-word). A quoted local
# part or a domain literal is not accepted: no provider writes one. Nor are control characters, or the lone
# surrogates a byte that is not UTF-8 becomes when mail is read as text: such an address could be neither claimed
# as written nor stored.
_NOT_IN_ADDRESS = r"\s()<>\[\]:;@\\,\"\x00-\x1f\x7f\ud800-\udfff"
_ADDRESS = re.compile(rf"[^{_NOT_IN_ADDRESS}]+@[^{_NOT_IN_ADDRESS}=?.]+(?:\.[^{_NOT_IN_ADDRESS}=?.]+)*")


def _expected_items(value: str) -> int | None:
    """How many mailboxes `value` lists, counting the commas outside quoted strings, comments and angle brackets.

    None when a quoted string, comment or angle bracket is left open (or closed without being opened).
    """
    items, depth, quoted, angle, escaped = 1, 0, False, False, False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and (quoted or depth):
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"' and not depth:
            quoted = True
        elif char == "(":
            depth += 1
        elif char == ")":
            if not depth:
                return None
            depth -= 1
        elif depth:
            continue
        elif char == "<":
            if angle:
                return None
            angle = True
        elif char == ">":
            if not angle:
                return None
            angle = False
        elif char == "," and not angle:
            items += 1
    return None if quoted or depth or angle or escaped else items


def sender_addresses(header_value: str | None) -> list[str]:
    """The lower-cased addresses of a From-like header, read from the header as written.

    Pass the value *before* encoded-words are decoded: `=?utf-8?q?mr=40zayo=2Ecom?= <a@evil.example>` holds
    one address, a@evil.example; decoded first, the display name would read as a second one. Only an
    addr-spec (bare, or in angle brackets) counts, never a display name or a comment. A value that does not
    read as a plain list of mailboxes (unbalanced quotes, comments or brackets, a display name that is
    itself an address, an item that is no address) gives no address at all rather than a guess.
    """
    if not header_value:
        return []
    value = " ".join(str(header_value).split())
    expected = _expected_items(value)
    if expected is None:
        return []
    found = [address for _, address in getaddresses([value])]
    if len(found) != expected or not all(_ADDRESS.fullmatch(address) for address in found):
        return []
    return [address.lower() for address in found]


def sender_address(header_value: str | None) -> str:
    """The one address of a From-like header as written ("" when it holds none, or more than one)."""
    found = sender_addresses(header_value)
    return found[0] if len(found) == 1 else ""


def claims(entries: Iterable[str], address: str) -> bool:
    """Whether `emails_circuit_maintenances` entries claim `address`: the exact address, or `@` its domain.

    An exact address claims only itself; only an `@domain` entry claims a whole domain.
    """
    address = address.lower()
    domain = address.rpartition("@")[2]
    if not address or not domain:
        return False
    wanted = {address, f"@{domain}"}
    return any(entry.lower() in wanted for entry in entries)


def parser_name_for(name: str, override: str | None, site_parsers: Iterable[str] | None = None) -> str | None:
    """The parser for a provider: the override if set, else its name, if the library or a site parser knows it.

    Site parsers are those installed distributions register (site_parsers.py); the library's
    names come first. `site_parsers` defaults to the installed ones.
    """
    known = set(SUPPORTED_PROVIDER_NAMES) | set(site_parser_names() if site_parsers is None else site_parsers)
    if override:
        candidate = override.strip().lower()
        return candidate if candidate in known else None
    candidate = name.strip().lower().replace(" ", "").replace("-", "")
    return candidate if candidate in known else None


@dataclass(frozen=True)
class ProviderEntry:
    """A provider as the sender directory holds it: its pk, name and parser (None when none fits).

    `template` is the provider's notice template as JSON text (notice_templates/spec.py), "" when it has none:
    plain data, so it reaches the parse workers as it is; a template outranks the parser.
    """

    pk: object
    name: str
    parser: str | None
    template: str = ""


class SenderDirectory:
    """Maps sender addresses to the providers that claim them (exact address first, then `@domain`)."""

    def __init__(self, providers: Iterable[tuple[object, str, dict]], templates: Mapping[object, str] | None = None):
        """Index each provider by the addresses and `@domain`s it claims, the first claim winning.

        `templates` holds the providers' notice templates (JSON text) by provider pk.
        """
        self._by_address: dict[str, ProviderEntry] = {}
        self._by_domain: dict[str, ProviderEntry] = {}
        templates = templates or {}
        site_parsers = site_parser_names()
        for pk, name, custom_fields in providers:
            parser = parser_name_for(name, (custom_fields or {}).get(PARSER_FIELD), site_parsers)
            entry = ProviderEntry(pk, name, parser, templates.get(pk, ""))
            for address in split_addresses((custom_fields or {}).get(EMAILS_FIELD)):
                if address.startswith("@"):
                    self._by_domain.setdefault(address[1:], entry)
                else:
                    self._by_address.setdefault(address, entry)

    def __bool__(self) -> bool:
        """Whether any provider claims an address or a domain."""
        return bool(self._by_address or self._by_domain)

    def addresses(self) -> list[str]:
        """Every claimed address, domains as `@domain`: a source may use them to narrow what it reads."""
        return sorted([*self._by_address, *(f"@{domain}" for domain in self._by_domain)])

    def claims_of(self, provider: ProviderEntry) -> set[str]:
        """The entries `provider` claims here: exact addresses and `@domain`s.

        They are what authentication checks the sender against; an exact address never widens to its domain.
        """
        found = {f"@{domain}" for domain, entry in self._by_domain.items() if entry == provider}
        return found | {address for address, entry in self._by_address.items() if entry == provider}

    def provider_of(self, address: str) -> ProviderEntry | None:
        """The provider claiming a bare address: its exact address first, then its domain."""
        address = address.lower()
        if not address:
            return None
        if address in self._by_address:
            return self._by_address[address]
        return self._by_domain.get(address.rpartition("@")[2])

    def lookup(self, header_value: str | None) -> ProviderEntry | None:
        """The provider of a From-like header as written (see `sender_address`: one address, else none)."""
        return self.provider_of(sender_address(header_value))
