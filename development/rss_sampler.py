"""Peak resident memory of a process and all its descendants, sampled from outside it.

    python development/rss_sampler.py PID INTERVAL   # samples until its stdin closes, then prints the peak KiB

A separate process, so that sampling costs the measured process nothing: a sampling thread inside it would
take turns with the sync for Python's interpreter lock and slow down what the benchmark times.
Standalone (no Django), Linux `/proc` only.
"""

from __future__ import annotations

import os
import select
import sys


def rss_kib(pid: int) -> int:
    """The resident memory of `pid` in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every process below `pid`: its children, theirs, and so on."""
    found, stack = [], [pid]
    while stack:
        parent = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", encoding="ascii") as children:
                    for child in children.read().split():
                        found.append(int(child))
                        stack.append(int(child))
            except OSError:
                continue
    return found


def sample_until_stdin_closes(pid: int, interval: float) -> int:
    """The highest total resident memory of `pid` and its descendants seen, sampling every `interval` seconds."""
    peak = 0
    me = os.getpid()
    while True:
        peak = max(peak, sum(rss_kib(each) for each in [pid, *descendants(pid)] if each != me))
        ready, _, _ = select.select([sys.stdin], [], [], interval)
        if ready and not sys.stdin.buffer.read1(1):
            return peak


if __name__ == "__main__":
    print(sample_until_stdin_closes(int(sys.argv[1]), float(sys.argv[2])), flush=True)
