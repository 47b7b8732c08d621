"""Stable feed identity: once a story has appeared in a feed, its guid, link and published time never change.

A story is a dedup cluster. The first time the publisher shows it, `issue_identities` files a
FeedIdentityRow for it: guid from the canonical member of that moment, its link, its published time. Later
calls find that row again through the cluster id or through any member (so it survives slug edits, scheme
changes, merges of clusters and a new canonical member) and only ever move `updated_at`, and only when the
canonical body changed materially since the last time it moved. docs/dedup.md describes the contract.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from feed.dedup.clusters import cluster_members
from feed.dedup.fingerprints import shingle_set
from feed.publish.feed_writer import GUID_PREFIX
from feed.publish.rows import PubRow, prefetch_bodies
from feed.store.api import Store
from feed.store.schema import ArticleRow, FeedIdentityRow

# A change is material when enough of the body's word 5-grams differ from the last published basis: a
# corrected typo (~10 5-grams) is not, a rewritten sentence or a new paragraph is. The basis keeps one
# 5-gram in four (32-bit), so it costs about a byte a word.
SAMPLE_MASK = 3  # keep the 5-grams whose bits 16-17 are zero (uniform bits, unlike the lowest two)
SAMPLE_SHIFT = 16
MATERIAL_MIN_SAMPLES = 8
MATERIAL_SHARE = 0.03

__all__ = ["FeedIdentity", "FeedIdentityRow", "cluster_members", "issue_identities", "known_guids"]


@dataclass(frozen=True)
class FeedIdentity:
    """What a feed says about a story's identity; guid, link and published_at are fixed at first issue."""

    guid: str
    link: str
    published_at: datetime
    updated_at: datetime
    cluster_id: str


def _frozen(ident: FeedIdentityRow) -> FeedIdentity:
    """The identity a stored row stands for (the table itself is in feed.store.schema)."""
    return FeedIdentity(ident.guid, ident.link, ident.published_at, ident.updated_at, ident.cluster_id)


def body_basis(body: str) -> tuple[bytes, str]:
    """A compact sample of a body's 5-grams and its exact text hash, to judge later changes against."""
    text_hash, shingles = shingle_set(body)
    chosen = ((shingles >> np.uint64(SAMPLE_SHIFT)) & np.uint64(SAMPLE_MASK)) == 0
    sample = shingles[chosen] >> np.uint64(32)
    return sample.astype(np.uint32).tobytes(), text_hash


def is_material(old: tuple[bytes, str], new: tuple[bytes, str]) -> bool:
    """True when the body changed enough for readers to be told (the feed's `updated`)."""
    (old_sample, old_hash), (new_sample, new_hash) = old, new
    if old_hash == new_hash:
        return False
    a = set(np.frombuffer(old_sample, dtype=np.uint32).tolist())
    b = set(np.frombuffer(new_sample, dtype=np.uint32).tolist())
    if not a and not b:
        return True  # too short to sample: any change of the words is a change of the story
    differ = len(a ^ b)
    return differ >= MATERIAL_MIN_SAMPLES and differ / len(a | b) >= MATERIAL_SHARE


# Columns of a member that identity needs; bodies are read only for the canonicals that need judging.
_MEMBER = (
    ArticleRow.id,
    ArticleRow.cluster_id,
    ArticleRow.is_canonical,
    ArticleRow.published_at,
    ArticleRow.first_seen_at,
    ArticleRow.canonical_url,
    ArticleRow.url,
    ArticleRow.content_hash,
)
CHUNK = 500  # ids per IN (...) look-up, far below any database's parameter limit


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    items = list(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _members(s: Session, stories: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """Story key -> its members as stored (one look-up per CHUNK stories, by the indexed cluster_id)."""
    found: dict[str, dict[str, Any]] = {key: {} for key in stories}
    for keys in _chunks(list(stories)):
        for row in s.execute(select(*_MEMBER).where(ArticleRow.cluster_id.in_(keys))):
            found[row.cluster_id][row.id] = row
    loose = [r.id for key, given in stories.items() for r in given if r.id not in found[key]]
    by_id = {row.id: row for ids in _chunks(loose) for row in s.execute(select(*_MEMBER).where(ArticleRow.id.in_(ids)))}
    for key, given in stories.items():
        for r in given:
            found[key].setdefault(r.id, by_id.get(r.id, r))  # a row not stored (yet) stands for itself
    return {key: list(members.values()) for key, members in found.items()}


def _identities(s: Session, members: Mapping[str, Sequence[Any]]) -> dict[str, FeedIdentityRow]:
    """Story key -> the earliest identity issued for it: through its cluster id or any member (anchor)."""
    by_cluster: dict[str, list[FeedIdentityRow]] = {}
    by_anchor: dict[str, FeedIdentityRow] = {}
    for keys in _chunks(list(members)):
        for ident in s.scalars(select(FeedIdentityRow).where(FeedIdentityRow.cluster_id.in_(keys))):
            by_cluster.setdefault(ident.cluster_id, []).append(ident)
    for ids in _chunks([m.id for group in members.values() for m in group]):
        for ident in s.scalars(select(FeedIdentityRow).where(FeedIdentityRow.anchor_id.in_(ids))):
            by_anchor[ident.anchor_id] = ident
    out: dict[str, FeedIdentityRow] = {}
    for key, group in members.items():
        found = [*by_cluster.get(key, ()), *(by_anchor[m.id] for m in group if m.id in by_anchor)]
        if found:
            out[key] = min(found, key=lambda i: (i.issued_at, i.guid))
    return out


def _bodies(s: Session, ids: Sequence[str], given: Mapping[str, Any]) -> dict[str, str]:
    """The bodies of these articles: through the publisher's rows when it gave them (read in batches and kept on
    the row, so the feeds about to show the story do not read them again), else from the store."""
    rows = [given[i] for i in ids if isinstance(given.get(i), PubRow)]
    prefetch_bodies(rows)
    found = {r.id: r.body_text for r in rows}
    rest = [i for i in ids if i not in found]
    found.update(
        (i, body or "")
        for chunk in _chunks(rest)
        for i, body in s.execute(select(ArticleRow.id, ArticleRow.body_text).where(ArticleRow.id.in_(chunk)))
    )
    return found


def _canonical(members: Sequence[Any]) -> Any:
    flagged = [m for m in members if m.cluster_id and m.is_canonical]
    return min(flagged or members, key=lambda m: (m.published_at or m.first_seen_at, m.id))


def _issue(key: str, canonical: Any, body: str, now: datetime) -> dict[str, Any]:
    """A new identity's row, as the values inserted (in bulk, without an ORM object each: a first publish
    issues thousands)."""
    basis, basis_hash = body_basis(body)
    published = canonical.published_at or canonical.first_seen_at
    return {
        "guid": GUID_PREFIX + canonical.id,
        "anchor_id": canonical.id,
        "cluster_id": key,
        "link": canonical.canonical_url or canonical.url,
        "published_at": published,
        "updated_at": published,
        "issued_at": now,
        "seen": f"{canonical.id}:{canonical.content_hash}",
        "basis": basis,
        "basis_hash": basis_hash,
    }


def _refresh(ident: FeedIdentityRow, key: str, canonical: Any, body: str | None, now: datetime) -> None:
    """Follow the story to its current cluster; move updated_at on a material change, nothing else."""
    ident.cluster_id = key
    seen = f"{canonical.id}:{canonical.content_hash}"
    if ident.seen == seen or body is None:
        return
    ident.seen = seen
    basis = body_basis(body)
    if is_material((ident.basis, ident.basis_hash), basis):
        ident.basis, ident.basis_hash = basis
        ident.updated_at = max(now, ident.updated_at)


def issue_identities(store: Store, rows: list[ArticleRow], now: datetime) -> dict[str, FeedIdentity]:
    """Map article id -> the frozen identity of its story for the feed; issues (persists) new ones, never
    edits old ones except to move `updated_at` on a material change of the canonical body."""
    if now.tzinfo is None:
        raise ValueError("issue_identities needs a tz-aware now")
    stories: dict[str, list[ArticleRow]] = {}
    for row in rows:
        stories.setdefault(row.cluster_id or row.id, []).append(row)
    out: dict[str, FeedIdentity] = {}
    with store.session() as s:
        members = _members(s, stories)
        identities = _identities(s, members)
        canonicals = {key: _canonical(group) for key, group in members.items()}
        judge = [
            c.id
            for key, c in canonicals.items()
            if key not in identities or identities[key].seen != f"{c.id}:{c.content_hash}"
        ]
        bodies = _bodies(s, judge, {row.id: row for row in rows})
        issued: dict[str, dict[str, Any]] = {}  # by anchor: stale rows may put one article in two stories
        for key, given in stories.items():
            canonical = canonicals[key]
            stored = identities.get(key)
            if stored is not None:
                _refresh(stored, key, canonical, bodies.get(canonical.id), now)
                frozen = _frozen(stored)
            else:
                new = issued.get(canonical.id)
                if new is None:
                    body = bodies.get(canonical.id, getattr(canonical, "body_text", ""))
                    new = issued[canonical.id] = _issue(key, canonical, body, now)
                else:  # as _refresh does: the identity follows the story to its current cluster
                    new["cluster_id"] = key
                frozen = FeedIdentity(new["guid"], new["link"], new["published_at"], new["updated_at"], key)
            out.update({row.id: frozen for row in given})
        if issued:
            s.execute(insert(cast(Table, FeedIdentityRow.__table__)), list(issued.values()))
    return out


def known_guids(store: Store, stories: Mapping[str, Sequence[Any]]) -> dict[str, str]:
    """Story key -> the guid already issued for it (through its cluster id or any member given), for the stories
    that have one; issues nothing. Per-source feeds ask this: issuing (and sampling the body of) every story of
    every source's feed would cost a first publish of 10,000 articles 17 s more."""
    with store.session() as s:
        return {key: ident.guid for key, ident in _identities(s, stories).items()}
