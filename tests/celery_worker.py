"""Nautobot's own processes (a Celery worker, the mailbox watcher) started for a test or a benchmark.

A separate process reads its settings from a file, not from the test's `override_settings`:
`settings_with_sources` writes one that is development/nautobot_config.py plus the given notification
sources, so the worker's sync job knows the sources the test configured.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_CONFIG = ROOT / "development" / "nautobot_config.py"
STARTUP_TIMEOUT_SECONDS = 120.0


def settings_with_sources(directory: Path, sources: list[dict], **app_settings: object) -> Path:
    """A settings file: development/nautobot_config.py with `sources` as the app's notification sources (and
    `app_settings`, e.g. `push={"enable": True}`, as more of the app's settings)."""
    path = directory / "nautobot_config_sources.py"
    path.write_text(
        "import json\nimport runpy\n\n"
        f"base = runpy.run_path({str(BASE_CONFIG)!r})\n"
        "globals().update({key: value for key, value in base.items() if not key.startswith('__')})\n"
        'PLUGINS_CONFIG["nautobot_ssot_circuit_maintenance"]["notification_sources"] = '
        f"json.loads({json.dumps(json.dumps(sources))})\n"
        'PLUGINS_CONFIG["nautobot_ssot_circuit_maintenance"].update('
        f"json.loads({json.dumps(json.dumps(app_settings))}))\n"
    )
    return path


class ServerProcess:
    """`nautobot-server ARGUMENTS` in its own process group, output in `log`; `stop()` ends the group.

    `env` is added to this process's environment (e.g. NAUTOBOT_DB_NAME for a test database).
    """

    def __init__(self, arguments: list[str], settings: Path, log: Path, env: dict[str, str] | None = None):
        self.log = log
        self._file = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own server command
            [str(Path(sys.executable).parent / "nautobot-server"), *arguments],
            env={**os.environ, **(env or {}), "NAUTOBOT_CONFIG": str(settings)},
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @classmethod
    def worker(cls, settings: Path, log: Path, env: dict[str, str] | None = None) -> ServerProcess:
        """A Celery worker running one job at a time."""
        return cls(["celery", "worker", "--loglevel", "INFO", "--concurrency", "1"], settings, log, env)

    def wait_for(self, text: str, timeout: float = STARTUP_TIMEOUT_SECONDS) -> None:
        """Wait until `text` is in the log (e.g. " ready." from a worker); RuntimeError with the log's end if not."""
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.log.name}: {text!r} not seen; its log ends:\n{self.tail()}")
            time.sleep(0.1)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after 30 s (safe to call twice)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._file.close()
