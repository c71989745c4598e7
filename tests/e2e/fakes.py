"""Upstreams of the tests' own, on 127.0.0.1, for the end-to-end suites to put behind a gateway:
ports that refuse, servers that hang, answer slowly, break off mid-answer or come and go, and a
TCP forwarder that can be cut (a Redis that disappears).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from contextlib import contextmanager, suppress

from tests.e2e.conftest import free_port


class RefusingPort:
    """A loopback port held by a socket that is bound but not listening: connections to it are
    refused, and nobody else can take the port. :meth:`listening` opens it for a moment to see
    whether anyone still tries to connect."""

    def __init__(self):
        self.port = free_port()
        self._sock = self._bind()

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        return sock

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @contextmanager
    def listening(self):
        """Listen (accepting nothing); yields a function telling whether a connection came."""
        self._sock.listen(8)
        self._sock.setblocking(False)

        def connected() -> bool:
            try:
                conn, _ = self._sock.accept()
            except BlockingIOError:
                return False
            conn.close()
            return True

        try:
            yield connected
        finally:
            # A listening socket cannot stop listening: replace it with a refusing one.
            self._sock.close()
            self._sock = self._bind()

    def close(self) -> None:
        self._sock.close()


class HangingUpstream:
    """Accepts every connection and reads the request; answers ``/__health__`` and nothing else,
    ever, until :meth:`close`. ``waiting`` is how many calls are hanging on it right now."""

    def __init__(self):
        self._sock = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._release = threading.Event()
        self._lock = threading.Lock()
        self.waiting = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _accept(self):
        while not self._release.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket):
        with conn:
            conn.settimeout(60)
            try:
                while not self._release.is_set():
                    head = b""
                    while b"\r\n\r\n" not in head:
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        head += chunk
                    if head.split(b" ", 2)[1] == b"/__health__":
                        body = b'{"status": "pass"}'
                        conn.sendall(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/health+json\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                        )
                        continue
                    with self._lock:
                        self.waiting += 1
                    try:
                        self._release.wait(60)
                    finally:
                        with self._lock:
                            self.waiting -= 1
                    return
            except OSError:
                return

    def close(self):
        self._release.set()
        self._sock.close()


_SLOW = re.compile(rb"/slow-(\d+)$")
_RESET = re.compile(rb"/reset-(\d+)$")


def _drop(conn: socket.socket) -> None:
    with suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()


class SwitchablePort:
    """A fixed loopback port that either listens (each connection goes to :meth:`handle`, in a
    thread of its own) or, after :meth:`refuse`, refuses every connection and drops the open ones,
    still holding the port (bound, not listening) until :meth:`serve` opens it again."""

    def __init__(self):
        self.port = free_port()
        self.accepted = 0  # connections taken
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._holder: socket.socket | None = None
        self.closed = threading.Event()
        self.serve()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _bound(self) -> socket.socket:
        # A listener just closed stays listening until its accept thread's poll returns.
        deadline = time.monotonic() + 2
        while True:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", self.port))
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
            else:
                return sock

    def serve(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            if self._holder is not None:
                self._holder.close()
                self._holder = None
            listener = self._bound()
            listener.listen(128)
            listener.settimeout(0.05)
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def refuse(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            if listener is not None:
                listener.close()
            for conn in list(self._open):
                _drop(conn)
            self._open.clear()
            if self._holder is None and not self.closed.is_set():
                self._holder = self._bound()

    def track(self, conn: socket.socket) -> None:
        """Drop ``conn`` too at the next :meth:`refuse`."""
        with self._lock:
            self._open.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.discard(conn)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            with self._lock:
                if self._listener is not listener:
                    return
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                if self._listener is not listener:
                    _drop(conn)
                    return
                self.accepted += 1
                self._open.add(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self.handle(conn)
        except OSError:
            pass
        finally:
            self.untrack(conn)
            _drop(conn)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.closed.set()
        self.refuse()
        with self._lock:
            if self._holder is not None:
                self._holder.close()
                self._holder = None


class FaultyUpstream(SwitchablePort):
    """An HTTP/1.1 upstream that fails on request, by the call's path:

    * ``/__health__``: 200 (a gateway in front of it is healthy);
    * ``.../hang``: reads the call, never answers;
    * ``.../slow-<ms>``: answers 200 after that many milliseconds;
    * ``.../cacheable``: 200 that the gateway may cache for a minute;
    * ``.../reset-<n>``: sends the status line and headers with ``Content-Length: <n>``, a tenth
      of the body, and closes the connection;
    * anything else: 200 with a small JSON body, at once.

    Keep-alive connections serve one call after another; :meth:`refuse` and :meth:`serve` (of
    :class:`SwitchablePort`) take it down and bring it back.
    """

    def handle(self, conn: socket.socket) -> None:
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            length = int(match.group(1)) if match else 0
            while len(buffer) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            buffer = buffer[length:]
            path = head.split(b" ", 2)[1].split(b"?", 1)[0]
            if not self._answer(conn, path):
                return

    def _answer(self, conn: socket.socket, path: bytes) -> bool:
        """Answer one call; False when the connection is to be dropped."""
        if path.endswith(b"/hang"):
            self.closed.wait(60)
            return False
        reset = _RESET.search(path)
        if reset:
            length = int(reset.group(1))
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                b"Content-Length: %d\r\n\r\n" % length + b"x" * (length // 10)
            )
            time.sleep(0.05)  # the first bytes go out before the connection does
            return False
        slow = _SLOW.search(path)
        if slow:
            time.sleep(int(slow.group(1)) / 1000)
        body = b'{"status": "pass"}' if path == b"/__health__" else b'{"ok": true}'
        cacheable = (
            b"Cache-Control: public, max-age=60\r\n" if path.endswith(b"/cacheable") else b""
        )
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%s"
            b"Content-Length: %d\r\n\r\n%s" % (cacheable, len(body), body)
        )
        return True


class Forwarder(SwitchablePort):
    """A TCP forwarder from its loopback port to ``target`` (host, port): put it between a process
    and its Redis, then :meth:`refuse` to make that Redis unreachable (open connections dropped,
    new ones refused) and :meth:`serve` to bring it back; or, while :attr:`stalled` is set, let it
    hang: connections are taken and nothing comes back."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.stalled = threading.Event()
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        server = socket.create_connection(self.target, timeout=2)
        server.settimeout(None)
        self.track(server)
        back = threading.Thread(target=self._pipe, args=(server, conn), daemon=True)
        back.start()
        try:
            self._pipe(conn, server)
        finally:
            self.untrack(server)
            _drop(server)
            back.join(5)

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.stalled.is_set() and not self.closed.is_set():
                    time.sleep(0.01)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
