"""Latency: seconds from a notice's APPEND to its Circuit Maintenance, with nobody pressing anything.

    python development/benchmark_latency.py --count 50

Starts a throwaway Dovecot, configures an IMAP source for it, and starts a real Celery worker and
the mailbox watcher (`nautobot-server watch_mailboxes`) as their own processes, with a settings file
that adds that source to development/nautobot_config.py. Then it appends `count` corpus notices one
at a time (each with its own Message-ID and maintenance id, as development/benchmark.py does) and
records, for each, the seconds from the APPEND until its Circuit Maintenance exists: IDLE, the
watcher, the job queue, the worker and the sync, end to end.

It runs against the demo database, like development/benchmark.py (`./run demo --no-serve` first),
and removes its own records before it starts, so it can be run again. No other Celery worker may
listen on the same broker database (NAUTOBOT_REDIS_BROKER_DB) meanwhile: one without the benchmark's
source would take some of the runs and read nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NAUTOBOT_CONFIG", str(ROOT / "development" / "nautobot_config.py"))

import nautobot  # noqa: E402

nautobot.setup()

from circuit_maintenance_parser import NotificationData, init_provider  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from development.measure import tagged  # noqa: E402
from nautobot_ssot_circuit_maintenance.intake.provision import sync_sources_from_config  # noqa: E402
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, NotificationSource, RawNotification  # noqa: E402
from nautobot_ssot_circuit_maintenance.sync import trigger  # noqa: E402
from tests.fixtures.celery_worker import ServerProcess, settings_with_sources  # noqa: E402
from tests.fixtures.sample_data import corpus_messages, expected_maintenances  # noqa: E402
from tests.servers.dovecot import DovecotServer  # noqa: E402

SOURCE_NAME = "Latency benchmark"
ACCOUNT = "latency@example.net"
PASSWORD = "latency-benchmark-only"  # noqa: S105 - a throwaway Dovecot on loopback
MARK = "-LAT"
# How long one notice may take before the benchmark gives up on it.
NOTICE_TIMEOUT_SECONDS = 120.0


def _parsed_ids(raw: bytes, parser: str) -> set[str]:
    try:
        maintenances = init_provider(parser).get_maintenances(NotificationData.init_from_email_bytes(raw))
    except Exception:  # noqa: BLE001 - a sample the parser cannot read is simply not used
        return set()
    return {maintenance.maintenance_id for maintenance in maintenances}


def usable_samples() -> list[tuple[bytes, set[str]]]:
    """Corpus samples whose maintenance ids a tag can be added to (checked with the parser), with those ids."""
    samples = []
    for name, raw, entry in corpus_messages():
        ids = {m["maintenance_id"] for m in expected_maintenances(name)}
        if not ids or not all(maintenance_id.encode() in raw for maintenance_id in ids):
            continue
        probe, wanted = tagged(raw, ids, f"{MARK}probe", "probe@latency.invalid")
        if wanted and wanted <= _parsed_ids(probe, entry["provider_parser"]):
            samples.append((raw, ids))
    return samples


def build_notices(count: int, run: str) -> list[tuple[bytes, set[str]]]:
    """`count` notices, each with its own Message-ID and maintenance ids (new on every benchmark run)."""
    samples = usable_samples()
    if not samples:
        raise SystemExit("no corpus sample can be given a new maintenance id")
    notices = []
    for index in range(count):
        raw, ids = samples[index % len(samples)]
        notices.append(tagged(raw, ids, f"{MARK}{run}-{index}", f"latency-{run}-{index}@benchmark.invalid"))
    return notices


def clean_previous() -> None:
    """Remove the records of earlier runs of this benchmark (few: through the ORM, with what refers to them)."""
    RawNotification.objects.filter(source__name=SOURCE_NAME).delete()
    CircuitMaintenance.objects.filter(maintenance_id__contains=MARK).delete()
    NotificationSource.objects.filter(name=SOURCE_NAME).update(cursor={})


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure_latency(count: int = 50, verbose: bool = False) -> dict:
    """Append `count` notices one by one; seconds from each APPEND to its Circuit Maintenance (p50, p95, max)."""
    run = time.strftime("%Y%m%d%H%M%S")
    notices = build_notices(count, run)
    user = get_user_model().objects.filter(is_superuser=True, is_active=True).first()
    if user is None:
        raise SystemExit("no superuser: run `./run demo --no-serve` first")
    job = trigger.sync_job()
    job.enabled = True
    job.save()
    with ExitStack() as stack:
        dovecot = stack.enter_context(DovecotServer())
        dovecot.add_user(ACCOUNT, PASSWORD)
        source = {
            "name": SOURCE_NAME,
            "url": f"imaps://{dovecot.host}:{dovecot.imaps_port}",
            "ca_file": dovecot.ca_file,
            "account": ACCOUNT,
            "secret": PASSWORD,
            "attach_all_providers": True,
        }
        config = settings.PLUGINS_CONFIG["nautobot_ssot_circuit_maintenance"]
        stack.callback(config.__setitem__, "notification_sources", config["notification_sources"])
        config["notification_sources"] = [source]
        sync_sources_from_config()
        clean_previous()
        directory = Path(tempfile.mkdtemp(prefix="cm-latency-"))
        settings_file = settings_with_sources(directory, [source])
        worker = ServerProcess.worker(settings_file, directory / "worker.log")
        stack.callback(worker.stop)
        watcher = ServerProcess(["watch_mailboxes", "--user", user.username], settings_file, directory / "watcher.log")
        stack.callback(watcher.stop)
        try:
            worker.wait_for(" ready.")
            watcher.wait_for("watching folder")
        except RuntimeError as error:
            raise SystemExit(str(error)) from None
        print(f"worker, watcher and Dovecot up (logs in {directory}); appending {count} notices", flush=True)
        client = dovecot.client(ACCOUNT)
        stack.callback(client.logout)
        latencies = []
        for index, (raw, ids) in enumerate(notices):
            started = time.perf_counter()
            client.append("INBOX", raw)
            deadline = started + NOTICE_TIMEOUT_SECONDS
            while not CircuitMaintenance.objects.filter(maintenance_id__in=ids).exists():
                if time.perf_counter() > deadline:
                    raise SystemExit(
                        f"notice {index} not synced after {NOTICE_TIMEOUT_SECONDS:.0f} s\n"
                        f"worker:\n{worker.tail()}\nwatcher:\n{watcher.tail()}"
                    )
                time.sleep(0.02)
            latencies.append(time.perf_counter() - started)
            if verbose:
                print(f"notice {index + 1}/{count}: {latencies[-1]:.2f} s", flush=True)
    return {
        "count": len(latencies),
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies),
        "mean": statistics.fmean(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--verbose", action="store_true", help="print each notice's latency")
    args = parser.parse_args()
    figures = measure_latency(args.count, verbose=args.verbose)
    print(
        f"latency over {figures['count']} notices (APPEND to Circuit Maintenance): p50 {figures['p50']:.2f} s, "
        f"p95 {figures['p95']:.2f} s, max {figures['max']:.2f} s (target: p95 under 10 s)"
    )
    print(json.dumps({"latency_seconds": figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
