"""Data migrations of the app's own: what they do to rows stored before them."""

from __future__ import annotations

from datetime import datetime, timezone

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.mail import pack
from nautobot_ssot_circuit_maintenance.models import RawNotification

APP = "nautobot_ssot_circuit_maintenance"


def migrate_to_latest() -> None:
    """Every app's newest migration: the database as the rest of the suite expects it after a test went back."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


class PushedMessagesKeptWholeTestCase(TransactionTestCase):
    """0014: a pushed message labelled `head` whose whole message is stored becomes `whole`; a cut one stays."""

    BEFORE = [(APP, "0013_override_circuits")]
    AFTER = [(APP, "0014_pushed_messages_kept_whole")]

    def migrate(self, target: list) -> None:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(target)

    def test_whole_pushed_messages_are_labelled_whole(self):
        self.addCleanup(migrate_to_latest)
        self.migrate(self.BEFORE)
        apps = MigrationExecutor(connection).loader.project_state(self.BEFORE).apps
        source_model = apps.get_model(APP, "NotificationSource")
        raw_model = apps.get_model(APP, "RawNotification")
        pushed = source_model.objects.create(name="pushed", source_type="push")
        mailbox = source_model.objects.create(name="Mailbox", source_type="imap")
        message = b"From: a@example.org\r\nSubject: t\r\n\r\nhi\r\n"
        rows = {
            "small push": (pushed, pack(message), len(message)),
            "cut push": (pushed, pack(message[:20]), len(message)),
            "mailbox head": (mailbox, pack(message), len(message)),
        }
        for key, (source, packed, size) in rows.items():
            raw_model.objects.create(
                source=source,
                message_key=key,
                date=datetime(2026, 1, 1, tzinfo=timezone.utc),
                raw=message[:10],
                raw_size=size,
                message=packed,
                message_kept="head",
                outcome="parsed",
            )
        self.migrate(self.AFTER)
        kept = dict(RawNotification.objects.values_list("message_key", "message_kept"))
        self.assertEqual(kept, {"small push": "whole", "cut push": "head", "mailbox head": "head"})
