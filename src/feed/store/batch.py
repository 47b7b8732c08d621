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

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from feed.lang.urls import article_id, canonicalize_url
from feed.records import Extracted
from feed.store.schema import ArticleRow


class BatchRows:
    """Rows the batch added or changed, by canonical URL (upserted ones) and by id (upserted or re-clustered); and
    the stored rows its pages may be, read in one query before the first page (`look_up`)."""

    def __init__(self) -> None:
        self.by_url: dict[str, ArticleRow] = {}
        self.by_id: dict[str, ArticleRow] = {}
        self._urls: set[str] = set()  # canonical URLs and ids looked up at once: their stored rows are below
        self._ids: set[str] = set()
        self._stored_urls: dict[str, ArticleRow] = {}
        self._stored_ids: dict[str, ArticleRow] = {}

    def look_up(self, s: Session, articles: Iterable[Extracted]) -> None:
        """Read, in one query, the stored articles the upsert of these pages will look for: by each page's own
        canonical URL, the id it gives, and the canonical the page declares. A canonical URL and an id never change
        once stored, and the rows the batch adds are in `by_url` and `by_id`, so the upsert then asks nothing more."""
        articles = list(articles)
        urls = {canonicalize_url(a.url) for a in articles} | {
            canonicalize_url(a.canonical_url) for a in articles if a.canonical_url
        }
        ids = {article_id(url) for url in urls}
        rows = s.scalars(select(ArticleRow).where(or_(ArticleRow.canonical_url.in_(urls), ArticleRow.id.in_(ids))))
        for row in rows:
            self._stored_urls[row.canonical_url] = row
            self._stored_ids[row.id] = row
        self._urls |= urls
        self._ids |= ids

    def stored_by_url(self, s: Session, url: str) -> ArticleRow | None:
        """The article stored under this canonical URL (the batch's own rows are in `by_url`)."""
        if url in self._urls:
            return self._stored_urls.get(url)
        return s.scalar(select(ArticleRow).where(ArticleRow.canonical_url == url))

    def stored_by_id(self, s: Session, id_: str) -> ArticleRow | None:
        """The article stored under this id (the batch's own rows are in `by_id`)."""
        if id_ in self._ids:
            return self._stored_ids.get(id_)
        return s.get(ArticleRow, id_)

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
