"""The benchmark's measurements, each through the real job and code paths (development/benchmark.py runs them).

Importable with Django set up (the benchmark, and tests/test_benchmark.py, which runs a small version and
checks counts only). Every record made here is marked (`MARK` in maintenance ids, the benchmark's own
source and providers' mail) and removed by `clean_previous`, so a run can be repeated on the demo database.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from circuit_maintenance_parser import NotificationData, init_provider
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from nautobot.circuits.models import Circuit
from nautobot.extras.models import JobResult
from nautobot_ssot.models import Sync

from nautobot_ssot_circuit_maintenance.choices import OutcomeChoices
from nautobot_ssot_circuit_maintenance.compat.parser import use_fast_charset_detection
from nautobot_ssot_circuit_maintenance.compat.releases import job_inputs
from nautobot_ssot_circuit_maintenance.intake.provision import sync_sources_from_config
from nautobot_ssot_circuit_maintenance.models import (
    CircuitImpact,
    CircuitMaintenance,
    MaintenanceFlag,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.sync import trigger
from tests.fixtures.sample_data import corpus_messages, expected_maintenances

SOURCE_NAME = "Benchmark backlog"
MARK = "-BENCH"
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


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
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


class PeakRss:
    """Peak resident memory of this process and all its children together (the parse workers), sampled."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            total = sum(_rss_kib(pid) for pid in [me, *_descendants(me)])
            self.peak_kib = max(self.peak_kib, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

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


def run_sync(show_sql: bool = False) -> SyncRun:
    """One real (not dry) run of the sync job in this process, as a worker runs it; SQL statements counted."""
    user = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
        username="benchmark", password=os.urandom(16).hex()
    )
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
        maintenances=CircuitMaintenance.objects.filter(parsed_notifications__raw_notification__source__name=SOURCE_NAME)
        .distinct()
        .count(),
        stored=RawNotification.objects.filter(source__name=SOURCE_NAME).count(),
    )


def clean_previous() -> None:
    """Remove every benchmark record in SQL, without loading them (that would raise the peak RSS)."""
    maintenances = CircuitMaintenance.objects.filter(maintenance_id__contains=MARK)
    raws = RawNotification.objects.filter(source__name=SOURCE_NAME)
    flags = MaintenanceFlag.objects.filter(maintenances__in=maintenances)
    for queryset in (
        MaintenanceFlag.circuits.through.objects.filter(maintenanceflag__in=flags),
        MaintenanceFlag.maintenances.through.objects.filter(maintenanceflag__in=flags),
        MaintenanceFlag.objects.filter(maintenances__isnull=True),
        CircuitImpact.objects.filter(maintenance__in=maintenances),
        MaintenanceNote.objects.filter(maintenance__in=maintenances),
        ParsedNotification.objects.filter(raw_notification__in=raws),
        ParsedNotification.objects.filter(maintenance__in=maintenances),
        raws,
        maintenances,
    ):
        queryset._raw_delete(queryset.db)
    NotificationSource.objects.filter(name=SOURCE_NAME).update(cursor={})


def settle_database() -> None:
    """VACUUM ANALYZE the app's tables, as autovacuum keeps a database that has been in use for a while.

    Right after bulk inserts or deletes the planner's statistics describe the tables as they were; a
    steady state is measured on current ones.
    """
    tables = [
        model._meta.db_table
        for model in (CircuitMaintenance, CircuitImpact, RawNotification, ParsedNotification, MaintenanceFlag)
    ]
    with connections["default"].cursor() as cursor:
        for table in tables:
            cursor.execute(f'VACUUM ANALYZE "{table}"')


def seed_store(maintenances: int, notices_per_maintenance: int, source: NotificationSource, batch: int = 2000) -> None:
    """Store `maintenances` past maintenances with `notices_per_maintenance` notifications each, in bulk.

    The steady state of a NOC after years: each maintenance with one impacted circuit and the notices
    that made it (sequence 1..n, the last one confirming), as the sync would have stored them. Written
    with bulk inserts: the seeding is not what is measured.
    """
    circuits = list(Circuit.objects.select_related("provider").order_by("cid")[:200])
    if not circuits:
        raise RuntimeError("no circuits: load the demo data first (./run demo --no-serve)")
    # History is older than the mail the benchmark then sends (the corpus's own dates): new notices
    # announce new work, they do not reschedule years of history.
    history_end = min(
        datetime.fromtimestamp(m["start"], tz=timezone.utc)
        for name, _, _ in corpus_messages()
        for m in expected_maintenances(name)
    ).replace(microsecond=0)
    for first in range(0, maintenances, batch):
        rows, impacts, raws, parsed = [], [], [], []
        for index in range(first, min(first + batch, maintenances)):
            circuit = circuits[index % len(circuits)]
            start = history_end - timedelta(days=30 + index % 2000, hours=index % 24)
            maintenance_id = f"STORE-{index}{MARK}"
            rows.append(
                CircuitMaintenance(
                    provider=circuit.provider,
                    maintenance_id=maintenance_id,
                    name=f"{circuit.provider.name}-{maintenance_id}",
                    status="COMPLETED",
                    start_time=start,
                    end_time=start + timedelta(hours=4),
                    windows=[{"start": start.isoformat(), "end": (start + timedelta(hours=4)).isoformat()}],
                    ack=True,
                )
            )
            for sequence in range(1, notices_per_maintenance + 1):
                stamp = start - timedelta(days=notices_per_maintenance - sequence + 1)
                raw = RawNotification(
                    source=source,
                    message_key=f"<store-{index}-{sequence}@benchmark.invalid>",
                    provider=circuit.provider,
                    sender="noc@benchmark.invalid",
                    subject=f"Maintenance {maintenance_id} notice {sequence}",
                    date=stamp,
                    raw=b"Subject: stored\r\n\r\n",
                    raw_size=20,
                    outcome=OutcomeChoices.PARSED,
                    parser_version="benchmark",
                )
                raws.append(raw)
                status = "COMPLETED" if sequence == notices_per_maintenance else "CONFIRMED"
                parsed.append(
                    (raw, len(rows) - 1, _notice(maintenance_id, circuit.cid, start, stamp, sequence, status))
                )
        CircuitMaintenance.objects.bulk_create(rows, batch_size=batch)
        for maintenance in rows:
            impacts.append(CircuitImpact(maintenance=maintenance, circuit_id=_circuit_of(maintenance, circuits)))
        CircuitImpact.objects.bulk_create(impacts, batch_size=batch)
        RawNotification.objects.bulk_create(raws, batch_size=batch)
        ParsedNotification.objects.bulk_create(
            [
                ParsedNotification(
                    raw_notification=raw,
                    maintenance=rows[position],
                    provider_id=rows[position].provider_id,
                    provider_maintenance_id=rows[position].maintenance_id,
                    json=data,
                )
                for raw, position, data in parsed
            ],
            batch_size=batch,
        )


def _circuit_of(maintenance: CircuitMaintenance, circuits: list[Circuit]):
    index = int(maintenance.maintenance_id.split("-")[1])
    return circuits[index % len(circuits)].pk


def _notice(maintenance_id: str, cid: str, start, stamp, sequence: int, status: str) -> dict:
    """A parsed notice in the parser's own shape (what ParsedNotification.json holds)."""
    return {
        "maintenance_id": maintenance_id,
        "status": status,
        "start": int(start.timestamp()),
        "end": int((start + timedelta(hours=4)).timestamp()),
        "stamp": int(stamp.timestamp()),
        "sequence": sequence,
        "circuits": [{"circuit_id": cid, "impact": "OUTAGE"}],
        "summary": "Planned work (benchmark store)",
        "account": "benchmark",
        "organizer": "noc@benchmark.invalid",
        "provider": "benchmark",
        "uid": "0",
    }


@contextmanager
def folder_source(folder: Path) -> Iterator[NotificationSource]:
    """The benchmark's source on `folder`, with every earlier benchmark record removed first."""
    source = use_benchmark_source(folder)
    clean_previous()
    yield source
