"""Loopback union portals entered by their homepage alone, for tests/test_discovery.py.

Each is a small site served on a 127.0.0.x host, shaped like the real ones: a homepage with a header menu of
sections, an "about" and a contact page, a content area listing articles `/<mục>/<slug>-<id>.html` among tag and
topic links, a footer of links; article pages a union paper would print. What differs is where a crawler can find
the articles:

- `named_feed_site`: the feed is only named in the homepage's `<link rel="alternate">` (at a path no probe tries);
- `robots_sitemap_site`: robots.txt names a news sitemap (at a path no probe tries); no feed anywhere;
- `sections_site`: neither: the articles are on the homepage and on section pages (one of them paged);
- `offsite_site`: names a feed and a sitemap on another host, and its `/rss` redirects there; sections work.

Every request's path is kept (`hits`), so tests count what each poll asked.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .fault_sites import article_page, headline
from .loopback_sites import VN

HTML = "text/html; charset=utf-8"
MENU = (
    ("/", "Trang chủ"),
    ("/cong-doan/", "Công đoàn"),
    ("/thoi-su/", "Thời sự"),
    ("/gioi-thieu.html", "Giới thiệu"),
    ("/lien-he.html", "Liên hệ"),
)
ABOUT = (
    "<h1>Giới thiệu Liên đoàn Lao động tỉnh</h1><p>Liên đoàn Lao động tỉnh là tổ chức chính trị - xã hội rộng lớn "
    "của giai cấp công nhân và người lao động trên địa bàn tỉnh, được thành lập từ năm 1946.</p><p>Trụ sở: số 12 "
    "đường Trần Phú, thành phố; điện thoại 0203 3825 123; thư điện tử vanphong@ldld.example.vn.</p><p>Liên đoàn "
    "hiện có 1.250 công đoàn cơ sở với hơn 180.000 đoàn viên, hoạt động trong các doanh nghiệp và cơ quan.</p>"
)
SLUG_WORDS = ("cong-doan", "cham-lo", "doan-vien", "hoi-nghi", "nguoi-lao-dong", "tong-ket", "thi-dua", "an-toan")


@dataclass
class Portal:
    """One site: path (with query) -> (status, content type, body, extra headers); every request's path kept."""

    name: str
    host: str = "127.0.0.1"
    place: str = "tỉnh Mẫu"
    pages: dict[str, tuple[int, str, str, dict[str, str]]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    base: str = ""
    articles: dict[str, str] = field(default_factory=dict)  # path -> title of every article page
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, path: str, body: str, content_type: str = HTML, status: int = 200, **headers: str) -> None:
        self.pages[path] = (status, content_type, body, dict(headers))

    def redirect(self, path: str, location: str) -> None:
        self.pages[path] = (302, "text/plain", "", {"Location": location})

    def article(self, section: str, number: int) -> str:
        """Add article `number` under a section; returns its path."""
        path = f"/{section}/{SLUG_WORDS[number % 8]}-{SLUG_WORDS[(number + 3) % 8]}-{2210100 + number}.html"
        title = headline(self.place, number)
        self.articles[path] = title
        self.set(path, article_page(title, number, place=self.place))
        return path

    def asked(self, since: int = 0) -> list[str]:
        with self.lock:
            return list(self.hits[since:])


def menu(extra_head: str = "") -> str:
    items = "".join(f'<li><a href="{p}">{t}</a></li>' for p, t in MENU)
    return f'<header class="site-header"><nav class="main-menu"><ul>{items}</ul></nav></header>{extra_head}'


def footer() -> str:
    return (
        '<footer><a href="/gioi-thieu.html">Giới thiệu</a> <a href="/lien-he.html">Liên hệ</a> '
        '<a href="/so-do-trang.html">Sơ đồ trang</a><p>© Liên đoàn Lao động tỉnh mẫu</p></footer>'
    )


def page(title: str, body: str, head: str = "") -> str:
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}</title>{head}</head>'
        f'<body>{menu()}<div class="breadcrumb"><a href="/">Trang chủ</a></div><main>{body}</main>{footer()}'
        "</body></html>"
    )


def news_list(site: Portal, paths: list[str], *, tags: bool = True, next_url: str | None = None) -> str:
    items = "".join(
        f'<li class="story"><a href="{p}">{html.escape(site.articles[p])}</a>'
        + ('<a class="tag" href="/tag/cong-doan.html">#Công đoàn</a>' if tags else "")
        + "</li>"
        for p in paths
    )
    side = (
        '<div class="chu-de-noi-bat"><a href="/chu-de/an-toan-ve-sinh-lao-dong-315.html">An toàn lao động</a> '
        '<a href="/gioi-thieu/lich-su-lien-doan-lao-dong-tinh.html">Lịch sử Liên đoàn Lao động tỉnh</a></div>'
    )
    more = f'<a href="{next_url}">Trang sau</a>' if next_url else ""
    return f'<ul class="news">{items}</ul>{more}{side}'


def common_pages(site: Portal) -> None:
    site.set("/gioi-thieu.html", page("Giới thiệu", ABOUT))
    site.set("/gioi-thieu/lich-su-lien-doan-lao-dong-tinh.html", page("Lịch sử", ABOUT))
    site.set("/lien-he.html", page("Liên hệ", "<h1>Liên hệ</h1><p>Điện thoại: 0203 3825 123.</p>"))
    site.set("/tag/cong-doan.html", page("Công đoàn", "<h1>Thẻ: Công đoàn</h1>"))
    site.set("/chu-de/an-toan-ve-sinh-lao-dong-315.html", page("An toàn lao động", "<h1>Chủ đề</h1>"))
    site.set("/robots.txt", "User-agent: *\nDisallow: /quan-tri/\n", "text/plain")


def rss(site: Portal, paths: list[str]) -> str:
    items = "".join(
        f"<item><title>{html.escape(site.articles[p])}</title><link>{site.base}{p}</link>"
        f"<pubDate>{format_datetime(_when(n))}</pubDate></item>"
        for n, p in enumerate(paths)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Công đoàn</title>'
        f"<link>{site.base}/</link><description>Tin công đoàn</description>{items}</channel></rss>"
    )


def _when(n: int) -> datetime:
    return datetime(2026, 3, 1 + n, 8, 0, tzinfo=VN)


def sitemap(site: Portal, paths: list[str]) -> str:
    urls = "".join(f"<url><loc>{site.base}{p}</loc></url>" for p in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


# --- the sites (their pages are filled once the base URL is known: `build`) ----------------------------------------
def named_feed_site() -> Portal:
    return Portal("chi-lien-ket-rss", place="huyện Liên Kết")


def robots_sitemap_site() -> Portal:
    return Portal("chi-robots", place="huyện Rô Bốt")


def sections_site() -> Portal:
    return Portal("chi-chuyen-muc", place="huyện Chuyên Mục")


def offsite_site() -> Portal:
    return Portal("ngoai-bien", place="huyện Biên Giới")


def build(site: Portal, elsewhere: Portal | None = None) -> None:
    """Fill a site's pages for its kind (by name)."""
    common_pages(site)
    if site.name == "chi-lien-ket-rss":
        paths = [site.article("cong-doan", n) for n in range(1, 4)]
        head = '<link rel="alternate" type="application/rss+xml" title="Công đoàn" href="/tin-rss/cong-doan.xml">'
        site.set("/", page("Trang chủ", news_list(site, paths), head=head))
        site.set("/tin-rss/cong-doan.xml", rss(site, paths), "application/rss+xml; charset=utf-8")
    elif site.name == "chi-robots":
        paths = [site.article("cong-doan", n) for n in range(11, 15)]
        site.set("/", page("Trang chủ", news_list(site, paths[:3])))
        site.set(
            "/robots.txt",
            f"User-agent: *\nDisallow: /quan-tri/\nSitemap: {site.base}/bandotin/news.xml\n",
            "text/plain",
        )
        site.set("/bandotin/news.xml", sitemap(site, [*paths, "/cong-doan/", "/gioi-thieu.html"]), "application/xml")
    elif site.name in ("chi-chuyen-muc", "ngoai-bien"):
        home = [site.article("cong-doan", n) for n in range(21, 25)]
        older = [site.article("cong-doan", n) for n in range(25, 28)]
        oldest = [site.article("cong-doan", n) for n in range(28, 30)]
        news = [site.article("thoi-su", n) for n in range(30, 33)]
        site.set("/", page("Trang chủ", news_list(site, home)))
        site.set("/cong-doan/", page("Công đoàn", news_list(site, home[2:] + older, next_url="/cong-doan/?page=2")))
        site.set("/cong-doan/?page=2", page("Công đoàn - trang 2", news_list(site, oldest)))
        site.set("/thoi-su/", page("Thời sự", news_list(site, news)))
        if site.name == "ngoai-bien" and elsewhere is not None:
            head = f'<link rel="alternate" type="application/rss+xml" href="{elsewhere.base}/rss.xml">'
            site.set("/", page("Trang chủ", news_list(site, home), head=head))
            site.set("/robots.txt", f"User-agent: *\nSitemap: {elsewhere.base}/sitemap.xml\n", "text/plain")
            site.redirect("/rss", f"{elsewhere.base}/rss.xml")
            site.redirect("/sitemap.xml", f"{elsewhere.base}/sitemap.xml")


def handler(site: Portal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with site.lock:
                site.hits.append(self.path)
            status, content_type, text, headers = site.pages.get(self.path, (404, "text/plain", "không có", {}))
            body = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve(*sites: Portal) -> Iterator[None]:
    servers: list[ThreadingHTTPServer] = []
    try:
        for site in sites:
            server = ThreadingHTTPServer((site.host, 0), handler(site))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
            site.base = f"http://{site.host}:{server.server_address[1]}"
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def homepage_entry(site: Portal) -> str:
    """A sources.yaml entry as an operator writes it for a site they only know the address of."""
    return (
        f"  - slug: {site.name}\n    name: 'Công đoàn {site.place}'\n    kind: labour_federation\n"
        f"    homepage: {site.base}/\n"
    )
