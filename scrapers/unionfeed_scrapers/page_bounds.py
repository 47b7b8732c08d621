"""Counting the articles whose body was cut at the body cap (feed.extract.bounds): the page is stored with the
first BODY_MAX_CHARS characters of its body, and the run says how many were cut and names the first."""

from __future__ import annotations

import resource
from typing import Any

from scrapy import signals

from feed.extract.bounds import BODY_MAX_CHARS
from feed.records import Extracted

BODY_CUT = "unionfeed/body_cut"  # stats key: articles whose body was cut at the cap
BODY_CUT_URL = "unionfeed/body_cut_url"  # stats key: the first of them


def note_body_cut(crawler: Any, url: str, article: Extracted, logger: Any) -> None:
    if not article.body_cut_from:
        return
    crawler.stats.inc_value(BODY_CUT)
    if not crawler.stats.get_value(BODY_CUT_URL):
        crawler.stats.set_value(BODY_CUT_URL, url)
    logger.warning(
        "the body of %s is %d characters long: kept its first %d (cut at a paragraph or sentence end)",
        url,
        article.body_cut_from,
        BODY_MAX_CHARS,
    )


PEAK_RSS = "unionfeed/peak_rss_bytes"  # stats key: the crawl process's resident peak when the source's run closed


class PeakMemory:
    """Records the crawl process's resident peak (getrusage's ru_maxrss) in each run's stats when its spider
    closes: what the largest page of the run cost is there to read (Scrapy's memusage/max samples once a minute)."""

    def __init__(self, crawler: Any) -> None:
        self.stats = crawler.stats
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> PeakMemory:
        return cls(crawler)

    def spider_closed(self, spider: Any) -> None:
        self.stats.set_value(PEAK_RSS, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)  # Linux: KB
