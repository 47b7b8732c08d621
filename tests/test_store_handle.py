"""One Store per crawl process and database, shared by every crawler in it, closed when the last engine stops."""

from __future__ import annotations

from pathlib import Path

from scrapy import signals
from scrapy.utils.test import get_crawler

from unionfeed_scrapers import store_handle
from unionfeed_scrapers.store_handle import store_for


def test_crawlers_of_one_process_share_a_store_until_the_last_engine_stops(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    first, second = (get_crawler(settings_dict={"UNIONFEED_DB_URL": url}) for _ in range(2))
    other = get_crawler(settings_dict={"UNIONFEED_DB_URL": f"sqlite:///{tmp_path / 'other.sqlite'}"})
    store = store_for(first)
    assert store_for(first) is store and store_for(second) is store  # spider, pipeline, middleware, sources
    assert store_for(other) is not store
    first.signals.send_catch_log(signals.engine_stopped)
    assert store_for(second) is store and store.count() == 0  # the second crawl still runs on it
    second.signals.send_catch_log(signals.engine_stopped)
    other.signals.send_catch_log(signals.engine_stopped)
    assert store_handle._open == {}
    later = get_crawler(settings_dict={"UNIONFEED_DB_URL": url})
    assert store_for(later) is not store  # a new crawl in the same process opens it afresh
    later.signals.send_catch_log(signals.engine_stopped)
