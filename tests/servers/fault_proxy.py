"""A loopback TCP proxy that injects network faults between a client and a real server, for tests.

    with FaultProxy(dovecot.imap_port) as proxy:
        proxy.arm(Fault(server_bytes=5_000))      # connections opened from now on are cut
        ...                                       # the client talks to 127.0.0.1:proxy.port
        proxy.arm(None)                           # forward everything again

A `Fault` cuts a connection once the server has sent `server_bytes` bytes to the client, or the
client `client_bytes` bytes to the server (exactly that many are delivered first), by closing both
sides: with a FIN, or with a TCP reset when `reset` is set. `pause_at` instead holds the server's
stream at that offset and calls `on_pause` (from the proxy's thread) before going on, so a test can
act at a known point of a conversation (kill a database session, start a second job, ...).

Every connection's bytes in both directions are kept (`Connection.server` / `.client`), so a
clean run's transcript can be used to place cut points at protocol steps.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"
_RECV = 65536


@dataclass(frozen=True)
class Fault:
    """What to do to a connection; None fields do nothing."""

    server_bytes: int | None = None
    client_bytes: int | None = None
    reset: bool = False
    pause_at: int | None = None
    on_pause: Callable[[], None] | None = None
    # How many connections (opened after `arm`) get the fault; None: all of them.
    times: int | None = None


@dataclass
class Connection:
    """One proxied connection: what each side sent through the proxy, and whether it was cut."""

    fault: Fault | None
    server: bytearray = field(default_factory=bytearray)
    client: bytearray = field(default_factory=bytearray)
    cut: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    sockets: tuple[socket.socket, ...] = field(default=(), repr=False)
    _closing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def close(self, reset: bool = False) -> None:
        """Close both sides (with a TCP reset when asked); wakes the pump threads. Idempotent."""
        with self._closing:
            for sock in self.sockets:
                if reset:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    # SHUT_RD wakes a thread blocked in recv() without sending a FIN.
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RD)
                else:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()


class FaultProxy:
    """A threaded loopback proxy to `target_host:target_port` (see the module docstring)."""

    host = LOOPBACK

    def __init__(self, target_port: int, target_host: str = LOOPBACK) -> None:
        self.target = (target_host, target_port)
        self.connections: list[Connection] = []
        self._fault: Fault | None = None
        self._fault_left: int | None = None
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)

    # -- control ----------------------------------------------------------------------------

    def arm(self, fault: Fault | None) -> None:
        """Apply `fault` to connections opened from now on (None: forward everything)."""
        with self._lock:
            self._fault = fault
            self._fault_left = fault.times if fault else None

    @property
    def cuts(self) -> int:
        """How many connections were cut so far."""
        return sum(connection.cut for connection in self.connections)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listener and every open connection (safe to call twice)."""
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            connections = list(self.connections)
        for connection in connections:
            connection.close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- plumbing ---------------------------------------------------------------------------

    def _next_fault(self) -> Fault | None:
        with self._lock:
            fault = self._fault
            if fault is not None and self._fault_left is not None:
                self._fault_left -= 1
                if self._fault_left <= 0:
                    self._fault, self._fault_left = None, None
            return fault

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
                server.settimeout(None)
            except OSError:
                Connection(fault=None, sockets=(client,)).close()
                continue
            connection = Connection(fault=self._next_fault(), sockets=(client, server))
            with self._lock:
                self.connections.append(connection)
            fault = connection.fault
            for args in (
                (server, client, connection.server, fault.server_bytes if fault else None, True),
                (client, server, connection.client, fault.client_bytes if fault else None, False),
            ):
                threading.Thread(target=self._pump, args=(connection, *args), daemon=True).start()

    def _pump(
        self,
        connection: Connection,
        source: socket.socket,
        dest: socket.socket,
        record: bytearray,
        limit: int | None,
        from_server: bool,
    ) -> None:
        fault = connection.fault
        pause_at = fault.pause_at if fault and from_server and fault.on_pause else None
        try:
            if limit is not None and limit <= 0:
                connection.cut = True
                return
            while True:
                data = source.recv(_RECV)
                if not data:
                    break
                if pause_at is not None and len(record) + len(data) >= pause_at:
                    head = pause_at - len(record)
                    self._forward(dest, record, data[:head])
                    data = data[head:]
                    pause_at = None
                    fault.on_pause()
                if limit is not None and len(record) + len(data) >= limit:
                    self._forward(dest, record, data[: limit - len(record)])
                    connection.cut = True
                    break
                self._forward(dest, record, data)
        except OSError:
            pass
        finally:
            connection.close(reset=bool(connection.cut and fault and fault.reset))
            connection.done.set()

    @staticmethod
    def _forward(dest: socket.socket, record: bytearray, data: bytes) -> None:
        if data:
            dest.sendall(data)
            record.extend(data)
