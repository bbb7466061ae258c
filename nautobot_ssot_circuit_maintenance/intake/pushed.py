"""The built-in "pushed" source: messages posted to the push endpoint or uploaded in the UI.

They wait as `PushedMessage` rows; `fetch` yields those past the cursor in `sequence` order. Before
reading, it takes a SHARE lock on the table: that waits for every push still in flight (each holds a
sequence number it has not committed yet), so a row never commits behind a cursor that passed it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models.functions import Length

from nautobot_ssot_circuit_maintenance.intake.sources.base import (
    HEAD_BYTES,
    FetchBatch,
    FetchedMessage,
    MailboxSource,
    sized_batches,
)
from nautobot_ssot_circuit_maintenance.models import PushedMessage


class PushSource(MailboxSource):
    """Reads the pushed messages not yet committed; `since` does not apply (every push is wanted)."""

    def _last_committed(self) -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {PushedMessage._meta.db_table} IN SHARE MODE")  # noqa: S608 - our table name
            return PushedMessage.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0

    def fetch(self, cursor: dict[str, Any] | None, since: datetime) -> Iterator[FetchBatch]:
        """Yield the pushed messages after the cursor's `last_sequence`, up to the last one committed."""
        after = int((cursor or {}).get("last_sequence", 0))
        upto = self._last_committed()
        rows = list(
            PushedMessage.objects.filter(sequence__gt=after, sequence__lte=upto)
            .order_by("sequence")
            .annotate(size=Length("raw"))
            .values_list("sequence", "received", "size")
        )
        sizes = [size for _, _, size in rows]
        for batch in sized_batches(rows, sizes, count=self.batch_size, max_bytes=self.batch_bytes):
            raws = dict(
                PushedMessage.objects.filter(sequence__in=[sequence for sequence, _, _ in batch]).values_list(
                    "sequence", "raw"
                )
            )
            messages = []
            for sequence, received, _ in batch:
                raw = bytes(raws[sequence])
                # `size` is set only when `raw` is cut to its head (FetchedMessage.size): a message within
                # the bound is handed over, and so kept, whole.
                size = len(raw) if self.oversized(len(raw)) else None
                if size is not None:
                    raw = raw[:HEAD_BYTES]
                messages.append(FetchedMessage(raw=raw, received=received, location=f"push#{sequence}", size=size))
            yield FetchBatch(messages=messages, cursor={"last_sequence": batch[-1][0]})

    def test_connection(self) -> str:
        """How many pushed messages are stored."""
        return f"{PushedMessage.objects.count()} pushed messages stored"
