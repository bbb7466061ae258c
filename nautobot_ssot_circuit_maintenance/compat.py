"""Workarounds for the libraries under the app, each in one place with a test (tests/test_compat.py).

When a library changes what a workaround relies on, its test fails loudly instead of the app
misbehaving quietly.
"""

from __future__ import annotations

import logging

PARSER_LOGGER = "circuit_maintenance_parser"


def quiet_parser_logging() -> None:
    """circuit-maintenance-parser logs whole raw messages at ERROR on some failures.

    Mail is untrusted and may be large; the app records its own, bounded error per message instead.
    """
    logging.getLogger(PARSER_LOGGER).setLevel(logging.CRITICAL)
