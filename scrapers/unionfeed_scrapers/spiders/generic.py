"""The one spider every configured source uses: discovery from feeds, sitemaps and listing pages, then articles.

Spiders stay thin: they find article URLs and fetch pages; what an article is comes from `feed.extract.article`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import scrapy
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding

from feed.config.settings import load_settings
from feed.config.sources import Listing, Source, load_sources, select
from feed.discover.links import content_links
from feed.discover.shapes import learn_article_pattern
from feed.extract.article import extract
from feed.lang.urls import canonicalize_url, web_url
from unionfeed_scrapers.boundary import Boundary, OutsideBoundary
from unionfeed_scrapers.homepage import HomepageDiscovery
from unionfeed_scrapers.judging import REFUSED_FOR, refused
from unionfeed_scrapers.keys import (
    CANONICAL_IGNORED,
    DISCOVERY,
    SELECTORS_MISSED,
    SELECTORS_MISSED_URL,
    discovery_meta,
)
from unionfeed_scrapers.moves import MoveWatch
from unionfeed_scrapers.page_bounds import note_body_cut
from unionfeed_scrapers.pagination import next_page_candidates
from unionfeed_scrapers.sitemaps import DEPTH, SitemapBounds
from unionfeed_scrapers.store_handle import store_for

# Content types an article page may come as; anything else (images, PDFs, archives) is not an article.
TEXT_TYPES = ("text/", "application/xhtml+xml", "application/xml")


class GenericSpider(HomepageDiscovery, scrapy.Spider):
    name = "generic"
    _sitemap_bounds: SitemapBounds | None = None  # made on the first sitemap read (sitemaps.py)

    def __init__(
        self,
        source: Source | str | None = None,
        config: str | None = None,
        refetch: bool | str = False,
        registry: tuple[Source, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if source is None:
            raise ValueError("GenericSpider needs -a source=SLUG")
        if isinstance(source, str):
            registry = tuple(load_sources(config or load_settings().config))
            (source,) = select(list(registry), [source])  # ConfigError (a ValueError) when the slug is unknown
        self.source: Source = source
        # Every configured source: dedup resolves credits by outlet name ("Theo Báo Lao Động") against them.
        self.registry: tuple[Source, ...] = registry or (source,)
        self.refetch = refetch in (True, "1", "true", "yes")
        self.selectors = source.effective_selectors()
        self.pattern = re.compile(source.discovery.article_pattern) if source.discovery.article_pattern else None
        self.learnt_shapes: list[str] = []  # article URL shapes learnt from listings (no configured pattern)
        self.known: set[str] = set()
        self.refused_before: set[str] = set()
        self.queued: set[str] = set()
        # Listing pages read or asked for in this run (canonical URLs): a pager that leads back is not followed.
        self.visited_listings: set[str] = set()
        # The listings read: the configured ones, then the sections discovery finds for a homepage-only source.
        self.listings: list[Listing] = list(source.discovery.listings)
        # After a run that did not finish (killed, stopped, out of time) the articles stored so far may sit
        # above a gap of older ones never fetched: page through every listing page, not just the new ones.
        self.resuming = False
        self.moves: MoveWatch | None = None  # set with the crawler (from_crawler)
        # The source's trust boundary: no request (link, redirect, meta refresh, sitemap child, next page) leaves
        # the origins of its homepage and its configured discovery URLs.
        self.boundary = Boundary(
            source.slug,
            [
                source.homepage,
                *source.discovery.feeds,
                *source.discovery.sitemaps,
                *(listing.url for listing in source.discovery.listings),
            ],
        )

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> GenericSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.boundary.crawler = crawler
        store = store_for(crawler)
        spider.known = set() if spider.refetch else store.known_urls(spider.source.slug)
        # Pages judged not articles lately (menus, sections, about pages): not asked again for a while (judging.py).
        since = datetime.now(UTC) - REFUSED_FOR
        spider.refused_before = set() if spider.refetch else store.refused_urls(spider.source.slug, since)
        last = store.runs(spider.source.slug, limit=1)
        spider.resuming = bool(last) and last[0].finish_reason != "finished"
        # A whole site that moved (homepage and discovery pages 301 to one new host) is followed: see moves.
        spider.moves = MoveWatch(spider, crawler, store)
        return spider

    # --- discovery ------------------------------------------------------------------------------------
    async def start(self) -> Any:  # Scrapy >= 2.13
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[scrapy.Request]:
        discovery = self.source.discovery
        if not discovery.configured:  # a homepage is enough: find feeds, sitemaps and sections (homepage.py)
            yield from self.discovery_start()
            return
        for url in discovery.feeds:
            yield scrapy.Request(
                url, callback=self.parse_feed, errback=self.on_error, dont_filter=True, meta=discovery_meta()
            )
        for url in discovery.sitemaps:
            yield scrapy.Request(
                url, callback=self.parse_sitemap, errback=self.on_error, dont_filter=True, meta=discovery_meta()
            )
        for index, listing in enumerate(discovery.listings):
            self.visited_listings.add(canonicalize_url(listing.url))
            yield scrapy.Request(
                listing.url,
                callback=self.parse_listing,
                errback=self.on_error,
                dont_filter=True,
                cb_kwargs={"listing_index": index, "page": 1},
                meta=discovery_meta(),
            )

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status == 304:  # unchanged since the last poll: nothing new behind it
            return
        parsed = feedparser.parse(response.body)
        links = [entry.get("link") for entry in parsed.entries if entry.get("link")]
        if not links and parsed.bozo:
            self.crawler.stats.inc_value("unionfeed/bad_feed")
            self.logger.warning("feed %s unreadable: %s", response.url, parsed.get("bozo_exception"))
        for link in links:
            yield from self.follow_article(response, link, kind="feed_item")

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        if response.status == 304:
            return
        # Gzip read with a size cap; children per index, depth, loops and sitemaps per run bounded (sitemaps.py).
        bounds = self.sitemap_bounds
        bounds.seen(response)
        try:
            sitemap = Sitemap(bounds.body(response))
            entries = [entry for entry in sitemap if entry.get("loc")]
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            self.logger.warning("sitemap %s unreadable: %s", response.url, reason)
            self.crawler.stats.inc_value("unionfeed/bad_sitemap")
            yield {"source": self.source.slug, "url": response.url, "error": f"sitemap unreadable: {reason}"}
            return
        if sitemap.type == "sitemapindex":
            allowed = [
                (e, c)
                for e in entries
                if (c := web_url(response.url, e["loc"])) and self.boundary.allows(c, "sitemap_child")
            ]
            for child, depth in bounds.children(response, [e for e, _ in allowed], [c for _, c in allowed]):
                yield scrapy.Request(
                    child, callback=self.parse_sitemap, errback=self.on_error, meta={**discovery_meta(), DEPTH: depth}
                )
            return
        for entry in entries:
            yield from self.follow_article(response, entry["loc"], kind="sitemap_entry")

    @property
    def sitemap_bounds(self) -> SitemapBounds:
        if self._sitemap_bounds is None:
            self._sitemap_bounds = SitemapBounds(self.crawler, self.logger)
        return self._sitemap_bounds

    def parse_listing(self, response: Response, listing_index: int, page: int) -> Iterator[scrapy.Request]:
        if response.status == 304:
            return
        listing = self.listings[listing_index]
        links_query, next_query = self.source.listing_rule(listing)
        if links_query.strip() == "a" and isinstance(response, scrapy.http.TextResponse):
            # The catch-all rule: every link outside navigation blocks (menus, header, footer, breadcrumbs).
            hrefs = content_links(response.text, response.url)
        else:
            # .xpath("@href") on the matches: in "a.x, h3 a::attr(href)" the pseudo-element binds only to the last.
            hrefs = response.css(links_query).xpath("descendant-or-self::a/@href").getall()
        skip = ("javascript:", "mailto:", "tel:", "#")
        found = [web_url(response.url, h) for h in hrefs if h and not h.startswith(skip)]
        candidates = [u for u in dict.fromkeys(found) if u is not None and self.boundary.allows(u, "article_link")]
        if links_query.strip() == "a" and page == 1:
            self.learn_shape(candidates)
        articles = [u for u in candidates if self.is_article_url(u)]
        refused_lately = [u for u in articles if canonicalize_url(u) in self.refused_before]
        if refused_lately:  # judged not articles at an earlier poll: neither asked nor counted as articles here
            self.crawler.stats.inc_value("unionfeed/skipped_refused", len(refused_lately))
            articles = [u for u in articles if u not in refused_lately]
        fresh = [u for u in articles if canonicalize_url(u) not in self.known]
        for url in articles:
            yield from self.follow_article(response, url, kind="article_link")
        self.crawler.stats.inc_value("unionfeed/listing_pages")
        # Stop paging when a page holds only articles we already have: the rest is older still (unless the last
        # run was cut short and may have left older ones unfetched).
        if articles and not fresh and not self.resuming:
            self.crawler.stats.set_value("unionfeed/stopped_at_known", response.url)
            return
        if page >= listing.max_pages:
            return
        self.visited_listings.update(
            canonicalize_url(u) for u in (*response.meta.get("redirect_urls", ()), response.url)
        )
        for next_url, how in self.next_pages(response, next_query, articles, links_query):
            if canonicalize_url(next_url) in self.visited_listings:
                continue  # a pager that leads back to a page already read (page 1, or round in a loop)
            # The next page stays on the source's own hosts and on http(s): never file:, data: or elsewhere.
            if not self.boundary.allows(next_url, "next_page"):
                continue
            self.crawler.stats.inc_value(f"unionfeed/next_page/{how}")
            self.visited_listings.add(canonicalize_url(next_url))
            yield scrapy.Request(
                next_url,
                callback=self.parse_listing,
                errback=self.on_error,
                cb_kwargs={"listing_index": listing_index, "page": page + 1},
                meta=discovery_meta(),
            )
            return

    def learn_shape(self, links: list[str]) -> None:
        """A listing read with the catch-all rule and no configured article pattern: its articles are the dominant
        URL family among its content links (`feed.discover.shapes`), so sections, tags, pager and "about" pages are
        not followed. Shapes learnt on several listings add up; a page without a clear family changes nothing."""
        if self.source.discovery.article_pattern is not None or not self.source.discovery.configured:
            return  # a configured pattern wins; a homepage-only source learns in discovery (homepage.py)
        shape = learn_article_pattern(links)
        if shape is None or shape.regex in self.learnt_shapes:
            return
        self.learnt_shapes.append(shape.regex)
        self.pattern = re.compile("|".join(f"(?:{regex})" for regex in self.learnt_shapes))
        self.crawler.stats.set_value("unionfeed/learnt_shape", " | ".join(shape.families))
        self.logger.info(
            "articles of %s look like %s (%.0f%% of its links)",
            self.source.slug,
            shape.families,
            100 * shape.confidence,
        )

    def next_pages(
        self, response: Response, next_query: str | None, articles: list[str], links_query: str
    ) -> list[tuple[str, str]]:
        """The links that may be this listing page's next page, best first, and how each was found: the configured
        `next:` selector alone when there is one ("rule"), else what the page's pager shows (see `pagination`)."""
        if next_query:
            href = response.css(next_query).xpath("descendant-or-self::a/@href").get()
            next_url = web_url(response.url, href) if href else None
            return [(next_url, "rule")] if next_url else []
        # A pager word never leads to an article: to one matching the article pattern, or one the listing's own
        # link selector picked (unless that selector is every link of the page).
        picked = set(articles) if links_query.strip() != "a" else set()

        def is_article(url: str) -> bool:
            return url in picked or (self.pattern is not None and self.is_article_url(url))

        return next_page_candidates(response, is_article)

    def is_article_url(self, url: str) -> bool:
        """Inside the source's boundary (its hosts), http(s) and, when the source gives one, matching its article
        pattern."""
        try:
            if urlsplit(url).scheme not in ("http", "https") or not self.boundary.inside(url):
                return False
        except ValueError:  # e.g. "http://[::1" — one bad link must not lose the page it is on
            return False
        return self.pattern.search(url) is not None if self.pattern else True

    def follow_article(self, response: Response, url: str, kind: str = "article_link") -> Iterator[scrapy.Request]:
        joined = web_url(response.url, url)
        if joined is None or not self.boundary.allows(joined, kind) or not self.is_article_url(joined):
            return
        url, canonical = joined, canonicalize_url(joined)
        if canonical in self.queued:
            return
        self.queued.add(canonical)
        if canonical in self.known:
            self.crawler.stats.inc_value("unionfeed/skipped_known")
            return
        if canonical in self.refused_before:
            self.crawler.stats.inc_value("unionfeed/skipped_refused")
            return
        # Articles are deduplicated by `queued` above; leaving Scrapy's duplicate filter out of their requests
        # lets a redirect that comes back to a URL reach the loop check and the errback instead of vanishing.
        yield scrapy.Request(url, callback=self.parse_article, errback=self.on_error, dont_filter=True)

    # --- articles -------------------------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        fetched_at = datetime.now(UTC)
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        media_type = content_type.split(";", 1)[0].strip().lower()
        # Scrapy judges a .html URL a text page whatever the server says; an image there is still an image.
        if not isinstance(response, scrapy.http.TextResponse) or (media_type and not media_type.startswith(TEXT_TYPES)):
            yield {"source": self.source.slug, "url": response.url, "error": f"not a text page ({media_type or '?'})"}
            return
        # The raw bytes and the header's charset: extract checks a declared charset against the bytes.
        encoding = http_content_type_encoding(content_type)
        article = extract(
            response.body, response.url, selectors=self.selectors, fetched_at=fetched_at, encoding=encoding
        )
        # A page that is not an article (menu, section, about, login …) is counted and never stored (judging.py).
        if refused(self.crawler, self.source, response, article, encoding, vouched=self.pattern is not None):
            return
        note_body_cut(self.crawler, response.url, article, self.logger)  # a body over the cap: kept, cut, counted
        if article.selectors_missed:
            # Selectors are a hint: the page was read by the layers below them; health flags them when stale.
            self.crawler.stats.inc_value(SELECTORS_MISSED)
            if not self.crawler.stats.get_value(SELECTORS_MISSED_URL):
                self.crawler.stats.set_value(SELECTORS_MISSED_URL, response.url)
            self.logger.info("the %s selectors missed on %s", article.selectors_missed, response.url)
        declared = article.declared_canonical
        if declared and not self.boundary.inside(declared):
            # A canonical on another host is no key and no link of ours: the page is filed under its own URL.
            self.crawler.stats.inc_value(CANONICAL_IGNORED)
            self.logger.info("page %s declares a canonical on another host, ignored: %s", response.url, declared)
        yield {
            "source": self.source.slug,
            "url": response.url,
            "article": article,
            "fetched_at": fetched_at,
            "error": article.error,
        }

    def on_error(self, failure: Failure) -> Iterator[dict[str, Any]]:
        request = getattr(failure, "request", None)
        if self.moves is not None and self.moves.failed(failure):
            return  # a discovery page's permanent redirect to another host: held until the whole site is judged
        if failure.check(OutsideBoundary):
            return  # counted and logged by the boundary: not a page error, not a failed discovery
        # After redirects, the URL the spider asked for (the article link) names the page; the message the rest.
        url = (request.meta.get("redirect_urls") or [request.url])[0] if request is not None else "?"
        message = self.describe(failure)
        if (
            request is not None
            and request.meta.get(DISCOVERY)
            and failure.check(IgnoreRequest)
            and not failure.check(HttpError)
        ):
            # Robots.txt or a redirect loop keeping us from a listing or feed fails the source, like a 5xx.
            self.crawler.stats.inc_value("unionfeed/discovery_failed")
        self.logger.warning("failed %s: %s", url, message)
        yield {"source": self.source.slug, "url": url, "error": message}

    def describe(self, failure: Failure) -> str:
        """Why a request failed, in words an operator reads in the status page."""
        response = getattr(failure.value, "response", None)
        if response is not None:
            return f"HTTP {response.status}"
        message = failure.getErrorMessage()
        if failure.check(DownloadCancelledError) and not message:
            # Scrapy's HTTP/1.1 handler cancels silently only when a body without Content-Length outgrows it.
            limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
            return f"Received a body larger than download max size ({limit} bytes); the download was cut off"
        if message == "max redirections reached":
            limit = self.crawler.settings.getint("REDIRECT_MAX_TIMES")
            return f"max redirections reached (more than {limit} redirects)"
        return message or (failure.type.__name__ if failure.type else "unknown failure")
