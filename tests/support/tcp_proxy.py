"""A TCP proxy on loopback in front of MySQL that a fault test steers: it can drop a connection as
a COMMIT passes (before the server sees it, or after, so the commit is kept and its answer lost),
hold every connection silent for a while (a black hole), and reset them all."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

# A MySQL client packet: 3 bytes of length, 1 of sequence, then COM_QUERY (0x03) and the text.
COMMIT = b"\x03COMMIT"


class MySqlChaosProxy:
    """Forwards 127.0.0.1:<port> to `target`. Every `drop_every`-th COMMIT drops its connection,
    alternately before forwarding it and after (the server commits, the client hears nothing)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.drop_every = 0  # 0: no COMMIT is dropped
        self.counts: Counter[str] = Counter()
        self._holding = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._commits = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self.port: int = self._server.getsockname()[1]

    def _accept(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open |= {client, server}
            self.counts["connections"] += 1
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _commit_fate(self, chunk: bytes) -> str | None:
        """Whether this COMMIT is dropped: "before" or "after" it reaches the server, or None."""
        if not self.drop_every or COMMIT not in chunk:
            return None
        with self._lock:
            self._commits += 1
            if self._commits % self.drop_every:
                return None
            return "before" if (self._commits // self.drop_every) % 2 else "after"

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        source.settimeout(None)
        try:
            while not self._stop.is_set():
                chunk = source.recv(65536)
                if not chunk:
                    break
                if self._holding.is_set():
                    self.counts["packets held in the black hole"] += 1
                while self._holding.is_set() and not self._stop.is_set():
                    self._stop.wait(0.05)
                fate = self._commit_fate(chunk) if from_client else None
                if fate == "before":
                    self.counts["commits dropped before the server"] += 1
                    break
                sink.sendall(chunk)
                if fate == "after":
                    self.counts["commits kept, answer dropped"] += 1
                    break
        except OSError:
            pass
        finally:
            self._close(source, sink)

    def _close(self, *sockets: socket.socket, reset: bool = False) -> None:
        for sock in sockets:
            with self._lock:
                self._open.discard(sock)
            with contextlib.suppress(OSError):
                if reset:  # RST rather than FIN where the socket is released at once
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # shutdown first: close alone does not end a connection another thread is
                # blocked reading, which would leave the server's session (and its locks) open
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    @property
    def commits_seen(self) -> int:
        """The COMMITs that came through so far, dropped or not."""
        with self._lock:
            return self._commits

    def hold(self) -> None:
        """Every connection goes silent: what is sent is neither forwarded nor answered."""
        self._holding.set()
        self.counts["black holes"] += 1

    def reset_all(self) -> None:
        """End the black hole by resetting every connection that was open."""
        with self._lock:
            sockets = list(self._open)
        self.counts["connections reset"] += len(sockets) // 2
        self._close(*sockets, reset=True)
        self._holding.clear()

    @contextmanager
    def running(self) -> Iterator[MySqlChaosProxy]:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._holding.clear()
            self.reset_all()
            self._server.close()
            thread.join(timeout=2)
