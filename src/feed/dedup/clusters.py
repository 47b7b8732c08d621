"""Cross-site deduplication: copies of one story share a cluster, and one member of it is canonical.

`assign_cluster` runs after each new or changed article: it files the article's fingerprint in the
persistent index (feed.dedup.index), merges the article into the clusters of the copies found, and picks the
cluster's canonical member: the outlet a copy credits as its origin, else the earliest published, else the
most complete. Clusters only grow: an article never leaves a story once it has joined it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from feed.config.sources import Source
from feed.dedup.batch_index import BatchBackend
from feed.dedup.fingerprints import fingerprint
from feed.dedup.index import DedupIndex, SqlBackend
from feed.lang.text import fold, strip_accents
from feed.lang.urls import host_of, same_site
from feed.store.api import ArticleRow, Store
from feed.store.batch import BatchRows

# Words that name the kind of outlet, not which one: "Báo Lao Động" and "Lao Động" credit the same paper.
OUTLET_WORDS = (
    "báo điện tử",
    "cổng thông tin điện tử",
    "cổng thông tin",
    "trang thông tin điện tử",
    "trang thông tin",
    "trang tin điện tử",
    "trang tin",
    "tạp chí",
    "điện tử",
    "online",
    "website",
    "báo",
    "tỉnh",
    "thành phố",
    "tp",
)
# Abbreviations union credits use for the organisations' names.
ABBREVIATIONS = {
    "lđlđ": "liên đoàn lao động",
    "ldld": "liên đoàn lao động",
    "tlđlđvn": "tổng liên đoàn lao động việt nam",
    "tlđ": "tổng liên đoàn lao động việt nam",
    "cđ": "công đoàn",
    "cđvc": "công đoàn viên chức",
    "cđn": "công đoàn ngành",
    "vn": "việt nam",
}
_DOMAIN = re.compile(r"^(?:https?://)?[\w-]+(?:\.[\w-]+)+(?::\d+)?(?:/\S*)?$", re.I)
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


def _name_words(name: str) -> tuple[str, ...]:
    """Folded words of an outlet's name, abbreviations spelled out and outlet-kind words dropped."""
    words: list[str] = []
    for word in fold(name).split():
        expanded = ABBREVIATIONS.get(strip_accents(word)) if word not in ABBREVIATIONS else ABBREVIATIONS[word]
        words.extend(fold(expanded).split() if expanded else [word])
    text = " " + " ".join(w.strip(".,:;()\"'") for w in words) + " "
    for generic in OUTLET_WORDS:
        text = text.replace(" " + fold(generic) + " ", " ")
    return tuple(text.split())


def _host_label(url: str) -> str:
    # "laodong.vn" -> "laodong", "ldld.namdinh.gov.vn" -> "ldldnamdinh": what a name squashes to.
    parts = [p for p in host_of(url).split(".") if p not in {"vn", "com", "net", "org", "gov", "edu", "www"}]
    return "".join(parts)


def credits(credit: str, member: ArticleRow, names: Mapping[str, str]) -> bool:
    """True when a credit line ("hcma.vn", "Báo Lao Động", "LĐLĐ tỉnh Nam Định") names member's outlet."""
    credit = credit.strip(" .:;()")
    if not credit:
        return False
    if _DOMAIN.match(credit):
        return same_site(credit, member.url)
    wanted = _name_words(credit)
    if not wanted:
        return False
    name = names.get(member.source_slug)
    if name:
        have = _name_words(name)
        if have == wanted:
            return True
        shorter, longer = sorted((set(wanted), set(have)), key=len)
        if len(shorter) >= 3 and shorter <= longer:
            return True
    squashed = re.sub(r"(?<=[^\W\d])\d\b", "", " ".join(wanted))  # fold's tone digits off again
    squashed = strip_accents(squashed).replace(" ", "")
    return len(squashed) >= 5 and squashed == _host_label(member.url)


def _published(row: ArticleRow) -> datetime:
    return row.published_at or row.first_seen_at or _FAR_FUTURE


def choose_canonical(members: list[ArticleRow], names: Mapping[str, str] | None = None) -> ArticleRow:
    """The member credited as origin by another (following chains of credits to the root), else the
    earliest published, else the most complete (longest body)."""
    names = names or {}

    def credited_by_other(member: ArticleRow) -> bool:
        return any(o is not member and o.syndicated_from and credits(o.syndicated_from, member, names) for o in members)

    def credits_other(member: ArticleRow) -> bool:
        return bool(member.syndicated_from) and any(
            o is not member and credits(member.syndicated_from or "", o, names) for o in members
        )

    origins = [m for m in members if credited_by_other(m)]
    roots = [m for m in origins if not credits_other(m)]
    pool = roots or origins or members
    return min(
        pool, key=lambda m: (m.published_at is None, _published(m), -len(m.body_text or ""), m.first_seen_at, m.id)
    )


def _cluster_rows(s: Session, cluster_ids: set[str], batch: BatchRows | None = None) -> list[ArticleRow]:
    rows = list(s.scalars(select(ArticleRow).where(ArticleRow.cluster_id.in_(sorted(cluster_ids)))))
    if batch is None:
        return rows
    # Unflushed, the database has the clusters as they were before the batch: a row the batch moved is a member
    # where it is in memory, and the batch's new rows are members only in memory.
    return [r for r in rows if r.cluster_id in cluster_ids and r.id not in batch.by_id] + batch.in_clusters(cluster_ids)


def _rows(s: Session, ids: list[str], batch: BatchRows | None) -> list[ArticleRow]:
    """The articles of these ids, the batch's own (perhaps not in the database yet) from memory."""
    mine = [batch.by_id[i] for i in ids if i in batch.by_id] if batch is not None else []
    rest = [i for i in ids if batch is None or i not in batch.by_id]
    return mine + (list(s.scalars(select(ArticleRow).where(ArticleRow.id.in_(rest)))) if rest else [])


def _merge(
    s: Session, row: ArticleRow, matches: list[ArticleRow], names: Mapping[str, str], batch: BatchRows | None = None
) -> str:
    """Put row, its copies and everything already clustered with any of them into one cluster."""
    involved = [row, *matches]
    cluster_ids = {m.cluster_id for m in involved if m.cluster_id}
    members = (
        {m.id: m for m in (*_cluster_rows(s, cluster_ids, batch), *involved)}
        if cluster_ids
        else {m.id: m for m in involved}
    )
    # The story keeps the id it was first known by: the cluster of its earliest-seen clustered member.
    clustered = [m for m in members.values() if m.cluster_id] or list(members.values())
    founder = min(clustered, key=lambda m: (m.first_seen_at, m.id))
    target = founder.cluster_id or founder.id
    canonical = choose_canonical(list(members.values()), names)
    for member in members.values():
        member.cluster_id = target
        member.is_canonical = member.id == canonical.id
    if batch is not None:
        batch.changed(members.values())
    return target


def assign_cluster(store: Store, article_id: str, *, sources: Iterable[Source] = ()) -> str | None:
    """File the article in the near-duplicate index, merge it with the clusters of its copies and re-pick
    the canonical member; returns the cluster id (None when the article is not stored). Pass the source
    registry so credits by outlet name ("Báo Lao Động") find their member; credits by domain need nothing."""
    names = {source.slug: source.name for source in sources}
    with store.session() as s:
        return assign_cluster_in(s, article_id, names)


def assign_cluster_in(
    s: Session,
    article_id: str,
    names: Mapping[str, str],
    batch: BatchRows | None = None,
    index: BatchBackend | None = None,
) -> str | None:
    """`assign_cluster` inside a transaction the caller holds (a batch of pages ingested at once: each page in
    turn, in the batch's order, so the clusters are the ones page-by-page ingestion gives); `names` maps each
    source's slug to its outlet name.

    With `batch` (the session's autoflush off: one flush for the whole batch), the articles the batch wrote before
    are read from it: their rows, texts and clusters as they are in memory (feed.store.batch). The index itself
    needs nothing more: its fingerprints are written at once (Core statements, not the ORM's flush).

    With `index` (`batch_index(s, batch)`, preloaded for the batch's pages), the index is read from it and written
    through it: the batch's look-ups in one round before the first page, its writes in one at `index.flush()`."""
    row = (batch.by_id.get(article_id) if batch is not None else None) or s.get(ArticleRow, article_id)
    if row is None:
        return None
    if index is not None:
        found = DedupIndex(index).add(row.id, index.fingerprint(row.body_text or ""))
    else:
        backend = SqlBackend(s) if batch is None else SqlBackend(s, texts=_texts_reader(s, batch))
        found = DedupIndex(backend).add(row.id, fingerprint(row.body_text or ""))
    matches = _rows(s, found, batch) if found else []
    return _merge(s, row, matches, names, batch)


def batch_index(s: Session, batch: BatchRows) -> BatchBackend:
    """The index for a batch's clustering (feed.dedup.batch_index): `preload` it with the pages' ids and bodies,
    pass it to every `assign_cluster_in`, and `flush` it before the commit."""
    return BatchBackend(s, texts=_texts_reader(s, batch))


def _texts_reader(s: Session, batch: BatchRows) -> Callable[[Sequence[str]], dict[str, str]]:
    """Bodies for the index's exact check: the batch's rows from memory (new, or with a new text), the rest stored."""

    def texts(ids: Sequence[str]) -> dict[str, str]:
        mine = {i: batch.by_id[i].body_text or "" for i in ids if i in batch.by_id}
        rest = [i for i in ids if i not in mine]
        return {**SqlBackend(s).texts(rest), **mine} if rest else mine

    return texts


def cluster_members(store: Store, cluster_id: str) -> list[ArticleRow]:
    """All members of a cluster, canonical first, then by publication time."""
    with store.session() as s:
        rows = _cluster_rows(s, {cluster_id}) or [r for r in [s.get(ArticleRow, cluster_id)] if r is not None]
    return sorted(rows, key=lambda m: (not m.is_canonical, _published(m), m.id))
