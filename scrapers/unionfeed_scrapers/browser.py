"""`render: browser`: a source's listing and article pages fetched through a real headless Chromium.

Some portals (moha.gov.vn's news list) build their pages with JavaScript; plain fetching reads "needs JavaScript"
(js_pages). A source that says `render: browser` has those pages rendered by Debian's Chromium driven through
scrapy-playwright (the optional extra `browser`), which is imported only by the crawlers of such sources: the rest
of the product runs without it, and a source asking for it when it is missing fails with one line naming the extra.

Only what the page is built from goes through the browser: listing and article pages (`RenderMiddleware` marks
their requests). robots.txt, feeds and sitemaps are still read over plain HTTP, and every request still passes the
spider's downloader middlewares (the source boundary first). Inside the browser:

- Chromium is Debian's (`/usr/bin/chromium`, launch option `executable_path`): no Playwright browser download.
- It runs headless with the GPU, extensions, background networking, sync and first-run pages off. Chromium's
  sandbox stays on, except when the crawl runs as root (a container's default user), where Chromium refuses to
  start sandboxed: there `--no-sandbox` is the only way it runs, and what keeps the page in check is below.
- Each source has its own browser and its own context (one crawler a source): no cookie, cache or storage is
  shared across sources. Downloads are refused and service workers blocked (so every request meets the route).
- Every request the page makes (the document, its scripts, images, XHR/fetch) meets a route handler that lets
  through only URLs inside the source's boundary and aborts the rest (counted in unionfeed/offsite_refused/
  browser). The handler fetches each request itself without following redirects and checks every hop: a script
  or the page cannot be redirected to another host either.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urljoin

from scrapy import Request
from scrapy.exceptions import NotConfigured

log = logging.getLogger(__name__)

EXTRA = "browser"  # pyproject's optional extra that brings scrapy-playwright
CHROMIUM = "/usr/bin/chromium"  # Debian's package `chromium`
MISSING = "UNIONFEED_BROWSER_MISSING"  # Scrapy setting: why this source's browser cannot run (set by crawl_runner)
EXECUTABLE = "UNIONFEED_BROWSER_EXECUTABLE"  # Scrapy setting: the Chromium to run
CONTEXT = "source"  # the one context of a source's browser
MAX_HOPS = 5  # redirects a page's request may take inside the boundary
FLAGS = (
    "--disable-gpu",
    "--disable-extensions",
    "--disable-component-extensions-with-background-pages",
    "--disable-background-networking",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-dev-shm-usage",  # containers have a small /dev/shm
    "--mute-audio",
)
REFUSED = "unionfeed/offsite_refused/browser"


def unavailable(executable: str = CHROMIUM) -> str | None:
    """Why a source cannot be rendered here (one line naming what to install), or None when it can."""
    try:
        import scrapy_playwright  # noqa: F401
    except ImportError:
        return (
            f"render: browser needs the optional extra '{EXTRA}' (pip install 'unionfeed[{EXTRA}]'): "
            "scrapy-playwright is not installed"
        )
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        return f"render: browser needs Chromium at {executable} (apt-get install chromium): not found"
    return None


def launch_options(executable: str = CHROMIUM) -> dict[str, Any]:
    """Chromium's launch options: Debian's binary, headless, our flags; the sandbox off only for root."""
    return {
        "executable_path": executable,
        "headless": True,
        # Chromium will not start sandboxed as root; anyone else keeps the sandbox.
        "chromium_sandbox": os.geteuid() != 0,
        "args": list(FLAGS),
    }


def browser_settings(base: Any, executable: str = CHROMIUM) -> dict[str, Any]:
    """The Scrapy settings a browser source's crawler adds to the crawl's (base): the playwright handler for
    http(s) (requests not marked for the browser still go over plain HTTP through it) and its options."""
    handlers = dict(base.getdict("DOWNLOAD_HANDLERS"))
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    timeout_ms = int(base.getfloat("DOWNLOAD_TIMEOUT") * 1000)
    return {
        "DOWNLOAD_HANDLERS": {**handlers, "http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch_options(executable),
        "PLAYWRIGHT_CONTEXTS": {
            CONTEXT: {
                "accept_downloads": False,
                "service_workers": "block",
                "user_agent": base.get("USER_AGENT"),
                "locale": "vi-VN",
                "java_script_enabled": True,
            }
        },
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max(1, base.getint("CONCURRENT_REQUESTS_PER_DOMAIN")),
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_ms,
        EXECUTABLE: executable,
    }


def route_guard(boundary: Any) -> Callable[[Any, Any], Awaitable[None]]:
    """A Playwright route handler: a page's request inside the boundary is fetched here, hop by hop, and handed to
    the page; anything else (another host, a redirect to one, too many hops) is aborted and counted."""

    async def guard(route: Any, request: Any) -> None:
        url = request.url
        if not boundary.inside(url):
            boundary.refuse(url, "browser")
            await route.abort("blockedbyclient")
            return
        response = await route.fetch(max_redirects=0)
        target, hops = url, 0
        while 300 <= response.status < 400 and response.headers.get("location"):
            target, hops = urljoin(target, response.headers["location"]), hops + 1
            if hops > MAX_HOPS or not boundary.inside(target):
                boundary.refuse(target, "browser")
                await route.abort("blockedbyclient")
                return
            response = await route.fetch(url=target, max_redirects=0)
        if target != url:  # the browser goes to the end of the chain, which was just checked
            await route.fulfill(status=302, headers={"Location": target})
            return
        await route.fulfill(response=response)

    return guard


def page_init(boundary: Any) -> Callable[[Any, Any], Awaitable[None]]:
    """scrapy-playwright's page init callback: the route guard on every new page, before it asks anything."""
    guard = route_guard(boundary)

    async def init(page: Any, request: Request) -> None:
        await page.route("**/*", guard)

    return init


class RenderMiddleware:
    """Marks a browser source's listing and article requests for the browser (a no-op for every other source)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.init: Callable[[Any, Any], Awaitable[None]] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> RenderMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        source = getattr(spider, "source", None)
        if source is None or source.render != "browser" or request.meta.get("playwright"):
            return None
        rendered = ("parse_listing", "parse_article", "discover_homepage", "discover_section")
        if request.callback not in [getattr(spider, name, None) for name in rendered]:
            return None  # robots.txt, feeds, sitemaps, probes: plain HTTP (pages: the homepage, sections, listings)
        if self.init is None:
            self.init = page_init(spider.boundary)
        request.meta.update(
            playwright=True,
            playwright_context=CONTEXT,
            playwright_page_init_callback=self.init,
            # A script-built list arrives after the load event: read the page once its requests have settled
            # (at most the download timeout, then what is there).
            playwright_page_goto_kwargs={"wait_until": "networkidle"},
        )
        # The browser sends its own request: validators for a plain fetch would make a 304 it cannot render.
        for name in (b"If-None-Match", b"If-Modified-Since"):
            request.headers.pop(name, None)
        return None


class BrowserMissing:
    """A spider middleware: when this source asks for the browser and it cannot run, the run fails at once with the
    one-line cause as its page error (no page is fetched the plain way instead)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.why = crawler.settings.get(MISSING)
        if not self.why:
            raise NotConfigured

    @classmethod
    def from_crawler(cls, crawler: Any) -> BrowserMissing:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        spider = self.crawler.spider
        self.crawler.stats.inc_value("unionfeed/discovery_failed")
        log.error("source %s: %s", spider.source.slug, self.why)
        yield {"source": spider.source.slug, "url": spider.source.homepage, "error": self.why}
