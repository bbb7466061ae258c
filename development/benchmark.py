"""Benchmark: the real sync job against the parser alone, on this machine; a table and JSON.

    ./run benchmark                      # everything, 5,000-mail backlog
    ./run benchmark --count 1000 --quick # a smaller backlog, no 10k-maintenance store
    ./run benchmark --profile            # and where the largest first sync's time goes (development/sync_profile.py)

It runs against the demo database (`./run demo --no-serve` first) and removes its own records before
each step (development/measure.py says how), so it can be run again. Measured:

- the parse floor: circuit-maintenance-parser 2.12 alone, one process, plain chardet; and the same with
  the charset detector the app installs (cchardet);
- the first sync of a 1,000- and an N-mail backlog from a local folder, end to end (fetch, parse in the
  worker pool, fold, diff, write), with SQL statements per mail and the peak RSS of the job's process and
  its parse workers together;
- a run with no new mail and a run with 10 new mails, on the database as it is and with a store of
  10,000 maintenances and 50,000 notifications;
- mail-to-record latency through the IMAP watcher (development/benchmark_latency.py) and the Gmail
  backlog fetch (development/benchmark_gmail.py), when not skipped.

Timings are never asserted in tests; tests/test_benchmark.py runs a small version and checks counts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NAUTOBOT_CONFIG", str(ROOT / "development" / "nautobot_config.py"))

import nautobot  # noqa: E402

nautobot.setup()

from development import measure, sync_profile  # noqa: E402
from nautobot_ssot_circuit_maintenance.intake.workers import close_parse_pools  # noqa: E402

STORE_MAINTENANCES = 10_000
STORE_NOTICES_PER_MAINTENANCE = 5
NEW_MAILS = 10
# Runs of each steady-state measurement; the median is reported.
ROUNDS = 5


def first_syncs(counts: list[int], results: dict, show_sql: bool) -> None:
    """Parse floors, then the first sync of each backlog size on a clean slate."""
    largest = max(counts)
    with tempfile.TemporaryDirectory(prefix="cm-bench-") as directory:
        folder = Path(directory)
        measure.use_benchmark_source(folder)
        measure.clean_previous()
        mails = measure.build_backlog(largest, folder)
        print(f"backlog: {largest} mails, {sum(p.stat().st_size for p, _ in mails) / 1e6:.1f} MB", flush=True)
        plain = measure.parse_floor(mails, fast=False, checkpoints=tuple(counts))
        fast = measure.parse_floor(mails, fast=True, checkpoints=tuple(counts))
        for count in counts:
            results[f"parse_floor_{count}_s"] = round(plain[count], 2)
            results[f"parse_floor_fast_charset_{count}_s"] = round(fast[count], 2)
            print(f"parse floor {count}: {plain[count]:.2f} s plain, {fast[count]:.2f} s with cchardet", flush=True)
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="cm-bench-") as directory:
            folder = Path(directory)
            measure.use_benchmark_source(folder)
            measure.clean_previous()
            measure.build_backlog(count, folder)
            close_parse_pools()  # each size starts its workers afresh: their memory is measured
            with measure.PeakRss() as rss:
                run = measure.run_sync(show_sql=show_sql and count == largest)
            results[f"first_sync_{count}_s"] = round(run.seconds, 2)
            results[f"first_sync_{count}_vs_floor"] = round(run.seconds / plain[count], 3)
            results[f"sql_per_mail_{count}"] = round(run.statements / count, 3)
            results[f"peak_rss_{count}_mb"] = round(rss.peak_mb, 1)
            results[f"stored_{count}"] = run.stored
            results[f"maintenances_{count}"] = run.maintenances
            print(
                f"first sync {count}: {run.seconds:.2f} s = {run.seconds / plain[count]:.2f}x the floor; "
                f"{run.statements / count:.2f} SQL/mail; peak RSS {rss.peak_mb:.0f} MB; "
                f"{run.stored} stored, {run.maintenances} maintenances",
                flush=True,
            )


def profile_first_sync(count: int, results: dict) -> None:
    """The first sync of the `count` backlog once more, under cProfile: its stages and top functions.

    Not the measured run (the profiler slows Python down, not the parse workers or PostgreSQL): the figures
    say where the time goes, in proportion.
    """
    with tempfile.TemporaryDirectory(prefix="cm-bench-") as directory:
        folder = Path(directory)
        measure.use_benchmark_source(folder)
        measure.clean_previous()
        measure.build_backlog(count, folder)
        close_parse_pools()
        dump = ROOT / "benchmark-profile.pstats"
        _, stats = sync_profile.profiled(measure.run_sync, dump=dump)
    for stage, seconds in sync_profile.stage_seconds(stats).items():
        results[f"profile_{count}_{stage.replace(' ', '_').replace(chr(39), '')}_s"] = round(seconds, 2)
    print(f"\nfirst sync of {count} mails under cProfile (statistics in {dump}):", flush=True)
    print(sync_profile.stage_table(stats), flush=True)
    print(sync_profile.top_functions(stats, 20), flush=True)


def steady_state(results: dict, store: bool) -> None:
    """No new mail, then 10 new mails: on the database as it is, then (store) with a large history."""
    scenarios = [("empty", 0)] + ([("large", STORE_MAINTENANCES)] if store else [])
    for name, maintenances in scenarios:
        with tempfile.TemporaryDirectory(prefix="cm-bench-") as directory:
            folder = Path(directory)
            source = measure.use_benchmark_source(folder)
            measure.clean_previous()
            if maintenances:
                print(
                    f"storing {maintenances} maintenances with {STORE_NOTICES_PER_MAINTENANCE} notices each", flush=True
                )
                measure.seed_store(maintenances, STORE_NOTICES_PER_MAINTENANCE, source)
            measure.settle_database()
            # A first run with one mail sets the cursor and starts the parse workers: what follows is steady.
            measure.build_backlog(1, folder)
            measure.run_sync()
            idle = statistics.median(measure.run_sync().seconds for _ in range(ROUNDS))
            new = []
            for round_ in range(ROUNDS):
                measure.build_backlog(NEW_MAILS, folder, first=1 + round_ * NEW_MAILS)
                new.append(measure.run_sync().seconds)
            results[f"no_new_mail_{name}_s"] = round(idle, 3)
            results[f"new_{NEW_MAILS}_mails_{name}_s"] = round(statistics.median(new), 3)
            print(
                f"{name} store: no new mail {idle:.3f} s; {NEW_MAILS} new mails {statistics.median(new):.3f} s "
                f"(medians of {ROUNDS} runs)",
                flush=True,
            )
    if store:
        results["new_mails_large_vs_empty"] = round(
            results[f"new_{NEW_MAILS}_mails_large_s"] / results[f"new_{NEW_MAILS}_mails_empty_s"], 3
        )
    measure.clean_previous()


def gmail_backlog(results: dict) -> None:
    """A 1,000-message Gmail backlog read through the real Google client stack from the loopback Gmail,
    batched and one request per message, with a 50 ms round trip as Google's would add."""
    from development.benchmark_gmail import measure_gmail_backlog

    figures = measure_gmail_backlog(count=1000, latency=0.05)
    for mode in ("batched", "one_request_per_message"):
        results[f"gmail_1000_{mode}_s"] = round(figures[mode]["seconds"], 2)
        results[f"gmail_1000_{mode}_requests"] = figures[mode]["http_requests"]
    print(f"Gmail backlog: {json.dumps(figures)}", flush=True)


def latency(results: dict) -> None:
    """50 notices appended one by one to an IMAP mailbox the watcher follows; seconds until each is a record."""
    from development.benchmark_latency import measure_latency

    figures = measure_latency(count=50)
    for key in ("p50", "p95", "max"):
        results[f"latency_{key}_s"] = round(figures[key], 2)
    print(f"latency: {json.dumps(figures)}", flush=True)


TARGETS = {
    "first_sync_{largest}_vs_floor": "≤ 0.4",
    "no_new_mail_large_s": "< 0.3",
    "new_mails_large_vs_empty": "≤ 1.2",
    "peak_rss_{largest}_mb": "< 1024",
    "latency_p95_s": "≤ 10",
}


def print_table(results: dict, largest: int) -> None:
    targets = {key.format(largest=largest): target for key, target in TARGETS.items()}
    width = max(len(key) for key in results)
    print(f"\n{'measure':<{width}}  {'figure':>10}  target")
    for key, value in results.items():
        print(f"{key:<{width}}  {value!s:>10}  {targets.get(key, '')}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000, help="the largest backlog (a 1,000 one is measured too)")
    parser.add_argument("--quick", action="store_true", help="no large store, no Gmail, no latency")
    parser.add_argument("--sql", action="store_true", help="print the most frequent SQL statements of the first sync")
    parser.add_argument("--profile", action="store_true", help="profile the largest first sync once more: its stages")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmark-results.json", help="where the JSON goes")
    args = parser.parse_args()

    results: dict = {}
    counts = sorted({min(1000, args.count), args.count})
    first_syncs(counts, results, args.sql)
    if args.profile:
        profile_first_sync(args.count, results)
    steady_state(results, store=not args.quick)
    close_parse_pools()
    if not args.quick:
        gmail_backlog(results)
        latency(results)
    print_table(results, args.count)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
