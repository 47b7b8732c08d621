"""A portal whose news list only a script builds, for tests/test_render_browser.py (`render: browser`).

Like obstacle_sites' JavaScript listing (an empty list and a script that fetches /api/tin-tuc.json and writes the
links in with innerHTML), but the site serves that JSON, so a browser that runs the script finds the articles.
The listing also loads a tracking script and pixel from another host (a `Tracker` on 127.0.0.2), which the
browser must never reach: every request a page makes stays inside the source's boundary.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .loopback_sites import page_html
from .obstacle_sites import JS_LISTINGS, ObstacleSite


class ScriptSite(ObstacleSite):
    """An ObstacleSite with the `fetch` JavaScript listing, its JSON and a third-party script and pixel."""

    def __init__(self, name: str, place: str, *, tracker: str = "", **kwargs: object) -> None:
        super().__init__(name, place, js_listing="fetch", **kwargs)
        self.tracker = tracker

    def listing(self, page: int) -> str:
        third_party = f'<script src="{self.tracker}/theo-doi.js"></script><img src="{self.tracker}/pixel.gif" alt="">'
        return page_html(f"{self.name} — Tin tức", JS_LISTINGS["fetch"] + third_party)

    def _page(self, path: str, query: dict[str, list[str]], base: str) -> tuple[str, str, datetime] | None:
        if path == "/api/tin-tuc.json":
            items = [{"url": f"/tin-tuc/bai-{n}.html", "title": self.title(n)} for n in range(self.articles, 0, -1)]
            return json.dumps(items, ensure_ascii=False), "application/json; charset=utf-8", self.changed_at()
        return super()._page(path, query, base)


class Tracker:
    """Another host (127.0.0.2): whatever asks it anything is kept in `hits`."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.base = ""


@contextmanager
def serve_tracker(tracker: Tracker) -> Iterator[Tracker]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            tracker.hits.append(self.path)
            body = b"/* theo doi */"
            self.send_response(200)
            self.send_header("Content-Type", "application/javascript")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tracker.base = f"http://127.0.0.2:{server.server_address[1]}"
    try:
        yield tracker
    finally:
        server.shutdown()
        server.server_close()


def entry(name: str, base: str, *, render: str | None) -> str:
    """A sources.yaml entry: the listing's links as the operator sees them in a browser (a.title)."""
    how = f"    render: {render}\n" if render else ""
    return (
        f"  - slug: {name}\n    name: 'Bộ Nội vụ mẫu {name}'\n    kind: ministry\n    homepage: {base}/\n{how}"
        "    discovery:\n      article_pattern: '/tin-tuc/bai-\\d+\\.html$'\n      listings:\n"
        f"        - url: {base}/tin-tuc/\n          links: 'a.title'\n          max_pages: 1\n"
    )
