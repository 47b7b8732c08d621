"""Process faults, tried on purpose: kill -9 during a crawl and during a publish, a full disk while publishing,
a crawl and publishes at the same time. Real `unionfeed` subprocesses, real SQLite files, real loopback sites,
and the state afterwards read back: the store row by row, every published file parsed and checked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from feed.app.crawl_runner import publish_in_child
from feed.app.scheduler import sweep_temporary_files
from feed.config.settings import load_settings
from feed.config.sources import load_sources
from feed.health.verdict import source_health
from feed.lang.urls import article_id
from feed.publish.transaction import JOURNAL, LOCK, publish_lock
from feed.store.api import Store

from .support.loopback_sites import Site, serve, source_entry, write_config
from .support.process_faults import (
    CLI,
    KILLER,
    SOURCE_COUNT,
    articles,
    assert_manifest_matches,
    assert_not_served,
    assert_published_state,
    assert_store_sound,
    kill_group,
    kill_points,
    make_published,
    query,
    runs,
    small_disk,
    start,
    visible,
    wait_for,
    wait_until_locked,
)


@pytest.mark.reliability("crawl-kill9")
def test_kill_9_during_a_crawl_keeps_what_was_committed_and_the_next_run_continues(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    site = Site("cham", articles=16, start=now - timedelta(days=2), gap=timedelta(hours=2), delay=0.2)
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry("cham", bases["cham"])])
        data, log = tmp_path / "data", tmp_path / "crawl.log"
        db = data / "unionfeed.sqlite"
        args = ["--config", str(config), "--data", str(data), "crawl"]
        sources = load_sources(config)
        kept: dict[str, tuple[object, ...]] = {}
        # Killed right after its run was recorded, then mid-crawl once at least 5 articles were committed. The
        # pipeline commits in batches (here of 4, so that a kill falls between them): what a kill loses is the
        # batch being filled, which the third crawl fetches again.
        batched = {"UNIONFEED_STORE_BATCH": "4"}
        for moment, ready in (("start", lambda: len(runs(db)) == 1), ("mid", lambda: len(articles(db)) >= 5)):
            crawl = start(args, log, env=batched)
            wait_for(ready, crawl)
            seen = articles(db)
            assert kill_group(crawl) == -signal.SIGKILL, moment
            kept = assert_store_sound(db, seen)
            assert runs(db)[-1][1:3] == (None, None)  # left unfinished: no process remains to record its end
            store = Store(f"sqlite:///{db}")
            health = source_health(store, sources)[0]
            store.close()
            assert health.last_run is not None and health.last_run.outcome == "running"
            assert health.failing_runs == 0 and health.state == "pending"  # not a failure
        assert 5 <= len(kept) < 16
        finished = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, check=False)
        assert finished.returncode == 0, finished.stderr[-3000:]
    after = assert_store_sound(db, kept)
    urls = {f"{bases['cham']}/tin-tuc/bai-{n}.html" for n in range(1, 17)}
    assert {row[2] for row in after.values()} == urls and len(after) == 16  # the rest stored, none twice
    assert all(article_id(str(row[1])) == key for key, row in after.items())  # ids from canonical URLs
    history = runs(db)
    assert [r[2] for r in history] == ["abandoned", "abandoned", "finished"]
    assert sum(int(str(r[3])) for r in history) == 16  # each killed run credited with what it stored
    store = Store(f"sqlite:///{db}")
    health = source_health(store, sources)[0]
    store.close()
    assert health.state == "ok" and health.failing_runs == 0 and not health.reasons
    assert not [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if "locked" in line]


@pytest.mark.reliability("publish-kill9")
def test_kill_9_during_a_publish_leaves_every_file_whole(tmp_path: Path) -> None:
    world = make_published(tmp_path, 800)
    log = tmp_path / "steps.log"
    env = {"KILL_PUBLIC": str(world.public), "KILL_LOG": str(log)}
    killer = [sys.executable, "-c", KILLER]
    world.add(8, source=0)
    reference = start(world.args("publish"), tmp_path / "publish.log", prefix=killer, env=env)
    assert reference.wait(timeout=120) == 0
    assert_published_state(world.public, {})  # every file of the reference publish checked once
    outcomes, served_checks = [], 0
    for number, point in enumerate(kill_points(log)):
        world.add(6, source=number % SOURCE_COUNT)  # every publish has new articles to write
        before = visible(world.public)
        publish = start(
            world.args("publish"),
            tmp_path / "publish.log",
            prefix=killer,
            env={**env, "KILL_AT": point if isinstance(point, str) else "", "KILL_LOG": os.devnull},
        )
        if isinstance(point, float):
            wait_until_locked(publish, world.public / LOCK)
            time.sleep(point)
            kill_group(publish)
        assert publish.wait(timeout=120) == -signal.SIGKILL, point
        with publish_lock(world.public, wait=False) as free:
            assert free  # the kernel dropped the dead publisher's lock: the next publish will not wait
        outcomes.append(assert_published_state(world.public, before))
        leftovers = [p for p in world.public.rglob(".*") if p.is_file() and p.name.endswith((".tmp", JOURNAL))]
        assert_not_served(world.public, leftovers)
        served_checks += len(leftovers)
    # Killed before the commit point: old files; after it: the next publish finished the journal.
    assert outcomes[:3] == [False] * 3 and outcomes[3:6] == [True] * 3, outcomes
    assert served_checks >= 10  # staged files and journals were there to be asked for
    sweep_temporary_files(world.public)  # the scheduler's start: finishes or clears the last kill's work
    assert not (world.public / JOURNAL).exists() and not list(world.public.rglob(".*.publish.tmp"))
    assert_manifest_matches(world.public)
    final = subprocess.run([*CLI, *world.args("publish")], capture_output=True, text=True, timeout=120, check=False)
    assert final.returncode == 0, final.stderr
    files = assert_manifest_matches(world.public)
    latest = json.loads(files["snapshots/latest.json"])
    assert {a["id"] for a in latest["articles"]} == set(articles(world.db)) and latest["count"] == world.next_number
    assert not (world.public / JOURNAL).exists() and not list(world.public.rglob(".*.tmp"))


@pytest.mark.reliability("publish-disk-full")
def test_a_full_disk_fails_the_publish_cleanly_and_the_next_one_succeeds(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "24m") as disk:
        world = make_published(tmp_path, 900, public=disk.root / "public")
        before = {
            p.relative_to(world.public).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in world.public.rglob("*")
            if p.is_file()
        }
        latest = len(before["snapshots/latest.json"][0])
        world.add(40, source=2)
        disk.fill(latest // 2)  # room for half the new latest.json: the staging runs out midway
        failed = subprocess.run(
            [*disk.prefix(), *world.args("publish")], capture_output=True, text=True, timeout=120, check=False
        )
        assert failed.returncode == 1
        message = failed.stderr.strip().splitlines()[-1]
        cause = "the disk is full: No space left on device" if disk.mounted else "File too large"
        assert cause in message and f"writing {world.public}/" in message, message
        assert message.startswith("unionfeed publish: ") and "Traceback" not in failed.stderr, failed.stderr
        after = {
            p.relative_to(world.public).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in world.public.rglob("*")
            if p.is_file()
        }
        assert after == before  # every file as it was, to the nanosecond; no staged file left behind
        assert not assert_published_state(world.public, {})  # all valid, manifest matching, no journal
        disk.free()
        again = subprocess.run([*CLI, *world.args("publish")], capture_output=True, text=True, timeout=120, check=False)
        assert again.returncode == 0, again.stderr
        files = assert_manifest_matches(world.public)
        assert json.loads(files["snapshots/latest.json"])["count"] == 940
        assert not list(world.public.rglob(".*.tmp"))
    print(f"full disk: {'tmpfs' if disk.mounted else 'RLIMIT_FSIZE'}")


@pytest.mark.reliability("crawl-publish-concurrent")
def test_a_crawl_and_publishes_at_once_lose_nothing(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    site = Site("dong-thoi", articles=16, start=now - timedelta(days=2), gap=timedelta(hours=1), delay=0.2)
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry("dong-thoi", bases["dong-thoi"])])
        data = tmp_path / "data"  # no store yet: the crawl and the first publishes both create it
        settings = load_settings(config, data)
        args = ["--config", str(config), "--data", str(data)]
        crawl = start([*args, "crawl"], tmp_path / "crawl.log")
        statuses: list[int] = []  # the scheduler's way, alongside: publishes in forked children

        def scheduler_publishes() -> None:
            while crawl.poll() is None:
                statuses.append(publish_in_child(settings, timeout=120))
                time.sleep(0.5)  # two cores are shared with the crawl: publishing without a pause would starve it

        thread = threading.Thread(target=scheduler_publishes)
        thread.start()
        publishes: list[subprocess.CompletedProcess[str]] = []
        while crawl.poll() is None:
            publishes.append(
                subprocess.run([*CLI, *args, "publish"], capture_output=True, text=True, timeout=120, check=False)
            )
            time.sleep(0.5)
        thread.join(timeout=120)
        publishes.append(
            subprocess.run([*CLI, *args, "publish"], capture_output=True, text=True, timeout=120, check=False)
        )
    crawl_log = (tmp_path / "crawl.log").read_text(encoding="utf-8", errors="replace")
    assert crawl.returncode == 0, crawl_log[-3000:]
    assert len(publishes) >= 3 and all(p.returncode == 0 for p in publishes), [p.stderr for p in publishes]
    assert statuses and all(s == 0 for s in statuses), statuses
    for text in [crawl_log, *(p.stderr for p in publishes)]:
        assert "locked" not in text and "Traceback" not in text and "Error processing" not in text
    db = data / "unionfeed.sqlite"
    stored = articles(db)
    assert {row[2] for row in stored.values()} == {f"{bases['dong-thoi']}/tin-tuc/bai-{n}.html" for n in range(1, 17)}
    assert [r[2:] for r in runs(db)] == [("finished", 16)]
    files = assert_manifest_matches(settings.public)
    latest = json.loads(files["snapshots/latest.json"])
    assert {a["id"] for a in latest["articles"]} == set(stored)
    stories = query(db, "SELECT COUNT(DISTINCT COALESCE(cluster_id, id)) FROM articles")[0][0]
    atom = files["feeds/all.atom"]  # near-copies are one story: one entry, the others linked from it
    assert len(feedparser.parse(atom).entries) == stories and all(str(r[2]).encode() in atom for r in stored.values())
    print(f"{len(publishes)} CLI publishes and {len(statuses)} forked ones during one crawl")
