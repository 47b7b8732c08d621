"""The publisher's read of the store: every article as a light, read-only row, fast enough for 10,000 a run.

The ORM builds one tracked object per article and parses each date through SQLAlchemy's type machinery; the
publisher needs neither (it never writes articles), and at 10,000 articles that costs most of a second.
This reads the columns with one plain query and parses them itself, leaving the bodies (most of the bytes)
in the database until a feed or a record that shows them is actually rendered (`prefetch_bodies`). Rows
behave like ArticleRow for every attribute the publisher reads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from feed.store.api import ArticleRow, Store

COLUMNS = (
    "id",
    "url",
    "canonical_url",
    "source_slug",
    "title",
    "lead",
    "author",
    "published_at",
    "updated_at",
    "fetched_at",
    "first_seen_at",
    "changed_at",
    "language",
    "image_urls",
    "syndicated_from",
    "content_hash",
    "cluster_id",
    "is_canonical",
    "meeting",
    "is_meeting_report",
    "meeting_kind",
)
BODY_BATCH = 500


class Bodies:
    """Loads article bodies from the store on demand, many at a time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load(self, rows: Iterable[PubRow]) -> None:
        """Fill in the body of every row that has none yet."""
        missing = {r.id: r for r in rows if r._body is None}
        ids = list(missing)
        with self.store.engine.connect() as conn:
            for start in range(0, len(ids), BODY_BATCH):
                query = select(ArticleRow.id, ArticleRow.body_text).where(
                    ArticleRow.id.in_(ids[start : start + BODY_BATCH])
                )
                for article_id, body in conn.execute(query):
                    missing[article_id]._body = body or ""
        for row in missing.values():
            if row._body is None:
                row._body = ""  # deleted since the rows were read


@dataclass(slots=True)
class PubRow:
    """One stored article, as the publisher reads it."""

    id: str
    url: str
    canonical_url: str
    source_slug: str
    title: str | None
    lead: str | None
    author: str | None
    published_at: datetime | None
    updated_at: datetime | None
    fetched_at: datetime
    first_seen_at: datetime
    changed_at: datetime
    language: str
    image_urls: list[str]
    syndicated_from: str | None
    content_hash: str
    cluster_id: str | None
    is_canonical: bool
    meeting_raw: Any  # JSON text (SQLite) or already a dict (other databases); parsed on first use
    is_meeting_report: bool
    meeting_kind: str | None
    _sig: str | None  # see `sig`; None: worked out from `raw` on first use
    bodies: Bodies
    _meeting: dict[str, Any] | None = None
    _body: str | None = None
    raw: tuple[Any, ...] = ()  # the stored values, as read

    @property
    def sig(self) -> str:
        """A digest of every stored value: changes whenever anything shown of the row changes. Worked out on first
        use: a first publish reads every article, and most are shown in no feed."""
        if self._sig is None:
            # The raw values say everything a feed entry or a record shows; the body is not among them because the
            # store changes it only together with content_hash (see Store.upsert), which is.
            self._sig = hashlib.blake2b(repr(self.raw).encode("utf-8"), digest_size=10).hexdigest()
        return self._sig

    @property
    def meeting(self) -> dict[str, Any]:
        """The stored meeting facts."""
        if self._meeting is None:
            self._meeting = _json(self.meeting_raw, {})
        return self._meeting

    @property
    def body_text(self) -> str:
        """The body, read from the store on first use (prefetch_bodies reads many at once)."""
        if self._body is None:
            self.bodies.load([self])
        return self._body or ""

    @property
    def shown_at(self) -> datetime:
        """The time feeds sort by: published, else first seen."""
        return self.published_at or self.first_seen_at


def prefetch_bodies(rows: Iterable[PubRow]) -> None:
    """Read the bodies of these rows in a few queries instead of one each."""
    pending = [r for r in rows if r._body is None]
    if pending:
        pending[0].bodies.load(pending)


def _date(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    return _aware(value)


def _aware(value: Any) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    # The store keeps UTC without an offset on SQLite (see AwareDateTime); other databases may keep one.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _json(value: Any, empty: Any) -> Any:
    if value is None or value == "[]":
        return empty
    return json.loads(value) if isinstance(value, str | bytes) else value


def _row(values: tuple[Any, ...], bodies: Bodies) -> PubRow:
    (
        id_,
        url,
        canonical_url,
        source_slug,
        title,
        lead,
        author,
        published_at,
        updated_at,
        fetched_at,
        first_seen_at,
        changed_at,
        language,
        image_urls,
        syndicated_from,
        content_hash,
        cluster_id,
        is_canonical,
        meeting,
        is_meeting_report,
        meeting_kind,
    ) = values
    return PubRow(
        id_,
        url,
        canonical_url,
        source_slug,
        title,
        lead,
        author,
        _date(published_at),
        _date(updated_at),
        _aware(fetched_at),
        _aware(first_seen_at),
        _aware(changed_at),
        language or "vi",
        _json(image_urls, []),
        syndicated_from,
        content_hash,
        cluster_id,
        True if is_canonical is None else bool(is_canonical),
        meeting,
        bool(is_meeting_report),
        meeting_kind,
        None,
        bodies,
        raw=values,
    )


def load_rows(store: Store) -> list[PubRow]:
    """Every article without its body, newest first (published, else first seen; ties by id)."""
    bodies = Bodies(store)
    with store.engine.connect() as conn:
        cursor = conn.connection.cursor()  # the driver's own cursor: fetchall() in C, no Row objects
        try:
            cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM articles")
            rows = [_row(tuple(r), bodies) for r in cursor.fetchall()]
        finally:
            cursor.close()
    rows.sort(key=lambda r: r.id)
    rows.sort(key=lambda r: r.shown_at, reverse=True)
    return rows
