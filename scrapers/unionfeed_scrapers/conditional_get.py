"""Conditional requests for discovery pages (feeds, sitemaps, listings) and robots.txt.

Sends If-None-Match / If-Modified-Since from validators kept per URL in the store; a 304 tells the spider
nothing changed. Validators learnt in a run are saved only when the run finished, found article links, and no
article found through that page failed for a passing reason (timeout, 5xx, 429): otherwise the next poll
would get a 304 and never retry it.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from feed.store.api import Store, Validators
from unionfeed_scrapers.keys import DISCOVERY, STORE_FAILED, VIA, header
from unionfeed_scrapers.store_handle import store_for


def source_fingerprint(spider: Any) -> str:
    """Validators belong to one discovery setup: changing a source's discovery config forgets them."""
    source = getattr(spider, "source", None)
    data = source.discovery.model_dump_json() if source is not None else spider.name
    return hashlib.sha1(data.encode("utf-8")).hexdigest()[:16]


def is_robots(request: Request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and urlsplit(request.url).path == "/robots.txt"


class ConditionalRequestMiddleware:
    """Conditional GETs for discovery pages and robots.txt, with validators persisted in the store."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.store: Store | None = None
        self.known: dict[str, Validators] = {}
        self.pending: dict[str, Validators] = {}
        self.tainted: set[str] = set()
        self.enabled = True
        self.slug = ""
        self.fingerprint = ""

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalRequestMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Any) -> None:
        source = getattr(spider, "source", None)
        # --refetch asks for everything again, so nothing may be skipped on a 304; without a database
        # configured for the crawl (plain `scrapy crawl`) nothing is remembered.
        self.enabled = (
            bool(self.crawler.settings.get("UNIONFEED_DB_URL"))
            and source is not None
            and not getattr(spider, "refetch", False)
        )
        if not self.enabled or source is None:
            return
        self.slug, self.fingerprint = source.slug, source_fingerprint(spider)
        self.store = store_for(self.crawler)
        self.known = self.store.load_validators(self.slug, self.fingerprint)

    def spider_closed(self, spider: Any, reason: str) -> None:
        store, self.store = self.store, None  # the shared store itself is closed when the engine stops
        if store is None:
            return
        # An unfinished run (time limit, shutdown, Retry-After) may have left articles unfetched; a run that
        # found no article link at all (a redesign?) must look at its pages afresh next time, or a 304 would
        # hide the breakage from health.
        stored_all = not self.crawler.stats.get_value(STORE_FAILED)
        if reason == "finished" and getattr(spider, "queued", None) and stored_all:
            keep = {url: v for url, v in self.pending.items() if url not in self.tainted}
            store.save_validators(self.slug, self.fingerprint, keep)
            self.crawler.stats.set_value("unionfeed/validators_saved", len(keep))

    def process_request(self, request: Request, spider: Any = None) -> None:
        if not self.enabled or not (request.meta.get(DISCOVERY) or is_robots(request)):
            return None
        # A redirect copies headers from the first URL; validators must be this URL's own.
        request.headers.pop(b"If-None-Match", None)
        request.headers.pop(b"If-Modified-Since", None)
        known = self.known.get(request.url)
        if known is None or (is_robots(request) and known.body is None):
            return None
        if known.etag:
            request.headers[b"If-None-Match"] = known.etag
        if known.last_modified:
            request.headers[b"If-Modified-Since"] = known.last_modified
        self.crawler.stats.inc_value("unionfeed/conditional_requests")
        return None

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if request.meta.get(DISCOVERY):
            # Final outcome of a discovery page (retries are behind us): what health judges a run by.
            outcome = "ok" if response.status in (200, 304) else "failed" if response.status >= 400 else None
            if outcome:
                self.crawler.stats.inc_value(f"unionfeed/discovery_{outcome}")
        if not self.enabled:
            return response
        if not (request.meta.get(DISCOVERY) or is_robots(request)):
            if response.status >= 500 or response.status == 429:
                self.tainted.update(request.meta.get(VIA, ()))
            return response
        if response.status == 304:
            known = self.known.get(request.url)
            if is_robots(request):
                self.crawler.stats.inc_value("unionfeed/robots_not_modified")
                if known is not None and known.body is not None:
                    return response.replace(status=200, body=known.body)  # the robots parser needs the text
                return response
            self.crawler.stats.inc_value("unionfeed/not_modified")  # a discovery page: nothing new behind it
            return response
        if response.status == 200:
            found = Validators(
                header(response, "ETag"),
                header(response, "Last-Modified"),
                response.body if is_robots(request) else None,
            )
            if found.etag or found.last_modified:
                if is_robots(request) and self.store is not None:
                    # robots.txt is replayed from its saved body, so it is safe to remember at once.
                    self.store.save_validators(self.slug, self.fingerprint, {request.url: found})
                else:
                    self.pending[request.url] = found
        return response

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> None:
        if request.meta.get(DISCOVERY) and not isinstance(exception, IgnoreRequest):
            self.crawler.stats.inc_value("unionfeed/discovery_failed")
        if self.enabled and not isinstance(exception, IgnoreRequest):
            self.tainted.update(request.meta.get(VIA, ()))
            if request.meta.get(DISCOVERY):
                self.tainted.add(request.url)
        return None
