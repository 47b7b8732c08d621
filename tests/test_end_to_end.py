"""Real Scrapy over real HTTP on 127.0.0.1 into a real SQLite file, then publish, then real feed parsers."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest

from feed.config.settings import load_settings
from feed.lang.urls import canonicalize_url
from feed.store.api import Store

from .support.cli import run_cli
from .support.demo_world import DemoWorld

FEEDS = ("all", "meetings")


@pytest.fixture(scope="module")
def crawled(demo_world: DemoWorld) -> DemoWorld:
    args = ("--config", str(demo_world.sources_file), "--data", str(demo_world.data))
    crawl = run_cli(*args, "crawl")
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    # --log-level defaults to WARNING: no DEBUG/INFO chatter (Scrapy logs every item, body and all, at DEBUG).
    assert not [line for line in crawl.stderr.splitlines() if " DEBUG " in line or "Scraped from" in line]
    publish = run_cli(*args, "publish")
    assert publish.returncode == 0, publish.stderr[-3000:]
    return demo_world


def store_for(world: DemoWorld) -> Store:
    return Store(load_settings(world.sources_file, world.data).db_url)


def pages(world: DemoWorld, **match: Any) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in world.expected.items() if all(v.get(f) == x for f, x in match.items())}


def test_every_article_stored_with_its_fields(crawled: DemoWorld) -> None:
    store = store_for(crawled)
    rows = {r.canonical_url: r for r in store.articles()}
    store.close()
    for key, truth in pages(crawled).items():
        if truth.get("broken"):
            continue
        row = rows.get(canonicalize_url(crawled.url(key)))
        assert row is not None, f"{key} was not stored"
        assert row.title == truth["title"], key
        assert row.published_at == datetime.fromisoformat(truth["published_at"]), key
        assert row.body_text, key
        if truth.get("syndicated_from"):
            assert row.syndicated_from, key


def test_broken_page_is_recorded_not_fatal(crawled: DemoWorld) -> None:
    store = store_for(crawled)
    runs = store.last_runs()
    errors = store.page_errors()
    store.close()
    broken = [crawled.url(k) for k, v in crawled.expected.items() if v.get("broken")]
    assert broken, "the sample sites must include a broken page"
    assert {canonicalize_url(e.url) for e in errors} >= {canonicalize_url(u) for u in broken}
    assert all(run.finish_reason == "finished" for run in runs.values())
    assert set(runs) == {"ldld-demo", "baotinh-demo", "cdnganh-demo"}


@pytest.mark.parametrize("name", FEEDS)
@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feeds_parse_cleanly_newest_first(crawled: DemoWorld, name: str, fmt: str) -> None:
    parsed = feedparser.parse(str(crawled.data / "public" / "feeds" / f"{name}.{fmt}"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.entries
    ids = [e.id for e in parsed.entries]
    assert len(ids) == len(set(ids))
    times = [e.published_parsed for e in parsed.entries]
    assert times == sorted(times, reverse=True)
    for entry in parsed.entries:
        assert entry.title and entry.link.startswith("http://127.0.0.1:")


def test_meetings_feed_holds_exactly_the_meeting_reports(crawled: DemoWorld) -> None:
    parsed = feedparser.parse(str(crawled.data / "public" / "feeds" / "meetings.atom"))
    got = {canonicalize_url(e.link) for e in parsed.entries}
    reports = pages(crawled, is_meeting_report=True)
    copies = {k for k, v in reports.items() if v.get("syndicated_from")}
    want = {canonicalize_url(crawled.url(k)) for k in reports if k not in copies}
    assert got == want
    # The syndicated copy is listed as another place of its origin's entry, not as an entry of its own.
    for key in copies:
        assert canonicalize_url(crawled.url(key)) not in got
        origin_entries = [e for e in parsed.entries if crawled.url(key) in e.get("content", [{}])[0].get("value", "")]
        assert len(origin_entries) == 1, "origin entry should say 'Cũng đăng tại' with the copy's link"


def test_json_feed_and_snapshot_follow_their_schemas(crawled: DemoWorld) -> None:
    public = crawled.data / "public"
    feed = json.loads((public / "feeds" / "meetings.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert all(item["id"] and item["date_published"].endswith("+07:00") for item in feed["items"])
    snapshot = json.loads((public / "snapshots" / "latest.json").read_text(encoding="utf-8"))
    schema = json.loads((public / "snapshots" / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(snapshot)
    assert snapshot["count"] == len(snapshot["articles"]) == len(pages(crawled)) - len(pages(crawled, broken=True))


def test_index_page_lists_meetings_in_vietnamese(crawled: DemoWorld) -> None:
    html = (crawled.data / "public" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in html and "Hội nghị mới nhất" in html
    for key, truth in pages(crawled, is_meeting_report=True).items():
        if not truth.get("syndicated_from"):
            assert truth["title"].replace("&", "&amp;").replace('"', "&quot;") in html, key


def test_second_crawl_finds_nothing_new_and_keeps_ids(crawled: DemoWorld) -> None:
    public = crawled.data / "public" / "feeds" / "all.atom"
    before = [(e.id, e.link, e.published) for e in feedparser.parse(str(public)).entries]
    args = ("--config", str(crawled.sources_file), "--data", str(crawled.data))
    assert run_cli(*args, "crawl").returncode == 0
    assert run_cli(*args, "publish").returncode == 0
    after = [(e.id, e.link, e.published) for e in feedparser.parse(str(public)).entries]
    assert after == before
    store = store_for(crawled)
    runs = store.runs(limit=3)
    store.close()
    assert all(run.new == 0 and run.updated == 0 for run in runs)
    # Known articles are not fetched again: only discovery pages (and robots.txt) are requested.
    assert all(run.stats.get("unionfeed/skipped_known", 0) > 0 for run in runs)


def test_status_command(crawled: DemoWorld) -> None:
    result = run_cli("--config", str(crawled.sources_file), "--data", str(crawled.data), "status")
    assert result.returncode == 0, result.stderr
    assert "ldld-demo" in result.stdout and "articles stored" in result.stdout


def _feed_files(public: Path) -> list[Path]:
    return sorted((public / "feeds").rglob("*.atom")) + sorted((public / "feeds").rglob("*.rss"))


def test_every_published_feed_is_well_formed(crawled: DemoWorld) -> None:
    files = _feed_files(crawled.data / "public")
    assert len(files) >= 2 * (len(FEEDS) + 7)
    for path in files:
        parsed = feedparser.parse(str(path))
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
