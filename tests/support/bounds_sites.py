"""Sites that would make one crawl unbounded, each on its own 127.0.0.1 port, for tests/test_bounds.py.

Each is a table of paths (robots.txt allows everything): a gzipped sitemap, an index of 3,000 children, an endless
chain of indexes, two indexes that lead to each other, an article inside 100,000 nested <div>s and a 9 MB article
on one line. Every site counts the requests it answered, by path.
"""

from __future__ import annotations

import gzip
import html
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .loopback_sites import page_html

XML = "application/xml; charset=utf-8"
HTML = "text/html; charset=utf-8"
ARTICLE_PATTERN = r"/tin-tuc/bai-\d+\.html$"
WIDE_CHILDREN = 3000
NESTED_DIVS = 100_000
HUGE_BYTES = 9 * 1024 * 1024
SENTENCES = (
    "Sáng {n}/12, Ban Thường vụ Liên đoàn Lao động huyện tổ chức hội nghị sơ kết công tác chăm lo Tết cho đoàn viên.",
    "Hội nghị thống nhất trao {n} suất quà cho công nhân có hoàn cảnh khó khăn tại các khu công nghiệp.",
    "Các công đoàn cơ sở được giao rà soát danh sách người lao động chưa có điều kiện về quê đón Tết.",
    "Đồng chí Chủ tịch Liên đoàn Lao động đề nghị thực hiện kịp thời, công khai, đúng đối tượng.",
)
Answer = tuple[int, str, bytes]


def title(site: str, number: int) -> str:
    return f"Công đoàn {site} chăm lo Tết cho đoàn viên, bài số {number}"


def prose(number: int, paragraphs: int = 3) -> str:
    return "".join("<p>" + " ".join(s.format(n=number + k) for s in SENTENCES) + "</p>" for k in range(paragraphs))


def article(site: str, number: int, body: str | None = None) -> bytes:
    heading = title(site, number)
    inner = body if body is not None else prose(number)
    return page_html(heading, f"<article><h1>{html.escape(heading)}</h1>{inner}</article>").encode()


def urlset(base: str, numbers: range) -> bytes:
    urls = "".join(f"<url><loc>{base}/tin-tuc/bai-{n}.html</loc></url>" for n in numbers)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()


def index(children: list[tuple[str, str]]) -> bytes:
    """A sitemap index of (URL, lastmod) children."""
    items = "".join(f"<sitemap><loc>{u}</loc><lastmod>{m}</lastmod></sitemap>" for u, m in children)
    return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'.encode()


class BoundsSite:
    """A site whose answers `route(base, path)` decides; articles 1-3 are ordinary pages unless it says otherwise."""

    def __init__(self, name: str, sitemap: str, route: Callable[[str, str], Answer | None]) -> None:
        self.name = name
        self.sitemap = sitemap  # the path of the sitemap its source names
        self.route = route
        self.hits: list[str] = []
        self.lock = threading.Lock()

    def answer(self, base: str, path: str) -> Answer:
        with self.lock:
            self.hits.append(path)
        routed = self.route(base, path)
        if routed is not None:
            return routed
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        if path.startswith("/tin-tuc/bai-") and path[len("/tin-tuc/bai-") : -len(".html")] in ("1", "2", "3"):
            return 200, HTML, article(self.name, int(path[len("/tin-tuc/bai-") : -len(".html")]))
        return 404, HTML, b"<html><body>Not found</body></html>"

    def asked(self, prefix: str) -> list[str]:
        with self.lock:
            return [p for p in self.hits if p.startswith(prefix)]


def _gzipped(base: str, path: str) -> Answer | None:
    if path == "/sitemap.xml.gz":  # served as a file, not with Content-Encoding: the body is gzip
        return 200, "application/x-gzip", gzip.compress(urlset(base, range(1, 4)))
    return None


def _gzipped_in_robots(base: str, path: str) -> Answer | None:
    if path == "/robots.txt":  # a homepage-only source: robots.txt names the gzipped sitemap
        return 200, "text/plain", f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml.gz\n".encode()
    if path == "/":
        links = "".join(f'<li><a href="/tin-tuc/bai-{n}.html">Tin số {n} của công đoàn</a></li>' for n in (1, 2, 3))
        return 200, HTML, page_html("Công đoàn mẫu", f"<h1>Công đoàn mẫu</h1><main><ul>{links}</ul></main>").encode()
    return _gzipped(base, path)


def _wide(base: str, path: str) -> Answer | None:
    if path == "/sitemap.xml":
        months = [(f"{base}/sm/{n}.xml", f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}") for n in range(WIDE_CHILDREN)]
        return 200, XML, index(months)
    if path.startswith("/sm/"):
        return 200, XML, urlset(base, range(1, 4))
    return None


def _chain(base: str, path: str) -> Answer | None:
    if path == "/sitemap.xml" or path.startswith("/idx/"):  # each index names the next, without end
        number = 0 if path == "/sitemap.xml" else int(path[len("/idx/") : -len(".xml")])
        return 200, XML, index([(f"{base}/idx/{number + 1}.xml", "2026-12-01"), (f"{base}/bai.xml", "2026-12-01")])
    if path == "/bai.xml":
        return 200, XML, urlset(base, range(1, 4))
    return None


def _loop(base: str, path: str) -> Answer | None:
    if path == "/sitemap.xml":  # names the second index, which names this one back
        return 200, XML, index([(f"{base}/sitemap-2.xml", "2026-12-01")])
    if path == "/sitemap-2.xml":
        return 200, XML, index([(f"{base}/sitemap.xml", "2026-12-01"), (f"{base}/bai.xml", "2026-11-30")])
    if path == "/bai.xml":
        return 200, XML, urlset(base, range(1, 4))
    return None


def _deep(base: str, path: str) -> Answer | None:
    if path == "/sitemap.xml":
        return 200, XML, urlset(base, range(1, 4))
    if path == "/tin-tuc/bai-2.html":  # the whole article 100,000 <div>s deep, as a broken template leaves it
        nested = "<div class='khung'>" * NESTED_DIVS + prose(2) + "</div>" * NESTED_DIVS
        return 200, HTML, article("lồng sâu", 2, nested)
    return None


def huge_line() -> str:
    """One 9 MB line of text: the same report pasted over and over, no tag between."""
    sentence = " ".join(s.format(n=7) for s in SENTENCES) + " "
    return sentence * (HUGE_BYTES // len(sentence.encode()))


def _huge(base: str, path: str) -> Answer | None:
    if path == "/sitemap.xml":
        return 200, XML, urlset(base, range(1, 4))
    if path == "/tin-tuc/bai-3.html":
        return 200, HTML, article("trang khổng lồ", 3, "<p>" + huge_line() + "</p>")
    return None


def bounds_sites() -> list[BoundsSite]:
    return [
        BoundsSite("sitemap-nen-gzip", "/sitemap.xml.gz", _gzipped),
        BoundsSite("sitemap-gzip-robots", "", _gzipped_in_robots),  # no discovery configured: the homepage only
        BoundsSite("sitemap-3000-con", "/sitemap.xml", _wide),
        BoundsSite("sitemap-chuoi-vo-tan", "/sitemap.xml", _chain),
        BoundsSite("sitemap-vong-lap", "/sitemap.xml", _loop),
        BoundsSite("bai-long-sau", "/sitemap.xml", _deep),
        BoundsSite("bai-9-mb", "/sitemap.xml", _huge),
    ]


def source_entry(site: BoundsSite, base: str) -> str:
    head = (
        f"  - slug: {site.name}\n    name: 'Công đoàn mẫu {site.name}'\n    kind: union_portal\n    homepage: {base}/\n"
    )
    if not site.sitemap:  # the homepage only: the crawl discovers the rest
        return head
    return (
        head + f"    interval: 60\n    discovery:\n      article_pattern: '{ARTICLE_PATTERN}'\n"
        f"      sitemaps: ['{base}{site.sitemap}']\n"
    )


@contextmanager
def serve(sites: list[BoundsSite]) -> Iterator[dict[str, str]]:
    """Each site on its own 127.0.0.1 port; yields name -> base URL."""
    servers: list[ThreadingHTTPServer] = []
    try:
        for site in sites:
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            servers.append(server)
        yield {site.name: f"http://127.0.0.1:{s.server_address[1]}" for site, s in zip(sites, servers, strict=True)}
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def _handler(site: BoundsSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://{self.headers.get('Host', '127.0.0.1')}"
            status, content_type, body = site.answer(base, self.path.split("?", 1)[0])
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
