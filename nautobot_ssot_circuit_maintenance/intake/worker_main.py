"""Entry point of one parse worker (see workers.py): `python -m ...worker_main MEMORY_BYTES IDLE_SECONDS FAST_CHARSET`.

Reads ParseTasks from stdin, answers each with its ParsedMessage on stdout, and exits when its
input closes or after IDLE_SECONDS without work. Its address space is capped at MEMORY_BYTES, so a
message that inflates beyond it fails with MemoryError inside the boundary instead of growing the host.
What it prints before it is ready (an import error, say) reaches the parent, which reports it when the
worker could not start; after that its output goes nowhere.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import sys

from nautobot_ssot_circuit_maintenance.compat.parser import quiet_parser_logging, use_fast_charset_detection
from nautobot_ssot_circuit_maintenance.intake.workers import READY, read_frame, write_frame


def limit_memory(memory_bytes: int) -> None:
    """Cap the worker's address space at `memory_bytes` (0: no cap)."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def serve(memory_bytes: int, idle_seconds: float, fast_charset: bool) -> None:
    """Answer ParseTasks until the input closes or nothing comes for `idle_seconds`."""
    # The protocol owns stdout; anything a library prints goes to stderr instead.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    limit_memory(memory_bytes)
    quiet_parser_logging()
    use_fast_charset_detection(fast_charset)
    write_frame(answers, READY)
    # Started: what it printed so far was for the parent to read if the start failed; from now on a
    # library's output goes nowhere (the parent's start-up file would only grow).
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, sys.stdout.fileno())
    os.dup2(quiet, sys.stderr.fileno())
    os.close(quiet)
    while True:
        readable, _, _ = select.select([requests], [], [], idle_seconds)
        if not readable:
            return
        try:
            task = pickle.loads(read_frame(requests))  # noqa: S301 - sent by our own parent process
        except EOFError:
            return
        write_frame(answers, pickle.dumps(task.run(), protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1")
