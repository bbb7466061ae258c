"""One real sync at a time: overlapping runs would fold the same maintenance from different mail."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.core.cache import cache

from .config import APP_NAME

LOCK_KEY = f"{APP_NAME}:sync"


class SyncBusy(RuntimeError):
    """Another sync still holds the lock after the wait."""


@contextlib.contextmanager
def sync_lock(*, wait_seconds: float = 300, expire_seconds: int = 3600) -> Iterator[None]:
    """Hold the app's sync lock (in Redis); expire it so a killed worker cannot hold it forever."""
    lock = cache.lock(LOCK_KEY, timeout=expire_seconds, blocking_timeout=wait_seconds)
    if not lock.acquire(blocking=True):
        raise SyncBusy(f"another circuit-maintenance sync is still running after {wait_seconds:.0f} s; try again later")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            lock.release()
