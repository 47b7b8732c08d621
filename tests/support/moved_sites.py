"""A newspaper that moved, for tests/test_moved_site.py: the old host redirects every path to the new host's /nld/.

Modelled on nld.com.vn, which now answers every path (RSS included) with a 301 to tuoitre.vn/nld/<the same path>.
The old site (127.0.0.1 here) redirects each path P, robots.txt too, to http://<new host>/nld/P with the status
asked (301 as the real one; 302 or 308 for the other cases), or redirects only some paths. The new site (127.0.0.3)
serves under /nld/ the feed, a listing and the newspaper's union articles, and outside /nld/ the host's own
articles (sport, entertainment) that the feed and listing also link: those are not the moved source's.
Every request each site sees is kept.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .loopback_sites import page_html, reply

PREFIX = "/nld"
UNION = {
    1: "Công đoàn Khu công nghiệp Tân Bình ký thỏa ước lao động tập thể nhóm",
    2: "Người lao động Công ty Giày Thái Bình được tăng lương từ tháng 7",
    3: "Công đoàn TP HCM trao 500 suất quà cho công nhân khó khăn",
}
OTHER = {  # the new host's own articles, outside the moved newspaper's prefix
    1: "Đội tuyển bóng đá Việt Nam tập trung chuẩn bị vòng loại",
    2: "Liên hoan phim ngắn thu hút đông đảo khán giả trẻ",
}


def article(title: str, number: int) -> str:
    body = (
        f"<p>Sáng 12/6, {html.escape(title.lower())} trong không khí phấn khởi của hàng trăm đoàn viên, người lao "
        "động; lãnh đạo công ty và công đoàn cơ sở cùng dự.</p>"
        f"<p>Theo báo cáo, năm qua công đoàn đã tổ chức {number + 3} cuộc đối thoại định kỳ, giải quyết kịp thời "
        "các kiến nghị về tiền lương, bữa ăn ca và điều kiện làm việc.</p>"
        f"<p>Dịp này, {number * 20 + 40} đoàn viên có hoàn cảnh khó khăn được nhận quà hỗ trợ.</p>"
    )
    head = f'<meta property="article:published_time" content="2026-06-1{number}T07:30:00+07:00">'
    return page_html(title, f"<article><h1>{html.escape(title)}</h1><div class='content'>{body}</div></article>", head)


@dataclass
class Site:
    """One loopback host: its pages by path (status, headers, body), every path asked kept in `hits`."""

    host: str
    pages: dict[str, tuple[int, dict[str, str], str]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    base: str = ""
    redirect_all: tuple[int, str] | None = None  # (status, new base): every path P redirects to new base + P
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.hits.append(path)
        if self.redirect_all is not None and path in self.redirected_paths():
            status, to = self.redirect_all
            return status, {"Location": to + path, "Content-Type": "text/html"}, b"<p>Moved</p>"
        status, headers, text = self.pages.get(path, (404, {"Content-Type": "text/plain"}, "không có"))
        return status, headers, text.encode("utf-8")

    def redirected_paths(self) -> set[str] | _Every:
        return EVERY

    def set(self, path: str, text: str, content_type: str = "text/html; charset=utf-8") -> None:
        self.pages[path] = (200, {"Content-Type": content_type}, text)


class _Every:
    def __contains__(self, item: object) -> bool:
        return True


EVERY = _Every()


@dataclass
class PartlyMoved(Site):
    """An old host that redirects only the paths named (the rest it still serves itself)."""

    only: tuple[str, ...] = ()

    def redirected_paths(self) -> set[str] | _Every:
        return set(self.only)


@contextmanager
def serve(*sites: Site) -> Iterator[None]:
    servers = [_start(site) for site in sites]
    try:
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def _start(site: Site) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = site.answer(self.path)
            reply(self, status, headers, body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((site.host, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site.base = f"http://{site.host}:{server.server_address[1]}"
    return server


def fill_new_site(new: Site) -> None:
    """The new host: its robots.txt, the moved newspaper under /nld/ and its own articles outside it."""
    new.set("/robots.txt", "User-agent: *\nDisallow: /quan-tri/\n", "text/plain")
    own = [f"{new.base}/the-thao/bai-{n}.html" for n in OTHER]
    union = [f"{new.base}{PREFIX}/tin-tuc/bai-{n}.html" for n in UNION]
    items = "".join(
        f"<item><title>{html.escape(t)}</title><link>{u}</link></item>"
        for t, u in zip([*UNION.values(), *OTHER.values()], [*union, *own], strict=True)
    )
    rss = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>NLĐ</title>{items}</channel></rss>'
    new.set(f"{PREFIX}/rss/home.rss", rss, "application/rss+xml; charset=utf-8")
    links = "".join(f'<li><a class="title" href="{u}">Bài</a></li>' for u in [*union, *own])
    new.set(f"{PREFIX}/tin-tuc/", page_html("Người Lao Động — Công đoàn", f'<ul class="news-list">{links}</ul>'))
    new.set(f"{PREFIX}/", page_html("Người Lao Động", "<p>Trang chủ báo Người Lao Động</p>"))
    for n, title in UNION.items():
        new.set(f"{PREFIX}/tin-tuc/bai-{n}.html", article(title, n))
    for n, title in OTHER.items():
        new.set(f"/the-thao/bai-{n}.html", article(title, n))


def entry(slug: str, old_base: str) -> str:
    """The source as it was configured before the move: homepage, its feed and a listing, all on the old host."""
    return (
        f"  - slug: {slug}\n    name: 'Báo Người Lao Động'\n    kind: national_paper\n    homepage: {old_base}/\n"
        f"    discovery:\n      feeds: ['{old_base}/rss/home.rss']\n      listings:\n"
        f"        - url: {old_base}/tin-tuc/\n          links: 'ul.news-list a.title'\n          max_pages: 1\n"
    )
