"""Selectors are a hint (issue 13, part 4): a source whose selectors went stale keeps its articles, read by the
metadata and main-text layers, and health flags the selectors ("selectors stale", "bộ chọn không còn khớp").

The crawl is real Scrapy in a forked child over two loopback sites (tests/support/loopback_sites.py): one source
configured with an old layout's selectors that match nothing on its pages, one whose selectors match. The tests
read the store, the run's stats, the captured pages, `unionfeed status` (table and JSON), status.json,
feeds/health.atom and the index page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest

from feed.app.crawl_runner import crawl_in_child
from feed.config.settings import Settings, load_settings
from feed.health.verdict import RunFigures, selectors_flag
from feed.store.api import Store

from .support.cli import run_cli
from .support.loopback_sites import VN, Site, serve, source_entry, write_config

STALE = "ldld-bo-chon-cu"
FRESH = "ldld-bo-chon-dung"
ARTICLES = 4
STALE_SELECTORS = (
    "    selectors:\n      title: 'h1.tieu-de'\n      published: '.ngay-dang'\n      body: 'div.noi-dung'\n"
)
FRESH_SELECTORS = "    selectors:\n      title: 'article h1'\n      published: '.date'\n      body: 'div.content'\n"
FLAG_VI = "bộ chọn không còn khớp"


@dataclass
class Crawled:
    settings: Settings
    sites: dict[str, Site]
    bases: dict[str, str]
    articles: dict[str, dict[str, datetime | None]]  # slug -> title -> published
    stats: dict[str, dict[str, Any]]


def cli(settings: Settings, *args: str) -> Any:
    result = run_cli("--config", str(settings.config), "--data", str(settings.data), *args, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    tmp = tmp_path_factory.mktemp("selector-hint")
    start = datetime.now(VN).replace(second=0, microsecond=0) - timedelta(days=2)  # pages print minutes, VN time
    sites = {name: Site(name, articles=ARTICLES, start=start, gap=timedelta(hours=5)) for name in (STALE, FRESH)}
    with serve(list(sites.values())) as bases:
        entries = [
            source_entry(STALE, bases[STALE]) + STALE_SELECTORS,
            source_entry(FRESH, bases[FRESH]) + FRESH_SELECTORS,
        ]
        settings = load_settings(write_config(tmp / "config", entries), tmp / "data")
        assert crawl_in_child(settings, [STALE, FRESH], timeout=60) == 0
    store = Store(settings.db_url)
    try:
        articles: dict[str, dict[str, datetime | None]] = {}
        for row in store.articles():
            articles.setdefault(row.source_slug, {})[row.title or ""] = row.published_at
        stats = {run.source_slug: dict(run.stats or {}) for run in store.runs(limit=100)}
    finally:
        store.close()
    return Crawled(settings, sites, bases, articles, stats)


def test_stale_selectors_keep_the_articles_with_their_titles_and_dates(crawled: Crawled) -> None:
    for slug in (STALE, FRESH):
        site = crawled.sites[slug]
        expected = {site.title(n): site.published(n) for n in range(1, ARTICLES + 1)}
        found = crawled.articles.get(slug, {})
        assert set(found) == set(expected), (slug, found)
        for title, published in found.items():
            assert published is not None and published.astimezone(UTC) == expected[title].astimezone(UTC), title


def test_the_run_counts_the_misses_and_names_the_first_page(crawled: Crawled) -> None:
    stale = crawled.stats[STALE]
    assert stale["unionfeed/selectors_missed"] == ARTICLES and stale["extracted"] == ARTICLES
    assert stale["unionfeed/selectors_missed_url"].startswith(crawled.bases[STALE] + "/tin-tuc/bai-")
    assert stale.get("unionfeed/page_errors", 0) == 0 and stale["new"] == ARTICLES
    fresh = crawled.stats[FRESH]
    assert "unionfeed/selectors_missed" not in fresh and "unionfeed/selectors_missed_url" not in fresh


def test_the_pages_the_selectors_missed_are_captured(crawled: Crawled) -> None:
    saved = sorted((crawled.settings.data / "captures" / STALE / "last").glob("article-*.json"))
    assert len(saved) == ARTICLES
    reasons = {json.loads(p.read_text(encoding="utf-8"))["reason"] for p in saved}
    assert reasons == {"the title, body selectors missed"}
    assert all(p.with_name(p.name.replace(".json", ".html.gz")).is_file() for p in saved)
    assert not list((crawled.settings.data / "captures" / FRESH / "last").glob("article-*"))


@pytest.mark.reliability("site-selectors-stale")
def test_stale_selectors_are_flagged_everywhere_and_matching_ones_are_not(crawled: Crawled) -> None:
    settings = crawled.settings
    healths = {s["slug"]: s for s in json.loads(cli(settings, "status", "--json").stdout)["sources"]}
    stale, fresh = healths[STALE], healths[FRESH]
    assert stale["state"] == "ok" and stale["reasons"] == []  # the articles are read: not broken
    (flag,) = stale["flags"]
    assert flag["code"] == "selectors_stale"
    assert flag["text"].startswith(f"selectors stale: the source's selectors missed on {ARTICLES} of {ARTICLES}")
    assert flag["text_vi"].startswith(f"{FLAG_VI}: {ARTICLES}/{ARTICLES}")
    assert stale["last_run"]["selectors_missed"] == ARTICLES
    assert fresh["state"] == "ok" and fresh["flags"] == [] and fresh["last_run"]["selectors_missed"] == 0

    table = " ".join(cli(settings, "status").stdout.split())
    assert "selectors stale" in table and "0 of 2 sources broken" in table
    assert f"1 source(s) with stale selectors (articles still read): {STALE}" in table

    cli(settings, "status", "--write")
    written = {s["slug"]: s for s in json.loads((settings.public / "status.json").read_text("utf-8"))["sources"]}
    assert [f["code"] for f in written[STALE]["flags"]] == ["selectors_stale"] and written[FRESH]["flags"] == []
    feed = feedparser.parse((settings.public / "feeds" / "health.atom").read_bytes())
    assert not feed.bozo
    assert [e.title for e in feed.entries] == [f"Bộ chọn của nguồn tin không còn khớp: Công đoàn mẫu {STALE}"]
    assert FLAG_VI in feed.entries[0].content[0].value
    cli(settings, "status", "--write")  # announced once
    assert len(feedparser.parse((settings.public / "feeds" / "health.atom").read_bytes()).entries) == 1

    cli(settings, "publish")
    page = (settings.public / "index.html").read_text(encoding="utf-8")
    row = {slug: page.split(f'id="nguon-{slug}"', 1)[1].split("</tr>", 1)[0] for slug in (STALE, FRESH)}
    assert "Bộ chọn không còn khớp" in row[STALE] and FLAG_VI in row[STALE] and "state-stale" in row[STALE]
    assert "bộ chọn" not in row[FRESH].lower() and "state-ok" in row[FRESH]


def figures(extracted: int, missed: int, outcome: str = "ok") -> RunFigures:
    now = datetime.now(UTC)
    return RunFigures(
        run_id=1, started_at=now, finished_at=now, finish_reason="finished", outcome=outcome, requests=2 + extracted,
        statuses={"200": 2 + extracted}, not_modified=0, found=extracted, new=extracted, updated=0, errors=0,
        extracted=extracted, fields={}, selectors_missed=missed,
        selectors_missed_url="http://127.0.0.1/a" if missed else None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("extracted", "missed", "flagged"),
    [(4, 4, True), (4, 2, True), (5, 2, False), (1, 1, False), (3, 1, False), (10, 5, True), (10, 0, False)],
)
def test_the_rule_at_least_half_of_the_pages_and_at_least_two(extracted: int, missed: int, flagged: bool) -> None:
    assert (selectors_flag([figures(extracted, missed)]) is not None) == flagged


def test_the_rule_reads_the_newest_run_that_read_pages() -> None:
    # A run with nothing new (or a neutral one) keeps the newest verdict; a run whose selectors matched clears it.
    assert selectors_flag([figures(0, 0, "unchanged"), figures(3, 3, "neutral"), figures(4, 3)]) is not None
    assert selectors_flag([figures(4, 0), figures(4, 4)]) is None
