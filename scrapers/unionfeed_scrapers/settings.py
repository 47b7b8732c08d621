"""Scrapy settings for unionfeed.

Rules: these are the polite defaults for crawling other people's sites (robots.txt obeyed, at most two requests
at a time per site, AutoThrottle, an identifying User-Agent with a contact URL, bounded retries and timeouts).
`feed.app.crawl_runner.scrapy_settings()` overrides them from the operator's `config/settings.yaml` and
UNIONFEED_* variables; do not put site- or environment-specific values here.
"""

from feed.config.settings import Politeness

_polite = Politeness()

BOT_NAME = "unionfeed"
SPIDER_MODULES = ["unionfeed_scrapers.spiders"]
NEWSPIDER_MODULE = "unionfeed_scrapers.spiders"

USER_AGENT = _polite.user_agent
ROBOTSTXT_OBEY = _polite.obey_robots
# Per crawl (one source): the engine hands the downloader at most this many requests; a graceful stop still
# downloads those, so a small number keeps SIGTERM quick while two per site stay busy.
CONCURRENT_REQUESTS = 4
CONCURRENT_REQUESTS_PER_DOMAIN = _polite.concurrent_per_domain
# Outputs of one response handled at a time. Scrapy (asyncio reactor) starts this many worker tasks for every
# response, whatever it yields; an article page yields one item and a listing some links, which are only
# scheduled. Scrapy's 100 cost 13 % of the crawl's CPU (bench/crawl.py, docs/benchmarks.md); 8 still keeps a
# listing's links flowing, and the store pipeline is synchronous, so no item waits on another.
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = _polite.download_delay
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = _polite.autothrottle_start_delay
AUTOTHROTTLE_MAX_DELAY = _polite.autothrottle_max_delay
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = _polite.download_timeout
DOWNLOAD_MAXSIZE = _polite.max_page_bytes
DOWNLOAD_WARNSIZE = _polite.max_page_bytes // 2
RETRY_ENABLED = True
RETRY_TIMES = _polite.retry_times
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
# Only the web: a link or redirect naming file:, data:, ftp: or s3: must never make a crawl read anything else.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy >= 2.19 would open an HTTP control port in every crawl
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,application/rss+xml;q=0.8,*/*;q=0.5",
    "Accept-Language": "vi,en;q=0.5",
}
ITEM_PIPELINES = {"unionfeed_scrapers.pipelines.StorePipeline": 300}
# Conditional requests sit after RetryMiddleware (550) on the way back, so they see a request's final outcome;
# Retry-After handling sits before it, so a 429 is held and retried here rather than retried at once.
# The redirect-loop check only reads a request's redirect chain; any place before sending would do.
# The source boundary comes before RobotsTxtMiddleware (100): a request to another host (a redirect, a meta
# refresh) is refused before that host's robots.txt would be asked.
# The cookie gate sits after HttpCompressionMiddleware (590) on the way back, so it reads the decompressed page;
# a gate it answers goes back to be asked again before the conditional and retry middlewares see it.
# Rendering (render: browser sources only) marks requests after the conditional middleware added its validators,
# which it takes off again: the browser asks for itself.
DOWNLOADER_MIDDLEWARES = {
    "unionfeed_scrapers.boundary.BoundaryMiddleware": 80,
    "unionfeed_scrapers.conditional_get.ConditionalRequestMiddleware": 540,
    "unionfeed_scrapers.retry_after.RetryAfterMiddleware": 560,
    "unionfeed_scrapers.cookie_gate.CookieGateMiddleware": 580,
    "unionfeed_scrapers.redirect_loops.RedirectLoopMiddleware": 590,
    "unionfeed_scrapers.browser.RenderMiddleware": 595,
}
# Capturing runs before HttpErrorMiddleware (50) so error pages are saved before they are dropped.
# A source asking for the browser where it cannot run fails at its start, with the cause (browser.BrowserMissing).
SPIDER_MIDDLEWARES = {
    "unionfeed_scrapers.browser.BrowserMissing": 40,
    "unionfeed_scrapers.captures.CaptureMiddleware": 45,
    "unionfeed_scrapers.discovery_trail.DiscoveryTrailMiddleware": 600,
    "unionfeed_scrapers.js_pages.JavaScriptPageMiddleware": 610,
}
EXTENSIONS = {"unionfeed_scrapers.page_bounds.PeakMemory": 500}  # each run's stats: the process's peak memory
# Sitemaps (sitemaps.py): children followed per index (newest lastmod first), indexes deep, sitemaps read per run.
UNIONFEED_SITEMAP_MAX_CHILDREN = 50
UNIONFEED_SITEMAP_MAX_DEPTH = 3
UNIONFEED_SITEMAP_MAX_FETCHES = 60
UNIONFEED_RETRY_AFTER_MAX = 120.0  # seconds a run waits for a site that asked us to slow down
UNIONFEED_RETRY_AFTER_DEFER_MAX = 24 * 3600.0  # the longest a Retry-After may keep a source from being polled
UNIONFEED_BACKOFF_BASE = 10.0  # first wait after a 429 without Retry-After; doubles on each retry
UNIONFEED_THROTTLE_RETRIES = 3
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
from scrapy.settings import default_settings as _scrapy_defaults  # noqa: E402

# Issue 17: Scrapy's default resolver (CachingThreadedResolver) asks for IPv4 addresses only, so a source on an
# IPv6 literal (http://[::1]:8080/) or an IPv6-only host failed with "DNS lookup failed". The hostname resolver
# resolves both families (and passes literals through); it still caches (DNSCACHE_ENABLED).
if hasattr(_scrapy_defaults, "TWISTED_DNS_RESOLVER"):  # the name newer Scrapy reads (the old one is deprecated)
    TWISTED_DNS_RESOLVER = "scrapy.resolver.CachingHostnameResolver"
else:
    DNS_RESOLVER = "scrapy.resolver.CachingHostnameResolver"
# The store pipeline writes fetched articles in batches: one transaction per this many items, or per this many
# seconds since the batch's first item, whichever comes first (and at the spider's close, shutdown included).
UNIONFEED_STORE_BATCH_ITEMS = 50
UNIONFEED_STORE_BATCH_SECONDS = 2.0
