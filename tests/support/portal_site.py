"""A provincial labour-federation portal on 127.0.0.1 whose pages are mostly not articles: the written pages of
tests/fixtures/nonarticles (home, sections, about, contact, tag, search, site map, login) served at their URLs,
and the articles its home page links to, built in the same page chrome (menus, top bar with today's date,
sidebar, footer). A source that follows every link of its home page (`links: "a"`) meets all of them.

One article (UNDATED_ARTICLE) prints no date: only its metadata (article:published_time, og:type=article,
JSON-LD NewsArticle) says when it was published.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nonarticles"
VN = timezone(timedelta(hours=7))
# Articles are dated back from yesterday (the teasers' printed days are older): health judges silence by them.
NEWEST = datetime.now(VN).replace(hour=8, minute=30, second=0, microsecond=0) - timedelta(days=1)
UNDATED_ARTICLE = "/tin-tuc/huong-dan-thu-kinh-phi-cong-doan-nam-2026-1481.html"
TEASER = re.compile(
    r'<h3 class="title"><a href="(/tin-tuc/[^"]+)">([^<]+)</a></h3><span class="date">(\d\d)/(\d\d)/(\d{4})</span>'
    r'<p class="sapo">([^<]+)</p>'
)
MAIN = re.compile(r"<main\b.*</main>", re.S)


def manifest() -> dict[str, object]:
    return dict(json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8")))


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def articles() -> dict[str, tuple[str, datetime, str]]:
    """The articles the home page links to: path -> (title, published, sapo)."""
    found: dict[str, tuple[str, datetime, str]] = {}
    for path, title, _day, _month, _year, sapo in TEASER.findall(fixture("trang-chu.html")):
        when = NEWEST - timedelta(hours=len(found) * 17, minutes=len(found) * 7)
        found[path] = (html.unescape(title), when, html.unescape(sapo))
    return found


def article_page(path: str) -> str:
    title, when, sapo = articles()[path]
    shell = fixture("gioi-thieu.html")  # the portal's chrome around a main block
    shown = f'<div class="meta"><span class="date">{when:%d/%m/%Y - %H:%M}</span></div>'
    head = ""
    if path == UNDATED_ARTICLE:
        shown = ""
        data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                "datePublished": when.isoformat()}  # fmt: skip
        head = (
            f'<meta property="og:type" content="article">\n'
            f'<meta property="article:published_time" content="{when.isoformat()}">\n'
            f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>\n'
        )
    main = (
        f'<main class="content article-detail"><div class="breadcrumb"><a href="/">Trang chủ</a> » '
        f'<a href="/chuyen-muc/hoat-dong-cong-doan/">Hoạt động công đoàn</a></div>'
        f'<h1 class="article-title">{html.escape(title)}</h1>{shown}'
        f'<p class="sapo"><strong>{html.escape(sapo)}</strong></p>'
        f'<div class="article-content"><p>Tham dự có đại diện lãnh đạo Liên đoàn Lao động tỉnh, các ban chuyên đề và '
        f"chủ tịch công đoàn cơ sở thuộc các doanh nghiệp trên địa bàn. Các đại biểu đã trao đổi nhiều ý kiến thiết "
        f"thực về việc chăm lo đời sống, việc làm cho đoàn viên, người lao động.</p>"
        f"<p>Phát biểu chỉ đạo, đồng chí Phó Chủ tịch Liên đoàn Lao động tỉnh đề nghị các cấp công đoàn bám sát cơ "
        f"sở, kịp thời nắm bắt tâm tư, nguyện vọng của người lao động, chủ động phối hợp với người sử dụng lao động "
        f"giải quyết những vướng mắc phát sinh ngay tại doanh nghiệp.</p>"
        f'<p class="author"><strong>Minh Châu</strong></p></div></main>'
    )
    page = MAIN.sub(lambda _: main, shell, count=1)
    page = re.sub(r"<title>[^<]*</title>", f"<title>{html.escape(title)}</title>", page, count=1)
    return page.replace("</head>", head + "</head>", 1)


def routes() -> dict[str, str]:
    """Path (with query) -> page, for every page of the portal."""
    out = {urlsplit(p["url"])._replace(scheme="", netloc="").geturl(): fixture(p["file"]) for p in manifest()["pages"]}  # type: ignore[index]
    for section in ("tin-tuc-su-kien", "chinh-sach-phap-luat", "van-ban"):
        out[f"/chuyen-muc/{section}/"] = fixture("chuyen-muc.html")
    out["/tag/thoa-uoc-lao-dong-tap-the"] = fixture("tu-khoa.html")
    for path in articles():
        out[path] = article_page(path)
    return out


@contextmanager
def serve_portal() -> Iterator[tuple[str, list[str]]]:
    """Serve the portal on 127.0.0.1; yields its base URL and the list of paths asked for."""
    pages = routes()
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            page = pages.get(self.path)
            if page is None and self.path == "/robots.txt":
                body, status, kind = b"User-agent: *\nDisallow:\n", 200, "text/plain"
            elif page is None:
                body, status, kind = b"<h1>404</h1>", 404, "text/html; charset=utf-8"
            else:
                body, status, kind = page.encode("utf-8"), 200, "text/html; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()
