"""`nautobot-server watch_mailboxes`: new mail starts the sync for its source within seconds (watch/watcher.py)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from nautobot_ssot_circuit_maintenance.watch.watcher import watch

LOGGER_NAME = "nautobot_ssot_circuit_maintenance"


class Command(BaseCommand):
    """The `watch_mailboxes` command: start the sync as soon as IMAP IDLE reports new mail."""

    help = (
        "Hold each IMAP notification source in IDLE and start the circuit-maintenance sync job (through the "
        "Celery worker) as soon as new mail arrives. Runs until SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser: Any) -> None:
        """Add --user, --poll-seconds and --retry-seconds."""
        parser.add_argument(
            "--user",
            default="",
            help="username the sync runs are started as (default: the first active superuser)",
        )
        parser.add_argument(
            "--poll-seconds",
            type=float,
            default=0.0,
            help="also sync the sources IDLE cannot watch (local folder, Gmail, Microsoft 365) this often; "
            "0 (default) leaves them to their scheduled sync",
        )
        parser.add_argument(
            "--retry-seconds",
            type=float,
            default=30.0,
            help="first wait before a failed run is started again (doubles up to 10 minutes)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Watch the sources as the chosen user until SIGTERM or SIGINT."""
        user = self._user(options["user"])
        self._log_to_stderr(options["verbosity"])
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        watch(stop, user, poll_seconds=options["poll_seconds"], retry_seconds=options["retry_seconds"])

    @staticmethod
    def _user(username: str) -> Any:
        users = get_user_model().objects.filter(is_active=True)
        user = users.filter(username=username).first() if username else users.filter(is_superuser=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}" if username else "no active superuser: pass --user")
        return user

    @staticmethod
    def _log_to_stderr(verbosity: int) -> None:
        logger = logging.getLogger(LOGGER_NAME)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)
        logger.propagate = False
