"""The README's first command, run as a user runs it: `./run demo` on a fresh database, then stopped with SIGTERM.

The demo migrates, loads the sample mailbox, syncs through a real Celery worker, starts beat and serves the UI.
This test runs it on the test database (emptied, migrated), checks what the summary says against the records and
the served pages, lets the demo's own scheduled sync fire through beat and the worker, and stops it all with
SIGTERM, as a service manager or `kill` would: no server, worker or beat may stay behind.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from uuid import uuid4

import requests
from django.db import connection
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import JobResult, ScheduledJob

from development.demo import METRICS_PATH, SCHEDULE_NAME
from nautobot_ssot_circuit_maintenance.choices import FlagKindChoices, LiveStateChoices, OutcomeChoices
from nautobot_ssot_circuit_maintenance.config import PUSH_DISABLED
from nautobot_ssot_circuit_maintenance.models import CircuitMaintenance, MaintenanceFlag, RawNotification
from tests.servers.ports import LOOPBACK, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
# Migrations (already applied), static files, the sync through the worker: a few minutes at most.
SERVING_TIMEOUT_SECONDS = 900
# The web server listens a moment after the demo says it serves.
SERVER_START_SECONDS = 60
# Beat checks its schedule every few seconds; a crontab of every minute fires within one.
BEAT_TIMEOUT_SECONDS = 150
STOP_TIMEOUT_SECONDS = 120
# Redis databases of their own (the streams use 8/9, a local CI clone 10/11).
BROKER_DB, CACHE_DB = "12", "13"


def processes_with(marker: str) -> list[int]:
    """The pids whose environment holds `marker` (every process the demo started inherits it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue  # gone, or not ours to read
    return found


class DemoProcess:
    """`./run demo --port PORT` in a session of its own; its output collected line by line."""

    def __init__(self, port: int, state: Path, mailbox: Path, marker: str):
        env = {
            **os.environ,
            "NAUTOBOT_DB_NAME": connection.settings_dict["NAME"],  # the test database
            "NAUTOBOT_REDIS_BROKER_DB": BROKER_DB,
            "NAUTOBOT_REDIS_CACHE_DB": CACHE_DB,
            "NAUTOBOT_CM_DEMO_MAILBOX": str(mailbox),
            "CM_DEMO_STATE": str(state),
            "CM_DEMO_TEST_MARKER": marker,
        }
        for name in ("NAUTOBOT_CM_METRICS", "NAUTOBOT_CM_PUSH"):
            env.pop(name, None)  # the demo's own defaults
        self.process = subprocess.Popen(  # noqa: S603 - the project's own script
            [str(ROOT / "run"), "demo", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.decode(errors="replace").rstrip())

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.output)
            if found:
                return found
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not in the demo's output:\n{self.output[-6000:]}")
            time.sleep(0.5)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class DemoTestCase(TransactionTestCase):
    databases = ("default", "job_logs")

    def setUp(self) -> None:
        super().setUp()
        self.state = Path(tempfile.mkdtemp(prefix="cm-demo-state-"))
        self.addCleanup(shutil.rmtree, self.state, True)
        self.marker = uuid4().hex
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.demo = DemoProcess(self.port, self.state, self.state / "mailbox", self.marker)
        # Whatever happens, nothing the demo started outlives the test.
        self.addCleanup(self.kill_leftovers)
        self.addCleanup(self.demo.kill)

    def kill_leftovers(self) -> None:
        for pid in processes_with(self.marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def login(self) -> requests.Session:
        session = requests.Session()
        session.get(f"{self.base}/login/", timeout=30)
        password = (self.state / "admin-password").read_text().strip()
        response = session.post(
            f"{self.base}/login/",
            data={"username": "admin", "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            headers={"Referer": f"{self.base}/login/"},
            timeout=30,
        )
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertIn("sessionid", session.cookies)
        return session

    def test_the_demo_shows_every_feature_fires_its_schedule_and_stops_on_sigterm(self):
        self.demo.wait_for(r"==> Serving http://127\.0\.0\.1:\d+/", SERVING_TIMEOUT_SECONDS)
        output = self.demo.output
        now = datetime.now(timezone.utc)

        # The summary is true of the records.
        self.assertIn("Job status: SUCCESS", output)
        created = int(re.search(r"Maintenances: (\d+) created", output).group(1))
        self.assertGreaterEqual(created, 20)
        self.assertEqual(CircuitMaintenance.objects.count(), created)
        flags = int(re.search(r"Isolation and lost-redundancy flags: (\d+)", output).group(1))
        self.assertEqual(MaintenanceFlag.objects.count(), flags)
        # The site the summary names as isolated is isolated now, and a redundancy loss is current or ahead.
        isolated = MaintenanceFlag.objects.filter(kind=FlagKindChoices.ISOLATION, location__name="Chicago DC1")
        self.assertTrue(isolated.filter(start_time__lte=now, end_time__gt=now).exists(), list(isolated.values()))
        self.assertTrue(MaintenanceFlag.objects.filter(kind=FlagKindChoices.LOST_REDUNDANCY, end_time__gt=now))
        # Every triage action has a notice to act on.
        waiting = set(RawNotification.objects.needs_triage().values_list("outcome", flat=True))
        self.assertLessEqual(
            {
                OutcomeChoices.UNKNOWN_PROVIDER,
                OutcomeChoices.UNKNOWN_CIDS,
                OutcomeChoices.PARSING_FAILED,
                OutcomeChoices.AWAITING_CONFIRMATION,
            },
            waiting,
        )
        # A maintenance in every live state, at first sight.
        states = {maintenance.current_live_state(now) for maintenance in CircuitMaintenance.objects.all()}
        self.assertEqual(states, set(LiveStateChoices.values()))

        # The UI is served, upload is on, and metrics answer the token the summary points at.
        wait_for_port(self.port, SERVER_START_SECONDS)
        session = self.login()
        upload = session.get(f"{self.base}/plugins/circuit-maintenance/rawnotification/upload/", timeout=60)
        self.assertEqual(upload.status_code, 200)
        self.assertIn('type="file"', upload.text)
        self.assertNotIn(PUSH_DISABLED, upload.text)
        token_file = Path(re.search(r"\$\(cat ([^)]+)\)", output).group(1))
        metrics = requests.get(
            f"{self.base}{METRICS_PATH}",
            headers={"Authorization": f"Token {token_file.read_text().strip()}"},
            timeout=60,
        )
        self.assertEqual(metrics.status_code, 200, metrics.text[:300])
        self.assertIn("circuit_maintenance", metrics.text)
        self.assertIn(requests.get(f"{self.base}{METRICS_PATH}", timeout=60).status_code, (401, 403))

        # The demo's scheduled sync, made due every minute, fires through beat and runs on the worker.
        schedule = ScheduledJob.objects.get(name=SCHEDULE_NAME)
        schedule.crontab = "* * * * *"
        schedule.save()
        deadline = time.monotonic() + BEAT_TIMEOUT_SECONDS
        fired = JobResult.objects.none()
        while time.monotonic() < deadline:
            fired = JobResult.objects.filter(scheduled_job=schedule, status__in=JobResultStatusChoices.READY_STATES)
            if fired.exists():
                break
            time.sleep(2)
        self.assertTrue(fired.exists(), f"beat did not start the scheduled sync:\n{self.demo.output[-3000:]}")
        self.assertEqual(fired.first().status, JobResultStatusChoices.STATUS_SUCCESS)

        # SIGTERM (a service manager's stop, `kill`) stops the server, the worker and beat.
        os.kill(self.demo.process.pid, signal.SIGTERM)
        self.demo.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self.demo._reader.join(timeout=10)
        self.assertIn("Celery worker and beat stopped", self.demo.output)
        with self.assertRaises(OSError):
            socket.create_connection((LOOPBACK, self.port), timeout=5).close()
        deadline = time.monotonic() + 30
        while processes_with(self.marker) and time.monotonic() < deadline:
            time.sleep(0.5)
        self.assertEqual(processes_with(self.marker), [], "processes the demo started outlived it")
