"""Ingest: the one call that turns an extracted page into stored, classified, clustered records.

The order is the design's: the article is stored first (so nothing fetched is lost to a later stage), then
classified and clustered here, in the library, from what was stored. `reclassify` runs the same
classification again over stored articles after the classifier changed.

`ingest_batch` does the same for a batch of pages in one transaction (the crawl's pipeline hands it up to 50
pages or 2 s of them): each page in turn, in order, so verdicts and clusters are those page-by-page ingestion
gives. The batch is written in one flush, at its commit (its earlier rows are looked up in memory meanwhile:
feed.store.batch), with each article's verdict and cluster in its INSERT. When any page of the batch fails for a
reason of its own (not the store's), the batch is rolled back and ingested again page by page, so that page alone
fails, exactly as `ingest` would have it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from feed.classify.classifier import classify
from feed.config.sources import Source
from feed.dedup.clusters import assign_cluster, assign_cluster_in, batch_index
from feed.lang.urls import article_id, canonicalize_url
from feed.records import Extracted, Meeting
from feed.store.api import Store, UpsertResult
from feed.store.batch import BatchRows
from feed.store.faults import StoreError


@dataclass(frozen=True)
class Ingested:
    """What became of one page: its stored id, whether it was new, updated or unchanged, and its verdict."""

    article_id: str
    status: str  # "new" | "updated" | "unchanged" | "foreign" (another source's article: left alone)
    meeting: Meeting | None  # None when unchanged or foreign: the stored verdict stands
    canonical_ignored: bool = False  # the page named another source's article as its canonical


def classify_article(article: Extracted) -> Meeting:
    """The classifier's verdict on one article, from its title, lead, body and publication time."""
    return classify(article.title, article.body_text, published_at=article.published_at, lead=article.lead)


def ingest(
    store: Store,
    source_slug: str,
    article: Extracted,
    *,
    registry: Sequence[Source] = (),
    fetched_at: datetime | None = None,
) -> Ingested:
    """Store one extracted article, then classify and cluster it when it is new or changed.

    `registry` is every configured source: dedup resolves credits by outlet name ("Theo Báo Lao Động").
    """
    result: UpsertResult = store.upsert(source_slug, article, fetched_at=fetched_at)
    if result.status in ("unchanged", "foreign"):
        return Ingested(result.article_id, result.status, None, result.canonical_ignored)
    meeting = classify_article(article)
    store.save_meeting(result.article_id, meeting)
    assign_cluster(store, result.article_id, sources=registry)
    return Ingested(result.article_id, result.status, meeting, result.canonical_ignored)


@dataclass(frozen=True)
class Page:
    """One extracted page waiting in a batch, with when it was fetched."""

    article: Extracted
    fetched_at: datetime | None = None


def ingest_batch(
    store: Store, source_slug: str, pages: Sequence[Page], *, registry: Sequence[Source] = ()
) -> list[Ingested | Exception]:
    """Ingest pages in one transaction; one result per page, in order: what `ingest` returns, or the exception
    that page alone raised. StoreError (the store cannot be used) is raised: nothing of the batch is kept."""
    if not pages:
        return []
    names = {source.slug: source.name for source in registry}
    try:
        with store.session() as s, s.no_autoflush:  # one flush, at the commit: the batch's rows are in `batch`
            results: list[Ingested | Exception] = []
            batch = BatchRows()
            batch.look_up(s, (page.article for page in pages))  # the stored rows the pages may be, in one query
            index = batch_index(s, batch)  # and dedup's look-ups for them, in one round (feed.dedup.batch_index)
            index.preload(_likely_changed(s, batch, pages))
            for page in pages:
                result = store.upsert_in(s, source_slug, page.article, fetched_at=page.fetched_at, batch=batch)
                if result.status in ("unchanged", "foreign"):
                    results.append(Ingested(result.article_id, result.status, None, result.canonical_ignored))
                    continue
                meeting = classify_article(page.article)
                store.save_meeting_in(s, result.article_id, meeting)
                assign_cluster_in(s, result.article_id, names, batch, index)
                results.append(Ingested(result.article_id, result.status, meeting, result.canonical_ignored))
            index.flush()
            return results
    except StoreError:
        raise
    except Exception:  # one page's own trouble: the others must not be lost with it
        pass
    return [_ingest_alone(store, source_slug, page, registry) for page in pages]


def _likely_changed(s: Session, batch: BatchRows, pages: Sequence[Page]) -> dict[str, str]:
    """Article id -> body of the pages the batch will likely cluster: all but those stored with the same body (a
    guess only: a page it leaves out, or one it gets wrong, is looked up when clustered)."""
    bodies: dict[str, str] = {}
    for page in pages:
        key = canonicalize_url(page.article.url)
        stored = batch.stored_by_url(s, key)
        if stored is None or stored.body_text != page.article.body_text:
            bodies.setdefault(stored.id if stored is not None else article_id(key), page.article.body_text or "")
    return bodies


def _ingest_alone(store: Store, source_slug: str, page: Page, registry: Sequence[Source]) -> Ingested | Exception:
    try:
        return ingest(store, source_slug, page.article, registry=registry, fetched_at=page.fetched_at)
    except StoreError:
        raise
    except Exception as exc:
        return exc


@dataclass
class Reclassified:
    """How many stored articles were read, and how many got another verdict."""

    read: int = 0
    changed: int = 0
    now_reports: int = 0
    no_longer_reports: int = 0


def reclassify(
    store: Store,
    *,
    since: datetime | None = None,
    slugs: Iterable[str] = (),
    progress: Callable[[int, int], None] | None = None,
    batch: int = 500,
) -> Reclassified:
    """Classify stored articles again and keep the verdicts that changed.

    Nothing else about an article changes (text, hash, times), so the next publish moves items into or out
    of the meetings and kind feeds and announces nothing anew. `progress(done, total)` is called per batch.
    """
    figures = Reclassified()
    ids = store.article_ids(since=since, slugs=list(slugs))
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        verdicts: dict[str, Meeting] = {}
        for stored in store.articles_by_id(chunk):
            article = Extracted(
                url=stored.url,
                title=stored.title,
                published_at=stored.published_at,
                lead=stored.lead,
                body_text=stored.body_text or "",
            )
            meeting = classify_article(article)
            figures.read += 1
            if meeting.to_json() == (stored.meeting or {}):
                continue
            was_report = bool(stored.is_meeting_report)
            figures.changed += 1
            figures.now_reports += int(meeting.is_report and not was_report)
            figures.no_longer_reports += int(was_report and not meeting.is_report)
            verdicts[stored.id] = meeting
        store.save_meetings(verdicts)
        if progress is not None:
            progress(min(start + batch, len(ids)), len(ids))
    return figures
