"""Full-text search of stored articles, blind to case and diacritics: "dai hoi cong doan" finds "Đại hội Công đoàn".

The index is one table beside the articles, `article_search`, kept current by every session of a Store (an
after-flush hook: an article inserted, or its title, lead, body or meeting facts changed, is indexed again in the
same transaction) and built from the stored articles the first time a store is opened without it (`ensure_index`,
the migration of a store made before search existed).

- SQLite: an FTS5 table, `tokenize = "unicode61 remove_diacritics 2"` (case and every combining mark folded by
  the tokenizer). Unicode gives đ no decomposition, so the tokenizer keeps it: đ/Đ is folded to d here
  (feed.lang.text.fold_d) in the indexed text, and the query is folded the same way (strip_accents).
- PostgreSQL: a table of `tsvector`s made with the `simple` configuration over `unaccent(...)` of the text, with
  GIN indexes. The extension is created when missing (CREATE EXTENSION unaccent); when it cannot be, the store
  still works and search says so in one line (`SearchError`).

Text words are ANDed; `org` is a phrase matched in the meeting's organiser; kind, sources and since filter the
articles table. Results are newest first (published, else first seen), one per story (dedup cluster), bounded.
Searching is read-only: PostgreSQL transactions are READ ONLY, and `open_reader` opens a SQLite file with
mode=ro, which is how the server (feed.serve.query) reaches the store.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, inspect, or_, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from feed.lang.text import fold_d, nfc, strip_accents
from feed.store.schema import CREATE_LOCK, ArticleRow, FeedIdentityRow

TABLE = "article_search"
MAX_LIMIT = 200  # results of one search, whatever is asked
MAX_WORDS = 16  # words of a query (a longer one is refused, not cut)
MAX_QUERY_CHARS = 200
INDEX_MAX_CHARS = 200_000  # of each text indexed (feed.extract.bounds keeps bodies to this length too)
INDEXED = ("title", "lead", "body_text", "meeting")  # the attributes whose change re-indexes an article
GUID_PREFIX = "urn:unionfeed:"  # as feed.publish.feed_writer: a story no feed has shown yet gets this + its id
_WORD = re.compile(r"\w+")
_BATCH = 500
_SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5("
    "article_id UNINDEXED, title, lead, body, org, tokenize = 'unicode61 remove_diacritics 2')"
)
_PG_DDL = (
    f"CREATE TABLE {TABLE} (article_id varchar(32) PRIMARY KEY, doc tsvector NOT NULL, org tsvector NOT NULL)",
    f"CREATE INDEX {TABLE}_doc ON {TABLE} USING gin (doc)",
    f"CREATE INDEX {TABLE}_org ON {TABLE} USING gin (org)",
)


class SearchError(RuntimeError):
    """Search cannot run here (no index, no unaccent): one plain line saying why and what to do."""


def unaccent_missing(database: str, reason: str) -> SearchError:
    return SearchError(
        f"search needs the PostgreSQL extension unaccent in {database}, and it cannot be created ({reason}): "
        "ask a superuser to run CREATE EXTENSION unaccent; in that database (Debian: postgresql-contrib)"
    )


@dataclass(frozen=True)
class SearchQuery:
    """What to look for. `sources` None means every source; an empty tuple means none (a province without one).
    `stories`, when given, looks only among the articles with these ids and those of the clusters with these ids
    (at most MAX_LIMIT names): how alerts ask which of a few new reports a saved query finds (feed.alerts.matching)."""

    text: str = ""
    kind: str | None = None
    sources: tuple[str, ...] | None = None
    org: str | None = None
    since: datetime | None = None
    limit: int = 50
    stories: tuple[str, ...] | None = None

    def problem(self) -> str | None:
        """What is wrong with this query, in one line, or None."""
        for name, value in (("query", self.text), ("org", self.org or "")):
            if len(value) > MAX_QUERY_CHARS:
                return f"{name} is longer than {MAX_QUERY_CHARS} characters"
            if len(words(value)) > MAX_WORDS:
                return f"{name} has more than {MAX_WORDS} words"
        if self.org is not None and not words(self.org):
            return "org has no letters or digits"
        if not 1 <= self.limit <= MAX_LIMIT:
            return f"limit must be between 1 and {MAX_LIMIT}, got {self.limit}"
        if self.since is not None and self.since.tzinfo is None:
            return "since needs a timezone"
        if self.stories is not None and len(self.stories) > MAX_LIMIT:
            return f"stories names more than {MAX_LIMIT} stories"
        return None


@dataclass(frozen=True)
class Hit:
    """One story found: its article's stored values and, once a feed showed it, its feed identity."""

    article_id: str
    url: str
    title: str
    lead: str
    source_slug: str
    shown_at: datetime  # published, else first seen
    changed_at: datetime
    first_seen_at: datetime
    kind: str | None
    is_report: bool
    meeting: dict[str, Any]
    cluster_id: str
    guid: str  # the story's feed guid (feed.publish.guids), else GUID_PREFIX + the article id


def words(query: str) -> list[str]:
    """The words of a query, folded as the index is: lower case, no diacritics, đ as d."""
    return _WORD.findall(strip_accents(nfc(query)))


def _rowid(article_id: str) -> int:
    """A stable 63-bit FTS5 rowid for an article id (so an update deletes by rowid, not by a scan)."""
    return int.from_bytes(hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def _org(meeting: Any) -> str:
    return str(meeting.get("org") or "") if isinstance(meeting, dict) else ""


def _texts(title: str | None, lead: str | None, body: str | None, meeting: Any) -> tuple[str, str, str, str]:
    """The indexed texts: NFC with đ folded (the database folds case and every other diacritic), each cut at
    INDEX_MAX_CHARS so no text, however odd, can make a tsvector too long and fail the article's transaction."""
    values = (title, lead, body, _org(meeting))
    return tuple(fold_d(nfc((value or "")[:INDEX_MAX_CHARS])) for value in values)  # type: ignore[return-value]


# --- the index's existence, creation and migration -----------------------------------------------------------
def has_index(connection: Connection) -> bool:
    return bool(connection.dialect.has_table(connection, TABLE))


def unaccent_function(connection: Connection, database: str = "the database", *, create: bool = True) -> str:
    """The schema-qualified unaccent function (PostgreSQL), created when missing and `create`; SearchError when it
    cannot be."""
    found = connection.execute(
        text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent'"
        )
    ).scalar()
    if found is None and not create:
        raise unaccent_missing(database, "it is not installed, and searching never changes the store")
    if found is None:
        try:
            with connection.begin_nested():
                connection.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent"))
        except Exception as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise unaccent_missing(database, reason) from exc
        return unaccent_function(connection, database)
    return f'"{found}".unaccent'


def ensure_index(engine: Engine, database: str = "the database") -> bool:
    """Create the index when the store has none, filled from every stored article (the migration of a store
    made before search). True when the index exists afterwards; on PostgreSQL without unaccent, False (the store
    works, search says why). Made under the same lock as the tables, so two processes opening one store build it
    once."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            if has_index(connection):
                return True
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CREATE_LOCK})
            if has_index(connection):
                return True
            try:
                unaccent = unaccent_function(connection, database)
            except SearchError:
                return False
            for ddl in _PG_DDL:
                connection.execute(text(ddl))
            _fill(connection, unaccent)
        return True
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as connection:
        if has_index(connection):
            return True
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            if not has_index(connection):
                connection.exec_driver_sql(_SQLITE_DDL)
                _fill(connection, None)
            connection.exec_driver_sql("COMMIT")
        except BaseException:
            connection.exec_driver_sql("ROLLBACK")
            raise
    return True


def _fill(connection: Connection, unaccent: str | None) -> None:
    rows = connection.execute(
        select(ArticleRow.id, ArticleRow.title, ArticleRow.lead, ArticleRow.body_text, ArticleRow.meeting)
    )
    while batch := rows.fetchmany(_BATCH):
        _write(connection, [(r[0], *_texts(r[1], r[2], r[3], r[4])) for r in batch], unaccent, fresh=True)


def _write(
    connection: Connection, entries: Sequence[tuple[str, str, str, str, str]], unaccent: str | None, *, fresh: bool
) -> None:
    if not entries:
        return
    if unaccent is None:  # SQLite
        params = [
            {"r": _rowid(i), "i": i, "t": title, "l": lead, "b": body, "o": org}
            for i, title, lead, body, org in entries
        ]
        # An article indexed before (an update) has its row replaced: FTS5 removes the old row's words under
        # REPLACE as under DELETE, in one statement; a new article's row is only inserted (its rowid is new).
        verb = "INSERT" if fresh else "INSERT OR REPLACE"
        connection.execute(
            text(f"{verb} INTO {TABLE} (rowid, article_id, title, lead, body, org) VALUES (:r, :i, :t, :l, :b, :o)"),
            params,
        )
        return
    connection.execute(
        text(
            f"INSERT INTO {TABLE} (article_id, doc, org) VALUES "
            f"(:i, to_tsvector('simple', {unaccent}(:d)), to_tsvector('simple', {unaccent}(:o))) "
            "ON CONFLICT (article_id) DO UPDATE SET doc = EXCLUDED.doc, org = EXCLUDED.org"
        ),
        [{"i": i, "d": "\n".join((title, lead, body, org)), "o": org} for i, title, lead, body, org in entries],
    )


def _delete(connection: Connection, ids: Sequence[str]) -> None:
    if connection.dialect.name == "sqlite":
        connection.execute(text(f"DELETE FROM {TABLE} WHERE rowid = :r"), [{"r": _rowid(i)} for i in ids])
    else:
        connection.execute(text(f"DELETE FROM {TABLE} WHERE article_id = :i"), [{"i": i} for i in ids])


# --- kept current by ingest ------------------------------------------------------------------------------------
def _text_changed(row: ArticleRow) -> bool:
    state = inspect(row)
    return state.pending or any(state.attrs[name].history.has_changes() for name in INDEXED)


def _after_flush(session: Session, _context: Any) -> None:
    changed = {r.id: r for r in chain(session.new, session.dirty) if isinstance(r, ArticleRow) and _text_changed(r)}
    gone = [r.id for r in session.deleted if isinstance(r, ArticleRow)]
    if not changed and not gone:
        return
    connection = session.connection()
    if connection.dialect.name not in ("sqlite", "postgresql") or not has_index(connection):
        return  # PostgreSQL without unaccent: the index is built from every article once it can be
    unaccent = unaccent_function(connection) if connection.dialect.name == "postgresql" else None
    if gone:
        _delete(connection, gone)
    # Rows inserted by this flush have no index entry yet (a deleted article's entry went with it, above); rows
    # updated by it have one, which is replaced.
    for fresh in (True, False):
        entries = [
            (i, *_texts(r.title, r.lead, r.body_text, r.meeting))
            for i, r in changed.items()
            if (r in session.new) is fresh
        ]
        _write(connection, entries, unaccent, fresh=fresh)


def keep_current(sessions: sessionmaker[Session]) -> None:
    """Index every article the sessions insert or change, in their own transaction."""
    event.listen(sessions, "after_flush", _after_flush)


# --- searching --------------------------------------------------------------------------------------------------
def open_reader(url: str) -> Engine:
    """An engine that can only read the store at `url` (a SQLite file opened mode=ro; PostgreSQL as given, each
    search in a READ ONLY transaction). Nothing is created: SearchError when the file does not exist."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, future=True, pool_pre_ping=True)
    database = parsed.database or ""
    if not database or database == ":memory:" or not Path(database).is_file():
        raise SearchError(f"no store at {database or url}: crawl first (unionfeed crawl), or give --data")
    uri = f"file:{Path(database).resolve().as_posix()}?mode=ro"
    return create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
        future=True,
    )


def _match(query: SearchQuery) -> str:
    """The FTS5 MATCH expression: every word (quoted, so nothing is syntax), and the organiser as a phrase."""
    parts = [f'"{w}"' for w in words(query.text)]
    if query.org:
        parts.append('org : "' + " ".join(words(query.org)) + '"')
    return " AND ".join(parts)


def search(engine: Engine, query: SearchQuery, database: str = "the database") -> list[Hit]:
    """The stories matching `query`, newest first, one per dedup cluster, at most query.limit (≤ MAX_LIMIT)."""
    problem = query.problem()
    if problem:
        raise ValueError(problem)
    if (query.sources is not None and not query.sources) or (query.stories is not None and not query.stories):
        return []
    shown = func.coalesce(ArticleRow.published_at, ArticleRow.first_seen_at)
    stmt = select(
        ArticleRow.id,
        ArticleRow.url,
        ArticleRow.title,
        ArticleRow.lead,
        ArticleRow.source_slug,
        ArticleRow.published_at,
        ArticleRow.first_seen_at,
        ArticleRow.changed_at,
        ArticleRow.meeting_kind,
        ArticleRow.is_meeting_report,
        ArticleRow.meeting,
        ArticleRow.cluster_id,
        ArticleRow.is_canonical,
    ).order_by(shown.desc(), ArticleRow.id)
    if query.kind:
        stmt = stmt.where(ArticleRow.meeting_kind == query.kind, ArticleRow.is_meeting_report.is_(True))
    if query.sources is not None:
        stmt = stmt.where(ArticleRow.source_slug.in_(list(query.sources)))
    if query.since is not None:
        stmt = stmt.where(shown >= query.since)
    wanted = min(query.limit, MAX_LIMIT)
    if query.stories is not None:  # bounded by the members of the stories named: no story is cut off
        named = list(query.stories)
        stmt = stmt.where(or_(ArticleRow.cluster_id.in_(named), ArticleRow.id.in_(named)))
    else:
        stmt = stmt.limit(wanted * 4)  # room for the other members of the stories found
    with engine.connect() as connection, connection.begin():
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SET TRANSACTION READ ONLY"))
        if not has_index(connection):
            if postgres:
                unaccent_function(connection, database, create=False)  # says why when unaccent is the reason
            raise SearchError(f"{database} has no search index yet: open it once with a crawl or `unionfeed search`")
        if words(query.text) or query.org:
            if postgres:
                unaccent = unaccent_function(connection, database, create=False)
                conditions, params = [], {}
                if words(query.text):
                    conditions.append(f"doc @@ plainto_tsquery('simple', {unaccent}(:q))")
                    params["q"] = " ".join(words(query.text))
                if query.org:
                    conditions.append(f"org @@ phraseto_tsquery('simple', {unaccent}(:o))")
                    params["o"] = " ".join(words(query.org))
                found = f"SELECT article_id FROM {TABLE} WHERE " + " AND ".join(conditions)
                stmt = stmt.where(text(f"articles.id IN ({found})").bindparams(**params))
            else:
                found = f"SELECT article_id FROM {TABLE} WHERE {TABLE} MATCH :m"
                stmt = stmt.where(text(f"articles.id IN ({found})").bindparams(m=_match(query)))
        rows = connection.execute(stmt).all()
        stories: dict[str, Any] = {}
        for row in rows:  # a story keeps the place of its newest match, shown by its canonical article (as in feeds)
            key = row.cluster_id or row.id
            if key not in stories or (row.is_canonical and not stories[key].is_canonical):
                stories[key] = row
        chosen = list(stories.items())[:wanted]
        guids = _guids(connection, [key for key, _ in chosen], [row.id for _, row in chosen])
    return [
        Hit(
            article_id=row.id,
            url=row.url,
            title=row.title or "",
            lead=row.lead or "",
            source_slug=row.source_slug,
            shown_at=row.published_at or row.first_seen_at,
            changed_at=row.changed_at,
            first_seen_at=row.first_seen_at,
            kind=row.meeting_kind if row.is_meeting_report else None,
            is_report=bool(row.is_meeting_report),
            meeting=row.meeting if isinstance(row.meeting, dict) else {},
            cluster_id=key,
            guid=guids.get(key) or guids.get(row.id) or f"{GUID_PREFIX}{row.id}",
        )
        for key, row in chosen
    ]


def _guids(connection: Connection, clusters: Iterable[str], ids: Iterable[str]) -> dict[str, str]:
    """The issued feed guid of each story, by cluster id and by anchor article id."""
    clusters, ids = list(clusters), list(ids)
    if not clusters:
        return {}
    found: dict[str, str] = {}
    for guid, cluster, anchor in connection.execute(
        select(FeedIdentityRow.guid, FeedIdentityRow.cluster_id, FeedIdentityRow.anchor_id).where(
            or_(FeedIdentityRow.cluster_id.in_(clusters), FeedIdentityRow.anchor_id.in_(ids))
        )
    ):
        found.setdefault(cluster, guid)
        found.setdefault(anchor, guid)
    return found
