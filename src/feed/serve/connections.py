"""Connections for the feed server: one selector thread, a fixed pool of workers, timeouts on everything.

The selector thread accepts connections and reads each request's head (request line and headers) without
blocking; only a complete head goes to a worker, so a client that connects and sends nothing, or sends a header
a byte at a time, holds a file descriptor and a buffer, never a thread. Between requests a kept-alive connection
goes back to the selector. Bounds:

- `workers` threads answer requests; a complete head waits in a queue of `queue_limit`; past that it gets
  `503` with `Retry-After` and the connection is closed (never a new thread);
- `max_connections` open connections (below the process's file limit); a connection past it gets `503` and
  is closed at once, and when accept() fails for want of descriptors the listener rests a moment instead of
  spinning;
- `header_timeout` seconds to send a whole head once its first byte came (`408`, closed), `idle_timeout` seconds
  for a kept-alive or silent connection to send the next one (closed), `send_timeout` seconds for any one send
  of an answer to progress (closed);
- `MAX_HEAD_BYTES` of head (`431`, closed).

Bytes after a head belong to the next request (pipelining) and are kept for it; a request that announces a
body (Content-Length, Transfer-Encoding) is the handler's to refuse (feed.serve.server answers 400 and closes).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import queue
import resource
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 16 * 1024
WORKERS = 16
QUEUE_LIMIT = 256
HEADER_TIMEOUT = 10.0
IDLE_TIMEOUT = 15.0
SEND_TIMEOUT = 30.0
SWEEP_EVERY = 0.25


def connection_limit(wanted: int = 1024) -> int:
    """Connections the server keeps open at most: `wanted`, or fewer when the file limit is lower."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(8, min(wanted, soft - 64))  # room for the files it serves, logs, the store of a scheduler


@dataclass(eq=False)
class Connection:
    """One client connection: its socket, the bytes read and not yet answered, and its deadlines."""

    sock: socket.socket
    address: tuple[str, int]
    buffer: bytearray = field(default_factory=bytearray)
    head_started: float | None = None  # when the first byte of the pending head came
    idle_since: float = field(default_factory=time.monotonic)
    head: bytes | None = None  # a head the selector thread took and left to a worker
    out: bytearray = field(default_factory=bytearray)  # an answer written on the selector thread, not yet sent
    keep_after: bool = False  # whether the connection carries on once `out` is sent

    def head_end(self) -> int:
        """The index just past the head's blank line, or -1 while it is incomplete."""
        crlf = self.buffer.find(b"\r\n\r\n")
        lf = self.buffer.find(b"\n\n")
        ends = [i + 4 for i in (crlf,) if i >= 0] + [i + 2 for i in (lf,) if i >= 0]
        return min(ends) if ends else -1

    def take_head(self) -> bytes:
        """The complete head at the start of the buffer, removed from it (what follows stays for the next one)."""
        end = self.head_end()
        head = bytes(self.buffer[:end])
        del self.buffer[:end]
        self.head_started = time.monotonic() if self.buffer else None
        return head


# Handler(head, connection, inline) answers one request and returns True to keep the connection for the next one.
# With inline (on the selector thread) it must not block: it writes its answer into connection.out, or returns
# None having written nothing when the answer needs a worker (a file not in memory, a stream, changes.json).
Handler = Callable[[bytes, Connection, bool], bool | None]
INLINE_ROUNDS = 8  # pipelined requests answered in a row on the selector thread before others get a turn


def _quick_answer(sock: socket.socket, status: str, extra: str = "") -> None:
    """A short answer on a connection about to be closed; a client too slow to take it loses it."""
    with contextlib.suppress(OSError):
        sock.setblocking(False)
        sock.send(
            f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n{extra}"
            "X-Content-Type-Options: nosniff\r\n\r\n".encode("ascii")
        )


class ConnectionServer:
    """Accept, read heads, hand complete ones to a bounded pool of workers (see the module docstring)."""

    def __init__(
        self,
        address: tuple[str, int],
        handler: Handler,
        *,
        workers: int = WORKERS,
        queue_limit: int = QUEUE_LIMIT,
        max_connections: int | None = None,
        header_timeout: float = HEADER_TIMEOUT,
        idle_timeout: float = IDLE_TIMEOUT,
        send_timeout: float = SEND_TIMEOUT,
    ) -> None:
        host = address[0]
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind(address)
            self.socket.listen(1024)
        except OSError:
            self.socket.close()
            raise
        self.socket.setblocking(False)
        self.server_address = self.socket.getsockname()
        self.handler = handler
        self.workers = workers
        self.max_connections = max_connections or connection_limit()
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        self.send_timeout = send_timeout
        self._work: queue.Queue[Connection | None] = queue.Queue(queue_limit)
        self._back: queue.Queue[Connection] = queue.Queue()
        self._waker_r, self._waker_w = socket.socketpair()
        self._waker_r.setblocking(False)
        self._waker_w.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._waiting: dict[socket.socket, Connection] = {}  # connections in the selector
        self._open = 0  # every open connection: waiting, queued or with a worker
        self._open_lock = threading.Lock()
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()
        self.ready = threading.Event()  # set once serve_forever has its workers and listens
        self._threads: list[threading.Thread] = []
        self._listening = True
        self._rest_until = 0.0

    # --- the selector thread ---------------------------------------------------------------------------------

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Run until shutdown(): the selector on this thread, the workers on their own daemon threads."""
        self._stop.clear()
        self._stopped.clear()
        self._threads = [
            threading.Thread(target=self._work_loop, name=f"unionfeed-serve-{n}", daemon=True)
            for n in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()
        self._selector.register(self.socket, selectors.EVENT_READ, "listen")
        self._selector.register(self._waker_r, selectors.EVENT_READ, "wake")
        self.ready.set()
        last_sweep = time.monotonic()
        try:
            while not self._stop.is_set():
                wait = min(poll_interval, SWEEP_EVERY)
                for key, _ in self._selector.select(wait):
                    if key.data == "listen":
                        self._accept()
                    elif key.data == "wake":
                        self._take_back()
                    else:
                        self._read(key.data)
                now = time.monotonic()
                if not self._listening and now >= self._rest_until:
                    self._selector.register(self.socket, selectors.EVENT_READ, "listen")
                    self._listening = True
                if now - last_sweep >= SWEEP_EVERY:
                    self._sweep(now)
                    last_sweep = now
        finally:
            for _ in self._threads:
                self._work.put(None)
            for thread in self._threads:
                thread.join(timeout=self.send_timeout)
            for conn in list(self._waiting.values()):
                self._close(conn)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(self.socket)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(self._waker_r)
            self._stopped.set()

    def _accept(self) -> None:
        for _ in range(64):
            try:
                sock, address = self.socket.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    # Out of descriptors: rest the listener (the backlog waits) instead of spinning on it.
                    log.warning("accept failed (%s): not accepting for 0.1 s", exc.strerror)
                    self._selector.unregister(self.socket)
                    self._listening = False
                    self._rest_until = time.monotonic() + 0.1
                    return
                continue  # ECONNABORTED and the like: that client is gone
            with self._open_lock:
                full = self._open >= self.max_connections
                if not full:
                    self._open += 1
            if full:
                _quick_answer(sock, "503 Service Unavailable", "Retry-After: 1\r\n")
                sock.close()
                continue
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(sock, address)
            self._waiting[sock] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)

    def _read(self, conn: Connection) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)
            return
        if conn.head_started is None:
            conn.head_started = time.monotonic()
        conn.buffer += data
        self._maybe_dispatch(conn)

    def _maybe_dispatch(self, conn: Connection) -> None:
        for _ in range(INLINE_ROUNDS):
            if conn.head_end() < 0:
                if len(conn.buffer) > MAX_HEAD_BYTES:
                    _quick_answer(conn.sock, "431 Request Header Fields Too Large")
                    self._close(conn)
                return
            head = conn.take_head()
            try:
                keep = self.handler(head, conn, True)
            except Exception:
                log.exception("request from %s failed", conn.address[0])
                self._close(conn)
                return
            if keep is None:  # needs a worker: it gets the head
                conn.head = head
                break
            try:
                sent = conn.sock.send(conn.out)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._close(conn)
                return
            del conn.out[:sent]
            if conn.out:  # the client reads slowly: a worker sends the rest, under the send timeout
                conn.keep_after = keep
                break
            if not keep:
                self._close(conn)
                return
            conn.idle_since = time.monotonic()
        else:
            if conn.head_end() < 0:
                return
        self._waiting.pop(conn.sock, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn.sock)
        try:
            self._work.put_nowait(conn)
        except queue.Full:
            _quick_answer(conn.sock, "503 Service Unavailable", "Retry-After: 1\r\n")
            self._close(conn)

    def _take_back(self) -> None:
        with contextlib.suppress(OSError):
            while self._waker_r.recv(4096):
                pass
        while True:
            try:
                conn = self._back.get_nowait()
            except queue.Empty:
                return
            conn.sock.setblocking(False)
            conn.idle_since = time.monotonic()
            self._waiting[conn.sock] = conn
            self._selector.register(conn.sock, selectors.EVENT_READ, conn)
            if conn.buffer:
                self._maybe_dispatch(conn)  # a pipelined request already read

    def _sweep(self, now: float) -> None:
        for conn in list(self._waiting.values()):
            if conn.head_started is not None:
                if now - conn.head_started > self.header_timeout:
                    _quick_answer(conn.sock, "408 Request Timeout")
                    self._close(conn)
            elif now - conn.idle_since > self.idle_timeout:
                self._close(conn)

    def _close(self, conn: Connection) -> None:
        if self._waiting.pop(conn.sock, None) is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(conn.sock)
        with contextlib.suppress(OSError):
            conn.sock.close()
        with self._open_lock:
            self._open -= 1

    # --- the workers -----------------------------------------------------------------------------------------

    def _work_loop(self) -> None:
        while True:
            conn = self._work.get()
            if conn is None:
                return
            keep: bool | None = False
            try:
                conn.sock.settimeout(self.send_timeout)
                if conn.out:
                    conn.sock.sendall(conn.out)
                    conn.out.clear()
                    keep = conn.keep_after
                else:
                    head, conn.head = conn.head if conn.head is not None else conn.take_head(), None
                    keep = self.handler(head, conn, False)
                keep = bool(keep) and not self._stop.is_set()
            except OSError:
                keep = False  # the client went away or stopped reading
            except Exception:  # one broken request never takes a worker down
                log.exception("request from %s failed", conn.address[0])
            if keep:
                self._back.put(conn)
                with contextlib.suppress(OSError):
                    self._waker_w.send(b"\0")
            else:
                with contextlib.suppress(OSError):
                    conn.sock.close()
                with self._open_lock:
                    self._open -= 1

    # --- control ---------------------------------------------------------------------------------------------

    @property
    def open_connections(self) -> int:
        with self._open_lock:
            return self._open

    def shutdown(self) -> None:
        """Stop serve_forever and wait until it has returned."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._waker_w.send(b"\0")
        self._stopped.wait()

    def server_close(self) -> None:
        """Close the listening socket and any connection a worker handed back after the loop stopped."""
        while True:
            try:
                conn = self._back.get_nowait()
            except queue.Empty:
                break
            with contextlib.suppress(OSError):
                conn.sock.close()
        self._selector.close()
        for sock in (self.socket, self._waker_r, self._waker_w):
            with contextlib.suppress(OSError):
                sock.close()
