"""Every table of the store's database, on one Base, and the one call that creates them.

The tables of consumers (dedup's index, the publisher's feed identities, health events, the crawl's HTTP
validators) live here too, so a database opened by any command has all of them whatever was imported.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.schema import CreateIndex


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


# --- articles and crawls ------------------------------------------------------------------------------------
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


class HttpValidator(Base):
    """The ETag / Last-Modified a site gave for one URL (and robots.txt's body, replayed on 304)."""

    __tablename__ = "http_validators"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    source_slug: Mapped[str] = mapped_column(String(64), index=True)
    fingerprint: Mapped[str] = mapped_column(String(16))
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    saved_at: Mapped[datetime] = mapped_column(AwareDateTime)


# --- sites that moved (unionfeed_scrapers.moves) -------------------------------------------------------------
class SourceMove(Base):
    """A source whose whole site moved permanently (301/308) to another host: the new host, scoped to the path
    prefix it moved to, is part of the source's boundary in every later run until its entry is mended."""

    __tablename__ = "source_moves"
    __table_args__ = (UniqueConstraint("source_slug", "from_origin"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_slug: Mapped[str] = mapped_column(String(64), index=True)
    from_origin: Mapped[str] = mapped_column(String(300))  # the configured host it moved away from
    to_url: Mapped[str] = mapped_column(String(2048))  # the new host's scope: scheme, origin and path prefix
    homepage: Mapped[str] = mapped_column(String(2048))  # where the configured homepage now redirects
    keeps_paths: Mapped[bool] = mapped_column(Boolean, default=True)  # old path P lives at prefix + P
    found_at: Mapped[datetime] = mapped_column(AwareDateTime)
    seen_at: Mapped[datetime] = mapped_column(AwareDateTime)


class DiscoveredSource(Base):
    """What discovery found for a source given by its homepage alone (feed.discover.found.Summary as JSON), when,
    and whether it gave article links the last time a crawl used it."""

    __tablename__ = "discovered_sources"

    source_slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    found: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    found_at: Mapped[datetime] = mapped_column(AwareDateTime)  # when it was last discovered afresh
    used_at: Mapped[datetime] = mapped_column(AwareDateTime)  # when a crawl last used (or found) it
    worked: Mapped[bool] = mapped_column(Boolean, default=False)  # it gave article links (or a 304) that time


# --- pages the article judge refused (unionfeed_scrapers.judging) ---------------------------------------------
class RefusedPage(Base):
    """A URL of a source whose page the article judge refused (a menu, section, about or login page): the crawl
    does not ask it again for a while (`REFUSED_FOR` in unionfeed_scrapers.judging), then judges it afresh."""

    __tablename__ = "refused_pages"

    source_slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)  # canonical form (feed.lang.urls)
    reason: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(AwareDateTime, index=True)


# --- the near-duplicate index (feed.dedup.index) ------------------------------------------------------------
class DedupDoc(Base):
    """One fingerprinted article: its exact text hash and MinHash signature."""

    __tablename__ = "dedup_docs"

    article_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(32), index=True)
    n_words: Mapped[int] = mapped_column(Integer)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    facts: Mapped[bytes] = mapped_column(LargeBinary)
    claims: Mapped[bytes] = mapped_column(LargeBinary)


class DedupBand(Base):
    """One LSH bucket membership; the primary key (key, article_id) is the look-up index."""

    __tablename__ = "dedup_bands"
    __table_args__ = ({"sqlite_with_rowid": False},)

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[str] = mapped_column(String(32), primary_key=True)


# --- feed identities (feed.publish.guids) -------------------------------------------------------------------
class FeedIdentityRow(Base):
    """One issued story identity; `anchor_id` is the article the guid was issued for."""

    __tablename__ = "feed_identities"

    guid: Mapped[str] = mapped_column(String(80), primary_key=True)
    anchor_id: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    cluster_id: Mapped[str] = mapped_column(String(32), index=True)  # the story's cluster when last seen
    link: Mapped[str] = mapped_column(String(2048))
    published_at: Mapped[datetime] = mapped_column(AwareDateTime)
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime)
    issued_at: Mapped[datetime] = mapped_column(AwareDateTime, index=True)
    seen: Mapped[str] = mapped_column(String(128))  # "<canonical id>:<content hash>" last compared
    basis: Mapped[bytes] = mapped_column(LargeBinary)  # sampled 5-grams of the body updated_at stands for
    basis_hash: Mapped[str] = mapped_column(String(32))


# --- health (feed.health) -----------------------------------------------------------------------------------
class HealthEvent(Base):
    """A source breaking or recovering; each is announced once in feeds/health.atom."""

    __tablename__ = "health_events"
    __table_args__ = (UniqueConstraint("source_slug", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_slug: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # per source; the unique pair stops two writers announcing twice
    at: Mapped[datetime] = mapped_column(AwareDateTime, index=True)
    state: Mapped[str] = mapped_column(
        String(16)
    )  # broken | stale (ok, selectors flagged) | skipping (ok, non-articles skipped) | ok
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    capture: Mapped[str | None] = mapped_column(Text)  # folder of the pages saved when it broke


# The newest articles, in the order every listing of them uses (published, else first seen): the publisher reads
# the newest articles of the store, of a source, of a kind (feed.publish.selection) through these, without
# reading every row.
SHOWN = func.coalesce(ArticleRow.published_at, ArticleRow.first_seen_at)
SHOWN_INDEXES = (
    Index("ix_articles_shown", SHOWN),
    Index("ix_articles_source_shown", ArticleRow.source_slug, SHOWN),
    Index("ix_articles_report_shown", ArticleRow.is_meeting_report, SHOWN),
    Index("ix_articles_kind_shown", ArticleRow.meeting_kind, SHOWN),
)


def _create(connection: Any) -> None:
    """The missing tables, and the indexes above on a table created before them."""
    Base.metadata.create_all(connection, tables=Base.metadata.sorted_tables)
    for index in SHOWN_INDEXES:  # expression indexes cannot be reflected: IF NOT EXISTS instead of checkfirst
        connection.execute(CreateIndex(index, if_not_exists=True))


# The PostgreSQL advisory lock held while tables are created (any fixed number; "unionfeed" in ASCII).
CREATE_LOCK = 0x756E696F6E66


def create_tables(engine: Engine) -> None:
    """Create the missing tables. Processes starting on a new database at the same moment would each find a
    table missing and all but one fail to create it ("already exists" on SQLite, a duplicate key in
    pg_type on PostgreSQL), so the check and the creation happen under a lock: SQLite's write lock, or on
    PostgreSQL a transaction-level advisory lock (DDL is transactional there, so the others wait, then find
    every table). Other engines create them as SQLAlchemy does."""
    wanted = Base.metadata.sorted_tables
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            if all(engine.dialect.has_table(connection, table.name) for table in wanted):
                return
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CREATE_LOCK})
            _create(connection)
        return
    if engine.dialect.name != "sqlite":
        Base.metadata.create_all(engine)
        return
    with engine.connect() as connection:
        if all(engine.dialect.has_table(connection, table.name) for table in wanted):
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # waits (busy_timeout) while another process creates them
        _create(connection)
        connection.exec_driver_sql("COMMIT")


# --- change tracking (feed.store.changes) ---------------------------------------------------------------------
class ArticleChange(Base):
    """The last change of one article (inserted, updated or deleted): a number from ChangeCounter, so that a
    reader asks for what changed after the number it last saw (the publisher, feed.publish.incremental)."""

    __tablename__ = "article_changes"

    article_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)


class ChangeCounter(Base):
    """One row: the last change number handed out. Its row lock orders writers on PostgreSQL, so numbers are
    committed in increasing order and a reader never skips one still uncommitted below what it saw."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)


# --- the publisher's state (feed.publish.incremental) ----------------------------------------------------------
class PublishedRecord(Base):
    """What the last publish into one folder said of one article: its snapshot record's fingerprint and cluster."""

    __tablename__ = "published_records"

    folder: Mapped[str] = mapped_column(String(32), primary_key=True)  # feed.publish.incremental.folder_key
    article_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32))
    cluster_id: Mapped[str] = mapped_column(String(32))


class PublishState(Base):
    """Small named JSON values the publisher keeps between runs for one folder (cursor, change files, feed
    signatures)."""

    __tablename__ = "publish_state"

    folder: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
