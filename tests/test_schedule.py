"""The scheduler: triggers, misfire grace, restarts, the job function for real, and SIGTERM on `unionfeed run`.

Time is compressed by injecting the poll period into build_scheduler (the config validator keeps its
five-minute floor); crawls are real Scrapy runs against loopback sites.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from apscheduler.triggers.cron import CronTrigger

from feed.app.scheduler import (
    GridInterval,
    Runner,
    build_scheduler,
    first_run_times,
    jitter_for,
    poll_period,
    sweep_temporary_files,
)
from feed.config.cron import cron_trigger, fire_times
from feed.config.settings import Settings, load_settings
from feed.config.sources import ConfigError, Source, load_sources, parse_sources
from feed.publish.transaction import JOURNAL, publish_lock
from feed.store.api import CrawlRun, Store

from .support.loopback_sites import Site, serve, source_entry, write_config

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BASE = {
    "slug": "a",
    "name": "A",
    "kind": "other",
    "homepage": "https://a.vn/",
    "discovery": {"feeds": ["https://a.vn/rss"]},
}


def source(**changes: object) -> Source:
    return parse_sources({"sources": [{**BASE, **changes}]}, "sources.yaml")[0]


# --- the cron field -----------------------------------------------------------------------------------------
def test_cron_field_is_optional_and_validated() -> None:
    assert source().cron is None
    assert source(cron="0 7,12,17 * * 1-5").cron == "0 7,12,17 * * 1-5"
    for bad, message in (
        ("* * * * *", "more often than every 5 minutes"),
        ("*/2 8 * * *", "more often"),
        ("61 * * * *", "not a crontab line"),
        ("0 7 * *", "not a crontab line"),
        ("0 0 31 2 *", "never fires"),
        ("0 7 * * 8", "not a crontab line"),
    ):
        with pytest.raises(ConfigError, match=f"sources.yaml: source #1 \\(a\\): field cron: .*{message}"):
            source(cron=bad)


def test_cron_weekdays_follow_crontab_not_apscheduler() -> None:
    # APScheduler 3 counts Monday as 0; an operator writing 1-5 means Monday to Friday, and 0 is Sunday.
    start = datetime(2026, 3, 1, tzinfo=VN)  # a Sunday
    weekdays = [t.strftime("%a") for t in fire_times(cron_trigger("0 7 * * 1-5"), start, 7)]
    assert weekdays == ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]
    assert [t.strftime("%a") for t in fire_times(cron_trigger("30 6 * * 0"), start, 2)] == ["Sun", "Sun"]
    assert fire_times(cron_trigger("30 6 * * 0"), start, 1)[0] == datetime(2026, 3, 1, 6, 30, tzinfo=VN)


# --- triggers and jobs --------------------------------------------------------------------------------------
def test_jitter_never_accumulates() -> None:
    start = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    trigger = GridInterval(hours=1, start_date=start, jitter=300)
    fired, when = [], trigger.get_next_fire_time(None, start - timedelta(seconds=1))
    for _ in range(24 * 7):
        fired.append(when)
        when = trigger.get_next_fire_time(when, when)
    for hour, at in enumerate(fired):
        slot = start + timedelta(hours=hour)
        assert slot <= at <= slot + timedelta(seconds=300)
    assert fired[-1] < start + timedelta(days=7)  # one poll every hour for a week: none lost to drift


def test_each_source_gets_one_job_with_grace_matched_to_its_period(tmp_path: Path) -> None:
    settings = Settings(data=tmp_path)
    sources = [
        source(slug="hourly", interval=60),
        source(slug="daily", interval=1440),
        source(slug="weekdays", cron="0 7 * * 1-5"),
        source(slug="off", enabled=False),
    ]
    scheduler = build_scheduler(settings, sources, Runner(settings, sources))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"hourly", "daily", "weekdays"}
    assert jobs["hourly"].misfire_grace_time == 3600 and jobs["daily"].misfire_grace_time == 86400
    assert jobs["weekdays"].misfire_grace_time == 86400  # the typical gap of its crontab line
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
    assert isinstance(jobs["weekdays"].trigger, CronTrigger) and isinstance(jobs["hourly"].trigger, GridInterval)
    assert jitter_for(poll_period(sources[0])) == 300 and jitter_for(timedelta(minutes=10)) == 60


def test_after_a_restart_overdue_sources_run_soon_and_spread_out(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    now = datetime.now(UTC)
    sources = [source(slug=f"s{i}", interval=60) for i in range(6)]
    finished = {
        "s0": timedelta(hours=5),
        "s1": timedelta(hours=2),
        "s2": timedelta(minutes=61),
        "s3": timedelta(minutes=20),
    }  # s4 and s5 never ran
    for slug, ago in finished.items():
        run = store.start_run(slug)
        store.finish_run(run, pages=1, new=0, updated=0, errors=0, finish_reason="finished", stats={})
        with store.session() as s:  # back-date the run as if it happened before the restart
            s.get(CrawlRun, run).started_at = now - ago
    starts = first_run_times(sources, store, now)
    store.close()
    assert abs(starts["s3"] - (now + timedelta(minutes=40))) < timedelta(seconds=1)  # not overdue: keeps its time
    overdue = sorted(starts[s] for s in ("s0", "s1", "s2", "s4", "s5"))
    assert overdue[0] == now and overdue[-1] <= now + timedelta(minutes=5)
    assert all(b - a >= timedelta(seconds=14) for a, b in pairwise(overdue))
    assert starts["s0"] < starts["s1"] < starts["s2"]  # the most overdue first


def test_sweep_removes_only_stale_temporary_files(tmp_path: Path) -> None:
    stale, fresh, real = tmp_path / "feeds" / ".all.atom.x1.tmp", tmp_path / ".index.html.x2.tmp", tmp_path / "a.atom"
    for path in (stale, fresh, real):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    os.utime(stale, (time.time() - 120, time.time() - 120))
    assert sweep_temporary_files(tmp_path) == 1
    assert not stale.exists() and fresh.exists() and real.exists()


def test_sweep_finishes_a_killed_publish_and_spares_a_live_one(tmp_path: Path) -> None:
    feed = tmp_path / "feeds" / "all.atom"
    feed.parent.mkdir()
    feed.write_text("cũ")
    staged, orphan = feed.with_name(".all.atom.k1.publish.tmp"), feed.with_name(".meetings.atom.k2.publish.tmp")
    staged.write_text("mới")
    orphan.write_text("một nửa")
    (tmp_path / JOURNAL).write_text(
        json.dumps({"steps": [["rename", "feeds/.all.atom.k1.publish.tmp", "feeds/all.atom"]]})
    )
    with publish_lock(tmp_path):  # a publisher at work: its files are not touched, however old
        assert sweep_temporary_files(tmp_path, max_age=0) == 0
        assert staged.exists() and orphan.exists() and (tmp_path / JOURNAL).exists()
    # Killed after its commit point: the journal is finished; the other staged file was never committed.
    assert sweep_temporary_files(tmp_path) == 1
    assert feed.read_text() == "mới" and not staged.exists() and not orphan.exists()
    assert not (tmp_path / JOURNAL).exists()


# --- the job function and the scheduler, for real ------------------------------------------------------------
@pytest.fixture
def sites(tmp_path: Path) -> Iterator[tuple[list[Site], Settings, list[Source]]]:
    now = datetime.now(UTC)
    sites = [
        Site("lien-doan-x", articles=6, start=now - timedelta(days=2), gap=timedelta(hours=6)),
        Site("lien-doan-y", articles=4, start=now - timedelta(days=1), gap=timedelta(hours=5)),
    ]
    with serve(sites) as bases:
        config = write_config(tmp_path / "config", [source_entry(s.name, bases[s.name]) for s in sites])
        settings = load_settings(config, tmp_path / "data")
        yield sites, settings, load_sources(config)


def test_a_job_crawls_judges_health_and_publishes(sites: tuple[list[Site], Settings, list[Source]]) -> None:
    _, settings, sources = sites
    runner = Runner(settings, sources)
    runner.run_source("lien-doan-x")
    assert runner.publish_if_dirty()  # new articles: the publisher thread would publish now
    status = json.loads((settings.public / "status.json").read_text(encoding="utf-8"))
    states = {s["slug"]: s for s in status["sources"]}
    assert states["lien-doan-x"]["state"] == "ok" and states["lien-doan-x"]["last_run"]["new"] == 6
    assert states["lien-doan-y"]["state"] == "pending"
    assert runner.counts["published"] == 1 and (settings.public / "feeds" / "all.atom").is_file()
    assert not feedparser.parse(str(settings.public / "feeds" / "health.atom")).bozo
    runner.run_source("lien-doan-x")  # nothing new, health unchanged, published moments ago: no publish
    assert not runner.publish_if_dirty()
    assert runner.counts["published"] == 1 and runner.counts["finished"] == 2


def test_compressed_schedule_runs_every_poll_once(sites: tuple[list[Site], Settings, list[Source]]) -> None:
    _, settings, sources = sites
    runner = Runner(settings, sources)
    for source in sources:  # the steady state: every source crawled once, the next polls find nothing new
        runner.run_source(source.slug)
    # From here the polls record their runs without fetching: what is measured is the scheduler (one poll per
    # slot, none skipped, none doubled), which a real crawl's duration on a loaded machine must not decide.
    # test_a_job_crawls_judges_health_and_publishes runs the job with a real crawl.
    runner.crawl = record_a_run
    scheduler = build_scheduler(settings, sources, runner, period_for=lambda s: timedelta(seconds=4))
    scheduler.start()
    try:
        deadline = time.monotonic() + 60
        while not all(len(runner.fired.get(s.slug, ())) >= 3 for s in sources):
            assert time.monotonic() < deadline, runner.fired
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    store = Store(settings.db_url)
    runs = {s.slug: len(store.runs(s.slug)) - 1 for s in sources}
    store.close()
    for slug, due in runner.fired.items():
        gaps = [(b - a).total_seconds() for a, b in pairwise(due)]
        # One poll per 4 s slot (jitter up to 0.4 s): no slot skipped (a gap near 8 s), none doubled (near 0).
        assert len(due) >= 3 and all(3.5 < gap < 4.5 for gap in gaps), (slug, gaps)
        assert runs[slug] == len(due)  # each due poll crawled exactly once
    assert runner.counts["missed"] == 0 and runner.counts["overlapping"] == 0


def record_a_run(settings: Settings, slugs: list[str], **_: object) -> int:
    """A crawl that finds nothing new, at once: the run is recorded as a real one would be."""
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


# --- SIGTERM ------------------------------------------------------------------------------------------------
def read_events(path: Path) -> list[dict[str, object]]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.startswith("{")]


@pytest.mark.reliability("crawl-sigterm")
def test_sigterm_stops_a_running_crawl_and_leaves_complete_files(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    slow = Site("cham", articles=30, start=now - timedelta(days=3), gap=timedelta(hours=2), delay=0.5)
    with serve([slow]) as bases:
        config = write_config(tmp_path / "config", [source_entry("cham", bases["cham"])])
        log_path = tmp_path / "run.log"
        env = {**os.environ, "UNIONFEED_LOG_FORMAT": "json"}
        with log_path.open("w") as log:
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "feed.app.cli",
                    "--config",
                    str(config),
                    "--data",
                    str(tmp_path / "data"),
                    "run",
                    "--stop-grace",
                    "10",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
            try:
                deadline = time.monotonic() + 60
                while not any(e.get("event") == "crawl_started" for e in read_events(log_path)):
                    assert time.monotonic() < deadline and child.poll() is None, log_path.read_text()
                    time.sleep(0.2)
                # Some articles fetched, most not: wait for the first article page served (a loaded machine may take
                # more than a few seconds to get there), then a moment more.
                while not any(h.path.startswith("/tin-tuc/bai-") and h.status == 200 for h in list(slow.hits)):
                    assert time.monotonic() < deadline and child.poll() is None, log_path.read_text()
                    time.sleep(0.1)
                time.sleep(1)
                sent = time.monotonic()
                child.send_signal(signal.SIGTERM)
                code = child.wait(timeout=40)
                took = time.monotonic() - sent
            finally:
                if child.poll() is None:
                    child.kill()
    assert code == 0, log_path.read_text()
    assert took < 10 + 5, took  # the crawl's grace, plus a moment
    events = [e.get("event") for e in read_events(log_path)]
    assert "stopping" in events and "stopped" in events
    public = tmp_path / "data" / "public"
    assert not list(public.rglob(".*.tmp"))
    json.loads((public / "status.json").read_text(encoding="utf-8"))
    for feed in public.rglob("*.atom"):
        assert not feedparser.parse(str(feed)).bozo, feed
    store = Store(load_settings(config, tmp_path / "data").db_url)
    run = store.runs("cham", limit=1)[0]
    stored = len(store.known_urls("cham"))
    store.close()
    # Scrapy closed the spider on the signal: the run is recorded, with what it stored so far.
    assert run.finish_reason == "shutdown" and 0 < stored < 30


# --- the container's entrypoint and healthcheck (no Docker engine here: run them as the image would) ----------
def dockerfile_instruction(name: str) -> list[str]:
    """The JSON-array form of an instruction in the Dockerfile (the last one, as Docker uses)."""
    text = (Path(__file__).resolve().parents[1] / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith(name + " ")]
    body = lines[-1].removeprefix(name).strip()
    if name == "HEALTHCHECK":
        body = body[body.index("CMD") + 3 :].strip()
    return list(json.loads(body))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_entrypoint_serves_healthz_and_the_healthcheck_passes(tmp_path: Path) -> None:
    entrypoint, command = dockerfile_instruction("ENTRYPOINT"), dockerfile_instruction("CMD")
    healthcheck = dockerfile_instruction("HEALTHCHECK")
    assert entrypoint == ["unionfeed"] and command[:2] == ["run", "--serve"]
    port = free_port()
    command = [str(port) if arg == "8080" else "127.0.0.1" if arg == "0.0.0.0" else arg for arg in command]
    check = [
        sys.executable if healthcheck[0] == "python" else healthcheck[0],
        *(arg.replace(":8080/", f":{port}/") for arg in healthcheck[1:]),
    ]
    now = datetime.now(UTC)
    with serve([Site("hop-dong", articles=3, start=now - timedelta(days=1))]) as bases:
        write_config(tmp_path / "config", [source_entry("hop-dong", bases["hop-dong"])])
        # The image runs in a folder whose config/ and data/ are the volumes; here: tmp_path.
        env = {**os.environ, "UNIONFEED_LOG_FORMAT": "json"}
        assert subprocess.run(check, env=env, capture_output=True, timeout=30).returncode != 0  # nothing up yet
        child = subprocess.Popen(
            [sys.executable, "-m", "feed.app.cli", *command],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while subprocess.run(check, env=env, capture_output=True, timeout=30).returncode != 0:
                assert time.monotonic() < deadline and child.poll() is None
                time.sleep(0.5)
            child.send_signal(signal.SIGTERM)
            assert child.wait(timeout=30) == 0
        finally:
            if child.poll() is None:
                child.kill()
    data = tmp_path / "data"
    assert (data / "public" / "status.json").is_file() and (data / "unionfeed.sqlite").is_file()


def test_dockerfile_copies_what_exists_and_dockerignore_lets_it_through() -> None:
    root = Path(__file__).resolve().parents[1]
    text = (root / "Dockerfile").read_text(encoding="utf-8")
    sources = [
        part
        for line in text.splitlines()
        if line.startswith("COPY ") and "--from=" not in line
        for part in line.split()[1:-1]
    ]
    assert {"pyproject.toml", "README.md", "src/", "scrapers/", "config/"} <= set(sources)
    allowed = {
        line[1:].rstrip("/") for line in (root / ".dockerignore").read_text().splitlines() if line.startswith("!")
    }
    for source in sources:
        assert (root / source).exists(), source
        assert source.rstrip("/") in allowed, f"{source} is excluded by .dockerignore"
    # The dependency layer's one-liner reads exactly the project's dependencies.
    start = text.index('python -c "') + len('python -c "')
    # As the shell passes it: a backslash-newline inside double quotes joins lines; "\\n" reaches Python as it is.
    script = text[start : text.index('"', start)].replace("\\\n", "")
    listed = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True)
    import tomllib

    declared = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert listed.stdout.split() == declared
    # --build-arg EXTRAS=postgres adds that extra's packages (the PostgreSQL driver).
    env = {**os.environ, "EXTRAS": "postgres"}
    with_pg = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True, env=env
    )
    assert any(line.startswith("psycopg") for line in with_pg.stdout.split()) and len(with_pg.stdout.split()) > len(
        declared
    )
