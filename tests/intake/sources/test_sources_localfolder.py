"""LocalFolderSource on Maildir, .eml folders and mbox files (plain unittest, no database)."""

from __future__ import annotations

import hashlib
import mailbox
import os
import shutil
import tempfile
import unittest
from datetime import datetime, timedelta, timezone
from pathlib import Path

from nautobot_ssot_circuit_maintenance.config import SourceSettings
from nautobot_ssot_circuit_maintenance.intake.sources import (
    SOURCE_TYPES,
    ImapSource,
    LocalFolderSource,
    SourceError,
    get_source,
)
from tests.fixtures.corpus import load_corpus

NOW = datetime.now(timezone.utc)
SINCE = NOW - timedelta(days=7)
OLD = (NOW - timedelta(days=30)).timestamp()


def _normalise(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").rstrip(b"\n")


def _snapshot(root: Path) -> dict[str, tuple[float, str]]:
    """mtime and content hash of every file below root, and the listing of every folder."""
    state = {}
    for path in sorted(root.rglob("*")) + [root]:
        stat = path.stat()
        if path.is_file():
            state[str(path)] = (stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
        else:
            state[str(path)] = (stat.st_mtime_ns, ",".join(sorted(os.listdir(path))))
    return state


class LocalFolderTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="test-localfolder-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.corpus = load_corpus()

    def source(self, path: Path, batch_size: int | None = None) -> LocalFolderSource:
        source = get_source(SourceSettings(name="local", url=f"file://{path}"))
        self.assertIsInstance(source, LocalFolderSource)
        if batch_size:
            source.batch_size = batch_size
        return source

    @staticmethod
    def fetch_all(source: LocalFolderSource, cursor=None, since: datetime = SINCE):
        batches = list(source.fetch(cursor, since))
        return batches, [m for b in batches for m in b.messages]

    def make_maildir(self, count: int, old: int = 0) -> tuple[Path, list[str]]:
        """A Maildir with `count` corpus mails (the first `old` ones dated 30 days ago)."""
        path = self.tmp / "Maildir"
        box = mailbox.Maildir(path, create=True)
        keys = []
        for index, (_, raw, _) in enumerate(self.corpus[:count]):
            key = box.add(raw)
            keys.append(key)
            if index < old:
                os.utime(path / "new" / key, (OLD, OLD))
        return path, keys

    def make_eml_dir(self, count: int, old: int = 0) -> Path:
        path = self.tmp / "eml"
        path.mkdir()
        for index, (name, raw, _) in enumerate(self.corpus[:count]):
            file = path / f"{index:03d}-{name}.eml"
            file.write_bytes(raw)
            if index < old:
                os.utime(file, (OLD, OLD))
        (path / "notes.txt").write_text("not a message")
        (path / "sub").mkdir()
        (path / "sub" / "ignored.eml").write_bytes(self.corpus[0][1])
        return path

    def make_mbox(self, count: int) -> Path:
        path = self.tmp / "notifications.mbox"
        box = mailbox.mbox(path, create=True)
        for _, raw, _ in self.corpus[:count]:
            box.add(raw)
        box.close()
        return path

    # -- registry ---------------------------------------------------------------------------

    def test_get_source_by_scheme(self) -> None:
        self.assertIs(SOURCE_TYPES["imap"], ImapSource)
        self.assertIs(SOURCE_TYPES["file"], LocalFolderSource)
        self.assertIsInstance(get_source(SourceSettings(name="i", url="imap://mail.example.com")), ImapSource)
        with self.assertRaises(SourceError) as caught:
            get_source(SourceSettings(name="bad", url="pop3://mail.example.com"))
        self.assertIn("pop3", str(caught.exception))
        with self.assertRaises(SourceError):
            get_source(SourceSettings(name="rel", url="file:relative/path"))

    # -- Maildir ----------------------------------------------------------------------------

    def test_maildir_reads_new_and_cur(self) -> None:
        path, keys = self.make_maildir(4)
        # Move two messages to cur/ with flags, as a mail client would.
        for key in keys[:2]:
            os.rename(path / "new" / key, path / "cur" / f"{key}:2,S")
        source = self.source(path)
        self.assertEqual(source.test_connection(), f"Maildir {path}: 4 messages")
        batches, messages = self.fetch_all(source)
        self.assertEqual(len(messages), 4)
        self.assertEqual(batches[-1].cursor, {"seen": sorted(keys)})
        by_key = {m.location.split(":")[0]: m for m in messages}
        for key, (_, raw, _) in zip(keys, self.corpus[:4], strict=True):
            self.assertEqual(_normalise(by_key[key].raw), _normalise(raw))
            self.assertEqual(by_key[key].received.tzinfo, timezone.utc)

    def test_maildir_incremental_and_flag_changes(self) -> None:
        path, keys = self.make_maildir(3, old=1)
        batches, messages = self.fetch_all(self.source(path))
        self.assertEqual(len(messages), 2)  # the old one is outside the look-back window
        cursor = batches[-1].cursor
        self.assertEqual(cursor["seen"], sorted(keys))  # ...and is never read later either
        # A flag change renames the file: it is not new.
        os.rename(path / "new" / keys[2], path / "cur" / f"{keys[2]}:2,RS")
        self.assertEqual(self.fetch_all(self.source(path), cursor)[0], [])
        new_key = mailbox.Maildir(path, create=False).add(self.corpus[5][1])
        batches, messages = self.fetch_all(self.source(path), cursor)
        self.assertEqual([m.location for m in messages], [new_key])
        self.assertIn(new_key, batches[-1].cursor["seen"])
        # Deleted files drop out of the cursor.
        cursor = batches[-1].cursor
        os.unlink(path / "new" / keys[1])
        last_key = mailbox.Maildir(path, create=False).add(self.corpus[6][1])
        batches, messages = self.fetch_all(self.source(path), cursor)
        self.assertEqual([m.location for m in messages], [last_key])
        self.assertEqual(batches[-1].cursor["seen"], sorted([keys[0], keys[2], new_key, last_key]))

    def test_maildir_batches(self) -> None:
        path, keys = self.make_maildir(5)
        batches, _ = self.fetch_all(self.source(path, batch_size=2))
        self.assertEqual([len(b.messages) for b in batches], [2, 2, 1])
        ordered = sorted(keys)
        self.assertEqual([b.cursor["seen"] for b in batches], [ordered[:2], ordered[:4], ordered])
        _, rest = self.fetch_all(self.source(path, batch_size=2), batches[0].cursor)
        self.assertEqual([m.location for m in rest], ordered[2:])

    # -- folder of .eml files ---------------------------------------------------------------

    def test_eml_dir(self) -> None:
        path = self.make_eml_dir(4, old=1)
        source = self.source(path)
        self.assertEqual(source.test_connection(), f"Folder {path}: 4 messages")
        batches, messages = self.fetch_all(source)
        names = sorted(p.name for p in path.glob("*.eml"))
        self.assertEqual([m.location for m in messages], names[1:])
        self.assertEqual(batches[-1].cursor, {"seen": names})
        self.assertEqual(_normalise(messages[0].raw), _normalise(self.corpus[1][1]))
        self.assertAlmostEqual(messages[0].received.timestamp(), (path / names[1]).stat().st_mtime, delta=0.001)

    def test_eml_dir_incremental_and_batches(self) -> None:
        path = self.make_eml_dir(5)
        batches, _ = self.fetch_all(self.source(path, batch_size=2))
        self.assertEqual([len(b.messages) for b in batches], [2, 2, 1])
        cursor = batches[-1].cursor
        self.assertEqual(self.fetch_all(self.source(path), cursor)[0], [])
        (path / "999-late.eml").write_bytes(self.corpus[6][1])
        # Even an old file counts once a cursor exists (copied with its original mtime).
        (path / "998-copied.eml").write_bytes(self.corpus[7][1])
        os.utime(path / "998-copied.eml", (OLD, OLD))
        _, messages = self.fetch_all(self.source(path), cursor)
        self.assertEqual([m.location for m in messages], ["998-copied.eml", "999-late.eml"])

    # -- mbox -------------------------------------------------------------------------------

    def test_mbox(self) -> None:
        path = self.make_mbox(5)
        source = self.source(path, batch_size=2)
        self.assertEqual(source.test_connection(), f"mbox {path}: 5 messages")
        batches, messages = self.fetch_all(source)
        size = path.stat().st_size
        self.assertEqual([b.cursor for b in batches], [{"count": n, "size": size} for n in (2, 4, 5)])
        self.assertEqual([m.location for m in messages], [f"notifications.mbox#{i}" for i in range(5)])
        for message, (_, raw, _) in zip(messages, self.corpus[:5], strict=True):
            self.assertEqual(_normalise(message.raw), _normalise(raw))
            self.assertFalse(message.raw.startswith(b"From "))

    def test_mbox_incremental_rewrite_and_window(self) -> None:
        path = self.make_mbox(3)
        batches, _ = self.fetch_all(self.source(path))
        cursor = batches[-1].cursor
        self.assertEqual(self.fetch_all(self.source(path), cursor)[0], [])
        box = mailbox.mbox(path)
        box.add(self.corpus[3][1])
        box.close()
        _, messages = self.fetch_all(self.source(path), cursor)
        self.assertEqual([m.location for m in messages], ["notifications.mbox#3"])
        # Rewritten smaller (messages removed): read again from the start.
        path.unlink()
        self.make_mbox(1)
        _, messages = self.fetch_all(self.source(path), cursor)
        self.assertEqual(len(messages), 1)
        # First run on a file not touched within the look-back window: nothing.
        os.utime(path, (OLD, OLD))
        self.assertEqual(self.fetch_all(self.source(path))[0], [])

    # -- safety -----------------------------------------------------------------------------

    def test_missing_or_unreadable_path(self) -> None:
        for path in (self.tmp / "missing", self.tmp / "missing" / "Maildir"):
            with self.subTest(path=path):
                with self.assertRaises(SourceError) as caught:
                    list(self.source(path).fetch(None, SINCE))
                self.assertIn("does not exist", str(caught.exception))
                with self.assertRaises(SourceError):
                    self.source(path).test_connection()
        garbage = self.tmp / "garbage.mbox"
        garbage.write_bytes(b"\x00\x01 not mail")
        # An mbox without "From " lines simply holds no message.
        self.assertEqual(self.fetch_all(self.source(garbage))[0], [])

    def test_files_are_never_modified(self) -> None:
        maildir, keys = self.make_maildir(4, old=1)
        os.rename(maildir / "new" / keys[0], maildir / "cur" / f"{keys[0]}:2,S")
        eml_dir = self.make_eml_dir(3)
        mbox = self.make_mbox(3)
        before = _snapshot(self.tmp)
        for path in (maildir, eml_dir, mbox):
            source = self.source(path, batch_size=2)
            source.test_connection()
            batches, messages = self.fetch_all(source)
            self.assertTrue(messages)
            self.fetch_all(source, batches[0].cursor)
            source.close()
        self.assertEqual(_snapshot(self.tmp), before)
        self.assertFalse(list(self.tmp.rglob("*.lock")))


if __name__ == "__main__":
    unittest.main()
