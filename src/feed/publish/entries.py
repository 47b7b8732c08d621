"""From stored articles to feed entries: one entry per story (dedup cluster) with a stable identity.

Aggregate feeds (all, meetings, other, kinds) show stories: guid, link and published time come from
feed.publish.guids (fixed the first time a story appears in a feed, so readers never see it re-announced).
Per-source feeds show that source's own articles, one entry per story (a page whose URL changed is stored twice,
in one story: it is shown once), under the story's GUID from the same registry, with the source's own link and
times, which the store never moves.
Identities already issued are remembered between runs (IdentityCache) so a publish asks feed.publish.guids only
about stories that are new or whose canonical member, text or membership changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from html import escape
from typing import Any, overload

from feed.config.sources import Source
from feed.lang.dates import VN_TZ
from feed.publish.feed_writer import (
    GUID_PREFIX,
    FeedItem,
    ItemDetails,
    article_updated,
    category,
    safe_url,
    xml_safe,
)
from feed.publish.guids import FeedIdentity, issue_identities, known_guids
from feed.publish.rows import PubRow
from feed.records import KIND_LABELS, MEETING_KINDS, Meeting
from feed.store.api import Store

UNTITLED = "(không có tiêu đề)"
# Aggregate feeds (all, meetings, kinds) carry a story's opening paragraph, cut here, and its links; the whole
# body travels once, in the feed of the source that published it (and in the snapshots).
BRIEF = 400
# Stories each aggregate feed considers beyond its limit: an issued identity's time may differ from its row's.
MARGIN = 1.1
_PARAGRAPHS = re.compile(r"\n\s*\n|\n")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass
class IdentityCache:
    """Story key -> (story signature, identity), kept between runs."""

    entries: dict[str, list[Any]] = field(default_factory=dict)

    def get(self, key: str, sig: str) -> FeedIdentity | None:
        hit = self.entries.get(key)
        if not hit or hit[0] != sig:
            return None
        guid, link, published, updated, cluster = hit[1]
        return FeedIdentity(guid, link, datetime.fromisoformat(published), datetime.fromisoformat(updated), cluster)

    def put(self, key: str, sig: str, ident: FeedIdentity) -> None:
        self.entries[key] = [
            sig,
            [ident.guid, ident.link, ident.published_at.isoformat(), ident.updated_at.isoformat(), ident.cluster_id],
        ]


@dataclass
class Stories:
    """Every article grouped by story, with the entries feeds are made of."""

    rows: list[PubRow]  # every article read, newest first
    clusters: dict[str, list[PubRow]]  # cluster key -> members
    stories: list[FeedItem]  # one per story the aggregate feeds may show, newest first
    by_source: dict[str, LazyItems]  # slug -> that source's newest articles
    total: int | None = None  # articles in the store, when only some were read (feed.publish.selection)

    @property
    def signatures(self) -> dict[str, str]:
        """Article id -> signature of what it shows (worked out on use: most rows a first publish reads show in no
        feed)."""
        return {r.id: r.sig for r in self.rows}


class LazyItems(Sequence[FeedItem]):
    """A feed's entries, made on first use; their count and signature are known before (from the rows), so a
    feed that did not change costs no entries at all."""

    def __init__(self, rows: list[PubRow], make: Callable[[list[PubRow]], list[FeedItem]], signature: str) -> None:
        self.rows = rows
        self.signature = signature
        self._make = make
        self._items: list[FeedItem] | None = None

    def _all(self) -> list[FeedItem]:
        if self._items is None:
            self._items = self._make(self.rows)
        return self._items

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> FeedItem: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[FeedItem]: ...
    def __getitem__(self, index: int | slice) -> FeedItem | Sequence[FeedItem]:
        return self._all()[index]

    def __iter__(self) -> Iterator[FeedItem]:
        return iter(self._all())


def cluster_key(row: PubRow) -> str:
    return row.cluster_id or row.id


def representative(members: list[PubRow]) -> PubRow:
    """The member a story's entry is made from: the flagged canonical, else the earliest."""
    flagged = [m for m in members if m.cluster_id and m.is_canonical]
    return min(flagged or members, key=lambda m: (m.shown_at, m.id))


def group_clusters(rows: Iterable[PubRow]) -> dict[str, list[PubRow]]:
    """Cluster key -> members, in the order given."""
    clusters: dict[str, list[PubRow]] = {}
    for row in rows:
        clusters.setdefault(cluster_key(row), []).append(row)
    return clusters


def story_signature(key: str, members: list[PubRow]) -> str:
    """What feed.publish.guids's answer depends on: the story, its canonical member's text and its members."""
    head = representative(members)
    parts = (key, head.id, head.content_hash, head.canonical_url, sorted(m.id for m in members))
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=10).hexdigest()


def issue(
    store: Store, clusters: dict[str, list[PubRow]], keys: list[str], now: datetime, cache: IdentityCache
) -> dict[str, FeedIdentity]:
    """Story key -> identity from feed.publish.guids (asked only about stories the cache cannot answer)."""
    out: dict[str, FeedIdentity] = {}
    todo: dict[str, str] = {}
    for key in keys:
        sig = story_signature(key, clusters[key])
        hit = cache.get(key, sig)
        if hit is None:
            todo[key] = sig
        else:
            out[key] = hit
    if todo:
        rows = [m for key in todo for m in clusters[key]]
        fresh = issue_identities(store, rows, now)  # type: ignore[arg-type]  # PubRow reads like ArticleRow
        for key, sig in todo.items():
            ident = fresh[representative(clusters[key]).id]
            cache.put(key, sig, ident)
            out[key] = ident
    return out


def meeting_summary(meeting: Meeting) -> str:
    """A short Vietnamese line of the meeting's facts, for feed readers."""
    line = KIND_LABELS.get(meeting.kind or "", "Hội nghị")
    if meeting.org:
        line += f" của {meeting.org}"
    if meeting.period:
        line += f" ({meeting.period})"
    if meeting.held_on:
        held = meeting.held_on
        line += f", họp ngày {held[8:10]}/{held[5:7]}/{held[:4]}" if _ISO_DATE.match(held) else f", {held}"
    elif meeting.held_on_text:
        line += f", {meeting.held_on_text}"
    if meeting.location:
        line += f", tại {meeting.location}"
    return line + "."


def content_html(
    row: PubRow, meeting: Meeting, source_name: str, also_at: list[tuple[str, str]], full: bool = True
) -> str:
    """The entry's body as HTML: facts, lead, paragraphs (or, not `full`, the opening one, cut at BRIEF
    characters), source and the other places it appeared.

    Built only from escaped text and http(s) links, never from a page's markup: nothing a page holds (script,
    event handlers, javascript: links) can reach a reader."""
    parts = [f"<p><em>{escape(meeting_summary(meeting))}</em></p>"] if meeting.is_report else []
    if row.lead:
        parts.append(f"<p><strong>{escape(row.lead)}</strong></p>")
    if full:  # escaped whole, then split: escaping neither adds nor removes white space
        paragraphs = [p.strip() for p in _PARAGRAPHS.split(escape(row.body_text)) if p.strip()]
        if paragraphs:
            parts.append("<p>" + "</p>\n<p>".join(paragraphs) + "</p>")
    else:
        paragraphs = [p.strip() for p in _PARAGRAPHS.split(row.body_text) if p.strip()]
        if paragraphs:
            first = paragraphs[0]
            opening = first if len(first) <= BRIEF else first[:BRIEF].rsplit(" ", 1)[0] + " …"
            paragraphs = [opening] if len(paragraphs) == 1 and opening == first else [opening, "…"]
        parts.extend(f"<p>{escape(p)}</p>" for p in paragraphs)
    url = safe_url(row.url)
    name = escape(source_name)
    parts.append(f'<p>Nguồn: <a href="{escape(url)}">{name}</a></p>' if url else f"<p>Nguồn: {name}</p>")
    if also_at:
        links = ", ".join(f'<a href="{escape(u)}">{escape(n)}</a>' for n, u in also_at)
        parts.append(f"<p>Cũng đăng tại: {links}</p>")
    return "\n".join(parts)


def _name(sources: dict[str, Source], slug: str) -> str:
    source = sources.get(slug)
    return source.name if source else slug


def _safe_record(value: Any) -> Any:
    """A JSON value with every string free of XML-illegal characters (json.dumps would only escape them)."""
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, dict):
        return {k: _safe_record(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe_record(v) for v in value]
    return value


def item_details(row: PubRow, members: list[PubRow], sources: dict[str, Source]) -> ItemDetails:
    """Everything an entry shows beyond its identity, free of XML-illegal characters; links only http(s)."""
    source_name = xml_safe(_name(sources, row.source_slug))
    meeting = Meeting.from_json(row.meeting)
    others = [m for m in members if m.id != row.id]
    also_at = [(xml_safe(_name(sources, m.source_slug)), safe_url(m.url)) for m in others if safe_url(m.url)]
    categories = []
    if meeting.is_report and meeting.kind in MEETING_KINDS:
        categories.append(category("kinds", meeting.kind, KIND_LABELS[meeting.kind]))
    categories.append(category("sources", row.source_slug, source_name))
    title = xml_safe(row.title or "") or UNTITLED
    summary = row.lead or row.body_text[:300]
    if meeting.is_report:
        summary = f"{meeting_summary(meeting)} {summary}".strip()
    return ItemDetails(
        title=title,
        summary=xml_safe(summary) or title,
        author=xml_safe(row.author or "") or source_name,
        source_name=source_name,
        categories=categories,
        also_at=also_at,
        other_sources=[m.source_slug for m in others],
        meeting=meeting,
        meeting_json=json.dumps(_safe_record(meeting.to_json()), ensure_ascii=False, separators=(",", ":"))
        if meeting.is_report
        else "null",
        content=partial(content_html, row, meeting, source_name, also_at),
        brief=partial(content_html, row, meeting, source_name, also_at, False),
    )


def make_item(
    row: PubRow,
    ident: FeedIdentity,
    members: list[PubRow],
    sources: dict[str, Source],
    shared: dict[str, ItemDetails],
    *,
    full: bool = True,
) -> FeedItem:
    """One entry for a row under the given identity; its details are made when a feed is rendered, once per
    row however many feeds show it (`shared`)."""
    updated = max(ident.updated_at, ident.published_at)
    # Everything the entry shows comes from these: the rows' stored values, the outlets' names, the identity.
    sig = "\x1f".join(
        [
            *(m.sig for m in members),
            *(_name(sources, m.source_slug) for m in members),
            row.sig,
            ident.guid,
            ident.link,
            str(ident.published_at.timestamp()),
            str(updated.timestamp()),
        ]
    )
    return FeedItem(
        guid=ident.guid,
        link=safe_url(ident.link),
        published=ident.published_at,
        updated=updated,
        article_id=row.id,
        cluster_id=ident.cluster_id,
        source_slug=row.source_slug,
        is_report=row.is_meeting_report,
        kind=row.meeting_kind,
        signature=hashlib.blake2b(sig.encode("utf-8"), digest_size=12).hexdigest(),
        make_details=partial(_shared_details, shared, row, members, sources),
        full_body=full,
    )


def _shared_details(
    shared: dict[str, ItemDetails], row: PubRow, members: list[PubRow], sources: dict[str, Source]
) -> ItemDetails:
    if row.id not in shared:
        shared[row.id] = item_details(row, members, sources)
    return shared[row.id]


def newest_first(items: Iterable[FeedItem]) -> list[FeedItem]:
    """Sorted newest first (ties by guid), one entry per guid."""
    seen: set[str] = set()
    out = []
    for item in sorted(items, key=lambda i: (i.published.astimezone(VN_TZ), i.guid), reverse=True):
        if item.guid not in seen:
            seen.add(item.guid)
            out.append(item)
    return out


def aggregate_keys(clusters: dict[str, list[PubRow]], limit: int) -> list[str]:
    """The stories all, meetings, other and each kind's feed may show (each keeps its newest `limit`)."""
    heads = sorted(
        ((representative(m), k) for k, m in clusters.items()), key=lambda h: (h[0].shown_at, h[0].id), reverse=True
    )
    reach = int(limit * MARGIN) + 1
    keys = dict.fromkeys(k for _, k in heads[:reach])
    meetings = [(h, k) for h, k in heads if h.is_meeting_report]
    keys.update(dict.fromkeys(k for _, k in meetings[:reach]))
    keys.update(dict.fromkeys([k for h, k in heads if not h.is_meeting_report][:reach]))
    for kind in MEETING_KINDS:
        keys.update(dict.fromkeys([k for h, k in meetings if h.meeting_kind == kind][:reach]))
    return list(keys)


def build_stories(
    store: Store, rows: list[PubRow], sources: dict[str, Source], limit: int, now: datetime, cache: IdentityCache
) -> Stories:
    """Entries for the stories aggregate feeds may show and for each source's newest articles."""
    clusters = group_clusters(rows)
    keys = aggregate_keys(clusters, limit)
    idents = issue(store, clusters, keys, now, cache)
    shared: dict[str, ItemDetails] = {}
    stories = []
    for key in keys:
        head = representative(clusters[key])
        stories.append(make_item(head, idents[key], clusters[key], sources, shared, full=False))
    by_source = own_rows(rows, limit)
    lazy = {}
    registry = partial(story_guids, store, cache=cache)
    for slug, mine in by_source.items():
        make = partial(_own_items, clusters=clusters, sources=sources, shared=shared, registry=registry)
        lazy[slug] = LazyItems(mine, make, _own_signature(mine, clusters, sources))
    return Stories(rows, clusters, newest_first(stories), lazy)


def story_guids(
    store: Store, clusters: dict[str, list[PubRow]], keys: list[str], *, cache: IdentityCache
) -> dict[str, str]:
    """Story key -> its GUID in the registry (this run's identities, else a look-up); a story never issued one
    gets the GUID it would be issued (feed.publish.guids: the prefix and its representative's id), without
    filing it, so the aggregate feed that first shows it later issues that same GUID."""
    out: dict[str, str] = {}
    ask: dict[str, list[PubRow]] = {}
    for key in keys:
        hit = cache.get(key, story_signature(key, clusters[key]))
        if hit is not None:
            out[key] = hit.guid
        else:
            ask[key] = clusters[key]
    if ask:
        out.update(known_guids(store, ask))
    for key in ask:
        out.setdefault(key, GUID_PREFIX + representative(clusters[key]).id)
    return out


def own_rows(rows: list[PubRow], limit: int) -> dict[str, list[PubRow]]:
    """Slug -> the rows its feed shows: one per story (a page whose URL changed is stored twice, in one story),
    its newest `limit` stories, each by the representative of its members from that source, newest first."""
    picked: dict[str, dict[str, list[PubRow]]] = {}
    for row in rows:  # newest first: each source's first `limit` stories are its feed
        mine = picked.setdefault(row.source_slug, {})
        key = cluster_key(row)
        if key in mine:
            mine[key].append(row)
        elif len(mine) < limit:
            mine[key] = [row]
    out = {}
    for slug, stories in picked.items():
        chosen = [representative(members) for members in stories.values()]
        chosen.sort(key=lambda r: (r.shown_at, r.id), reverse=True)  # the order newest_first gives their items
        out[slug] = chosen
    return out


def own_updated(row: PubRow) -> datetime:
    """An article's `updated` in its source's feed (article_updated)."""
    return article_updated(row.shown_at, row.changed_at, row.first_seen_at)


def _own_items(
    rows: list[PubRow],
    *,
    clusters: dict[str, list[PubRow]],
    sources: dict[str, Source],
    shared: dict[str, ItemDetails],
    registry: Callable[[dict[str, list[PubRow]], list[str]], dict[str, str]],
) -> list[FeedItem]:
    """A source's own articles as entries, one per story, under the story's GUID from the registry
    (feed.publish.guids, the one the aggregate feeds use), with the source's own link and times."""
    guids = registry(clusters, list(dict.fromkeys(cluster_key(r) for r in rows)))
    items = []
    for row in rows:
        key = cluster_key(row)
        own = FeedIdentity(guids[key], row.url, row.shown_at, own_updated(row), key)
        items.append(make_item(row, own, clusters[key], sources, shared))
    return items


def _own_signature(rows: list[PubRow], clusters: dict[str, list[PubRow]], sources: dict[str, Source]) -> str:
    """What a source's entries are made of (their rows, their stories' members and outlets), without making
    them: per-source entries take their identity from the row itself."""
    digest = hashlib.blake2b(digest_size=12)
    for row in rows:
        members = clusters[cluster_key(row)]
        digest.update(row.sig.encode())
        if len(members) > 1:
            digest.update(
                "\x1f".join([*(m.sig for m in members), *(_name(sources, m.source_slug) for m in members)]).encode(
                    "utf-8"
                )
            )
        else:
            digest.update(_name(sources, row.source_slug).encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()
