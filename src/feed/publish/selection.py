"""Which articles a publish reads: those written since the last one, and the few that every feed's head shows.

The store numbers every article write (feed.store.changes). A publish reads:
- the newest WINDOW articles (latest.json, the all-articles feed), the newest meeting reports, the newest other
  articles and the newest of each kind (their feeds);
- every article written since the change number the last publish covered, and every other member of their
  stories, old and new (a story's records list its members);
- for each source one of those articles belongs to (or whose name or poll interval changed), its newest
  `limit` articles: that source's feed is rebuilt, every other source's feed stays as it is on disk.
So a crawl that found five articles costs a few hundred rows whatever the store holds. Without a change number
(the first publish, or state from an older version) everything is read, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text

from feed.config.sources import Source
from feed.publish.entries import MARGIN, cluster_key
from feed.publish.incremental import Prior, changed_ids, published_records
from feed.publish.rows import COLUMNS, Bodies, PubRow, _row, load_rows
from feed.publish.snapshots import WINDOW
from feed.records import MEETING_KINDS
from feed.store.api import Store

BATCH = 500
_NEWEST = "ORDER BY COALESCE(published_at, first_seen_at) DESC, id ASC"


@dataclass
class Selection:
    """The rows one publish reads and what it must rebuild."""

    rows: list[PubRow]  # every row read, newest first (published, else first seen; ties by id)
    window: list[PubRow]  # the newest WINDOW rows of the store: latest.json
    touched: list[PubRow]  # rows whose records are encoded again (written since the last publish, or their stories)
    gone: list[str]  # ids written since the last publish and no longer stored
    before: dict[str, list[str]]  # id -> [fingerprint, cluster] the last publish gave the touched and gone ids
    sources: set[str] | None  # slugs whose feeds are rebuilt; None: every one
    total: int  # articles in the store


def source_key(source: Source) -> list[Any]:
    """What a source's feed shows of its configuration: a change rebuilds it."""
    return [source.name, source.interval]


class _Reader:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.bodies = Bodies(store)
        self.rows: dict[str, PubRow] = {}

    def fetch(self, where: str, **params: Any) -> list[PubRow]:
        query = text(f"SELECT {', '.join(COLUMNS)} FROM articles {where}")
        for name, value in params.items():
            if isinstance(value, list | set | tuple):
                query = query.bindparams(bindparam(name, expanding=True))
        found = []
        with self.store.engine.connect() as conn:
            for values in conn.execute(query, params):
                row = self.rows.get(values[0]) or self.rows.setdefault(values[0], _row(tuple(values), self.bodies))
                found.append(row)
        return found

    def fetch_in(self, column: str, values: Iterable[str]) -> list[PubRow]:
        wanted = sorted(set(values))
        found = []
        for start in range(0, len(wanted), BATCH):
            found += self.fetch(f"WHERE {column} IN :values", values=wanted[start : start + BATCH])
        return found


def _newest_first(rows: Iterable[PubRow]) -> list[PubRow]:
    ordered = sorted(rows, key=lambda r: r.id)
    ordered.sort(key=lambda r: r.shown_at, reverse=True)
    return ordered


def select_rows(
    store: Store, out: Path, prior: Prior, sources: list[Source], limit: int, *, everything: bool, force: set[str]
) -> Selection:
    """The rows this publish needs (see the module's docstring); `everything` reads them all."""
    changed = None if everything else changed_ids(store, prior.seq)
    if changed is None:
        rows = load_rows(store)
        if prior.legacy_records is not None:
            before = prior.legacy_records
        else:
            before = published_records(store, out, None)
        present = {r.id for r in rows}
        return Selection(rows, rows[:WINDOW], rows, sorted(set(before) - present), before, None, len(rows))
    reader = _Reader(store)
    reach = int(limit * MARGIN) + 1
    window = reader.fetch(f"{_NEWEST} LIMIT :n", n=WINDOW)
    reader.fetch(f"WHERE is_meeting_report = :yes {_NEWEST} LIMIT :n", yes=True, n=reach)
    reader.fetch(f"WHERE is_meeting_report = :no {_NEWEST} LIMIT :n", no=False, n=reach)  # the "other" feed
    for kind in MEETING_KINDS:
        where = f"WHERE is_meeting_report = :yes AND meeting_kind = :kind {_NEWEST} LIMIT :n"
        reader.fetch(where, yes=True, kind=kind, n=reach)
    fresh = reader.fetch_in("id", changed)
    before = published_records(store, out, changed)
    names = prior.snapshot.get("names") or {}
    configs = prior.feeds.get("sources") or {}
    renamed = {s.slug for s in sources if names.get(s.slug, s.name) != s.name}
    affected = force | renamed | {s.slug for s in sources if configs.get(s.slug) != source_key(s)}
    if renamed:
        fresh += reader.fetch_in("source_slug", renamed)
    stories = {cluster_key(r) for r in fresh} | {b[1] for b in before.values()}
    mates = reader.fetch_in("cluster_id", stories)
    touched = {r.id: r for r in [*fresh, *mates] if cluster_key(r) in stories or r.id in changed}
    before.update(published_records(store, out, set(touched) - set(before)))
    affected |= {r.source_slug for r in touched.values()}
    for slug in sorted(affected):
        reader.fetch(f"WHERE source_slug = :slug {_NEWEST} LIMIT :n", slug=slug, n=limit)
    # Every story a feed may show is read whole: its head and its members decide its entry.
    keys = {cluster_key(r) for r in reader.rows.values() if r.cluster_id}
    reader.fetch_in("cluster_id", keys - stories)
    with store.engine.connect() as conn:
        total = int(conn.execute(text("SELECT COUNT(*) FROM articles")).scalar() or 0)
    gone = sorted(i for i in changed if i not in reader.rows)
    return Selection(
        _newest_first(reader.rows.values()),
        window,
        _newest_first(touched.values()),
        gone,
        before,
        affected,
        total,
    )
