"""Polling middlewares: conditional requests for discovery pages, Retry-After/429, and saving pages that look wrong.

- ConditionalRequestMiddleware (downloader): sends If-None-Match / If-Modified-Since for feeds, sitemaps,
  listings and robots.txt from validators kept per URL in the store; a 304 tells the spider nothing changed.
  Validators learnt in a run are saved only when the run finished, found article links, and no article found
  through that page failed for a passing reason (timeout, 5xx, 429): otherwise the next poll would get a 304
  and never retry it.
- RetryAfterMiddleware (downloader): on 429 (or 503 with Retry-After) it holds the site's download slot for
  the time asked and retries; when the site asks for longer than we wait inside one run, it ends the run and
  records until when the scheduler should leave the source alone.
- CaptureMiddleware (spider): keeps the latest body of each discovery page and the pages of this run that
  failed (HTTP errors, articles without title, date or body), so a broken source leaves a test fixture behind.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import shutil
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from time import monotonic
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from sqlalchemy import LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from feed.store import AwareDateTime, Base, Store, create_tables, now_utc

log = logging.getLogger(__name__)

DISCOVERY = "unionfeed_discovery"  # meta flag: a feed, sitemap or listing page (asked conditionally)
VIA = "unionfeed_via"  # meta: the discovery URLs a request was found through
RETRY_AFTER_UNTIL = "unionfeed/retry_after_until"  # stats key the scheduler reads to defer a source
STORE_FAILED = "unionfeed/store_failed"  # stats key: fetched items the store refused (the run is not whole)


def discovery_meta() -> dict[str, Any]:
    """Meta for a discovery request: asked conditionally, and a 304 reaches the callback."""
    return {DISCOVERY: True, "handle_httpstatus_list": [304]}


def source_fingerprint(spider: Any) -> str:
    """Validators belong to one discovery setup: changing a source's discovery config forgets them."""
    source = getattr(spider, "source", None)
    data = source.discovery.model_dump_json() if source is not None else spider.name
    return hashlib.sha1(data.encode("utf-8")).hexdigest()[:16]


def url_key(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8")).hexdigest()


class HttpValidator(Base):
    """The ETag / Last-Modified a site gave for one URL (and robots.txt's body, replayed on 304)."""

    __tablename__ = "http_validators"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    source_slug: Mapped[str] = mapped_column(String(64), index=True)
    fingerprint: Mapped[str] = mapped_column(String(16))
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    saved_at: Mapped[datetime] = mapped_column(AwareDateTime)


def ensure_tables(store: Store) -> None:
    """Create the validators table if this database does not have it yet."""
    create_tables(store.engine, [HttpValidator.__table__])  # type: ignore[list-item]


@dataclass(frozen=True)
class Validators:
    etag: str | None
    last_modified: str | None
    body: bytes | None = None


def load_validators(store: Store, slug: str, fingerprint: str) -> dict[str, Validators]:
    """The validators remembered for a source's URLs (those from another discovery setup are ignored)."""
    query = select(HttpValidator).where(HttpValidator.source_slug == slug, HttpValidator.fingerprint == fingerprint)
    with store.session() as s:
        return {row.url: Validators(row.etag, row.last_modified, row.body) for row in s.scalars(query)}


def save_validators(store: Store, slug: str, fingerprint: str, found: dict[str, Validators]) -> None:
    """Insert or replace validators by URL."""
    if not found:
        return
    with store.session() as s:
        for url, v in found.items():
            row = s.get(HttpValidator, url_key(url))
            if row is None:
                row = HttpValidator(key=url_key(url), url=url)
                s.add(row)
            row.source_slug, row.fingerprint = slug, fingerprint
            row.etag, row.last_modified, row.body, row.saved_at = v.etag, v.last_modified, v.body, now_utc()


def forget_validators(store: Store, slug: str) -> int:
    """Drop a source's validators (its next poll fetches every discovery page in full); returns how many."""
    with store.session() as s:
        rows = list(s.scalars(select(HttpValidator).where(HttpValidator.source_slug == slug)))
        for row in rows:
            s.delete(row)
        return len(rows)


def is_robots(request: Request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and urlsplit(request.url).path == "/robots.txt"


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1").strip() if value else None


class ConditionalRequestMiddleware:
    """Conditional GETs for discovery pages and robots.txt, with validators persisted in the store."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.db_url: str = crawler.settings.get("UNIONFEED_DB_URL") or ""
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
        # --refetch asks for everything again, so nothing may be skipped on a 304.
        self.enabled = bool(self.db_url) and source is not None and not getattr(spider, "refetch", False)
        if not self.enabled or source is None:
            return
        self.slug, self.fingerprint = source.slug, source_fingerprint(spider)
        self.store = Store(self.db_url)
        ensure_tables(self.store)
        self.known = load_validators(self.store, self.slug, self.fingerprint)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.store is None:
            return
        try:
            # An unfinished run (time limit, shutdown, Retry-After) may have left articles unfetched; a run
            # that found no article link at all (a redesign?) must look at its pages afresh next time, or a
            # 304 would hide the breakage from health.
            stored_all = not self.crawler.stats.get_value(STORE_FAILED)
            if reason == "finished" and getattr(spider, "queued", None) and stored_all:
                keep = {url: v for url, v in self.pending.items() if url not in self.tainted}
                save_validators(self.store, self.slug, self.fingerprint, keep)
                self.crawler.stats.set_value("unionfeed/validators_saved", len(keep))
        finally:
            self.store.close()
            self.store = None

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
            found = Validators(_header(response, "ETag"), _header(response, "Last-Modified"),
                               response.body if is_robots(request) else None)
            if found.etag or found.last_modified:
                if is_robots(request) and self.store is not None:
                    # robots.txt is replayed from its saved body, so it is safe to remember at once.
                    save_validators(self.store, self.slug, self.fingerprint, {request.url: found})
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


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class RetryAfterMiddleware:
    """Honour 429 and Retry-After: wait (holding the whole site, not one request) or end the run and defer."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.max_wait = settings.getfloat("UNIONFEED_RETRY_AFTER_MAX", 120.0)
        self.max_defer = settings.getfloat("UNIONFEED_RETRY_AFTER_DEFER_MAX", 24 * 3600.0)
        self.base_backoff = settings.getfloat("UNIONFEED_BACKOFF_BASE", 10.0)
        self.retries = settings.getint("UNIONFEED_THROTTLE_RETRIES", 3)

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if response.status not in (429, 503) or request.meta.get("dont_retry"):
            return response
        wait = retry_after_seconds(_header(response, "Retry-After"), datetime.now(UTC))
        if wait is None:
            if response.status == 503:
                return response  # an ordinary server error: RetryMiddleware's business
            wait = self.base_backoff * 2 ** request.meta.get("retry_times", 0)
        stats = self.crawler.stats
        stats.inc_value(f"unionfeed/throttled/{response.status}")
        if wait > self.max_wait:
            until = now_utc() + timedelta(seconds=min(wait, self.max_defer))
            stats.set_value(RETRY_AFTER_UNTIL, until.isoformat())
            log.warning("%s asks us to come back in %.0f s; ending this run", request.url, wait)
            self._close("retry_after")
            request.meta["dont_retry"] = True
            return response
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"{response.status} Retry-After",
                                  max_retry_times=self.retries)
        if retry is None:
            request.meta["dont_retry"] = True
            return response
        self._hold_slot(request, wait)
        return retry

    def _hold_slot(self, request: Request, seconds: float) -> None:
        """No request goes to this site until `seconds` have passed (the slot's next send is pushed back)."""
        downloader = self.crawler.engine.downloader
        key = request.meta.get("download_slot") or downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            return
        slot.delay = max(slot.delay, 0.001)  # the downloader only looks at lastseen when the slot has a delay
        slot.lastseen = max(slot.lastseen, monotonic() + seconds)

    def _close(self, reason: str) -> None:
        engine = self.crawler.engine
        closer = getattr(engine, "close_spider_async", None)
        if closer is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(closer(reason=reason))
        else:  # Scrapy < 2.14
            engine.close_spider(self.crawler.spider, reason)


# --- saving pages that look wrong ---------------------------------------------------------------------------
def capture_dir(crawler: Any, slug: str) -> Path | None:
    root = crawler.settings.get("UNIONFEED_CAPTURE_DIR")
    return Path(root) / slug if root else None


def save_capture(folder: Path, response: Response, kind: str, reason: str) -> Path:
    """A gzipped page with a meta file beside it (URL, status, capture time, why), ready to become a fixture."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{kind}-{url_key(response.url)[:12]}"
    page = folder / f"{stem}.html.gz"
    tmp = page.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(response.body, mtime=0))
    tmp.replace(page)
    meta = {"url": response.url, "status": response.status, "kind": kind, "reason": reason,
            "captured_at": now_utc().isoformat(), "content_type": _header(response, "Content-Type")}
    (folder / f"{stem}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return page


def missing_fields(item: dict[str, Any]) -> list[str]:
    """Which of title, date and body an extracted article lacks."""
    article = item.get("article")
    if article is None:
        return ["title", "date", "body"]
    return [name for name, value in (("title", article.title), ("date", article.published_at),
                                     ("body", article.body_text)) if not value]


class CaptureMiddleware:
    """Keeps discovery pages (latest body each) and this run's failed pages under the capture folder."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.folder: Path | None = None
        self.discovery_seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> CaptureMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Any) -> None:
        source = getattr(spider, "source", None)
        self.folder = capture_dir(self.crawler, source.slug) if source is not None else None
        if self.folder is not None:
            shutil.rmtree(self.folder / "last", ignore_errors=True)  # only the latest run's failures are kept

    def spider_closed(self, spider: Any, reason: str) -> None:
        """Drop saved discovery pages this run did not ask for (an old page 2 is no longer the site's state)."""
        folder = self.folder / "discovery" if self.folder is not None else None
        if folder is None or not folder.is_dir() or reason != "finished":
            return
        for path in folder.iterdir():
            if path.name.split(".", 1)[0] not in self.discovery_seen:
                path.unlink(missing_ok=True)

    def process_spider_input(self, response: Response, spider: Any = None) -> None:
        if self.folder is None:
            return None
        if response.meta.get(DISCOVERY):
            self.discovery_seen.add(f"discovery-{url_key(response.url)[:12]}")
        if response.status == 304:
            return None
        if response.meta.get(DISCOVERY) and response.status == 200:
            save_capture(self.folder / "discovery", response, "discovery", f"HTTP {response.status}")
        if response.status >= 400 and response.body:
            save_capture(self.folder / "last", response, "error", f"HTTP {response.status}")
        return None

    def _check(self, response: Response | None, output: Any) -> None:
        if self.folder is None or response is None or not isinstance(output, dict) or "source" not in output:
            return
        missing = missing_fields(output)
        if output.get("error") or missing:
            reason = output.get("error") or "missing " + ", ".join(missing)
            save_capture(self.folder / "last", response, "article", str(reason))

    def process_spider_output(self, response: Response | None, result: Iterable[Any],
                              spider: Any = None) -> Iterator[Any]:
        for output in result:
            self._check(response, output)
            yield output

    async def process_spider_output_async(self, response: Response | None, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        async for output in result:
            self._check(response, output)
            yield output


class DiscoveryTrailMiddleware:
    """Marks requests found on discovery pages with the pages' URLs, so a failed fetch can taint them."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> DiscoveryTrailMiddleware:
        return cls(crawler)

    @staticmethod
    def _mark(response: Response | None, output: Any) -> None:
        if response is None or not isinstance(output, Request) or not response.meta.get(DISCOVERY):
            return
        trail = (*response.meta.get(VIA, ()), response.request.url if response.request else response.url)
        output.meta.setdefault(VIA, trail)

    def process_spider_output(self, response: Response | None, result: Iterable[Any],
                              spider: Any = None) -> Iterator[Any]:
        for output in result:
            self._mark(response, output)
            yield output

    async def process_spider_output_async(self, response: Response | None, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        async for output in result:
            self._mark(response, output)
            yield output
