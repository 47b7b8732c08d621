"""Static feeds by query, written by each publish beside the others: one per saved query of settings.yaml
(`saved_queries:` -> feeds/query-<name>.atom/.rss/.json) and one per configured province
(feeds/provinces/<province-slug>.*, e.g. provinces/thanh-hoa for "Thanh Hóa").

Each is a search (feed.store.search, through feed.publish.query_feeds) whose stories are shown under the entries
the aggregate feeds already made for them (same guid, same bytes), and, for a story beyond those, an entry made
from the hit under the story's registered guid. A saved query that names an unknown kind, province or source, or a
store that cannot search (PostgreSQL without unaccent), costs that feed only: it is logged and left out, and the
rest of the publish goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from feed.config.settings import Settings
from feed.config.sources import Source
from feed.publish.entries import Stories
from feed.publish.feed_writer import FeedItem, FeedSpec
from feed.publish.query_feeds import BadQuery, hit_item, parse_params, province_slug, provinces, title, to_search
from feed.store.api import Store
from feed.store.search import MAX_LIMIT, SearchError, search

log = logging.getLogger(__name__)


def _items(store: Store, stories: Stories, sources: list[Source], params: dict[str, str], limit: int) -> list[FeedItem]:
    query = parse_params({k: [v] for k, v in params.items()})
    wanted = replace(to_search(query, sources), limit=min(limit, MAX_LIMIT))
    shown = {i.cluster_id: i for i in stories.stories}
    shown.update({i.article_id: i for i in stories.stories})
    names = {s.slug: s.name for s in sources}
    out: list[FeedItem] = []
    for hit in search(store.engine, wanted, store.name):
        item = shown.get(hit.cluster_id) or shown.get(hit.article_id)
        out.append(item if item is not None else hit_item(hit, names))
    return out


def query_feed_specs(
    store: Store,
    stories: Stories,
    sources: list[Source],
    settings: Settings,
    empty_since: Callable[[str], datetime],
    ttl_minutes: int,
) -> list[FeedSpec]:
    """The province feeds and the saved queries' feeds (those that can be made)."""
    base = settings.site_url.rstrip("/") + "/"
    wanted: list[tuple[str, str, str, dict[str, str], str]] = []
    for name in sorted(provinces(sources).values(), key=province_slug):
        slug = province_slug(name)
        wanted.append(
            (f"provinces/{slug}", f"Tin công đoàn {name}", f"Bài viết của các nguồn ở {name}",
             {"province": name}, f"{base}#tinh={slug}")
        )  # fmt: skip
    for name, params in settings.saved_queries.items():
        query = parse_params({k: [v] for k, v in params.items()})
        wanted.append(
            (f"query-{name}", title(query, sources), "Truy vấn đã lưu: " + title(query, sources), params, base)
        )
    specs = []
    for path, heading, description, params, alternate in wanted:
        try:
            items = _items(store, stories, sources, params, settings.feed_limit)
        except (BadQuery, SearchError) as exc:
            log.warning("feed %s left out: %s", path, exc, extra={"event": "query_feed_skipped", "feed": path})
            continue
        specs.append(FeedSpec(path, heading, description, items, alternate, ttl_minutes, empty_since(path)))
    return specs
