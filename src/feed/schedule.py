"""The scheduler: one APScheduler job per enabled source; each crawl in a child process; publish after each."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from feed.crawl import crawl_in_child
from feed.settings import Settings
from feed.sources import Source
from feed.store import Store

log = logging.getLogger(__name__)
MAX_PARALLEL_CRAWLS = 2


class Runner:
    """Runs one source's crawl and then publishes; publishing is serialised so files are never written twice at once."""

    def __init__(self, settings: Settings, sources: list[Source]) -> None:
        self.settings = settings
        self.sources = sources
        self.publish_lock = threading.Lock()
        self.stopping = threading.Event()

    def run_source(self, slug: str) -> None:
        if self.stopping.is_set():
            return
        status = crawl_in_child(self.settings, [slug])
        if status != 0:
            log.warning("crawl of %s exited with status %s", slug, status)
        self.publish()

    def publish(self) -> None:
        from feed.publish import publish

        with self.publish_lock:
            store = Store(self.settings.db_url)
            try:
                publish(store, self.settings, self.sources)
            except Exception:
                log.exception("publishing failed; the previous files stay in place")
            finally:
                store.close()


def first_run_time(source: Source, store: Store, now: datetime, index: int) -> datetime:
    """When a source's first poll after start-up is due: overdue sources soon, staggered, not all at once."""
    last = store.runs(source.slug, limit=1)
    stagger = timedelta(seconds=15 * index)
    if not last:
        return now + stagger
    due = last[0].started_at + timedelta(minutes=source.interval)
    return max(due, now + stagger)


def build_scheduler(settings: Settings, sources: list[Source], runner: Runner) -> BackgroundScheduler:
    """A scheduler with one interval job per enabled source."""
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(MAX_PARALLEL_CRAWLS)},
        timezone="Asia/Ho_Chi_Minh",
    )
    store = Store(settings.db_url)
    now = datetime.now(UTC)
    try:
        for index, source in enumerate(s for s in sources if s.enabled):
            interval = source.interval * 60
            scheduler.add_job(
                runner.run_source,
                IntervalTrigger(minutes=source.interval, jitter=min(300, interval // 10)),
                args=[source.slug],
                id=source.slug,
                name=source.name,
                next_run_time=first_run_time(source, store, now, index),
                # A poll that is late by less than half its interval still runs; later ones fold into one.
                misfire_grace_time=max(60, interval // 2),
                coalesce=True,
                max_instances=1,
            )
    finally:
        store.close()
    return scheduler


def run_scheduler(settings: Settings, sources: list[Source], *, serve: bool = False, host: str = "127.0.0.1",
                  port: int = 8080) -> int:
    """Run until SIGTERM/SIGINT: schedule every enabled source, publish once at start, optionally serve."""
    runner = Runner(settings, sources)
    runner.publish()
    scheduler = build_scheduler(settings, sources, runner)
    server = None
    if serve:
        from feed.serve import serve_in_thread

        server = serve_in_thread(settings.public, host, port)
        log.info("serving %s on http://%s:%s/", settings.public, host, server.server_address[1])
    done = threading.Event()

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: finishing", signum)
        runner.stopping.set()
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()
    print(f"scheduled {len(scheduler.get_jobs())} sources; publishing to {settings.public}")
    done.wait()
    # Running crawls finish (they have their own time limit); nothing new starts.
    scheduler.shutdown(wait=True)
    if server is not None:
        server.shutdown()
    return 0
