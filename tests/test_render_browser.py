"""`render: browser`: a listing only JavaScript builds, read through Debian's headless Chromium over loopback.

One crawl (forked Scrapy child) reads two copies of a portal whose news list a script fetches as JSON and writes in
(tests/support/render_sites.py): one source fetched plainly ("needs JavaScript"), one with `render: browser`,
whose articles must be stored with their titles while its pages never reach another host (a tracker on
127.0.0.2). A source asking for the browser where it cannot run fails with one line naming what is missing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from feed.app.crawl_runner import crawl_in_child
from feed.config.settings import load_settings
from feed.config.sources import read_sources
from feed.store.api import Store
from unionfeed_scrapers.browser import CHROMIUM, launch_options, unavailable

from .support.loopback_sites import serve, write_config
from .support.needs import missing, program
from .support.render_sites import ScriptSite, Tracker, entry, serve_tracker

PLAIN, RENDERED = "noi-vu-thuong", "noi-vu-trinh-duyet"


def test_render_is_validated(tmp_path: Path) -> None:
    base = "http://127.0.0.1:9"
    good = write_config(tmp_path / "a", [entry("a", base, render="browser"), entry("b", base, render=None)])
    sources, problems = read_sources(good)
    assert problems == [] and [s.render for s in sources] == ["browser", "http"]
    bad = write_config(tmp_path / "b", [entry("c", base, render="chrome")])
    sources, problems = read_sources(bad)
    (problem,) = problems
    assert sources == [] and problem.field == "render" and "'http' or 'browser'" in problem.message


def test_a_missing_extra_or_chromium_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scrapy_playwright", None)  # import fails as when the extra is not installed
    assert unavailable() == (
        "render: browser needs the optional extra 'browser' (pip install 'unionfeed[browser]'): "
        "scrapy-playwright is not installed"
    )
    monkeypatch.delitem(sys.modules, "scrapy_playwright")
    if importlib.util.find_spec("scrapy_playwright") is None:
        missing("scrapy-playwright (the extra 'browser') is not installed")
    assert unavailable("/nowhere/chromium") == (
        "render: browser needs Chromium at /nowhere/chromium (apt-get install chromium): not found"
    )
    options = launch_options()
    assert options["executable_path"] == CHROMIUM and options["headless"] is True
    assert {"--disable-gpu", "--disable-extensions"} <= set(options["args"])


def test_a_source_whose_browser_cannot_run_fails_with_its_cause_and_asks_nothing(tmp_path: Path) -> None:
    site = ScriptSite(RENDERED, "quận Kịch Bản", articles=2)
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [entry(RENDERED, bases[RENDERED], render="browser")])
        settings = load_settings(config, tmp_path / "data")
        env = {"UNIONFEED_BROWSER_EXECUTABLE": "/nowhere/chromium"}
        assert crawl_in_child(settings, [RENDERED], timeout=60, env=env) == 0
    assert site.seen == []  # not fetched the plain way instead
    store = Store(settings.db_url)
    try:
        (error,) = store.page_errors(RENDERED)
        (run,) = store.runs(RENDERED)
    finally:
        store.close()
    assert error.error.startswith("render: browser needs ") and "\n" not in error.error
    assert run.finish_reason == "finished" and run.stats["unionfeed/discovery_failed"] == 1


@pytest.mark.reliability("site-render-browser")
def test_a_javascript_listing_is_read_through_the_browser_within_the_boundary(tmp_path: Path) -> None:
    program("chromium")
    if importlib.util.find_spec("scrapy_playwright") is None:
        missing("scrapy-playwright (the extra 'browser') is not installed")
    with serve_tracker(Tracker()) as tracker:
        sites = [
            ScriptSite(PLAIN, "quận Thường", articles=3, tracker=tracker.base),
            ScriptSite(RENDERED, "quận Kịch Bản", articles=3, tracker=tracker.base),
        ]
        with serve(sites) as bases:
            entries = [entry(PLAIN, bases[PLAIN], render=None), entry(RENDERED, bases[RENDERED], render="browser")]
            settings = load_settings(write_config(tmp_path / "config", entries), tmp_path / "data")
            assert crawl_in_child(settings, [PLAIN, RENDERED], timeout=120) == 0
    plain, rendered = sites
    store = Store(settings.db_url)
    try:
        titles = {slug: {row.title for row in store.articles(source_slug=slug)} for slug in (PLAIN, RENDERED)}
        errors = {slug: {e.url: e.error for e in store.page_errors(slug)} for slug in (PLAIN, RENDERED)}
        stats = {slug: store.runs(slug, limit=1)[0].stats for slug in (PLAIN, RENDERED)}
    finally:
        store.close()
    # Fetched plainly, the list is named as needing JavaScript; rendered, its articles are stored with their titles.
    ((_, plain_error),) = errors[PLAIN].items()
    assert titles[PLAIN] == set() and plain_error.startswith("needs JavaScript")
    assert titles[RENDERED] == {rendered.title(n) for n in (1, 2, 3)}
    assert errors[RENDERED] == {} and "unionfeed/needs_js" not in stats[RENDERED]
    # The browser ran the page's script (it asked for the JSON) and every page of the source came through it.
    paths = [s.path for s in rendered.seen]
    assert "/api/tin-tuc.json" in paths and "/api/tin-tuc.json" not in [s.path for s in plain.seen]
    assert sorted(p for p in paths if p.startswith("/tin-tuc/bai-")) == [f"/tin-tuc/bai-{n}.html" for n in (1, 2, 3)]
    # Nothing reached the other host: its script and pixel were aborted by the route guard, and counted.
    assert tracker.hits == []
    assert stats[RENDERED]["unionfeed/offsite_refused/browser"] >= 1
