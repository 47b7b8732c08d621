"""Small news sites served on 127.0.0.1 for polling, health and scheduler tests (and bench/schedule.py).

Each site has a listing with pagination, an RSS feed, robots.txt and article pages; it answers conditional
requests (ETag, Last-Modified, 304) like a well-configured CMS, and can be switched into failure modes:
`error` (every page 500), `redesign` (the listing no longer links articles the old way), `undated` (articles
lose their dates), and a number of 429 answers with Retry-After before it serves normally.
"""

from __future__ import annotations

import hashlib
import html
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

VN = timezone(timedelta(hours=7))
PER_PAGE = 5
PLACES = ("Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế", "Nghệ An", "Thanh Hoá", "Quảng Ninh")
TOPICS = (
    "chăm lo Tết cho đoàn viên",
    "tập huấn an toàn vệ sinh lao động",
    "đối thoại với người lao động",
    "thăm hỏi công nhân khó khăn",
    "phát triển đoàn viên mới",
    "thi đua lao động sáng tạo",
)


@dataclass
class Hit:
    path: str
    status: int
    conditional: bool


@dataclass
class Site:
    """One news site; its state may change while it is being served (articles added, modes switched)."""

    name: str
    articles: int = 12
    start: datetime = datetime(2026, 1, 5, 8, 0, tzinfo=VN)
    gap: timedelta = timedelta(hours=6)
    mode: str = "ok"  # ok | error | redesign | undated
    throttle: int = 0  # how many 429 answers to give before serving normally
    retry_after: str = "1"
    failing: set[int] = field(default_factory=set)  # article numbers that answer 500
    disallow: tuple[str, ...] = ("/quan-tri/",)  # robots.txt Disallow lines
    delay: float = 0.0  # seconds each article page takes (to keep a crawl busy)
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def published(self, number: int) -> datetime:
        return self.start + self.gap * (number - 1)

    def add(self, count: int = 1) -> None:
        """Publish more articles (the newest get the next numbers)."""
        with self.lock:
            self.articles += count

    def changed_at(self) -> datetime:
        return self.published(self.articles) if self.articles else self.start

    def hits_for(self, prefix: str) -> list[Hit]:
        return [h for h in self.hits if h.path.startswith(prefix)]

    # --- pages --------------------------------------------------------------------------------------
    def listing(self, page: int) -> str:
        newest = list(range(self.articles, 0, -1))
        chosen = newest[(page - 1) * PER_PAGE : page * PER_PAGE]
        if self.mode == "redesign":
            items = "".join(
                f'<div class="card"><span data-href="/bai-viet/{n}">{self.title(n)}</span></div>' for n in chosen
            )
            return page_html(f"{self.name} — Tin tức", f'<section class="cards">{items}</section>')
        items = "".join(f'<li><a class="title" href="/tin-tuc/bai-{n}.html">{self.title(n)}</a></li>' for n in chosen)
        more = ""
        if len(newest) > page * PER_PAGE:
            more = f'<a class="next" href="/tin-tuc/?page={page + 1}">Trang sau</a>'
        nav = '<nav><a href="/">Trang chủ</a> <a href="/gioi-thieu.html">Giới thiệu</a></nav>'
        return page_html(f"{self.name} — Tin tức", f'{nav}<ul class="news-list">{items}</ul>{more}')

    def title(self, number: int) -> str:
        return f"Công đoàn {PLACES[number % len(PLACES)]} {TOPICS[number % len(TOPICS)]} (đợt {number})"

    def article(self, number: int) -> str:
        when = self.published(number)
        place, topic = PLACES[number % len(PLACES)], TOPICS[number % len(TOPICS)]
        body = (
            f"<p>Sáng {when:%d/%m}, công đoàn cơ sở tại {place} đã tổ chức hoạt động {topic} lần thứ {number}, "
            f"thu hút đông đảo đoàn viên, người lao động tham gia.</p>"
            f"<p>Phát biểu tại buổi làm việc, đại diện ban chấp hành đề nghị các tổ công đoàn tiếp tục lắng nghe "
            f"tâm tư của người lao động và kịp thời phản ánh kiến nghị của họ tới người sử dụng lao động.</p>"
            f"<p>Dịp này, {number + 10} đoàn viên có hoàn cảnh khó khăn được nhận quà hỗ trợ.</p>"
        )
        dated = (
            "" if self.mode == "undated" else (f'<meta property="article:published_time" content="{when.isoformat()}">')
        )
        shown = "" if self.mode == "undated" else f'<div class="date">{when:%H:%M, %d/%m/%Y}</div>'
        return page_html(
            self.title(number),
            f'<article><h1>{self.title(number)}</h1>{shown}<div class="content">{body}</div></article>',
            head=dated,
        )

    def rss(self) -> str:
        items = "".join(
            f"<item><title>{self.title(n)}</title><link>{{base}}/tin-tuc/bai-{n}.html</link>"
            f"<pubDate>{format_datetime(self.published(n))}</pubDate></item>"
            for n in range(self.articles, max(0, self.articles - 10), -1)
        )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{self.name}</title>'
            f"<link>{{base}}/</link><description>Tin tức</description>{items}</channel></rss>"
        )

    # --- answering ----------------------------------------------------------------------------------
    def answer(self, path_qs: str, headers: dict[str, str], base: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for one GET."""
        parts = urlsplit(path_qs)
        path = parts.path
        if self.delay and path.startswith("/tin-tuc/bai-"):
            time.sleep(self.delay)
        with self.lock:
            conditional = "if-none-match" in headers or "if-modified-since" in headers
            status, out, body = self._answer(path, parse_qs(parts.query), headers, base)
            self.hits.append(Hit(path_qs, status, conditional))
        return status, out, body

    def _answer(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str], base: str
    ) -> tuple[int, dict[str, str], bytes]:
        if path != "/robots.txt" and self.throttle > 0:
            self.throttle -= 1
            return 429, {"Retry-After": self.retry_after, "Content-Type": "text/plain"}, b"slow down\n"
        failing = path.startswith("/tin-tuc/bai-") and path.removeprefix("/tin-tuc/bai-").removesuffix(".html") in {
            str(n) for n in self.failing
        }
        if (self.mode == "error" and path != "/robots.txt") or failing:
            return 500, {"Content-Type": "text/html; charset=utf-8"}, b"<h1>Internal Server Error</h1>"
        found = self._page(path, query, base)
        if found is None:
            return 404, {"Content-Type": "text/html; charset=utf-8"}, b"<h1>404</h1>"
        text, content_type, modified = found
        body = text.encode("utf-8")
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        stamp = format_datetime(modified.astimezone(UTC), usegmt=True)
        out = {"Content-Type": content_type, "ETag": etag, "Last-Modified": stamp}
        if not_modified(headers, etag, modified):
            return 304, out, b""
        return 200, out, body

    def _page(self, path: str, query: dict[str, list[str]], base: str) -> tuple[str, str, datetime] | None:
        page_type = "text/html; charset=utf-8"
        if path == "/robots.txt":
            rules = "".join(f"Disallow: {rule}\n" for rule in self.disallow)
            return f"User-agent: *\n{rules}", "text/plain", self.start
        if path == "/tin-tuc/":
            page = int((query.get("page") or ["1"])[0])
            return self.listing(page), page_type, self.changed_at() + timedelta(minutes=self.mode != "ok")
        if path == "/rss.xml":
            return self.rss().replace("{base}", base), "application/rss+xml; charset=utf-8", self.changed_at()
        if path.startswith("/tin-tuc/bai-") and path.endswith(".html"):
            number = int(path.removeprefix("/tin-tuc/bai-").removesuffix(".html"))
            if 1 <= number <= self.articles:
                return self.article(number), page_type, self.published(number)
        return None


def not_modified(headers: dict[str, str], etag: str, modified: datetime) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    if "if-none-match" in headers:
        return etag in [t.strip() for t in headers["if-none-match"].split(",")]
    if "if-modified-since" in headers:
        try:
            return modified.replace(microsecond=0) <= parsedate_to_datetime(headers["if-modified-since"])
        except (TypeError, ValueError):
            return False
    return False


def page_html(title: str, body: str, head: str = "") -> str:
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"{head}</head><body>{body}<footer><p>Cổng thông tin công đoàn mẫu</p></footer></body></html>"
    )


def reply(handler: BaseHTTPRequestHandler, status: int, headers: Mapping[str, str], body: bytes) -> None:
    """Send one whole answer: status, headers, Content-Length, body."""
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"  # type: ignore[index]
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply(self, *site.answer(self.path, headers, base))

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def pages_handler(pages: Mapping[str, tuple[str, bytes]]) -> type[BaseHTTPRequestHandler]:
    """A handler for fixed pages (path -> content type and body; the query is ignored), 404 elsewhere, with
    keep-alive (HTTP/1.1): a site of thousands of pages, as bench/crawl.py serves it. `pages` may be filled
    after the server is made (the pages name its port)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            found = pages.get(self.path.split("?")[0])
            if found is None:
                reply(self, 404, {}, b"")
            else:
                reply(self, 200, {"Content-Type": found[0]}, found[1])

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve(sites: list[Site]) -> Iterator[dict[str, str]]:
    """Serve each site on its own 127.0.0.1 port; yields site name -> base URL."""
    servers: list[ThreadingHTTPServer] = []
    try:
        for site in sites:
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(site))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
        yield {site.name: f"http://127.0.0.1:{s.server_address[1]}" for site, s in zip(sites, servers, strict=True)}
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def source_entry(name: str, base: str, *, feed: bool = False, interval: int = 60, max_pages: int = 5) -> str:
    """A sources.yaml entry for a site: its listing (and feed when asked)."""
    discovery = f"      feeds: ['{base}/rss.xml']\n" if feed else ""
    return (
        f"  - slug: {name}\n    name: 'Công đoàn mẫu {name}'\n    kind: union_portal\n    homepage: {base}/\n"
        f"    interval: {interval}\n    discovery:\n      article_pattern: '/tin-tuc/bai-\\d+\\.html$'\n{discovery}"
        f"      listings:\n        - url: {base}/tin-tuc/\n          links: 'ul.news-list a.title'\n"
        f"          next: 'a.next'\n          max_pages: {max_pages}\n"
    )


FAST_SETTINGS = (
    "politeness:\n  download_delay: 0\n  autothrottle_start_delay: 0.01\n  retry_times: 1\n  download_timeout: 10\n"
    "crawl_time_limit: 60\n"
)


def write_config(folder: Path, entries: list[str]) -> Path:
    """sources.yaml and a fast settings.yaml for loopback sites; returns the sources file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.yaml").write_text(FAST_SETTINGS, encoding="utf-8")
    path = folder / "sources.yaml"
    path.write_text("version: 1\nsources:\n" + "".join(entries), encoding="utf-8")
    return path
