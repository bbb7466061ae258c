"""Nautobot's test runner, timing every test class: `CM_TEST_TIMES=path ./run unittest` writes where the time goes.

Each class's time runs from its first test's start to its last test's end (its fixtures included, but for
the first `setUpClass`); the slowest are printed at the end and all are written to `CM_TEST_TIMES` as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
import unittest
from collections import defaultdict

from nautobot.core.tests.runner import NautobotTestRunner


class TimingResult(unittest.TextTestResult):
    """Per test class: seconds from its first test's start to its last test's end."""

    spans: dict[str, list[float]] = defaultdict(list)

    def startTest(self, test: unittest.TestCase) -> None:  # noqa: N802 - unittest's name
        span = self.spans[f"{type(test).__module__}.{type(test).__qualname__}"]
        now = time.monotonic()
        if not span:
            span.extend([now, now])
        super().startTest(test)

    def stopTest(self, test: unittest.TestCase) -> None:  # noqa: N802 - unittest's name
        super().stopTest(test)
        self.spans[f"{type(test).__module__}.{type(test).__qualname__}"][1] = time.monotonic()


class TimingRunner(NautobotTestRunner):
    """NautobotTestRunner with TimingResult; the report goes to stderr and to `CM_TEST_TIMES`."""

    def get_resultclass(self) -> type:
        return TimingResult

    def run_suite(self, suite: unittest.TestSuite, **kwargs: object) -> unittest.TestResult:
        result = super().run_suite(suite, **kwargs)
        spans = {name: round(end - start, 1) for name, (start, end) in TimingResult.spans.items()}
        ranked = sorted(spans.items(), key=lambda item: -item[1])
        sys.stderr.write("\nSlowest test classes (s):\n")
        for name, seconds in ranked[:30]:
            sys.stderr.write(f"{seconds:8.1f}  {name}\n")
        with open(os.environ["CM_TEST_TIMES"], "w", encoding="utf-8") as out:
            json.dump(dict(ranked), out, indent=1)
        return result
