"""index.html in headless Chromium (Debian `chromium`), driven over the DevTools protocol on a pipe: it renders
in Vietnamese with no console message, no script error and no failed request, its filters work, every link
resolves, and a screenshot is taken."""

from __future__ import annotations

import base64
import http.client
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feed.publish.publisher import publish
from feed.serve.server import serve_in_thread

from .support.feedworld import World, make_world
from .support.needs import missing

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True, scope="module")
def _needs_chromium() -> None:
    if CHROMIUM is None:
        missing("chromium is not installed")


FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1800",
)
TIMEOUT = 20.0


class DevTools:
    """Chromium with --remote-debugging-pipe: commands on its fd 3, answers and events on its fd 4."""

    def __init__(self, profile: Path) -> None:
        to_child, self._to_browser = os.pipe()
        self._from_browser, from_child = os.pipe()
        # bash puts the pipe ends on fds 3 and 4, where Chromium expects them.
        script = f'exec "$0" "$@" 3<&{to_child} 4>&{from_child}'
        self.proc = subprocess.Popen(
            [
                "bash",
                "-c",
                script,
                str(CHROMIUM),
                *FLAGS,
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            pass_fds=(to_child, from_child),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return dict(json.loads(raw))

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command (to the page's session once attached) and return its result."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))
            self.events.append(answer)

    def wait_for(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        while True:
            event = self._read_message(deadline)
            if event.get("method") == method:
                return event
            self.events.append(event)

    def attach(self) -> None:
        page = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(result["exceptionDetails"])
        return result["result"].get("value")

    def complaints(self) -> list[dict[str, Any]]:
        """Console messages, uncaught errors, error log entries and failed requests seen so far."""
        kinds = {"Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Network.loadingFailed"}
        found = [e for e in self.events if e.get("method") in kinds]
        found += [
            e
            for e in self.events
            if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning")
        ]
        found += [
            e
            for e in self.events
            if e.get("method") == "Network.responseReceived" and e["params"]["response"]["status"] >= 400
        ]
        return found

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (OSError, RuntimeError, TimeoutError, EOFError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    world = make_world(tmp_path_factory.mktemp("index"))
    publish(world.store, world.settings, world.sources)
    server = serve_in_thread(world.settings.public)
    yield f"http://127.0.0.1:{server.server_address[1]}/", world
    server.shutdown()
    server.server_close()
    world.store.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    tools = DevTools(tmp_path_factory.mktemp("chromium-profile"))
    tools.attach()
    yield tools
    tools.close()


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
    assert len(feeds) == 3 * 13 + 1 and "feeds.opml" in local and "snapshots/latest.json" in local  # + meetings.ics
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
