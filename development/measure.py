"""The benchmark's measurements, each through the real job and code paths (development/benchmark.py runs them).

Importable with Django set up (the benchmark, and tests/test_benchmark.py, which runs a small version and
checks counts only). Every record made here is marked (`MARK` in maintenance ids, the benchmark's own
source and providers' mail) and removed by `clean_previous`, so a run can be repeated on the demo database.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from circuit_maintenance_parser import NotificationData, init_provider
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from nautobot.extras.models import JobResult, ObjectChange
from nautobot_ssot.models import Sync

from development import store
from nautobot_ssot_circuit_maintenance.compat.parser import use_fast_charset_detection
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.intake.provision import sync_sources_from_config
from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceFlag,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.sync import trigger
from tests.fixtures.sample_data import corpus_messages, expected_maintenances

SOURCE_NAME = "Benchmark backlog"
MARK = store.MARK
MESSAGE_ID = re.compile(rb"^Message-ID:.*?\r?\n(?![ \t])", re.IGNORECASE | re.MULTILINE | re.DOTALL)


def use_benchmark_source(folder: Path) -> NotificationSource:
    """Point the app's configuration at one local-folder source, `folder`, attached to every provider."""
    config = settings.PLUGINS_CONFIG["nautobot_ssot_circuit_maintenance"]
    config["notification_sources"] = [{"name": SOURCE_NAME, "url": f"file://{folder}", "attach_all_providers": True}]
    sync_sources_from_config()
    return NotificationSource.objects.get(name=SOURCE_NAME)


def tagged(raw: bytes, ids: set[str], tag: str, message_id: str) -> tuple[bytes, set[str]]:
    """A copy of a corpus mail with its own Message-ID and each of its maintenance `ids` suffixed with `tag`
    (where the id is written in clear text); returns the copy and the tagged ids."""
    for maintenance_id in ids:
        raw = raw.replace(maintenance_id.encode(), f"{maintenance_id}{tag}".encode())
    raw = f"Message-ID: <{message_id}>\r\n".encode() + MESSAGE_ID.sub(b"", raw, count=1)
    return raw, {f"{maintenance_id}{tag}" for maintenance_id in ids}


def corpus_size() -> int:
    """Mails in the corpus (tests/corpus): `build_backlog` cycles through them."""
    return len(list(corpus_messages()))


def build_backlog(count: int, folder: Path, first: int = 0) -> list[tuple[Path, str]]:
    """Write mails `first`..`first + count - 1` to `folder`; return (file, parser) of each.

    Mail i is corpus mail `i % len(corpus)` with its own Message-ID and, where the id is written in clear
    text, its own maintenance id (one per pass over the corpus), so the backlog holds new maintenances and
    the notices that update them. Paths, not bytes, are returned: memory is measured.
    """
    samples = [(name, raw, entry["provider_parser"]) for name, raw, entry in corpus_messages()]
    mails = []
    for index in range(first, first + count):
        name, raw, parser = samples[index % len(samples)]
        ids = {m["maintenance_id"] for m in expected_maintenances(name)}
        raw, _ = tagged(raw, ids, f"{MARK}{index // len(samples)}", f"bench-{index}@benchmark.invalid")
        path = folder / f"{index:06d}.eml"
        path.write_bytes(raw)
        mails.append((path, parser))
    return mails


def parse_floor(mails: list[tuple[Path, str]], *, fast: bool, checkpoints: tuple[int, ...] = ()) -> dict[int, float]:
    """Seconds circuit-maintenance-parser alone takes over the first n mails, for n in checkpoints and all.

    `fast` answers the parser's charset detection with cchardet (`compat.use_fast_charset_detection`);
    without it, the parser as it comes (plain chardet), one process: the floor the targets are relative to.
    """
    use_fast_charset_detection(fast)
    try:
        times: dict[int, float] = {}
        started = time.perf_counter()
        for done, (path, parser) in enumerate(mails, start=1):
            data = NotificationData.init_from_email_bytes(path.read_bytes())
            try:
                init_provider(parser).get_maintenances(data)
            except Exception:  # noqa: BLE001, S110 - the floor counts the work, whatever its result
                pass
            if done in checkpoints:
                times[done] = time.perf_counter() - started
        times[len(mails)] = time.perf_counter() - started
        return times
    finally:
        use_fast_charset_detection(True)


class StatementCounter:
    """Counts SQL statements (and their shapes) on the connections it is installed on."""

    def __init__(self):
        self.count = 0
        self.shapes: Counter[str] = Counter()

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        self.shapes[re.sub(r"\s+", " ", sql)[:110]] += 1
        return execute(sql, params, many, context)


class PeakRss:
    """Peak resident memory of this process and all its children together (the parse workers), sampled.

    The sampling runs in a process of its own (development/rss_sampler.py): a thread in this one would slow
    down the sync it measures.
    """

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak_kib = 0
        self._sampler: subprocess.Popen | None = None

    def __enter__(self) -> PeakRss:
        self._sampler = subprocess.Popen(  # noqa: S603 - our own script, this interpreter
            [sys.executable, str(Path(__file__).with_name("rss_sampler.py")), str(os.getpid()), str(self.interval)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        return self

    def __exit__(self, *exc) -> None:
        output, _ = self._sampler.communicate(timeout=60)  # closing its stdin ends the sampling
        self.peak_kib = int(output.decode().strip() or 0)

    @property
    def peak_mb(self) -> float:
        return self.peak_kib / 1024


@dataclass
class SyncRun:
    seconds: float
    statements: int
    summary: dict
    # Maintenances the benchmark's stored notifications feed, and those notifications.
    maintenances: int
    stored: int


def benchmark_user() -> Any:
    """A superuser to run the job and open the pages as: the first there is, else a new one named benchmark."""
    users = get_user_model().objects
    return users.filter(is_superuser=True, is_active=True).order_by("date_joined", "pk").first() or (
        users.create_superuser(username="benchmark", password=os.urandom(16).hex())
    )


def run_sync(show_sql: bool = False) -> SyncRun:
    """One real (not dry) run of the sync job in this process, as a worker runs it; SQL statements counted."""
    user = benchmark_user()
    job = trigger.sync_job()
    if not job.enabled:
        job.enabled = True
        job.save()
    counter = StatementCounter()
    wrappers = [connections[alias].execute_wrapper(counter) for alias in ("default", "job_logs")]
    for wrapper in wrappers:
        wrapper.__enter__()
    started = time.perf_counter()
    try:
        result = JobResult.execute_job(job_model=job, user=user, **job_inputs(JobResult.execute_job, {"dryrun": False}))
    finally:
        elapsed = time.perf_counter() - started
        for wrapper in reversed(wrappers):
            wrapper.__exit__(None, None, None)
    if show_sql:
        for shape, count in counter.shapes.most_common(15):
            print(f"{count:>7}  {shape}")
    if result.status != "SUCCESS":
        raise RuntimeError(f"sync failed: {result.status} {result.result}")
    sync = Sync.objects.filter(job_result=result).first()
    return SyncRun(
        seconds=elapsed,
        statements=counter.count,
        summary=dict(sync.summary or {}),
        maintenances=ParsedNotification.objects.filter(
            raw_notification__source__name=SOURCE_NAME, maintenance__isnull=False
        )
        .values("maintenance")
        .distinct()
        .count(),
        stored=RawNotification.objects.filter(source__name=SOURCE_NAME).count(),
    )


def clean_previous(*, keep_store: bool = True) -> None:
    """Remove every benchmark record in SQL, without loading them (that would raise the peak RSS).

    The stored history (development/store.py) is kept unless `keep_store` is False: seeding it takes minutes.
    """
    raws = RawNotification.objects.filter(source__name=SOURCE_NAME)
    ParsedNotification.objects.filter(raw_notification__in=raws)._raw_delete(ParsedNotification.objects.db)
    raws._raw_delete(raws.db)
    maintenances = CircuitMaintenance.objects.filter(maintenance_id__contains=MARK)
    if keep_store:
        maintenances = maintenances.exclude(maintenance_id__startswith=store.STORE_PREFIX)
    else:
        store.drop_store()
    store.delete_maintenances(maintenances)
    NotificationSource.objects.filter(name=SOURCE_NAME).update(cursor={})


def settle_database() -> None:
    """VACUUM ANALYZE the app's tables and the change log, as autovacuum keeps a database in use for a while.

    Right after bulk inserts or deletes the planner's statistics describe the tables as they were; a
    steady state is measured on current ones.
    """
    tables = [
        model._meta.db_table
        for model in (
            CircuitMaintenance,
            CircuitImpact,
            RawNotification,
            ParsedNotification,
            MaintenanceFlag,
            ObjectChange,
        )
    ]
    with connections["default"].cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM ANALYZE "{table}"')


@contextmanager
def folder_source(folder: Path) -> Iterator[NotificationSource]:
    """The benchmark's source on `folder`, with every earlier benchmark record removed first."""
    source = use_benchmark_source(folder)
    clean_previous()
    yield source
