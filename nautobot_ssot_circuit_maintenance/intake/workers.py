"""A pool of worker processes that parse messages, each with a deadline and a memory limit.

Why processes: a parser that never returns (the parser's MIME walk is exponential in the nesting
depth) can only be stopped by killing what runs it, and a message that inflates to gigabytes must
not take the sync's own process with it. The workers are plain child processes started with
`subprocess` (Celery's prefork workers are daemonic, and daemonic processes may not use
`multiprocessing`), speaking length-prefixed pickles over their stdin and stdout. They also let a
backlog use every core.

The pool lives as long as the process that made it; an idle worker exits on its own after
`IDLE_EXIT_SECONDS` and is started again when needed. `submit` parses a batch in the background (one
thread feeds the workers), so the sync reads and parses the next chunk while it writes the current one.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import functools
import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.intake.parse import ParsedMessage, headers_only, process_message
from nautobot_ssot_circuit_maintenance.intake.sources.base import FetchedMessage
from nautobot_ssot_circuit_maintenance.mail.bounds import MessageBounds
from nautobot_ssot_circuit_maintenance.mail.packing import parser_version
from nautobot_ssot_circuit_maintenance.providers import SenderDirectory

FRAME = struct.Struct(">Q")
READY = b"ready"
IDLE_EXIT_SECONDS = 300.0
START_TIMEOUT_SECONDS = 120.0
WORKER_MODULE = "nautobot_ssot_circuit_maintenance.intake.worker_main"
# How much of what a worker printed before it was ready goes into the error when it could not start.
START_ERROR_BYTES = 1500
START_ERROR_LINES = 3


class PoolBroken(RuntimeError):
    """The worker processes cannot start: a problem of the installation, not of any message."""


@dataclass(frozen=True)
class ParseTask:
    """What a worker needs to process one message."""

    fetched: FetchedMessage
    directory: SenderDirectory
    source_header: str
    raw_size_limit: int
    bounds: MessageBounds
    forwarders: tuple[str, ...] = ()

    def run(self) -> ParsedMessage:
        """Process the message in this worker process."""
        return process_message(
            self.fetched,
            directory=self.directory,
            source_header=self.source_header,
            raw_size_limit=self.raw_size_limit,
            bounds=self.bounds,
            forwarders=self.forwarders,
        )

    def failed(self, outcome: str, error: str) -> ParsedMessage:
        """The parser ran on this message and was stopped (deadline, memory, crash)."""
        return headers_only(
            self.fetched, self.raw_size_limit, outcome, error, parser_version(), source_header=self.source_header
        )


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    """Send one length-prefixed frame."""
    stream.write(FRAME.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def read_frame(stream: IO[bytes]) -> bytes:
    """Read one length-prefixed frame; EOFError when the stream ends before it does."""
    header = stream.read(FRAME.size)
    if len(header) < FRAME.size:
        raise EOFError("the worker closed its output")
    (size,) = FRAME.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("the worker stopped in the middle of an answer")
    return payload


def _is_python_of(path: str, prefixes: Sequence[str]) -> bool:
    """`path` names a Python interpreter in the `bin` folder of one of `prefixes`.

    Symlinks are not followed: a virtualenv's python is a link to the base interpreter, and only the link makes it
    the venv's.
    """
    folder = os.path.dirname(os.path.abspath(path))
    return os.path.basename(path).startswith("python") and any(
        folder == os.path.join(os.path.abspath(prefix), "bin") for prefix in prefixes
    )


def worker_interpreter(
    executable: str | None = None,
    prefixes: Sequence[str] | None = None,
    base_prefix: str | None = None,
) -> str:
    """The Python interpreter of the environment this process runs in, to start parse workers with.

    Usually `sys.executable`. But under uWSGI (`nautobot-server start`) in a virtualenv, `sys.executable`
    is the base interpreter the venv was made from (or the uwsgi binary), which cannot import the app or
    Nautobot: then the environment's own `bin/python…` (from `sys.prefix` / `sys.exec_prefix`) is used.
    Raises PoolBroken, with the reason, when there is none. The arguments default to this process's
    (they are there for the tests).
    """
    executable = sys.executable if executable is None else executable
    prefixes = [sys.prefix, sys.exec_prefix] if prefixes is None else list(prefixes)
    base_prefix = sys.base_prefix if base_prefix is None else base_prefix
    if executable and _is_python_of(executable, prefixes):
        return executable
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    tried = []
    for prefix in dict.fromkeys(prefixes):
        for name in (f"python{version}", f"python{sys.version_info.major}", "python"):
            candidate = os.path.join(prefix, "bin", name)
            tried.append(candidate)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    in_virtualenv = any(os.path.abspath(prefix) != os.path.abspath(base_prefix) for prefix in prefixes)
    if executable and not in_virtualenv and os.path.basename(executable).startswith("python"):
        return executable  # a Python installed outside any prefix's bin (not a virtualenv): it is this one
    raise PoolBroken(
        f"no Python interpreter of this environment to start parse workers with: {executable or 'no executable'!r} "
        f"is not one, and none of {', '.join(tried)} exists"
    )


class Worker:
    """One child process."""

    def __init__(self, memory_bytes: int, fast_charset: bool):
        """Start the worker process with this environment's interpreter; PoolBroken if it cannot start."""
        arguments = [str(memory_bytes), str(IDLE_EXIT_SECONDS), "1" if fast_charset else "0"]
        interpreter = worker_interpreter()
        # What the worker prints before it is ready (an import error, say) is the reason it could not start;
        # once ready it sends its output elsewhere (worker_main), so this file stays small.
        self.start_output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own module, run by this environment's interpreter
                [interpreter, "-m", WORKER_MODULE, *arguments],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.start_output,
                start_new_session=True,
            )
        except OSError as error:
            self.start_output.close()
            raise PoolBroken(f"a parse worker could not be started with {interpreter}: {error}") from None
        self.interpreter = interpreter
        self.ready = False

    def start_error(self) -> str:
        """The last lines the worker printed before it was ready, on one line.

        That is a traceback's end: where, and the error.
        """
        try:
            self.start_output.seek(0, os.SEEK_END)
            size = self.start_output.tell()
            self.start_output.seek(max(0, size - START_ERROR_BYTES))
            text = self.start_output.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
        return " | ".join(lines[-START_ERROR_LINES:])

    @property
    def alive(self) -> bool:
        """Whether the worker process is still running."""
        return self.process.poll() is None

    def wait_ready(self, deadline: float) -> None:
        """Wait until the worker says it is ready; PoolBroken, with what it printed, if it does not."""
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        try:
            if not selector.select(max(0.0, deadline - time.monotonic())):
                output = self.start_error()
                raise PoolBroken("a parse worker did not start in time" + (f": {output}" if output else ""))
            if read_frame(self.process.stdout) != READY:
                raise PoolBroken("a parse worker answered something unexpected at start")
        except EOFError:
            try:
                status: int | str | None = self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                status = "still running"
            output = self.start_error()
            raise PoolBroken(
                f"a parse worker ({self.interpreter} -m {WORKER_MODULE}) exited at start (status {status})"
                + (f": {output}" if output else "")
            ) from None
        finally:
            selector.close()
        self.ready = True
        self.start_output.close()

    def send(self, task: ParseTask) -> None:
        """Send the worker one task."""
        write_frame(self.process.stdin, pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL))

    def receive(self) -> ParsedMessage:
        """The worker's answer to the task it was sent."""
        return pickle.loads(read_frame(self.process.stdout))  # noqa: S301 - our own child's answer

    def stop(self) -> str:
        """Kill the child; describe how it ended."""
        if self.alive:
            self.process.kill()
        status = self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.start_output):
            try:
                stream.close()
            except OSError:
                pass
        if status < 0:
            try:
                return f"signal {signal.Signals(-status).name}"
            except ValueError:
                return f"signal {-status}"
        return f"exit status {status}"


class ParsePool:
    """Process messages in parallel, one worker per core by default, each message within its bounds."""

    def __init__(self, *, workers: int, bounds: MessageBounds, fast_charset: bool = True):
        """A pool of up to `workers` worker processes (at least one), started when first needed."""
        self.size = max(1, workers)
        self.bounds = bounds
        self.fast_charset = fast_charset
        self.workers: list[Worker] = []
        self._lock = threading.Lock()
        self._feeder: concurrent.futures.ThreadPoolExecutor | None = None
        self._feeder_pid = os.getpid()

    def _start(self, count: int) -> None:
        self.workers = [worker for worker in self.workers if worker.alive]
        fresh = [Worker(self.bounds.worker_memory_bytes, self.fast_charset) for _ in range(count - len(self.workers))]
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        try:
            for worker in fresh:
                worker.wait_ready(deadline)
        except PoolBroken:
            for worker in fresh:
                worker.stop()
            raise
        self.workers.extend(fresh)

    def process(
        self,
        messages: Sequence[FetchedMessage],
        *,
        directory: SenderDirectory,
        source_header: str,
        raw_size_limit: int,
        forwarders: tuple[str, ...] = (),
        cancelled: threading.Event | None = None,
    ) -> list[ParsedMessage]:
        """The messages' results, in order. Raises PoolBroken only when no worker can start at all.

        Once `cancelled` is set, no further message is sent to a worker and the results are not complete.
        """
        tasks = [
            ParseTask(message, directory, source_header, raw_size_limit, self.bounds, tuple(forwarders))
            for message in messages
        ]
        if not tasks:
            return []
        with self._lock:
            return self._run(tasks, cancelled or threading.Event())

    def submit(
        self,
        messages: Sequence[FetchedMessage],
        *,
        directory: SenderDirectory,
        source_header: str,
        raw_size_limit: int,
        forwarders: tuple[str, ...] = (),
    ) -> PendingParse:
        """Start parsing the messages in the background; batches submitted one after another are parsed in turn."""
        if self._feeder is None or self._feeder_pid != os.getpid():
            # A forked process has no thread of its parent's: it starts its own.
            self._feeder = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="parse-feeder")
            self._feeder_pid = os.getpid()
        cancelled = threading.Event()
        parse = functools.partial(
            self.process,
            messages,
            directory=directory,
            source_header=source_header,
            raw_size_limit=raw_size_limit,
            forwarders=forwarders,
            cancelled=cancelled,
        )
        return PendingParse(self._feeder.submit(parse), cancelled, parse)

    def _run(self, tasks: list[ParseTask], cancelled: threading.Event) -> list[ParsedMessage]:
        results: list[ParsedMessage | None] = [None] * len(tasks)
        pending = deque(range(len(tasks)))
        busy: dict[Worker, tuple[int, float]] = {}
        selector = selectors.DefaultSelector()
        timeout = self.bounds.parse_timeout_seconds
        try:
            while pending or busy:
                if cancelled.is_set():
                    pending.clear()
                    if not busy:
                        break
                wanted = min(self.size, len(pending) + len(busy))
                if len([w for w in self.workers if w.alive]) < wanted:
                    self._start(wanted)
                for worker in self.workers:
                    if not pending:
                        break
                    if worker in busy or not worker.alive:
                        continue
                    index = pending.popleft()
                    try:
                        worker.send(tasks[index])
                    except (BrokenPipeError, OSError):
                        # It exited while idle: start another and try the message again.
                        worker.stop()
                        pending.appendleft(index)
                        continue
                    busy[worker] = (index, time.monotonic() + timeout)
                    selector.register(worker.process.stdout, selectors.EVENT_READ, worker)
                if not busy:
                    continue
                earliest = min(deadline for _, deadline in busy.values())
                for key, _ in selector.select(max(0.0, earliest - time.monotonic())):
                    worker = key.data
                    index, _ = busy.pop(worker)
                    selector.unregister(worker.process.stdout)
                    try:
                        results[index] = worker.receive()
                    except (EOFError, pickle.UnpicklingError, OSError):
                        how = worker.stop()
                        results[index] = tasks[index].failed(
                            OutcomeChoices.TOO_LARGE if how == "signal SIGKILL" else OutcomeChoices.PARSING_FAILED,
                            f"the parser's worker process died ({how}) on this message",
                        )
                now = time.monotonic()
                for worker, (index, deadline) in list(busy.items()):
                    if deadline <= now:
                        busy.pop(worker)
                        selector.unregister(worker.process.stdout)
                        worker.stop()
                        results[index] = tasks[index].failed(
                            OutcomeChoices.PARSE_TIMEOUT, f"parsing took longer than {timeout:g} s and was stopped"
                        )
        finally:
            for worker in busy:
                worker.stop()
            selector.close()
        return results  # type: ignore[return-value]

    def close(self) -> None:
        """Stop every worker (after the batch being parsed in the background, if any)."""
        if self._feeder is not None and self._feeder_pid == os.getpid():
            self._feeder.shutdown(wait=True, cancel_futures=True)
        self._feeder = None
        for worker in self.workers:
            worker.stop()
        self.workers = []


@dataclass
class PendingParse:
    """A batch being parsed in the background: its results when done, or cancelled."""

    future: concurrent.futures.Future
    cancelled: threading.Event
    parse: Callable[[], list[ParsedMessage]]

    def result(self) -> list[ParsedMessage]:
        """The batch's results, in order, once parsed (PoolBroken as `process` raises it).

        A batch the background thread has not started is parsed here instead: a server that does not run
        an application's threads between requests (uWSGI without threads) still gets its answer.
        """
        if self.future.cancel():
            return self.parse()
        return self.future.result()

    def cancel(self) -> None:
        """Parse no further message of the batch; wait for those a worker has."""
        self.cancelled.set()
        if not self.future.cancel():
            concurrent.futures.wait([self.future])


_pools: dict[tuple[int, MessageBounds, bool], ParsePool] = {}
_pools_pid = os.getpid()


def parse_pool(*, workers: int | None, bounds: MessageBounds, fast_charset: bool = True) -> ParsePool:
    """The process's pool for these settings (workers default to one per core).

    A forked process (a Celery prefork child, a test) inherits its parent's pools, whose pipes lead
    to the parent's workers: it forgets them, without stopping them, and starts its own.
    """
    global _pools_pid  # noqa: PLW0603 - one pool registry per process
    if os.getpid() != _pools_pid:
        _pools.clear()
        _pools_pid = os.getpid()
    count = workers or os.cpu_count() or 1
    key = (count, bounds, fast_charset)
    if key not in _pools:
        for pool in _pools.values():
            pool.close()
        _pools.clear()
        _pools[key] = ParsePool(workers=count, bounds=bounds, fast_charset=fast_charset)
    return _pools[key]


@atexit.register
def close_parse_pools() -> None:
    """Stop this process's parse workers (they would exit on their own when idle)."""
    if os.getpid() != _pools_pid:
        return
    for pool in _pools.values():
        pool.close()
