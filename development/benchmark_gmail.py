"""Benchmark: a first Gmail backlog read in HTTP batch requests, against one request per message.

    .venv/bin/python development/benchmark_gmail.py --count 1000 [--latency 0.05] [--size 8192]

Fills the loopback Gmail (tests/servers/gmail_server.py) with `count` messages of about `size`
bytes, then reads the backlog twice through GmailSource and the real Google client stack: with
the default `api_batch_size` (50 calls per batch request) and with `api_batch_size: 1` (each
`messages.get` its own request, as before batching). It reports the seconds each read took and
the HTTP requests the server received (the token request and the listing included).

On loopback a request costs well under a millisecond; `--latency` adds a wait to every request,
as a round trip to Google would (50 ms is typical), to show what batching saves in practice.
Gmail's quota is not modelled: every call in a batch still counts against it (see docs/configure.md).
No database is needed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nautobot_ssot_circuit_maintenance.config import SourceSettings  # noqa: E402
from nautobot_ssot_circuit_maintenance.intake.sources import get_source  # noqa: E402
from tests.servers.gmail_server import FakeGmail  # noqa: E402

GMAIL_URL = "https://accounts.google.com/o/oauth2/auth"


def backlog_message(number: int, size: int) -> bytes:
    head = (
        f"From: Carrier NOC <noc@carrier.example>\r\nSubject: Maintenance notice {number}\r\n"
        f"Message-ID: <bench-{number}@carrier.example>\r\nContent-Type: text/plain\r\n\r\n"
    ).encode()
    line = b"Circuit BENCH-0001 will be down for planned maintenance.\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


def read_backlog(gmail: FakeGmail, key_file: Path, since: datetime, **extra: Any) -> dict[str, Any]:
    """Read the whole backlog once; the seconds it took and the HTTP requests the server received."""
    settings = SourceSettings(
        name="Gmail benchmark",
        url=GMAIL_URL,
        account=gmail.account,
        extra={"credentials_file": str(key_file), "api_endpoint": gmail.url, **extra},
    )
    source = get_source(settings)
    requests_before, batches_before = gmail.requests, gmail.batches
    started = time.perf_counter()
    messages = 0
    mail_bytes = 0
    try:
        for batch in source.fetch(None, since):
            messages += len(batch.messages)
            mail_bytes += sum(len(message.raw) for message in batch.messages)
    finally:
        source.close()
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "http_requests": gmail.requests - requests_before,
        "batch_requests": gmail.batches - batches_before,
        "messages": messages,
        "bytes": mail_bytes,
    }


def measure_gmail_backlog(count: int = 1000, latency: float = 0.0, size: int = 8192) -> dict[str, Any]:
    """Seconds and HTTP requests to read a `count`-message backlog, batched and one request per message."""
    gmail = FakeGmail(page_size=500).start()  # 500: the largest page messages.list gives
    folder = Path(tempfile.mkdtemp(prefix="cm-gmail-bench-"))
    try:
        now = datetime.now(timezone.utc)
        for number in range(count):
            gmail.add(backlog_message(number, size), now - timedelta(seconds=count - number))
        key_file = gmail.service_account_file(folder / "sa.json")
        gmail.latency = latency
        since = now - timedelta(days=1)
        batched = read_backlog(gmail, key_file, since)
        single = read_backlog(gmail, key_file, since, api_batch_size=1)
    finally:
        gmail.stop()
        shutil.rmtree(folder, ignore_errors=True)
    if batched["bytes"] != single["bytes"] or batched["messages"] != count:
        raise RuntimeError(f"the two reads differ: {batched} against {single}")
    return {
        "count": count,
        "message_bytes": size,
        "latency_seconds": latency,
        "batched": batched,
        "one_request_per_message": single,
        "request_ratio": round(single["http_requests"] / batched["http_requests"], 1),
        "speedup": round(single["seconds"] / batched["seconds"], 1) if batched["seconds"] else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=1000, help="messages in the backlog (default 1000)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every HTTP request")
    parser.add_argument("--size", type=int, default=8192, help="bytes per message (default 8192)")
    arguments = parser.parse_args()
    print(json.dumps(measure_gmail_backlog(arguments.count, arguments.latency, arguments.size), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
