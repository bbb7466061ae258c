"""Benchmark: the real sync job against the parser alone, on this machine; a table and JSON.

    ./run benchmark                      # everything, 5,000-mail backlog, 100,000-maintenance store
    ./run benchmark --only steady        # the steady state alone (no first sync, Gmail or latency)
    ./run benchmark --count 1000 --quick # a smaller backlog, no large store, no Gmail, no latency
    ./run benchmark --only first-sync --profile  # and where the largest first sync's time goes (sync_profile.py)

It runs against the demo database (`./run demo --no-serve` first) and removes its own records before
each step (development/measure.py says how), so it can be run again. The large store lives in a database of
its own (`<demo database>_store`, a copy of the demo database made on the first run) and is kept between
runs: seeding it takes minutes (development/store.py). Measured:

- the parse floor: circuit-maintenance-parser 2.12 alone, one process, plain chardet; and the same with
  the charset detector the app installs (cchardet);
- the first sync of a 1,000- and an N-mail backlog from a local folder, end to end (fetch, parse in the
  worker pool, fold, diff, write), with SQL statements per mail and the peak RSS of the job's process and
  its parse workers together;
- a run with no new mail and a run with 10 new mails, on the database as it is and with a store of
  100,000 maintenances and 1,000,000 notifications (`--store-maintenances`, `--store-notices`);
- on that store, the pages and REST lists people open (development/pages.py): each one's median time, its
  SQL statements and its size (a list page and the table Nautobot then fetches count together);
- mail-to-record latency through the IMAP watcher (development/benchmark_latency.py) and the Gmail
  backlog fetch (development/benchmark_gmail.py), when not skipped.

Timings are never asserted in tests; tests/test_benchmark.py runs a small version and checks counts.
"""

from __future__ import annotations

import argparse
import fnmatch
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

from django.conf import settings  # noqa: E402

from development import measure, pages, store, sync_profile  # noqa: E402
from nautobot_ssot_circuit_maintenance.intake.workers import close_parse_pools  # noqa: E402

STORE_MAINTENANCES = 100_000
STORE_NOTICES_PER_MAINTENANCE = 10
NEW_MAILS = 10
PARTS = ("first-sync", "steady", "gmail", "latency")
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


def steady_state(results: dict, details: dict, shape: store.StoreShape | None, store_db: str, rebuild: bool) -> None:
    """No new mail, then 10 new mails: on the database as it is, then (with a shape) on the large store.

    The pages are measured on the store, or on the database as it is when there is none (`--quick`).
    """
    measure_scenario(results, "empty", pages_too=shape is None, details=details)
    if shape is None:
        return
    with store.store_database(store_db):
        if rebuild:
            store.drop_store()
        print(
            f"store in database {store_db}: {shape.maintenances:,} maintenances with {shape.notices} notices each",
            flush=True,
        )
        report = store.ensure_store(shape, progress=True)
        results["store_maintenances"] = shape.maintenances
        results["store_notices"] = shape.maintenances * shape.notices
        results["store_seeded_s" if report.seeded else "store_reused_s"] = round(report.seconds, 1)
        print(f"store {'seeded' if report.seeded else 'reused'} in {report.seconds:.1f} s", flush=True)
        measure_scenario(results, "large", pages_too=True, details=details)
    results["new_mails_large_vs_empty"] = round(
        results[f"new_{NEW_MAILS}_mails_large_s"] / results[f"new_{NEW_MAILS}_mails_empty_s"], 3
    )


def measure_scenario(results: dict, name: str, *, pages_too: bool, details: dict) -> None:
    """One steady state: a warm-up run, `ROUNDS` runs with no new mail, `ROUNDS` runs with 10; then the pages.

    The new mails are the corpus's next ones (each with maintenance ids of its own), ten per run.
    """
    with tempfile.TemporaryDirectory(prefix="cm-bench-") as directory:
        folder = Path(directory)
        measure.use_benchmark_source(folder)
        measure.clean_previous()
        measure.settle_database()
        # A first run with each corpus mail once sets the cursor, starts the parse workers and has each of them
        # load every provider's parser: what follows is steady, whichever scenario comes first.
        warm = measure.corpus_size()
        measure.build_backlog(warm, folder)
        measure.run_sync()
        idle = statistics.median(measure.run_sync().seconds for _ in range(ROUNDS))
        new = []
        for round_ in range(ROUNDS):
            measure.build_backlog(NEW_MAILS, folder, first=warm + round_ * NEW_MAILS)
            new.append(measure.run_sync().seconds)
        results[f"no_new_mail_{name}_s"] = round(idle, 3)
        results[f"new_{NEW_MAILS}_mails_{name}_s"] = round(statistics.median(new), 3)
        print(
            f"{name} store: no new mail {idle:.3f} s; {NEW_MAILS} new mails {statistics.median(new):.3f} s "
            f"(medians of {ROUNDS} runs)",
            flush=True,
        )
        if pages_too:
            page_timings(results, details)
    measure.clean_previous()


def page_timings(results: dict, details: dict) -> None:
    """The pages and REST lists, each the median of 3 loads after one warm-up; a non-200 is an error."""
    user = measure.benchmark_user()
    print(f"pages, as {user.username} (median of 3 after a warm-up):", flush=True)
    for timing in pages.measure_pages(user, rounds=3, progress=True):
        results[f"{timing.name}_ms"] = round(timing.seconds * 1000) if timing.ok else f"HTTP {timing.status}"
        details.setdefault("pages", []).append(
            {
                "name": timing.name,
                "url": timing.url,
                "status": timing.status,
                "ms": round(timing.seconds * 1000, 1) if timing.ok else None,
                "requests": timing.requests,
                "sql_statements": timing.statements,
                "bytes": timing.size,
            }
        )
        if not timing.ok:
            details.setdefault("errors", []).append(f"{timing.name}: HTTP {timing.status} at {timing.url}")


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


# The targets; a key may be a pattern (fnmatch), `{largest}` the largest backlog.
TARGETS = {
    "first_sync_{largest}_vs_floor": "≤ 0.2",
    "no_new_mail_large_s": "< 0.3",
    "new_mails_large_vs_empty": "≤ 1.2",
    "peak_rss_{largest}_mb": "< 1024",
    "latency_p95_s": "≤ 10",
    "page_*_ms": "< 500",
    "api_*_ms": "< 500",
    "graphql_*_ms": "< 500",
}


def target_of(key: str, largest: int) -> str:
    """The target of a measure, if the issue sets one."""
    for pattern, target in TARGETS.items():
        if fnmatch.fnmatchcase(key, pattern.format(largest=largest)):
            return target
    return ""


def print_table(results: dict, largest: int) -> None:
    width = max(len(key) for key in results)
    print(f"\n{'measure':<{width}}  {'figure':>10}  target")
    for key, value in results.items():
        print(f"{key:<{width}}  {value!s:>10}  {target_of(key, largest)}")


def parts_of(text: str) -> set[str]:
    """The parts named in `--only` (comma-separated)."""
    parts = {part.strip() for part in text.split(",") if part.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown part(s) {', '.join(sorted(unknown))}; one of {', '.join(PARTS)}")
    return parts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000, help="the largest backlog (a 1,000 one is measured too)")
    parser.add_argument("--quick", action="store_true", help="no large store, no Gmail, no latency")
    parser.add_argument(
        "--only", type=parts_of, default=set(PARTS), help=f"comma-separated parts to run: {', '.join(PARTS)}"
    )
    parser.add_argument("--store-maintenances", type=int, default=STORE_MAINTENANCES, help="maintenances stored")
    parser.add_argument("--store-notices", type=int, default=STORE_NOTICES_PER_MAINTENANCE, help="notices each")
    parser.add_argument(
        "--store-db",
        default=f"{settings.DATABASES['default']['NAME']}_store",
        help="the database the store is kept in (made from the benchmark's database when missing)",
    )
    parser.add_argument("--rebuild-store", action="store_true", help="seed the store again even when it is complete")
    parser.add_argument("--drop-store", action="store_true", help="drop the store's database at the end")
    parser.add_argument("--sql", action="store_true", help="print the most frequent SQL statements of the first sync")
    parser.add_argument("--profile", action="store_true", help="profile the largest first sync once more: its stages")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmark-results.json", help="where the JSON goes")
    args = parser.parse_args()
    parts = args.only - ({"gmail", "latency"} if args.quick else set())

    results: dict = {}
    details: dict = {}
    if "first-sync" in parts:
        counts = sorted({min(1000, args.count), args.count})
        first_syncs(counts, results, args.sql)
        if args.profile:
            profile_first_sync(args.count, results)
    if "steady" in parts:
        shape = None if args.quick else store.StoreShape(args.store_maintenances, args.store_notices)
        steady_state(results, details, shape, args.store_db, args.rebuild_store)
    close_parse_pools()
    if "gmail" in parts:
        gmail_backlog(results)
    if "latency" in parts:
        latency(results)
    if args.drop_store:
        store.drop_database(args.store_db)
        print(f"dropped database {args.store_db}", flush=True)
    print_table(results, args.count)
    args.json.write_text(json.dumps({**results, **details}, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    for error in details.get("errors", []):
        print(f"ERROR {error}", file=sys.stderr)
    return 1 if details.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
