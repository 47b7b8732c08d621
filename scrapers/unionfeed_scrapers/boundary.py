"""A source's trust boundary: the origins (host and port) of its homepage and its configured discovery URLs.

No request leaves them. The spider asks `Boundary.allows` before it yields a request for a link it found (an
article link, a feed item, a sitemap entry or child, a listing's next page); `BoundaryMiddleware` asks it again for
every request about to be sent, which is where redirects (3xx Location) and <meta http-equiv="refresh"> targets
arrive. A request refused is counted (`unionfeed/offsite_refused` and one key per kind), logged once per origin and
dropped quietly: the spider's errback records no page error and fails no discovery for it. Scrapy's own
OffsiteMiddleware does the same for `allowed_domains`; this one is per source, by origin, and runs before
robots.txt is asked (so no other site's robots.txt is fetched either).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from feed.lang.urls import origin_of
from unionfeed_scrapers.keys import OFFSITE

log = logging.getLogger(__name__)


class OutsideBoundary(IgnoreRequest):
    """A request refused because its URL is not on one of the source's origins."""


class Boundary:
    """The origins one source owns; counts and logs what it refuses."""

    def __init__(self, slug: str, urls: Iterable[str]) -> None:
        self.slug = slug
        self.origins = frozenset(o for o in (origin_of(u) for u in urls) if o)
        self.crawler: Any = None  # the crawl's, once there is one: refusals are counted in its stats
        self.logged: set[str] = set()

    def inside(self, url: str) -> bool:
        try:
            return origin_of(url) in self.origins
        except ValueError:  # a URL no parser accepts is on nobody's site
            return False

    def allows(self, url: str, kind: str) -> bool:
        """True when url is inside; else counts and logs (once per origin) the refusal of a `kind` request."""
        if self.inside(url):
            return True
        self.refuse(url, kind)
        return False

    def refuse(self, url: str, kind: str) -> None:
        if self.crawler is not None:
            self.crawler.stats.inc_value(OFFSITE)
            self.crawler.stats.inc_value(f"{OFFSITE}/{kind}")
        try:
            origin = origin_of(url) or url[:200]
        except ValueError:
            origin = url[:200]
        if origin not in self.logged:
            self.logged.add(origin)
            log.warning(
                "source %s: not following %s to %s, outside the source's hosts %s (logged once per host)",
                self.slug,
                kind,
                origin,
                ", ".join(sorted(self.origins)),
                extra={"event": "offsite_refused"},
            )


def request_kind(request: Request) -> str:
    """What a request refused at sending time is: a redirect's or a meta refresh's target, or another request."""
    if request.meta.get("redirect_reasons") and request.meta["redirect_reasons"][-1] == "meta refresh":
        return "meta_refresh"
    if request.meta.get("redirect_urls"):
        return "redirect"
    return "request"


class BoundaryMiddleware:
    """Refuse any request, redirected ones included, whose URL is outside the spider's source boundary."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> BoundaryMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        boundary: Boundary | None = getattr(spider or self.crawler.spider, "boundary", None)
        if boundary is None or boundary.inside(request.url):
            return None
        kind = request_kind(request)
        boundary.refuse(request.url, kind)
        raise OutsideBoundary(f"{kind} to {request.url} is outside the source's hosts")
