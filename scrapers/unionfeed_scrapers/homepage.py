"""A source given by its homepage alone: the spider discovers where its articles are, and remembers it.

`HomepageDiscovery` is mixed into the generic spider; `discovery_start` replaces the configured discovery URLs when
the entry names none (`Source.discovery.configured` is False). What a page *says* is read by `feed.discover`
(network-free); every request here goes through Scrapy like any other (the source boundary, the cookie gate,
robots.txt, politeness), one discovery request at a time:

1. the homepage: the feeds it names (`<link rel="alternate">`), its links (menus included: sections are there)
   and its article links outside navigation blocks (the first guess at the article URL shape);
2. robots.txt: the sitemaps it names;
3. the feeds the homepage named (up to 3) and the sitemaps robots.txt named (up to 3), each fetched; a working
   feed's items are followed as articles, a working sitemap's entries when they match the article shape;
4. while nothing works yet, probes one at a time: the conventional feed paths (when the homepage named no feed),
   then the conventional sitemap paths (when robots.txt named none); probing stops at the first that answers;
5. sections, only when neither a feed nor a sitemap worked: up to 6 candidate links of the homepage are fetched,
   the article shape is learnt again over the homepage and them, and each page (the homepage too) that links at
   least 3 articles outside its navigation blocks becomes a listing (links "a", navigation ignored, paged by
   `pagination`), whose articles are followed. Feeds a section names are fetched too.

Probes that fail (404, a soft 404 answering HTML, a redirect outside the boundary) are no page errors. When the
crawl ends the findings are saved per source (`Store.save_discovered`) with whether they gave article links; the
next poll goes straight to them (feeds, sitemaps and sections, conditionally) and discovers afresh only when they
stopped working or are a day old. A homepage that cannot be fetched fails the run like a listing would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import scrapy
from scrapy.http import Response, TextResponse
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from feed.config.sources import Listing
from feed.discover.found import (
    FEED_PROBES,
    MAX_NAMED_FEEDS,
    MAX_SITEMAPS,
    MIN_SECTION_ARTICLES,
    SITEMAP_PROBES,
    Summary,
    feeds_in_page,
    looks_like_feed,
    looks_like_sitemap,
    probe_urls,
    section_candidates,
    site_name_of,
    sitemaps_in_robots,
)
from feed.discover.links import PageLink, page_links
from feed.discover.shapes import ANY_ARTICLE, learn_article_pattern
from feed.lang.urls import canonicalize_url
from unionfeed_scrapers.js_pages import FOUND as JS_FOUND
from unionfeed_scrapers.js_pages import FOUND_URL as JS_FOUND_URL
from unionfeed_scrapers.js_pages import script_builder
from unionfeed_scrapers.keys import HOMEPAGE_DISCOVERY, discovery_meta
from unionfeed_scrapers.store_handle import store_for

REDISCOVER_AFTER = timedelta(days=1)
STAT = "unionfeed/discovery"  # stats: "remembered" or "rediscovered", and /probes, /feeds, /sitemaps, /sections


class HomepageDiscovery:
    """Discovery from the homepage for the generic spider (which provides source, boundary, crawler, pattern,
    listings, visited_listings, queued and the parse_* callbacks)."""

    source: Any
    boundary: Any
    crawler: Any
    logger: Any
    pattern: re.Pattern[str] | None
    listings: list[Listing]
    visited_listings: set[str]
    queued: set[str]
    # The spider's own callbacks, which the requests made here go to.
    on_error: Callable[..., Any]
    parse_sitemap: Callable[..., Any]
    sitemap_bounds: Any  # unionfeed_scrapers.sitemaps.SitemapBounds: gzip read with a size cap
    parse_listing: Callable[..., Any]
    parse_feed: Callable[..., Any]
    found: Summary | None = None
    remembered: bool = False

    # --- starting ---------------------------------------------------------------------------------------------
    def discovery_start(self) -> Iterator[scrapy.Request]:
        """Requests for a homepage-only source: what was remembered, when it is fresh and worked; else the homepage."""
        stats = self.crawler.stats
        row = store_for(self.crawler).discovered(self.source.slug)
        now = datetime.now(UTC)
        if row is not None and row.worked and now - row.found_at < REDISCOVER_AFTER:
            summary = Summary.from_json(row.found)
            if not summary.empty and summary.homepage == self.source.homepage:
                self.found, self.remembered = summary, True
                stats.set_value(STAT, "remembered")
                yield from self._follow_remembered(summary)
                return
        self.found, self.remembered = Summary(self.source.homepage), False
        stats.set_value(STAT, "rediscovered")
        self._named_feeds: list[str] = []
        self._queue: list[tuple[str, str, bool]] = []  # (feed | sitemap, URL, a probe)
        self._home: TextResponse | None = None
        self._home_links: list[PageLink] = []
        self._candidates: list[str] = []
        self._sections: dict[str, TextResponse] = {}  # candidate URL -> its page
        self._pending = 0
        yield scrapy.Request(
            self.source.homepage,
            callback=self.discover_homepage,
            errback=self.discover_homepage_failed,
            dont_filter=True,
            meta={HOMEPAGE_DISCOVERY: True},
        )

    def _follow_remembered(self, summary: Summary) -> Iterator[scrapy.Request]:
        if self.source.discovery.article_pattern is None:
            self.pattern = re.compile(summary.article_pattern) if summary.article_pattern else ANY_ARTICLE
        for url in summary.feeds:
            if self.boundary.allows(url, "discovered_feed"):
                yield scrapy.Request(
                    url,
                    callback=self.parse_trusted_feed,
                    errback=self.on_error,
                    dont_filter=True,
                    meta=discovery_meta(),
                )
        for url in summary.sitemaps:
            if self.boundary.allows(url, "discovered_sitemap"):
                yield scrapy.Request(
                    url, callback=self.parse_sitemap, errback=self.on_error, dont_filter=True, meta=discovery_meta()
                )
        for url in summary.sections:
            if not self.boundary.allows(url, "discovered_section"):
                continue
            index = self._add_listing(url)
            yield scrapy.Request(
                url,
                callback=self.parse_listing,
                errback=self.on_error,
                dont_filter=True,
                cb_kwargs={"listing_index": index, "page": 1},
                meta=discovery_meta(),
            )

    def _add_listing(self, url: str) -> int:
        self.listings.append(Listing(url=url))
        self.visited_listings.add(canonicalize_url(url))
        return len(self.listings) - 1

    def parse_trusted_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """A feed's items are articles whatever the shape learnt from listings: parse it with no pattern."""
        pattern, self.pattern = self.pattern, None if self.source.discovery.article_pattern is None else self.pattern
        try:
            requests = list(self.parse_feed(response))
        finally:
            self.pattern = pattern
        yield from requests

    # --- 1. the homepage, 2. robots.txt --------------------------------------------------------------------------
    def discover_homepage(self, response: Response) -> Iterator[Any]:
        assert self.found is not None
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("unionfeed/discovery_failed")
            yield {"source": self.source.slug, "url": response.url, "error": "the homepage is not a web page"}
            return
        self._home = response
        self._home_links = [link for link in page_links(response.text, response.url) if self.boundary.inside(link.url)]
        named = feeds_in_page(response.text, response.url)
        self.found.named_feeds = named
        self.found.site_name = site_name_of(response.text)
        self._named_feeds = [u for u in named if self.boundary.allows(u, "discovered_feed")]
        robots = probe_urls(response.url, ("/robots.txt",))[0]
        yield scrapy.Request(
            robots,
            callback=self.discover_robots,
            errback=self.discover_robots_failed,
            dont_filter=True,
            meta={"dont_obey_robotstxt": True},
        )

    def discover_homepage_failed(self, failure: Failure) -> Iterator[Any]:
        # The homepage is this source's only discovery page: when it cannot be read, the run failed (unless the whole
        # site moved: the redirect is held until the move is judged, then asked again on the new host).
        moves = getattr(self, "moves", None)
        if moves is not None and moves.failed(failure):
            return
        self.crawler.stats.inc_value("unionfeed/discovery_failed")
        yield from self.on_error(failure)

    def discover_robots(self, response: Response) -> Iterator[Any]:
        text = response.text if isinstance(response, TextResponse) and response.status == 200 else ""
        named = [u for u in sitemaps_in_robots(text, response.url) if self.boundary.allows(u, "discovered_sitemap")]
        yield from self._plan(named)

    def discover_robots_failed(self, failure: Failure) -> Iterator[Any]:
        yield from self._plan([])

    # --- 3. feeds and 4. sitemaps, one request at a time -------------------------------------------------------
    def _plan(self, named_sitemaps: list[str]) -> Iterator[Any]:
        """Named feeds, named sitemaps, then (while nothing works) feed probes, then sitemap probes."""
        assert self._home is not None
        self._queue = [("feed", u, False) for u in self._named_feeds[:MAX_NAMED_FEEDS]]
        self._queue += [("sitemap", u, False) for u in named_sitemaps[:MAX_SITEMAPS]]
        if not self._named_feeds:
            self._queue += [("feed", u, True) for u in probe_urls(self._home.url, FEED_PROBES)]
        if not named_sitemaps:
            self._queue += [("sitemap", u, True) for u in probe_urls(self._home.url, SITEMAP_PROBES)]
        yield from self._next()

    def _next(self) -> Iterator[Any]:
        assert self.found is not None
        if self._queue and self._queue[0][2] and (self.found.feeds or self.found.sitemaps):
            self._queue = [step for step in self._queue if not step[2]]  # something works: probing stops
        if not self._queue:
            yield from self._start_sections()
            return
        kind, url, probe = self._queue.pop(0)
        if probe:
            self.found.probes += 1
            self.crawler.stats.inc_value(f"{STAT}/probes")
        callback = self.discover_feed if kind == "feed" else self.discover_sitemap
        yield scrapy.Request(
            url,
            callback=callback,
            errback=self.discover_step_failed,
            dont_filter=True,
            cb_kwargs={"chain": True},
        )

    def discover_step_failed(self, failure: Failure) -> Iterator[Any]:
        # A probe or a named feed or sitemap that failed (404, a redirect outside the boundary): no page error.
        request = getattr(failure, "request", None)
        if request is None or request.cb_kwargs.get("chain", True):
            yield from self._next()

    def discover_feed(self, response: Response, chain: bool) -> Iterator[Any]:
        assert self.found is not None
        if response.status == 200 and looks_like_feed(response.body) and feedparser.parse(response.body).entries:
            if response.url not in self.found.feeds:
                self.found.feeds.append(response.url)
                self.crawler.stats.inc_value(f"{STAT}/feeds")
            yield from self.parse_trusted_feed(response)
        if chain:
            yield from self._next()

    def discover_sitemap(self, response: Response, chain: bool) -> Iterator[Any]:
        assert self.found is not None
        if response.status == 200 and looks_like_sitemap(response.body):
            try:
                entries = len(list(Sitemap(self.sitemap_bounds.body(response))))  # gzip or not
            except Exception:  # an unreadable sitemap is simply not one
                entries = 0
            if entries:
                self._use_learnt_shape(self._home_content())
                self.found.sitemaps.append(response.url)
                self.crawler.stats.inc_value(f"{STAT}/sitemaps")
                yield from self.parse_sitemap(response)
        if chain:
            yield from self._next()

    # --- 5. sections ------------------------------------------------------------------------------------------
    def _home_content(self) -> list[str]:
        return [link.url for link in self._home_links if not link.in_nav]

    def _use_learnt_shape(self, links: list[str]) -> None:
        """The article pattern: the configured one, else the shape learnt from these links, else any article shape."""
        assert self.found is not None
        if self.source.discovery.article_pattern is not None:
            return
        shape = learn_article_pattern(links)
        self.found.learnt(shape)
        self.pattern = shape.pattern if shape is not None else ANY_ARTICLE

    def _start_sections(self) -> Iterator[Any]:
        assert self.found is not None
        if self.found.feeds or self.found.sitemaps or self._home is None:
            return
        self._use_learnt_shape(self._home_content())
        pattern = self.pattern
        candidates = section_candidates(
            self._home_links, self._home.url, lambda u: pattern is not None and pattern.search(u) is not None
        )
        self._candidates, self._pending = candidates, len(candidates)
        self.crawler.stats.set_value(f"{STAT}/section_candidates", len(candidates))
        if not candidates:
            yield from self._finish_sections()
            return
        for url in candidates:
            yield scrapy.Request(
                url, callback=self.discover_section, errback=self.discover_section_failed, dont_filter=True
            )

    def discover_section(self, response: Response) -> Iterator[Any]:
        if isinstance(response, TextResponse) and response.status == 200 and self.boundary.inside(response.url):
            asked = response.request.url if response.request is not None else response.url
            self._sections[asked] = response
        yield from self._section_done()

    def discover_section_failed(self, failure: Failure) -> Iterator[Any]:
        yield from self._section_done()

    def _section_done(self) -> Iterator[Any]:
        self._pending -= 1
        if self._pending <= 0:
            yield from self._finish_sections()

    def _finish_sections(self) -> Iterator[Any]:
        """Learn the article shape over the homepage and the candidates, keep the pages that list articles as
        sections, and read them as listings (their articles followed, their next pages asked)."""
        assert self.found is not None and self._home is not None
        pages = [self._home, *(self._sections[u] for u in self._candidates if u in self._sections)]  # homepage order
        content = {
            page.url: [
                link.url
                for link in page_links(page.text, page.url)
                if not link.in_nav and self.boundary.inside(link.url)
            ]
            for page in pages
        }
        self._use_learnt_shape([u for links in content.values() for u in links])
        pattern = self.pattern or ANY_ARTICLE
        tried = set(self.found.feeds) | set(self.found.named_feeds)  # the homepage's were tried already
        for page in pages:
            articles = {u for u in content[page.url] if pattern.search(u)}
            if len(articles) < MIN_SECTION_ARTICLES or pattern.search(page.url):
                continue
            self.found.sections.append(page.url)
            self.crawler.stats.inc_value(f"{STAT}/sections")
            yield from self.parse_listing(page, listing_index=self._add_listing(page.url), page=1)
            for url in feeds_in_page(page.text, page.url)[:MAX_NAMED_FEEDS]:
                if url not in tried and self.boundary.allows(url, "discovered_feed"):
                    tried.add(url)
                    yield scrapy.Request(
                        url,
                        callback=self.discover_feed,
                        errback=self.discover_step_failed,
                        dont_filter=True,
                        cb_kwargs={"chain": False},
                    )

        if self.found.empty and self.source.render != "browser":
            yield from self._name_script_built(pages, pattern)

    def _name_script_built(self, pages: list[TextResponse], pattern: re.Pattern[str]) -> Iterator[Any]:
        """Nothing found, and a page read (the homepage, then the section candidates) lists no articles while its
        scripts build it: name the obstacle as a configured listing's would be ("needs JavaScript"), with the URL."""
        for page in pages:
            builder = script_builder(page)
            if builder is None:
                continue
            stats = self.crawler.stats
            stats.inc_value(JS_FOUND)
            if not stats.get_value(JS_FOUND_URL):
                stats.set_value(JS_FOUND_URL, page.url)
            self.logger.warning("%s lists no articles in its HTML; its scripts build the page (%s)", page.url, builder)
            error = f"needs JavaScript: {page.url} has no article links in its HTML, only scripts ({builder})"
            yield {"source": self.source.slug, "url": page.url, "error": error}
            return

    # --- remembering ------------------------------------------------------------------------------------------
    def closed(self, reason: str) -> None:
        """Save what was found (or whether what was remembered still works) when the crawl finished, or was stopped
        after enough articles (`unionfeed sources add`'s probe: articles come only once discovery has chosen)."""
        if self.found is None or reason not in ("finished", "closespider_itemcount"):
            return
        stats = self.crawler.stats
        worked = bool(self.queued) or bool(stats.get_value("unionfeed/not_modified"))
        store = store_for(self.crawler)
        if self.remembered:
            worked = worked and not stats.get_value("unionfeed/discovery_failed")
            store.save_discovered(self.source.slug, None, worked=worked)
        else:
            store.save_discovered(self.source.slug, self.found.to_json(), worked=worked and not self.found.empty)
        stats.set_value(f"{STAT}/found", self.found.describe())
        self.logger.info("discovery for %s: %s (worked: %s)", self.source.slug, self.found.describe(), worked)
