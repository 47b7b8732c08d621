"""Hands each fetched article to the store: classify, upsert, cluster; records the crawl run."""

from __future__ import annotations

from typing import Any

from scrapy import signals

from feed.classify import classify
from feed.dedup import assign_cluster
from feed.settings import load_settings
from feed.store import Store


class StorePipeline:
    """One store connection per spider; one crawl-run record per spider run."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.store: Store | None = None
        self.run_id: int | None = None
        self.counts = {"new": 0, "updated": 0, "unchanged": 0, "errors": 0, "meetings": 0}

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        pipeline = cls(crawler.settings.get("UNIONFEED_DB_URL") or load_settings().db_url)
        # Pipelines close before Scrapy knows why the spider stopped; the signal carries the reason.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        pipeline.crawler = crawler
        return pipeline

    # `spider` is optional: Scrapy >= 2.14 stops passing it; the crawler's spider is the same object.
    def open_spider(self, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        self.store = Store(self.db_url)
        self.run_id = self.store.start_run(spider.source.slug)

    def process_item(self, item: dict[str, Any], spider: Any = None) -> dict[str, Any]:
        spider = spider or self.crawler.spider
        assert self.store is not None
        slug = item["source"]
        article = item.get("article")
        if item.get("error") or article is None:
            self.counts["errors"] += 1
            self.store.record_error(slug, item["url"], item.get("error") or "unknown error", self.run_id)
            spider.crawler.stats.inc_value("unionfeed/page_errors")
            return item
        meeting = classify(article.title, article.body_text, published_at=article.published_at, lead=article.lead)
        result = self.store.upsert(slug, article, meeting, fetched_at=item.get("fetched_at"))
        if result.status != "unchanged":
            assign_cluster(self.store, result.article_id)
        self.counts[result.status] += 1
        self.counts["meetings"] += int(meeting.is_report)
        spider.crawler.stats.inc_value(f"unionfeed/articles_{result.status}")
        return item

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.store is None or self.run_id is None:
            return
        stats = dict(spider.crawler.stats.get_stats())
        self.store.finish_run(
            self.run_id,
            pages=int(stats.get("response_received_count", 0)),
            new=self.counts["new"],
            updated=self.counts["updated"],
            errors=self.counts["errors"],
            finish_reason=str(reason),
            stats={**{k: v for k, v in stats.items() if isinstance(v, int | float | str)}, **self.counts},
        )
        self.store.close()
