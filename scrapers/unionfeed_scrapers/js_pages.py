"""Naming discovery pages that need JavaScript: their HTML holds no article link, only scripts that build the list.

Some portals send a listing as an empty container and a script that fetches the articles as JSON, or write the
list with `document.write`, or ship a framework's empty root element and its bundles. The spider (which renders
nothing) then finds no article links, and health would only say so. This middleware looks at each discovery page
the spider reads: when the HTML links no article (by the listing's own link selector, or anywhere on a feed or
sitemap URL that answered HTML) and its scripts build the page, it records "needs JavaScript" with the URL as the
page's error and in the run's stats, from which `feed.health.verdict` words the cause. Nothing is rendered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy.http import Response, TextResponse

from feed.lang.urls import web_url
from unionfeed_scrapers.keys import DISCOVERY

log = logging.getLogger(__name__)

FOUND = "unionfeed/needs_js"  # stats: discovery pages whose list only scripts build
FOUND_URL = "unionfeed/needs_js_url"  # stats: the first such URL (health names it)

# What a script does when it builds the list itself: writes markup, or fetches data and puts it in the page.
_BUILDERS = (
    ("document.write", re.compile(r"document\s*\.\s*write(?:ln)?\s*\(")),
    ("fetch", re.compile(r"(?<![\w.])fetch\s*\(")),
    ("XMLHttpRequest", re.compile(r"\bXMLHttpRequest\b")),
    ("jQuery ajax", re.compile(r"\$\s*\.\s*(?:ajax|getJSON|get|post)\s*\(|\.load\s*\(\s*['\"]")),
    ("axios", re.compile(r"\baxios\s*[.(]")),
    ("innerHTML", re.compile(r"\.\s*(?:innerHTML\s*[+]?=|insertAdjacentHTML\s*\()")),
)
# An application shell: a framework's root element, empty, filled in by its bundles.
_ROOTS = (
    "//div[@id='root' or @id='app' or @id='__next' or @id='__nuxt' or @id='___gatsby' or @id='svelte']"
    "|//*[@ng-app or @data-reactroot or @data-server-rendered or @ng-version]|//app-root"
)


def script_builder(response: TextResponse) -> str | None:
    """What in the page's scripts builds its content (a short name), or None when no script does."""
    inline = " ".join(response.xpath("//script[not(@src)]/text()").getall())
    for name, pattern in _BUILDERS:
        if pattern.search(inline):
            return name
    bundles = response.xpath("//script[@src]")
    for root in response.xpath(_ROOTS):
        if bundles and not "".join(root.xpath(".//text()").getall()).strip() and not root.xpath(".//a[@href]"):
            return "an empty application root filled by script bundles"
    return None


class JavaScriptPageMiddleware:
    """Records discovery pages with no article link in their HTML whose scripts build the list."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> JavaScriptPageMiddleware:
        return cls(crawler)

    def _article_links(self, response: TextResponse) -> int:
        spider = self.crawler.spider
        source = getattr(spider, "source", None)
        index = response.request.cb_kwargs.get("listing_index") if response.request is not None else None
        if source is not None and index is not None and index < len(source.discovery.listings):
            query = source.listing_rule(source.discovery.listings[index])[0]
            hrefs = response.css(query).xpath("descendant-or-self::a/@href").getall()
        else:
            hrefs = response.xpath("//a/@href").getall()
        urls = (web_url(response.url, h) for h in hrefs if h)
        return sum(1 for u in urls if u and spider.is_article_url(u))

    def _judge(self, response: Response | None) -> dict[str, Any] | None:
        """The page error to record when this response is a discovery page that needs JavaScript."""
        if response is None or response.status != 200 or not response.meta.get(DISCOVERY):
            return None
        if not isinstance(response, TextResponse):
            return None
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        if not content_type.startswith(("text/html", "application/xhtml")):
            return None
        spider = self.crawler.spider
        if not hasattr(spider, "is_article_url") or self._article_links(response):
            return None
        builder = script_builder(response)
        if builder is None:
            return None
        stats = self.crawler.stats
        stats.inc_value(FOUND)
        if not stats.get_value(FOUND_URL):
            stats.set_value(FOUND_URL, response.url)
        log.warning("%s has no article links in its HTML; its scripts build the page (%s)", response.url, builder)
        error = f"needs JavaScript: {response.url} has no article links in its HTML, only scripts ({builder})"
        return {"source": spider.source.slug, "url": response.url, "error": error}

    def process_spider_output(
        self, response: Response | None, result: Iterable[Any], spider: Any = None
    ) -> Iterator[Any]:
        yield from result
        found = self._judge(response)
        if found is not None:
            yield found

    async def process_spider_output_async(
        self, response: Response | None, result: AsyncIterator[Any], spider: Any = None
    ) -> AsyncIterator[Any]:
        async for output in result:
            yield output
        found = self._judge(response)
        if found is not None:
            yield found
