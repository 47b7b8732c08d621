"""Headless Chromium (Debian `chromium`) driven over the DevTools protocol on a pipe, for page tests."""

from __future__ import annotations

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

from feed.serve.query import QueryFeeds
from feed.serve.server import serve_in_thread
from feed.store.api import Store

from .needs import missing

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
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

    def viewport(self, width: int, height: int, *, mobile: bool) -> None:
        """Render as a phone (touch, device pixels 3x) or a desktop window of this many CSS pixels."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=3 if mobile else 1,
            mobile=mobile,
        )
        self.call("Emulation.setTouchEmulationEnabled", enabled=mobile)

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


def need_chromium() -> None:
    """Skip the calling test without Debian's chromium (fail it under CI=true)."""
    if CHROMIUM is None:
        missing("chromium is not installed")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    """One headless Chromium per module, attached to its page (a fixture of tests/conftest.py)."""
    need_chromium()
    tools = DevTools(tmp_path_factory.mktemp("chromium-profile"))
    tools.attach()
    yield tools
    tools.close()


def served(public: Path, store: Store, queries: QueryFeeds | None = None) -> Iterator[str]:
    """A published folder served on loopback for the module's tests (and query feeds when given); the store is
    closed afterwards."""
    server = serve_in_thread(public, queries=queries)
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    store.close()
