"""The crawl's side of the article judge (`feed.extract.judge`): a fetched page that is not an article (a menu
target, a section, tag or search page, an about or login page) is never stored or published. It is counted in the
run's stats (`unionfeed/not_article`, `unionfeed/not_article/<reason>`, the first URL in
`unionfeed/not_article_url`), which the store keeps with the run and health shows; it is not a page error.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.http import Response

from feed.config.sources import Source
from feed.extract.judge import Judgement, SiteFacts, judge_page
from feed.records import Extracted
from unionfeed_scrapers.keys import NOT_ARTICLE, NOT_ARTICLE_URL

log = logging.getLogger(__name__)


def site_facts(source: Source, *, vouched: bool) -> SiteFacts:
    """What the judge knows of a source's site: its home page, its name, its listing pages."""
    return SiteFacts(
        homepage=source.homepage,
        names=(source.name,),
        listings=tuple(listing.url for listing in source.discovery.listings),
        vouched=vouched,
    )


def refused(
    crawler: Any, source: Source, response: Response, article: Extracted, encoding: str | None, *, vouched: bool
) -> Judgement | None:
    """The judgement when the page is not an article (counted in the run's stats), else None."""
    verdict = judge_page(response.body, article, site_facts(source, vouched=vouched), encoding=encoding)
    if verdict.is_article:
        return None
    stats = crawler.stats
    stats.inc_value(NOT_ARTICLE)
    stats.inc_value(f"{NOT_ARTICLE}/{verdict.reason}")
    if not stats.get_value(NOT_ARTICLE_URL):
        stats.set_value(NOT_ARTICLE_URL, response.url)
    log.info("%s skipped, %s", response.url, verdict.text())
    return verdict
