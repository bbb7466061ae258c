"""Mailbox sources: where notifications are read from, picked by the URL scheme."""

from __future__ import annotations

from urllib.parse import urlsplit

from .base import FetchBatch, FetchedMessage, MailboxSource, SourceError, SourceSettings
from .imap import ImapSource
from .localfolder import LocalFolderSource

# URL scheme -> source class. A new kind (e.g. a Gmail API source for https://accounts.google.com)
# registers here; if one scheme must serve several kinds, `get_source` can look at the host too.
SOURCE_TYPES: dict[str, type[MailboxSource]] = {
    "imap": ImapSource,
    "imaps": ImapSource,  # implicit TLS on any port
    "file": LocalFolderSource,
}


def get_source(settings: SourceSettings) -> MailboxSource:
    """Return the source object for `settings.url`; raise SourceError for an unknown scheme."""
    scheme = urlsplit(settings.url).scheme.lower()
    source_class = SOURCE_TYPES.get(scheme)
    if source_class is None:
        known = ", ".join(f"{name}://" for name in sorted(SOURCE_TYPES))
        raise SourceError(f"Source {settings.name}: unsupported URL scheme {scheme or '(none)'!r}; use {known}")
    return source_class(settings)


__all__ = [
    "SOURCE_TYPES",
    "FetchBatch",
    "FetchedMessage",
    "ImapSource",
    "LocalFolderSource",
    "MailboxSource",
    "SourceError",
    "SourceSettings",
    "get_source",
]
