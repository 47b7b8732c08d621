"""Bounded discovery and pages, over real HTTP on loopback (issue 17, part 3; tests/reliability/52-bounds.yaml).

Two crawls (Scrapy in a forked child, the sources of each in that one process, as the scheduler runs them) go over
the six sites of tests/support/bounds_sites.py: a gzipped sitemap, an index of 3,000 children, an endless chain of
indexes and two indexes naming each other in one; an article 100,000 <div>s deep and a 9 MB article on one line in
the other. The tests read the store, the requests each site answered, the crawl process's peak memory,
`unionfeed status --json` and the feeds `unionfeed publish` writes. Unit tests of feed.extract.bounds come first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feed.app.crawl_runner import crawl_in_child
from feed.config.settings import Settings, load_settings
from feed.extract.article import extract
from feed.extract.bounds import BODY_MAX_CHARS, cap_body, flatten_deep, trim_runs
from feed.store.api import ArticleRow, CrawlRun, PageError, Store
from unionfeed_scrapers.page_bounds import PEAK_RSS
from unionfeed_scrapers.sitemaps import MAX_CHILDREN, MAX_DEPTH

from .support.bounds_sites import (
    NESTED_DIVS,
    WIDE_CHILDREN,
    BoundsSite,
    bounds_sites,
    huge_line,
    prose,
    serve,
    source_entry,
    title,
)
from .support.cli import run_cli
from .support.loopback_sites import write_config

MB = 1024 * 1024
PEAK_LIMIT = 400 * MB  # the crawl child's resident peak; the 9 MB page alone took 547 MB before the cap


@dataclass
class Crawled:
    settings: Settings
    sites: dict[str, BoundsSite]
    exit_code: int
    peak: int  # bytes: the crawl process's resident peak (unionfeed_scrapers.page_bounds.PeakMemory)
    articles: list[ArticleRow]
    runs: dict[str, CrawlRun]
    errors: list[PageError]
    status: dict[str, dict[str, Any]]
    publish_code: int | None

    def titles(self, slug: str) -> set[str]:
        return {row.title or "" for row in self.articles if row.source_slug == slug}

    def stats(self, slug: str) -> dict[str, Any]:
        return self.runs[slug].stats


def cli(settings: Settings, *args: str) -> Any:
    return run_cli("--config", str(settings.config), "--data", str(settings.data), *args, timeout=120)


def crawl(root: Path, sites: dict[str, BoundsSite], *, publish: bool = False) -> Crawled:
    """Crawl these sites in one forked child, then read the store and `unionfeed status --json` (and publish)."""
    with serve(list(sites.values())) as bases:
        config = write_config(root / "config", [source_entry(sites[n], b) for n, b in bases.items()])
        settings = load_settings(config, root / "data")
        code = crawl_in_child(settings, list(bases), timeout=120)
    store = Store(settings.db_url)
    try:
        runs = {run.source_slug: run for run in store.runs(limit=100)}
        articles, errors = store.articles(), store.page_errors(limit=100)
    finally:
        store.close()
    status = cli(settings, "status", "--json")
    assert status.returncode == 0, status.stderr[-2000:]
    by_slug = {s["slug"]: s for s in json.loads(status.stdout)["sources"]}
    published = cli(settings, "publish").returncode if publish else None
    peak = max(int(run.stats.get(PEAK_RSS, 0)) for run in runs.values())  # the crawl process's peak, in bytes
    return Crawled(settings, sites, code, peak, articles, runs, errors, by_slug, published)


@pytest.fixture(scope="module")
def sitemaps(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """The four sitemap sites, crawled together."""
    sites = {s.name: s for s in bounds_sites() if s.name.startswith("sitemap-")}
    return crawl(tmp_path_factory.mktemp("sitemaps"), sites)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """The two sites with a hostile article page, crawled together, then published."""
    sites = {s.name: s for s in bounds_sites() if s.name.startswith("bai-")}
    return crawl(tmp_path_factory.mktemp("pages"), sites, publish=True)


def ordinary(slug: str) -> set[str]:
    return {title(slug, n) for n in (1, 2, 3)}


# --- the bounds, without a crawl -------------------------------------------------------------------------------
def test_a_long_body_is_cut_at_a_paragraph_end_else_a_sentence_end() -> None:
    paragraphs = ["Đoạn một " * 10, "Đoạn hai " * 10, "Đoạn ba " * 10]
    assert cap_body(paragraphs, 10_000) == (paragraphs, None)
    kept, whole = cap_body(paragraphs, 200)
    assert kept == paragraphs[:2] and whole == sum(map(len, paragraphs)) + 4
    one = "Công nhân được hỗ trợ tiền tàu xe về quê. " * 50
    kept, whole = cap_body([one], 1000)
    assert whole == len(one) and len(kept[0]) <= 1000 and kept[0].endswith("về quê.")


def test_nesting_deeper_than_the_parser_reads_is_flattened_and_keeps_every_word() -> None:
    page = "<html><body>" + "<div>" * 1000 + "<p>chữ ở đáy</p>" + "</div>" * 1000 + "<p>đoạn sau</p></body></html>"
    flat, removed = flatten_deep(page)
    assert removed == 2 * (1000 - 158)  # html and body count: 160 levels kept
    assert "chữ ở đáy" in flat and flat.index("chữ ở đáy") < flat.index("đoạn sau")
    shallow = "<html><body>" + "<div><p>một</p></div>" * 300 + "</body></html>"
    assert flatten_deep(shallow) == (shallow, 0)  # many elements side by side are not deep
    script = "<script>" + "'<div>'+" * 500 + "''</script>"
    assert flatten_deep("<html><body>" + script + "</body></html>")[1] == 0


def test_comments_and_raw_text_hide_their_tags_from_the_depth_count_to_their_close_or_the_page_end() -> None:
    deep = "<div>" * 200
    # Tags inside a comment, a script or a style never count, whatever case the closing tag is written in.
    for hidden in (
        f"<!-- {deep} -->",
        f"<!--- {deep} --->",
        f"<SCRIPT>var s = '{deep}';</script >",
        f"<style>/* {deep} </styl> */</STYLE\n>",
        f"<textarea>{deep}</textarea>",
        f"<!-- {deep}",  # a comment never closed runs to the end of the page
        f"<script>{deep}",
    ):
        page = f"<html><body><p>Công đoàn cơ sở</p>{hidden}</body></html>"
        assert flatten_deep(page) == (page, 0), hidden[:20]
    # After a closed comment or script, tags count again: the same 200 levels are flattened.
    for before in ("<!-- ghi chú -- vẫn là ghi chú -->", "<script>if (a < b) { x = '</div>'; }</script>"):
        page = f"<html><body>{before}{deep}<p>Người lao động</p>{'</div>' * 200}</body></html>"
        flat, removed = flatten_deep(page)
        assert removed == 2 * (200 - 158) and "Người lao động" in flat and before in flat


def test_one_endless_line_is_cut_before_it_is_parsed() -> None:
    line = huge_line()
    page = f"<html><body><h1>Tiêu đề</h1><p>{line}</p></body></html>"
    cut, dropped = trim_runs(page)
    assert dropped > 0 and len(cut) < 3 * BODY_MAX_CHARS and cut.endswith("</p></body></html>")


def test_an_article_under_100k_divs_is_read() -> None:
    nested = "<div>" * NESTED_DIVS + prose(4) + "</div>" * NESTED_DIVS
    head = "<html><head><title>Bài lồng sâu</title></head>"
    page = f"{head}<body><article><h1>Bài lồng sâu</h1>{nested}</article></body></html>"
    got = extract(page.encode(), "http://127.0.0.1/tin-tuc/bai-4.html")
    assert got.error is None and "suất quà cho công nhân" in got.body_text


# --- the crawl ---------------------------------------------------------------------------------------------------
@pytest.mark.reliability("sitemap-gzip")
def test_a_gzipped_sitemap_is_read(sitemaps: Crawled) -> None:
    slug = "sitemap-nen-gzip"
    assert sitemaps.titles(slug) == ordinary(slug)
    assert not [e for e in sitemaps.errors if e.source_slug == slug]
    assert sitemaps.status[slug]["last_run"]["outcome"] == "ok"


@pytest.mark.reliability("sitemap-gzip")
def test_a_gzipped_sitemap_named_in_robots_is_discovered_and_read(sitemaps: Crawled) -> None:
    slug = "sitemap-gzip-robots"  # a homepage-only source: discovery reads what robots.txt names
    assert sitemaps.sites[slug].asked("/sitemap.xml.gz") == ["/sitemap.xml.gz"]
    # Read and kept as the source's sitemap (its entries are followed once they match the article URL shape the
    # homepage shows; this homepage's three links are too few to show one).
    assert sitemaps.stats(slug)["unionfeed/discovery/sitemaps"] == 1


@pytest.mark.reliability("sitemap-wide-index")
def test_an_index_of_3000_children_is_followed_newest_first_up_to_the_limit(sitemaps: Crawled) -> None:
    slug = "sitemap-3000-con"
    site = sitemaps.sites[slug]
    assert len(site.asked("/sm/")) == MAX_CHILDREN  # not 3,000
    assert len(site.hits) <= MAX_CHILDREN + 6  # robots.txt, the index, the children, 3 articles
    assert sitemaps.titles(slug) == ordinary(slug)
    stats = sitemaps.stats(slug)
    assert stats["unionfeed/sitemap_capped/children"] == WIDE_CHILDREN - MAX_CHILDREN
    bounds = sitemaps.status[slug]["last_run"]["bounds"]
    assert bounds["sitemap_children_skipped"] == WIDE_CHILDREN - MAX_CHILDREN
    assert bounds["sitemap_capped_url"].endswith("/sitemap.xml")
    # Newest lastmod first: every child asked was one of the index's December entries.
    months = {int(p[len("/sm/") : -len(".xml")]) % 12 for p in site.asked("/sm/")}
    assert months == {11}


@pytest.mark.reliability("sitemap-endless-chain")
def test_an_endless_chain_of_indexes_stops_at_the_depth_limit(sitemaps: Crawled) -> None:
    slug = "sitemap-chuoi-vo-tan"
    site = sitemaps.sites[slug]
    assert sorted(site.asked("/idx/")) == [f"/idx/{n}.xml" for n in range(1, MAX_DEPTH + 1)]
    assert sitemaps.titles(slug) == ordinary(slug)
    assert sitemaps.stats(slug)["unionfeed/sitemap_capped/depth"] >= 1
    assert sitemaps.runs[slug].finish_reason == "finished"  # not the crawl time limit


@pytest.mark.reliability("sitemap-loop")
def test_an_index_leading_back_to_one_read_is_a_loop_counted_and_not_followed(sitemaps: Crawled) -> None:
    slug = "sitemap-vong-lap"
    site = sitemaps.sites[slug]
    assert site.asked("/sitemap") == ["/sitemap.xml", "/sitemap-2.xml"]
    assert sitemaps.titles(slug) == ordinary(slug)
    assert sitemaps.stats(slug)["unionfeed/sitemap_loop"] == 1
    assert sitemaps.status[slug]["last_run"]["bounds"]["sitemap_loops"] == 1


@pytest.mark.reliability("page-deep-nesting")
def test_an_article_100k_divs_deep_is_stored(pages: Crawled) -> None:
    slug = "bai-long-sau"
    assert pages.titles(slug) == {title(slug, 1), title("lồng sâu", 2), title(slug, 3)}
    deep = next(a for a in pages.articles if a.source_slug == slug and a.url.endswith("/bai-2.html"))
    assert "suất quà cho công nhân" in (deep.body_text or "")


@pytest.mark.reliability("page-huge-line")
def test_a_9_mb_line_is_kept_cut_and_flagged_and_never_published_whole(pages: Crawled) -> None:
    slug = "bai-9-mb"
    assert pages.exit_code == 0
    assert 0 < pages.peak < PEAK_LIMIT, f"the crawl child peaked at {pages.peak // MB} MB"
    assert pages.titles(slug) == {title(slug, 1), title(slug, 2), title("trang khổng lồ", 3)}
    huge = next(a for a in pages.articles if a.source_slug == slug and a.url.endswith("/bai-3.html"))
    body = huge.body_text or ""
    assert 0.9 * BODY_MAX_CHARS < len(body) <= BODY_MAX_CHARS and body.endswith(".")
    stats = pages.stats(slug)
    assert stats["unionfeed/body_cut"] == 1 and stats["unionfeed/body_cut_url"].endswith("/tin-tuc/bai-3.html")
    assert pages.status[slug]["last_run"]["bounds"]["body_cut"] == 1
    assert pages.publish_code == 0
    feed = pages.settings.public / "feeds" / "all.atom"
    assert feed.stat().st_size < 2 * MB
    parsed = feedparser.parse(feed.read_bytes())
    assert not parsed.bozo and title("trang khổng lồ", 3) in {e.title for e in parsed.entries}


def test_sources_without_a_bound_met_show_none(sitemaps: Crawled, pages: Crawled) -> None:
    assert sitemaps.status["sitemap-nen-gzip"]["last_run"]["bounds"] is None
    assert pages.status["bai-long-sau"]["last_run"]["bounds"] is None
