"""The articles a batch of pages has written in its transaction and not yet flushed (feed.ingest.ingest_batch).

A batch is stored, classified and clustered in one transaction with the session's autoflush off, so its INSERTs
and UPDATEs go out in one flush at the commit, not one or two per article (every SELECT of an article, by the
upsert's URL look-up or dedup's clustering, used to flush the previous article first). The database then does not
yet hold the batch's own earlier articles, nor their new bodies and clusters: every look-up of the batch path asks
`BatchRows` first (the rows in memory are what the flush will write) and the database for the rest, so each page
sees exactly what page-by-page ingestion would have flushed before it.
"""

from __future__ import annotations

from collections.abc import Iterable

from feed.store.schema import ArticleRow


class BatchRows:
    """Rows the batch added or changed, by canonical URL (upserted ones) and by id (upserted or re-clustered)."""

    def __init__(self) -> None:
        self.by_url: dict[str, ArticleRow] = {}
        self.by_id: dict[str, ArticleRow] = {}

    def upserted(self, row: ArticleRow) -> None:
        """A row the batch inserted or whose text it changed: later pages find it by URL and by id."""
        self.by_url[row.canonical_url] = row
        self.by_id[row.id] = row

    def changed(self, rows: Iterable[ArticleRow]) -> None:
        """Rows whose cluster the batch changed in memory (the database still has the old one)."""
        for row in rows:
            self.by_id[row.id] = row

    def in_clusters(self, cluster_ids: set[str]) -> list[ArticleRow]:
        """The batch's rows that are, in memory, members of one of these clusters."""
        return [row for row in self.by_id.values() if row.cluster_id in cluster_ids]
