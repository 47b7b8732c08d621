"""Serving the published folder like a good feed host: GET/HEAD only, validators, 304, gzip, /healthz."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}
# Feeds change at most every few minutes; readers that poll more often get a 304 from their cache.
CACHE_SECONDS = {".atom": 300, ".rss": 300, ".json": 300, ".opml": 3600, ".html": 300}
COMPRESSIBLE = {".atom", ".rss", ".json", ".html", ".opml", ".xml", ".css"}


class FeedHandler(BaseHTTPRequestHandler):
    """Answers GET and HEAD for files under the published root; everything else is refused."""

    root: Path
    server_version = "unionfeed"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _refuse(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def _resolve(self) -> Path | None:
        path = unquote(urlsplit(self.path).path)
        if path in ("", "/"):
            path = "/index.html"
        if "\x00" in path or any(part in ("..", "") for part in path.lstrip("/").split("/")):
            return None
        if any(part.startswith(".") for part in path.lstrip("/").split("/")):
            return None  # temporary files of atomic writes, dotfiles
        target = (self.root / path.lstrip("/")).resolve()
        try:
            target.relative_to(self.root.resolve())
        except ValueError:
            return None
        return target if target.is_file() else None

    def _answer(self, *, send_body: bool) -> None:
        if urlsplit(self.path).path == "/healthz":
            body = json.dumps({"status": "ok", "root": self.root.is_dir()}).encode()
            self._send(HTTPStatus.OK, body, "application/json; charset=utf-8", {"Cache-Control": "no-store"},
                       send_body=send_body)
            return
        target = self._resolve()
        if target is None:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", {}, send_body=send_body)
            return
        data = target.read_bytes()
        stat = target.stat()
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        last_modified = formatdate(stat.st_mtime, usegmt=True)
        suffix = target.suffix.lower()
        headers = {
            "ETag": etag,
            "Last-Modified": last_modified,
            "Cache-Control": f"public, max-age={CACHE_SECONDS.get(suffix, 300)}",
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if self._not_modified(etag, stat.st_mtime):
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, headers, send_body=False)
            return
        if suffix in COMPRESSIBLE and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            data = gzip.compress(data, mtime=0)
            headers["Content-Encoding"] = "gzip"
        self._send(HTTPStatus.OK, data, CONTENT_TYPES.get(suffix, "application/octet-stream"), headers,
                   send_body=send_body)

    def _not_modified(self, etag: str, mtime: float) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                return int(mtime) <= parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _send(self, status: HTTPStatus, body: bytes, content_type: str | None, headers: dict[str, str], *,
              send_body: bool) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in headers.items():
            self.send_header(key, value)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """An HTTP server for the published folder (port 0 picks a free port)."""
    handler = type("BoundFeedHandler", (FeedHandler,), {"root": Path(root)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve_in_thread(root: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start a server on a daemon thread; call .shutdown() to stop it."""
    server = make_server(root, host, port)
    threading.Thread(target=server.serve_forever, name="unionfeed-serve", daemon=True).start()
    return server


def serve_forever(root: Path, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve until interrupted."""
    Path(root).mkdir(parents=True, exist_ok=True)
    server = make_server(root, host, port)
    print(f"serving {root} on http://{host}:{server.server_address[1]}/")
    try:
        server.serve_forever()
    finally:
        server.server_close()
