"""Feeds by query: the parameters of `/feeds/query.atom?q=…&kind=…&province=…&source=…&org=…` (and of a saved
query in settings.yaml) checked and turned into a search (feed.store.search), and the hits rendered as Atom, RSS or
JSON Feed by the project's one writer (feed.publish.feed_writer).

Imports only the writer, the store's read-only search and the configuration, so the server (feed.serve.query) can
answer query feeds without the publisher. Provinces are the sources' configured `province`, matched without case
or diacritics, or by the slug of their published feeds ("thanh hoa" and "thanh-hoa" are "Thanh Hóa").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from urllib.parse import urlencode

from feed.config.sources import Source
from feed.lang.text import strip_accents
from feed.publish.feed_writer import (
    FeedItem,
    FeedSite,
    FeedSpec,
    ItemDetails,
    article_updated,
    category,
    html_text,
    xml_safe,
)
from feed.records import KIND_LABELS, MEETING_KINDS, Meeting
from feed.store.search import Hit, SearchQuery

PARAMS = ("q", "kind", "province", "source", "org", "limit")
FEED_LIMIT = 50  # entries of a query feed, at most
UNTITLED = "(không có tiêu đề)"


class BadQuery(ValueError):
    """A query feed's parameters are wrong: the message is one plain line for the asker."""


@dataclass(frozen=True)
class FeedQuery:
    q: str = ""
    kind: str | None = None
    province: str | None = None
    source: str | None = None
    org: str | None = None
    limit: int = FEED_LIMIT

    def params(self) -> dict[str, str]:
        """The parameters as given (limit only when not the default), in a fixed order."""
        out = {k: v for k, v in (("q", self.q), ("kind", self.kind), ("province", self.province)) if v}
        out.update({k: v for k, v in (("source", self.source), ("org", self.org)) if v})
        if self.limit != FEED_LIMIT:
            out["limit"] = str(self.limit)
        return out


def province_slug(name: str) -> str:
    """ "Thanh Hóa" -> "thanh-hoa", "Bà Rịa – Vũng Tàu" -> "ba-ria-vung-tau" (feeds/provinces/<slug>.*); also the key
    a query's province is matched by, so it may be named either way ("Thanh Hoá", "thanh hoa", "thanh-hoa")."""
    return "-".join("".join(ch if ch.isalnum() else " " for ch in strip_accents(name)).split())


def provinces(sources: Sequence[Source]) -> dict[str, str]:
    """Each configured province's key (no case, no diacritics) -> its name as written first."""
    out: dict[str, str] = {}
    for s in sources:
        if s.province:
            out.setdefault(province_slug(s.province), s.province)
    return out


def parse_params(params: Mapping[str, Sequence[str]]) -> FeedQuery:
    """The query of a URL's parameters (parse_qs output); BadQuery naming the first mistake."""
    unknown = sorted(k for k in params if k not in PARAMS)
    if unknown:
        raise BadQuery(f"unknown parameter {unknown[0]!r} (known: {', '.join(PARAMS)})")
    given: dict[str, str] = {}
    for key, values in params.items():
        if len(values) != 1:
            raise BadQuery(f"parameter {key!r} is given {len(values)} times: give it once")
        given[key] = values[0].strip()
    limit = FEED_LIMIT
    if "limit" in given:
        if not given["limit"].isascii() or not given["limit"].isdigit() or not 1 <= int(given["limit"]) <= FEED_LIMIT:
            raise BadQuery(f"limit must be a whole number from 1 to {FEED_LIMIT}, got {given['limit']!r}")
        limit = int(given["limit"])
    return FeedQuery(
        q=given.get("q", ""),
        kind=given.get("kind") or None,
        province=given.get("province") or None,
        source=given.get("source") or None,
        org=given.get("org") or None,
        limit=limit,
    )


def to_search(query: FeedQuery, sources: Sequence[Source], since: datetime | None = None) -> SearchQuery:
    """The search a feed query stands for; BadQuery for an unknown kind, province or source."""
    if query.kind is not None and query.kind not in MEETING_KINDS:
        raise BadQuery(f"unknown kind {query.kind!r} (known: {', '.join(MEETING_KINDS)})")
    chosen: set[str] | None = None
    if query.source is not None:
        slugs = {s.slug for s in sources}
        if query.source not in slugs:
            raise BadQuery(f"unknown source {query.source!r} (see feeds.opml or `unionfeed sources list`)")
        chosen = {query.source}
    if query.province is not None:
        known = provinces(sources)
        key = province_slug(query.province)
        if key not in known:
            raise BadQuery(f"unknown province {query.province!r} (known: {', '.join(sorted(known.values()))})")
        in_province = {s.slug for s in sources if s.province and province_slug(s.province) == key}
        chosen = in_province if chosen is None else chosen & in_province
    search = SearchQuery(
        text=query.q,
        kind=query.kind,
        sources=tuple(sorted(chosen)) if chosen is not None else None,
        org=query.org,
        since=since,
        limit=query.limit,
    )
    problem = search.problem()
    if problem:
        raise BadQuery(problem)
    return search


def title(query: FeedQuery, sources: Sequence[Source]) -> str:
    """A short Vietnamese title naming what the feed holds: "Tìm “đại hội” · Đại hội · Thanh Hóa"."""
    parts = [f"Tìm “{query.q}”"] if query.q else []
    if query.kind:
        parts.append(KIND_LABELS.get(query.kind, query.kind))
    if query.province:
        parts.append(provinces(sources).get(province_slug(query.province), query.province))
    if query.source:
        parts.append(next((s.name for s in sources if s.slug == query.source), query.source))
    if query.org:
        parts.append(query.org)
    return " · ".join(parts) or "Mọi bài viết"


def _content(summary: str, link: str, source_name: str) -> str:
    return f'<p>{html_text(summary)}</p>\n<p>Nguồn: <a href="{html_text(link)}">{html_text(source_name)}</a></p>'


def hit_item(hit: Hit, names: Mapping[str, str]) -> FeedItem:
    """A feed entry for one story found: its guid is the story's own (the other feeds show it under it)."""
    name = names.get(hit.source_slug, hit.source_slug)
    meeting = Meeting.from_json(hit.meeting)
    categories = []
    if hit.is_report and hit.kind in MEETING_KINDS:
        categories.append(category("kinds", hit.kind, KIND_LABELS[hit.kind]))
    categories.append(category("sources", hit.source_slug, name))
    heading = xml_safe(hit.title) or UNTITLED
    summary = xml_safe(hit.lead) or heading
    details = ItemDetails(
        title=heading,
        summary=summary,
        author=name,
        source_name=name,
        categories=categories,
        also_at=[],
        other_sources=[],
        meeting=meeting,
        meeting_json=json.dumps(hit.meeting, ensure_ascii=False, separators=(",", ":")) if hit.is_report else "null",
        content=partial(_content, summary, hit.url, name),
    )
    return FeedItem(
        guid=hit.guid,
        link=hit.url,
        published=hit.shown_at,
        updated=article_updated(hit.shown_at, hit.changed_at, hit.first_seen_at),  # as in the source feeds
        article_id=hit.article_id,
        cluster_id=hit.cluster_id,
        source_slug=hit.source_slug,
        is_report=hit.is_report,
        kind=hit.kind,
        signature=f"{hit.guid}:{hit.changed_at.timestamp()}",
        make_details=lambda: details,
    )


@dataclass(frozen=True)
class QuerySite(FeedSite):
    """A site whose feed URLs carry the query's parameters (the served /feeds/query.<fmt>?…)."""

    query: str = ""

    def url(self, spec: FeedSpec, fmt: str) -> str:
        return f"{self.base}feeds/{spec.path}.{fmt}" + (f"?{self.query}" if self.query else "")


def query_spec(
    query: FeedQuery,
    hits: Sequence[Hit],
    sources: Sequence[Source],
    *,
    alternate: str,
    ttl_minutes: int,
    updated: datetime,
) -> FeedSpec:
    """The served feed of a query: path feeds/query, its URL's parameters added by QuerySite."""
    names = {s.slug: s.name for s in sources}
    return FeedSpec(
        "query",
        title(query, sources),
        "Bài viết khớp truy vấn: " + title(query, sources),
        [hit_item(h, names) for h in hits],
        alternate,
        ttl_minutes,
        updated,
    )


def query_site(site: FeedSite, query: FeedQuery) -> QuerySite:
    return QuerySite(site.base, site.hub, site.version, urlencode(query.params()))
