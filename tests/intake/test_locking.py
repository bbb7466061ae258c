"""The locks of intake/locking.py: per source and per maintenance, exclusive across database sessions, released
when their holder's session ends; a message stored by two runs at once is stored once."""

import threading
from collections.abc import Callable

from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.intake.locking import (
    MAINTENANCE,
    MESSAGE,
    SOURCE,
    SessionLocks,
    SyncBusy,
    lock_key,
    lock_message_keys,
    maintenance_lock_key,
    maintenance_locks,
    source_locks,
)
from nautobot_ssot_circuit_maintenance.models import NotificationSource


def in_other_session(action: Callable[[], object]) -> str:
    """Run `action` on another database connection (a thread's); "acquired" or the SyncBusy message."""
    outcome = []

    def attempt():
        try:
            action()
            outcome.append("acquired")
        except SyncBusy as error:
            outcome.append(str(error))
        finally:
            connections.close_all()

    thread = threading.Thread(target=attempt)
    thread.start()
    thread.join()
    return outcome[0]


def briefly(context) -> Callable[[], None]:
    def action():
        with context():
            pass

    return action


class SourceLockTestCase(TransactionTestCase):
    def setUp(self):
        self.lon = NotificationSource.objects.create(name="london")
        self.par = NotificationSource.objects.create(name="paris")

    def test_one_run_per_source_and_other_sources_free(self):
        with source_locks([self.lon]):
            busy = in_other_session(briefly(lambda: source_locks([self.lon], wait_seconds=0.2)))
            self.assertIn("still reading london", busy)
            self.assertEqual(in_other_session(briefly(lambda: source_locks([self.par], wait_seconds=0.2))), "acquired")
            # A run over both sources waits for the busy one, and leaves the free one free when it gives up.
            self.assertIn(
                "london, paris", in_other_session(briefly(lambda: source_locks([self.par, self.lon], wait_seconds=0.2)))
            )
            self.assertEqual(in_other_session(briefly(lambda: source_locks([self.par], wait_seconds=0.2))), "acquired")
        self.assertEqual(in_other_session(briefly(lambda: source_locks([self.lon], wait_seconds=0.2))), "acquired")

    def test_nested_on_one_connection(self):
        # process-now holds the pushed source's lock and runs the job, which takes it again, on the same connection.
        with source_locks([self.lon]), source_locks([self.lon], wait_seconds=0):
            pass
        self.assertEqual(in_other_session(briefly(lambda: source_locks([self.lon], wait_seconds=0.2))), "acquired")

    def test_released_when_the_holding_session_ends(self):
        lock = source_locks([self.lon])
        lock.__enter__()
        connection.close()  # as when a worker dies: the database drops the session's locks
        self.assertEqual(in_other_session(briefly(lambda: source_locks([self.lon], wait_seconds=0.2))), "acquired")


class MaintenanceLockTestCase(TransactionTestCase):
    def test_per_maintenance(self):
        locks = SessionLocks()
        locks.hold([maintenance_lock_key(("provider-1", "M1")), maintenance_lock_key(("provider-1", "M2"))])
        try:
            self.assertIn(
                "still writing",
                in_other_session(briefly(lambda: maintenance_locks([("provider-1", "M2")], wait_seconds=0.2))),
            )
            self.assertEqual(
                in_other_session(briefly(lambda: maintenance_locks([("provider-2", "M2")], wait_seconds=0.2))),
                "acquired",
            )
        finally:
            locks.release()
        self.assertEqual(
            in_other_session(briefly(lambda: maintenance_locks([("provider-1", "M2")], wait_seconds=0.2))), "acquired"
        )

    def test_a_chunks_hundreds_of_maintenances_cost_one_statement_to_lock_and_one_to_release(self):
        keys = [maintenance_lock_key(("provider-1", f"M{index}")) for index in range(300)]
        locks = SessionLocks()
        with CaptureQueriesContext(connection) as taken:
            locks.hold(keys)
        self.assertEqual(len(taken), 1)
        busy = in_other_session(briefly(lambda: maintenance_locks([("provider-1", "M299")], wait_seconds=0.2)))
        self.assertIn("still writing", busy)
        with CaptureQueriesContext(connection) as released:
            locks.release()
        self.assertEqual(len(released), 1)
        self.assertEqual(
            in_other_session(briefly(lambda: maintenance_locks([("provider-1", "M0")], wait_seconds=0.2))), "acquired"
        )

    def test_kinds_do_not_meet(self):
        self.assertNotEqual(lock_key(SOURCE, "x")[0], lock_key(MAINTENANCE, "x")[0])
        self.assertEqual(lock_key(SOURCE, "x"), lock_key(SOURCE, "x"))

    def test_message_locks_last_until_the_transaction_ends(self):
        entered = threading.Event()
        release = threading.Event()

        def hold():
            with transaction.atomic():
                lock_message_keys(["<a@example.net>", "<b@example.net>"])
                entered.set()
                release.wait(10)
            connections.close_all()

        holder = threading.Thread(target=hold)
        holder.start()
        entered.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", list(lock_key(MESSAGE, "<b@example.net>")))
            self.assertFalse(cursor.fetchone()[0], "another transaction holds the message's lock")
        release.set()
        holder.join()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", list(lock_key(MESSAGE, "<b@example.net>")))
            self.assertTrue(cursor.fetchone()[0])
