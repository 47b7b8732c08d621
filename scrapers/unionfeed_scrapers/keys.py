"""What the spider, the middlewares, the pipeline and the crawl runner share: request meta keys, stats keys,
and reading a response header."""

from __future__ import annotations

from typing import Any

from scrapy.http import Response

DISCOVERY = "unionfeed_discovery"  # meta flag: a feed, sitemap or listing page (asked conditionally)
VIA = "unionfeed_via"  # meta: the discovery URLs a request was found through
RETRY_AFTER_UNTIL = "unionfeed/retry_after_until"  # stats key the scheduler reads to defer a source
STORE_FAILED = "unionfeed/store_failed"  # stats key: fetched items the store refused (the run is not whole)
STORE_LOST = "unionfeed/store_lost"  # stats key: the store became unusable (feed.store.faults): the crawl stopped
OFFSITE = "unionfeed/offsite_refused"  # stats key: requests refused by the source boundary (+ "/<kind>" each)
CANONICAL_IGNORED = "unionfeed/canonical_ignored"  # stats key: rel=canonical / og:url on another host or source
SELECTORS_MISSED = "unionfeed/selectors_missed"  # stats key: article pages the source's selectors missed
SELECTORS_MISSED_URL = "unionfeed/selectors_missed_url"  # stats key: the first of them
NOT_ARTICLE = "unionfeed/not_article"  # stats key: pages judged not articles, never stored (+ "/<reason>" each)
NOT_ARTICLE_URL = "unionfeed/not_article_url"  # stats key: the first of them
FOREIGN = "unionfeed/foreign_refused"  # stats key: pages whose URL is another source's stored article


# Meta flag of a homepage-only source's homepage request (unionfeed_scrapers.homepage): its only discovery page,
# asked unconditionally; a whole-site move is judged on it as on a configured discovery page.
HOMEPAGE_DISCOVERY = "unionfeed_homepage_discovery"


def discovery_meta() -> dict[str, Any]:
    """Meta for a discovery request: asked conditionally, and a 304 reaches the callback."""
    return {DISCOVERY: True, "handle_httpstatus_list": [304]}


def header(response: Response, name: str) -> str | None:
    """A response header as text (latin-1, as HTTP sends it), stripped; None when absent or empty."""
    value = response.headers.get(name)
    return value.decode("latin-1").strip() if value else None
