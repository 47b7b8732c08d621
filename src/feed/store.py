"""The article store: SQLAlchemy over SQLite by default (any SQLAlchemy URL works), upsert by canonical URL."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic, sleep
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from feed.dates import VN_TZ
from feed.models import Extracted, Meeting
from feed.text import fold
from feed.urls import article_id, canonicalize_url

BUSY_TIMEOUT_MS = 30000  # how long a writer waits for another one before "database is locked"
ABANDONED = "abandoned"  # finish reason of a run whose process died before it could record its end


class AwareDateTime(TypeDecorator[datetime]):
    """Stores tz-aware datetimes as UTC and hands them back tz-aware (SQLite keeps no offset itself)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused by the store: attach a timezone first")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    pass


class ArticleRow(Base):
    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True, index=True)
    url: Mapped[str] = mapped_column(String(2048))
    source_slug: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    lead: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(512))
    published_at: Mapped[datetime | None] = mapped_column(AwareDateTime, index=True)
    updated_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    fetched_at: Mapped[datetime] = mapped_column(AwareDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(AwareDateTime, index=True)
    changed_at: Mapped[datetime] = mapped_column(AwareDateTime, index=True)
    language: Mapped[str] = mapped_column(String(8), default="vi")
    image_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    syndicated_from: Mapped[str | None] = mapped_column(String(512))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str] = mapped_column(String(16), default="generic")
    cluster_id: Mapped[str | None] = mapped_column(String(32), index=True)
    is_canonical: Mapped[bool] = mapped_column(Boolean, default=True)
    meeting: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_meeting_report: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    meeting_kind: Mapped[str | None] = mapped_column(String(32), index=True)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_slug: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(AwareDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(AwareDateTime)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    finish_reason: Mapped[str | None] = mapped_column(String(64))
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PageError(Base):
    __tablename__ = "page_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    source_slug: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    error: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(AwareDateTime)


@dataclass(frozen=True)
class UpsertResult:
    article_id: str
    status: str  # "new" | "updated" | "unchanged"


def content_hash(title: str | None, body: str) -> str:
    """Hash of the folded words of the body: spacing, case and tone placement do not change it."""
    words = fold(body or title or "").split()
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the publisher read while a crawl writes; busy_timeout waits instead of "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch to WAL (a no-op once the database is in it). Switching a new database needs an exclusive lock,
    and SQLite answers "database is locked" at once, without its busy timeout, while another process that
    opened the same new database holds any lock, so it is tried again for as long as the busy timeout."""
    deadline = monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or monotonic() > deadline:
                raise
            sleep(0.02)


def create_tables(engine: Engine, tables: Sequence[Table] | None = None) -> None:
    """Create the missing tables (all the models know of, or these). Processes starting on a new database at
    the same moment would each find a table missing and all but one fail to create it ("already exists"), so
    on SQLite the check and the creation happen under the database's write lock."""
    if engine.dialect.name != "sqlite":
        Base.metadata.create_all(engine, tables=tables)
        return
    wanted = list(tables) if tables is not None else Base.metadata.sorted_tables
    with engine.connect() as connection:
        if all(engine.dialect.has_table(connection, table.name) for table in wanted):
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # waits (busy_timeout) while another process creates them
        Base.metadata.create_all(connection, tables=wanted)
        connection.exec_driver_sql("COMMIT")


class Store:
    """All reads and writes of articles and crawl runs go through here."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                # The first command on a fresh data folder may be a publish or a status, not a crawl.
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            event.listen(self.engine, "connect", _sqlite_pragmas)
        create_tables(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # --- articles -------------------------------------------------------------------------------------
    def upsert(
        self, source_slug: str, art: Extracted, meeting: Meeting, *, fetched_at: datetime | None = None
    ) -> UpsertResult:
        """Insert or update one article by canonical URL; id and published time never change once set."""
        fetched_at = fetched_at or now_utc()
        canonical = canonicalize_url(art.canonical_url or art.url)
        digest = content_hash(art.title, art.body_text)
        with self.session() as s:
            row = s.scalar(select(ArticleRow).where(ArticleRow.canonical_url == canonical))
            if row is None:
                row = s.get(ArticleRow, article_id(canonical))  # same article under another scheme/edition
            if row is None:
                row = ArticleRow(
                    id=article_id(canonical), canonical_url=canonical, first_seen_at=fetched_at,
                    changed_at=fetched_at, source_slug=source_slug, content_hash=digest,
                )
                self._fill(row, art, meeting, fetched_at)
                s.add(row)
                return UpsertResult(row.id, "new")
            changed = row.content_hash != digest or (row.title or "") != (art.title or "")
            if row.published_at is None and art.published_at is not None:
                row.published_at = art.published_at
                changed = True
            row.fetched_at = fetched_at
            if not changed:
                return UpsertResult(row.id, "unchanged")
            keep_published = row.published_at
            self._fill(row, art, meeting, fetched_at)
            row.published_at = keep_published or art.published_at
            if row.content_hash != digest:
                row.changed_at = fetched_at
                row.content_hash = digest
            return UpsertResult(row.id, "updated")

    @staticmethod
    def _fill(row: ArticleRow, art: Extracted, meeting: Meeting, fetched_at: datetime) -> None:
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
        row.meeting = meeting.to_json()
        row.is_meeting_report = meeting.is_report
        row.meeting_kind = meeting.kind if meeting.is_report else None

    def known_urls(self, source_slug: str) -> set[str]:
        """Canonical URLs already stored for a source (the crawl skips these and stops listings at them)."""
        with self.session() as s:
            return set(s.scalars(select(ArticleRow.canonical_url).where(ArticleRow.source_slug == source_slug)))

    def articles(self, *, limit: int | None = None, source_slug: str | None = None,
                 meetings_only: bool = False, kind: str | None = None) -> list[ArticleRow]:
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
        stale = list(s.scalars(select(CrawlRun).where(
            CrawlRun.source_slug == source_slug, CrawlRun.finished_at.is_(None), CrawlRun.finish_reason.is_(None),
        ).order_by(CrawlRun.started_at)))
        ends = [later.started_at for later in stale[1:]] + [now]  # each stored until the next one started
        for run, until in zip(stale, ends, strict=False):
            stored = s.scalar(select(func.count()).select_from(ArticleRow).where(
                ArticleRow.source_slug == source_slug, ArticleRow.first_seen_at >= run.started_at,
                ArticleRow.first_seen_at < until))
            run.finish_reason = ABANDONED
            run.new = int(stored or 0)
            run.stats = {**(run.stats or {}), "unionfeed/abandoned_seen_at": now.isoformat()}

    def finish_run(self, run_id: int, *, pages: int, new: int, updated: int, errors: int,
                   finish_reason: str, stats: dict[str, Any]) -> None:
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


def local_time(value: datetime | None) -> datetime | None:
    """A stored (UTC) datetime shown in Vietnam time."""
    return value.astimezone(VN_TZ) if value else None
