"""Benchmark: a backlog of N provider mails through the whole sync, against the parser alone.

    ./run benchmark --count 5000

Builds N mails from the corpus (each copy with its own Message-ID and, where the id is written
in clear text, its own maintenance id), puts them in a local folder, and measures:

- the parse floor: circuit-maintenance-parser alone over the same mails;
- the first sync, end to end (fetch, parse, fold, diff, write), with SQL statements per mail;
- a second sync with no new mail;
- peak Python memory of the sync (tracemalloc), for the backlog size given.

It runs against the demo database (run `./run demo --no-serve` first) and removes its own
records before it starts, so it can be run again.
"""

import argparse
import json
import os
import re
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NAUTOBOT_CONFIG", str(ROOT / "development" / "nautobot_config.py"))

import nautobot  # noqa: E402

nautobot.setup()

from circuit_maintenance_parser import NotificationData, init_provider  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connections  # noqa: E402
from nautobot.extras.models import Job, JobResult  # noqa: E402
from nautobot_ssot.models import Sync  # noqa: E402

from nautobot_ssot_circuit_maintenance.compat import use_fast_charset_detection  # noqa: E402
from nautobot_ssot_circuit_maintenance.models import (  # noqa: E402
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.pipeline.workers import close_parse_pools  # noqa: E402
from nautobot_ssot_circuit_maintenance.provision import sync_sources_from_config  # noqa: E402
from tests.sample_data import corpus_messages, expected_maintenances  # noqa: E402

SOURCE_NAME = "Benchmark backlog"
MARK = "-BENCH"
MESSAGE_ID = re.compile(rb"^Message-ID:.*?\r?\n(?![ \t])", re.IGNORECASE | re.MULTILINE | re.DOTALL)


def build_backlog(count: int, folder: Path) -> list[tuple[Path, str]]:
    """Write `count` mails to `folder`; return (file, parser) of each (not the bytes: memory is measured)."""
    samples = [(name, raw, entry["provider_parser"]) for name, raw, entry in corpus_messages()]
    mails = []
    for index in range(count):
        name, raw, parser = samples[index % len(samples)]
        copy = index // len(samples)
        for maintenance_id in {m["maintenance_id"] for m in expected_maintenances(name)}:
            raw = raw.replace(maintenance_id.encode(), f"{maintenance_id}{MARK}{copy}".encode())
        header = f"Message-ID: <bench-{index}@benchmark.invalid>\r\n".encode()
        raw = header + MESSAGE_ID.sub(b"", raw, count=1)
        path = folder / f"{index:06d}.eml"
        path.write_bytes(raw)
        mails.append((path, parser))
    return mails


def parse_floor(mails: list[tuple[Path, str]]) -> float:
    started = time.perf_counter()
    for path, parser in mails:
        data = NotificationData.init_from_email_bytes(path.read_bytes())
        try:
            init_provider(parser).get_maintenances(data)
        except Exception:  # noqa: BLE001, S110 - the floor counts the work, whatever its result
            pass
    return time.perf_counter() - started


class StatementCounter:
    def __init__(self):
        self.count = 0
        self.shapes = Counter()

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        self.shapes[re.sub(r"\s+", " ", sql)[:110]] += 1
        return execute(sql, params, many, context)


def run_sync(user, job, show_sql: bool = False) -> tuple[float, int, Sync]:
    counter = StatementCounter()
    wrappers = [connections[alias].execute_wrapper(counter) for alias in ("default", "job_logs")]
    for wrapper in wrappers:
        wrapper.__enter__()
    started = time.perf_counter()
    try:
        result = JobResult.execute_job(job_model=job, user=user, job_kwargs={"dryrun": False})
    finally:
        elapsed = time.perf_counter() - started
        for wrapper in wrappers:
            wrapper.__exit__(None, None, None)
    if show_sql:
        for shape, count in counter.shapes.most_common(15):
            print(f"{count:>7}  {shape}")
    if result.status != "SUCCESS":
        raise SystemExit(f"sync failed: {result.status} {result.result}")
    return elapsed, counter.count, Sync.objects.filter(job_result=result).first()


def clean_previous() -> None:
    """Remove the previous benchmark's records in SQL, without loading them (that would raise the peak RSS)."""
    maintenances = CircuitMaintenance.objects.filter(maintenance_id__contains=MARK)
    raws = RawNotification.objects.filter(source__name=SOURCE_NAME)
    for queryset in (
        CircuitImpact.objects.filter(maintenance__in=maintenances),
        MaintenanceNote.objects.filter(maintenance__in=maintenances),
        ParsedNotification.objects.filter(raw_notification__in=raws),
        ParsedNotification.objects.filter(maintenance__in=maintenances),
        raws,
        maintenances,
    ):
        queryset._raw_delete(queryset.db)
    NotificationSource.objects.filter(name=SOURCE_NAME).update(cursor={})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--memory", action="store_true", help="trace peak Python memory (slows the run a lot)")
    parser.add_argument("--no-floor", action="store_true", help="skip the parse floor (e.g. to read peak RSS alone)")
    parser.add_argument("--profile", action="store_true", help="print where the first sync spends its time")
    parser.add_argument("--sql", action="store_true", help="print the most frequent SQL statements of the first sync")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="cm-bench-"))
    config = settings.PLUGINS_CONFIG["nautobot_ssot_circuit_maintenance"]
    config["notification_sources"] = [{"name": SOURCE_NAME, "url": f"file://{folder}", "attach_all_providers": True}]
    sync_sources_from_config()
    clean_previous()
    mails = build_backlog(args.count, folder)
    size = sum(path.stat().st_size for path, _ in mails)
    print(f"backlog: {len(mails)} mails, {size / 1e6:.1f} MB in {folder}")

    floor = None
    if not args.no_floor:
        # The floor is the parser as it comes: plain chardet, one process.
        use_fast_charset_detection(False)
        floor = parse_floor(mails)
        use_fast_charset_detection(True)
        print(f"parse floor (circuit-maintenance-parser alone): {floor:.2f} s ({len(mails) / floor:.0f} mails/s)")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    user = get_user_model().objects.filter(is_superuser=True).first()
    job = Job.objects.get(job_class_name="CircuitMaintenanceDataSource")
    job.enabled = True
    job.save()
    if args.memory:
        tracemalloc.start()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    elapsed, statements, sync = run_sync(user, job, show_sql=args.sql)
    if profiler:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    peak = tracemalloc.get_traced_memory()[1] if args.memory else None
    tracemalloc.stop()
    stored = RawNotification.objects.filter(source__name=SOURCE_NAME).count()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    ratio = f" = {elapsed / floor:.2f}x the parse floor" if floor else ""
    print(
        f"first sync: {elapsed:.2f} s ({len(mails) / elapsed:.0f} mails/s){ratio}; "
        f"{statements} SQL statements = {statements / len(mails):.2f} per mail; summary {json.dumps(sync.summary)}"
    )
    print(f"peak RSS growth during the sync: {rss_growth / 1024:.1f} MB (the job's process)")
    close_parse_pools()
    workers_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"peak RSS of a parse worker: {workers_rss / 1024:.1f} MB")
    print(f"stored notifications: {stored}")
    if peak is not None:
        print(f"peak traced Python memory during the sync: {peak / 1e6:.1f} MB")
    elapsed, statements, _ = run_sync(user, job)
    print(f"second sync (no new mail): {elapsed:.3f} s, {statements} SQL statements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
