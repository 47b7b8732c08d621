"""Joining the shared crawl frontier (scrapy-redis) when `redis_url` is set: the per-source Scrapy settings.

Without `redis_url` this returns nothing and neither redis nor scrapy-redis is imported. With it, each source's
crawl joins (or, as the first worker of the period, creates and seeds) the source's round in Redis; see
`unionfeed_scrapers.frontier` for what is shared and docs/operations.md for the recipe.
"""

from __future__ import annotations

import logging
from typing import Any

from feed.config.settings import Settings
from feed.config.sources import Source

log = logging.getLogger(__name__)

# The frontier's components, merged into a crawler's own lists only when the frontier is on.
SPIDER_MIDDLEWARE = ("unionfeed_scrapers.frontier.FrontierSpiderMiddleware", 10)
DOWNLOADER_MIDDLEWARES = (
    ("unionfeed_scrapers.frontier.LeaseRelease", 60),  # outside retries: sees only a download's final failure
    ("unionfeed_scrapers.frontier.SharedPoliteness", 70),
)
EXTENSION = ("unionfeed_scrapers.frontier.FrontierExtension", 500)


def frontier_settings(settings: Settings, sources: list[Source]) -> dict[str, dict[str, Any]]:
    """Per slug, the Scrapy settings that put its crawl on the shared frontier; {} when `redis_url` is not set.

    SystemExit with one line naming the URL and the cause when Redis cannot be reached: a worker that cannot share
    its frontier does not crawl alone (it would fetch what the others fetch).
    """
    if not settings.redis_url:
        return {}
    from unionfeed_scrapers.frontier import FrontierUnavailable, connect, join_round, scrapy_settings, worker_id

    try:
        client = connect(settings.redis_url)
    except FrontierUnavailable as exc:
        log.error("%s", exc, extra={"event": "frontier_unavailable"})
        raise SystemExit(f"unionfeed crawl: {exc}") from None
    worker = worker_id()
    out: dict[str, dict[str, Any]] = {}
    for source in sources:
        period = source.interval * 60
        round_id, seed = join_round(client, source.slug, period)
        if not seed:
            log.info(
                "%s: this period's poll is already under way (round %s); this worker helps with its queue",
                source.slug,
                round_id,
                extra={"event": "frontier_joined", "source": source.slug},
            )
        ttl = period + settings.crawl_time_limit
        out[source.slug] = scrapy_settings(settings.redis_url, source.slug, round_id, seed, worker, ttl)
    return out


def apply(crawler_settings: Any, extra: dict[str, Any]) -> None:
    """Put one source's frontier settings and components on its crawler's settings."""
    crawler_settings.setdict(extra, priority="cmdline")
    # A lease is given back once its response is handled. A batched store would still hold that article unwritten,
    # and a worker killed then would lose it with no lease left to put back: on the shared frontier every article
    # is committed as it comes (batches of one).
    crawler_settings.set("UNIONFEED_STORE_BATCH_ITEMS", 1, priority="cmdline")
    for name, (path, order) in (
        ("SPIDER_MIDDLEWARES", SPIDER_MIDDLEWARE),
        *(("DOWNLOADER_MIDDLEWARES", entry) for entry in DOWNLOADER_MIDDLEWARES),
        ("EXTENSIONS", EXTENSION),
    ):
        crawler_settings.set(name, {**crawler_settings.getdict(name), path: order}, priority="cmdline")
