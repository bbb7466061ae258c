"""Faults through real parts: IMAP connections cut, the job's database session killed, two jobs at once.

What must hold (ARCHITECTURE invariant 3 and the sync lock): whatever breaks, the records are
consistent — the cursor covers exactly the notifications stored, nothing half-written — and the
next run completes them to what a clean run gives (same maintenances, same raw and parsed
notifications, no duplicates); a third run changes nothing. Two jobs at once never duplicate.

Everything is real: Dovecot (tests/dovecot.py) behind a fault-injecting loopback proxy
(tests/fault_proxy.py), PostgreSQL, the job run by Nautobot's test runner. The database faults are
placed with a trigger that makes the job's session wait on an advisory lock the test holds, so the
test kills it from its own connection at a known statement.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import psycopg2
from django.db import DatabaseError, InterfaceError, connection, connections
from nautobot.apps.testing import TransactionTestCase
from nautobot.extras.models import JobResult
from nautobot_ssot.models import Sync, SyncLogEntry

from nautobot_ssot_circuit_maintenance.intake import locking
from nautobot_ssot_circuit_maintenance.intake.sources.imap import ImapSource
from nautobot_ssot_circuit_maintenance.models import (
    CircuitMaintenance,
    MaintenanceNote,
    NotificationSource,
    ParsedNotification,
    RawNotification,
)
from nautobot_ssot_circuit_maintenance.sync import jobs
from nautobot_ssot_circuit_maintenance.sync.diffsync.run_diff import count_maintenance_actions
from tests.fixtures.job_helpers import JobTestMixin
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits
from tests.servers.dovecot import DovecotServer
from tests.servers.fault_proxy import Connection, Fault, FaultProxy

ACCOUNT = "faults@example.net"
PASSWORD = "Fault-Imap-Pa55word-7"
# Nine notices of five providers, several per maintenance (att1-3: one maintenance through its statuses).
NAMES = ("att1", "aws1", "att2", "zayo4", "aws2", "att3", "zayo5", "gtt7", "windstream1")
BATCH = 2  # messages per IMAP FETCH: 5 fetches
CHUNK = 4  # messages per committed chunk: fetches 1-2, 3-4, 5
SOURCE = "IMAP faults"
GATE = 7_317_001  # advisory lock key the database traps wait on


# -- records, in comparable form ------------------------------------------------------------------


def records() -> dict[str, list[tuple]]:
    """Every row the sync writes, as sorted lists (a duplicate shows as an extra element)."""
    raws = [
        (
            raw.message_key,
            raw.location,
            raw.source.name if raw.source else "",
            raw.provider.name if raw.provider else "",
            raw.outcome,
            raw.error,
            raw.sender,
            raw.subject,
            raw.date.isoformat(),
            raw.raw_size,
            raw.raw_truncated,
            hashlib.sha256(bytes(raw.raw)).hexdigest(),
        )
        for raw in RawNotification.objects.select_related("source", "provider")
    ]
    parsed = [
        (
            row.raw_notification.message_key,
            row.provider.name,
            row.provider_maintenance_id,
            row.maintenance.maintenance_id if row.maintenance else "",
            json.dumps(row.json, sort_keys=True),
        )
        for row in ParsedNotification.objects.select_related("raw_notification", "provider", "maintenance")
    ]
    maintenances = [
        (
            record.provider.name,
            record.maintenance_id,
            record.name,
            record.description,
            record.status,
            record.start_time.isoformat(),
            record.end_time.isoformat(),
            json.dumps(record.windows, sort_keys=True),
            json.dumps(record.unresolved_circuit_ids),
            tuple(sorted(record.circuit_impacts.values_list("circuit__cid", "impact"))),
            tuple(sorted(record.maintenance_notes.values_list("title", "level", "comment"))),
        )
        for record in CircuitMaintenance.objects.select_related("provider")
    ]
    return {"raw": sorted(raws), "parsed": sorted(parsed), "maintenances": sorted(maintenances)}


def forget_everything() -> None:
    """Back to an empty app (providers and circuits stay): the state before the first run."""
    MaintenanceNote.objects.all().delete()
    CircuitMaintenance.objects.all().delete()
    RawNotification.objects.all().delete()
    NotificationSource.objects.update(cursor={}, last_error="", last_run=None)


# -- the IMAP conversation of a clean run ---------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One IMAP command: where it sits in the client's stream and its answer in the server's."""

    command: bytes
    client: tuple[int, int]
    server: tuple[int, int]
    tagged_at: int  # where the answer's tagged status line starts

    @property
    def mid_client(self) -> int:
        return (self.client[0] + self.client[1]) // 2

    @property
    def mid_server(self) -> int:
        return (self.server[0] + self.server[1]) // 2


def imap_steps(transcript: Connection) -> list[Step]:
    """Split a recorded conversation into the greeting and one Step per command."""
    client, server = bytes(transcript.client), bytes(transcript.server)
    greeting_end = server.index(b"\r\n") + 2
    steps = [Step(b"greeting", (0, 0), (0, greeting_end), 0)]
    client_at, server_at = 0, greeting_end
    while client_at < len(client):
        line_end = client.index(b"\r\n", client_at) + 2
        tag, _, command = client[client_at:line_end].partition(b" ")
        if server.startswith(tag + b" ", server_at):
            tagged_at = server_at
        else:
            tagged_at = server.index(b"\r\n" + tag + b" ", server_at) + 2
        answer_end = server.index(b"\r\n", tagged_at) + 2
        steps.append(Step(command.strip(), (client_at, line_end), (server_at, answer_end), tagged_at))
        client_at, server_at = line_end, answer_end
    return steps


def body_fetches(steps: list[Step]) -> list[Step]:
    """The FETCH commands that read message bodies, one per batch."""
    return [s for s in steps if s.command.startswith(b"UID FETCH") and b"BODY" in s.command]


@dataclass(frozen=True)
class CutPoint:
    label: str
    fault: Fault
    # Messages the cut run must have committed: every batch fetched before the cut, no more.
    stored: int


def cut_points(steps: list[Step]) -> list[CutPoint]:
    """Cuts spread over a whole sync: before and during login, SELECT/SEARCH, each part of the fetch, LOGOUT."""

    def step(prefix: bytes, index: int = 0) -> Step:
        return [s for s in steps if s.command.startswith(prefix)][index]

    fetches = body_fetches(steps)
    assert len(fetches) == 5, [s.command for s in steps]
    first, middle, last = fetches[0], fetches[2], fetches[-1]
    # Sizes asked before the bodies (when the source bounds message sizes), if it does.
    sizes = [s for s in steps if s.command.startswith(b"UID FETCH") and s not in fetches]
    size_cuts = [CutPoint("mid size FETCH answer", Fault(server_bytes=sizes[0].mid_server), 0)] if sizes else []
    return [
        *size_cuts,
        CutPoint("server closes at connect", Fault(server_bytes=0), 0),
        CutPoint("mid greeting", Fault(server_bytes=step(b"greeting").mid_server), 0),
        CutPoint("mid CAPABILITY answer", Fault(server_bytes=step(b"CAPABILITY").mid_server), 0),
        CutPoint("mid LOGIN answer", Fault(server_bytes=step(b"LOGIN").mid_server), 0),
        CutPoint("client: mid LOGIN command", Fault(client_bytes=step(b"LOGIN").mid_client), 0),
        CutPoint("mid EXAMINE answer", Fault(server_bytes=step(b"EXAMINE").mid_server), 0),
        CutPoint("mid SEARCH answer", Fault(server_bytes=step(b"UID SEARCH").mid_server), 0),
        CutPoint("1st FETCH, its first byte", Fault(server_bytes=first.server[0] + 1), 0),
        CutPoint("1st FETCH, mid message", Fault(server_bytes=first.mid_server), 0),
        CutPoint("client: mid 2nd FETCH command", Fault(client_bytes=fetches[1].mid_client), 2),
        CutPoint("RST mid 2nd FETCH", Fault(server_bytes=fetches[1].mid_server, reset=True), 2),
        CutPoint("middle FETCH (chunk 2), mid", Fault(server_bytes=middle.mid_server), 4),
        CutPoint("RST 4th FETCH", Fault(server_bytes=fetches[3].server[0] + 100, reset=True), 6),
        CutPoint("last FETCH (chunk 3), mid", Fault(server_bytes=last.mid_server), 8),
        CutPoint("last FETCH, all data but its tagged OK", Fault(server_bytes=last.tagged_at), 8),
        CutPoint("mid LOGOUT answer", Fault(server_bytes=step(b"LOGOUT").mid_server), len(NAMES)),
    ]


# -- the database traps -----------------------------------------------------------------------------


def raw_connection():
    """A psycopg2 session of its own on the test database (autocommit), outside Django.

    Close it with contextlib.closing: psycopg2's own `with connection` opens a transaction even in
    autocommit, and pg_stat_activity stays frozen inside a transaction.
    """
    settings = connection.settings_dict
    session = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"],
        port=settings["PORT"] or None,
    )
    session.autocommit = True
    return session


# Advisory locks are per database but pg_locks shows every database's: other test databases on this
# server run the same job and hold the same sync lock key, so always filter on ours.
_ADVISORY_LOCK_PIDS = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = %s AND granted = %s "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


# The holders of source locks (intake/locking.py: the two-key form, classid the SOURCE namespace).
_SOURCE_LOCK_PIDS = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = (%s::int)::oid AND objsubid = 2 "
    "AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def sync_lock_holder(cursor) -> int | None:
    """The backend pid holding a source's lock (the sync job's session reading it), if any."""
    cursor.execute(_SOURCE_LOCK_PIDS, [locking.SOURCE])
    row = cursor.fetchone()
    return row[0] if row else None


def terminate(cursor, pids: list[int]) -> None:
    """pg_terminate_backend each pid and wait until the sessions are gone."""
    for pid in pids:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
        if cursor.fetchone()[0] == 0:
            return
        time.sleep(0.02)
    cursor.execute(
        "SELECT pid, state, wait_event_type, wait_event, backend_type, left(query, 80) FROM pg_stat_activity "
        "WHERE pid = ANY(%s)",
        [pids],
    )
    raise AssertionError(f"sessions {pids} did not end: {cursor.fetchall()}")


class DatabaseTrap:
    """Kill the job's database session at the `hit`-th statement writing `table` (INSERT/UPDATE [OF column]).

    A statement trigger makes that statement wait on an advisory lock this trap holds; a watcher
    thread sees the session waiting, checks it is the one holding the sync lock, and terminates it
    (with every other session on the test database when `all_sessions`).
    """

    def __init__(self, table: str, event: str, hit: int, all_sessions: bool = False):
        self.table, self.event, self.hit, self.all_sessions = table, event, hit, all_sessions
        self.killed: list[int] = []
        self.errors: list[str] = []
        self._session = raw_connection()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="db-trap", daemon=True)

    def __enter__(self) -> DatabaseTrap:
        with self._session.cursor() as cursor:
            self._drop(cursor)
            cursor.execute("CREATE SEQUENCE test_fault_trap_hits")
            cursor.execute(
                f"""
                CREATE FUNCTION test_fault_trap() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF nextval('test_fault_trap_hits') = {int(self.hit)} THEN
                        PERFORM pg_advisory_lock({GATE});
                        PERFORM pg_advisory_unlock({GATE});
                    END IF;
                    RETURN NULL;
                END $$
                """
            )
            cursor.execute(
                f'CREATE TRIGGER test_fault_trap AFTER {self.event} ON "{self.table}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION test_fault_trap()"
            )
            cursor.execute("SELECT pg_advisory_lock(%s)", [GATE])
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
        with self._session.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [GATE])
            self._drop(cursor)
        self._session.close()

    def _drop(self, cursor) -> None:
        cursor.execute(f'DROP TRIGGER IF EXISTS test_fault_trap ON "{self.table}"')
        cursor.execute("DROP FUNCTION IF EXISTS test_fault_trap()")
        cursor.execute("DROP SEQUENCE IF EXISTS test_fault_trap_hits")

    def _watch(self) -> None:
        with contextlib.closing(raw_connection()) as watcher, watcher.cursor() as cursor:
            while not self._stop.is_set():
                cursor.execute(_ADVISORY_LOCK_PIDS, [GATE, False])
                row = cursor.fetchone()
                if row is None:
                    time.sleep(0.01)
                    continue
                pid = row[0]
                holder = sync_lock_holder(cursor)
                if holder != pid:
                    cursor.execute(
                        "SELECT pid, backend_start, state, xact_start, left(query, 60) FROM pg_stat_activity "
                        "WHERE pid IN (%s, %s)",
                        [pid, holder or 0],
                    )
                    self.errors.append(
                        f"the trapped session {pid} is not the sync-lock holder {holder}: {cursor.fetchall()}"
                    )
                victims = [pid]
                if self.all_sessions:
                    cursor.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid NOT IN (pg_backend_pid(), %s)",
                        [self._session.get_backend_pid()],
                    )
                    victims = [pid, *(other for (other,) in cursor.fetchall() if other != pid)]
                terminate(cursor, victims)
                self.killed = victims
                return


def kill_lock_holder() -> Callable[[], None]:
    """A proxy pause action: kill the session that holds the sync lock (the job's) while it waits on IMAP."""
    killed: list[int] = []

    def action() -> None:
        with contextlib.closing(raw_connection()) as session, session.cursor() as cursor:
            holder = sync_lock_holder(cursor)
            assert holder is not None, "no sync lock held at the pause"
            cursor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [holder])
            action.state = cursor.fetchone()[0]
            terminate(cursor, [holder])
            killed.append(holder)

    action.killed = killed
    return action


# -- the test cases -------------------------------------------------------------------------------------


class FaultTestMixin(JobTestMixin):
    """One Dovecot for the class; the test mail in a folder per test; small batches and chunks."""

    folder = "Faults"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dovecot = DovecotServer()
        cls.dovecot.add_user(ACCOUNT, PASSWORD)
        cls.dovecot.start()
        cls.messages = corpus_by_name()

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        for owner, attribute, value in ((jobs, "CHUNK_MESSAGES", CHUNK), (ImapSource, "batch_size", BATCH)):
            self.addCleanup(setattr, owner, attribute, getattr(owner, attribute))
            setattr(owner, attribute, value)
        self.folder = f"{type(self).__name__}-{self._testMethodName}"[:60]
        self.uids = [self.dovecot.append(ACCOUNT, self.messages[name], folder=self.folder) for name in NAMES]
        self.proxy = FaultProxy(self.dovecot.imap_port).start()
        self.addCleanup(self.proxy.stop)

    def source(self, name: str = SOURCE) -> dict:
        return {
            "name": name,
            "url": f"imap://{self.proxy.host}:{self.proxy.port}",
            "tls": False,
            "account": ACCOUNT,
            "secret": PASSWORD,
            "folder": self.folder,
            "attach_all_providers": True,
        }

    def assertSucceeded(self, result) -> None:
        self.assertEqual(result.status, "SUCCESS", self.job_log(result))

    def assertConsistent(self, clean: dict, stored: int | None, context: str) -> None:
        """The cursor covers exactly what is stored, and what is stored is a prefix of the clean run's rows."""
        source = NotificationSource.objects.get(name=SOURCE)
        last_uid = (source.cursor or {}).get("last_uid", 0)
        locations = sorted(RawNotification.objects.values_list("location", flat=True))
        covered = sorted(f"{self.folder}:{uid}" for uid in self.uids if uid <= last_uid)
        self.assertEqual(locations, covered, f"{context}: cursor {source.cursor} vs stored {locations}")
        if stored is not None:
            self.assertEqual(len(locations), stored, context)
        now = records()
        for kind in ("raw", "parsed"):
            extra = [row for row in now[kind] if row not in clean[kind]]
            self.assertEqual(extra, [], f"{context}: {kind} rows a clean run does not have")
            self.assertEqual(len(now[kind]), len(set(now[kind])), f"{context}: duplicate {kind} rows")

    def assertCompletedLikeClean(self, clean: dict, clean_cursor: dict, context: str) -> None:
        """Run again: the records equal the clean run's; then once more: nothing changes."""
        result, _ = self.run_sync()
        self.assertSucceeded(result)
        self.assertEqual(records(), clean, f"{context}: second run")
        source = NotificationSource.objects.get(name=SOURCE)
        self.assertEqual(source.cursor, clean_cursor, context)
        self.assertEqual(source.last_error, "", context)
        result, sync = self.run_sync()
        self.assertSucceeded(result)
        self.assertEqual(records(), clean, f"{context}: third run")
        self.assertEqual(sync.summary.get("create", 0) + sync.summary.get("update", 0), 0, f"{context}: {sync.summary}")
        self.assertFalse(
            SyncLogEntry.objects.filter(sync=sync, action__in=("create", "update")).exists(),
            f"{context}: the third run logged changes",
        )

    def clean_run(self) -> tuple[dict, dict]:
        result, sync = self.run_sync()
        self.assertSucceeded(result)
        clean = records()
        self.assertEqual(len(clean["raw"]), len(NAMES))
        self.assertGreater(len(clean["maintenances"]), 3)
        self.assertGreater(count_maintenance_actions(sync.diff)["create"], 3)
        return clean, dict(NotificationSource.objects.get(name=SOURCE).cursor)


class ImapCutTestCase(FaultTestMixin, TransactionTestCase):
    def test_cut_anywhere_in_a_sync_then_completed(self):
        with self.configured([self.source()]):
            clean, clean_cursor = self.clean_run()
            transcript = self.proxy.connections[-1]
            self.assertFalse(transcript.cut)
            points = cut_points(imap_steps(transcript))
            for point in points:
                with self.subTest(point.label):
                    forget_everything()
                    cuts = self.proxy.cuts
                    self.proxy.arm(replace(point.fault, times=1))
                    result, _ = self.run_sync()
                    self.assertEqual(self.proxy.cuts, cuts + 1, f"{point.label}: the connection was not cut")
                    source = NotificationSource.objects.get(name=SOURCE)
                    if point.stored == len(NAMES):
                        self.assertSucceeded(result)
                        self.assertEqual(records(), clean, point.label)
                    else:
                        self.assertEqual(result.status, "FAILURE", f"{point.label}: {self.job_log(result)}")
                        self.assertIn(SOURCE, source.last_error, point.label)
                        self.assertNotIn(PASSWORD, source.last_error + self.job_log(result), point.label)
                    self.assertConsistent(clean, point.stored, point.label)
                    self.assertCompletedLikeClean(clean, clean_cursor, point.label)
        print(f"\n[faults] IMAP cut points tried: {len(points)} (each: cut run, completing run, idle run)")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit("run with nautobot-server test tests.intake.test_faults")


@dataclass(frozen=True)
class KillPoint:
    label: str
    # A DatabaseTrap factory, or None: kill the session while the job waits on IMAP (start of the 3rd FETCH).
    trap: Callable[[], DatabaseTrap] | None
    # Messages the killed run leaves committed (None: whatever, as long as it is consistent).
    stored: int | None


class DatabaseKillTestCase(FaultTestMixin, TransactionTestCase):
    def run_killed(self) -> str:
        """Run the job while its database session gets killed; return how it ended."""
        started = datetime.now(timezone.utc)
        try:
            result, _ = self.run_sync()
        except (DatabaseError, InterfaceError) as error:  # the framework could not even record the failure
            import traceback

            traceback.print_exc()
            outcome = f"raised {type(error).__name__}"
        else:
            outcome = result.status
        finally:
            connections.close_all()  # never reuse the dead session
        stored = JobResult.objects.filter(date_created__gte=started).values_list("status", flat=True)
        return f"{outcome}, JobResult {'/'.join(stored)}"

    def test_database_session_killed_mid_sync_then_completed(self):
        raw = RawNotification._meta.db_table
        maintenance = CircuitMaintenance._meta.db_table
        log = SyncLogEntry._meta.db_table
        source = NotificationSource._meta.db_table
        points = [
            KillPoint("inserting chunk 1's notifications", lambda: DatabaseTrap(raw, "INSERT", 1), 0),
            KillPoint("inserting chunk 2's notifications", lambda: DatabaseTrap(raw, "INSERT", 2), 4),
            KillPoint(
                "writing maintenances, 2nd statement", lambda: DatabaseTrap(maintenance, "INSERT OR UPDATE", 2), None
            ),
            KillPoint("writing chunk 1's sync log", lambda: DatabaseTrap(log, "INSERT", 1), 0),
            KillPoint("moving chunk 2's cursor", lambda: DatabaseTrap(source, "UPDATE OF cursor", 2), 4),
            KillPoint(
                "every session, inserting chunk 3's notifications",
                lambda: DatabaseTrap(raw, "INSERT", 3, all_sessions=True),
                8,
            ),
            # Chunk 2 is read ahead, while chunk 1 is written (intake/read.py): killed then, chunk 1 is lost too.
            KillPoint("idle while the job reads chunk 2 from IMAP", None, 0),
        ]
        outcomes = {}
        with self.configured([self.source()]):
            clean, clean_cursor = self.clean_run()
            third_fetch = body_fetches(imap_steps(self.proxy.connections[-1]))[2]
            for point in points:
                with self.subTest(point.label):
                    forget_everything()
                    if point.trap is None:
                        action = kill_lock_holder()
                        self.proxy.arm(Fault(pause_at=third_fetch.mid_server, on_pause=action, times=1))
                        outcomes[point.label] = self.run_killed()
                        killed = action.killed
                        outcomes[point.label] += f" (session was {action.state})"
                    else:
                        with point.trap() as trap:
                            outcomes[point.label] = self.run_killed()
                        self.assertEqual(trap.errors, [], point.label)
                        killed = trap.killed
                    self.assertTrue(killed, f"{point.label}: nothing was killed ({outcomes[point.label]})")
                    self.assertNotEqual(outcomes[point.label], "SUCCESS", point.label)
                    with contextlib.closing(raw_connection()) as session, session.cursor() as cursor:
                        self.assertIsNone(
                            sync_lock_holder(cursor), f"{point.label}: the sync lock outlived its session"
                        )
                    self.assertConsistent(clean, point.stored, f"{point.label}: {outcomes[point.label]}")
                    self.assertTrue(
                        NotificationSource.objects.get(name=SOURCE).last_error, f"{point.label}: no last_error"
                    )
                    self.assertCompletedLikeClean(clean, clean_cursor, point.label)
        print(f"\n[faults] database kill points tried: {len(points)}; killed runs ended as {outcomes}")


class ConcurrentJobsTestCase(FaultTestMixin, TransactionTestCase):
    """Two real runs at once: of one source, the second waits for the first's source lock; of two sources on one
    mailbox, both run and nothing is stored or created twice."""

    def run_side_by_side(self, here: dict, there: dict) -> list[tuple[str, Sync | None, str]]:
        """Run the job here and, at the same time, in a forked process; return (status, sync, log) of each.

        Nautobot runs a job synchronously only in a main thread (it sets SIGALRM), hence a process.
        """
        connections.close_all()  # the child must not share this process's database sockets
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=self._child_run, args=(queue, there))
        child.start()
        try:
            result, sync = self.run_sync(**here)
            mine = (result.status, sync, self.job_log(result))
            status, sync_pk, log = queue.get(timeout=120)
        finally:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
        return [mine, (status, Sync.objects.filter(pk=sync_pk).first(), log)]

    def _child_run(self, queue, kwargs: dict) -> None:
        from nautobot_ssot_circuit_maintenance.intake import workers

        workers._pools.clear()  # the parent's parse workers are the parent's: start our own
        try:
            result, sync = self.run_sync(**kwargs)
            queue.put((result.status, sync.pk if sync else None, self.job_log(result)))
        except BaseException:  # noqa: BLE001 - reported to the parent
            queue.put(("ERROR", None, traceback.format_exc()))
        finally:
            connections.close_all()

    def hold_first_run_until_second_waits(self) -> dict:
        """A proxy pause action: hold the lock holder's IMAP read until another session polls the sync lock."""
        evidence: dict = {}

        def action() -> None:
            with contextlib.closing(raw_connection()) as session, session.cursor() as cursor:
                evidence["holder"] = sync_lock_holder(cursor)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    cursor.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s "
                        "AND query LIKE %s",
                        [evidence["holder"] or 0, "SELECT pg_try_advisory_lock%"],
                    )
                    row = cursor.fetchone()
                    if row:
                        evidence["waiter"] = row[0]
                        cursor.execute(f'SELECT count(*) FROM "{Sync._meta.db_table}"')  # noqa: S608 - a model's table
                        evidence["syncs while waiting"] = cursor.fetchone()[0]
                        break
                    time.sleep(0.05)
                evidence["released"] = datetime.now(timezone.utc)

        evidence["action"] = action
        return evidence

    def test_two_runs_of_one_source_at_once(self):
        with self.configured([self.source()]):
            clean, clean_cursor = self.clean_run()
            first_syncs = set(Sync.objects.values_list("pk", flat=True))
            forget_everything()
            evidence = self.hold_first_run_until_second_waits()
            steps = body_fetches(imap_steps(self.proxy.connections[-1]))
            self.proxy.arm(Fault(pause_at=steps[2].mid_server, on_pause=evidence["action"], times=1))
            results = self.run_side_by_side({}, {})
        for status, _, log in results:
            self.assertEqual(status, "SUCCESS", log)
        self.assertIn("waiter", evidence, "the second run never polled the sync lock while the first held it")
        self.assertNotEqual(evidence["waiter"], evidence["holder"])
        self.assertEqual(evidence["syncs while waiting"], len(first_syncs) + 1, "the second run started syncing")
        syncs = sorted((outcome[1] for outcome in results), key=lambda sync: sync.start_time)
        self.assertGreaterEqual(syncs[1].start_time, evidence["released"], "the second run did not wait")
        self.assertGreater(syncs[0].summary.get("create", 0), 0)
        self.assertEqual(syncs[1].summary.get("create", 0) + syncs[1].summary.get("update", 0), 0)
        self.assertEqual(records(), clean)
        self.assertEqual(NotificationSource.objects.get(name=SOURCE).cursor, clean_cursor)

    def test_two_sources_on_one_mailbox_at_once(self):
        """Each run reads the whole folder through its own source, at the same time; no message is stored twice."""
        other = "IMAP faults, same folder"
        with self.configured([self.source(), self.source(other)]):
            names = {NotificationSource.objects.get(name=n).pk: n for n in (SOURCE, other)}
            results = self.run_side_by_side(*({"sources": [pk]} for pk in names))
            for status, _, log in results:
                self.assertEqual(status, "SUCCESS", log)
            stored = records()
            self.assertEqual(len(stored["raw"]), len(NAMES))
            self.assertEqual(len({row[0] for row in stored["raw"]}), len(NAMES))
            # Both cursors moved to the end: the second run's messages were all already stored.
            for name in names.values():
                self.assertEqual(NotificationSource.objects.get(name=name).cursor.get("last_uid"), self.uids[-1])
            summaries = [outcome[1].summary for outcome in results]
            forget_everything()
            result, sync = self.run_sync(sources=[pk for pk, n in names.items() if n == SOURCE])
            self.assertSucceeded(result)
            alone = records()
        # The two runs went chunk by chunk side by side: between them, each record was created once.
        self.assertEqual(sum(s.get("create", 0) for s in summaries), sync.summary["create"], summaries)
        # The same records as one source alone, whichever source stored each message.
        strip = lambda rows: sorted(row[:2] + row[3:] for row in rows)  # noqa: E731 - without the source name
        self.assertEqual(strip(stored["raw"]), strip(alone["raw"]))
        self.assertEqual(stored["parsed"], alone["parsed"])
        self.assertEqual(stored["maintenances"], alone["maintenances"])
