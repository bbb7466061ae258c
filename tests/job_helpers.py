"""Running the sync job in tests, against real sources."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import structlog
from django.test import override_settings
from nautobot.apps.testing import run_job_for_testing
from nautobot.extras.models import Job, JobLogEntry
from nautobot_ssot.models import Sync

from nautobot_ssot_circuit_maintenance.compat import job_inputs
from nautobot_ssot_circuit_maintenance.config import APP_NAME, DEFAULT_SETTINGS
from nautobot_ssot_circuit_maintenance.intake.provision import sync_sources_from_config


def plugin_config(sources: list[dict], **extra) -> dict:
    from django.conf import settings

    config = dict(settings.PLUGINS_CONFIG)
    config[APP_NAME] = {**DEFAULT_SETTINGS, "notification_sources": sources, **extra}
    return config


class MailFolder:
    """A directory of .eml files used as a `file://` notification source."""

    def __init__(self, name: str = "Local folder"):
        self.path = Path(tempfile.mkdtemp(prefix="cm-mail-"))
        self.name = name
        self._count = 0

    def add(self, raw: bytes, name: str | None = None) -> Path:
        self._count += 1
        target = self.path / f"{self._count:05d}-{name or 'message'}.eml"
        target.write_bytes(raw)
        return target

    @property
    def source(self) -> dict:
        return {"name": self.name, "url": f"file://{self.path}", "attach_all_providers": True}

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class JobTestMixin:
    """Runs the real job; restores structlog, which nautobot-ssot reconfigures process-wide."""

    databases = ("default", "job_logs")

    def setUp(self):
        super().setUp()
        self._structlog = structlog.get_config()
        self.addCleanup(lambda: structlog.configure(**self._structlog))

    @contextmanager
    def configured(self, sources: list[dict], **extra):
        with override_settings(PLUGINS_CONFIG=plugin_config(sources, **extra)):
            sync_sources_from_config()
            yield

    def run_sync(self, dryrun: bool = False, **kwargs):
        job = Job.objects.get(job_class_name="CircuitMaintenanceDataSource")
        inputs = {"dryrun": dryrun, "memory_profiling": False, **kwargs}
        result = run_job_for_testing(job, **job_inputs(run_job_for_testing, inputs))
        sync = Sync.objects.filter(job_result=result).first()
        return result, sync

    def job_log(self, result) -> str:
        return "\n".join(JobLogEntry.objects.filter(job_result=result).values_list("message", flat=True))


class FolderSyncMixin(JobTestMixin):
    """Corpus mail synced from a local folder by the real job, with `settings` (e.g. whole messages) applied.

    `enabled_jobs` are enabled, as an administrator would, for tests that start them from the UI or API.
    """

    settings: dict = {}
    enabled_jobs: tuple[str, ...] = ("CircuitMaintenanceDataSource",)

    def setUp(self):
        super().setUp()
        self.folder = MailFolder()
        self.addCleanup(self.folder.cleanup)
        Job.objects.filter(job_class_name__in=self.enabled_jobs).update(enabled=True)
        self.settings_override = override_settings(PLUGINS_CONFIG=plugin_config([self.folder.source], **self.settings))
        self.settings_override.enable()
        self.addCleanup(self.settings_override.disable)

    def sync(self, *messages: tuple[str, bytes]) -> None:
        """Add (name, raw) messages to the folder and run a real sync; it must succeed."""
        for name, raw in messages:
            self.folder.add(raw, name)
        with self.configured([self.folder.source], **self.settings):
            result, _ = self.run_sync()
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))
