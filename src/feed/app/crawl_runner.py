"""Running crawls: Scrapy settings from ours, all chosen sources in one process, or in a child with a time limit.

Children fork from a forkserver that has Scrapy and the pipeline already imported, so a poll that finds
nothing new costs a fraction of a second instead of a fresh interpreter; each child exits after its crawl,
returning its memory, so a scheduler running for months stays flat.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.context import ForkServerContext
from time import monotonic
from typing import Any

from feed.app.locks import BUSY_EXIT, claim_sources
from feed.app.orphans import die_with_parent
from feed.app.shared_frontier import apply as apply_frontier
from feed.app.shared_frontier import frontier_settings
from feed.config.settings import Settings
from feed.config.sources import ConfigProblem, Source

log = logging.getLogger(__name__)

PRELOAD = [
    "scrapy.crawler",
    "unionfeed_scrapers.spiders.generic",
    "unionfeed_scrapers.pipelines",
    "unionfeed_scrapers.conditional_get",
    "unionfeed_scrapers.retry_after",
    "unionfeed_scrapers.captures",
    "unionfeed_scrapers.discovery_trail",
    "unionfeed_scrapers.redirect_loops",
    "feed.app.crawl_runner",
    "feed.publish.publisher",
    "feed.app.logs",
    "feed.app.crawl_warmup",
]
STORE_FAILED_EXIT = 4  # exit status of a crawl in which the store refused some articles
STOP_GRACE = 8.0  # seconds a stopped child gets to close cleanly before it is killed
_context: ForkServerContext | None = None
_context_lock = threading.Lock()


@dataclass(frozen=True)
class CrawlOptions:
    refetch: bool = False
    log_level: str = "WARNING"
    extra: tuple[tuple[str, Any], ...] = ()  # further Scrapy settings, e.g. (("CLOSESPIDER_TIMEOUT", 60),)


def scrapy_settings(settings: Settings, options: CrawlOptions = CrawlOptions()) -> Any:
    """Scrapy settings: the project's polite defaults with the operator's politeness and store applied."""
    from scrapy.settings import Settings as ScrapySettings

    polite = settings.politeness
    result = ScrapySettings()
    result.setmodule("unionfeed_scrapers.settings", priority="project")
    result.setdict(
        {
            "USER_AGENT": polite.user_agent,
            "ROBOTSTXT_OBEY": polite.obey_robots,
            "CONCURRENT_REQUESTS_PER_DOMAIN": polite.concurrent_per_domain,
            "DOWNLOAD_DELAY": polite.download_delay,
            "AUTOTHROTTLE_START_DELAY": polite.autothrottle_start_delay,
            "AUTOTHROTTLE_MAX_DELAY": polite.autothrottle_max_delay,
            "DOWNLOAD_TIMEOUT": polite.download_timeout,
            "RETRY_TIMES": polite.retry_times,
            "DOWNLOAD_MAXSIZE": polite.max_page_bytes,
            "UNIONFEED_DB_URL": settings.db_url,
            "UNIONFEED_CAPTURE_DIR": str((settings.data / "captures").resolve()),
            "LOG_LEVEL": options.log_level,
            "CLOSESPIDER_TIMEOUT": settings.crawl_time_limit,
        },
        priority="cmdline",
    )
    result.setdict(dict(options.extra), priority="cmdline")
    return result


def crawl(
    settings: Settings,
    sources: list[Source],
    options: CrawlOptions = CrawlOptions(),
    registry: list[Source] | None = None,
) -> list[str]:
    """Crawl the given sources concurrently in this process (the Twisted reactor can run only once per process).

    Returns the slugs of the sources some of whose fetched articles the store refused (empty when all went in).
    """
    from scrapy.crawler import CrawlerProcess

    from unionfeed_scrapers.keys import STORE_FAILED, STORE_LOST
    from unionfeed_scrapers.spiders.generic import GenericSpider

    settings.data.mkdir(parents=True, exist_ok=True)
    check_store(settings)  # a store that cannot be written fails here, in one line, before anything is fetched
    # {} unless redis_url is set (feed.app.shared_frontier); an unreachable Redis stops here, before Scrapy starts.
    shared = frontier_settings(settings, sources)
    _set_log_levels(options.log_level)
    crawl_settings = scrapy_settings(settings, options)
    if "LOG_INSTALL_ROOT_HANDLER" in crawl_settings:  # Scrapy >= 2.14 reads this instead of the argument
        crawl_settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
        process = CrawlerProcess(crawl_settings)
    else:
        process = CrawlerProcess(crawl_settings, install_root_handler=False)
    _set_log_levels(options.log_level)  # again: CrawlerProcess put "scrapy" back to DEBUG (every item, body and all)
    crawlers = {}
    for source in sources:
        crawler = process.create_crawler(GenericSpider)
        # A source rendered by the browser gets settings of its own (the rest never import it).
        crawler.settings.setdict(browser_settings_for(crawl_settings, source), priority="cmdline")
        if source.slug in shared:
            apply_frontier(crawler.settings, shared[source.slug])
        crawlers[source.slug] = crawler
        process.crawl(crawler, source=source, refetch=options.refetch, registry=tuple(registry or sources))
    process.start()
    if shared:  # Redis failed mid-crawl: one line and a non-zero exit, as when it is down at the start
        from unionfeed_scrapers.frontier import lost_frontier

        frontier_gone = lost_frontier(c.stats for c in crawlers.values())
        if frontier_gone:
            raise SystemExit(f"unionfeed crawl: {frontier_gone}")
    _raise_lost(
        [str(c.stats.get_value(STORE_LOST)) for c in crawlers.values() if c.stats and c.stats.get_value(STORE_LOST)]
    )
    failed = [
        slug
        for slug, crawler in crawlers.items()
        if crawler.stats is not None and crawler.stats.get_value(STORE_FAILED)
    ]
    if failed:
        log.error(
            "the store refused articles of %s: they are fetched again next time",
            ", ".join(failed),
            extra={"event": "store_failed", "sources": failed},
        )
    return failed


def check_store(settings: Settings) -> None:
    """Open the store and commit a write to it: StoreError (one line naming the file and the fix) when it is
    damaged, read-only, locked past the busy timeout, or on a full disk."""
    from feed.store.api import Store

    store = Store(settings.db_url)
    try:
        store.check_writable()
    finally:
        store.close()


def _raise_lost(lost: list[str]) -> None:
    """The crawl stopped because the store became unusable under it: the command ends with that line."""
    if lost:
        from feed.store.faults import StoreError

        raise StoreError(lost[0], "lost")


def browser_settings_for(crawl_settings: Any, source: Source) -> dict[str, Any]:
    """For a `render: browser` source, the Scrapy settings that add the headless browser, or (when it cannot run
    here) name why, so its run fails with that one line; nothing for every other source."""
    if source.render != "browser":
        return {}
    from unionfeed_scrapers.browser import EXECUTABLE, MISSING, browser_settings, unavailable

    executable = os.environ.get(EXECUTABLE) or crawl_settings.get(EXECUTABLE) or "/usr/bin/chromium"
    why = unavailable(executable)
    if why:
        log.error("source %s not crawled: %s", source.slug, why, extra={"event": "browser_missing"})
        return {MISSING: why}
    return browser_settings(crawl_settings, executable)


def _set_log_levels(level: str) -> None:
    """Scrapy's LOG_LEVEL only governs its own root handler, which we do not install; set its loggers instead."""
    for name in ("scrapy", "twisted", "py.warnings", "generic", "unionfeed_scrapers", "trafilatura"):
        logging.getLogger(name).setLevel(level)


# --- children -----------------------------------------------------------------------------------------------
def child_context() -> ForkServerContext:
    """The forkserver context, started once per process with the crawl machinery preloaded."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            assert isinstance(context, ForkServerContext)
            context.set_forkserver_preload(PRELOAD)
            _context = context
        return _context


# The sources file as the parent read it: usable sources and the problems of the rest (see read_sources).
ReadConfig = tuple[list[Source], list[ConfigProblem]]


def read_config(settings: Settings) -> ReadConfig:
    """The sources file, parsed and validated in this process (a child is handed the result, never the file)."""
    from feed.config.sources import read_sources

    return read_sources(settings.config)


def _config_status(config: ReadConfig, slugs: list[str] | None) -> tuple[list[Source], int]:
    """The usable sources, logging the problems of the file that concern these slugs (all when None or empty:
    no slugs is every enabled source).

    Returns the sources and the exit status the child should end with: 0, SKIPPED_ENTRIES_EXIT when a
    problem concerns this work, or 2 when the file gives no usable source at all.
    """
    from feed.config.sources import SKIPPED_ENTRIES_EXIT

    sources, problems = config
    mine = [p for p in problems if not slugs or p.entry is None or p.slug in slugs]
    for problem in mine:
        log.warning("config problem: %s", problem, extra={"event": "config_problem", "source": problem.slug})
    if problems and not sources:
        return sources, 2
    return sources, SKIPPED_ENTRIES_EXIT if mine else 0


def _crawl_child(
    settings: Settings, slugs: list[str], options: CrawlOptions, env: dict[str, str], config: ReadConfig
) -> None:
    import sys

    from feed.app.logs import configure_logging
    from feed.config.sources import SKIPPED_ENTRIES_EXIT, choose

    os.environ.update(env)
    configure_logging(getattr(logging, options.log_level.upper(), logging.WARNING))
    die_with_parent(signal.SIGTERM, STOP_GRACE)  # a crawl never outlives the scheduler that started it
    # The parent read the file for this crawl (the scheduler at each poll, so a change since it started counts):
    # crawl whichever of these slugs can run (a broken entry costs only its own source).
    registry, status = _config_status(config, slugs)
    # No slugs means every enabled source, as `unionfeed crawl` without arguments.
    choice = choose(registry, slugs)
    chosen, missing = choice.sources, choice.missing
    if missing:
        log.error(
            "not crawled: %s (no usable entry in %s)",
            ", ".join(missing),
            settings.config,
            extra={"event": "crawl_skipped", "sources": missing},
        )
        status = max(status, SKIPPED_ENTRIES_EXIT) if chosen else 2
    from feed.store.faults import EXIT_STATUS, StoreError

    try:
        check_store(settings)  # before the source locks: a read-only data folder is told as the store's fault
        with claim_sources(settings.data, chosen) as claim:  # issue 17: never two crawls of one source at once
            if claim.busy:
                log_busy(claim.busy)
                status = max(status, BUSY_EXIT)
            if claim.sources and crawl(settings, claim.sources, options, registry=registry):
                status = STORE_FAILED_EXIT
    except StoreError as exc:  # one line, no traceback: the scheduler logs the child's status
        log.error("crawl stopped: %s", exc, extra={"event": "store_unusable", "kind": exc.kind})
        status = EXIT_STATUS
    sys.exit(status)


def log_busy(busy: dict[str, str]) -> None:
    """Say which sources were left out because another process is crawling them (and who)."""
    for slug, holder in busy.items():
        log.error(
            "source %s not crawled: it is being crawled by %s",
            slug,
            holder,
            extra={"event": "crawl_busy", "source": slug, "holder": holder},
        )


def _publish_child(settings: Settings, config: ReadConfig) -> None:
    import sys

    from feed.app.logs import configure_logging
    from feed.app.websub import announce
    from feed.publish.publisher import PublishFailed, publish
    from feed.store.api import Store
    from feed.store.faults import EXIT_STATUS, StoreError

    configure_logging(logging.WARNING)
    die_with_parent(signal.SIGINT, 3.0)  # as a stopped publish: before its commit point nothing changes
    sources, status = _config_status(config, None)
    if status == 2:  # no usable source: the published files stay as they are rather than lose every source
        log.error("not published: no usable source in %s", settings.config, extra={"event": "publish_skipped"})
        sys.exit(status)
    try:
        store = Store(settings.db_url)
        try:
            published = publish(store, settings, sources)
        finally:
            store.close()
    except (StoreError, PublishFailed) as exc:  # one line; the published files stay as they were
        log.error("not published: %s", exc, extra={"event": "publish_failed"})
        sys.exit(EXIT_STATUS if isinstance(exc, StoreError) else 1)
    announce(settings, published.changed)
    sys.exit(status)


def run_child(
    target: Callable[..., None],
    args: tuple[Any, ...],
    *,
    name: str,
    timeout: float,
    stop: threading.Event | None = None,
    stop_signal: int = signal.SIGTERM,
    grace: float = STOP_GRACE,
    patience: float = 0.0,
) -> int:
    """Run target(*args) in a forked child; returns its exit status (negative: killed by that signal).

    Past `timeout`, or `patience` seconds after `stop` is set, the child gets `stop_signal` and `grace` seconds
    to finish cleanly, then SIGKILL: a crawl stopped this way leaves its run unfinished, never a half-written file.
    """
    process = child_context().Process(target=target, args=args, name=name, daemon=False)
    process.start()
    deadline = monotonic() + timeout
    kill_at: float | None = None
    while True:
        process.join(0.2)
        if process.exitcode is not None:
            return int(process.exitcode)
        now = monotonic()
        if stop is not None and stop.is_set():
            deadline = min(deadline, now + patience)
        if kill_at is None and now > deadline:
            why = "stopping" if stop is not None and stop.is_set() else "ran past its time limit"
            log.warning("%s %s; asking it to finish", name, why, extra={"child": name, "pid": process.pid})
            _signal(process.pid, stop_signal)
            kill_at = now + grace
        elif kill_at is not None and now > kill_at:
            log.warning("%s did not finish in %.0f s; killing it", name, grace, extra={"child": name})
            process.kill()
            process.join(5)
            return int(process.exitcode if process.exitcode is not None else -signal.SIGKILL)


def _signal(pid: int | None, signum: int) -> None:
    if pid is None:
        return
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def crawl_in_child(
    settings: Settings,
    slugs: list[str],
    *,
    timeout: int | None = None,
    refetch: bool = False,
    env: dict[str, str] | None = None,
    stop: threading.Event | None = None,
    grace: float = STOP_GRACE,
    log_level: str = "WARNING",
    config: ReadConfig | None = None,
) -> int:
    """Crawl these slugs in a forked child with a time limit, so memory is returned after each crawl.

    The child is asked to stop (SIGTERM: Scrapy closes the spider and records the run) when it runs past
    the time limit or when `stop` is set, and killed `grace` seconds later; returns its exit status.
    The child is handed the parsed, validated sources (`config`, else the file as read now in this process)
    and never reads the sources file itself.
    """
    options = CrawlOptions(refetch=refetch, log_level=log_level)
    return run_child(
        _crawl_child,
        (settings, list(slugs), options, dict(env or {}), config if config is not None else read_config(settings)),
        name=f"crawl[{','.join(slugs)}]",
        timeout=timeout or settings.crawl_time_limit + 60,
        stop=stop,
        grace=grace,
    )


def publish_in_child(
    settings: Settings,
    *,
    timeout: float = 900,
    stop: threading.Event | None = None,
    patience: float = 5.0,
    grace: float = 3.0,
    config: ReadConfig | None = None,
) -> int:
    """Publish in a forked child; once stopped it may finish for `patience` seconds, then gets SIGINT.

    Interrupted before its commit point, a publish leaves the published files as they were (its staged files
    are cleared by the next publish); after it, the journal it leaves is finished by the next publish.
    Like a crawl child, it is handed the parsed sources (`config`, else the file as read now in this process)."""
    return run_child(
        _publish_child,
        (settings, config if config is not None else read_config(settings)),
        name="publish",
        timeout=timeout,
        stop=stop,
        stop_signal=signal.SIGINT,
        grace=grace,
        patience=patience,
    )
