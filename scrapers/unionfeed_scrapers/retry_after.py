"""Honouring 429 and Retry-After.

On 429 (or 503 with Retry-After) the middleware holds the site's download slot for the time asked and
retries; when the site asks for longer than we wait inside one run, it ends the run and records until when
the scheduler should leave the source alone.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response

from feed.store.api import now_utc
from unionfeed_scrapers.keys import RETRY_AFTER_UNTIL, header

log = logging.getLogger(__name__)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class RetryAfterMiddleware:
    """Honour 429 and Retry-After: wait (holding the whole site, not one request) or end the run and defer."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.max_wait = settings.getfloat("UNIONFEED_RETRY_AFTER_MAX", 120.0)
        self.max_defer = settings.getfloat("UNIONFEED_RETRY_AFTER_DEFER_MAX", 24 * 3600.0)
        self.base_backoff = settings.getfloat("UNIONFEED_BACKOFF_BASE", 10.0)
        self.retries = settings.getint("UNIONFEED_THROTTLE_RETRIES", 3)

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if response.status not in (429, 503) or request.meta.get("dont_retry"):
            return response
        wait = retry_after_seconds(header(response, "Retry-After"), datetime.now(UTC))
        if wait is None:
            if response.status == 503:
                return response  # an ordinary server error: RetryMiddleware's business
            wait = self.base_backoff * 2 ** request.meta.get("retry_times", 0)
        stats = self.crawler.stats
        stats.inc_value(f"unionfeed/throttled/{response.status}")
        if wait > self.max_wait:
            until = now_utc() + timedelta(seconds=min(wait, self.max_defer))
            stats.set_value(RETRY_AFTER_UNTIL, until.isoformat())
            log.warning("%s asks us to come back in %.0f s; ending this run", request.url, wait)
            self._close("retry_after")
            request.meta["dont_retry"] = True
            return response
        retry = get_retry_request(
            request, spider=self.crawler.spider, reason=f"{response.status} Retry-After", max_retry_times=self.retries
        )
        if retry is None:
            request.meta["dont_retry"] = True
            return response
        self._hold_slot(request, wait)
        return retry

    def _hold_slot(self, request: Request, seconds: float) -> None:
        """No request goes to this site until `seconds` have passed (the slot's next send is pushed back)."""
        downloader = self.crawler.engine.downloader
        key = request.meta.get("download_slot") or downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            return
        slot.delay = max(slot.delay, 0.001)  # the downloader only looks at lastseen when the slot has a delay
        slot.lastseen = max(slot.lastseen, monotonic() + seconds)

    def _close(self, reason: str) -> None:
        engine = self.crawler.engine
        closer = getattr(engine, "close_spider_async", None)
        if closer is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(closer(reason=reason))
        else:  # Scrapy < 2.14
            engine.close_spider(self.crawler.spider, reason)
