"""A source's trust boundary: the origins (host and port) of its homepage and its configured discovery URLs.

No request leaves them. The spider asks `Boundary.allows` before it yields a request for a link it found (an
article link, a feed item, a sitemap entry or child, a listing's next page); `BoundaryMiddleware` asks it again for
every request about to be sent, which is where redirects (3xx Location) and <meta http-equiv="refresh"> targets
arrive. A request refused is counted (`unionfeed/offsite_refused` and one key per kind), logged once per origin and
dropped quietly: the spider's errback records no page error and fails no discovery for it. Scrapy's own
OffsiteMiddleware does the same for `allowed_domains`; this one is per source, by origin, and runs before
robots.txt is asked (so no other site's robots.txt is fetched either).

A source whose whole site moved (unionfeed_scrapers.moves) gains the new host *scoped to a path prefix*
(`add_scope`): tuoitre.vn/nld/… is inside, the rest of tuoitre.vn is not (its robots.txt excepted, so the new host's
rules are obeyed). A discovery page's permanent redirect to another host is held (`MovedAway`) until the spider
knows whether the whole site moved; the middleware asks the spider's `moves` about it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from feed.lang.urls import origin_of
from unionfeed_scrapers.keys import OFFSITE

log = logging.getLogger(__name__)


class OutsideBoundary(IgnoreRequest):
    """A request refused because its URL is not on one of the source's origins."""


class MovedAway(OutsideBoundary):
    """A discovery page's permanent redirect to another host, held (not yet counted as refused) until the spider
    knows whether the whole site moved there; `unionfeed_scrapers.moves` then follows it or refuses it."""


class Boundary:
    """The origins one source owns; counts and logs what it refuses."""

    def __init__(self, slug: str, urls: Iterable[str]) -> None:
        self.slug = slug
        self.origins = frozenset(o for o in (origin_of(u) for u in urls) if o)
        self.crawler: Any = None  # the crawl's, once there is one: refusals are counted in its stats
        self.logged: set[str] = set()
        # Origins the source's site moved to, each with the path prefixes it owns there ("/nld/").
        self.scopes: dict[str, tuple[str, ...]] = {}

    def add_scope(self, origin: str, prefix: str) -> None:
        """Own the paths under prefix (a path ending in "/") of another origin: where the source's site moved."""
        if origin and origin not in self.origins:
            self.scopes[origin] = tuple(dict.fromkeys((*self.scopes.get(origin, ()), prefix)))

    def inside(self, url: str) -> bool:
        try:
            origin = origin_of(url)
            if origin in self.origins:
                return True
            prefixes = self.scopes.get(origin)
            return bool(prefixes) and (urlsplit(url).path or "/").startswith(prefixes)  # type: ignore[arg-type]
        except ValueError:  # a URL no parser accepts is on nobody's site
            return False

    def scoped_robots(self, url: str) -> bool:
        """True for the robots.txt of an origin the site moved to (asked before any page there, and obeyed)."""
        try:
            return origin_of(url) in self.scopes and urlsplit(url).path == "/robots.txt"
        except ValueError:
            return False

    def allows(self, url: str, kind: str) -> bool:
        """True when url is inside; else counts and logs (once per origin) the refusal of a `kind` request."""
        if self.inside(url):
            return True
        self.refuse(url, kind)
        return False

    def refuse(self, url: str, kind: str) -> None:
        try:
            origin = origin_of(url) or url[:200]
        except ValueError:
            origin = url[:200]
        if self.crawler is not None:
            self.crawler.stats.inc_value(OFFSITE)
            self.crawler.stats.inc_value(f"{OFFSITE}/{kind}")
            if origin in self.scopes:  # on the host the site moved to, but outside the part that is the source's
                self.crawler.stats.inc_value(f"{OFFSITE}/outside_move")
        if origin not in self.logged:
            self.logged.add(origin)
            log.warning(
                "source %s: not following %s to %s, outside the source's hosts %s (logged once per host)",
                self.slug,
                kind,
                origin,
                ", ".join(sorted([*self.origins, *(o + p for o, ps in self.scopes.items() for p in ps)])),
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
        spider = spider or self.crawler.spider
        boundary: Boundary | None = getattr(spider, "boundary", None)
        moves = getattr(spider, "moves", None)  # unionfeed_scrapers.moves.MoveWatch
        if boundary is None:
            return None
        if boundary.inside(request.url):
            if moves is not None and request.meta.get("redirect_urls"):
                moves.followed(request)
            return None
        if boundary.scoped_robots(request.url):
            return None
        if moves is not None and moves.holds(request):
            raise MovedAway(f"{request.url}: a discovery page moved permanently to another host")
        kind = request_kind(request)
        boundary.refuse(request.url, kind)
        raise OutsideBoundary(f"{kind} to {request.url} is outside the source's hosts")

    def process_response(self, request: Request, response: Any, spider: Any = None) -> Any:
        moves = getattr(spider or self.crawler.spider, "moves", None)
        if moves is not None:
            moves.answered(request, response)  # a discovery page answered where it was asked (or followed)
        return response
