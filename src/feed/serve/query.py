"""Feeds by query, answered by the server: `/feeds/query.atom?q=…&kind=…&province=…&source=…&org=…&limit=…`
(and .rss, .json).

The store is reached read-only (feed.store.search.open_reader: a SQLite file opened mode=ro, PostgreSQL in READ ONLY
transactions); the parameters are checked by feed.publish.query_feeds (a mistake is a 400 with one plain line);
results are bounded (query_feeds.FEED_LIMIT); the body's hash is its strong ETag, so a reader polling the same
query gets a 304 while nothing new matches.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import parse_qs

from sqlalchemy.engine import Engine

from feed.config.sources import Source
from feed.publish.feed_writer import RENDERERS, FeedSite
from feed.publish.query_feeds import BadQuery, parse_params, query_site, query_spec, to_search
from feed.store.search import SearchError, open_reader, search

log = logging.getLogger(__name__)

PREFIX = "/feeds/query."
TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
MAX_QUERY_BYTES = 2048
CACHE_CONTROL = "public, max-age=60"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # an empty query feed's `updated`: fixed, so its ETag holds


@dataclass(frozen=True)
class Answer:
    status: HTTPStatus
    body: bytes
    content_type: str
    etag: str | None = None


class QueryFeeds:
    """Answers query feeds from the store at `store_url`, for the configured sources."""

    def __init__(self, store_url: str, sources: list[Source], site: FeedSite, *, ttl_minutes: int = 60) -> None:
        self.store_url = store_url
        self.sources = sources
        self.site = site
        self.ttl_minutes = ttl_minutes
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = open_reader(self.store_url)
            return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def answer(self, path: str, query_string: str) -> Answer:
        """The feed for `path` (/feeds/query.<fmt>) and its raw query string."""
        fmt = path.removeprefix(PREFIX)
        if fmt not in RENDERERS:
            return _plain(HTTPStatus.NOT_FOUND, "not found")
        if len(query_string) > MAX_QUERY_BYTES:
            return _plain(HTTPStatus.BAD_REQUEST, f"the query is longer than {MAX_QUERY_BYTES} characters")
        try:
            params = parse_qs(query_string, keep_blank_values=True, strict_parsing=False, errors="strict")
            query = parse_params(params)
            wanted = to_search(query, self.sources)
        except UnicodeDecodeError:
            return _plain(HTTPStatus.BAD_REQUEST, "the query is not UTF-8 (percent-encode UTF-8 text)")
        except BadQuery as exc:
            return _plain(HTTPStatus.BAD_REQUEST, str(exc))
        try:
            hits = search(self.engine(), wanted)
        except SearchError as exc:
            log.warning("query feed: %s", exc)
            return _plain(HTTPStatus.SERVICE_UNAVAILABLE, f"search is not available: {exc}")
        spec = query_spec(
            query, hits, self.sources, alternate=self.site.base, ttl_minutes=self.ttl_minutes, updated=EPOCH
        )
        body = RENDERERS[fmt](spec, query_site(self.site, query)).encode("utf-8")
        etag = f'"q{hashlib.sha256(body).hexdigest()[:32]}"'
        return Answer(HTTPStatus.OK, body, TYPES[fmt], etag)


def _plain(status: HTTPStatus, line: str) -> Answer:
    return Answer(status, (line + "\n").encode("utf-8"), "text/plain; charset=utf-8")


def query_feeds(store_url: str, sources: list[Source], site_url: str, hub: str | None) -> QueryFeeds:
    """The query feeds of a configured site (`unionfeed serve`)."""
    from feed import __version__

    every = min((s.interval for s in sources), default=60)
    return QueryFeeds(store_url, sources, FeedSite(site_url.rstrip("/") + "/", hub, __version__), ttl_minutes=every)
