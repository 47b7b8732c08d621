"""Which new meeting reports a channel's saved queries find, by the query feeds' own rule (not a second one).

A saved query's parameters become a search exactly as for its published feed, feeds/query-<name>.*
(feed.publish.query_feeds: `parse_params`, then `to_search` with the configured sources, so a province is matched
without case or diacritics), and the search is the store's (feed.store.search: FTS5 with remove_diacritics on
SQLite, tsvectors over unaccent on PostgreSQL), asked only among the new reports' stories
(`SearchQuery.stories`). A report matches when a hit is its story, by the rule feed.publish.query_static uses to
place a hit in a feed: the hit's cluster is the report's cluster, or the hit's article is the report's article.
The query feeds' module is pure (no writing, no network): the import contract lets this one module read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from feed.config.sources import Source
from feed.publish.query_feeds import parse_params, title, to_search
from feed.store.api import Store
from feed.store.search import MAX_LIMIT, SearchError, search

CHUNK = MAX_LIMIT // 2  # reports per search: each names its cluster and its article, at most MAX_LIMIT names


@dataclass
class Matches:
    """For each saved query asked: the GUIDs of the reports it finds, or why it could not run."""

    found: dict[str, set[str]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # the query's feed title: "Tìm “đại hội” · Thanh Hóa"

    def of(self, guid: str, names: Sequence[str]) -> list[str]:
        """The names (in the channel's order) of the queries that find the report."""
        return [name for name in names if guid in self.found.get(name, ())]


def _chunks(items: Sequence[dict[str, Any]], size: int) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def match_reports(
    store: Store,
    sources: Sequence[Source],
    saved: Mapping[str, Mapping[str, str]],
    names: Iterable[str],
    reports: Sequence[dict[str, Any]],
) -> Matches:
    """Run each named saved query among the reports (dicts with `id`, `article_id`, `cluster_id`)."""
    out = Matches()
    for name in sorted(set(names)):
        try:
            query = parse_params({k: [v] for k, v in saved[name].items()})
            out.titles[name] = title(query, sources)
            wanted = replace(to_search(query, sources), limit=MAX_LIMIT)
            found: set[str] = set()
            for chunk in _chunks(reports, CHUNK):
                stories = {str(r[k]) for r in chunk for k in ("cluster_id", "article_id") if r.get(k)}
                hits = search(store.engine, replace(wanted, stories=tuple(sorted(stories))), store.name)
                clusters, articles = {h.cluster_id for h in hits}, {h.article_id for h in hits}
                found |= {r["id"] for r in chunk if r.get("cluster_id") in clusters or r.get("article_id") in articles}
            out.found[name] = found
        except (ValueError, SearchError) as exc:  # BadQuery is a ValueError: an unknown province, kind or source
            out.failed[name] = str(exc)
    return out
