"""One Store per crawl process and database: the spider, the pipeline and the conditional-request middleware
of every crawler in the process share it, and it is closed when the last of those crawlers' engines stops."""

from __future__ import annotations

from typing import Any

from scrapy import signals

from feed.config.settings import load_settings
from feed.store.api import Store

# Database URL -> its store and the ids of the crawlers using it (several sources may crawl in one process).
_open: dict[str, tuple[Store, set[int]]] = {}


def db_url(crawler: Any) -> str:
    """The crawl's database: the UNIONFEED_DB_URL setting, else the operator's settings."""
    return str(crawler.settings.get("UNIONFEED_DB_URL") or load_settings().db_url)


def store_for(crawler: Any) -> Store:
    """The process's Store for this crawler's database, opened on first use."""
    url = db_url(crawler)
    if url not in _open:
        _open[url] = (Store(url), set())
    store, users = _open[url]
    if id(crawler) not in users:
        users.add(id(crawler))

        def release() -> None:
            users.discard(id(crawler))
            if not users and _open.get(url, (None,))[0] is store:
                del _open[url]
                store.close()

        # weak=False: the closure has no other reference and would be collected before the engine stops.
        crawler.signals.connect(release, signal=signals.engine_stopped, weak=False)
    return store
