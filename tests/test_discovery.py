"""A homepage is enough: discovery at crawl time, over real HTTP on loopback, and its pure core.

The crawl tests serve four union portals (tests/support/discovery_sites.py) entered in sources.yaml by their
homepage alone, and a fifth host (127.0.0.2) that only their links and redirects point at. One crawl runs every
source in a forked child as the scheduler does; a second poll follows after one article is published. They read
the store, the requests each site saw and `unionfeed status --json`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from feed.app.crawl_runner import crawl_in_child
from feed.config.settings import Settings, load_settings
from feed.discover.found import (
    FEED_PROBES,
    SITEMAP_PROBES,
    Summary,
    feeds_in_page,
    looks_like_feed,
    looks_like_sitemap,
    section_candidates,
    sitemaps_in_robots,
    summarize,
)
from feed.discover.links import content_links, page_links
from feed.discover.shapes import ANY_ARTICLE, families_of, learn_article_pattern
from feed.store.api import Store

from .support.cli import run_cli
from .support.discovery_sites import (
    Portal,
    build,
    homepage_entry,
    named_feed_site,
    news_list,
    offsite_site,
    page,
    robots_sitemap_site,
    sections_site,
    serve,
)
from .support.loopback_sites import write_config

PROBES = {*FEED_PROBES, *SITEMAP_PROBES}
NOT_ARTICLES = ("/gioi-thieu", "/lien-he", "/tag/", "/chu-de/", "/so-do-trang", "/cong-doan/?")
SECTIONS = {"/", "/cong-doan/", "/thoi-su/"}


# --- the pure core: URL shapes -------------------------------------------------------------------------------------
def urls(base: str, *paths: str) -> list[str]:
    return [base + p for p in paths]


SITES = {
    # baolaodong-like: /<mục>/<slug>-<id>.ldo, with sections, tags, and the about page among the links
    "laodong": (
        urls(
            "https://laodong.vn",
            "/cong-doan/hoi-nghi-ban-chap-hanh-tong-lien-doan-1234567.ldo",
            "/cong-doan/cham-lo-tet-cho-doan-vien-kho-khan-1234501.ldo",
            "/thoi-su/tang-luong-toi-thieu-vung-tu-thang-7-1234420.ldo",
            "/cong-doan-toan-quoc/dai-hoi-cong-doan-co-so-nhiem-ky-moi-1233999.ldo",
            "/cong-doan/",
            "/thoi-su/",
            "/tags/cong-doan-12.ldo",
            "/gioi-thieu.ldo",
        ),
        4,
    ),
    # laodongthudo: /<mục>/<slug>-<id>.html
    "laodongthudo": (
        urls(
            "https://laodongthudo.vn",
            "/cong-doan/soi-noi-chung-ket-cuoc-thi-can-bo-cong-doan-y-te-gioi-181628.html",
            "/cong-doan/ldld-thanh-pho-tham-hoi-cong-nhan-181590.html",
            "/xa-hoi/nguoi-lao-dong-ve-que-an-tet-181577.html",
            "/cong-doan",
            "/lien-he.html",
            "/tag/doan-vien-1234.html",
        ),
        3,
    ),
    # congdoanvietnam.vn (Lao Động CMS): /<mục>/<slug>-<id>.tld
    "congdoan": (
        urls(
            "https://congdoanvietnam.vn",
            "/thoi-su/hoi-nghi-tong-ket-cong-tac-cong-doan-32477.tld",
            "/cong-doan-247/tong-ldld-viet-nam-ra-mat-san-giao-dich-21389.tld",
            "/cong-doan-247/tap-huan-phap-luat-cho-doan-vien-21390.tld",
            "/cong-doan-247/",
            "/thoi-su/",
        ),
        3,
    ),
    # a gov.vn portal (moha): /tin-tuc/<slug>---oid<id>
    "moha": (
        urls(
            "https://moha.gov.vn",
            "/tin-tuc/hoi-nghi-cong-doan-bo-noi-vu---oid57695",
            "/tin-tuc/cong-doan-bo-tham-hoi-dong-vien---oid57701",
            "/tin-tuc/dai-hoi-cong-doan-co-quan-bo---oid57712",
            "/tin-tuc/",
            "/gioi-thieu/chuc-nang-nhiem-vu",
            "/van-ban/thong-tu-so-01-2025",
        ),
        3,
    ),
    # baophapluat: -post<id>.html articles beside -tag<id>.html tag pages
    "baophapluat": (
        urls(
            "https://baophapluat.vn",
            "/cong-doan-quan-doi-to-chuc-hoi-nghi-post579523.html",
            "/cham-lo-doi-song-nguoi-lao-dong-quoc-phong-post579600.html",
            "/thi-dua-lao-dong-gioi-nganh-quan-doi-post579611.html",
            "/cong-doan-quan-doi-tag28113.html",
            "/nguoi-lao-dong-tag1200.html",
        ),
        3,
    ),
    # WordPress date paths
    "wordpress": (
        urls(
            "https://hvpnvn.edu.vn",
            "/2025/06/12/hoi-nghi-tong-ket-hoat-dong-cong-doan/",
            "/2025/05/30/cong-doan-truong-tham-hoi-giang-vien/",
            "/2025/05/dai-hoi-cong-doan-co-so-nhiem-ky-2025-2030/",
            "/category/tin-tuc/",
            "/gioi-thieu/",
            "/tag/cong-doan/",
        ),
        3,
    ),
    # vuit: /tin-tuc/t<id>/<slug>
    "vuit": (
        urls(
            "https://vuit.edu.vn",
            "/tin-tuc/t1021/hoi-nghi-vien-chuc-nguoi-lao-dong-nam-2025",
            "/tin-tuc/t1033/cong-doan-truong-to-chuc-ngay-hoi-the-thao",
            "/tin-tuc/t1040/tham-hoi-can-bo-om-dau",
            "/tin-tuc",
            "/gioi-thieu",
        ),
        3,
    ),
    # dhcd: /b/<mục>/<slug>.html
    "dhcd": (
        urls(
            "http://www.dhcd.edu.vn",
            "/b/tin-tuc-su-kien/hoi-nghi-can-bo-vien-chuc-nam-hoc-2025.html",
            "/b/tin-tuc-su-kien/le-khai-giang-nam-hoc-moi-tai-truong.html",
            "/b/hoat-dong-cong-doan/cong-doan-truong-trao-qua-cho-doan-vien.html",
            "/c/tin-tuc-su-kien.html",
            "/gioi-thieu.html",
        ),
        3,
    ),
    # ASP.NET query ids (congdoangdvn)
    "congdoangdvn": (
        urls(
            "https://congdoangdvn.org.vn",
            "/index.aspx?Def=556&ID=2101&CateID=539",
            "/index.aspx?Def=556&ID=2470&CateID=539",
            "/index.aspx?Def=556&ID=2471&CateID=540",
            "/index.aspx?Def=555&CateID=539",
            "/index.aspx?Def=1",
        ),
        3,
    ),
}


@pytest.mark.parametrize("site", sorted(SITES))
def test_the_article_shape_is_learnt_from_real_shaped_links(site: str) -> None:
    links, articles = SITES[site]
    shape = learn_article_pattern(links)
    assert shape is not None
    assert [u for u in links if shape.pattern.search(u)] == links[:articles], shape.families
    assert shape.support == articles and shape.confidence == round(articles / len(links), 3)


def test_no_clear_family_is_no_pattern() -> None:
    assert learn_article_pattern([]) is None
    menus = urls("https://x.vn", "/", "/gioi-thieu", "/lien-he", "/tin-tuc/", "/thoi-su/", "/tag/cong-doan/")
    assert learn_article_pattern(menus) is None
    two = urls("https://x.vn", "/a/hoi-nghi-cong-doan-1234.html", "/b/dai-hoi-cong-doan-5678.html", "/lien-he")
    assert learn_article_pattern(two) is None  # two links are no family
    assert ANY_ARTICLE.search(two[0]) and not ANY_ARTICLE.search("https://x.vn/tag/cong-doan-1234.html")


def test_two_article_shapes_of_one_site_are_both_learnt_and_pagers_are_not_articles() -> None:
    links = urls(
        "https://congdoan.vn",
        *(f"/tin-tuc/hoi-nghi-cong-doan-so-{n}-{1000 + n}.tld" for n in range(4)),
        *(f"/cong-doan/dai-hoi-doan-vien-so-{n}-{2000 + n}.ldo" for n in range(3)),
        "/tin-tuc/trang-2.html",
        "/cong-doan-co-so/p-3.htm",
    )
    shape = learn_article_pattern(links)
    assert shape is not None and len(shape.families) == 2
    assert [u for u in links if shape.pattern.search(u)] == links[:7]
    # A NukeViet category: a 2-digit id is no article id (only the length of its words puts it in a family).
    assert [f.name for f in families_of("https://x.vn/Tin-tuc-hoat-dong-26/")] == ["/<slug>"]


# --- the pure core: links, feeds, sitemaps, sections -----------------------------------------------------------
HOME = (
    '<html><head><link rel="alternate" type="application/rss+xml" href="/rss/home.rss">'
    '<link rel="alternate" type="application/rss+xml" href="/comments/feed/">'
    '<link rel="alternate" hreflang="en" href="/en/"><link rel="alternate" href="/feed">'
    '</head><body><header><a href="/cong-doan/">Công đoàn</a></header>'
    '<div id="main-menu"><a href="/thoi-su/">Thời sự</a></div>'
    '<ul class="breadcrumb"><li><a href="/">Trang chủ</a></li></ul>'
    '<div class="card"><div class="card-header"><a href="/cong-doan/hoi-nghi-cong-doan-1234.html">Hội nghị</a></div>'
    '</div><div role="navigation"><a href="/gioi-thieu.html">Giới thiệu</a></div>'
    '<a href="/thoi-su/">Thời sự (trong nội dung)</a><a href="mailto:a@b.vn">Thư</a><a href="#top">Lên</a>'
    '<footer><a href="/lien-he.html">Liên hệ</a></footer></body></html>'
)


def test_links_in_navigation_blocks_are_marked_and_a_card_header_is_content() -> None:
    base = "https://ldld.example.vn/"
    marked = {link.url.removeprefix(base[:-1]): link.in_nav for link in page_links(HOME, base)}
    assert marked == {
        "/cong-doan/": True,
        "/thoi-su/": False,  # in a menu, but also in the content
        "/": True,
        "/cong-doan/hoi-nghi-cong-doan-1234.html": False,
        "/gioi-thieu.html": True,
        "/lien-he.html": True,
    }
    assert content_links(HOME, base) == [base + "thoi-su/", base + "cong-doan/hoi-nghi-cong-doan-1234.html"]


def test_feeds_named_by_a_page_and_sitemaps_named_by_robots() -> None:
    base = "https://ldld.example.vn/"
    assert feeds_in_page(HOME, base) == [base + "rss/home.rss", base + "feed"]  # no comments feed, no hreflang page
    robots = "User-agent: *\nDisallow: /admin/\nSitemap: /sitemap.xml\n# Sitemap: /old.xml\nSITEMAP: https://ldld.example.vn/sitemaps/news.xml\n"
    assert sitemaps_in_robots(robots, base + "robots.txt") == [base + "sitemaps/news.xml", base + "sitemap.xml"]
    assert looks_like_feed(b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>')
    assert looks_like_feed(
        b'\xef\xbb\xbf<feed xmlns="http://www.w3.org/2005/Atom"></feed>'.decode("utf-8-sig").encode()
    )
    assert not looks_like_feed(b"<!doctype html><html><body>404 rss</body></html>")
    assert looks_like_sitemap(b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>')
    assert not looks_like_sitemap(b"<html><body><urlset></body></html>")


def test_section_candidates_are_same_host_non_articles_union_sections_first() -> None:
    base = "https://ldld.example.vn/"
    body = (
        '<nav><a href="/thoi-su/">Thời sự</a><a href="/gioi-thieu.html">Giới thiệu</a><a href="/cong-doan/">Công đoàn'
        '</a><a href="https://khac.example.vn/tin/">Nơi khác</a><a href="/lien-he.html">Liên hệ</a>'
        '<a href="/tag/cong-doan/">#</a><a href="/van-hoa/">Văn hoá</a></nav>'
        '<a href="/cong-doan/hoi-nghi-cong-doan-1234.html">Bài</a><a href="/files/bao-cao.pdf">Báo cáo</a>'
    )
    pattern = re.compile(r"-\d+\.html$")
    found = section_candidates(page_links(body, base), base, lambda u: bool(pattern.search(u)))
    assert found == [base + "cong-doan/", base + "thoi-su/", base + "van-hoa/"]


def test_summarize_builds_what_a_sources_add_command_would_propose() -> None:
    base = "https://ldld.example.vn/"
    site = Portal("mau", place="tỉnh Mẫu")
    site.base = base[:-1]
    paths = [site.article("cong-doan", n) for n in range(1, 5)]
    home = page("Trang chủ", news_list(site, paths))
    feed = b'<?xml version="1.0"?><rss version="2.0"><channel><item><link>x</link></item></channel></rss>'
    summary = summarize(
        base,
        home,
        robots_txt="Sitemap: https://ldld.example.vn/sitemap.xml\n",
        fetched={
            base + "rss": feed,
            base + "sitemap.xml": b"<html>soft 404</html>",
            base + "cong-doan/": home.encode(),
        },
    )
    assert summary.feeds == [base + "rss"] and summary.sitemaps == []
    assert summary.sections == [base, base + "cong-doan/"]
    assert summary.families == ["<slug>-<id>.html"] and summary.confidence > 0.3
    assert summary.describe().startswith("1 feed, 0 sitemaps, 2 sections; articles like <slug>-<id>.html")
    assert Summary.from_json(json.loads(json.dumps(summary.to_json()))) == summary
    assert Summary.from_json({"article_pattern": "(", "feeds": "not a list"}).article_pattern is None


# --- the crawl ------------------------------------------------------------------------------------------------
@dataclass
class World:
    settings: Settings
    sites: dict[str, Portal]
    elsewhere: Portal
    first: dict[str, list[str]]  # the paths each site was asked in the first poll
    second: dict[str, list[str]]  # ... in the second
    added: str  # the article published between the polls (on the sections-only site)
    rows: dict[str, dict[str, str]]  # slug -> stored URL -> title
    stats: dict[str, list[dict[str, Any]]]  # slug -> the runs' stats, newest first
    remembered: dict[str, dict[str, Any]]
    status: dict[str, dict[str, Any]]

    def stored_paths(self, slug: str) -> dict[str, str]:
        base = self.sites[slug].base
        return {url.removeprefix(base): title for url, title in self.rows[slug].items()}


def read(settings: Settings) -> tuple[dict[str, dict[str, str]], dict[str, list[dict[str, Any]]], dict[str, Any]]:
    store = Store(settings.db_url)
    try:
        rows: dict[str, dict[str, str]] = {}
        for row in store.articles():
            rows.setdefault(row.source_slug, {})[row.url] = row.title or ""
        stats: dict[str, list[dict[str, Any]]] = {}
        for run in store.runs(limit=100):
            stats.setdefault(run.source_slug, []).append(dict(run.stats or {}))
        found = {slug: {"found": r.found, "worked": r.worked} for slug, r in store.all_discovered().items()}
        return rows, stats, found
    finally:
        store.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("discovery")
    elsewhere = Portal("noi-khac", host="127.0.0.2")
    sites = {s.name: s for s in (named_feed_site(), robots_sitemap_site(), sections_site(), offsite_site())}
    with serve(elsewhere, *sites.values()):
        elsewhere.set(
            "/rss.xml", "<rss><channel><item><link>/bi-mat</link></item></channel></rss>", "application/rss+xml"
        )
        for site in sites.values():
            build(site, elsewhere)
        config = write_config(root / "config", [homepage_entry(s) for s in sites.values()])
        settings = load_settings(config, root / "data")
        assert crawl_in_child(settings, list(sites), timeout=120) == 0
        first = {name: site.asked() for name, site in sites.items()}
        # One article published on the sections-only site, at the top of its homepage.
        shelf = sites["chi-chuyen-muc"]
        added = shelf.article("cong-doan", 40)
        home = [added, *(p for p in shelf.articles if p.endswith(tuple(f"-{2210100 + n}.html" for n in range(21, 24))))]
        shelf.set("/", page("Trang chủ", news_list(shelf, home)))
        assert crawl_in_child(settings, list(sites), timeout=120) == 0
        second = {name: site.asked()[len(first[name]) :] for name, site in sites.items()}
        rows, stats, remembered = read(settings)
        result = run_cli("--config", str(config), "--data", str(settings.data), "status", "--json", timeout=120)
        status = {s["slug"]: s for s in json.loads(result.stdout)["sources"]}
        broken = [slug for slug, s in status.items() if s["state"] == "broken"]
        # status exits 7 when some sources are broken (docs/operations.md), 0 when none is
        assert result.returncode == (7 if broken else 0), (broken, result.stderr[-2000:])
        yield World(settings, sites, elsewhere, first, second, added, rows, stats, remembered, status)


def test_a_feed_named_only_in_link_rel_alternate_is_found_and_read(world: World) -> None:
    site = world.sites["chi-lien-ket-rss"]
    assert world.stored_paths(site.name) == site.articles
    assert "/tin-rss/cong-doan.xml" in world.first[site.name]
    assert not PROBES & set(world.first[site.name])  # the homepage named a feed: nothing probed
    found = world.remembered[site.name]["found"]
    assert found["feeds"] == [site.base + "/tin-rss/cong-doan.xml"] and found["sections"] == []


def test_a_sitemap_named_only_in_robots_txt_is_found_and_only_its_articles_stored(world: World) -> None:
    site = world.sites["chi-robots"]
    assert world.stored_paths(site.name) == site.articles  # not /cong-doan/ nor /gioi-thieu.html of the sitemap
    assert "/bandotin/news.xml" in world.first[site.name]
    assert not {p for p in world.first[site.name] if p in PROBES}  # the named sitemap worked: no probe asked
    assert world.remembered[site.name]["found"]["sitemaps"] == [site.base + "/bandotin/news.xml"]


def test_a_site_with_neither_is_read_through_its_sections_and_only_articles_are_stored(world: World) -> None:
    site = world.sites["chi-chuyen-muc"]
    stored = world.stored_paths(site.name)
    assert stored == site.articles  # every article (the paged one and the one added before the second poll) ...
    assert not [p for p in stored if p.startswith(NOT_ARTICLES) or p in SECTIONS]  # no menu, section, tag, about
    asked = world.first[site.name]
    assert "/cong-doan/?page=2" in asked  # the section was paged without a next: rule
    assert {p for p in asked if p in PROBES} == PROBES  # nothing worked, so every probe was asked ...
    assert [p for p, n in Counter(asked).items() if n > 1] == ["/robots.txt"]  # ... once; robots.txt twice
    found = world.remembered[site.name]["found"]
    assert found["sections"] == [site.base + "/", site.base + "/cong-doan/", site.base + "/thoi-su/"]
    assert found["families"] == ["<slug>-<id>.html"] and world.remembered[site.name]["worked"] is True


def test_the_second_poll_goes_straight_to_what_was_remembered(world: World) -> None:
    site = world.sites["chi-chuyen-muc"]
    first, second = world.first[site.name], world.second[site.name]
    assert world.stats[site.name][0]["unionfeed/discovery"] == "remembered"
    assert world.stats[site.name][1]["unionfeed/discovery"] == "rediscovered"
    # The remembered sections (conditionally), the new article, robots.txt once; no probe, no candidate page.
    assert sorted(second) == sorted(["/robots.txt", "/", "/cong-doan/", "/thoi-su/", world.added])
    assert len(second) < len(first) / 3
    for slug in ("chi-lien-ket-rss", "chi-robots"):
        assert not PROBES & set(world.second[slug]) and "/" not in world.second[slug]


def test_no_probe_or_discovered_url_leaves_the_boundary(world: World) -> None:
    site = world.sites["ngoai-bien"]
    assert world.elsewhere.hits == []
    assert world.stored_paths(site.name) == site.articles
    assert not [u for rows in world.rows.values() for u in rows if u.startswith(world.elsewhere.base)]
    first_run = world.stats[site.name][1]
    assert first_run["unionfeed/offsite_refused/discovered_feed"] == 1
    assert first_run["unionfeed/offsite_refused/discovered_sitemap"] == 1
    assert first_run["unionfeed/offsite_refused/redirect"] == 2  # /rss and /sitemap.xml redirect there


def test_status_shows_what_was_discovered(world: World) -> None:
    shown = world.status["chi-chuyen-muc"]["discovered"]
    assert shown["text"].startswith("0 feeds, 0 sitemaps, 3 sections")
    assert shown["worked"] is True and shown["found_at"]
    assert world.status["chi-lien-ket-rss"]["discovered"]["text"].startswith("1 feed, 0 sitemaps, 0 sections")
    table = run_cli("--config", str(world.settings.config), "--data", str(world.settings.data), "status", timeout=120)
    assert "discovered: 0 feeds, 1 sitemap, 0 sections" in " ".join(table.stdout.split())
