"""The demo runs like production: a real Celery worker runs the sync job started from the UI's Run button.

The worker is `nautobot-server celery worker` (what `./run demo` starts), on this test database and the
Redis broker database of NAUTOBOT_REDIS_BROKER_DB; the test process queues to it instead of running
jobs eagerly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from nautobot.core.celery import app
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import Job, JobResult
from nautobot_ssot.models import Sync
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.fixtures.browser import BrowserTestCase

ROOT = Path(__file__).resolve().parents[2]
WORKER_SECONDS = 180
CLASS_PATH = "nautobot_ssot_circuit_maintenance.sync.jobs.CircuitMaintenanceDataSource"


def start_worker() -> subprocess.Popen:
    env = {
        **os.environ,
        "NAUTOBOT_CONFIG": str(ROOT / "development" / "nautobot_config.py"),
        "NAUTOBOT_DB_NAME": connection.settings_dict["NAME"],  # the test database
    }
    return subprocess.Popen(  # noqa: S603 - our own server command
        [
            str(Path(sys.executable).parent / "nautobot-server"),
            "celery",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_worker(process: subprocess.Popen) -> str:
    os.killpg(process.pid, 15)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        output, _ = process.communicate()
    return output.decode(errors="replace")


class WorkerRunsJobsFromTheUI(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        # Queue to the broker instead of running in-process (Celery reads this Django setting live).
        not_eager = override_settings(CELERY_TASK_ALWAYS_EAGER=False)
        not_eager.enable()
        self.addCleanup(not_eager.disable)
        self.assertFalse(app.conf.task_always_eager)
        job = Job.objects.get(job_class_name="CircuitMaintenanceDataSource")
        job.enabled = True
        job.save()
        self.worker = start_worker()
        self.addCleanup(lambda: stop_worker(self.worker) if self.worker.poll() is None else None)
        self.login()

    def test_run_button_queues_a_job_the_worker_runs(self):
        self.assertTrue(settings.CELERY_BROKER_URL.startswith("redis://"))
        self.visit(reverse("extras:job_run_by_class_path", kwargs={"class_path": CLASS_PATH}))
        WebDriverWait(self.browser, 60).until(expected_conditions.element_to_be_clickable((By.ID, "id__run")))
        self.browser.find_element(By.ID, "id__run").click()
        deadline = time.monotonic() + WORKER_SECONDS
        result = None
        while time.monotonic() < deadline:
            result = JobResult.objects.filter(job_model=job_model()).order_by("-date_created").first()
            if result is not None and result.status in JobResultStatusChoices.READY_STATES:
                break
            time.sleep(1)
        output = stop_worker(self.worker)
        self.assertIsNotNone(result, output[-3000:])
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, output[-3000:])
        self.assertTrue(result.worker, "run by a Celery worker, not in the web process")
        self.assertEqual(result.task_name, CLASS_PATH, "what the SSoT dashboard counts syncs by")
        self.assertTrue(Sync.objects.filter(job_result=result).exists())
        self.visit(reverse("plugins:nautobot_ssot:dashboard"))
        self.wait_for_text("Notification mailboxes")
        self.visit(result.get_absolute_url())
        self.wait_for_text("Completed")


def job_model() -> Job:
    return Job.objects.get(job_class_name="CircuitMaintenanceDataSource")
