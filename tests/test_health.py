"""Source health judged against each source's own history, announced once, and the failing page kept.

Runs and articles live in a real SQLite store; the last tests crawl loopback sites that break for real.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feed.app.crawl_runner import crawl_in_child
from feed.config.settings import Settings, load_settings
from feed.config.sources import Source, load_sources, parse_sources
from feed.health.verdict import FAIL_RUNS, SourceHealth, run_figures, source_health
from feed.publish.status_files import refresh_health
from feed.records import Extracted
from feed.store.api import CrawlRun, Store

from .support.cli import run_cli
from .support.loopback_sites import Site, serve, source_entry, write_config

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
SLUG = "ldld-mau"


def stats(kind: str, extracted: int = 0, dated: int | None = None) -> dict[str, Any]:
    """A run's stats as the pipeline and middlewares record them."""
    dated = extracted if dated is None else dated
    base: dict[str, Any] = {
        "extracted": extracted,
        "field_title": extracted,
        "field_date": dated,
        "field_body": extracted,
    }
    if kind == "ok":
        return {
            **base,
            "found": 10,
            "unionfeed/discovery_ok": 1,
            "downloader/request_count": 2 + extracted,
            "downloader/response_status_count/200": 2 + extracted,
        }
    if kind == "unchanged":
        return {
            **base,
            "found": 0,
            "unionfeed/discovery_ok": 2,
            "unionfeed/not_modified": 2,
            "downloader/request_count": 2,
            "downloader/response_status_count/304": 2,
        }
    if kind == "failed":
        return {
            **base,
            "found": 0,
            "unionfeed/discovery_failed": 1,
            "downloader/request_count": 3,
            "downloader/response_status_count/500": 2,
            "downloader/response_status_count/200": 1,
        }
    assert kind == "empty"
    return {**base, "found": 0, "unionfeed/discovery_ok": 1, "downloader/response_status_count/200": 2}


class History:
    """Writes a source's past runs and articles into a real store."""

    def __init__(self, store: Store, slug: str = SLUG) -> None:
        self.store, self.slug, self.at = store, slug, NOW - timedelta(days=2)
        self.articles = 0

    def run(
        self,
        kind: str,
        *,
        reason: str = "finished",
        extracted: int = 0,
        dated: int | None = None,
        finished: bool = True,
    ) -> None:
        self.at += timedelta(hours=1)
        run_id = self.store.start_run(self.slug)
        if finished:
            self.store.finish_run(
                run_id,
                pages=2,
                new=extracted,
                updated=0,
                errors=int(kind == "failed"),
                finish_reason=reason,
                stats=stats(kind, extracted, dated),
            )
        with self.store.session() as s:
            row = s.get(CrawlRun, run_id)
            row.started_at = self.at
            row.finished_at = self.at + timedelta(seconds=30) if finished else None

    def runs(self, *kinds: str) -> None:
        for kind in kinds:
            self.run(kind)

    def publish(self, *ages: timedelta) -> None:
        """Articles published `age` before NOW."""
        for age in ages:
            self.articles += 1
            article = Extracted(
                url=f"https://ldld.example.vn/tin/{self.slug}-{self.articles}.html",
                title=f"Tin công đoàn số {self.articles}",
                body_text="Nội dung " * 30,
                published_at=NOW - age,
            )
            self.store.upsert(self.slug, article, fetched_at=NOW - age)


def source(slug: str = SLUG) -> Source:
    entry = {
        "slug": slug,
        "name": "Liên đoàn Lao động mẫu",
        "kind": "labour_federation",
        "homepage": "https://ldld.example.vn/",
        "discovery": {"feeds": ["https://ldld.example.vn/rss"]},
    }
    return parse_sources({"sources": [entry]})[0]


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store(f"sqlite:///{tmp_path / 'unionfeed.sqlite'}")
    yield s
    s.close()


def judge(store: Store) -> SourceHealth:
    return source_health(store, [source()], now=NOW)[0]


def codes(health: SourceHealth) -> list[str]:
    return [r.code for r in health.reasons]


# --- failing and empty runs ----------------------------------------------------------------------------------
def test_a_source_breaks_after_several_failed_runs_in_a_row(store: Store) -> None:
    history = History(store)
    history.runs("ok", "failed", "failed")
    assert judge(store).state == "ok" and judge(store).failing_runs == FAIL_RUNS - 1
    history.run("failed")
    health = judge(store)
    assert health.state == "broken" and codes(health) == ["failing"]
    assert "HTTP 500" in health.reasons[0].text and "lỗi" in health.reasons[0].text_vi
    history.run("ok")
    assert judge(store).state == "ok" and judge(store).failing_runs == 0


def test_runs_we_stopped_neither_break_nor_mend_a_streak(store: Store) -> None:
    history = History(store)
    history.runs("ok", "failed")
    history.run("ok", reason="shutdown")
    history.run("failed")
    history.run("ok", finished=False)  # killed long ago: abandoned
    history.run("ok", reason="retry_after")
    assert judge(store).failing_runs == 2 and judge(store).state == "ok"
    history.run("failed")
    assert judge(store).state == "broken"


def test_a_run_whose_process_died_counts_neither_way(store: Store) -> None:
    History(store).runs("ok", "failed", "failed")
    killed = store.start_run(SLUG)  # then kill -9: no process is left to record its end
    now = datetime.now(UTC)
    health = source_health(store, [source()], now=now)[0]
    assert health.last_run is not None and health.last_run.outcome == "running"
    assert health.state == "ok" and health.failing_runs == 2
    store.start_run(SLUG)  # the source's next crawl marks it abandoned at once, not after the time limit
    dead = run_figures(next(r for r in store.runs(SLUG) if r.id == killed), now, 1800)
    assert (dead.finish_reason, dead.outcome) == ("abandoned", "neutral")
    assert source_health(store, [source()], now=now)[0].failing_runs == 2


def test_runs_that_find_nothing_break_a_source(store: Store) -> None:
    History(store).runs("ok", "empty", "empty", "empty")
    health = judge(store)
    assert health.state == "broken" and codes(health) == ["empty"]


def test_polls_answered_304_are_healthy(store: Store) -> None:
    history = History(store)
    history.run("ok", extracted=5)
    history.runs(*["unchanged"] * 20)
    history.publish(*(timedelta(hours=6 * i) for i in range(1, 12)))
    health = judge(store)
    assert health.state == "ok" and health.reasons == [] and health.last_run.outcome == "unchanged"


def test_a_source_never_crawled_is_pending(store: Store) -> None:
    assert judge(store).state == "pending"


# --- coverage -----------------------------------------------------------------------------------------------
def test_field_coverage_falling_well_below_its_own_history_breaks_a_source(store: Store) -> None:
    history = History(store)
    for _ in range(6):
        history.run("ok", extracted=2)
    history.run("ok", extracted=2, dated=0)
    history.run("ok", extracted=2, dated=0)
    health = judge(store)
    assert health.state == "broken" and codes(health) == ["coverage"]
    assert "date found on 0% of recent articles (usually 100%)" in health.reasons[0].text
    assert health.coverage == {"title": 1.0, "date": 0.0, "body": 1.0}


def test_a_small_dip_in_coverage_is_not_a_breakage(store: Store) -> None:
    history = History(store)
    for _ in range(6):
        history.run("ok", extracted=2, dated=1)  # this source dates half its articles
    history.run("ok", extracted=4, dated=1)
    assert judge(store).state == "ok"


# --- silence ------------------------------------------------------------------------------------------------
def test_silence_is_judged_against_the_sources_own_rhythm(store: Store) -> None:
    history = History(store)
    history.run("unchanged")
    history.publish(*(timedelta(days=10 + i) for i in range(8)))  # daily until ten days ago
    health = judge(store)
    assert health.state == "broken" and codes(health) == ["silent"]
    assert health.reasons[0].text == "no new article for 10 days (long gaps are usually 24 hours)"


def test_a_small_union_quiet_for_weeks_is_normal(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'weekly.sqlite'}")
    history = History(store)
    history.run("unchanged")
    history.publish(*(timedelta(days=20 + 7 * i + (i % 3)) for i in range(8)))  # about weekly
    assert judge(store).state == "ok"
    store.close()


def test_quiet_days_are_normal_even_for_a_busy_source(store: Store) -> None:
    history = History(store)
    history.run("unchanged")
    history.publish(*(timedelta(days=2, hours=i) for i in range(30)))  # hourly, then two quiet days
    assert judge(store).state == "ok"


# --- announcing ---------------------------------------------------------------------------------------------
def settings_for(tmp_path: Path) -> Settings:
    return Settings(data=tmp_path, database_url=f"sqlite:///{tmp_path / 'unionfeed.sqlite'}")


def test_breaking_and_recovering_are_announced_once_each(tmp_path: Path, store: Store) -> None:
    settings = settings_for(tmp_path)
    history = History(store)
    capture = tmp_path / "captures" / SLUG / "discovery"
    capture.mkdir(parents=True)
    (capture / "discovery-abc.html.gz").write_bytes(gzip.compress("<html>trang lỗi</html>".encode()))
    history.runs("ok", "failed", "failed", "failed")
    for _ in range(3):
        refresh_health(store, settings, [source()], now=NOW)
    history.run("ok")
    for _ in range(2):
        refresh_health(store, settings, [source()], now=NOW + timedelta(hours=1))
    feed = feedparser.parse(str(tmp_path / "public" / "feeds" / "health.atom"))
    assert not feed.bozo
    assert [e.title for e in feed.entries] == [
        "Nguồn tin hoạt động trở lại: Liên đoàn Lao động mẫu",
        "Nguồn tin bị lỗi: Liên đoàn Lao động mẫu",
    ]
    assert len({e.id for e in feed.entries}) == 2
    assert "HTTP 500" in feed.entries[1].content[0].value
    status = json.loads((tmp_path / "public" / "status.json").read_text(encoding="utf-8"))
    assert status["counts"] == {"ok": 1}
    assert status["sources"][0]["since"] == (NOW + timedelta(hours=1)).isoformat()
    # The pages the crawl kept were copied aside when the source broke, with a note of why.
    kept = list((tmp_path / "broken" / SLUG).glob("*/discovery/discovery-abc.html.gz"))
    assert len(kept) == 1
    note = json.loads((kept[0].parents[1] / "broken.json").read_text(encoding="utf-8"))
    assert note["reasons"][0]["code"] == "failing"


def test_the_health_feed_has_whole_second_times_with_their_offset(tmp_path: Path, store: Store) -> None:
    settings = settings_for(tmp_path)
    history = History(store)
    history.runs("ok", "failed", "failed", "failed")
    odd = NOW + timedelta(microseconds=654321)  # the scheduler's clock is not whole seconds
    refresh_health(store, settings, [source()], now=odd)
    history.run("ok")
    refresh_health(store, settings, [source()], now=odd + timedelta(hours=1))
    raw = (tmp_path / "public" / "feeds" / "health.atom").read_text(encoding="utf-8")
    times = re.findall(r"<(published|updated)>([^<]*)</", raw)
    assert len(times) == 5 and "unionfeed — " not in raw  # the feed's updated, two entries' published and updated
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", t) for _, t in times), times
    feed = feedparser.parse(raw.encode("utf-8"))
    assert not feed.bozo and feed.feed.title == "Tình trạng nguồn tin"
    assert feed.feed.links[0].href == "http://127.0.0.1:8080/feeds/health.atom" or feed.feed.id.endswith(
        "/feeds/health.atom"
    )
    assert feed.entries[0].published == "2026-03-10T17:00:00+07:00"  # 10:00 UTC, the microseconds dropped
    assert [t.term for e in feed.entries for t in e.tags] == ["ok", "broken"]


# --- for real, over loopback ---------------------------------------------------------------------------------
def crawl(settings: Settings, site: Site) -> None:
    assert crawl_in_child(settings, [site.name]) == 0


def loopback(tmp_path: Path, site: Site) -> tuple[Settings, list[Source], Any]:
    server = serve([site])
    bases = server.__enter__()
    config = write_config(tmp_path / "config", [source_entry(site.name, bases[site.name])])
    return load_settings(config, tmp_path / "data"), load_sources(config), server


def test_a_redesigned_listing_breaks_the_source_and_leaves_its_page(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    site = Site("ldld-doi-giao-dien", articles=8, start=now - timedelta(days=2), gap=timedelta(hours=5))
    settings, sources, server = loopback(tmp_path, site)
    try:
        crawl(settings, site)
        site.mode = "redesign"
        for _ in range(FAIL_RUNS):
            crawl(settings, site)
        store = Store(settings.db_url)
        refresh_health(store, settings, sources)
        health = source_health(store, sources)[0]
        store.close()
    finally:
        server.__exit__(None, None, None)
    assert health.state == "broken" and [r.code for r in health.reasons] == ["empty"]
    kept = list((settings.data / "broken" / site.name).glob("*/discovery/*.html.gz"))
    assert len(kept) == 1
    page = gzip.decompress(kept[0].read_bytes()).decode("utf-8")
    assert 'class="cards"' in page  # the new markup, ready to become a fixture
    meta = json.loads(kept[0].with_name(kept[0].name.replace(".html.gz", ".json")).read_text(encoding="utf-8"))
    assert meta["url"].endswith("/tin-tuc/") and meta["status"] == 200
    result = run_cli("--config", str(settings.config), "--data", str(settings.data), "status")
    assert result.returncode == 8, result.stderr  # its only source is broken (issue 16: status says so in its code)
    assert site.name in result.stdout and "broken" in result.stdout and "found no article links" in result.stdout


def test_articles_losing_their_dates_break_the_source_and_leave_a_page(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    site = Site("ldld-mat-ngay", articles=12, start=now - timedelta(days=3), gap=timedelta(hours=5))
    settings, sources, server = loopback(tmp_path, site)
    try:
        crawl(settings, site)
        site.mode = "undated"
        site.add(3)
        crawl(settings, site)
        store = Store(settings.db_url)
        health = source_health(store, sources)[0]
        store.close()
    finally:
        server.__exit__(None, None, None)
    assert health.state == "broken" and [r.code for r in health.reasons] == ["coverage"]
    assert health.coverage is not None and health.coverage["date"] == 0.0
    saved = sorted((settings.data / "captures" / site.name / "last").glob("article-*.json"))
    reasons = {json.loads(p.read_text(encoding="utf-8"))["reason"] for p in saved}
    assert len(saved) == 3 and reasons == {"missing date"}
