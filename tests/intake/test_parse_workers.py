"""Parse workers start with the Python of the app's own environment, and say why when they cannot start.

Under uWSGI (`nautobot-server start`) in a virtualenv, `sys.executable` is the base interpreter the venv
was made from: it cannot import Nautobot, so a worker started with it exits at once. Real parts: the
worker processes themselves, this virtualenv and its base interpreter.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import unittest
from pathlib import Path
from unittest import mock

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.intake.sources.base import FetchedMessage
from nautobot_ssot_circuit_maintenance.intake.workers import ParsePool, PoolBroken, worker_interpreter
from nautobot_ssot_circuit_maintenance.mail.bounds import MessageBounds
from nautobot_ssot_circuit_maintenance.providers import EMAILS_FIELD, PARSER_FIELD, SenderDirectory
from tests.intake.test_hostile_mail import nested_multipart

VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
# The interpreter this virtualenv was made from (its bin/python is a link to it), as uWSGI reports it.
BASE_INTERPRETER = os.path.realpath(sys.executable)
IN_A_VIRTUALENV = sys.prefix != sys.base_prefix and BASE_INTERPRETER != os.path.abspath(sys.executable)


def as_if_outside_the_virtualenv():
    """This process as if it were the base interpreter's (as when the app's environment is installed wrongly):
    parse workers start with the base interpreter, which cannot import the app, and exit at once."""
    return mock.patch.multiple(
        sys, executable=BASE_INTERPRETER, prefix=sys.base_prefix, exec_prefix=sys.base_exec_prefix
    )


MESSAGE = FetchedMessage(raw=b"From: a@example.org\r\nSubject: s\r\n\r\nhello\r\n", received=None, location="t#1")


def parse_one(pool: ParsePool):
    try:
        return pool.process([MESSAGE], directory=SenderDirectory([]), source_header="From", raw_size_limit=4096)
    finally:
        pool.close()


class WorkerInterpreterTestCase(unittest.TestCase):
    def test_this_environments_python_is_used_as_it_is(self):
        self.assertEqual(worker_interpreter(), sys.executable)

    @unittest.skipUnless(IN_A_VIRTUALENV, "needs a virtualenv whose python links to a base interpreter")
    def test_the_base_interpreter_is_replaced_by_the_virtualenvs(self):
        chosen = worker_interpreter(executable=BASE_INTERPRETER)
        self.assertEqual(chosen, os.path.join(sys.prefix, "bin", f"python{VERSION}"))
        self.assertTrue(os.access(chosen, os.X_OK))
        # uWSGI's own binary in the venv is no Python either.
        self.assertEqual(worker_interpreter(executable=os.path.join(sys.prefix, "bin", "uwsgi")), chosen)

    def test_an_environment_without_its_python_is_an_error_that_says_so(self):
        with tempfile.TemporaryDirectory() as prefix:
            (Path(prefix) / "bin").mkdir()
            with self.assertRaises(PoolBroken) as caught:
                worker_interpreter(executable="/usr/bin/uwsgi", prefixes=[prefix], base_prefix="/usr")
        self.assertIn("no Python interpreter of this environment", str(caught.exception))
        self.assertIn(f"{prefix}/bin/python{VERSION}", str(caught.exception))
        self.assertIn("/usr/bin/uwsgi", str(caught.exception))

    def test_outside_a_virtualenv_the_running_python_is_taken_where_it_lives(self):
        with tempfile.TemporaryDirectory() as prefix:
            chosen = worker_interpreter(executable="/opt/python/bin/python3", prefixes=[prefix], base_prefix=prefix)
        self.assertEqual(chosen, "/opt/python/bin/python3")


class WorkerStartTestCase(unittest.TestCase):
    @unittest.skipUnless(IN_A_VIRTUALENV, "needs a virtualenv whose python links to a base interpreter")
    def test_workers_parse_when_sys_executable_is_the_base_interpreter(self):
        # What uWSGI sets; the base interpreter alone cannot import the app.
        with mock.patch.object(sys, "executable", BASE_INTERPRETER):
            results = parse_one(ParsePool(workers=1, bounds=MessageBounds()))
        self.assertEqual(results[0].outcome, OutcomeChoices.UNKNOWN_PROVIDER, results[0].error)

    @unittest.skipUnless(IN_A_VIRTUALENV, "needs a virtualenv whose python links to a base interpreter")
    def test_a_worker_that_cannot_start_says_why(self):
        with as_if_outside_the_virtualenv():
            with self.assertRaises(PoolBroken) as caught:
                parse_one(ParsePool(workers=1, bounds=MessageBounds()))
        text = str(caught.exception)
        self.assertIn(f"a parse worker ({BASE_INTERPRETER} -m ", text)
        self.assertIn("exited at start (status 1)", text)
        self.assertIn("ModuleNotFoundError: No module named", text)


class BackgroundParseTestCase(unittest.TestCase):
    """`ParsePool.submit` parses in a background thread; a batch that thread never starts is parsed by the caller."""

    def setUp(self):
        self.pool = ParsePool(workers=1, bounds=MessageBounds())
        self.addCleanup(self.pool.close)

    def submit(self):
        return self.pool.submit([MESSAGE], directory=SenderDirectory([]), source_header="From", raw_size_limit=4096)

    def test_a_submitted_batch_is_parsed_in_the_background(self):
        pending = self.submit()
        (parsed,) = pending.future.result(timeout=120)  # done by the feeder thread, not by asking for it
        self.assertEqual(parsed.subject, "s")
        self.assertEqual([m.subject for m in pending.result()], ["s"])

    def test_a_batch_the_background_thread_never_starts_is_parsed_by_the_caller(self):
        # The feeder is kept busy, as in a server that runs no application thread between requests.
        release = threading.Event()
        self.addCleanup(release.set)
        self.submit()  # starts the feeder thread
        self.pool._feeder.submit(release.wait)
        pending = self.submit()
        answer = []
        asking = threading.Thread(target=lambda: answer.extend(pending.result()), daemon=True)
        asking.start()
        asking.join(timeout=120)
        self.assertFalse(asking.is_alive(), "the caller waited for a thread that never ran")
        self.assertEqual([m.subject for m in answer], ["s"])
        self.assertTrue(pending.future.cancelled())

    def test_cancelling_parses_nothing_more(self):
        release = threading.Event()
        self.addCleanup(release.set)
        self.submit()
        self.pool._feeder.submit(release.wait)
        pending = self.submit()
        pending.cancel()
        self.assertTrue(pending.future.cancelled())
        release.set()
        self.assertEqual(parse_one(self.pool)[0].subject, "s")  # the pool goes on


def numbered(count: int) -> list[FetchedMessage]:
    """`count` small messages with subjects s0, s1, …"""
    return [
        FetchedMessage(
            raw=f"From: a@example.org\r\nSubject: s{index}\r\n\r\nhello\r\n".encode(),
            received=None,
            location=f"t#{index}",
        )
        for index in range(count)
    ]


class StoppedWorkerTestCase(unittest.TestCase):
    """A worker stopped at a message's deadline takes only that message with it; the next ones are parsed."""

    def test_the_messages_after_one_over_its_deadline_are_parsed_by_another_worker(self):
        zayo = SenderDirectory([(1, "Zayo", {EMAILS_FIELD: "mr@zayo.com", PARSER_FIELD: "zayo"})])
        slow = FetchedMessage(raw=nested_multipart(24), received=None, location="slow")
        messages = numbered(4)
        messages.insert(1, slow)
        pool = ParsePool(workers=1, bounds=MessageBounds(max_mime_depth=40, parse_timeout_seconds=2))
        self.addCleanup(pool.close)
        results = pool.process(messages, directory=zayo, source_header="From", raw_size_limit=4096)
        self.assertEqual(
            [(parsed.subject, parsed.outcome) for parsed in results],
            [("s0", OutcomeChoices.UNKNOWN_PROVIDER), ("nested", OutcomeChoices.PARSE_TIMEOUT)]
            + [(f"s{index}", OutcomeChoices.UNKNOWN_PROVIDER) for index in range(1, 4)],
        )
        self.assertIn("longer than 2 s", results[1].error)
        self.assertEqual(len(pool.workers), 1, "the stopped worker was replaced")
