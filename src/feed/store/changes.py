"""Change tracking: every insert, update or delete of an article through the ORM records a change number.

Whatever box writes an article (the store's upsert, the classifier's verdicts, dedup's clusters, a deletion),
its flush stamps the article with the next number of one counter (`article_changes`), in the same transaction,
so a reader asks "what changed after N" instead of reading every article (`changed_since`). Writes that bypass
the ORM (raw SQL) are not seen; nothing in the product writes articles that way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Connection

from feed.store.schema import ArticleChange, ArticleRow

_NEXT = text(
    "INSERT INTO change_counter (id, seq) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET seq = change_counter.seq + 1 RETURNING seq"
)
_MARK = text(
    "INSERT INTO article_changes (article_id, seq) VALUES (:id, :seq) "
    "ON CONFLICT (article_id) DO UPDATE SET seq = excluded.seq"
)


def _mark(_mapper: Any, connection: Connection, target: ArticleRow) -> None:
    seq = connection.execute(_NEXT).scalar_one()
    connection.execute(_MARK, {"id": target.id, "seq": seq})


for _event in ("after_insert", "after_update", "after_delete"):
    event.listen(ArticleRow, _event, _mark)


def last_change(connection: Connection) -> int:
    """The highest change number committed (0 when nothing was ever recorded)."""
    return int(connection.execute(select(func.max(ArticleChange.seq))).scalar() or 0)


def changed_since(connection: Connection, seq: int) -> list[str]:
    """Ids of the articles inserted, updated or deleted after change number `seq` (deleted ones included)."""
    return list(connection.execute(select(ArticleChange.article_id).where(ArticleChange.seq > seq)).scalars())
