"""Where a sync's time goes: one real run under cProfile, its time split into the run's stages.

    ./run benchmark --profile            # the largest first sync profiled; stages and the top functions

The stages are the functions each step of a run goes through (a function's cumulative time counts
everything it calls). They overlap where one step calls another — the diff writes the change log —
so the table also says what each stage includes. The job's process only: the parse workers are
separate processes, and what the job waits for them is the stage "waiting for the parse workers".
"""

from __future__ import annotations

import cProfile
import io
import pstats
from collections.abc import Callable
from pathlib import Path
from typing import Any

# (stage, (file suffix, function name) of the function whose cumulative time it is, what it includes)
STAGES: tuple[tuple[str, tuple[str, str], str], ...] = (
    ("whole job", ("nautobot/extras/jobs.py", "run_job"), "everything below, and Nautobot's job start and end"),
    ("reading mail", ("intake/read.py", "read_chunk"), "fetch, dedup query, waiting for the parse workers"),
    ("waiting for the parse workers", ("intake/workers.py", "result"), "the part of reading spent waiting"),
    ("folding with history", ("intake/history.py", "fold_with_history"), "stored notices query and the fold"),
    ("diff and write maintenances", ("diffsync/__init__.py", "sync_from"), "bulk writes and their change log"),
    ("change log of bulk writes", ("compat/changelog.py", "_log_bulk"), "serializing records for ObjectChange"),
    ("storing notifications", ("intake/commit.py", "commit_chunk"), "raw and parsed notifications, cursors"),
    ("flags after the run", ("flags/store.py", "refresh_flags_after_sync"), "isolation and redundancy flags"),
    (
        "Nautobot's end-of-job dispatch",
        ("nautobot/extras/context_managers.py", "web_request_context"),
        "Job Hooks, Webhooks and events per change",
    ),
)


def profiled(call: Callable[[], Any], dump: Path | None = None) -> tuple[Any, pstats.Stats]:
    """Run `call` under cProfile; its result and the statistics (also written to `dump`, for snakeviz and the like)."""
    profile = cProfile.Profile()
    result = profile.runcall(call)
    if dump is not None:
        profile.dump_stats(str(dump))
    return result, pstats.Stats(profile, stream=io.StringIO())


def stage_seconds(stats: pstats.Stats) -> dict[str, float]:
    """Each stage's cumulative seconds (0 for a stage the run did not go through)."""
    found: dict[str, float] = {}
    for stage, (suffix, name), _ in STAGES:
        found[stage] = sum(
            cumulative
            for (filename, _, function), (_, _, _, cumulative, _) in stats.stats.items()  # type: ignore[attr-defined]
            if function == name and filename.endswith(suffix)
        )
    return found


def top_functions(stats: pstats.Stats, count: int = 25) -> str:
    """The functions with the most time of their own, as pstats prints them."""
    stream = io.StringIO()
    stats.stream = stream  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(count)
    return stream.getvalue()


def stage_table(stats: pstats.Stats) -> str:
    """The stages with their seconds and share of the whole job, one per line."""
    seconds = stage_seconds(stats)
    whole = seconds["whole job"] or 1.0
    lines = [f"{'stage':<34} {'seconds':>8} {'share':>6}  includes"]
    for stage, _, includes in STAGES:
        lines.append(f"{stage:<34} {seconds[stage]:>8.2f} {seconds[stage] / whole:>6.0%}  {includes}")
    return "\n".join(lines)
