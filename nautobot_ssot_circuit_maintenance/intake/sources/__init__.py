"""Mailbox sources: where notifications are read from, picked by the URL scheme."""

from __future__ import annotations

from urllib.parse import urlsplit

from nautobot_ssot_circuit_maintenance.config import SourceSettings
from nautobot_ssot_circuit_maintenance.intake.sources.base import FetchBatch, FetchedMessage, MailboxSource, SourceError
from nautobot_ssot_circuit_maintenance.intake.sources.gmail import GmailSource
from nautobot_ssot_circuit_maintenance.intake.sources.graph import GraphSource
from nautobot_ssot_circuit_maintenance.intake.sources.imap import ImapSource
from nautobot_ssot_circuit_maintenance.intake.sources.localfolder import LocalFolderSource
from nautobot_ssot_circuit_maintenance.intake.sources.secrets_group import resolve_secrets
from nautobot_ssot_circuit_maintenance.redaction import scrubber_for

# URL scheme -> source class; a new kind of mailbox registers here.
SOURCE_TYPES: dict[str, type[MailboxSource]] = {
    "imap": ImapSource,
    "imaps": ImapSource,  # implicit TLS on any port
    "file": LocalFolderSource,
}
# https:// sources are APIs, told apart by the host of their (OAuth) URL.
API_HOSTS: dict[str, type[MailboxSource]] = {
    "accounts.google.com": GmailSource,  # https://accounts.google.com/o/oauth2/auth, as in the older app
    "graph.microsoft.com": GraphSource,  # https://graph.microsoft.com/ (Microsoft 365, Exchange Online)
}
# The kind shown as a source's type, for the API sources.
API_KINDS: dict[type[MailboxSource], str] = {GmailSource: "gmail", GraphSource: "graph"}


def source_kind(url: str) -> str:
    """The kind of mailbox a URL points at: imap, imaps, file, gmail, graph (shown as the source's type)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https":
        return API_KINDS.get(API_HOSTS.get((parts.hostname or "").lower()), "https")
    return scheme


def get_source(settings: SourceSettings) -> MailboxSource:
    """The source object for `settings.url`, its `secrets_group` read now; SourceError for an unknown scheme."""
    parts = urlsplit(settings.url)
    scheme = parts.scheme.lower()
    if scheme == "https":
        source_class = API_HOSTS.get((parts.hostname or "").lower())
        if source_class is None:
            known = ", ".join(f"https://{host}" for host in sorted(API_HOSTS))
            url = scrubber_for(settings)(settings.url)
            raise SourceError(f"Source {settings.name}: unsupported API URL {url!r}; use {known}")
    else:
        source_class = SOURCE_TYPES.get(scheme)
        if source_class is None:
            known = ", ".join(
                [*(f"{name}://" for name in sorted(SOURCE_TYPES)), *(f"https://{host}" for host in sorted(API_HOSTS))]
            )
            raise SourceError(f"Source {settings.name}: unsupported URL scheme {scheme or '(none)'!r}; use {known}")
    return source_class(resolve_secrets(settings, source_kind(settings.url)))


__all__ = [
    "SOURCE_TYPES",
    "FetchBatch",
    "FetchedMessage",
    "GmailSource",
    "GraphSource",
    "ImapSource",
    "LocalFolderSource",
    "MailboxSource",
    "SourceError",
    "get_source",
    "source_kind",
]
