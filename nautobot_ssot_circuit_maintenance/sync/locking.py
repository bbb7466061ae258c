"""One real sync at a time: overlapping runs would fold the same maintenance from different mail.

A PostgreSQL session-level advisory lock: the database releases it when the holder's connection
ends, so a killed worker never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import time
import zlib
from collections.abc import Iterator

from django.db import connection

from nautobot_ssot_circuit_maintenance.config import APP_NAME

LOCK_ID = zlib.crc32(f"{APP_NAME}:sync".encode())


class SyncBusy(RuntimeError):
    """Another sync still holds the lock after the wait."""


@contextlib.contextmanager
def sync_lock(*, wait_seconds: float = 300, poll_seconds: float = 1.0) -> Iterator[None]:
    """Hold the sync lock for the block; SyncBusy if another sync still holds it after `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_ID])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() >= deadline:
                raise SyncBusy(
                    f"another circuit-maintenance sync is still running after {wait_seconds:.0f} s; try again later"
                )
            time.sleep(poll_seconds)
    try:
        yield
    finally:
        with contextlib.suppress(Exception), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_ID])
