"""A throwaway Alertmanager (Debian's `prometheus-alertmanager`) on a loopback port, for tests (no Django needed).

    with AlertmanagerServer() as server:
        requests.get(f"{server.url}/api/v2/silences")

Its own config file and storage in a temporary folder, clustering off (`--cluster.listen-address=`). `stop()` and
`start()` again keep the storage, as a restart would; `silences()` reads them back through the API.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from tests.servers.ports import LOOPBACK, free_port

BINARY = "prometheus-alertmanager"
# A route to a receiver that sends nothing: the tests only silence.
CONFIG = """\
route:
  receiver: blackhole
receivers:
  - name: blackhole
"""


def alertmanager_binary() -> str | None:
    """The Alertmanager binary, None when it is not installed (`./run install-system-deps` installs it)."""
    return shutil.which(BINARY)


class AlertmanagerServer:
    """Alertmanager on 127.0.0.1 and a free port, with its config and storage in a temporary folder."""

    def __init__(self) -> None:
        self.binary = alertmanager_binary()
        if self.binary is None:
            raise FileNotFoundError(f"{BINARY} is not installed (Debian package prometheus-alertmanager)")
        self.directory = Path(tempfile.mkdtemp(prefix="cm-alertmanager-"))
        (self.directory / "alertmanager.yml").write_text(CONFIG)
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.process: subprocess.Popen | None = None
        atexit.register(self.cleanup)

    def start(self) -> AlertmanagerServer:
        """Start it and wait until it answers ready."""
        self.process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [
                self.binary,
                f"--config.file={self.directory / 'alertmanager.yml'}",
                f"--storage.path={self.directory / 'data'}",
                f"--web.listen-address={LOOPBACK}:{self.port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / "alertmanager.log").open("ab"),
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Alertmanager did not start: {self.log()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop it (its storage stays for a later `start`)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        """Stop it and remove its folder."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
        atexit.unregister(self.cleanup)

    def __enter__(self) -> AlertmanagerServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.cleanup()

    def log(self) -> str:
        """What Alertmanager wrote to its log."""
        path = self.directory / "alertmanager.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def silences(self, *, live: bool = True) -> list[dict[str, Any]]:
        """The silences it holds, read through its API; only the active and pending ones with `live`."""
        silences = requests.get(f"{self.url}/api/v2/silences", timeout=5).json()
        return [s for s in silences if s["status"]["state"] != "expired"] if live else silences

    def silence(self, silence_id: str) -> dict[str, Any]:
        """One silence, read through its API."""
        return requests.get(f"{self.url}/api/v2/silence/{silence_id}", timeout=5).json()

    def expire_all(self) -> None:
        """Expire every silence (between tests)."""
        for silence in self.silences():
            requests.delete(f"{self.url}/api/v2/silence/{silence['id']}", timeout=5)
