"""Reading one chunk ahead (intake/read.py): the next chunk is parsed while the current one is written.

Each chunk is still exactly the messages it would be without reading ahead, in order; a source's cursor
moves only with what a chunk took in; and a run that stops leaves no parse running behind it.
"""

from __future__ import annotations

from nautobot.apps.testing import TransactionTestCase

from nautobot_ssot_circuit_maintenance.intake.chunks import Intake
from nautobot_ssot_circuit_maintenance.intake.sources.localfolder import LocalFolderSource
from nautobot_ssot_circuit_maintenance.models import NotificationSource
from tests.fixtures.job_helpers import JobTestMixin, MailFolder
from tests.fixtures.sample_data import corpus_by_name, create_providers_and_circuits

MESSAGES = corpus_by_name()
NAMES = ("att1", "zayo4", "att2", "crowncastle1", "gtt7")


class ReadAheadTestCase(JobTestMixin, TransactionTestCase):
    def setUp(self):
        super().setUp()
        create_providers_and_circuits()
        self.folder = MailFolder()
        self.addCleanup(self.folder.cleanup)
        for name in NAMES:
            self.folder.add(MESSAGES[name], name)
        # One message per batch, two per chunk: five messages make three chunks.
        self.addCleanup(setattr, LocalFolderSource, "batch_size", LocalFolderSource.batch_size)
        LocalFolderSource.batch_size = 1

    def intake(self) -> Intake:
        intake = Intake(NotificationSource.objects.filter(name=self.folder.name), chunk_size=2)
        self.addCleanup(intake.close)
        return intake

    def test_the_next_chunk_is_parsing_when_a_chunk_is_handed_over(self):
        with self.configured([self.folder.source]):
            intake = self.intake()
            intake.next_chunk()
            (run,) = intake.runs
            self.assertEqual(len(run.messages), 2)
            ahead = intake.reader._ahead
            # The next chunk's two batches were fetched and handed to the parse pool before this one came back.
            self.assertEqual(len(ahead), 2)
            self.assertTrue(all(w.parsing.future.running() or w.parsing.future.done() for w in ahead[:1]))
            # The cursor is the one of what this chunk took in, not of what was read ahead.
            taken = run.cursor
            self.assertNotEqual(taken, ahead[-1].batch.cursor)
            self.assertFalse(intake.reader.exhausted)
            intake.next_chunk()
            self.assertEqual(run.cursor, ahead[-1].batch.cursor)

    def test_every_message_once_in_order_and_the_run_ends_after_what_was_read_ahead(self):
        with self.configured([self.folder.source]):
            intake = self.intake()
            chunks = []
            for chunk in intake.chunks():
                (run,) = chunk.runs
                chunks.append([message.location.rsplit("-", 1)[-1].removesuffix(".eml") for message in run.messages])
            self.assertEqual(chunks, [list(NAMES[0:2]), list(NAMES[2:4]), list(NAMES[4:])])
            self.assertEqual((run.fetched, run.new), (5, 5))
            self.assertTrue(intake.reader.exhausted)

    def test_closing_stops_what_was_read_ahead_and_the_pool_goes_on(self):
        with self.configured([self.folder.source]):
            intake = self.intake()
            intake.next_chunk()
            ahead = list(intake.reader._ahead)
            self.assertTrue(ahead)
            intake.close()
            self.assertTrue(all(waiting.parsing.future.done() for waiting in ahead))
            self.assertEqual(intake.reader._ahead, [])
            # The pool is free for the next run: a new intake reads everything.
            again = self.intake()
            self.assertEqual(sum(len(chunk.runs[0].messages) for chunk in again.chunks()), len(NAMES))
