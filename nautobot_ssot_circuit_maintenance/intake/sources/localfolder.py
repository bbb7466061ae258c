"""Read notifications from a local Maildir, a folder of .eml files or an mbox file."""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from nautobot_ssot_circuit_maintenance.config import SourceSettings
from nautobot_ssot_circuit_maintenance.intake.sources.base import (
    HEAD_BYTES,
    FetchBatch,
    FetchedMessage,
    MailboxSource,
    SourceError,
    sized_batches,
)

MAILDIR = "Maildir"
EML_DIR = "Folder"
MBOX = "mbox"


def _mtime(stat: os.stat_result) -> datetime:
    return datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc)


def _maildir_key(name: str) -> str:
    """The unique part of a Maildir file name: without the ":2,FLAGS" info, so flag changes don't re-read."""
    return name.split(":", 1)[0]


class LocalFolderSource(MailboxSource):
    """A local mailbox at `file:///absolute/path`, never modified.

    - Maildir (a directory with `cur` and `new`): both subdirectories are read; the cursor is
      `{"seen": [keys]}` where a key is the file name without its `:2,FLAGS` suffix.
    - A directory of `*.eml` files (not recursive, by name): cursor `{"seen": [file names]}`.
    - An mbox file: cursor `{"count": messages read, "size": file size}`. A file smaller than
      the cursor says was rewritten, and is read again like a first run.

    First run (no cursor): directory entries count when their mtime is >= `since`; entries that
    are older are recorded as seen, so later runs do not pick them up. An mbox has no per-message
    date that can be trusted, so on a first run all its messages are read when the file's mtime
    is >= `since`, and none otherwise. `received` is the file's mtime (for an mbox, the mbox's).
    """

    def __init__(self, settings: SourceSettings):
        """Read the folder's absolute path from the `file://` URL."""
        super().__init__(settings)
        parts = urlsplit(settings.url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise SourceError(f"Source {settings.name}: expected a URL like file:///absolute/path")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise SourceError(f"Source {settings.name}: the path in {settings.url!r} must be absolute")
        self.path = Path(path)

    def _error(self, what: str) -> SourceError:
        return SourceError(f"Local source {self.settings.name} ({self.path}): {what}")

    def _kind(self) -> str:
        try:
            if self.path.is_dir():
                if (self.path / "cur").is_dir() and (self.path / "new").is_dir():
                    return MAILDIR
                return EML_DIR
            if self.path.is_file():
                return MBOX
        except OSError as exc:
            raise self._error(f"cannot be read ({exc.strerror or exc})") from exc
        raise self._error("does not exist")

    # -- directories ------------------------------------------------------------------------

    def _entries(self, kind: str) -> list[tuple[str, Path]]:
        """(key, path) of every message file, sorted by key."""
        entries: list[tuple[str, Path]] = []
        try:
            if kind == MAILDIR:
                for sub in ("new", "cur"):
                    for item in os.scandir(self.path / sub):
                        if not item.name.startswith(".") and item.is_file():
                            entries.append((_maildir_key(item.name), Path(item.path)))
            else:
                for item in os.scandir(self.path):
                    if item.name.endswith(".eml") and not item.name.startswith(".") and item.is_file():
                        entries.append((item.name, Path(item.path)))
        except OSError as exc:
            raise self._error(f"cannot be listed ({exc.strerror or exc})") from exc
        entries.sort()
        return entries

    def _fetch_directory(self, kind: str, cursor: dict[str, Any] | None, since: datetime) -> Iterator[FetchBatch]:
        entries = self._entries(kind)
        present = {key for key, _ in entries}
        first_run = not cursor or not isinstance(cursor.get("seen"), list)
        # Forget names that are gone, so the cursor stays as large as the folder.
        seen: set[str] = set() if first_run else set(cursor["seen"]) & present
        pending: list[tuple[str, Path, os.stat_result]] = []
        for key, path in entries:
            if key in seen:
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # moved (Maildir new -> cur) or deleted while listing
            except OSError as exc:
                raise self._error(f"cannot read {path.name} ({exc.strerror or exc})") from exc
            if first_run and _mtime(stat) < since:
                seen.add(key)  # outside the look-back window: never read it
                continue
            pending.append((key, path, stat))
        sizes = [stat.st_size for _, _, stat in pending]
        for batch in sized_batches(pending, sizes, count=max(1, int(self.batch_size)), max_bytes=self.batch_bytes):
            messages = []
            for key, path, stat in batch:
                try:
                    raw = self._read(path, stat.st_size)
                except FileNotFoundError:
                    raw = None
                except OSError as exc:
                    raise self._error(f"cannot read {path.name} ({exc.strerror or exc})") from exc
                seen.add(key)
                if raw is not None:
                    messages.append(
                        FetchedMessage(
                            raw=raw,
                            received=_mtime(stat),
                            location=path.name,
                            size=stat.st_size if self.oversized(stat.st_size) else None,
                        )
                    )
            yield FetchBatch(messages=messages, cursor={"seen": sorted(seen)})

    def _read(self, path: Path, size: int) -> bytes:
        """The whole file, or only its head when the message is over the size bound."""
        if not self.oversized(size):
            return path.read_bytes()
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)

    # -- mbox -------------------------------------------------------------------------------

    def _open_mbox(self) -> mailbox.mbox:
        try:
            # No lock(), no flush(): the mailbox module only writes when asked to.
            return mailbox.mbox(str(self.path), create=False)
        except (OSError, mailbox.Error) as exc:
            raise self._error(f"cannot be opened as mbox ({exc})") from exc

    def _fetch_mbox(self, cursor: dict[str, Any] | None, since: datetime) -> Iterator[FetchBatch]:
        try:
            stat = self.path.stat()
        except OSError as exc:
            raise self._error(f"cannot be read ({exc.strerror or exc})") from exc
        received = _mtime(stat)
        valid = bool(cursor) and isinstance(cursor.get("count"), int) and isinstance(cursor.get("size"), int)
        if valid and stat.st_size >= cursor["size"]:
            done = cursor["count"]
        else:
            # First run, or the file shrank (rewritten): the look-back window decides.
            if received < since:
                return
            done = 0
        box = self._open_mbox()
        try:
            try:
                keys = list(box.keys())
            except (OSError, mailbox.Error) as exc:
                raise self._error(f"cannot be parsed as mbox ({exc})") from exc
            size = max(1, int(self.batch_size))
            name = self.path.name
            for start in range(done, len(keys), size):
                chunk = keys[start : start + size]
                try:
                    messages = [
                        FetchedMessage(raw=box.get_bytes(key), received=received, location=f"{name}#{start + offset}")
                        for offset, key in enumerate(chunk)
                    ]
                except (OSError, mailbox.Error) as exc:
                    raise self._error(f"cannot be read ({exc})") from exc
                yield FetchBatch(messages=messages, cursor={"count": start + len(chunk), "size": stat.st_size})
        finally:
            box.close()

    # -- MailboxSource ----------------------------------------------------------------------

    def fetch(self, cursor: dict[str, Any] | None, since: datetime) -> Iterator[FetchBatch]:
        """Yield messages not read yet, `batch_size` at a time (see the class docstring)."""
        kind = self._kind()
        if kind == MBOX:
            yield from self._fetch_mbox(cursor, since)
        else:
            yield from self._fetch_directory(kind, cursor, since)

    def test_connection(self) -> str:
        """Check the path can be read; return e.g. "Maildir /path: 12 messages"."""
        kind = self._kind()
        if kind == MBOX:
            box = self._open_mbox()
            try:
                count = len(box)
            except (OSError, mailbox.Error) as exc:
                raise self._error(f"cannot be parsed as mbox ({exc})") from exc
            finally:
                box.close()
        else:
            count = len(self._entries(kind))
        return f"{kind} {self.path}: {count} messages"
