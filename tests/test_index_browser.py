"""index.html in headless Chromium (Debian `chromium`), driven over the DevTools protocol on a pipe: it renders
in Vietnamese with no console message, no script error and no failed request, its filters work, every link
resolves, and a screenshot is taken."""

from __future__ import annotations

import base64
import http.client
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from feed.publish.publisher import publish

from .support.devtools import CHROMIUM, FLAGS, DevTools, need_chromium, served
from .support.feedworld import World, make_world

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True, scope="module")
def _needs_chromium() -> None:
    need_chromium()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = make_world(tmp_path_factory.mktemp("index"))
    publish(world.store, world.settings, world.sources)
    for base in served(world.settings.public, world.store):
        yield base, world


VISIBLE = "Array.from(document.querySelectorAll('#bang-hoi-nghi tbody tr[data-kind]')).filter(r => !r.hidden).length"


def choose(browser: DevTools, select_id: str, value: str) -> None:
    browser.js(
        f"(() => {{ const s = document.getElementById('{select_id}'); s.value = '{value}';"
        "s.dispatchEvent(new Event('change', {bubbles: true})); })()"
    )


def test_page_renders_in_vietnamese_without_complaints(
    site: tuple[str, World], browser: DevTools, tmp_path: Path
) -> None:
    base, _ = site
    browser.open(base)
    assert browser.js("document.documentElement.lang") == "vi"
    assert browser.js("document.querySelector('h1').textContent") == "Tin hội nghị, đại hội công đoàn"
    assert browser.js(VISIBLE) == 5
    assert browser.js("document.getElementById('filters').hidden") is False
    assert browser.js("document.getElementById('so-bai').textContent") == "5 / 5 bài"
    row = browser.js(
        "Array.from(document.querySelectorAll('#bang-hoi-nghi tbody tr')).map(r => r.innerText)"
        ".find(t => t.includes('tổng kết năm 2025'))"
    )
    assert "Hội nghị tổng kết" in row and "Liên đoàn Lao động tỉnh Mẫu" in row and "10/01/2026" in row
    assert "Hội trường tỉnh Mẫu" in row
    states = browser.js("Array.from(document.querySelectorAll('#nguon-tin tbody tr')).map(r => r.innerText)")
    assert len(states) == 4
    assert "Có trang lỗi" in states[1] and "trang bị cắt <giữa chừng>" in states[1] and "Chưa thu thập" in states[3]
    shot = base64.b64decode(browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"])
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000
    (tmp_path / "index.png").write_bytes(shot)
    assert browser.complaints() == []


def test_filters_by_kind_and_source(site: tuple[str, World], browser: DevTools) -> None:
    base, _ = site
    browser.open(base)
    choose(browser, "loc-loai", "so_ket")
    assert browser.js(VISIBLE) == 1 and browser.js("location.hash") == "#loai=so_ket"
    choose(browser, "loc-nguon", "bao-mau")  # the story's copy on the newspaper counts for the newspaper
    assert browser.js(VISIBLE) == 1 and browser.js("location.hash") == "#loai=so_ket&nguon=bao-mau"
    choose(browser, "loc-loai", "tong_ket")
    assert browser.js(VISIBLE) == 0 and browser.js("document.getElementById('khong-co').hidden") is False
    browser.open(base + "index.html#nguon=cd-nganh-mau")
    assert browser.js(VISIBLE) == 2 and browser.js("document.getElementById('loc-nguon').value") == "cd-nganh-mau"
    browser.open(base + "index.html?lan=2#loai=khong-co-loai-nay")  # another document: a real load
    assert browser.js(VISIBLE) == 5  # an unknown kind in the address filters nothing
    assert browser.complaints() == []


def test_every_link_on_the_page_resolves(site: tuple[str, World], browser: DevTools) -> None:
    base, world = site
    browser.open(base)
    hrefs = browser.js("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))")
    local = sorted({h for h in hrefs if not h.startswith("http")})
    feeds = {h for h in local if h.startswith("feeds/")}
    # 14 feeds in three formats, and the calendars of meetings and of the seven kinds.
    assert len(feeds) == 3 * 14 + 1 + 7 and "feeds.opml" in local and "feeds-all.opml" in local
    assert "snapshots/latest.json" in local
    port = int(base.rsplit(":", 1)[1].strip("/"))
    for href in local:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("HEAD", "/" + href)
        assert conn.getresponse().status == 200, href
        conn.close()
    outside = {h for h in hrefs if h.startswith("http")}
    assert world.url("so-ket") in outside and "http://127.0.0.1:9/ldld/" in outside


def test_command_line_screenshot(site: tuple[str, World], tmp_path: Path) -> None:
    base, _ = site
    shot = tmp_path / "shot.png"
    subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", base],
        capture_output=True,
        timeout=60,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000


def test_the_harness_hears_complaints(site: tuple[str, World], browser: DevTools) -> None:
    base, _ = site
    browser.open(base + "khong-co-trang-nay.html")
    browser.js("console.error('lỗi thử'); setTimeout(() => { throw new Error('lỗi không bắt'); }, 0); 1")
    browser.js("new Promise(r => setTimeout(r, 100))")
    methods = {e["method"] for e in browser.complaints()}
    assert {"Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Network.responseReceived"} <= methods
    browser.events.clear()
