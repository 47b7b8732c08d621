"""A source's trust boundary and canonical URLs as hints, tried with real crawls over real HTTP on loopback.

Each test serves small sites on 127.0.0.1 (the source's own, and sometimes a second site on another port of it)
and 127.0.0.2 (another host), crawls a source with the real spider in a forked child as the scheduler does, and
reads the store and the run's stats. No request may leave the origins of the source's homepage and discovery URLs
(article links, redirects, meta refreshes, sitemap-index children, feed items, next pages); a page's rel=canonical
or og:url never lets it overwrite another page's record or another source's article.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from feed.app.crawl_runner import crawl_in_child, publish_in_child
from feed.config.settings import Settings, load_settings
from feed.health.verdict import run_figures
from feed.store.api import Store

from .support.loopback_sites import page_html, reply, write_config

SECRET = "bi-mat-ngoai-bien-7c2e"  # on every page outside the boundary: nothing stored or published may hold it
HTML = {"Content-Type": "text/html; charset=utf-8"}
OFFSITE = "unionfeed/offsite_refused"


def article(title: str, number: int, head: str = "", extra: str = "") -> str:
    """An article page the extractor reads fully (title, date, a body of three paragraphs)."""
    body = (
        f"<p>Sáng 5/3, công đoàn cơ sở số {number} tổ chức hội nghị người lao động năm 2026, thông qua thỏa ước "
        f"lao động tập thể mới với nhiều điều khoản có lợi hơn cho công nhân. {extra}</p>"
        f"<p>Tại hội nghị, người lao động đề xuất tăng tiền ăn ca lên {number + 20} nghìn đồng và hỗ trợ nhà trọ; "
        "ban giám đốc đã tiếp thu và trả lời trực tiếp các ý kiến.</p>"
        f"<p>Dịp này, {number + 10} đoàn viên có hoàn cảnh khó khăn được nhận quà hỗ trợ của công đoàn.</p>"
    )
    dated = f'<meta property="article:published_time" content="2026-03-0{1 + number % 8}T08:00:00+07:00">'
    return page_html(
        title, f"<article><h1>{html.escape(title)}</h1><div class='content'>{body}</div></article>", dated + head
    )


def listing(*links: str, next_url: str | None = None) -> str:
    items = "".join(f'<li><a class="title" href="{html.escape(u)}">Bài {n}</a></li>' for n, u in enumerate(links))
    more = f'<a class="next" href="{html.escape(next_url)}">Trang sau</a>' if next_url else ""
    return page_html("Tin tức", f'<ul class="news-list">{items}</ul>{more}')


@dataclass
class Pages:
    """One loopback site: path -> (status, headers, body); every request's path is recorded."""

    host: str
    pages: dict[str, tuple[int, dict[str, str], str]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    base: str = ""

    def set(self, path: str, text: str, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.pages[path] = (status, headers or HTML, text)

    def redirect(self, path: str, location: str) -> None:
        self.pages[path] = (302, {"Location": location, "Content-Type": "text/plain"}, "")


@contextmanager
def serve(*sites: Pages) -> Iterator[None]:
    servers = []
    try:
        for site in sites:
            servers.append(_start(site))
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def _start(site: Pages) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.hits.append(self.path)
            status, headers, text = site.pages.get(self.path, (404, {"Content-Type": "text/plain"}, "không có"))
            body = text.encode("utf-8")
            reply(self, status, headers, body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((site.host, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site.base = f"http://{site.host}:{server.server_address[1]}"
    site.set("/robots.txt", "User-agent: *\nDisallow: /quan-tri/\n", headers={"Content-Type": "text/plain"})
    return server


def entry(slug: str, base: str, section: str = "/tin-tuc/", *, feeds: str = "", sitemaps: str = "") -> str:
    """A sources.yaml entry: a listing at base+section (and a feed or sitemap when given)."""
    extra = (f"      feeds: ['{feeds}']\n" if feeds else "") + (f"      sitemaps: ['{sitemaps}']\n" if sitemaps else "")
    return (
        f"  - slug: {slug}\n    name: 'Công đoàn {slug}'\n    kind: union_portal\n    homepage: {base}{section}\n"
        f"    discovery:\n{extra}      listings:\n        - url: {base}{section}\n"
        "          links: 'ul.news-list a.title'\n          next: 'a.next'\n          max_pages: 3\n"
    )


@dataclass
class World:
    settings: Settings

    def crawl(self, *slugs: str, refetch: bool = False) -> None:
        assert crawl_in_child(self.settings, list(slugs), refetch=refetch) == 0

    def store(self) -> Store:
        return Store(self.settings.db_url)

    def rows(self, slug: str | None = None) -> dict[str, Any]:
        """Stored articles by URL (all sources, or one)."""
        store = self.store()
        try:
            return {r.url: r for r in store.articles(source_slug=slug)}
        finally:
            store.close()

    def errors(self) -> dict[str, str]:
        store = self.store()
        try:
            return {e.url: e.error for e in store.page_errors()}
        finally:
            store.close()

    def stats(self, slug: str) -> dict[str, Any]:
        store = self.store()
        try:
            return dict(store.runs(slug, limit=1)[0].stats or {})
        finally:
            store.close()

    def figures(self, slug: str) -> Any:
        store = self.store()
        try:
            return run_figures(store.runs(slug, limit=1)[0], datetime.now(UTC), 60)
        finally:
            store.close()


def make_world(tmp_path: Path, *entries: str) -> World:
    config = write_config(tmp_path / "config", list(entries))
    return World(load_settings(config, tmp_path / "data"))


@pytest.fixture
def home() -> Pages:
    return Pages("127.0.0.1")


@pytest.fixture
def elsewhere() -> Pages:
    """Another host: a source's pages may point at it, the crawl must never ask it anything."""
    return Pages("127.0.0.2")


def secret_page(site: Pages, path: str) -> None:
    site.set(path, article(f"Trang ngoài biên {SECRET}", 9, extra=SECRET * 3))


def assert_nothing_from_elsewhere(world: World, *sites: Pages) -> None:
    for site in sites:
        assert site.hits == [], f"{site.base} was asked {site.hits}"
    rows = world.rows()
    assert all(not any(url.startswith(s.base) for s in sites) for url in rows), list(rows)
    assert not [r for r in rows.values() if SECRET in (r.title or "") + (r.body_text or "")]


# --- (1) to (5): no request leaves the source's hosts ------------------------------------------------------------
@pytest.mark.reliability("source-boundary")
def test_article_redirect_to_another_host_is_not_followed(tmp_path: Path, home: Pages, elsewhere: Pages) -> None:
    with serve(home, elsewhere):
        home.set("/tin-tuc/", listing("/tin-tuc/bai-1.html", "/tin-tuc/bai-2.html"))
        home.set("/tin-tuc/bai-1.html", article("Công đoàn cơ sở tổ chức hội nghị người lao động", 1))
        home.redirect("/tin-tuc/bai-2.html", f"{elsewhere.base}/tin-tuc/bai-2.html")
        secret_page(elsewhere, "/tin-tuc/bai-2.html")
        world = make_world(tmp_path, entry("nguon-a", home.base))
        world.crawl("nguon-a")
        assert publish_in_child(world.settings) == 0
    assert_nothing_from_elsewhere(world, elsewhere)  # not even its robots.txt was asked
    assert list(world.rows("nguon-a")) == [f"{home.base}/tin-tuc/bai-1.html"]
    assert "/tin-tuc/bai-2.html" in home.hits  # the link itself was asked; its 302 went nowhere
    public = world.settings.data / "public"
    assert not [p for p in public.rglob("*") if p.is_file() and SECRET in p.read_text("utf-8", errors="replace")]
    stats = world.stats("nguon-a")
    assert (stats.get(OFFSITE), stats.get(f"{OFFSITE}/redirect")) == (1, 1)
    assert world.figures("nguon-a").offsite == 1
    assert world.errors() == {}  # refused, not failed: the source is not blamed for it


@pytest.mark.reliability("source-boundary")
def test_meta_refresh_to_another_host_is_not_followed(tmp_path: Path, home: Pages, elsewhere: Pages) -> None:
    with serve(home, elsewhere):
        home.set("/tin-tuc/", listing("/tin-tuc/bai-1.html", "/tin-tuc/bai-2.html"))
        home.set("/tin-tuc/bai-1.html", article("Công đoàn cơ sở tổ chức hội nghị người lao động", 1))
        refresh = f'<meta http-equiv="refresh" content="0; url={elsewhere.base}/tin-tuc/bai-2.html">'
        home.set("/tin-tuc/bai-2.html", page_html("Đang chuyển trang", "<p>Đang chuyển trang…</p>", refresh))
        secret_page(elsewhere, "/tin-tuc/bai-2.html")
        world = make_world(tmp_path, entry("nguon-a", home.base))
        world.crawl("nguon-a")
    assert_nothing_from_elsewhere(world, elsewhere)
    assert list(world.rows("nguon-a")) == [f"{home.base}/tin-tuc/bai-1.html"]
    stats = world.stats("nguon-a")
    assert (stats.get(OFFSITE), stats.get(f"{OFFSITE}/meta_refresh")) == (1, 1)


@pytest.mark.reliability("source-boundary")
def test_sitemap_index_children_on_another_host_are_not_fetched(tmp_path: Path, home: Pages, elsewhere: Pages) -> None:
    other_port = Pages("127.0.0.1")  # another site on the same host: a different origin all the same
    with serve(home, elsewhere, other_port):
        index = "".join(
            f"<sitemap><loc>{u}</loc></sitemap>"
            for u in (
                f"{home.base}/sitemap-1.xml",
                f"{elsewhere.base}/sitemap-2.xml",
                f"{other_port.base}/sitemap-3.xml",
            )
        )
        xml = {"Content-Type": "application/xml"}
        ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        home.set("/sitemap.xml", f'<?xml version="1.0"?><sitemapindex {ns}>{index}</sitemapindex>', headers=xml)
        for site, path, number in (
            (home, "/sitemap-1.xml", 1),
            (elsewhere, "/sitemap-2.xml", 2),
            (other_port, "/sitemap-3.xml", 3),
        ):
            loc = f"{home.base}/tin-tuc/bai-{number}.html"
            site.set(path, f'<?xml version="1.0"?><urlset {ns}><url><loc>{loc}</loc></url></urlset>', headers=xml)
            home.set(f"/tin-tuc/bai-{number}.html", article(f"Công đoàn cơ sở số {number} tổ chức hội nghị", number))
        home.set("/tin-tuc/", listing())
        world = make_world(tmp_path, entry("nguon-a", home.base, sitemaps=f"{home.base}/sitemap.xml"))
        world.crawl("nguon-a")
    assert_nothing_from_elsewhere(world, elsewhere, other_port)
    assert list(world.rows("nguon-a")) == [f"{home.base}/tin-tuc/bai-1.html"]
    stats = world.stats("nguon-a")
    assert (stats.get(OFFSITE), stats.get(f"{OFFSITE}/sitemap_child")) == (2, 2)
    assert not stats.get("unionfeed/discovery_failed")


@pytest.mark.reliability("source-boundary")
def test_feed_items_on_another_host_are_not_fetched(tmp_path: Path, home: Pages, elsewhere: Pages) -> None:
    other_port = Pages("127.0.0.1")
    with serve(home, elsewhere, other_port):
        links = (
            f"{home.base}/tin-tuc/bai-1.html",
            f"{elsewhere.base}/tin-tuc/bai-2.html",
            f"{other_port.base}/tin-tuc/bai-3.html",
        )
        items = "".join(f"<item><title>Bài {n}</title><link>{u}</link></item>" for n, u in enumerate(links))
        rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>A</title>{items}</channel></rss>'
        home.set("/rss.xml", rss, headers={"Content-Type": "application/rss+xml"})
        home.set("/tin-tuc/", listing())
        home.set("/tin-tuc/bai-1.html", article("Công đoàn cơ sở tổ chức hội nghị người lao động", 1))
        secret_page(elsewhere, "/tin-tuc/bai-2.html")
        secret_page(other_port, "/tin-tuc/bai-3.html")
        world = make_world(tmp_path, entry("nguon-a", home.base, feeds=f"{home.base}/rss.xml"))
        world.crawl("nguon-a")
    assert_nothing_from_elsewhere(world, elsewhere, other_port)
    assert list(world.rows("nguon-a")) == [f"{home.base}/tin-tuc/bai-1.html"]
    stats = world.stats("nguon-a")
    assert (stats.get(OFFSITE), stats.get(f"{OFFSITE}/feed_item")) == (2, 2)


@pytest.mark.reliability("source-boundary")
def test_listing_next_page_on_another_host_is_not_fetched(tmp_path: Path, home: Pages, elsewhere: Pages) -> None:
    other_port = Pages("127.0.0.1")
    with serve(home, elsewhere, other_port):
        home.set("/tin-tuc/", listing("/tin-tuc/bai-1.html", next_url=f"{other_port.base}/tin-tuc/?page=2"))
        home.set("/tin-tuc/bai-1.html", article("Công đoàn cơ sở tổ chức hội nghị người lao động", 1))
        other_port.set("/tin-tuc/?page=2", listing("/tin-tuc/bai-2.html", next_url=f"{elsewhere.base}/tin-tuc/?page=3"))
        secret_page(other_port, "/tin-tuc/bai-2.html")
        elsewhere.set("/tin-tuc/?page=3", listing("/tin-tuc/bai-3.html"))
        world = make_world(tmp_path, entry("nguon-a", home.base))
        world.crawl("nguon-a")
        # The same listing with its next page on another host (127.0.0.2) instead.
        home.set("/tin-tuc/", listing("/tin-tuc/bai-1.html", next_url=f"{elsewhere.base}/tin-tuc/?page=2"))
        world.crawl("nguon-a", refetch=True)
    assert_nothing_from_elsewhere(world, elsewhere, other_port)
    assert list(world.rows("nguon-a")) == [f"{home.base}/tin-tuc/bai-1.html"]
    stats = world.stats("nguon-a")
    assert (stats.get(OFFSITE), stats.get(f"{OFFSITE}/next_page")) == (1, 1)


# --- (6) to (8): canonical URLs are hints, never keys --------------------------------------------------------------
def two_sources_on_one_site(tmp_path: Path, site: Pages) -> World:
    """Sources A (section /a/) and B (section /b/) on one site: the boundary cannot tell them apart, the store must."""
    return make_world(tmp_path, entry("nguon-a", site.base, "/a/"), entry("nguon-b", site.base, "/b/"))


@pytest.mark.reliability("canonical-hint")
def test_canonical_naming_another_sources_article_does_not_overwrite_it(
    tmp_path: Path, home: Pages, elsewhere: Pages
) -> None:
    with serve(home, elsewhere):
        theirs = "Công đoàn ngành Giáo dục tổng kết năm học"
        home.set("/b/", listing("/b/bai-1.html"))
        home.set("/b/bai-1.html", article(theirs, 1))
        world = two_sources_on_one_site(tmp_path, home)
        world.crawl("nguon-b")
        before = world.rows("nguon-b")[f"{home.base}/b/bai-1.html"]
        # A's pages name B's article (rel=canonical) and a page on another host (og:url) as their canonical.
        home.set("/a/", listing("/a/bai-1.html", "/a/bai-2.html"))
        canonical = f'<link rel="canonical" href="{home.base}/b/bai-1.html">'
        home.set("/a/bai-1.html", article("Công đoàn Công ty May Mẫu đối thoại với công nhân", 2, canonical))
        og_url = f'<meta property="og:url" content="{elsewhere.base}/tin-tuc/bai-9.html">'
        home.set("/a/bai-2.html", article("Công đoàn cơ sở thăm hỏi công nhân khó khăn", 3, og_url))
        world.crawl("nguon-a")
    after = world.rows("nguon-b")[f"{home.base}/b/bai-1.html"]
    assert (after.id, after.title, after.body_text, after.changed_at) == (
        before.id,
        before.title,
        before.body_text,
        before.changed_at,
    )
    assert after.title == theirs
    mine = world.rows("nguon-a")
    assert sorted(mine) == [f"{home.base}/a/bai-1.html", f"{home.base}/a/bai-2.html"]
    assert mine[f"{home.base}/a/bai-1.html"].title == "Công đoàn Công ty May Mẫu đối thoại với công nhân"
    assert world.stats("nguon-a").get("unionfeed/canonical_ignored") == 2
    assert world.figures("nguon-a").canonical_ignored == 2
    assert elsewhere.hits == []


@pytest.mark.reliability("canonical-hint")
def test_six_pages_with_one_canonical_are_six_articles_and_stay_unchanged(tmp_path: Path, home: Pages) -> None:
    with serve(home):
        shared = f'<link rel="canonical" href="{home.base}/tin-tuc/bai-chung.html">'
        home.set("/tin-tuc/", listing(*(f"/tin-tuc/bai-{n}.html" for n in range(1, 7))))
        titles = {n: f"Công đoàn cơ sở số {n} tổ chức hội nghị người lao động năm 2026" for n in range(1, 7)}
        for n, title in titles.items():
            home.set(f"/tin-tuc/bai-{n}.html", article(title, n, shared))
        world = make_world(tmp_path, entry("nguon-a", home.base))
        world.crawl("nguon-a")
        first = world.rows("nguon-a")
        assert {url: row.title for url, row in first.items()} == {
            f"{home.base}/tin-tuc/bai-{n}.html": title for n, title in titles.items()
        }
        assert (world.figures("nguon-a").new, world.figures("nguon-a").updated) == (6, 0)
        world.crawl("nguon-a", refetch=True)  # every page fetched again
        assert sum(h.startswith("/tin-tuc/bai-") for h in home.hits) == 12
    again = world.figures("nguon-a")
    assert (again.new, again.updated, world.stats("nguon-a").get("unchanged")) == (0, 0, 6)
    second = world.rows("nguon-a")
    assert {u: (r.id, r.title, r.changed_at) for u, r in second.items()} == {
        u: (r.id, r.title, r.changed_at) for u, r in first.items()
    }


@pytest.mark.reliability("canonical-hint")
def test_redirect_into_another_sources_article_does_not_take_it_over(tmp_path: Path, home: Pages) -> None:
    with serve(home):
        theirs = "Công đoàn ngành Y tế tổ chức hội nghị cán bộ"
        home.set("/b/", listing("/b/bai-1.html"))
        home.set("/b/bai-1.html", article(theirs, 1))
        world = two_sources_on_one_site(tmp_path, home)
        world.crawl("nguon-b")
        before = world.rows("nguon-b")[f"{home.base}/b/bai-1.html"]
        # B's page changes (B will see it on its own poll); A's article link redirects into it.
        home.set("/b/bai-1.html", article("Tiêu đề đã bị thay bởi nguồn khác", 5, extra="Nội dung khác hẳn."))
        home.set("/a/", listing("/a/bai-1.html"))
        home.redirect("/a/bai-1.html", f"{home.base}/b/bai-1.html")
        world.crawl("nguon-a")
    after = world.rows("nguon-b")[f"{home.base}/b/bai-1.html"]
    assert (after.id, after.title, after.body_text, after.changed_at, after.source_slug) == (
        before.id,
        theirs,
        before.body_text,
        before.changed_at,
        "nguon-b",
    )
    assert world.rows("nguon-a") == {}
    run = world.figures("nguon-a")
    assert (run.new, run.updated) == (0, 0)
    assert world.stats("nguon-a").get("unionfeed/foreign_refused") == 1
