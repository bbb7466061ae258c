"""circuit-maintenance-parser and BeautifulSoup: quiet logging, fast charset detection."""

from __future__ import annotations

import logging
from typing import Any

PARSER_LOGGER = "circuit_maintenance_parser"


def quiet_parser_logging() -> None:
    """circuit-maintenance-parser logs whole raw messages at ERROR on some failures.

    Mail is untrusted and may be large; the app records its own, bounded error per message instead.
    """
    logging.getLogger(PARSER_LOGGER).setLevel(logging.CRITICAL)


class _FastCharsetDetector:
    """Answers `chardet.detect` with cchardet (C, many times faster), in chardet's result shape."""

    @staticmethod
    def detect(data: bytes) -> dict[str, Any]:
        import cchardet

        return cchardet.detect(data)


def use_fast_charset_detection(enabled: bool = True) -> bool:
    """Answer the parser's charset detection with cchardet (the `faust-cchardet` package), or with chardet.

    Charset detection is most of the parser's time. Two places detect: BeautifulSoup's UnicodeDammit,
    which reads the module it chose at import from `bs4.dammit.chardet_module`, and the parser's
    `GenericProvider.filter_check`, which calls `chardet.detect` through the `chardet` name of its
    `provider` module. Both names are set here. Returns whether the fast detector is in use.
    tests/test_compat.py checks that both libraries still read those names, and that every corpus
    mail parses identically either way.
    """
    import chardet
    from bs4 import dammit
    from circuit_maintenance_parser import provider

    try:
        import cchardet
    except ImportError:
        cchardet, enabled = None, False
    provider.chardet = _FastCharsetDetector if enabled else chardet
    dammit.chardet_module = cchardet if enabled else chardet
    return enabled
