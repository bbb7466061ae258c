"""Who may sync what at once: one run per source, one writer per maintenance, one flag refresh at a time.

Sources are independent, so several workers sync several sources at once: a run holds the lock of each
source it reads (its cursor and its mailbox labels are that source's alone). What two sources share is
the maintenances their notices speak of: a chunk holds the lock of every maintenance it folds from before
it reads their stored history until its writes are committed, so two runs never fold the same maintenance
from different mail, and a person's recompute (decisions/refold.py) takes the same locks. The same message
arriving through two mailboxes is stored once (`lock_message_keys` serialises the check and the insert).

All are PostgreSQL advisory locks, each in a namespace of its own (the two-key form: namespace, key). A
session-level lock is released by the database when the holder's connection ends, so a killed worker never
leaves a stale lock behind; a transaction-level one ends with its transaction. Locks are always taken in
ascending key order, so two holders of several never wait on each other in a circle.
"""

from __future__ import annotations

import contextlib
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection

from nautobot_ssot_circuit_maintenance.config import APP_NAME


def _int4(value: int) -> int:
    """An unsigned 32-bit number as PostgreSQL's signed int4."""
    return value - (1 << 32) if value >= 1 << 31 else value


def namespace(name: str) -> int:
    """The first key of every advisory lock of one kind (e.g. "source")."""
    return _int4(zlib.crc32(f"{APP_NAME}:{name}".encode()))


SOURCE = namespace("source")
MAINTENANCE = namespace("maintenance")
MESSAGE = namespace("message")
FLAGS = namespace("flags")
PROVISIONING = namespace("provisioning")


def lock_key(kind: int, value: Any) -> tuple[int, int]:
    """The advisory lock of one thing of a kind: two things that share the 32-bit hash only wait for each other."""
    return kind, _int4(zlib.crc32(str(value).encode()))


def maintenance_lock_key(key: tuple[Any, str]) -> tuple[int, int]:
    """The lock of the maintenance (provider pk, maintenance id)."""
    provider_pk, maintenance_id = key
    return lock_key(MAINTENANCE, f"{provider_pk}\x00{maintenance_id}")


# A lock function applied to each key of one kind, in ascending order, in one statement.
_EACH_KEY = "SELECT count({function}(%s, key)) FROM (SELECT unnest(%s::int[]) AS key ORDER BY key) AS keys"


def _by_kind(keys: Iterable[tuple[int, int]]) -> list[tuple[int, list[int]]]:
    """The keys grouped by kind, each group's values ascending, the kinds ascending; a key held twice stays twice."""
    grouped: dict[int, list[int]] = {}
    for kind, value in keys:
        grouped.setdefault(kind, []).append(value)
    return [(kind, sorted(grouped[kind])) for kind in sorted(grouped)]


class SyncBusy(RuntimeError):
    """Another run still holds a lock this one needs after the wait."""


class SessionLocks:
    """Session-level advisory locks held by this connection until `release()` (or until the connection ends)."""

    def __init__(self) -> None:
        """Hold nothing yet."""
        self.held: list[tuple[int, int]] = []

    def hold(self, keys: Iterable[tuple[int, int]], *, wait_seconds: float | None = None, busy: str = "") -> None:
        """Take these locks in ascending order, waiting as long as it takes (or `wait_seconds`, then SyncBusy).

        What was held before is kept; a lock this connection holds already is taken again (they nest).
        """
        keys = sorted(set(keys))
        with connection.cursor() as cursor:
            if wait_seconds is None:
                # One statement per kind however many keys (a chunk folds hundreds of maintenances).
                for kind, values in _by_kind(keys):
                    cursor.execute(_EACH_KEY.format(function="pg_advisory_lock"), [kind, values])
                self.held.extend(keys)
                return
            deadline = time.monotonic() + wait_seconds
            for key in keys:
                self._try_until(cursor, key, deadline, wait_seconds, busy)
                self.held.append(key)

    @staticmethod
    def _try_until(cursor: Any, key: tuple[int, int], deadline: float, wait_seconds: float, busy: str) -> None:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", list(key))
            if cursor.fetchone()[0]:
                return
            if time.monotonic() >= deadline:
                raise SyncBusy(busy or f"another circuit-maintenance run still holds a lock after {wait_seconds:.0f} s")
            time.sleep(min(0.5, max(wait_seconds / 20, 0.01)))

    def release(self) -> None:
        """Release every lock held through this object (never raises: a dead connection released them already)."""
        held, self.held = self.held, []
        with contextlib.suppress(Exception), connection.cursor() as cursor:
            for kind, values in _by_kind(held):
                cursor.execute(_EACH_KEY.format(function="pg_advisory_unlock"), [kind, values])


@contextlib.contextmanager
def source_locks(sources: Iterable[Any], *, wait_seconds: float = 300) -> Iterator[None]:
    """Hold the lock of each of these sources for the block; SyncBusy naming them if one is busy after the wait."""
    sources = list(sources)
    names = ", ".join(sorted(source.name for source in sources))
    locks = SessionLocks()
    try:
        locks.hold(
            (lock_key(SOURCE, source.pk) for source in sources),
            wait_seconds=wait_seconds,
            busy=f"another circuit-maintenance sync is still reading {names or 'the sources'} after "
            f"{wait_seconds:.0f} s; try again later",
        )
        yield
    finally:
        locks.release()


@contextlib.contextmanager
def maintenance_locks(keys: Iterable[tuple[Any, str]], *, wait_seconds: float) -> Iterator[None]:
    """Hold the locks of these maintenances (provider pk, maintenance id) for the block; SyncBusy after the wait."""
    locks = SessionLocks()
    try:
        locks.hold(
            map(maintenance_lock_key, keys),
            wait_seconds=wait_seconds,
            busy=f"a sync is still writing these maintenances after {wait_seconds:.0f} s; try again in a moment",
        )
        yield
    finally:
        locks.release()


def lock_for_transaction(kind: int, values: Iterable[Any] = ("",)) -> None:
    """Take the transaction-level locks of these values of a kind (in one statement, ascending); inside atomic()."""
    keys = sorted({lock_key(kind, value)[1] for value in values})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(_EACH_KEY.format(function="pg_advisory_xact_lock"), [kind, keys])


def lock_message_keys(message_keys: Iterable[str]) -> None:
    """Serialise storing these messages with any other run storing them (inside the storing transaction)."""
    lock_for_transaction(MESSAGE, message_keys)
