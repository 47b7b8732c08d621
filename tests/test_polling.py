"""Polite, cheap polling over real HTTP on 127.0.0.1: conditional requests, 304s, Retry-After and 429.

Every crawl runs for real (Scrapy in a forked child, as the scheduler runs it) against the loopback sites
of tests/loopback_sites.py, which answer If-None-Match / If-Modified-Since like a well-configured CMS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from feed.app.crawl_runner import crawl_in_child
from feed.app.scheduler import Runner, next_due
from feed.config.settings import Settings, load_settings
from feed.config.sources import Source, load_sources
from feed.health.verdict import RunFigures, run_figures
from feed.store.api import Store
from unionfeed_scrapers.retry_after import retry_after_seconds

from .support.loopback_sites import Site, serve, source_entry, write_config


@dataclass
class World:
    site: Site
    settings: Settings
    source: Source

    def crawl(self, **kwargs: object) -> int:
        self.site.hits.clear()
        return crawl_in_child(self.settings, [self.site.name], **kwargs)  # type: ignore[arg-type]

    def last_run(self) -> RunFigures:
        store = Store(self.settings.db_url)
        try:
            return run_figures(store.runs(self.site.name, limit=1)[0], datetime.now(UTC), 60)
        finally:
            store.close()

    def stored(self) -> set[str]:
        store = Store(self.settings.db_url)
        try:
            return {url.rsplit("/", 1)[1] for url in store.known_urls(self.site.name)}
        finally:
            store.close()

    def article_hits(self) -> list[str]:
        return [h.path for h in self.site.hits_for("/tin-tuc/bai-")]

    def listing_statuses(self) -> list[tuple[str, int]]:
        """(query, status) of each listing request: "" for page 1, "page=2" and so on."""
        return [(urlsplit(h.path).query, h.status) for h in self.site.hits if urlsplit(h.path).path == "/tin-tuc/"]


def make_world(tmp_path: Path, site: Site, *, feed: bool = False) -> Iterator[World]:
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry(site.name, bases[site.name], feed=feed)])
        settings = load_settings(config, tmp_path / "data")
        yield World(site, settings, load_sources(config)[0])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path, Site("lien-doan-a", articles=12))


def test_unchanged_source_costs_its_discovery_requests_answered_304(world: World) -> None:
    assert world.crawl() == 0
    assert len(world.stored()) == 12
    assert world.crawl() == 0
    # robots.txt and the listing, both asked conditionally and both answered 304; no article fetched.
    assert [(h.path, h.status, h.conditional) for h in world.site.hits] == [
        ("/robots.txt", 304, True),
        ("/tin-tuc/", 304, True),
    ]
    run = world.last_run()
    assert (run.requests, run.statuses, run.not_modified, run.found, run.outcome) == (
        2,
        {"304": 2},
        1,
        0,
        "unchanged",
    )  # not_modified counts discovery pages only


def test_new_articles_fetch_only_themselves(world: World) -> None:
    world.crawl()
    world.site.add(2)
    world.crawl()
    assert sorted(world.article_hits()) == ["/tin-tuc/bai-13.html", "/tin-tuc/bai-14.html"]
    # Page 1 held new articles, so page 2 was read too; it held only known ones, so paging stopped there.
    assert world.listing_statuses() == [("", 200), ("page=2", 200)]
    run = world.last_run()
    assert (run.new, run.outcome) == (2, "ok")


def test_feed_and_listing_are_both_conditional(tmp_path: Path) -> None:
    for world in make_world(tmp_path, Site("bao-b", articles=6), feed=True):
        world.crawl()
        world.crawl()
        statuses = {h.path: h.status for h in world.site.hits}
        assert statuses == {"/robots.txt": 304, "/rss.xml": 304, "/tin-tuc/": 304}
        assert world.article_hits() == []


@pytest.mark.reliability("site-500")
def test_an_article_that_failed_for_a_passing_reason_is_retried_next_poll(world: World) -> None:
    world.site.failing = {11}
    world.crawl()
    assert "bai-11.html" not in world.stored()
    world.site.failing = set()
    world.crawl()
    # Page 1's validators were not kept, so it is fetched in full and the article is tried again;
    # page 2 (all of whose articles were stored) is still asked conditionally.
    assert world.listing_statuses() == [("", 200), ("page=2", 304)]
    assert world.article_hits() == ["/tin-tuc/bai-11.html"]
    assert "bai-11.html" in world.stored()
    world.crawl()
    assert world.article_hits() == [] and world.last_run().outcome == "unchanged"


def test_refetch_asks_for_everything_again(world: World) -> None:
    world.crawl()
    world.crawl(refetch=True)
    assert not any(h.conditional for h in world.site.hits)
    assert len(world.article_hits()) == 12


def test_robots_rules_still_apply_when_robots_txt_answers_304(tmp_path: Path) -> None:
    site = Site("cong-doan-c", articles=8, disallow=("/tin-tuc/bai-10.html",))
    for world in make_world(tmp_path, site):
        world.crawl()
        site.add(2)  # 9 and 10 appear; robots.txt forbids 10
        world.crawl()
        assert world.site.hits[0].path == "/robots.txt" and world.site.hits[0].status == 304
        assert world.article_hits() == ["/tin-tuc/bai-9.html"]


@pytest.mark.reliability("site-429-retry-after")
def test_short_retry_after_is_waited_for_then_the_crawl_goes_on(tmp_path: Path) -> None:
    site = Site("cong-doan-d", articles=3, throttle=1, retry_after="2")
    for world in make_world(tmp_path, site):
        assert world.crawl() == 0
        assert world.listing_statuses()[:2] == [("", 429), ("", 200)]
        assert len(world.stored()) == 3
        store = Store(world.settings.db_url)
        stats = store.runs(site.name, limit=1)[0].stats
        store.close()
        assert stats["unionfeed/throttled/429"] == 1
        assert stats["elapsed_time_seconds"] >= 2.0  # the whole site was held for the time asked


@pytest.mark.reliability("site-429-retry-after")
def test_long_retry_after_ends_the_run_and_defers_the_source(tmp_path: Path) -> None:
    site = Site("cong-doan-e", articles=3, throttle=100, retry_after="7200")
    for world in make_world(tmp_path, site):
        world.crawl()
        assert world.listing_statuses() == [("", 429)]  # asked once, not hammered
        run = world.last_run()
        assert run.finish_reason == "retry_after" and run.outcome == "neutral"
        assert run.retry_after_until is not None
        assert timedelta(minutes=119) < run.retry_after_until - datetime.now(UTC) <= timedelta(hours=2)
        store = Store(world.settings.db_url)
        try:
            due = next_due(world.source, store, timedelta(hours=1), datetime.now(UTC))
        finally:
            store.close()
        assert due == run.retry_after_until  # the scheduler's next poll waits for it
        runner = Runner(world.settings, [world.source])
        site.hits.clear()
        runner.run_source(site.name)
        assert site.hits == [] and runner.counts["deferred"] == 1


@pytest.mark.reliability("site-429-retry-after")
def test_retry_after_header_forms() -> None:
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds(format_datetime(now + timedelta(minutes=5), usegmt=True), now) == 300
    assert retry_after_seconds(format_datetime(now - timedelta(minutes=5), usegmt=True), now) == 0
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


def test_changing_a_sources_discovery_forgets_its_validators(world: World) -> None:
    world.crawl()
    config = world.settings.config
    config.write_text(config.read_text(encoding="utf-8").replace("max_pages: 5", "max_pages: 4"), encoding="utf-8")
    world.crawl()
    listing = [h for h in world.site.hits if h.path == "/tin-tuc/"]
    assert [(h.status, h.conditional) for h in listing] == [(200, False)]


@pytest.mark.reliability("crawl-kill9")
def test_after_an_unfinished_run_every_listing_page_is_read_again(world: World) -> None:
    """A killed run may have stored the newest articles but not older ones: the next poll must not stop paging
    at the first listing page whose articles are all known."""
    from feed.store.api import ArticleRow

    assert world.crawl() == 0 and len(world.stored()) == 12
    world.site.add(2)  # pages now: 14-10, 9-5, 4-1
    store = Store(world.settings.db_url)
    try:  # the gap a killed run can leave: articles 1-4 (listing page 3) not stored, the last run unfinished
        with store.session() as s:
            for row in s.query(ArticleRow).all():
                if row.url.rsplit("/", 1)[1] in {f"bai-{n}.html" for n in range(1, 5)}:
                    s.delete(row)
        store.start_run(world.site.name)
    finally:
        store.close()
    assert world.crawl() == 0
    assert len(world.stored()) == 14, "the articles below the unfinished run's were not fetched"
    assert sorted(world.article_hits()) == sorted(f"/tin-tuc/bai-{n}.html" for n in (1, 2, 3, 4, 13, 14))
    # Once a run has finished, polling stops again at the first listing page of known articles.
    world.site.add(1)
    assert world.crawl() == 0
    assert [q for q, _ in world.listing_statuses()] == ["", "page=2"]
    assert world.article_hits() == ["/tin-tuc/bai-15.html"]


@pytest.mark.reliability("store-refuses-write")
def test_an_article_the_store_refuses_is_fetched_again_next_poll(world: World) -> None:
    """SQLite refuses one article (a trigger raising, as a full or failing disk would): the crawl says so, keeps
    no validators and records the run as failed, so the next poll asks again and stores it."""
    store = Store(world.settings.db_url)
    try:
        with store.engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.url LIKE '%/bai-3.html' "
                "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
            )
    finally:
        store.close()
    assert world.crawl() == 4  # STORE_FAILED_EXIT
    assert "bai-3.html" not in world.stored() and len(world.stored()) == 11
    assert (world.last_run().finish_reason, world.last_run().outcome) == ("store_failed", "failed")
    store = Store(world.settings.db_url)
    try:
        with store.engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER refuse")
    finally:
        store.close()
    assert world.crawl() == 0
    assert len(world.stored()) == 12 and world.article_hits() == ["/tin-tuc/bai-3.html"]
    assert ("", 200) in world.listing_statuses()  # no validators were kept from the failed run: asked afresh
