"""One scheduler per data folder, no source crawled twice at once, every stop signal clean, no orphaned crawl,
schedules that survive a step of the clock, and sources on IPv6 literal hosts (issue 17, part 4).

The process cases run the real `unionfeed run` / `unionfeed crawl` in their own interpreters (their own
session, so whatever is left is killed at the end) against loopback sites; the clock case runs the real
APScheduler scheduler in this process with the clock it reads stepped back.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from feed.app.crawl_runner import crawl_in_child
from feed.app.scheduler import Runner, build_scheduler
from feed.config.settings import Settings, load_settings
from feed.config.sources import load_sources
from feed.store.api import Store

from .support.loopback_sites import Site, handler_for, serve, source_entry, write_config


def read_events(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.startswith("{")]


def descendants(pid: int) -> set[int]:
    """Every live process under `pid` (children, grandchildren …), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has finished


def article_hits(site: Site) -> Counter[str]:
    with site.lock:
        return Counter(h.path for h in site.hits if "/bai-" in h.path)


class Scheduler:
    """`unionfeed run` in its own session, its JSON log in a file."""

    def __init__(self, config: Path, data: Path, log_path: Path, *extra: str) -> None:
        self.log_path = log_path
        self.log = log_path.open("w")
        env = {**os.environ, "UNIONFEED_LOG_FORMAT": "json"}
        command = [sys.executable, "-m", "feed.app.cli", "--config", str(config), "--data", str(data), "run", *extra]
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )

    def wait_for(self, event: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("event") == event for e in read_events(self.log_path)):
            assert time.monotonic() < deadline and self.process.poll() is None, self.log_path.read_text()
            time.sleep(0.1)

    def events(self) -> list[str]:
        return [str(e.get("event")) for e in read_events(self.log_path)]

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.log.close()


@contextmanager
def slow_site(tmp_path: Path, articles: int = 40, delay: float = 0.4) -> Iterator[tuple[Site, Path, Path]]:
    """A site whose article pages take `delay` s each, so a crawl is still running seconds after it started."""
    now = datetime.now(UTC)
    site = Site("cham", articles=articles, start=now - timedelta(days=3), gap=timedelta(hours=1), delay=delay)
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry("cham", bases["cham"], max_pages=10)])
        yield site, config, tmp_path / "data"


def cli(config: Path, data: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "feed.app.cli", "--config", str(config), "--data", str(data), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


# --- one scheduler per data folder; no source crawled twice at once --------------------------------------------
@pytest.mark.reliability("two-schedulers")
def test_a_second_scheduler_on_the_same_data_folder_is_refused_naming_the_first(tmp_path: Path) -> None:
    with slow_site(tmp_path, articles=10, delay=0.2) as (site, config, data):
        first = Scheduler(config, data, tmp_path / "first.log")
        try:
            first.wait_for("started")
            second = cli(config, data, "run", timeout=30)
            assert second.returncode == 5, second
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1, second.stderr
            assert f"pid {first.process.pid} on {socket.gethostname()}" in lines[0] and str(data) in lines[0]
            assert "already runs" in lines[0]
            first.process.send_signal(signal.SIGTERM)
            assert first.process.wait(30) == 0
        finally:
            first.close()
        # The first is gone, and the kernel released its lock with it: the folder is free for the next scheduler.
        from feed.app.locks import SCHEDULER_LOCK, try_lock

        try_lock(data / SCHEDULER_LOCK).close()
        assert max(article_hits(site).values()) == 1  # every article fetched once, by whichever ran


@pytest.mark.reliability("crawl-during-run")
def test_crawl_of_a_source_the_scheduler_is_crawling_is_refused_and_nothing_is_fetched_twice(tmp_path: Path) -> None:
    with slow_site(tmp_path, articles=16, delay=0.3) as (site, config, data):
        scheduler = Scheduler(config, data, tmp_path / "run.log")
        try:
            scheduler.wait_for("crawl_started")
            while not article_hits(site):  # the scheduler's crawl is fetching articles now
                assert scheduler.process.poll() is None, scheduler.log_path.read_text()
                time.sleep(0.05)
            manual = cli(config, data, "crawl", "cham", timeout=60)
            assert manual.returncode == 5, manual
            assert "source cham not crawled: it is being crawled by pid" in manual.stderr, manual.stderr
            scheduler.process.send_signal(signal.SIGTERM)
            assert scheduler.process.wait(30) == 0
        finally:
            scheduler.close()
        hits = article_hits(site)
        assert hits and max(hits.values()) == 1, hits
        # Once the scheduler is gone the source's lock is free: a crawl now runs and stores the rest (an article
        # whose page was in flight at the SIGTERM is fetched again: that is the stop, not a double crawl).
        manual = cli(config, data, "crawl", "cham", timeout=120)
        assert manual.returncode == 0, manual
        store = Store(load_settings(config, data).db_url)
        try:
            assert len(store.known_urls("cham")) == 16
        finally:
            store.close()


# --- every stop signal is clean; the crawl child never outlives the scheduler ------------------------------------
@pytest.mark.reliability("scheduler-sighup")
@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGQUIT], ids=["SIGHUP", "SIGQUIT"])
def test_sighup_and_sigquit_stop_the_scheduler_like_sigterm(tmp_path: Path, signum: int) -> None:
    with slow_site(tmp_path) as (site, config, data):
        scheduler = Scheduler(config, data, tmp_path / "run.log", "--stop-grace", "5")
        try:
            scheduler.wait_for("crawl_started")
            while not article_hits(site):
                time.sleep(0.05)
            children = descendants(scheduler.process.pid)
            assert children  # the forkserver and the crawl child
            scheduler.process.send_signal(signum)
            code = scheduler.process.wait(30)
            deadline = time.monotonic() + 10
            while any(alive(pid) for pid in children) and time.monotonic() < deadline:
                time.sleep(0.1)
            left = [pid for pid in children if alive(pid)]
        finally:
            scheduler.close()
    assert code == 0, scheduler.log_path.read_text()
    events = scheduler.events()
    assert "stopping" in events and "stopped" in events
    assert not left
    store = Store(load_settings(config, data).db_url)
    try:
        run = store.runs("cham", limit=1)[0]
    finally:
        store.close()
    assert run.finish_reason == "shutdown"  # the crawl was asked to stop and recorded its run


@pytest.mark.reliability("crawl-child-orphan")
def test_the_crawl_child_stops_when_the_scheduler_is_killed(tmp_path: Path) -> None:
    with slow_site(tmp_path, articles=60, delay=0.4) as (site, config, data):
        scheduler = Scheduler(config, data, tmp_path / "run.log")
        try:
            scheduler.wait_for("crawl_started")
            while not article_hits(site):
                time.sleep(0.05)
            children = descendants(scheduler.process.pid)
            assert children
            os.kill(scheduler.process.pid, signal.SIGKILL)  # the scheduler alone: its children are not signalled
            scheduler.process.wait(10)
            killed = time.monotonic()
            while any(alive(pid) for pid in children) and time.monotonic() < killed + 8:
                time.sleep(0.1)
            left = [pid for pid in children if alive(pid)]
            fetched = sum(article_hits(site).values())
            time.sleep(1.5)
            fetched_later = sum(article_hits(site).values())
        finally:
            for pid in descendants(scheduler.process.pid) | set(children):
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
            scheduler.close()
    assert not left, "the crawl child outlived the scheduler"
    assert fetched_later == fetched < 60  # nothing fetched after its parent died
    store = Store(load_settings(config, data).db_url)
    try:
        run = store.runs("cham", limit=1)[0]
    finally:
        store.close()
    assert run.finish_reason == "shutdown"  # stopped as on SIGTERM: the run is recorded with what it stored


# --- schedules survive a step of the clock -----------------------------------------------------------------------
class SteppedClock:
    """The machine's clock as APScheduler reads it, which the test can step (the real clock is never touched)."""

    offset = 0.0

    @classmethod
    def datetime_class(cls) -> type[datetime]:
        class Stepped(datetime):
            @classmethod
            def now(cls_, tz: tzinfo | None = None) -> Any:
                return datetime.fromtimestamp(time.time() + cls.offset, tz)

        return Stepped


def record_a_run(settings: Settings, slugs: list[str], **_: object) -> int:
    store = Store(settings.db_url)
    try:
        for slug in slugs:
            store.finish_run(
                store.start_run(slug),
                pages=1,
                new=0,
                updated=0,
                errors=0,
                finish_reason="finished",
                stats={"response_received_count": 1},
            )
    finally:
        store.close()
    return 0


@pytest.mark.reliability("clock-step-back")
def test_a_clock_stepped_back_ten_minutes_does_not_stop_polls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import apscheduler.executors.base
    import apscheduler.schedulers.base

    stepped = SteppedClock.datetime_class()
    monkeypatch.setattr(SteppedClock, "offset", 0.0)
    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", stepped)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", stepped)
    entries = [source_entry(name, f"http://127.0.0.1:9/{name}") for name in ("lien-doan-a", "lien-doan-b")]
    config = write_config(tmp_path / "config", entries)
    settings = load_settings(config, tmp_path / "data")
    sources = load_sources(config)
    runner = Runner(settings, sources, crawl=record_a_run, publish=lambda *a, **k: 0)
    for source in sources:
        record_a_run(settings, [source.slug])  # crawled just now: the next polls follow the 1 s grid
    scheduler = build_scheduler(settings, sources, runner, period_for=lambda s: timedelta(seconds=1))
    scheduler.start()
    try:

        def polls() -> int:
            with runner._lock:
                return runner.counts["finished"]

        deadline = time.monotonic() + 30
        while polls() < 4:
            assert time.monotonic() < deadline, runner.counts
            time.sleep(0.05)
        SteppedClock.offset = -600.0  # the machine's clock goes back ten minutes
        stepped_at, before = time.monotonic(), polls()
        while polls() < before + 6 and time.monotonic() < stepped_at + 8:
            time.sleep(0.05)
        after = polls()
    finally:
        scheduler.shutdown(wait=True)
    # Two sources at 1 s: about 2 polls a second go on; with the wall clock, none for ten minutes.
    assert after >= before + 6, (before, after, runner.counts)
    assert runner.counts["missed"] == 0


# --- IPv6 literal hosts ---------------------------------------------------------------------------------------
def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


class V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True


@pytest.mark.reliability("ipv6-literal")
@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_a_source_on_an_ipv6_literal_host_is_crawled(tmp_path: Path) -> None:
    site = Site("v6", articles=7)
    server = V6Server(("::1", 0), handler_for(site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://[::1]:{server.server_address[1]}"
        config = write_config(tmp_path / "config", [source_entry("v6", base)])
        settings = load_settings(config, tmp_path / "data")
        assert crawl_in_child(settings, ["v6"], timeout=60) == 0
    finally:
        server.shutdown()
        server.server_close()
    store = Store(settings.db_url)
    try:
        urls = store.known_urls("v6")
        run = store.runs("v6", limit=1)[0]
        errors = store.page_errors("v6")
    finally:
        store.close()
    assert len(urls) == 7 and all(url.startswith(f"{base}/tin-tuc/bai-") for url in urls), urls
    assert run.finish_reason == "finished" and not errors
    assert {"/robots.txt", "/tin-tuc/"} <= {h.path for h in site.hits}  # robots.txt obeyed over IPv6 too


@pytest.mark.reliability("crawl-during-run")
def test_a_poll_of_a_source_another_process_is_crawling_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from feed.app.locks import source_lock_path, try_lock

    with slow_site(tmp_path, articles=3, delay=0) as (site, config, data):
        settings = load_settings(config, data)
        runner = Runner(settings, load_sources(config))
        held = try_lock(source_lock_path(data, "cham"))  # as `unionfeed crawl cham` holds it while it runs
        try:
            with caplog.at_level("WARNING", logger="feed.app.scheduler"):
                runner.run_source("cham")
        finally:
            held.close()
            runner.close()
    assert not article_hits(site) and not site.hits  # the poll fetched nothing, not even robots.txt
    assert any(getattr(r, "event", None) == "crawl_busy" for r in caplog.records), caplog.text
    store = Store(settings.db_url)
    try:
        assert store.runs("cham") == []  # no run recorded over the other process's run
    finally:
        store.close()
    assert not runner.dirty.is_set()
