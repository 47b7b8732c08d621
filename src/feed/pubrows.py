"""The publisher's read of the store: every article as a light, read-only row, fast enough for 10,000 a run.

The ORM builds one tracked object per article and parses each date through SQLAlchemy's type machinery; the
publisher needs neither (it never writes articles), and at 10,000 articles that costs most of a second.
This reads the same columns with one plain query and parses them itself; rows behave like ArticleRow for
every attribute the publisher and feed.identity read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from feed.store import Store

COLUMNS = ("id", "url", "canonical_url", "source_slug", "title", "lead", "body_text", "author", "published_at",
           "updated_at", "fetched_at", "first_seen_at", "changed_at", "language", "image_urls", "syndicated_from",
           "content_hash", "cluster_id", "is_canonical", "meeting", "is_meeting_report", "meeting_kind")
_DATES = ("published_at", "updated_at", "fetched_at", "first_seen_at", "changed_at")


@dataclass(slots=True)
class PubRow:
    """One stored article, as the publisher reads it."""

    id: str
    url: str
    canonical_url: str
    source_slug: str
    title: str | None
    lead: str | None
    body_text: str
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
    sig: str  # a digest of every stored value: changes whenever anything shown of the row changes
    _meeting: dict[str, Any] | None = None

    @property
    def meeting(self) -> dict[str, Any]:
        """The stored meeting facts."""
        if self._meeting is None:
            self._meeting = _json(self.meeting_raw, {})
        return self._meeting

    @property
    def shown_at(self) -> datetime:
        """The time feeds sort by: published, else first seen."""
        return self.published_at or self.first_seen_at


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


def _row(values: tuple[Any, ...]) -> PubRow:
    (id_, url, canonical_url, source_slug, title, lead, body_text, author, published_at, updated_at, fetched_at,
     first_seen_at, changed_at, language, image_urls, syndicated_from, content_hash, cluster_id, is_canonical,
     meeting, is_meeting_report, meeting_kind) = values
    # The raw values say everything a feed entry or a record shows; the body is left out because the store
    # changes it only together with content_hash (see Store.upsert), which is in.
    digest = hashlib.blake2b(repr(values[:6] + values[7:]).encode("utf-8"), digest_size=10)
    return PubRow(
        id_, url, canonical_url, source_slug, title, lead, body_text or "", author, _date(published_at),
        _date(updated_at), _aware(fetched_at), _aware(first_seen_at), _aware(changed_at), language or "vi",
        _json(image_urls, []), syndicated_from, content_hash, cluster_id,
        True if is_canonical is None else bool(is_canonical), meeting, bool(is_meeting_report),
        meeting_kind, digest.hexdigest(),
    )


def load_rows(store: Store) -> list[PubRow]:
    """Every article, newest first (published, else first seen; ties by id), like Store.articles()."""
    with store.engine.connect() as conn:
        rows = [_row(tuple(r)) for r in conn.execute(text(f"SELECT {', '.join(COLUMNS)} FROM articles"))]
    rows.sort(key=lambda r: r.id)
    rows.sort(key=lambda r: r.shown_at, reverse=True)
    return rows


def signature(row: PubRow) -> str:
    """Changes whenever anything a feed entry or a snapshot record shows of the row changes."""
    return row.sig
