"""Sites that misbehave, all crawled in one run beside a good one: each fault stays in its own source and is recorded.

One crawl (Scrapy in a forked child as the scheduler runs it, every source in that one process) goes over a good
loopback site and one source per fault, each on its own 127.0.0.1 port (tests/fault_sites.py). The tests read
the real SQLite store it wrote (articles, crawl runs, page errors), `unionfeed status --json`, and the feeds that
`unionfeed publish` wrote afterwards, parsed by feedparser.
"""

from __future__ import annotations

import json
import shutil
import unicodedata
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from time import monotonic
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest

from feed.app.crawl_runner import crawl_in_child
from feed.config.settings import Settings, load_settings
from feed.lang.text import looks_mojibake
from feed.store.api import ArticleRow, CrawlRun, PageError, Store

from .support.cli import run_cli
from .support.fault_sites import (
    GOOD,
    HUGE_BYTES,
    SLOW,
    FaultSite,
    fault_sites,
    loopback_sites,
    refused_port,
    serve_faults,
)
from .support.loopback_sites import Site, source_entry

TIMEOUT = 4  # download_timeout for this crawl: a hanging site costs two of these (one retry); SLOW is far below
SETTINGS = (
    f"politeness:\n  download_delay: 0\n  autothrottle_start_delay: 0.01\n  retry_times: 1\n"
    f"  download_timeout: {TIMEOUT}\ncrawl_time_limit: 60\n"
)


@dataclass
class Expect:
    """What one source should leave behind: the titles stored, the page errors (path -> words), the run outcome."""

    stored: set[str]
    errors: dict[str, str] = field(default_factory=dict)
    outcome: str = "ok"


@dataclass
class Crawled:
    settings: Settings
    sites: dict[str, Site | FaultSite]
    bases: dict[str, str]
    expect: dict[str, Expect]
    exit_code: int
    seconds: float
    articles: list[ArticleRow]
    runs: dict[str, list[CrawlRun]]
    errors: list[PageError]
    status: dict[str, dict[str, Any]]
    publish_code: int

    def stored(self, slug: str) -> dict[str, ArticleRow]:
        return {row.title or "": row for row in self.articles if row.source_slug == slug}

    def errors_of(self, slug: str) -> dict[str, str]:
        """Path (and query) -> error text of the source's page errors."""
        return {_path(e.url): e.error for e in self.errors if e.source_slug == slug}

    def stats(self, slug: str) -> dict[str, Any]:
        return self.runs[slug][0].stats

    def fault_hits(self, slug: str) -> list[str]:
        site = self.sites[slug]
        assert isinstance(site, FaultSite)
        return list(site.hits)

    def site_hits(self, slug: str) -> list[tuple[str, int]]:
        site = self.sites[slug]
        assert isinstance(site, Site)
        return [(h.path, h.status) for h in site.hits]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- what each source should leave ---------------------------------------------------------------------------
def expectations(sites: dict[str, Site | FaultSite]) -> dict[str, Expect]:
    def titles(slug: str, *numbers: int) -> set[str]:
        site = sites[slug]
        if isinstance(site, Site):
            return {site.title(n) for n in numbers}
        return {site.articles[n].title for n in numbers}

    big = "larger than download max size"
    return {
        GOOD: Expect(titles(GOOD, *range(1, 7))),
        "khong-ket-noi": Expect(set(), {"/tin-tuc/": "Connection refused"}, "failed"),
        "treo-may": Expect(set(), {"/tin-tuc/": f"took longer than {TIMEOUT:.1f} seconds"}, "failed"),
        "cham-tra-loi": Expect(titles("cham-tra-loi", 1, 2, 3)),
        "loi-may-chu": Expect(set(), {"/tin-tuc/": "HTTP 500"}, "failed"),
        "qua-tai": Expect(titles("qua-tai", 1, 2, 3)),
        "vong-danh-sach": Expect(set(), {"/tin-tuc/": "redirect loop"}, "failed"),
        "vong-bai-viet": Expect(
            titles("vong-bai-viet", 2),
            {
                "/tin-tuc/bai-1.html": "redirect loop",
                "/tin-tuc/bai-3.html": "redirect loop",
                "/tin-tuc/bai-4.html": "max redirections reached (more than 5 redirects)",
            },
        ),
        "trang-khong-lo": Expect(titles("trang-khong-lo", 3), {"/tin-tuc/bai-1.html": big, "/tin-tuc/bai-2.html": big}),
        "nhi-phan": Expect(
            titles("nhi-phan", 3),
            {
                "/tin-tuc/bai-1.html": "not a text page (image/png)",
                "/tin-tuc/bai-2.html": "binary content, not a text page",
            },
        ),
        "sai-bang-ma": Expect(titles("sai-bang-ma", 1, 2, 3, 4)),
        "thieu-bang-ma": Expect(titles("thieu-bang-ma", 1, 2, 3)),
        "loi-phong-chu": Expect(titles("loi-phong-chu", 1, 2)),
        "html-hong": Expect(titles("html-hong", 1)),
        "than-rong": Expect(titles("than-rong", 2), {"/tin-tuc/bai-1.html": "empty page"}),
        "cam-robots": Expect(set(), {"/tin-tuc/": "Forbidden by robots.txt"}, "failed"),
    }


# --- one crawl for the whole module ---------------------------------------------------------------------------
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


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    root = tmp_path_factory.mktemp("fault-sites")
    served: list[Site | FaultSite] = [*loopback_sites(), *fault_sites()]
    sites = {s.name: s for s in served}
    with ExitStack() as stack:
        port = stack.enter_context(refused_port())
        bases = {**stack.enter_context(serve_faults(served)), "khong-ket-noi": f"http://127.0.0.1:{port}"}
        (root / "config").mkdir()
        (root / "config" / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
        config = root / "config" / "sources.yaml"
        config.write_text(
            "version: 1\nsources:\n" + "".join(source_entry(n, b) for n, b in bases.items()), encoding="utf-8"
        )
        settings = load_settings(config, root / "data")
        started = monotonic()
        code = crawl_in_child(settings, list(bases), timeout=120)  # every source, in one child process
        seconds = monotonic() - started
        articles, runs, errors = read_store(settings)
        status = cli(settings, "status", "--json")
        assert status.returncode == 0, status.stderr[-2000:]
        healths = {s["slug"]: s for s in json.loads(status.stdout)["sources"]}
        publish = cli(settings, "publish")
        yield Crawled(
            settings,
            sites,
            bases,
            expectations(sites),
            code,
            seconds,
            articles,
            runs,
            errors,
            healths,
            publish.returncode,
        )


def check_contained(crawled: Crawled, slug: str) -> None:
    """The fault stayed in its source: the good site is whole, this source stored exactly its good pages and
    recorded each bad one in words, its run finished, and status shows it (not the good site) failing."""
    good = crawled.expect[GOOD]
    assert set(crawled.stored(GOOD)) == good.stored
    expect = crawled.expect[slug]
    assert set(crawled.stored(slug)) == expect.stored
    recorded = crawled.errors_of(slug)
    assert set(recorded) == set(expect.errors), recorded
    for path, words in expect.errors.items():
        assert words in recorded[path], (path, recorded[path])
    runs = crawled.runs[slug]
    assert len(runs) == 1 and runs[0].finished_at is not None and runs[0].finish_reason == "finished"
    assert runs[0].errors == len(expect.errors) and runs[0].new == len(expect.stored)
    health, good_health = crawled.status[slug], crawled.status[GOOD]
    assert health["last_run"]["outcome"] == expect.outcome
    assert health["failing_runs"] == (1 if expect.outcome == "failed" else 0)
    assert (good_health["state"], good_health["failing_runs"], good_health["reasons"]) == ("ok", 0, [])
    assert good_health["last_run"]["outcome"] == "ok" and good_health["last_run"]["new"] == 6


# --- the whole crawl --------------------------------------------------------------------------------------------
@pytest.mark.reliability(
    "site-refused",
    "site-hangs",
    "site-slow",
    "site-500",
    "site-429-retry-after",
    "site-redirect-loop",
    "site-huge-page",
    "site-binary",
    "site-wrong-charset",
    "site-missing-charset",
    "site-mojibake",
    "site-malformed-html",
    "site-empty-body",
    "site-robots-disallow-all",
)
def test_one_crawl_over_every_bad_site_finishes_and_keeps_the_good_one_whole(crawled: Crawled) -> None:
    assert crawled.exit_code == 0
    assert crawled.seconds < 40, crawled.seconds  # bounded by the hanging site's two timeouts, not the time limit
    assert set(crawled.runs) == set(crawled.sites) | {"khong-ket-noi"}
    assert all(r.finish_reason == "finished" for runs in crawled.runs.values() for r in runs)
    assert set(crawled.stored(GOOD)) == crawled.expect[GOOD].stored
    assert crawled.errors_of(GOOD) == {}
    good = crawled.stored(GOOD)
    assert all(row.published_at is not None and len(row.body_text) > 200 for row in good.values())
    assert {s for s, h in crawled.status.items() if h["last_run"]["outcome"] == "failed"} == {
        slug for slug, e in crawled.expect.items() if e.outcome == "failed"
    }


@pytest.mark.reliability(
    "site-binary",
    "site-wrong-charset",
    "site-missing-charset",
    "site-mojibake",
    "site-malformed-html",
    "site-empty-body",
    "site-huge-page",
    "site-redirect-loop",
)
def test_nothing_bogus_is_stored(crawled: Crawled) -> None:
    expected = {(slug, t) for slug, e in crawled.expect.items() for t in e.stored}
    assert {(row.source_slug, row.title) for row in crawled.articles} == expected
    for row in crawled.articles:
        for text in (row.title or "", row.lead or "", row.body_text):
            assert text == unicodedata.normalize("NFC", text), row.url
            assert "\ufffd" not in text and not looks_mojibake(text), (row.url, text[:200])
            assert not any(ord(c) < 32 and c not in "\n\t" for c in text), row.url
        assert len(row.body_text) > 150, row.url


@pytest.mark.reliability(
    "site-refused",
    "site-hangs",
    "site-slow",
    "site-500",
    "site-429-retry-after",
    "site-redirect-loop",
    "site-huge-page",
    "site-binary",
    "site-wrong-charset",
    "site-missing-charset",
    "site-mojibake",
    "site-malformed-html",
    "site-empty-body",
    "site-robots-disallow-all",
)
def test_feeds_published_after_the_crawl_are_valid(crawled: Crawled) -> None:
    assert crawled.publish_code == 0
    feeds = crawled.settings.public / "feeds"
    files = sorted(feeds.glob("*.atom")) + sorted(feeds.glob("*.rss"))
    assert files
    for path in files:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path.name, parsed.get("bozo_exception"))
        assert all("\ufffd" not in e.get("title", "") for e in parsed.entries), path.name
    for path in feeds.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    titles = {e.title for e in feedparser.parse((feeds / "all.atom").read_bytes()).entries}
    assert crawled.expect[GOOD].stored <= titles


# --- one fault each -------------------------------------------------------------------------------------------
@pytest.mark.reliability("site-refused")
def test_refused_connections(crawled: Crawled) -> None:
    check_contained(crawled, "khong-ket-noi")
    stats = crawled.stats("khong-ket-noi")
    # robots.txt and the listing, each tried twice (retry_times 1).
    assert stats["downloader/exception_type_count/scrapy.exceptions.DownloadConnectionRefusedError"] == 4


@pytest.mark.reliability("site-hangs")
def test_a_hanging_site_is_given_up_after_the_timeout(crawled: Crawled) -> None:
    check_contained(crawled, "treo-may")
    assert crawled.fault_hits("treo-may") == ["/robots.txt", "/tin-tuc/", "/tin-tuc/"]  # one retry, then given up
    elapsed = crawled.stats("treo-may")["elapsed_time_seconds"]
    assert 2 * TIMEOUT <= elapsed < 2 * TIMEOUT + 10


@pytest.mark.reliability("site-slow")
def test_a_slow_site_within_the_timeout_is_read_whole(crawled: Crawled) -> None:
    check_contained(crawled, "cham-tra-loi")
    articles = [h for h in crawled.site_hits("cham-tra-loi") if h[0].startswith("/tin-tuc/bai-")]
    assert sorted(articles) == [(f"/tin-tuc/bai-{n}.html", 200) for n in (1, 2, 3)]  # each asked once
    assert crawled.stats("cham-tra-loi")["elapsed_time_seconds"] >= SLOW


@pytest.mark.reliability("site-500")
def test_every_page_500(crawled: Crawled) -> None:
    check_contained(crawled, "loi-may-chu")
    assert crawled.site_hits("loi-may-chu") == [("/robots.txt", 200), ("/tin-tuc/", 500), ("/tin-tuc/", 500)]


@pytest.mark.reliability("site-429-retry-after")
def test_429_with_a_short_retry_after_is_waited_for(crawled: Crawled) -> None:
    check_contained(crawled, "qua-tai")
    assert crawled.site_hits("qua-tai")[:3] == [("/robots.txt", 200), ("/tin-tuc/", 429), ("/tin-tuc/", 200)]
    stats = crawled.stats("qua-tai")
    assert stats["unionfeed/throttled/429"] == 1 and stats["elapsed_time_seconds"] >= 1.0


@pytest.mark.reliability("site-redirect-loop")
def test_redirect_loops_are_stopped_at_the_first_repeat(crawled: Crawled) -> None:
    check_contained(crawled, "vong-danh-sach")
    check_contained(crawled, "vong-bai-viet")
    # The looping listing is asked once round the loop (not REDIRECT_MAX_TIMES times).
    assert crawled.fault_hits("vong-danh-sach") == ["/robots.txt", "/tin-tuc/", "/chuyen-muc/"]
    hits = crawled.fault_hits("vong-bai-viet")
    assert hits.count("/tin-tuc/bai-1.html") == 1 and hits.count("/bai-viet/1") == 1
    assert sum(h.startswith("/chuoi/") for h in hits) == 5  # the endless chain: REDIRECT_MAX_TIMES hops
    loop = crawled.errors_of("vong-bai-viet")["/tin-tuc/bai-1.html"]
    assert loop.endswith(
        "/tin-tuc/bai-1.html → "
        + crawled.bases["vong-bai-viet"]
        + "/bai-viet/1 → "
        + crawled.bases["vong-bai-viet"]
        + "/tin-tuc/bai-1.html"
    )


@pytest.mark.reliability("site-huge-page")
def test_a_50_mb_page_is_cut_at_the_download_size_limit(crawled: Crawled) -> None:
    check_contained(crawled, "trang-khong-lo")
    site = crawled.sites["trang-khong-lo"]
    assert isinstance(site, FaultSite)
    # The client hung up long before 50 MB: at once when Content-Length announced it, past 10 MB when streamed.
    assert site.sent["/tin-tuc/bai-1.html"] < 10 * 1024 * 1024
    assert 10 * 1024 * 1024 < site.sent["/tin-tuc/bai-2.html"] < HUGE_BYTES // 2
    errors = crawled.errors_of("trang-khong-lo")
    assert "Expected to receive 52428800 bytes" in errors["/tin-tuc/bai-1.html"]
    assert "the download was cut off" in errors["/tin-tuc/bai-2.html"]


@pytest.mark.reliability("site-binary")
def test_binary_content_is_refused_as_not_a_text_page(crawled: Crawled) -> None:
    check_contained(crawled, "nhi-phan")


@pytest.mark.reliability("site-wrong-charset")
def test_a_wrong_charset_header_does_not_garble_the_text(crawled: Crawled) -> None:
    check_contained(crawled, "sai-bang-ma")
    for row in crawled.stored("sai-bang-ma").values():
        assert "hội trường" in row.body_text or "Ban Chấp hành" in row.body_text, row.body_text[:200]
        assert "ngành Giáo dục huyện Mã" in row.body_text


@pytest.mark.reliability("site-missing-charset")
def test_a_page_without_any_charset_is_read_as_utf8_or_else_windows_1258(crawled: Crawled) -> None:
    check_contained(crawled, "thieu-bang-ma")
    assert all("ngành Giáo dục huyện Thiếu" in row.body_text for row in crawled.stored("thieu-bang-ma").values())


@pytest.mark.reliability("site-mojibake")
def test_mojibake_is_repaired_to_vietnamese(crawled: Crawled) -> None:
    check_contained(crawled, "loi-phong-chu")
    bodies = [row.body_text for row in crawled.stored("loi-phong-chu").values()]
    assert any("ngành Giáo dục xã Tân Phước" in b for b in bodies)
    assert any("ngành Giáo dục xã Hòa Bình" in b for b in bodies)


@pytest.mark.reliability("site-malformed-html")
def test_malformed_html_is_read_to_its_end(crawled: Crawled) -> None:
    check_contained(crawled, "html-hong")
    (row,) = crawled.stored("html-hong").values()
    # Text after the stray </html> and around the NUL bytes is kept.
    assert "Hội nghị đã thông qua thỏa ước lao động tập thể mới" in row.body_text
    assert "kiến nghị lắp thêm quạt thông gió cho tổ may" in row.body_text
    assert row.published_at is None  # the page states no date; none is guessed from "năm 2026"


@pytest.mark.reliability("site-empty-body")
def test_an_empty_body_is_recorded_not_stored(crawled: Crawled) -> None:
    check_contained(crawled, "than-rong")


@pytest.mark.reliability("site-robots-disallow-all")
def test_robots_txt_disallowing_everything_is_obeyed_and_recorded(crawled: Crawled) -> None:
    check_contained(crawled, "cam-robots")
    assert crawled.site_hits("cam-robots") == [("/robots.txt", 200)]  # nothing else was asked


@pytest.mark.reliability("site-refused", "site-500", "site-redirect-loop", "site-robots-disallow-all")
def test_sources_that_keep_failing_are_judged_broken_and_the_good_one_is_not(crawled: Crawled, tmp_path: Path) -> None:
    # Two more polls of the whole-site failures, in a copy of the data (the other tests read the original).
    data = tmp_path / "data"
    shutil.copytree(crawled.settings.data, data)
    settings = replace(crawled.settings, data=data)
    failing = ["khong-ket-noi", "loi-may-chu", "vong-danh-sach", "cam-robots"]
    asked = len(crawled.site_hits("loi-may-chu"))
    for _ in range(2):
        assert crawl_in_child(settings, failing, timeout=60) == 0
    # Each poll asks the failed listing afresh (no validators were kept from a failed run): twice per poll.
    assert crawled.site_hits("loi-may-chu")[asked:].count(("/tin-tuc/", 500)) == 4
    status = cli(settings, "status", "--json")
    healths = {s["slug"]: s for s in json.loads(status.stdout)["sources"]}
    for slug in failing:
        assert healths[slug]["state"] == "broken" and healths[slug]["failing_runs"] == 3, healths[slug]
        assert healths[slug]["reasons"][0]["code"] == "failing"
    assert "HTTP 500" in healths["loi-may-chu"]["reasons"][0]["text"]
    # Failures without an HTTP status say why in their own words, from the run's page errors.
    assert "Connection refused" in healths["khong-ket-noi"]["reasons"][0]["text"]
    assert "robots.txt" in healths["cam-robots"]["reasons"][0]["text"]
    assert "redirect" in healths["vong-danh-sach"]["reasons"][0]["text"]
    assert healths[GOOD]["state"] == "ok"
    table = cli(settings, "status")
    assert "4 of 16 sources broken" in table.stdout
