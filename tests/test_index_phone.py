"""index.html on a phone and on a desktop, in headless Chromium (Debian `chromium`): nothing wider than the screen
at 360 and 390 CSS pixels, filters folded away on a phone, a search box that ignores diacritics, a province
filter, a banner when sources are broken (some, or all), and every page error in Vietnamese words."""

from __future__ import annotations

import base64
import copy
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest

from feed.config.sources import parse_sources
from feed.health.words import in_vietnamese
from feed.publish.publisher import publish
from feed.serve.query import query_feeds

from .support.devtools import DevTools, need_chromium, served
from .support.feedworld import SOURCES, World, make_world

pytestmark = pytest.mark.browser

PROVINCES = {"ldld-mau": "Thanh Hóa", "bao-mau": "Thanh Hóa", "cd-nganh-mau": "Nghệ An"}
TIMEOUT_ERROR = "TCP connection timed out: 110: Connection timed out."
VISIBLE = "Array.from(document.querySelectorAll('#bang-hoi-nghi tbody tr[data-kind]')).filter(r => !r.hidden).length"
FAILED_DISCOVERY = {"unionfeed/discovery_failed": 1}  # the listing itself could not be fetched
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture(autouse=True, scope="module")
def _needs_chromium() -> None:
    need_chromium()


def with_provinces() -> dict[str, object]:
    config = copy.deepcopy(SOURCES)
    for entry in config["sources"]:  # type: ignore[attr-defined]
        if entry["slug"] in PROVINCES:
            entry["province"] = PROVINCES[entry["slug"]]
    return config


def break_source(world: World, slug: str, runs: int = 3) -> None:
    """Runs that fetched nothing and timed out on their listing: the source is broken after three."""
    for _ in range(runs):
        run = world.store.start_run(slug)
        world.store.record_error(slug, f"http://127.0.0.1:9/{slug}/", TIMEOUT_ERROR, run)
        world.store.finish_run(
            run, pages=0, new=0, updated=0, errors=1, finish_reason="finished", stats=FAILED_DISCOVERY
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = make_world(tmp_path_factory.mktemp("phone"))
    world = replace(world, sources=parse_sources(with_provinces()))
    break_source(world, "cd-nganh-mau")
    publish(world.store, world.settings, world.sources)
    queries = query_feeds(f"sqlite:///{world.settings.data / 'feeds.sqlite'}", world.sources, "http://x.vn/", None)
    for base in served(world.settings.public, world.store, queries):
        yield base, world


def shot(browser: DevTools, path: Path) -> None:
    data = base64.b64decode(browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"])
    assert data.startswith(b"\x89PNG")
    path.write_bytes(data)


@pytest.mark.parametrize("width", [360, 390])
def test_a_phone_never_scrolls_sideways_and_starts_with_the_filters_folded(
    site: tuple[str, World], browser: DevTools, tmp_path: Path, width: int
) -> None:
    base, _ = site
    browser.viewport(width, 800, mobile=True)
    browser.open(base)
    assert browser.js("window.innerWidth") == width
    assert browser.js(OVERFLOW) <= 0, "the page is wider than the phone"
    wider = browser.js(
        "Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > "
        "window.innerWidth + 1).map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)"
    )
    assert wider == []
    assert browser.js("document.getElementById('bo-loc').open") is False  # folded: the reports come first
    assert browser.js("getComputedStyle(document.querySelector('#bang-hoi-nghi thead')).position") == "absolute"
    # A report reads as a card: each fact on its own line, labelled.
    card = browser.js("document.querySelector('#bang-hoi-nghi tbody tr[data-kind]').getBoundingClientRect().width")
    assert card <= width
    browser.js("document.querySelector('#bo-loc summary').click()")
    assert browser.js("document.getElementById('bo-loc').open") is True
    assert browser.js(OVERFLOW) <= 0
    shot(browser, tmp_path / f"index-{width}.png")
    assert browser.complaints() == []


def test_a_desktop_shows_the_filters_open_as_a_table(
    site: tuple[str, World], browser: DevTools, tmp_path: Path
) -> None:
    base, _ = site
    browser.viewport(1280, 900, mobile=False)
    browser.open(base)
    assert browser.js("document.getElementById('bo-loc').open") is True
    header = browser.js("getComputedStyle(document.querySelector('#bang-hoi-nghi thead')).display")
    assert header == "table-header-group"
    assert browser.js(OVERFLOW) <= 0
    shot(browser, tmp_path / "index-1280.png")
    assert browser.complaints() == []


def test_search_ignores_diacritics_and_case_and_province_filters(site: tuple[str, World], browser: DevTools) -> None:
    base, _ = site
    browser.viewport(390, 800, mobile=True)
    browser.open(base)
    total = browser.js(VISIBLE)
    assert total == 5
    browser.js(
        "(() => { const q = document.getElementById('tim'); q.value = 'SO KET';"
        "q.dispatchEvent(new Event('input', {bubbles: true})); })()"
    )
    found = browser.js(VISIBLE)
    assert 1 <= found < total and browser.js("location.hash") == "#q=SO+KET"
    texts = browser.js(
        "Array.from(document.querySelectorAll('#bang-hoi-nghi tbody tr[data-kind]')).filter(r => !r.hidden)"
        ".map(r => r.innerText)"
    )
    assert all("sơ kết" in t.lower() for t in texts)
    assert browser.js("document.getElementById('lich-tinh').hidden") is True  # no province chosen: no calendar
    # The same search as a feed: the link the page offers is answered by the server with those stories.
    follow = browser.js("Array.from(document.querySelectorAll('#kenh-tim a')).map(a => a.href)")
    assert [f.split("?")[0].rsplit("/", 1)[1] for f in follow] == ["query.atom", "query.rss", "query.json"]
    with urllib.request.urlopen(follow[0], timeout=10) as answer:
        feed = feedparser.parse(answer.read())
    # The server searches bodies too, so it may find more than the rows' visible words; never fewer.
    assert not feed.bozo and {t.split("\n")[0] for t in texts} <= {e.title for e in feed.entries}
    options = browser.js("Array.from(document.querySelectorAll('#loc-tinh option')).map(o => o.value)")
    assert options == ["", "Nghệ An", "Thanh Hóa"]
    browser.open(base + "index.html?lan=3#tinh=Ngh%E1%BB%87+An")
    shown = browser.js(VISIBLE)
    assert shown == 2 and browser.js("document.getElementById('loc-tinh').value") == "Nghệ An"
    assert browser.js("document.getElementById('bo-loc').open") is True  # asked for in the address: shown open
    browser.open(base + "index.html?lan=4#tinh=thanh-hoa")  # by its slug, as the province feeds link to it
    assert browser.js(VISIBLE) == 3 and browser.js("document.getElementById('loc-tinh').value") == "Thanh Hóa"
    # The chosen province's meetings calendar is offered beside the filter, and served.
    calendar = browser.js("document.querySelector('#lich-tinh a').href")
    assert browser.js("document.getElementById('lich-tinh').hidden") is False
    assert calendar == base + "feeds/provinces/thanh-hoa.ics"
    with urllib.request.urlopen(calendar, timeout=10) as answer:
        assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8" and b"BEGIN:VEVENT" in answer.read()
    assert browser.complaints() == []


def test_a_broken_source_shows_a_banner_and_its_error_in_vietnamese(site: tuple[str, World], browser: DevTools) -> None:
    base, _ = site
    browser.viewport(390, 800, mobile=True)
    browser.open(base)
    banner = browser.js("document.getElementById('canh-bao').innerText")
    assert banner == "1 trên 4 nguồn tin đang lỗi: Công đoàn ngành Mẫu."
    assert browser.js("document.querySelector('#canh-bao a').getAttribute('href')") == "#nguon-cd-nganh-mau"
    row = browser.js("document.getElementById('nguon-cd-nganh-mau').innerText")
    assert "Lỗi: không lấy được bài" in row
    assert "3 lần thu thập gần nhất bị lỗi (Trang không trả lời kịp (hết thời gian chờ))" in row
    assert "timed out" not in row
    bao = browser.js("document.getElementById('nguon-bao-mau').innerText")
    assert "Lỗi khi đọc trang" in bao and "trang bị cắt <giữa chừng>" in bao  # the stored detail is kept beside


def test_every_source_broken_says_so_above_everything(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    for slug in ("ldld-mau", "bao-mau", "cd-nganh-mau", "nguon-im-lang"):
        break_source(world, slug)
    publish(world.store, world.settings, world.sources)
    page = (world.settings.public / "index.html").read_text(encoding="utf-8")
    world.store.close()
    assert '<div id="canh-bao" class="banner banner-all" role="alert">' in page
    assert "Tất cả 4 nguồn tin đang lỗi: không thu thập được bài mới nào." in page
    assert page.index('id="canh-bao"') < page.index("<main>")


@pytest.mark.parametrize(
    ("stored", "words"),
    [
        ("HTTP 404", "Không tìm thấy trang (HTTP 404)"),
        ("HTTP 503", "Máy chủ của trang gặp lỗi (HTTP 503)"),
        (TIMEOUT_ERROR, "Trang không trả lời kịp (hết thời gian chờ)"),
        ("DNS lookup failed: no results for hostname lookup: ldld.example.", "Không tìm thấy tên miền (lỗi DNS)"),
        ("Connection was refused by other side: 111: Connection refused.", "Máy chủ từ chối kết nối"),
        (
            "[<twisted.python.failure.Failure twisted.internet.error.ConnectionLost: Connection to the other side "
            "was lost in a non-clean fashion: Connection lost.>]",
            "Kết nối bị ngắt giữa chừng",
        ),
        (
            "the source's title and body selectors match nothing on this page",
            "Bộ chọn của nguồn không còn khớp trang này",
        ),
        ("max redirections reached (more than 20 redirects)", "Trang chuyển hướng quá nhiều lần"),
        ("no article text found", "Không tìm thấy nội dung bài"),
        ("ValueError: something odd", "Lỗi khi đọc trang"),
    ],
)
def test_stored_errors_read_in_vietnamese(stored: str, words: str) -> None:
    said = in_vietnamese(stored)
    assert said.text_vi == words
    assert said.detail == ("" if stored.startswith("HTTP") else stored)
