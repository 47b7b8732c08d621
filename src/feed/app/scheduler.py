"""The scheduler: one APScheduler job per enabled source; each crawl in a child process; health and publish after.

Each job fires on its source's interval (or crontab line) with a jitter that never accumulates, may start
late by up to one period (APScheduler's default grace is one second, which silently drops polls whenever
the pool is busy), folds missed polls into one, and never runs twice at once. After a restart each source
continues from its last run: one that is overdue runs soon, overdue ones spread out, not all at once.
"""

from __future__ import annotations

import logging
import math
import random
import signal
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from time import monotonic, time
from typing import Any

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from feed.alerts.run import AlertsWorker, start_alerts
from feed.app.clock import install as install_steady_clock
from feed.app.crawl_runner import STOP_GRACE, crawl_in_child, publish_in_child
from feed.app.locks import BUSY_EXIT, scheduler_lock
from feed.config.cron import cron_trigger, fire_times
from feed.config.settings import Settings
from feed.config.sources import Source
from feed.health.verdict import SourceHealth, run_figures
from feed.lang.dates import VN_ZONE
from feed.publish.transaction import STAGED_SUFFIX, finish_interrupted, publish_lock
from feed.store.api import Store, now_utc

log = logging.getLogger(__name__)
MAX_PARALLEL_CRAWLS = 2
MAX_JITTER = timedelta(minutes=5)
OVERDUE_WINDOW = timedelta(minutes=5)  # after a restart, overdue sources start spread over at most this
OVERDUE_SPACING = timedelta(seconds=15)
PUBLISH_EVERY = timedelta(minutes=10)  # a crawl with nothing new republishes only this often (index freshness)
HEALTH_FULL_EVERY = timedelta(minutes=5)
PUBLISH_GAP = 60.0  # seconds between publishes at least: crawls finishing meanwhile share the next one
FIRED_KEPT = 48  # due times remembered per source (for status and the bench), bounded for months of running
TEMP_MAX_AGE = 60  # seconds: older temporary files of atomic writes belong to a writer that was killed

PeriodFor = Callable[[Source], timedelta]


class GridInterval(IntervalTrigger):
    """An interval trigger whose jitter does not accumulate: every poll is jittered off a fixed grid.

    APScheduler 3 adds each jitter to the previous, already jittered time, so an hourly job with a five-minute
    jitter drifts to ~62.5 minutes on average, which is one poll a day lost.
    """

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        if previous_fire_time is None:
            return super().get_next_fire_time(None, now)
        start = self.start_date.timestamp()
        step = math.floor((previous_fire_time.timestamp() - start) / self.interval_length) + 1
        when = start + step * self.interval_length + (random.uniform(0, self.jitter) if self.jitter else 0)
        if self.end_date and when > self.end_date.timestamp():
            return None
        return datetime.fromtimestamp(when, tz=self.timezone)


def poll_period(source: Source) -> timedelta:
    """How often a source is polled: its interval, or the typical gap of its crontab line."""
    if not source.cron:
        return timedelta(minutes=source.interval)
    times = fire_times(cron_trigger(source.cron), now_utc(), 12)
    gaps = sorted(b - a for a, b in pairwise(times))
    return gaps[len(gaps) // 2] if gaps else timedelta(days=1)


def jitter_for(period: timedelta) -> int:
    """Seconds of jitter: a tenth of the period, at most five minutes, so sites are not all hit on the hour."""
    return int(min(MAX_JITTER, period / 10).total_seconds())


def source_trigger(source: Source, period: timedelta, start: datetime) -> BaseTrigger:
    """A source's trigger: its crontab line, or a grid of its period starting at `start`."""
    if source.cron:
        return cron_trigger(source.cron, jitter=jitter_for(period) or None)
    return GridInterval(
        seconds=period.total_seconds(), start_date=start, timezone=VN_ZONE, jitter=jitter_for(period) or None
    )


def next_due(source: Source, store: Store, period: timedelta, now: datetime) -> datetime:
    """When a source's next poll falls due, from its last run (and any Retry-After it was given)."""
    runs = store.runs(source.slug, limit=1)
    if not runs:
        return now
    last = run_figures(runs[0], now, 0)
    if source.cron:
        due = cron_trigger(source.cron).get_next_fire_time(None, last.started_at) or now + period
    else:
        due = last.started_at + period
    if last.retry_after_until and last.retry_after_until > due:
        due = last.retry_after_until
    return due


def first_run_times(
    sources: list[Source], store: Store, now: datetime, period_for: PeriodFor = poll_period
) -> dict[str, datetime]:
    """When each enabled source first runs after start-up: on time, or (overdue) soon and spread out."""
    due = {s.slug: next_due(s, store, period_for(s), now) for s in sources if s.enabled}
    overdue = sorted((when, slug) for slug, when in due.items() if when <= now)
    if overdue:
        shortest = min(period_for(s) for s in sources if s.enabled)
        window = min(OVERDUE_WINDOW, shortest / 4)
        spacing = min(OVERDUE_SPACING, window / len(overdue))
        for index, (_, slug) in enumerate(overdue):
            due[slug] = now + spacing * index
    return due


class Runner:
    """Runs one source's crawl in a child, then judges health; a publisher thread publishes what changed.

    Publishing rebuilds every feed from the store, so it runs at most once per publish_gap however many
    sources found something meanwhile, in its own child, never holding up a crawl worker.
    """

    def __init__(
        self,
        settings: Settings,
        sources: list[Source],
        *,
        stop_grace: float = STOP_GRACE,
        publish_gap: float = PUBLISH_GAP,
        crawl: Callable[..., int] = crawl_in_child,
        publish: Callable[..., int] = publish_in_child,
    ) -> None:
        settings.data.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.sources = sources
        self.stop_grace = stop_grace
        self.crawl = crawl
        self.publish_child = publish
        self.publish_gap = publish_gap
        # One store (one engine and connection pool) for the scheduler's life: an engine per call would cost
        # a connection setup each time and leave the allocator fragmented, so memory would creep up.
        self.store = Store(settings.db_url)
        self.health: dict[str, SourceHealth] = {}  # the latest judgement of each source
        # Gaps between publishes and health passes are measured on the monotonic clock: a step of the wall
        # clock must not hold publishing back (or force it).
        self.last_full_health = float("-inf")
        self.publish_lock = threading.Lock()
        self.health_lock = threading.Lock()
        self.dirty = threading.Event()  # a crawl stored something the published files do not show yet
        self.stopping = threading.Event()
        self.running: dict[str, float] = {}
        self.last_publish = float("-inf")
        self.jobs: dict[str, Job] = {}
        self.fired: dict[str, deque[datetime]] = {}  # the latest due times of each source's polls
        self.counts = {"started": 0, "finished": 0, "deferred": 0, "missed": 0, "overlapping": 0, "published": 0}
        self._lock = threading.Lock()
        self.alerts: AlertsWorker | None = None  # feed.alerts: poked after each publish, never waited for

    def run_source(self, slug: str) -> None:
        """The job of one source: crawl unless stopping or deferred, then health and (when useful) publish."""
        if self.stopping.is_set() or self._deferred(slug):
            return
        with self._lock:
            self.running[slug] = monotonic()
            self.counts["started"] += 1
        log.info("crawl started", extra={"event": "crawl_started", "source": slug})
        started = monotonic()
        try:
            status = self.crawl(self.settings, [slug], stop=self.stopping, grace=self.stop_grace)
        finally:
            with self._lock:
                self.running.pop(slug, None)
                self.counts["finished"] += 1
        if status == BUSY_EXIT:  # `unionfeed crawl` is fetching this source right now: this poll is its crawl
            log.warning(
                "poll skipped: another process is crawling this source",
                extra={"event": "crawl_busy", "source": slug},
            )
            return
        figures = self._log_finished(slug, status, monotonic() - started)
        if self.stopping.is_set():
            return  # the next start publishes whatever this crawl stored
        changed = bool(figures and (figures.get("new") or figures.get("updated")))
        transitions = self.write_health(slug)
        if changed or transitions or monotonic() - self.last_publish > PUBLISH_EVERY.total_seconds():
            self.dirty.set()  # the publisher thread folds many crawls' changes into one publish

    def _deferred(self, slug: str) -> bool:
        runs = self.store.runs(slug, limit=1)
        if not runs:
            return False
        until = run_figures(runs[0], now_utc(), self.settings.crawl_time_limit).retry_after_until
        if until is None or until <= now_utc():
            return False
        with self._lock:
            self.counts["deferred"] += 1
        log.info(
            "poll skipped: the site asked us to wait",
            extra={"event": "crawl_deferred", "source": slug, "until": until.isoformat()},
        )
        return True

    def _log_finished(self, slug: str, status: int, seconds: float) -> dict[str, Any] | None:
        runs = self.store.runs(slug, limit=1)
        if not runs:
            log.warning("crawl left no run record", extra={"event": "crawl_failed", "source": slug, "exit": status})
            return None
        run = run_figures(runs[0], now_utc(), self.settings.crawl_time_limit)
        fields = {
            "event": "crawl_finished",
            "source": slug,
            "exit": status,
            "seconds": round(seconds, 2),
            "reason": run.finish_reason,
            "outcome": run.outcome,
            "requests": run.requests,
            "not_modified": run.not_modified,
            "found": run.found,
            "new": run.new,
            "updated": run.updated,
            "errors": run.errors,
        }
        level = logging.INFO if status == 0 and run.outcome not in ("failed", "empty") else logging.WARNING
        log.log(level, "crawl finished", extra=fields)
        return fields

    def next_runs(self) -> dict[str, datetime]:
        """When each source polls next."""
        # Read from the Job objects add_job returned (the memory job store keeps and updates those same
        # objects), not scheduler.get_jobs(): shutdown(wait=True) holds the job-store lock while it waits
        # for running jobs, so a job asking for that lock would never finish.
        return {slug: job.next_run_time for slug, job in self.jobs.items() if job.next_run_time}

    def write_health(self, slug: str | None = None) -> int:
        """Judge health, announce changes, write status.json and feeds/health.atom; returns how many changed.

        After a crawl only that source is judged again (the others keep their last judgement), and every
        source at least every HEALTH_FULL_EVERY, since silence grows with time alone.
        """
        from feed.publish.status_files import refresh_health

        with self.health_lock:
            full = slug is None or monotonic() - self.last_full_health > HEALTH_FULL_EVERY.total_seconds()
            try:
                created = refresh_health(
                    self.store,
                    self.settings,
                    self.sources,
                    next_runs=self.next_runs(),
                    cache=self.health,
                    only=None if full else {slug} if slug else None,
                )
            except Exception:
                log.exception("writing health failed; the previous files stay in place")
                return 0
            if full:
                self.last_full_health = monotonic()
            return len(created)

    def close(self) -> None:
        self.store.close()

    def publish_if_dirty(self) -> bool:
        """Publish now if a crawl changed something since the last publish; returns whether it did."""
        if not self.dirty.is_set() or self.stopping.is_set():
            return False
        self.dirty.clear()
        self.publish()
        return True

    def publisher_loop(self) -> None:
        """Publish when a crawl asks, at most once per publish_gap, until stopping."""
        while not self.stopping.is_set():
            if not self.dirty.wait(0.5):
                continue
            wait = self.last_publish + self.publish_gap - monotonic()
            if wait > 0 and self.stopping.wait(wait):
                return
            self.publish_if_dirty()

    def start_publisher(self) -> threading.Thread:
        thread = threading.Thread(target=self.publisher_loop, name="unionfeed-publisher", daemon=True)
        thread.start()
        return thread

    def publish(self) -> None:
        """Publish every feed in a child (memory returned after); a failure keeps the previous files."""
        with self.publish_lock:
            if self.stopping.is_set():
                return
            started = monotonic()
            status = self.publish_child(self.settings, stop=self.stopping)
            self.last_publish = monotonic()
            self.counts["published"] += 1
            sweep_temporary_files(self.settings.public, max_age=600)
        if self.alerts is not None and status == 0:
            self.alerts.poke()  # the alerts thread sends what this publish made new; publishing goes on
        level = logging.INFO if status == 0 else logging.WARNING
        log.log(
            level, "published", extra={"event": "published", "exit": status, "seconds": round(monotonic() - started, 2)}
        )

    def on_event(self, event: JobExecutionEvent | JobSubmissionEvent) -> None:
        """Remember when polls were due; count those APScheduler could not run (late past grace, or overlapping)."""
        if isinstance(event, JobSubmissionEvent):
            with self._lock:
                self.fired.setdefault(event.job_id, deque(maxlen=FIRED_KEPT)).extend(event.scheduled_run_times)
            return
        key = "missed" if event.code == EVENT_JOB_MISSED else "overlapping"
        with self._lock:
            self.counts[key] += 1
        log.warning(
            "poll %s",
            "missed" if key == "missed" else "skipped: previous still running",
            extra={"event": f"poll_{key}", "source": event.job_id},
        )

    def summary(self) -> str:
        """One line for the terminal: what is running and what comes next."""
        with self._lock:
            running = ", ".join(f"{slug} ({monotonic() - t:.0f} s)" for slug, t in self.running.items())
        upcoming = sorted(self.next_runs().items(), key=lambda kv: kv[1])[:1]
        parts = [f"crawling {running}" if running else "idle"]
        if upcoming:
            slug, when = upcoming[0]
            parts.append(f"next: {slug} at {when.astimezone(UTC).astimezone():%H:%M:%S}")
        parts.append(f"{self.counts['finished']} crawls done")
        return " · ".join(parts)


def build_scheduler(
    settings: Settings,
    sources: list[Source],
    runner: Runner,
    *,
    period_for: PeriodFor = poll_period,
    now: datetime | None = None,
) -> BackgroundScheduler:
    """A scheduler with one job per enabled source (`period_for` lets tests and the bench compress time).

    It schedules by a steady clock (feed.app.clock): a step of the machine's clock does not stop or bunch polls.
    """
    install_steady_clock()
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(MAX_PARALLEL_CRAWLS)}, timezone=VN_ZONE)
    now = now or now_utc()
    starts = first_run_times(sources, runner.store, now, period_for)  # the runner's store: one open per process
    for source in (s for s in sources if s.enabled):
        period = period_for(source)
        start = starts[source.slug]
        runner.jobs[source.slug] = scheduler.add_job(
            runner.run_source,
            source_trigger(source, period, start),
            args=[source.slug],
            id=source.slug,
            name=source.name,
            # The first poll is set explicitly: an overdue source runs soon, then keeps its own times.
            next_run_time=start,
            # A poll late by less than a whole period still runs; later than that the next one is due anyway.
            misfire_grace_time=max(1, int(period.total_seconds())),
            coalesce=True,
            max_instances=1,
        )
    scheduler.add_listener(runner.on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    return scheduler


def sweep_temporary_files(folder: Path, max_age: float = TEMP_MAX_AGE) -> int:
    """Remove temporary files that writers killed midway left behind; returns how many.

    A publish killed after its commit point is finished first and one killed before it is cleared away, when no
    publisher holds the folder's lock; other temporary files (status.json's, say) go once older than max_age.
    """
    if not folder.is_dir():
        return 0
    removed = 0
    with publish_lock(folder, wait=False) as idle:
        if idle:
            removed += finish_interrupted(folder)[1]
        limit = time() - max_age
        for path in folder.rglob(".*.tmp"):
            if path.name.endswith(STAGED_SUFFIX) and not idle:
                continue  # a live publisher's staged file, however long it has been rendering
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
    return removed


def run_scheduler(
    settings: Settings,
    sources: list[Source],
    *,
    serve: bool = False,
    host: str = "127.0.0.1",
    port: int = 8080,
    stop_grace: float = STOP_GRACE,
    console: Any = None,
) -> int:
    """Run until SIGTERM, SIGINT, SIGHUP or SIGQUIT: schedule every enabled source, publish once at start, serve.

    One scheduler per data folder: LockHeld (naming the holder) when another one already runs on it.
    On a signal nothing new starts; a running crawl is asked to stop and killed after `stop_grace` seconds
    (its articles so far are stored; the next start publishes them); a running publish may finish briefly.
    """
    with scheduler_lock(settings.data):
        return _run_scheduler(
            settings, sources, serve=serve, host=host, port=port, stop_grace=stop_grace, console=console
        )


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)  # each stops the scheduler cleanly


def _run_scheduler(
    settings: Settings, sources: list[Source], *, serve: bool, host: str, port: int, stop_grace: float, console: Any
) -> int:
    sweep_temporary_files(settings.public)
    runner = Runner(settings, sources, stop_grace=stop_grace)
    done = threading.Event()

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signum, extra={"event": "stopping", "signal": signum})
        runner.stopping.set()
        done.set()

    # Handlers first: a signal during the first publish must stop it cleanly too.
    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    server = None
    try:
        if serve:
            from feed.serve.query import query_feeds  # /feeds/query.* from the store, read-only
            from feed.serve.server import serve_in_thread

            queries = query_feeds(settings.db_url, sources, settings.site_url, settings.websub_hub)
            server = serve_in_thread(settings.public, host, port, queries)
            log.info(
                "serving",
                extra={
                    "event": "serving",
                    "root": str(settings.public),
                    "url": f"http://{host}:{server.server_address[1]}/",
                },
            )
        runner.alerts = start_alerts(settings, runner.store, runner.stopping)  # a mistake stops here (ConfigError)
        runner.write_health()
        runner.publish()
        runner.start_publisher()
        scheduler = build_scheduler(settings, sources, runner)
        scheduler.start()
        log.info(
            "scheduler started",
            extra={"event": "started", "sources": len(scheduler.get_jobs()), "public": str(settings.public)},
        )
        wait_until(done, runner, console)
        # Nothing new starts; running crawls get stop_grace seconds and a publish a few (run_child enforces it).
        scheduler.shutdown(wait=False)
        deadline = monotonic() + stop_grace + 15
        while (runner.running or runner.publish_lock.locked()) and monotonic() < deadline:
            done.wait(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if server is not None:
            server.shutdown()
    log.info("stopped", extra={"event": "stopped", "abandoned": sorted(runner.running)})
    if not runner.running:
        runner.close()
    return 0


def wait_until(done: threading.Event, runner: Runner, console: Any) -> None:
    """Wait for the stop signal; in a terminal, show what the scheduler is doing on one live line."""
    if console is None or not console.is_terminal:
        while not done.wait(1.0):
            pass
        return
    with console.status(runner.summary()) as status:
        while not done.wait(1.0):
            status.update(runner.summary())
