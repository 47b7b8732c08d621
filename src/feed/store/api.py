"""The article store: SQLAlchemy over SQLite by default (any SQLAlchemy URL works), upsert by the page's own URL
(canonical spelling), within its source."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic, sleep
from typing import Any

from sqlalchemy import create_engine, event, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from feed.lang.text import fold
from feed.lang.urls import article_id, canonicalize_url
from feed.records import Extracted, Meeting
from feed.store import changes as _changes  # noqa: F401  (registers the change tracking)
from feed.store import search
from feed.store.batch import BatchRows
from feed.store.faults import StoreError, check_file, check_identity, describe, explain, file_identity

# ArticleRow, CrawlRun and PageError are what the Store hands out, so callers may import them from here too.
from feed.store.schema import (
    ArticleRow,
    CrawlRun,
    DiscoveredSource,
    HttpValidator,
    PageError,
    RefusedPage,
    SourceMove,
    create_tables,
)

BUSY_TIMEOUT_MS = 30000  # how long a writer waits for another one before "database is locked"
BUSY_TIMEOUT_ENV = "UNIONFEED_STORE_BUSY_TIMEOUT"  # seconds, overriding BUSY_TIMEOUT_MS (tests, slow disks)
ABANDONED = "abandoned"  # finish reason of a run whose process died before it could record its end


@dataclass(frozen=True)
class UpsertResult:
    article_id: str
    status: str  # "new" | "updated" | "unchanged" | "foreign" (the URL is another source's article: not touched)
    canonical_ignored: bool = False  # the page's declared canonical is another source's article


@dataclass(frozen=True)
class Validators:
    """What a conditional request for one URL sends: its ETag / Last-Modified (and robots.txt's body)."""

    etag: str | None
    last_modified: str | None
    body: bytes | None = None


def content_hash(title: str | None, body: str) -> str:
    """Hash of the folded words of the body: spacing, case and tone placement do not change it."""
    words = fold(body or title or "").split()
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)


def busy_timeout_ms() -> int:
    """How long a writer waits for another: UNIONFEED_STORE_BUSY_TIMEOUT seconds, else BUSY_TIMEOUT_MS."""
    value = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not value:
        return BUSY_TIMEOUT_MS
    try:
        seconds = float(value)
    except ValueError:
        raise StoreError(f"{BUSY_TIMEOUT_ENV}={value!r} is not a number of seconds", "config") from None
    if not 0 <= seconds <= 3600:
        raise StoreError(f"{BUSY_TIMEOUT_ENV}={value!r} is not between 0 and 3600 seconds", "config")
    return int(seconds * 1000)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the publisher read while a crawl writes; busy_timeout waits instead of "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms()}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch to WAL (a no-op once the database is in it). Switching a new database needs an exclusive lock,
    and SQLite answers "database is locked" at once, without its busy timeout, while another process that
    opened the same new database holds any lock, so it is tried again for as long as the busy timeout."""
    deadline = monotonic() + busy_timeout_ms() / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or monotonic() > deadline:
                raise
            sleep(0.02)


# SQLite files this process has open through a Store, by (device, inode), with how many Stores hold each.
_OPEN_FILES: Counter[tuple[int, int]] = Counter()


class Store:
    """All reads and writes of articles, crawl runs and HTTP validators go through here; opening one creates
    every missing table (feed.store.schema).

    A store that cannot be used raises StoreError (feed.store.faults) with one plain line: from opening (damaged,
    truncated, locked, read-only, full disk) and from any transaction, which also first checks that the SQLite
    file is still the one opened (not deleted or replaced under the running process)."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, future=True)
        self.name = describe(self.engine.url)
        self._file: str | None = None
        self._identity: tuple[int, int] | None = None
        self._registered: tuple[int, int] | None = None  # counted in _OPEN_FILES until closed
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                self._file = database
                # The first command on a fresh data folder may be a publish or a status, not a crawl.
                try:
                    Path(database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(
                        f"the store {database} cannot be created: its folder cannot be made ({exc.strerror}):"
                        " create it, writable by this user, or point --data elsewhere",
                        "cannot_open",
                    ) from exc
                # Not on a file this process already has open: check_file's open()/close() would drop that
                # connection's POSIX locks (tests/test_store_locks.py). It was checked when first opened.
                if file_identity(database) not in _OPEN_FILES:
                    check_file(database)
            event.listen(self.engine, "connect", _sqlite_pragmas)
        with self._translated():
            create_tables(self.engine)
            # Search (feed.store.search): the index is built on first open, then kept current by every session.
            self.searchable = search.ensure_index(self.engine, self.name)
        if self._file is not None:
            self._identity = file_identity(self._file)
            if self._identity is not None:
                _OPEN_FILES[self._identity] += 1
                self._registered = self._identity
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        search.keep_current(self._sessions)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Driver errors meaning the store cannot be used become one StoreError line."""
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            failure = explain(exc, self.name, busy_timeout_ms() / 1000)
            if failure is None:
                raise
            self.engine.dispose()  # the connections may hold the deleted or damaged file open
            raise failure from exc

    def check_identity(self) -> None:
        """StoreError when the SQLite file opened was deleted or replaced since (a no-op for other databases)."""
        if self._file is not None and self._identity is not None:
            check_identity(self._file, self._identity)

    def check_writable(self) -> None:
        """Write to the store and commit (the schema version, set to what it is): StoreError when it is locked
        past the busy timeout, read-only, or on a full disk, before any work that would be lost."""
        self.check_identity()
        with self._translated(), self.engine.connect() as connection:
            if self.engine.dialect.name != "sqlite":
                connection.exec_driver_sql("SELECT 1")
                return
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                version = int(connection.exec_driver_sql("PRAGMA user_version").scalar() or 0)
                connection.exec_driver_sql(f"PRAGMA user_version={version}")
                connection.exec_driver_sql("COMMIT")
            except BaseException:
                with suppress(Exception):  # a failed COMMIT may have ended the transaction already
                    connection.exec_driver_sql("ROLLBACK")
                raise

    @contextmanager
    def session(self) -> Iterator[Session]:
        self.check_identity()
        with self._translated(), self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
        if self._registered is not None:
            _OPEN_FILES[self._registered] -= 1
            if _OPEN_FILES[self._registered] <= 0:
                del _OPEN_FILES[self._registered]
            self._registered = None

    # --- articles -------------------------------------------------------------------------------------
    def upsert(self, source_slug: str, art: Extracted, *, fetched_at: datetime | None = None) -> UpsertResult:
        """Insert or update one article by its own URL (canonical spelling), within its source; id and published
        time never change once set.

        The page's declared canonical (rel=canonical, og:url) is a hint, never the key: six pages declaring one
        canonical are six articles, and a page naming another source's article as canonical cannot overwrite it
        (`canonical_ignored` says so). A URL that is already another source's article (a redirect into it) is
        left alone: status "foreign". The classifier's verdict is not part of it: `save_meeting` files it after
        the article is stored."""
        with self.session() as s:
            return self.upsert_in(s, source_slug, art, fetched_at=fetched_at)

    def upsert_in(
        self,
        s: Session,
        source_slug: str,
        art: Extracted,
        *,
        fetched_at: datetime | None = None,
        batch: BatchRows | None = None,
    ) -> UpsertResult:
        """`upsert` inside a transaction the caller holds (`session()`): a batch of pages is stored, classified
        and clustered in one transaction (feed.ingest.ingest_batch). The row is then `s.get(ArticleRow, id)`.
        With `batch` (the session's autoflush off), the rows the batch wrote before are looked up there first and
        this one is added to it (feed.store.batch)."""
        fetched_at = fetched_at or now_utc()
        key = canonicalize_url(art.url)
        hint = canonicalize_url(art.canonical_url) if art.canonical_url else key
        digest = content_hash(art.title, art.body_text)
        mine = batch or BatchRows()  # (empty without a batch: the session flushes before each look-up)
        row = mine.by_url.get(key) or mine.stored_by_url(s, key)
        if row is None:  # same article under another scheme/edition
            row = mine.by_id.get(article_id(key)) or mine.stored_by_id(s, article_id(key))
        if row is None and hint != key:
            # Stored before articles were keyed by their own URL: under the canonical this very page declared.
            legacy = mine.by_url.get(hint) or mine.stored_by_url(s, hint)
            if legacy is not None and legacy.source_slug == source_slug and legacy.url == art.url:
                row = legacy
        foreign_hint = hint != key and bool(
            s.scalar(
                select(func.count())
                .select_from(ArticleRow)
                .where(ArticleRow.canonical_url == hint, ArticleRow.source_slug != source_slug)
            )
        )
        if row is not None and row.source_slug != source_slug:
            return UpsertResult(row.id, "foreign", foreign_hint)
        if row is None:
            row = ArticleRow(
                id=article_id(key),
                canonical_url=key,
                first_seen_at=fetched_at,
                changed_at=fetched_at,
                source_slug=source_slug,
                content_hash=digest,
            )
            self._fill(row, art, fetched_at)
            s.add(row)
            mine.upserted(row)
            return UpsertResult(row.id, "new", foreign_hint)
        changed = row.content_hash != digest or (row.title or "") != (art.title or "")
        if row.published_at is None and art.published_at is not None:
            row.published_at = art.published_at
            changed = True
        row.fetched_at = fetched_at
        if not changed:
            return UpsertResult(row.id, "unchanged", foreign_hint)
        keep_published = row.published_at
        self._fill(row, art, fetched_at)
        row.published_at = keep_published or art.published_at
        if row.content_hash != digest:
            row.changed_at = fetched_at
            row.content_hash = digest
        mine.upserted(row)
        return UpsertResult(row.id, "updated", foreign_hint)

    @staticmethod
    def _fill(row: ArticleRow, art: Extracted, fetched_at: datetime) -> None:
        row.url = art.url
        row.title = art.title
        row.lead = art.lead
        row.body_text = art.body_text
        row.author = art.author
        row.published_at = art.published_at
        row.updated_at = art.updated_at
        row.fetched_at = fetched_at
        row.language = art.language
        row.image_urls = list(art.image_urls)
        row.syndicated_from = art.syndicated_from
        row.method = art.method

    def save_meeting(self, article_id_: str, meeting: Meeting) -> None:
        """File the classifier's verdict on a stored article (nothing happens when it is not stored)."""
        self.save_meetings({article_id_: meeting})

    def save_meetings(self, verdicts: Mapping[str, Meeting]) -> None:
        """File several verdicts in one transaction."""
        if not verdicts:
            return
        with self.session() as s:
            for row in s.scalars(select(ArticleRow).where(ArticleRow.id.in_(list(verdicts)))):
                self._file_meeting(row, verdicts[row.id])

    def save_meeting_in(self, s: Session, article_id_: str, meeting: Meeting) -> None:
        """`save_meeting` inside a transaction the caller holds. An article `upsert_in` has just added (not yet
        flushed) gets its verdict before its INSERT: one statement (and one search-index write, one change
        number) instead of an INSERT flushed by the lookup and an UPDATE after it."""
        pending = (obj for obj in s.new if isinstance(obj, ArticleRow) and obj.id == article_id_)
        row = next(pending, None) or s.get(ArticleRow, article_id_)
        if row is not None:
            self._file_meeting(row, meeting)

    @staticmethod
    def _file_meeting(row: ArticleRow, meeting: Meeting) -> None:
        row.meeting = meeting.to_json()
        row.is_meeting_report = meeting.is_report
        row.meeting_kind = meeting.kind if meeting.is_report else None

    def known_urls(self, source_slug: str) -> set[str]:
        """Canonical URLs already stored for a source (the crawl skips these and stops listings at them)."""
        with self.session() as s:
            return set(s.scalars(select(ArticleRow.canonical_url).where(ArticleRow.source_slug == source_slug)))

    def articles(
        self,
        *,
        limit: int | None = None,
        source_slug: str | None = None,
        meetings_only: bool = False,
        kind: str | None = None,
    ) -> list[ArticleRow]:
        """Articles newest first (by published time, else first seen)."""
        order = func.coalesce(ArticleRow.published_at, ArticleRow.first_seen_at)
        query = select(ArticleRow).order_by(order.desc(), ArticleRow.id)
        if source_slug:
            query = query.where(ArticleRow.source_slug == source_slug)
        if meetings_only:
            query = query.where(ArticleRow.is_meeting_report.is_(True))
        if kind:
            query = query.where(ArticleRow.meeting_kind == kind)
        if limit:
            query = query.limit(limit)
        with self.session() as s:
            return list(s.scalars(query))

    def article_ids(self, since: datetime | None = None, slugs: Sequence[str] = ()) -> list[str]:
        """Ids of stored articles first seen or published at `since` or later (all when None), of these
        sources (all when none), newest first."""
        order = func.coalesce(ArticleRow.published_at, ArticleRow.first_seen_at)
        query = select(ArticleRow.id).order_by(order.desc(), ArticleRow.id)
        if since is not None:
            query = query.where(or_(ArticleRow.first_seen_at >= since, ArticleRow.published_at >= since))
        if slugs:
            query = query.where(ArticleRow.source_slug.in_(list(slugs)))
        with self.session() as s:
            return list(s.scalars(query))

    def articles_by_id(self, ids: Sequence[str]) -> list[ArticleRow]:
        """The stored articles of these ids, in the order given (unknown ids are left out)."""
        if not ids:
            return []
        with self.session() as s:
            rows = {row.id: row for row in s.scalars(select(ArticleRow).where(ArticleRow.id.in_(list(ids))))}
        return [rows[i] for i in ids if i in rows]

    def get(self, article_id_: str) -> ArticleRow | None:
        with self.session() as s:
            return s.get(ArticleRow, article_id_)

    def count(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(ArticleRow)) or 0)

    # --- crawl runs -----------------------------------------------------------------------------------
    def start_run(self, source_slug: str) -> int:
        """Record a crawl of this source starting; its earlier runs that never finished are marked abandoned."""
        now = now_utc()
        with self.session() as s:
            self._abandon_unfinished(s, source_slug, now)
            run = CrawlRun(source_slug=source_slug, started_at=now, stats={})
            s.add(run)
            s.flush()
            return run.id

    @staticmethod
    def _abandon_unfinished(s: Session, source_slug: str, now: datetime) -> None:
        """A run with no finish is one whose process died (kill -9, a crash, the machine stopping): it will never
        finish, so it is marked abandoned (health counts it neither way) with the articles it stored first seen.
        Should it still be alive after all (the same source crawled twice at once), its finish overwrites this."""
        stale = list(
            s.scalars(
                select(CrawlRun)
                .where(
                    CrawlRun.source_slug == source_slug,
                    CrawlRun.finished_at.is_(None),
                    CrawlRun.finish_reason.is_(None),
                )
                .order_by(CrawlRun.started_at)
            )
        )
        ends = [later.started_at for later in stale[1:]] + [now]  # each stored until the next one started
        for run, until in zip(stale, ends, strict=False):
            stored = s.scalar(
                select(func.count())
                .select_from(ArticleRow)
                .where(
                    ArticleRow.source_slug == source_slug,
                    ArticleRow.first_seen_at >= run.started_at,
                    ArticleRow.first_seen_at < until,
                )
            )
            run.finish_reason = ABANDONED
            run.new = int(stored or 0)
            run.stats = {**(run.stats or {}), "unionfeed/abandoned_seen_at": now.isoformat()}

    def finish_run(
        self, run_id: int, *, pages: int, new: int, updated: int, errors: int, finish_reason: str, stats: dict[str, Any]
    ) -> None:
        with self.session() as s:
            run = s.get(CrawlRun, run_id)
            if run is None:
                return
            run.finished_at = now_utc()
            run.pages, run.new, run.updated, run.errors = pages, new, updated, errors
            run.finish_reason = finish_reason
            run.stats = json.loads(json.dumps(stats, default=str))

    def record_error(self, source_slug: str, url: str, error: str, run_id: int | None = None) -> None:
        with self.session() as s:
            s.add(PageError(run_id=run_id, source_slug=source_slug, url=url, error=error[:2000], at=now_utc()))

    def page_errors(self, source_slug: str | None = None, limit: int = 500) -> list[PageError]:
        """The latest page errors, newest first."""
        query = select(PageError).order_by(PageError.id.desc()).limit(limit)
        if source_slug:
            query = query.where(PageError.source_slug == source_slug)
        with self.session() as s:
            return list(s.scalars(query))

    def runs(self, source_slug: str | None = None, limit: int = 50) -> list[CrawlRun]:
        query = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)
        if source_slug:
            query = query.where(CrawlRun.source_slug == source_slug)
        with self.session() as s:
            return list(s.scalars(query))

    def last_runs(self) -> dict[str, CrawlRun]:
        """The latest run of each source."""
        latest = select(func.max(CrawlRun.id)).group_by(CrawlRun.source_slug)
        with self.session() as s:
            return {r.source_slug: r for r in s.scalars(select(CrawlRun).where(CrawlRun.id.in_(latest)))}

    # --- HTTP validators (conditional requests of the crawl) ----------------------------------------------
    def load_validators(self, source_slug: str, fingerprint: str) -> dict[str, Validators]:
        """The validators remembered for a source's URLs (those of another discovery setup are ignored)."""
        query = select(HttpValidator).where(
            HttpValidator.source_slug == source_slug, HttpValidator.fingerprint == fingerprint
        )
        with self.session() as s:
            return {row.url: Validators(row.etag, row.last_modified, row.body) for row in s.scalars(query)}

    def save_validators(self, source_slug: str, fingerprint: str, found: Mapping[str, Validators]) -> None:
        """Insert or replace validators by URL."""
        if not found:
            return
        now = now_utc()
        with self.session() as s:
            for url, v in found.items():
                key = _validator_key(url)
                row = s.get(HttpValidator, key)
                if row is None:
                    row = HttpValidator(key=key, url=url)
                    s.add(row)
                row.source_slug, row.fingerprint = source_slug, fingerprint
                row.etag, row.last_modified, row.body, row.saved_at = v.etag, v.last_modified, v.body, now

    # --- pages the article judge refused (unionfeed_scrapers.judging) ------------------------------------------
    def save_refused(self, source_slug: str, urls: Sequence[str], reason: str) -> None:
        """Remember that these URLs (the link asked and where it led) gave a page that is not an article."""
        now = now_utc()
        with self.session() as s:
            for url in dict.fromkeys(canonicalize_url(u) for u in urls):
                row = s.get(RefusedPage, (source_slug, url))
                if row is None:
                    s.add(RefusedPage(source_slug=source_slug, url=url, reason=reason, at=now))
                else:
                    row.reason, row.at = reason, now

    def refused_urls(self, source_slug: str, since: datetime) -> set[str]:
        """Canonical URLs of the source's pages refused as not articles since `since`."""
        query = select(RefusedPage.url).where(RefusedPage.source_slug == source_slug, RefusedPage.at >= since)
        with self.session() as s:
            return set(s.scalars(query))

    # --- sites that moved (unionfeed_scrapers.moves) -------------------------------------------------------
    def save_move(self, source_slug: str, from_origin: str, to_url: str, homepage: str, keeps_paths: bool) -> None:
        """Remember (or refresh) that a source's site moved from one origin to a new host's path prefix."""
        now = now_utc()
        with self.session() as s:
            query = select(SourceMove).where(
                SourceMove.source_slug == source_slug, SourceMove.from_origin == from_origin
            )
            row = s.scalars(query).first()
            if row is None:
                row = SourceMove(source_slug=source_slug, from_origin=from_origin, found_at=now)
                s.add(row)
            row.to_url, row.homepage, row.keeps_paths, row.seen_at = to_url, homepage, keeps_paths, now

    def moves(self, source_slug: str) -> list[SourceMove]:
        """The moves remembered for a source, oldest first."""
        query = select(SourceMove).where(SourceMove.source_slug == source_slug).order_by(SourceMove.id)
        with self.session() as s:
            return list(s.scalars(query))

    # --- discovery of homepage-only sources ---------------------------------------------------------------
    def discovered(self, source_slug: str) -> DiscoveredSource | None:
        """What discovery last found for a source (None when it never ran for it)."""
        with self.session() as s:
            return s.get(DiscoveredSource, source_slug)

    def all_discovered(self) -> dict[str, DiscoveredSource]:
        with self.session() as s:
            return {row.source_slug: row for row in s.scalars(select(DiscoveredSource))}

    def save_discovered(
        self, source_slug: str, found: Mapping[str, Any] | None, *, worked: bool, at: datetime | None = None
    ) -> None:
        """Remember what discovery found afresh (`found` given), or only whether what was remembered worked in a
        crawl that used it (`found` None)."""
        at = at or now_utc()
        with self.session() as s:
            row = s.get(DiscoveredSource, source_slug)
            if found is None:
                if row is not None:
                    row.worked, row.used_at = worked, at
                return
            if row is None:
                row = DiscoveredSource(source_slug=source_slug)
                s.add(row)
            row.found = json.loads(json.dumps(dict(found), default=str))
            row.found_at = row.used_at = at
            row.worked = worked


def _validator_key(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8")).hexdigest()
