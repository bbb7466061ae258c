"""The workarounds in compat.py: each fails loudly here when the library under it changes."""

from __future__ import annotations

import email
import inspect
import logging
import unittest

import chardet
from bs4 import dammit
from circuit_maintenance_parser import provider
from circuit_maintenance_parser.provider import GenericProvider

from nautobot_ssot_circuit_maintenance.compat import PARSER_LOGGER, quiet_parser_logging, use_fast_charset_detection
from nautobot_ssot_circuit_maintenance.pipeline.parse import parse_maintenances
from tests.sample_data import corpus_messages, expected_maintenances


def parse_corpus() -> dict[str, object]:
    results: dict[str, object] = {}
    for name, raw, entry in corpus_messages():
        try:
            results[name] = parse_maintenances(email.message_from_string(raw.decode()), entry["provider_parser"])
        except Exception as error:  # noqa: BLE001 - a failure is a result to compare too
            results[name] = f"{type(error).__name__}: {error}"
    return results


class ParserLoggingTestCase(unittest.TestCase):
    def test_the_parser_logs_under_the_name_we_quiet(self):
        # The parser's modules log through children of its package logger, which is what we quiet.
        self.assertTrue(provider.logger.name.startswith(f"{PARSER_LOGGER}."), provider.logger.name)
        quiet_parser_logging()
        self.assertEqual(provider.logger.getEffectiveLevel(), logging.CRITICAL)


class FastCharsetDetectionTestCase(unittest.TestCase):
    def tearDown(self):
        use_fast_charset_detection(True)

    def test_the_libraries_still_read_the_names_we_set(self):
        self.assertIn("chardet.detect(", inspect.getsource(GenericProvider.filter_check))
        self.assertIn("\nimport chardet\n", inspect.getsource(provider))  # the module name the parser calls through
        self.assertIn("module = chardet_module", inspect.getsource(dammit._chardet_dammit))

    def test_switch(self):
        self.assertTrue(use_fast_charset_detection(True))
        self.assertEqual(dammit.chardet_module.__name__, "cchardet")
        self.assertEqual(provider.chardet.detect("é".encode())["encoding"].lower(), "utf-8")
        self.assertFalse(use_fast_charset_detection(False))
        self.assertIs(provider.chardet, chardet)
        self.assertIs(dammit.chardet_module, chardet)

    def test_every_corpus_mail_parses_identically_with_and_without(self):
        use_fast_charset_detection(False)
        plain = parse_corpus()
        use_fast_charset_detection(True)
        fast = parse_corpus()
        self.assertEqual(set(plain), set(fast))
        for name in plain:
            self.assertEqual(fast[name], plain[name], name)
            self.assertEqual(fast[name], expected_maintenances(name), name)
