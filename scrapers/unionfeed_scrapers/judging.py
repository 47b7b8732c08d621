"""The crawl's side of the article judge (`feed.extract.judge`): a fetched page that is not an article (a menu
target, a section, tag or search page, an about or login page) is never stored or published. It is counted in the
run's stats (`unionfeed/not_article`, `unionfeed/not_article/<reason>`, the first URL in
`unionfeed/not_article_url`), which the store keeps with the run and health shows; it is not a page error. Its
URL is remembered (`Store.save_refused`) and not asked again for REFUSED_FOR (`unionfeed/skipped_refused` counts
the links skipped so), then judged afresh: a menu or section link found on every poll costs one request a week.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from scrapy.http import Response

from feed.config.sources import Source
from feed.extract.judge import Judgement, SiteFacts, judge_page
from feed.records import Extracted
from unionfeed_scrapers.keys import NOT_ARTICLE, NOT_ARTICLE_URL
from unionfeed_scrapers.store_handle import store_for

log = logging.getLogger(__name__)

REFUSED_FOR = timedelta(days=7)  # how long a refused page's URL is not asked again


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
    asked = (response.request.meta.get("redirect_urls") or [response.url])[0] if response.request else response.url
    try:
        store_for(crawler).save_refused(source.slug, [asked, response.url], verdict.reason or "not_article")
    except Exception as exc:  # remembering is a saving, not a duty: the page is refused all the same
        log.warning("could not remember the refused page %s: %s", response.url, exc)
    return verdict
