"""Real-world obstacles, over real HTTP on loopback: cookie gates passed or named, pages that need JavaScript named.

One crawl (Scrapy in a forked child, every source in that one process, as the scheduler runs it) goes over five
loopback sites (tests/support/obstacle_sites.py): two behind a cookie gate that lifts once its cookie is sent
(the laodong.vn markup and the gov.vn variant), one whose gate never lifts, one whose listing only a script
builds, and an ordinary site. The tests read the SQLite store it wrote, every request each site saw (with its
Cookie header), `unionfeed status`, status.json, feeds/health.atom and the index page.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import feedparser
import pytest
from scrapy.http import HtmlResponse, Request

from feed.app.crawl_runner import crawl_in_child
from feed.config.settings import Settings, load_settings
from feed.health.verdict import FAIL_RUNS
from feed.store.api import ArticleRow, CrawlRun, PageError, Store
from unionfeed_scrapers.cookie_gate import read_gate
from unionfeed_scrapers.js_pages import script_builder

from .support.cli import run_cli
from .support.loopback_sites import serve, source_entry, write_config
from .support.obstacle_sites import GOV_GATE, JS_LISTINGS, LAODONG_GATE, ObstacleSite, obstacle_sites

GATED = ("ldo-cong-cookie", "gov-cong-cookie")
SHUT = "cong-khong-mo"
JS = "chi-javascript"
PLAIN = "trang-thuong"


@dataclass
class Crawled:
    settings: Settings
    sites: dict[str, ObstacleSite]
    bases: dict[str, str]
    exit_code: int
    articles: list[ArticleRow]
    runs: dict[str, list[CrawlRun]]
    errors: list[PageError]
    status: dict[str, dict[str, Any]]

    def titles(self, slug: str) -> set[str]:
        return {row.title or "" for row in self.articles if row.source_slug == slug}

    def errors_of(self, slug: str) -> dict[str, str]:
        return {e.url: e.error for e in self.errors if e.source_slug == slug}

    def stats(self, slug: str) -> dict[str, Any]:
        return self.runs[slug][0].stats


def read_store(settings: Settings) -> tuple[list[ArticleRow], dict[str, list[CrawlRun]], list[PageError]]:
    store = Store(settings.db_url)
    try:
        runs: dict[str, list[CrawlRun]] = {}
        for run in store.runs(limit=1000):
            runs.setdefault(run.source_slug, []).append(run)
        return store.articles(), runs, store.page_errors(limit=1000)
    finally:
        store.close()


def cli(settings: Settings, *args: str) -> Any:
    return run_cli("--config", str(settings.config), "--data", str(settings.data), *args, timeout=120)


def status_json(settings: Settings) -> dict[str, dict[str, Any]]:
    result = cli(settings, "status", "--json")
    healths = {s["slug"]: s for s in json.loads(result.stdout)["sources"]}
    broken = sum(h["state"] == "broken" for h in healths.values())
    assert result.returncode == (0 if not broken else 7 if broken < len(healths) else 8), result.stderr[-2000:]
    return healths


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    root = tmp_path_factory.mktemp("obstacles")
    sites = {s.name: s for s in obstacle_sites()}
    with serve(list(sites.values())) as bases:
        config = write_config(root / "config", [source_entry(n, b) for n, b in bases.items()])
        settings = load_settings(config, root / "data")
        code = crawl_in_child(settings, list(bases), timeout=120)
        articles, runs, errors = read_store(settings)
        yield Crawled(settings, sites, bases, code, articles, runs, errors, status_json(settings))


# --- recognising the obstacles (no crawl) ---------------------------------------------------------------------
def test_gate_pages_are_recognised_and_their_cookie_read() -> None:
    laodong = LAODONG_GATE.format(name="D1N", value="8f3a9c0b2e71d4a65b0c9e1f7a2d3c48").encode()
    assert len(laodong) == 177  # the size of the real page
    assert read_gate(laodong, "text/html").cookies == {"D1N": "8f3a9c0b2e71d4a65b0c9e1f7a2d3c48"}  # type: ignore[union-attr]
    gov = GOV_GATE.format(name="TS01", value="0a1b", path="/tin-tuc/").encode()
    assert read_gate(gov, None).cookies == {"TS01": "0a1b"}  # type: ignore[union-attr]
    reload_only = (
        b"<html><body><script>document.cookie='BIGipX=77'+'; path=/';location.reload();</script></body></html>"
    )
    assert read_gate(reload_only).cookies == {"BIGipX": "77"}  # type: ignore[union-attr]
    computed = b'<html><body><script>document.cookie="k="+btoa(navigator.userAgent);location.reload()</script></body>'
    assert read_gate(computed) is not None and read_gate(computed).cookies == {}  # type: ignore[union-attr]
    # Not gates: a page with content of its own, a cookie script without a reload, a large page, JSON.
    shown = b'<html><body><h1>Tin</h1><script>document.cookie="a=b";location.reload()</script></body></html>'
    assert read_gate(shown) is None
    assert read_gate(b'<html><body><script>document.cookie="consent=1";</script></body></html>') is None
    assert read_gate(laodong + b"<!--" + b"x" * 5000 + b"-->") is None
    assert read_gate(laodong, "application/json") is None


@pytest.mark.parametrize("kind", sorted(JS_LISTINGS))
def test_pages_built_by_script_are_told_from_plain_ones(kind: str) -> None:
    def page(body: str) -> HtmlResponse:
        html = f'<!doctype html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'
        return HtmlResponse("http://127.0.0.1/tin-tuc/", body=html.encode(), request=Request("http://127.0.0.1/"))

    assert script_builder(page(JS_LISTINGS[kind])) is not None
    plain = '<ul class="news-list"><li><a class="title" href="/tin-tuc/bai-1.html">Bài 1</a></li></ul>'
    assert script_builder(page(plain + '<script src="/analytics.js"></script>')) is None
    assert script_builder(page('<div id="root"><p>Đã có nội dung</p></div><script src="/a.js"></script>')) is None


# --- the crawl ------------------------------------------------------------------------------------------------
@pytest.mark.reliability("site-cookie-gate")
def test_a_cookie_gate_is_passed_once_per_host_and_the_articles_are_stored(crawled: Crawled) -> None:
    assert crawled.exit_code == 0
    for slug in GATED:
        site = crawled.sites[slug]
        assert crawled.titles(slug) == {site.title(n) for n in range(1, site.articles + 1)}
        assert crawled.errors_of(slug) == {}
        # One gate for the whole run: the listing asked again with the cookie, every article asked once with it.
        assert site.gates() == 1, [s.path for s in site.seen]
        name, value = site.cookie
        passed = [s for s in site.seen if not s.path.startswith("gate:") and s.path != "/robots.txt"]
        assert sorted(s.path for s in passed) == sorted(
            ["/tin-tuc/", *(f"/tin-tuc/bai-{n}.html" for n in range(1, site.articles + 1))]
        )
        assert all(s.cookie == f"{name}={value}" and s.status == 200 for s in passed), passed
        stats = crawled.stats(slug)
        assert stats["unionfeed/cookie_gate_passed"] == 1 and "unionfeed/cookie_gate" not in stats
        health = crawled.status[slug]
        assert health["last_run"]["outcome"] == "ok" and health["last_run"]["new"] == site.articles
        assert health["last_run"]["cause"] is None and health["reasons"] == []
    # Each source keeps its own jar: no request of one gated site carried the other's cookie.
    for slug, other in (GATED, GATED[::-1]):
        foreign = crawled.sites[other].cookie[0]
        assert not any(s.cookie and foreign in s.cookie for s in crawled.sites[slug].seen)


@pytest.mark.reliability("site-cookie-gate")
def test_a_gate_that_never_lifts_drops_the_page_and_names_the_cause(crawled: Crawled) -> None:
    site = crawled.sites[SHUT]
    listing = crawled.bases[SHUT] + "/tin-tuc/"
    # Asked without the cookie, then once with it: then given up (not asked again and again).
    assert [(s.path, s.cookie) for s in site.seen] == [
        ("/robots.txt", None),
        ("gate:/tin-tuc/", None),
        ("gate:/tin-tuc/", "D1N=8f3a9c0b2e71d4a65b0c9e1f7a2d3c48"),
    ]
    assert crawled.titles(SHUT) == set()
    (error,) = crawled.errors_of(SHUT).items()
    assert error[0] == listing and error[1].startswith(f"cookie gate: {listing}"), error
    stats = crawled.stats(SHUT)
    assert stats["unionfeed/cookie_gate"] == 1 and stats["unionfeed/cookie_gate_url"] == listing
    run = crawled.status[SHUT]["last_run"]
    assert run["outcome"] == "failed"
    assert run["cause"]["code"] == "cookie_gate" and run["cause"]["url"] == listing
    assert "cookie gate" in run["cause"]["text"] and "bị chặn bởi cookie" in run["cause"]["text_vi"]


@pytest.mark.reliability("site-needs-javascript")
def test_a_listing_only_javascript_builds_is_named(crawled: Crawled) -> None:
    listing = crawled.bases[JS] + "/tin-tuc/"
    assert crawled.titles(JS) == set()
    assert list(crawled.errors_of(JS)) == [listing]
    assert crawled.errors_of(JS)[listing].startswith(f"needs JavaScript: {listing}")
    assert "fetch" in crawled.errors_of(JS)[listing]
    stats = crawled.stats(JS)
    assert stats["unionfeed/needs_js"] == 1 and stats["unionfeed/needs_js_url"] == listing
    run = crawled.status[JS]["last_run"]
    assert run["outcome"] == "empty" and run["found"] == 0
    assert run["cause"]["code"] == "needs_js" and "needs JavaScript" in run["cause"]["text"]
    assert "cần JavaScript" in run["cause"]["text_vi"]
    assert [(h.path, h.status) for h in crawled.sites[JS].hits] == [("/robots.txt", 200), ("/tin-tuc/", 200)]


@pytest.mark.reliability("site-cookie-gate", "site-needs-javascript")
def test_an_ordinary_site_is_unaffected(crawled: Crawled) -> None:
    site = crawled.sites[PLAIN]
    # Nothing more than robots.txt, the listing and each article once; no cookie sent, nothing named.
    assert sorted(s.path for s in site.seen) == sorted(
        ["/robots.txt", "/tin-tuc/", *(f"/tin-tuc/bai-{n}.html" for n in range(1, site.articles + 1))]
    )
    assert all(s.cookie is None and s.status == 200 for s in site.seen)
    assert crawled.titles(PLAIN) == {site.title(n) for n in range(1, site.articles + 1)}
    assert crawled.errors_of(PLAIN) == {}
    stats = crawled.stats(PLAIN)
    assert not any(k.startswith(("unionfeed/cookie_gate", "unionfeed/needs_js")) for k in stats)
    health = crawled.status[PLAIN]
    assert health["last_run"]["cause"] is None and health["last_run"]["outcome"] == "ok"


@pytest.mark.reliability("site-cookie-gate", "site-needs-javascript")
def test_obstacles_that_stay_break_the_source_with_their_own_cause_everywhere(crawled: Crawled, tmp_path: Path) -> None:
    # More polls of the two sources that cannot be read, in a copy of the data (the other tests read the original).
    data = tmp_path / "data"
    shutil.copytree(crawled.settings.data, data)
    settings = replace(crawled.settings, data=data)
    for _ in range(FAIL_RUNS - 1):
        assert crawl_in_child(settings, [SHUT, JS], timeout=60) == 0
    assert crawled.sites[SHUT].gates() == 2 * FAIL_RUNS  # each poll: the gate, once more with the cookie, no more
    shut, js = crawled.bases[SHUT] + "/tin-tuc/", crawled.bases[JS] + "/tin-tuc/"

    healths = status_json(settings)
    (gate,) = healths[SHUT]["reasons"]
    assert healths[SHUT]["state"] == "broken" and gate["code"] == "cookie_gate"
    assert gate["text"] == f"the last {FAIL_RUNS} runs were blocked by a cookie gate ({shut})"
    assert gate["text_vi"] == f"{FAIL_RUNS} lần thu thập gần nhất bị chặn bởi cookie ({shut})"
    (script,) = healths[JS]["reasons"]
    assert healths[JS]["state"] == "broken" and script["code"] == "needs_js"
    assert "needs JavaScript" in script["text"] and js in script["text"]
    assert "cần JavaScript" in script["text_vi"] and js in script["text_vi"]
    assert healths[PLAIN]["state"] == "ok" and all(healths[s]["state"] == "ok" for s in GATED)

    table = cli(settings, "status")
    assert table.returncode == 7, table.stderr  # some sources broken
    assert "2 of 5 sources broken" in table.stdout
    flat = " ".join(table.stdout.split())
    assert "blocked by a cookie" in flat and "needs JavaScript" in flat

    assert cli(settings, "status", "--write").returncode == 7
    written = json.loads((settings.public / "status.json").read_text(encoding="utf-8"))
    codes = {s["slug"]: [r["code"] for r in s["reasons"]] for s in written["sources"]}
    assert codes[SHUT] == ["cookie_gate"] and codes[JS] == ["needs_js"] and codes[PLAIN] == []
    feed = feedparser.parse((settings.public / "feeds" / "health.atom").read_bytes())
    contents = {e.title: e.content[0].value for e in feed.entries}
    assert any("bị chặn bởi cookie" in text for text in contents.values()), contents
    assert any("cần JavaScript" in text for text in contents.values()), contents

    published = cli(settings, "publish")
    assert published.returncode == 0, published.stderr[-2000:]
    page = (settings.public / "index.html").read_text(encoding="utf-8")
    row = {slug: page.split(f'id="nguon-{slug}"', 1)[1].split("</tr>", 1)[0] for slug in (SHUT, JS, PLAIN)}
    assert "bị chặn bởi cookie" in row[SHUT] and "cần JavaScript" not in row[SHUT]
    assert "cần JavaScript" in row[JS] and "bị chặn bởi cookie" not in row[JS]
    assert "bị chặn" not in row[PLAIN] and "JavaScript" not in row[PLAIN]


def test_a_redesign_without_scripts_keeps_the_plain_no_links_wording(tmp_path: Path) -> None:
    site = ObstacleSite("doi-giao-dien", "huyện Mới", articles=3, mode="redesign")
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry(site.name, bases[site.name])])
        settings = load_settings(config, tmp_path / "data")
        for _ in range(FAIL_RUNS):
            assert crawl_in_child(settings, [site.name], timeout=60) == 0
    (reason,) = status_json(settings)[site.name]["reasons"]
    assert reason["code"] == "empty" and reason["text"] == f"the last {FAIL_RUNS} runs found no article links"
    assert reason["text_vi"] == f"{FAIL_RUNS} lần thu thập gần nhất không tìm thấy liên kết bài viết"
    assert cli(settings, "publish").returncode == 0
    page = (settings.public / "index.html").read_text(encoding="utf-8")
    assert "không tìm thấy liên kết bài viết" in page and "cần JavaScript" not in page and "cookie" not in page
