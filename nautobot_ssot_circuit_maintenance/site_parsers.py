"""Site parsers: parser classes an installed distribution registers for providers a template cannot express.

A distribution declares, in its metadata, an entry point of the group `nautobot_ssot_circuit_maintenance.parsers`
whose name is the provider key (what the provider's `provider_parser_circuit_maintenances` custom field, or its
name, says) and whose object is a `circuit_maintenance_parser.provider.GenericProvider` subclass::

    [project.entry-points."nautobot_ssot_circuit_maintenance.parsers"]
    examplenet = "examplenet_parser:ExampleNet"

The class is used as the library's own parsers are: instantiated, then `get_maintenances(data)`. The library's
parsers keep their names: a site parser cannot replace one of them.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from circuit_maintenance_parser.provider import GenericProvider

GROUP = "nautobot_ssot_circuit_maintenance.parsers"


def site_parser_names() -> set[str]:
    """The provider keys installed distributions register parsers under (lower case)."""
    return {entry.name.strip().lower() for entry in entry_points(group=GROUP)}


def site_parser(name: str) -> GenericProvider:
    """An instance of the site parser registered as `name`; LookupError when none is, TypeError when it is no parser."""
    wanted = name.strip().lower()
    for entry in entry_points(group=GROUP):
        if entry.name.strip().lower() == wanted:
            parser_class = entry.load()
            if not (isinstance(parser_class, type) and issubclass(parser_class, GenericProvider)):
                raise TypeError(f"the site parser {entry.value!r} registered as {name!r} is not a GenericProvider")
            return parser_class()
    raise LookupError(f"no parser is registered as {name!r} in {GROUP}")
