"""Serving the published folder like a good feed host.

GET and HEAD only; strong ETags and Last-Modified with 304 on conditional requests; gzip when asked (its own
ETag); content types with charset; Cache-Control from the max_age the publisher wrote into the manifest
(the poll interval of the sources behind each file); `/healthz`; `/snapshots/changes.json?since=CURSOR`
for incremental pulls; no directory listings, no dotfiles, nothing outside the folder, and nothing publish does
not write (only its top-level names and file types), so a store, a config or a capture beside or inside the folder
stays private. Any other method, invented ones included, gets 405 with Allow and the connection closed; a GET or
HEAD that announces a body gets 400 and the connection closed (its body is never read as a next request).

Fit to face readers (issue 15): connections, timeouts and the worker pool are feed.serve.connections' (a client
holds a thread only while its request is answered); bodies come from feed.serve.files (a cache bounded in bytes,
large files streamed, the `.gz` written beside a file at publish time sent as it is); `changes.json` answers at
most CHANGES_PAGE_BYTES of change files per request, with a `Link: <...>; rel="next"` to the rest.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
import logging
import os
import socket
import threading
import time
from collections import OrderedDict
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from feed.publish.changes import CursorGone, changes_page
from feed.serve.connections import Connection, ConnectionServer
from feed.serve.files import Representation, Representations
from feed.serve.query import PREFIX as QUERY_PREFIX  # query feeds (feed.serve.query)
from feed.serve.query import QueryFeeds

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".jsonl": "application/jsonl; charset=utf-8",  # snapshots/articles.jsonl (feed.publish.jsonl)
    ".html": "text/html; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".ics": "text/calendar; charset=utf-8",  # feeds/meetings.ics (feed.publish.calendar)
}
JSON_FEED_TYPE = "application/feed+json; charset=utf-8"
COMPRESSIBLE = {".atom", ".rss", ".json", ".jsonl", ".html", ".opml", ".xml", ".css", ".txt", ".ics"}
DEFAULT_MAX_AGE = 300
IMMUTABLE_AFTER = 30 * 24 * 3600  # a max_age this long marks a file that never changes (change files, past days)
CHANGES_PATH = "/snapshots/changes.json"
MANIFEST = "snapshots/manifest.json"
CHANGES_PAGE_BYTES = 4 * 1024 * 1024  # change files folded into one changes.json answer, at most (one at least)
CHANGES_CACHE_BYTES = 16 * 1024 * 1024  # folded answers kept, keyed by cursor and the change index's version
# What publish and feed.publish.status_files write at the top of the folder: anything else there (a store, a config,
# captures, logs left by an operator who pointed the public folder at the data folder) is never served.
PUBLISHED_ROOTS = frozenset({"index.html", "feeds.opml", "feeds-all.opml", "status.json", "feeds", "snapshots"})
INLINE_MAX = 64 * 1024  # answers up to this size from memory are sent by the selector thread itself
RESOLVED_FOR = 1.0
MANIFEST_EVERY = 0.5  # seconds between looks at the manifest for Cache-Control (healthz always looks)
RESOLVED_ENTRIES = 4096
MAX_PATH_CHARS = 1024  # longer than any published path; refused before touching the file system


class _SocketWriter(io.BufferedIOBase):
    """wfile: every write goes out whole (sendall, under the connection's send timeout)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.sock.sendall(data)
        return len(data)


class _BufferWriter(io.BufferedIOBase):
    """wfile on the selector thread: the answer is collected in the connection's `out`, sent without blocking."""

    def __init__(self, out: bytearray) -> None:
        self.out = out

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.out += data
        return len(data)


class _Headers(dict[str, str]):
    """Request headers read by the quick parser: names compared case-insensitively, like email.message's."""

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())


def quick_parse(head: bytes) -> tuple[str, str, str, _Headers] | None:
    """(method, target, version, headers) of a plain GET or HEAD head; None for anything else (another method,
    HTTP/1.0 without its usual form, folded or repeated headers, bare LF line ends...), which the full parser of
    http.server reads on a worker instead."""
    if not head.endswith(b"\r\n\r\n"):
        return None
    lines = head[:-4].split(b"\r\n")
    try:
        method, target, version = lines[0].decode("ascii").split(" ")
    except (UnicodeDecodeError, ValueError):
        return None
    if method not in ("GET", "HEAD") or version not in ("HTTP/1.1", "HTTP/1.0") or not target.startswith("/"):
        return None
    headers = _Headers()
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip() or b"\n" in line:
            return None
        key = name.decode("latin-1").lower()
        if key in headers.keys():
            return None
        headers[key] = value.decode("latin-1").strip(" \t")
    return method, target, version, headers


@functools.lru_cache(maxsize=1024)
def http_date(seconds: int) -> str:
    """An HTTP date (RFC 9110 IMF-fixdate) of a whole second."""
    return formatdate(seconds, usegmt=True)


class NeedsWorker(Exception):
    """Raised on the selector thread, before anything is written, by an answer that may block."""


class ChangePages:
    """Folded changes.json answers, kept while the change index stays the same, bounded in bytes."""

    def __init__(self, page_bytes: int = CHANGES_PAGE_BYTES, limit: int = CHANGES_CACHE_BYTES) -> None:
        self.page_bytes = page_bytes
        self._items: OrderedDict[tuple[str, int, int], tuple[bytes, str | None]] = OrderedDict()
        self._bytes = 0
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, root: Path, since: str) -> tuple[bytes, str | None]:
        """(document bytes, next cursor or None); raises what changes_page raises."""
        try:
            stat = (root / "snapshots" / "changes" / "index.json").stat()
        except FileNotFoundError:
            raise
        key = (since, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        text, following = changes_page(root, since, self.page_bytes)
        data = text.encode("utf-8")
        with self._lock:
            if key not in self._items and len(data) <= self._limit // 4:
                self._items[key] = (data, following)
                self._bytes += len(data)
                while self._bytes > self._limit:
                    _, (dropped, _) = self._items.popitem(last=False)
                    self._bytes -= len(dropped)
        return data, following


class Resolved:
    """Where published paths lead (symlinks followed, the root's inside checked), remembered for RESOLVED_FOR
    seconds: realpath costs a stat per path component, on every request. Only files found are remembered; a file
    renamed away in that second is not found when it is opened (404)."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[float, Path, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, root: Path, relative: str) -> tuple[Path, str] | None:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(relative)
        if hit is not None and now - hit[0] < RESOLVED_FOR:
            return hit[1], hit[2]
        real_root = root.resolve()
        try:
            target = (real_root / relative).resolve()
            if not target.is_relative_to(real_root) or not target.is_file():
                return None
        except (OSError, ValueError):  # a name too long, a symlink loop: not a published file either way
            return None
        found = (target, target.relative_to(real_root).as_posix())
        with self._lock:
            self._items[relative] = (now, *found)
            while len(self._items) > RESOLVED_ENTRIES:
                self._items.popitem(last=False)
        return found


class Manifest:
    """The publisher's manifest, re-read when it changes: how long each file may be cached."""

    def __init__(self, root: Path) -> None:
        self.path = root / MANIFEST
        self._seen: tuple[int, int] | None = None
        self._looked = 0.0
        self.files: dict[str, dict[str, Any]] = {}
        self.doc: dict[str, Any] = {}
        self._lock = threading.Lock()

    def refresh(self, *, at_most_every: float = 0.0) -> None:
        """Re-read the manifest if it changed; with `at_most_every`, look at most that often (seconds)."""
        now = time.monotonic()
        if at_most_every and now - self._looked < at_most_every:
            return
        self._looked = now
        try:
            stat = self.path.stat()
        except OSError:
            return
        with self._lock:
            if self._seen == (stat.st_mtime_ns, stat.st_size):
                return
            try:
                self.doc = json.loads(self.path.read_text(encoding="utf-8"))
                self.files = {f["path"]: f for f in self.doc.get("files", [])}
            except (OSError, ValueError, KeyError, TypeError):
                return
            self._seen = (stat.st_mtime_ns, stat.st_size)

    def max_age(self, relative: str) -> int:
        self.refresh(at_most_every=MANIFEST_EVERY)
        entry = self.files.get(relative)
        return int(entry["max_age"]) if entry and isinstance(entry.get("max_age"), int) else DEFAULT_MAX_AGE


def cache_control(max_age: int) -> str:
    """Cache-Control for a file that may change after max_age seconds."""
    if max_age >= IMMUTABLE_AFTER:
        return f"public, max-age={max_age}, immutable"
    return f"public, max-age={max_age}"


def _quality(params: list[str]) -> float:
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def accepts_gzip(header: str | None) -> bool:
    """True when Accept-Encoding allows gzip, by name or by "*" (q=0 refuses it)."""
    codings: dict[str, float] = {}
    for part in (header or "").split(","):
        name, *params = part.split(";")
        codings[name.strip().lower()] = _quality(params)
    for name in ("gzip", "x-gzip", "*"):
        if name in codings:
            return codings[name] > 0
    return False


class FeedHandler(BaseHTTPRequestHandler):
    """Answers GET and HEAD for files under the published root; everything else is refused."""

    root: Path
    representations: Representations
    manifest: Manifest
    change_pages: ChangePages
    resolved: Resolved
    queries: QueryFeeds | None = None  # query feeds, when the server was given the store (feed.serve.query)
    server_version = "unionfeed"
    sys_version = ""

    def version_string(self) -> str:  # "unionfeed", not "unionfeed " (the base class joins two parts with a space)
        return self.server_version

    protocol_version = "HTTP/1.1"

    def __init__(self, head: bytes, conn: Connection, inline: bool) -> None:  # one request's head, already read
        self.request = self.connection = conn.sock
        self.client_address = conn.address
        self.rfile = io.BytesIO(head)
        self.wfile = _BufferWriter(conn.out) if inline else _SocketWriter(conn.sock)
        self.inline = inline
        self.close_connection = True

    @classmethod
    def answer(cls, head: bytes, conn: Connection, inline: bool) -> bool | None:
        """Answer one request; True when the connection may carry the next one. Inline (on the selector thread)
        only what memory answers: None, with nothing written, when a worker must (feed.serve.connections)."""
        handler = cls(head, conn, inline)
        try:
            if inline:
                handler.quick_request(head)
            else:
                handler.handle_one_request()
        except NeedsWorker:
            conn.out.clear()
            return None
        except OSError:  # the client went away or stopped reading (the send timeout)
            return False
        return not handler.close_connection

    def quick_request(self, head: bytes) -> None:
        """handle_one_request for a plain GET or HEAD, read by quick_parse (NeedsWorker for any other)."""
        parsed = quick_parse(head)
        if parsed is None:
            raise NeedsWorker
        self.command, self.path, self.request_version, headers = parsed
        self.headers = headers  # type: ignore[assignment]
        self.requestline = f"{self.command} {self.path} {self.request_version}"
        connection = (headers.get("Connection") or "").lower()
        if self.request_version == "HTTP/1.1":
            self.close_connection = connection == "close"
        else:
            self.close_connection = connection != "keep-alive"
        if "Expect" in headers:
            raise NeedsWorker  # 100-continue and the like: http.server's own handling
        if self.command == "GET":
            self.do_GET()
        else:
            self.do_HEAD()

    def date_time_string(self, timestamp: float | None = None) -> str:
        return http_date(int(time.time() if timestamp is None else timestamp))

    def log_message(self, format: str, *args: object) -> None:
        if log.isEnabledFor(logging.INFO):
            log.info("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        if self._has_body():
            return
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        if self._has_body():
            return
        self._answer(send_body=False)

    def _has_body(self) -> bool:
        """A GET or HEAD that announces a body is refused (400) and its connection closed: the body, never read,
        would otherwise be taken for the next request (two answers to one request)."""
        length = (self.headers.get("Content-Length") or "0").strip()
        if length == "0" and "Transfer-Encoding" not in self.headers:
            return False
        self.close_connection = True
        body = b"a GET or HEAD request carries no body\n"
        self._send(
            HTTPStatus.BAD_REQUEST,
            body,
            CONTENT_TYPES[".txt"],
            {"Cache-Control": "no-store", "Connection": "close"},
            send_body=True,
        )
        return True

    def _refuse(self) -> None:
        # The body of a refused request is never read: closing the connection keeps it from being taken for the
        # next request.
        self.close_connection = True
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server answers a method it has no do_<METHOD> for (an invented one, a lower-case "get") with a bare
        # 501 naming no allowed method: refuse it like POST instead.
        if code == HTTPStatus.NOT_IMPLEMENTED:
            self._refuse()
            return
        super().send_error(code, message, explain)

    def _resolve(self, path: str) -> tuple[Path, str] | None:
        """The published file a URL path names and its path relative to the root, or None."""
        if path in ("", "/"):
            path = "/index.html"
        parts = path.lstrip("/").split("/")
        if len(path) > MAX_PATH_CHARS or "\x00" in path or "\\" in path or parts[0] not in PUBLISHED_ROOTS:
            return None
        if any(p in ("", "..") or p.startswith(".") for p in parts):
            return None  # traversal, empty segments (directory URLs) and dotfiles (atomic writes' temp files)
        if os.path.splitext(parts[-1])[1].lower() not in CONTENT_TYPES:
            return None  # only the types publish writes: never a store, its journal, a config or a log
        return self.resolved.get(self.root, "/".join(parts))

    def _answer(self, *, send_body: bool) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        if path == "/healthz":
            self._health(send_body=send_body)
            return
        if path == CHANGES_PATH:
            if self.inline:
                raise NeedsWorker
            self._changes(parse_qs(url.query).get("since", [""])[0], send_body=send_body)
            return
        # --- query feeds (feed.serve.query) ---
        if path.startswith(QUERY_PREFIX) and self.queries is not None:
            if self.inline:
                raise NeedsWorker  # a search in the store: a worker's
            self._query(path, url.query, send_body=send_body)
            return
        # --- end of query feeds ---
        found = self._resolve(path)
        if found is None:
            self._plain(HTTPStatus.NOT_FOUND, "not found\n", send_body=send_body)
            return
        target, relative = found
        gzipped = target.suffix.lower() in COMPRESSIBLE and accepts_gzip(self.headers.get("Accept-Encoding"))
        try:
            if self.inline:
                found_rep = self.representations.cached(target, gzipped=gzipped)
                if found_rep is None or found_rep.length > INLINE_MAX:
                    raise NeedsWorker
                rep = found_rep
            else:
                rep = self.representations.get(target, gzipped=gzipped)
        except OSError:  # renamed away or unreadable between the check and the open
            self._plain(HTTPStatus.NOT_FOUND, "not found\n", send_body=send_body)
            return
        try:
            self._file(target, relative, rep, send_body=send_body)
        finally:
            rep.close()

    def _file(self, target: Path, relative: str, rep: Representation, *, send_body: bool) -> None:
        etag, mtime = rep.etag, rep.mtime
        content_type = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
        if relative.startswith("feeds/") and target.suffix == ".json":
            content_type = JSON_FEED_TYPE
        headers = {
            "ETag": etag,
            "Last-Modified": http_date(int(mtime)),
            "Cache-Control": cache_control(self.manifest.max_age(relative)),
        }
        if target.suffix.lower() in COMPRESSIBLE:
            headers["Vary"] = "Accept-Encoding"
        if rep.gzipped:
            headers["Content-Encoding"] = "gzip"
        if self._not_modified(etag, mtime):
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, headers, send_body=False)
            return
        if rep.data is not None:
            self._send(HTTPStatus.OK, rep.data, content_type, headers, send_body=send_body)
            return
        assert rep.file is not None
        self._send(HTTPStatus.OK, b"", content_type, headers, send_body=False, length=rep.length)
        if send_body:
            self.connection.sendfile(rep.file, 0, rep.length)

    def _health(self, *, send_body: bool) -> None:
        self.manifest.refresh()
        ready = (self.root / "index.html").is_file()
        doc = {
            "status": "ok" if ready else "empty",
            "published_at": self.manifest.doc.get("generated_at"),
            "cursor": self.manifest.doc.get("cursor"),
            "files": len(self.manifest.files),
        }
        self._json(HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, doc, "no-store", send_body=send_body)

    def _changes(self, since: str, *, send_body: bool) -> None:
        if not since:
            self._json(
                HTTPStatus.BAD_REQUEST,
                {"error": "add ?since=CURSOR (the cursor of latest.json or of your last pull)"},
                "no-store",
                send_body=send_body,
            )
            return
        try:
            data, following = self.change_pages.get(self.root, since)
        except CursorGone as exc:
            self._json(
                HTTPStatus.GONE,
                {"error": str(exc), "reload": "/snapshots/latest.json"},
                "no-store",
                send_body=send_body,
            )
            return
        except FileNotFoundError:
            self._json(
                HTTPStatus.SERVICE_UNAVAILABLE, {"error": "nothing published yet"}, "no-store", send_body=send_body
            )
            return
        except ValueError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)}, "no-store", send_body=send_body)
            return
        etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
        headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
        if following is not None:  # more after this page: ask again with its cursor (also the body's `cursor`)
            headers["Link"] = f'<{CHANGES_PATH}?since={quote(following)}>; rel="next"'
        if self._not_modified(etag, None):
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, headers, send_body=False)
            return
        if accepts_gzip(self.headers.get("Accept-Encoding")):
            data = gzip.compress(data, compresslevel=6, mtime=0)
            headers.update({"Content-Encoding": "gzip", "ETag": etag[:-1] + '-gzip"'})
        self._send(HTTPStatus.OK, data, CONTENT_TYPES[".json"], headers, send_body=send_body)

    # --- query feeds (feed.serve.query) ---
    def _query(self, path: str, query: str, *, send_body: bool) -> None:
        assert self.queries is not None
        answer = self.queries.answer(path, query)
        if answer.etag is None:
            self._send(
                answer.status, answer.body, answer.content_type, {"Cache-Control": "no-store"}, send_body=send_body
            )
            return
        headers = {"ETag": answer.etag, "Cache-Control": "public, max-age=60"}
        if self._not_modified(answer.etag, None):
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, headers, send_body=False)
            return
        self._send(answer.status, answer.body, answer.content_type, headers, send_body=send_body)

    # --- end of query feeds ---

    def _not_modified(self, etag: str, mtime: float | None) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            # Weak comparison (RFC 9110 §13.1.2), and either coding of the same bytes is the same version.
            base = etag.removesuffix('-gzip"').strip('"')
            tags = {t.strip().removeprefix("W/").strip('"').removesuffix("-gzip") for t in if_none_match.split(",")}
            return base in tags or "*" in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since and mtime is not None:
            try:
                return int(mtime) <= parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError, IndexError):
                return False
        return False

    def _plain(self, status: HTTPStatus, text: str, *, send_body: bool) -> None:
        self._send(
            status, text.encode("utf-8"), CONTENT_TYPES[".txt"], {"Cache-Control": "no-store"}, send_body=send_body
        )

    def _json(self, status: HTTPStatus, doc: dict[str, Any], cache: str, *, send_body: bool) -> None:
        self._send(
            status,
            json.dumps(doc, ensure_ascii=False).encode("utf-8"),
            CONTENT_TYPES[".json"],
            {"Cache-Control": cache},
            send_body=send_body,
        )

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str],
        *,
        send_body: bool,
        length: int | None = None,
    ) -> None:
        # The head built in one string and sent with a small body in one write (one packet for a 304 or a small
        # feed); what send_response and send_header would do, without their per-line encoding.
        self.log_request(status.value)
        lines = [
            f"{self.protocol_version} {status.value} {status.phrase}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
        ]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        lines += [f"{key}: {value}" for key, value in headers.items()]
        lines.append("X-Content-Type-Options: nosniff")
        if status != HTTPStatus.NOT_MODIFIED:
            lines.append(f"Content-Length: {len(body) if length is None else length}")
        if headers.get("Connection", "").lower() == "close":
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body if send_body and body else head)


def make_server(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    queries: QueryFeeds | None = None,
    *,
    cache_bytes: int | None = None,
    stream_over: int | None = None,
    changes_page_bytes: int = CHANGES_PAGE_BYTES,
    **limits: Any,
) -> ConnectionServer:
    """An HTTP server for the published folder (port 0 picks a free port): bodies cached up to `cache_bytes`,
    files over `stream_over` bytes streamed, change files folded into one changes.json answer up to
    `changes_page_bytes`; with `queries`, query feeds too. `limits` are ConnectionServer's (workers,
    queue_limit, max_connections, header_timeout, idle_timeout, send_timeout)."""
    root = Path(root)
    files = Representations()
    files.limit = cache_bytes if cache_bytes is not None else files.limit
    files.stream_over = min(stream_over if stream_over is not None else files.stream_over, files.limit)

    class BoundFeedHandler(FeedHandler):
        pass

    BoundFeedHandler.root, BoundFeedHandler.representations = root, files
    BoundFeedHandler.manifest, BoundFeedHandler.change_pages = Manifest(root), ChangePages(changes_page_bytes)
    BoundFeedHandler.resolved, BoundFeedHandler.queries = Resolved(), queries
    server = ConnectionServer((host, port), BoundFeedHandler.answer, **limits)
    server.representations = files  # type: ignore[attr-defined]
    return server


def serve_in_thread(
    root: Path, host: str = "127.0.0.1", port: int = 0, queries: QueryFeeds | None = None, **options: Any
) -> ConnectionServer:
    """Start a server on a daemon thread; call .shutdown() to stop it."""
    server = make_server(root, host, port, queries, **options)
    # A short poll interval makes shutdown() quick (tests and the scheduler's stop both wait for it).
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="unionfeed-serve", daemon=True
    ).start()
    server.ready.wait(10)
    return server


def serve_forever(root: Path, host: str = "127.0.0.1", port: int = 8080, queries: QueryFeeds | None = None) -> None:
    """Serve until interrupted."""
    Path(root).mkdir(parents=True, exist_ok=True)
    server = make_server(root, host, port, queries)
    print(f"serving {root} on http://{host}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
