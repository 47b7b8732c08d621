"""Running crawls: Scrapy settings from ours, all chosen sources in one process, or in a child with a time limit."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from feed.settings import Settings
from feed.sources import Source

log = logging.getLogger(__name__)


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
            "LOG_LEVEL": options.log_level,
            "CLOSESPIDER_TIMEOUT": settings.crawl_time_limit,
        },
        priority="cmdline",
    )
    result.setdict(dict(options.extra), priority="cmdline")
    return result


def crawl(settings: Settings, sources: list[Source], options: CrawlOptions = CrawlOptions()) -> None:
    """Crawl the given sources concurrently in this process (the Twisted reactor can run only once per process)."""
    from scrapy.crawler import CrawlerProcess

    from unionfeed_scrapers.spiders.generic import GenericSpider

    settings.data.mkdir(parents=True, exist_ok=True)
    # Scrapy's LOG_LEVEL only governs its own root handler, which we do not install, and Scrapy resets its loggers'
    # levels as it starts: filter at our handlers instead.
    for handler in logging.root.handlers:
        handler.setLevel(options.log_level)
    from scrapy.settings import default_settings

    scrapy_conf = scrapy_settings(settings, options)
    if hasattr(default_settings, "LOG_INSTALL_ROOT_HANDLER"):  # Scrapy >= 2.14 reads it from settings
        scrapy_conf.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
        process = CrawlerProcess(scrapy_conf)
    else:
        process = CrawlerProcess(scrapy_conf, install_root_handler=False)
    for source in sources:
        process.crawl(GenericSpider, source=source, refetch=options.refetch)
    process.start()


def crawl_in_child(settings: Settings, slugs: list[str], *, timeout: int | None = None,
                   refetch: bool = False, env: dict[str, str] | None = None) -> int:
    """Run `unionfeed crawl` for these slugs in a fresh interpreter, so memory is returned after each crawl.

    The child is stopped (SIGTERM, then SIGKILL) when it runs past the time limit; returns its exit status.
    """
    command = [sys.executable, "-m", "feed.cli", "--config", str(settings.config), "--data", str(settings.data),
               "crawl", *slugs]
    if refetch:
        command.append("--refetch")
    child = subprocess.Popen(command, env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        return child.wait(timeout=timeout or settings.crawl_time_limit + 60)
    except subprocess.TimeoutExpired:
        log.warning("crawl of %s ran past its time limit; stopping it", ",".join(slugs))
        os.killpg(child.pid, signal.SIGTERM)
        try:
            return child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            return child.wait()
