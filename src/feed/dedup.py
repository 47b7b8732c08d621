"""Cross-site deduplication: articles with the same story share a cluster; one member is canonical."""

from __future__ import annotations

from sqlalchemy import select

from feed.store import ArticleRow, Store


def assign_cluster(store: Store, article_id: str) -> str | None:
    """Put an article in the cluster of its exact copies (same normalised text); returns the cluster id."""
    with store.session() as s:
        row = s.get(ArticleRow, article_id)
        if row is None:
            return None
        twins = list(s.scalars(select(ArticleRow).where(ArticleRow.content_hash == row.content_hash)))
        members = sorted(twins, key=lambda r: (r.published_at or r.first_seen_at, r.id))
        canonical = members[0]
        for member in members:
            member.cluster_id = canonical.id
            member.is_canonical = member.id == canonical.id
        return canonical.id
