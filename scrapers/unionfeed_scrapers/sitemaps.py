"""Reading sitemaps within bounds: gzip bodies (size-capped), children per index, depth, loops, sitemaps per run.

A sitemap may come gzipped (`sitemap.xml.gz` served as application/gzip, no Content-Encoding): it is gunzipped
here with the same cap Scrapy's SitemapSpider uses (the download size limit, `DOWNLOAD_MAXSIZE`), and one that
is not gzip or grows past the cap is named unreadable with the reason. An index leads to at most
`UNIONFEED_SITEMAP_MAX_CHILDREN` children (newest `lastmod` first), at most `UNIONFEED_SITEMAP_MAX_DEPTH` indexes
deep, and a run reads at most `UNIONFEED_SITEMAP_MAX_FETCHES` sitemaps: an index of 3,000 children or an endless
chain of indexes costs a bounded number of requests each poll. A child already read this run (an index that leads
back to one read before) is a loop: not asked again, counted and logged.

Stats: unionfeed/sitemap_loop, unionfeed/sitemap_capped/children|depth|fetches, unionfeed/sitemap_capped_url (the
first index cut), unionfeed/bad_sitemap.
"""

from __future__ import annotations

from typing import Any

from scrapy.http import Response
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip

from feed.lang.urls import canonicalize_url

DEPTH = "unionfeed_sitemap_depth"  # request meta: how many indexes lie above this sitemap (0: a configured one)
MAX_CHILDREN = 50
MAX_DEPTH = 3
MAX_FETCHES = 60
CAPPED = "unionfeed/sitemap_capped"
CAPPED_URL = "unionfeed/sitemap_capped_url"
LOOP = "unionfeed/sitemap_loop"
GZIP_MAGIC = b"\x1f\x8b"


class Unreadable(ValueError):
    """A sitemap body that cannot be read, with the reason in words."""


class SitemapBounds:
    """One run's sitemap budget (one per spider)."""

    def __init__(self, crawler: Any, logger: Any) -> None:
        settings = crawler.settings
        self.stats = crawler.stats
        self.logger = logger
        self.max_bytes = settings.getint("DOWNLOAD_MAXSIZE")
        self.max_children = settings.getint("UNIONFEED_SITEMAP_MAX_CHILDREN", MAX_CHILDREN)
        self.max_depth = settings.getint("UNIONFEED_SITEMAP_MAX_DEPTH", MAX_DEPTH)
        self.max_fetches = settings.getint("UNIONFEED_SITEMAP_MAX_FETCHES", MAX_FETCHES)
        self.read: set[str] = set()  # canonical URLs of the sitemaps read or asked for this run
        self.asked = 0  # sitemap children asked for this run

    def body(self, response: Response) -> bytes:
        """The sitemap's XML: the body, gunzipped when it is gzip (whatever its name or type says)."""
        data = response.body
        if not data.startswith(GZIP_MAGIC):
            return data
        try:
            return gunzip(data, max_size=self.max_bytes)
        except _DecompressionMaxSizeExceeded:
            raise Unreadable(
                f"larger than {self.max_bytes} bytes once decompressed (the download size limit)"
            ) from None
        except (OSError, EOFError) as exc:
            raise Unreadable(f"gzip data that cannot be decompressed ({exc})") from None

    def seen(self, response: Response) -> None:
        """Note a sitemap read (and the URLs that redirected to it)."""
        for url in (*response.meta.get("redirect_urls", ()), response.url):
            self.read.add(canonicalize_url(url))

    def children(self, response: Response, entries: list[dict[str, Any]], urls: list[str]) -> list[tuple[str, int]]:
        """The children of an index to ask for, each with its depth: loops dropped, the rest cut to the bounds."""
        depth = int(response.meta.get(DEPTH, 0)) + 1
        fresh: list[tuple[str, str]] = []
        named: set[str] = set()
        for entry, url in zip(entries, urls, strict=True):
            canonical = canonicalize_url(url)
            if canonical in self.read:
                self.stats.inc_value(LOOP)
                self.logger.warning(
                    "sitemap index %s names %s, already read or asked for this run (a loop): not followed",
                    response.url,
                    url,
                )
                continue
            if canonical not in named:  # named twice in this index: asked once
                named.add(canonical)
                fresh.append((str(entry.get("lastmod") or ""), url))
        if not fresh:
            return []
        if depth > self.max_depth:
            return self._capped(response, "depth", len(fresh), f"{depth} indexes deep (limit {self.max_depth})")
        # Newest first: a site's recent months matter, its archive from 2012 does not.
        ordered = [url for _, url in sorted(fresh, key=lambda pair: pair[0], reverse=True)]
        kept = ordered[: self.max_children]
        if len(kept) < len(ordered):
            skipped = len(ordered) - len(kept)
            self._capped(response, "children", skipped, f"{len(ordered)} children (limit {self.max_children})")
        room = max(self.max_fetches - self.asked, 0)
        if len(kept) > room:
            self._capped(response, "fetches", len(kept) - room, f"the run's limit of {self.max_fetches} sitemaps")
            kept = kept[:room]
        self.asked += len(kept)
        self.read.update(canonicalize_url(url) for url in kept)
        return [(url, depth) for url in kept]

    def _capped(self, response: Response, why: str, skipped: int, text: str) -> list[tuple[str, int]]:
        self.stats.inc_value(f"{CAPPED}/{why}", skipped)
        self.stats.inc_value(CAPPED, skipped)
        if not self.stats.get_value(CAPPED_URL):
            self.stats.set_value(CAPPED_URL, response.url)
        self.logger.warning("sitemap index %s: %s; %d children not followed", response.url, text, skipped)
        return []
