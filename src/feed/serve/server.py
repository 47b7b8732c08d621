"""Serving the published folder like a good feed host.

GET and HEAD only; strong ETags and Last-Modified with 304 on conditional requests; gzip when asked (its own
ETag); content types with charset; Cache-Control from the max_age the publisher wrote into the manifest
(the poll interval of the sources behind each file); `/healthz`; `/snapshots/changes.json?since=CURSOR`
for incremental pulls; no directory listings, no dotfiles, nothing outside the folder, and nothing publish does
not write (only its top-level names and file types), so a store, a config or a capture beside or inside the folder
stays private. Any other method, invented ones included, gets 405 with Allow and the connection closed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from feed.publish.changes import CursorGone, changes_since

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".ics": "text/calendar; charset=utf-8",  # feeds/meetings.ics (feed.publish.calendar)
}
JSON_FEED_TYPE = "application/feed+json; charset=utf-8"
COMPRESSIBLE = {".atom", ".rss", ".json", ".html", ".opml", ".xml", ".css", ".txt", ".ics"}
DEFAULT_MAX_AGE = 300
IMMUTABLE_AFTER = 30 * 24 * 3600  # a max_age this long marks a file that never changes (change files, past days)
CHANGES_PATH = "/snapshots/changes.json"
MANIFEST = "snapshots/manifest.json"
CACHE_ENTRIES = 64
# What publish and feed.publish.status_files write at the top of the folder: anything else there (a store, a config,
# captures, logs left by an operator who pointed the public folder at the data folder) is never served.
PUBLISHED_ROOTS = frozenset({"index.html", "feeds.opml", "status.json", "feeds", "snapshots"})
MAX_PATH_CHARS = 1024  # longer than any published path; refused before touching the file system


class Representations:
    """Bodies, digests and gzip forms of files, reused while a file's mtime and size stay the same."""

    def __init__(self, limit: int = CACHE_ENTRIES) -> None:
        self._items: OrderedDict[tuple[str, int, int, bool], tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def get(self, path: Path, *, gzipped: bool) -> tuple[bytes, str, float]:
        """(body, etag, mtime) of the file, gzipped or not."""
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size, gzipped)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit[0], hit[1], stat.st_mtime
        data = path.read_bytes()
        tag = hashlib.sha256(data).hexdigest()[:32]
        if gzipped:
            data, tag = gzip.compress(data, compresslevel=6, mtime=0), tag + "-gzip"
        with self._lock:
            self._items[key] = (data, f'"{tag}"')
            while len(self._items) > self._limit:
                self._items.popitem(last=False)
        return data, f'"{tag}"', stat.st_mtime


class Manifest:
    """The publisher's manifest, re-read when it changes: how long each file may be cached."""

    def __init__(self, root: Path) -> None:
        self.path = root / MANIFEST
        self._seen: tuple[int, int] | None = None
        self.files: dict[str, dict[str, Any]] = {}
        self.doc: dict[str, Any] = {}
        self._lock = threading.Lock()

    def refresh(self) -> None:
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
        self.refresh()
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
    server_version = "unionfeed"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

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

    def _resolve(self, path: str) -> Path | None:
        if path in ("", "/"):
            path = "/index.html"
        parts = path.lstrip("/").split("/")
        if len(path) > MAX_PATH_CHARS or "\x00" in path or "\\" in path or parts[0] not in PUBLISHED_ROOTS:
            return None
        if any(p in ("", "..") or p.startswith(".") for p in parts):
            return None  # traversal, empty segments (directory URLs) and dotfiles (atomic writes' temp files)
        if Path(parts[-1]).suffix.lower() not in CONTENT_TYPES:
            return None  # only the types publish writes: never a store, its journal, a config or a log
        root = self.root.resolve()
        try:
            target = (root / "/".join(parts)).resolve()
            if not target.is_relative_to(root) or not target.is_file():
                return None
        except (OSError, ValueError):  # a name too long, a symlink loop: not a published file either way
            return None
        return target

    def _answer(self, *, send_body: bool) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        if path == "/healthz":
            self._health(send_body=send_body)
            return
        if path == CHANGES_PATH:
            self._changes(parse_qs(url.query).get("since", [""])[0], send_body=send_body)
            return
        target = self._resolve(path)
        if target is None:
            self._plain(HTTPStatus.NOT_FOUND, "not found\n", send_body=send_body)
            return
        gzipped = target.suffix.lower() in COMPRESSIBLE and accepts_gzip(self.headers.get("Accept-Encoding"))
        body, etag, mtime = self.representations.get(target, gzipped=gzipped)
        relative = target.relative_to(self.root.resolve()).as_posix()
        content_type = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
        if relative.startswith("feeds/") and target.suffix == ".json":
            content_type = JSON_FEED_TYPE
        headers = {
            "ETag": etag,
            "Last-Modified": formatdate(mtime, usegmt=True),
            "Cache-Control": cache_control(self.manifest.max_age(relative)),
        }
        if target.suffix.lower() in COMPRESSIBLE:
            headers["Vary"] = "Accept-Encoding"
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        if self._not_modified(etag, mtime):
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, headers, send_body=False)
            return
        self._send(HTTPStatus.OK, body, content_type, headers, send_body=send_body)

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
            text = changes_since(self.root, since)
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
        data = text.encode("utf-8")
        etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
        headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
        if self._not_modified(etag, None):
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, headers, send_body=False)
            return
        if accepts_gzip(self.headers.get("Accept-Encoding")):
            data = gzip.compress(data, compresslevel=6, mtime=0)
            headers.update({"Content-Encoding": "gzip", "ETag": etag[:-1] + '-gzip"'})
        self._send(HTTPStatus.OK, data, CONTENT_TYPES[".json"], headers, send_body=send_body)

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
        self, status: HTTPStatus, body: bytes, content_type: str | None, headers: dict[str, str], *, send_body: bool
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("X-Content-Type-Options", "nosniff")
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """An HTTP server for the published folder (port 0 picks a free port)."""
    root = Path(root)
    handler = type(
        "BoundFeedHandler",
        (FeedHandler,),
        {"root": root, "representations": Representations(), "manifest": Manifest(root)},
    )
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve_in_thread(root: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start a server on a daemon thread; call .shutdown() to stop it."""
    server = make_server(root, host, port)
    # A short poll interval makes shutdown() quick (tests and the scheduler's stop both wait for it).
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="unionfeed-serve", daemon=True
    ).start()
    return server


def serve_forever(root: Path, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve until interrupted."""
    Path(root).mkdir(parents=True, exist_ok=True)
    server = make_server(root, host, port)
    print(f"serving {root} on http://{host}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
