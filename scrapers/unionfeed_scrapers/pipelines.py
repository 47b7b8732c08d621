"""Hands fetched articles to `feed.ingest` (store, classify, cluster) in batches; records the crawl run and its
health figures.

Articles wait in a batch of at most UNIONFEED_STORE_BATCH_ITEMS, or UNIONFEED_STORE_BATCH_SECONDS after the
batch's first one, and each batch is one transaction (`feed.ingest.ingest_batch`); the last one is written when
the spider closes, which a shutdown signal's graceful stop does too. A process killed outright loses at most the
batch it was filling: those articles are not stored, so the next crawl fetches them again (their listings'
validators are only saved by a run that finished)."""

from __future__ import annotations

import logging
import os
from time import monotonic
from typing import Any

from scrapy import signals

from feed.ingest import Ingested, Page, ingest_batch
from feed.store.api import Store
from feed.store.faults import StoreError
from unionfeed_scrapers.keys import CANONICAL_IGNORED, FOREIGN, STORE_FAILED, STORE_LOST
from unionfeed_scrapers.store_handle import store_for

FIELDS = ("title", "date", "body")
BATCH_ENV = "UNIONFEED_STORE_BATCH"  # "<items>" or "<items>,<seconds>", overriding the Scrapy settings
log = logging.getLogger(__name__)


def batch_bounds(settings: Any = None) -> tuple[int, float]:
    """Items per batch and seconds a batch may wait: UNIONFEED_STORE_BATCH, else the Scrapy settings (50, 2 s)."""
    items = int(settings.getint("UNIONFEED_STORE_BATCH_ITEMS", 50)) if settings is not None else 50
    seconds = float(settings.getfloat("UNIONFEED_STORE_BATCH_SECONDS", 2.0)) if settings is not None else 2.0
    value = os.environ.get(BATCH_ENV, "").strip()
    if value:
        try:
            parts = [float(part) for part in value.split(",")]
        except ValueError:
            raise ValueError(f"{BATCH_ENV}={value!r} is not <items> or <items>,<seconds>") from None
        items = int(parts[0])
        seconds = parts[1] if len(parts) > 1 else seconds
    if not (1 <= items <= 10000 and 0 < seconds <= 3600):
        raise ValueError(f"store batches of {items} items or {seconds} s: not 1-10000 items and 0-3600 s")
    return items, seconds


class StorePipeline:
    """One crawl-run record per spider run; the store is the process's shared one (store_handle)."""

    def __init__(self, crawler: Any = None) -> None:
        self.crawler = crawler
        self.store: Store | None = None
        self.run_id: int | None = None
        self.counts = {"new": 0, "updated": 0, "unchanged": 0, "foreign": 0, "errors": 0, "meetings": 0}
        # Field coverage of the article pages fetched in this run: how many had a title, a date, a body.
        self.fields = dict.fromkeys(FIELDS, 0)
        self.extracted = 0
        self.batch_items, self.batch_seconds = batch_bounds(getattr(crawler, "settings", None))
        self.batch: list[tuple[dict[str, Any], Page]] = []
        self.batch_started = 0.0
        self.timer: Any = None  # the reactor call that writes a batch left waiting for batch_seconds

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        pipeline = cls(crawler)
        # Pipelines close before Scrapy knows why the spider stopped; the signal carries the reason.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider: Any = None) -> None:
        # Scrapy >= 2.14 stops passing the spider to pipelines; the crawler always knows it.
        spider = spider or self.crawler.spider
        self.store = store_for(self.crawler)
        try:
            self.run_id = self.store.start_run(spider.source.slug)
        except StoreError as exc:  # the crawl runner checked it was writable; it changed since
            self._store_lost(exc)

    def _store_lost(self, exc: StoreError, *, close: bool = True) -> None:
        """The store cannot be used any more (deleted, replaced, read-only, full, locked, damaged): stop this
        crawl, saying why once; the crawl runner ends the command non-zero with that line."""
        stats = self.crawler.stats
        if not stats.get_value(STORE_LOST):
            stats.set_value(STORE_LOST, str(exc))
            log.error("%s", exc, extra={"event": "store_lost", "kind": exc.kind})
        engine = getattr(self.crawler, "engine", None)
        if close and engine is not None and getattr(self.crawler, "spider", None) is not None:
            from twisted.internet import reactor

            reactor.callLater(0, engine.close_spider, self.crawler.spider, "store_lost")  # type: ignore[attr-defined]

    def process_item(self, item: dict[str, Any], spider: Any = None) -> dict[str, Any]:
        if self.crawler.stats.get_value(STORE_LOST):
            return item  # stopping: the store cannot take it
        assert self.store is not None
        article = item.get("article")
        if article is not None:
            self._count_fields(article)
        if item.get("error") or article is None:
            try:
                self._record_error(item)
            except StoreError as exc:
                self.crawler.stats.inc_value(STORE_FAILED)
                self._store_lost(exc)
            except Exception:
                self.crawler.stats.inc_value(STORE_FAILED)
                log.exception("could not record the error of %s", item.get("url"), extra={"event": "store_failed"})
            return item
        if not self.batch:
            self.batch_started = monotonic()
            self._arm_timer()
        self.batch.append((item, Page(article, item.get("fetched_at"))))
        if len(self.batch) >= self.batch_items or monotonic() - self.batch_started >= self.batch_seconds:
            self.flush()
        return item

    def close_spider(self, spider: Any = None) -> None:
        """The spider closes (finished, time limit, shutdown signal): the batch waiting is written now."""
        self.flush()

    def _arm_timer(self) -> None:
        """Write a batch that waits batch_seconds even when no further item comes to trigger it."""
        if self.timer is not None and self.timer.active():
            return
        from twisted.internet import reactor

        if reactor.running:  # type: ignore[attr-defined]
            self.timer = reactor.callLater(self.batch_seconds, self.flush)  # type: ignore[attr-defined]

    def flush(self) -> None:
        """Store the waiting batch in one transaction and count what became of each article."""
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        batch, self.batch = self.batch, []
        if not batch:
            return
        if self.crawler.stats.get_value(STORE_LOST):
            self.crawler.stats.inc_value(STORE_FAILED, len(batch))
            return
        assert self.store is not None
        slug = batch[0][0]["source"]
        try:
            results = ingest_batch(self.store, slug, [page for _, page in batch], registry=self.crawler.spider.registry)
        except StoreError as exc:
            self.crawler.stats.inc_value(STORE_FAILED, len(batch))
            self._store_lost(exc)
            return
        for (item, _), result in zip(batch, results, strict=True):
            if isinstance(result, Ingested):
                self._count(item, result)
                continue
            # The article was fetched but not kept: the run says so, keeps no validators (so the next poll asks
            # its listing afresh and fetches the page again) and the crawl exits non-zero.
            self.crawler.stats.inc_value(STORE_FAILED)
            # Logged here, once and without the item (Scrapy's own "Error processing" line would print the body).
            log.error(
                "could not store %s",
                item.get("url"),
                exc_info=(type(result), result, result.__traceback__),
                extra={"event": "store_failed"},
            )

    def _record_error(self, item: dict[str, Any]) -> None:
        assert self.store is not None
        self.counts["errors"] += 1
        self.store.record_error(item["source"], item["url"], item.get("error") or "unknown error", self.run_id)
        self.crawler.stats.inc_value("unionfeed/page_errors")

    def _count(self, item: dict[str, Any], result: Ingested) -> None:
        self.counts[result.status] += 1
        self.counts["meetings"] += int(result.meeting is not None and result.meeting.is_report)
        if result.canonical_ignored:  # named another source's article as canonical: filed under its own URL
            self.crawler.stats.inc_value(CANONICAL_IGNORED)
        if result.status == "foreign":  # its URL is another source's article (a redirect into it): left alone
            self.crawler.stats.inc_value(FOREIGN)
            log.warning("%s is another source's article: left alone by %s", item["url"], item["source"])
            return
        self.crawler.stats.inc_value(f"unionfeed/articles_{result.status}")

    def _count_fields(self, article: Any) -> None:
        self.extracted += 1
        self.fields["title"] += bool(article.title)
        self.fields["date"] += article.published_at is not None
        self.fields["body"] += bool(article.body_text)

    def health_figures(self, spider: Any) -> dict[str, int]:
        """What the health judgement reads from a run besides Scrapy's own stats."""
        return {
            "found": len(getattr(spider, "queued", ())),  # article URLs discovered, known or not
            "extracted": self.extracted,
            **{f"field_{name}": count for name, count in self.fields.items()},
        }

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.store is None or self.run_id is None:
            return
        stats = dict(spider.crawler.stats.get_stats())
        if stats.get(STORE_FAILED):
            reason = "store_failed"  # fetched articles were lost to the store: health counts the run as failed
        if stats.get(STORE_LOST):
            reason = "store_lost"
        try:
            self._finish(stats, reason, spider)
        except StoreError as exc:  # recorded what it could: the log says why the run's end is not
            self._store_lost(exc, close=False)

    def _finish(self, stats: dict[str, Any], reason: str, spider: Any) -> None:
        assert self.store is not None and self.run_id is not None
        self.store.finish_run(
            self.run_id,
            pages=int(stats.get("response_received_count", 0)),
            new=self.counts["new"],
            updated=self.counts["updated"],
            errors=self.counts["errors"],
            finish_reason=str(reason),
            stats={
                **{k: v for k, v in stats.items() if isinstance(v, int | float | str)},
                **self.counts,
                **self.health_figures(spider),
            },
        )
