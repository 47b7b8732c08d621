"""An article is judged before it is stored (issue 13, part 4): pages that are not articles — a portal's home,
sections, tag and search pages, "Giới thiệu", "Liên hệ", a site map, a login page — are refused with a named
reason, never stored or published, counted per source and reason in the run, and shown in `unionfeed status`,
status.json, the health feed and the index page. Real article pages are kept.

The crawl is real Scrapy in a forked child over a loopback portal (tests/support/portal_site.py) whose source
follows every link of its home page, menus included (`links: "body a"`, no article pattern: an operator's own
selector, so neither the navigation blocks nor the learnt URL shape of the catch-all rule `links: "a"` keep those
pages from being fetched; the judge is what keeps them out of the store).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feed.app.crawl_runner import crawl_in_child
from feed.config.settings import Settings, load_settings
from feed.extract.article import extract
from feed.extract.judge import SiteFacts, count_line, judge_page
from feed.health.verdict import NOT_ARTICLES, Reason, RunFigures, all_refused, not_articles_flag, outcome, streak_reason
from feed.store.api import Store

from .support.cli import run_cli
from .support.loopback_sites import write_config
from .support.needs import shared_path
from .support.portal_site import FIXTURES, UNDATED_ARTICLE, articles, manifest, serve_portal

SLUG = "ldld-cong-thong-tin"
NAME = "Liên đoàn Lao động tỉnh Nghệ An"
# What the portal's home page links to besides its ten articles, by the reason each is refused: four menu sections,
# two tags and a search (section), about and site map (site_title), contact (no_date), login; external links are
# the boundary's.
REFUSED = {"homepage": 1, "section": 7, "site_title": 2, "login": 1, "no_date": 1}
LINE_VI = (
    "12 trang không phải bài viết bị bỏ qua: 7 trang chuyên mục, 2 tiêu đề là tên trang, 1 trang chủ, "
    "1 trang đăng nhập, 1 thiếu ngày đăng"
)


@dataclass
class Crawled:
    settings: Settings
    base: str
    asked: list[str]
    stored: dict[str, Any]  # title -> row
    stats: dict[str, Any]


def cli(settings: Settings, *args: str) -> Any:
    result = run_cli("--config", str(settings.config), "--data", str(settings.data), *args, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    tmp = tmp_path_factory.mktemp("judging")
    with serve_portal() as (base, asked):
        entry = (
            f"  - slug: {SLUG}\n    name: '{NAME}'\n    kind: labour_federation\n    homepage: {base}/\n"
            f"    discovery:\n      listings:\n        - url: {base}/\n"
            "          links: 'body a'\n          max_pages: 1\n"
        )
        settings = load_settings(write_config(tmp / "config", [entry]), tmp / "data")
        assert crawl_in_child(settings, [SLUG], timeout=60) == 0
    store = Store(settings.db_url)
    try:
        stored = {row.title: row for row in store.articles()}
        (run,) = store.runs(SLUG, limit=5)
        stats = dict(run.stats or {})
    finally:
        store.close()
    return Crawled(settings, base, asked, stored, stats)


def test_only_the_articles_are_stored(crawled: Crawled) -> None:
    expected = {title: when for title, when, _ in articles().values()}
    assert set(crawled.stored) == set(expected)
    for title, row in crawled.stored.items():
        assert row.published_at is not None and row.published_at.astimezone(UTC) == expected[title].astimezone(UTC)
    # Every non-article page was fetched and judged, none stored under any title.
    assert {"/", "/gioi-thieu.html", "/lien-he.html", "/dang-nhap.html", "/tag/an-toan-ve-sinh-lao-dong"} <= set(
        crawled.asked
    )


def test_an_article_without_a_visible_date_but_with_article_metadata_is_kept(crawled: Crawled) -> None:
    title, when, _ = articles()[UNDATED_ARTICLE]
    row = crawled.stored[title]
    assert row.url == crawled.base + UNDATED_ARTICLE and row.published_at.astimezone(UTC) == when.astimezone(UTC)


def test_the_refusals_are_counted_by_reason_and_are_not_page_errors(crawled: Crawled) -> None:
    stats = crawled.stats
    assert stats["unionfeed/not_article"] == sum(REFUSED.values())
    assert {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("unionfeed/not_article/")} == REFUSED
    assert stats["unionfeed/not_article_url"].startswith(crawled.base + "/")
    assert stats.get("unionfeed/page_errors", 0) == 0 and stats["errors"] == 0 and stats["new"] == 10


@pytest.mark.reliability("site-menus-among-links")
def test_the_refusals_show_in_status_status_json_the_health_feed_and_the_index_page(crawled: Crawled) -> None:
    settings = crawled.settings
    (health,) = json.loads(cli(settings, "status", "--json").stdout)["sources"]
    assert health["state"] == "ok" and health["reasons"] == []  # not a failure of the source
    (flag,) = health["flags"]
    assert flag["code"] == "not_articles" and flag["text_vi"].startswith(LINE_VI + " (ví dụ http://127.0.0.1:")
    assert flag["text"].startswith("12 pages that are not articles skipped: 7 a section, tag or search page")
    assert health["last_run"]["not_articles"]["reasons"] == REFUSED
    assert health["last_run"]["not_articles"]["text_vi"] == LINE_VI

    text = " ".join(cli(settings, "status").stdout.split())
    assert f"{SLUG}: 12 pages that are not articles skipped" in text and "0 of 1 sources broken" in text

    cli(settings, "status", "--write")
    (written,) = json.loads((settings.public / "status.json").read_text("utf-8"))["sources"]
    assert [f["code"] for f in written["flags"]] == ["not_articles"]
    feed = feedparser.parse((settings.public / "feeds" / "health.atom").read_bytes())
    assert not feed.bozo
    assert [e.title for e in feed.entries] == [f"Nguồn tin có trang không phải bài viết bị bỏ qua: {NAME}"]
    assert LINE_VI in feed.entries[0].content[0].value

    cli(settings, "publish")
    page = (settings.public / "index.html").read_text(encoding="utf-8")
    row = page.split(f'id="nguon-{SLUG}"', 1)[1].split("</tr>", 1)[0]
    assert LINE_VI in row and "state-ok" in row and f'href="{crawled.base}/' in row


# --- the judge on pages -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", manifest()["pages"], ids=lambda e: e["file"])  # type: ignore[index]
def test_each_written_non_article_page_is_refused_with_its_reason(entry: dict[str, str]) -> None:
    data = (FIXTURES / entry["file"]).read_bytes()
    site = SiteFacts(homepage=str(manifest()["homepage"]), names=(NAME,))
    verdict = judge_page(data, extract(data, entry["url"]), site)
    assert verdict.reason == entry["reason"], verdict.text()
    # By the page alone (no URL, no site facts) it is refused too, for some reason.
    assert not judge_page(data, extract(data, f"file:{entry['file']}")).is_article


def test_a_pattern_vouches_for_an_undated_page_but_not_for_a_menu_page() -> None:
    about = (FIXTURES / "gioi-thieu.html").read_bytes()
    contact = (FIXTURES / "lien-he.html").read_bytes()
    url = "https://congdoannghean.example/lien-he.html"
    assert judge_page(contact, extract(contact, url)).reason == "no_date"
    assert judge_page(contact, extract(contact, url), SiteFacts(vouched=True)).is_article  # health sees the date gap
    url = "https://congdoannghean.example/gioi-thieu.html"
    assert judge_page(about, extract(about, url), SiteFacts(vouched=True)).reason == "site_title"


def test_real_article_pages_are_kept_and_real_home_pages_refused() -> None:
    folder = shared_path("realpages")
    for entry in json.loads((folder / "manifest.json").read_text(encoding="utf-8")):
        if entry["type"] == "rss":
            continue
        data = (folder / entry["file"]).read_bytes()
        article = extract(data, f"file:{entry['file']}")  # the page alone: its URL does not help
        verdict = judge_page(data, article)
        assert verdict.is_article == (entry["type"] == "article"), (entry["file"], verdict.text())


def test_demo_article_pages_are_kept() -> None:
    demo = Path(__file__).resolve().parents[1] / "src" / "feed" / "app" / "demo_sites"
    for slug, pages in json.loads((demo / "expected.json").read_text(encoding="utf-8")).items():
        for path, truth in pages.items():
            if truth.get("broken"):
                continue
            file = demo / slug / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))
            data = file.read_bytes()
            assert judge_page(data, extract(data, f"http://{slug}.example{path}")).is_article, path


# --- figures and causes -----------------------------------------------------------------------------------------
def test_the_status_line_counts_by_reason_most_first() -> None:
    assert count_line([("no_date", 4), ("section", 8)]) == (
        "12 trang không phải bài viết bị bỏ qua: 8 trang chuyên mục, 4 thiếu ngày đăng"
    )
    assert count_line([]) == ""


def figures(outcome_: str, refused: dict[str, int], extracted: int = 0, cause: bool = False) -> RunFigures:
    now = datetime.now(UTC)
    met = Reason(NOT_ARTICLES.code, NOT_ARTICLES.run_en, NOT_ARTICLES.vi) if cause else None
    return RunFigures(
        run_id=1, started_at=now, finished_at=now, finish_reason="finished", outcome=outcome_, requests=5,
        statuses={"200": 5}, not_modified=0, found=5, new=extracted, updated=0, errors=0, extracted=extracted,
        fields={}, not_articles=refused, not_article_url="http://127.0.0.1/gioi-thieu.html" if refused else None,
        cause=met, cause_url="http://127.0.0.1/" if cause else None,
    )  # fmt: skip


def test_a_run_whose_every_page_was_refused_found_nothing_and_says_why() -> None:
    every = {"unionfeed/not_article": 4, "extracted": 0, "unionfeed/not_article_url": "http://127.0.0.1/"}
    assert all_refused(every) and outcome("finished", every, found=4) == "empty"
    assert not all_refused({**every, "extracted": 1}) and outcome("finished", {**every, "extracted": 1}, 4) == "ok"
    assert not all_refused({**every, "unionfeed/skipped_known": 3})  # known articles found: the source works
    reason = streak_reason([figures("empty", {"section": 4}, cause=True) for _ in range(3)])
    assert reason is not None and reason.code == "not_articles"
    assert (
        reason.text_vi == "3 lần thu thập gần nhất không tìm thấy bài viết: mọi trang đều bị loại (http://127.0.0.1/)"
    )


def test_the_flag_reads_the_newest_run_that_judged_pages() -> None:
    assert not_articles_flag([figures("unchanged", {}), figures("ok", {"section": 2}, extracted=3)]) is not None
    assert not_articles_flag([figures("ok", {}, extracted=3), figures("ok", {"section": 2}, extracted=3)]) is None


def test_a_refused_page_is_not_asked_again_at_the_next_poll(tmp_path: Path) -> None:
    with serve_portal() as (base, asked):
        entry = (
            f"  - slug: {SLUG}\n    name: '{NAME}'\n    kind: labour_federation\n    homepage: {base}/\n"
            f"    discovery:\n      listings:\n        - url: {base}/\n"
            "          links: 'body a'\n          max_pages: 1\n"
        )
        settings = load_settings(write_config(tmp_path / "config", [entry]), tmp_path / "data")
        assert crawl_in_child(settings, [SLUG], timeout=60) == 0
        first = list(asked)
        asked.clear()
        assert crawl_in_child(settings, [SLUG], timeout=60) == 0
        second = list(asked)
    refused_paths = {"/gioi-thieu.html", "/lien-he.html", "/dang-nhap.html", "/tag/an-toan-ve-sinh-lao-dong"}
    assert refused_paths <= set(first)
    # The second poll asks robots.txt and the listing, not the pages judged not articles, nor the stored articles.
    assert not refused_paths & set(second) and set(second) <= {"/robots.txt", "/"}, second
    store = Store(settings.db_url)
    try:
        first_run, second_run = reversed(store.runs(SLUG, limit=2))
    finally:
        store.close()
    assert second_run.stats["unionfeed/skipped_refused"] == first_run.stats["unionfeed/not_article"] == 12
    assert "unionfeed/not_article" not in second_run.stats
