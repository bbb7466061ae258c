"""The sync lock: exclusive across database sessions, released when its holder's session ends."""

import threading

from django.db import connection, connections
from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.sync.locking import SyncBusy, sync_lock


class SyncLockTestCase(TransactionTestCase):
    def _try_in_other_session(self) -> str:
        outcome = []

        def attempt():
            try:
                with sync_lock(wait_seconds=0.2, poll_seconds=0.05):
                    outcome.append("acquired")
            except SyncBusy as error:
                outcome.append(str(error))
            finally:
                connections.close_all()

        thread = threading.Thread(target=attempt)
        thread.start()
        thread.join()
        return outcome[0]

    def test_exclusive_then_released(self):
        with sync_lock():
            self.assertIn("still running", self._try_in_other_session())
        self.assertEqual(self._try_in_other_session(), "acquired")

    def test_released_when_the_holding_session_ends(self):
        lock = sync_lock()
        lock.__enter__()
        connection.close()  # as when a worker dies: the database drops the session's locks
        self.assertEqual(self._try_in_other_session(), "acquired")
