"""The publisher's memory, kept in the store: what the last publish covered, so the next one reads only what changed.

Three things: the change number the last publish covered (feed.store.changes: every article write gets one), what
it said of each article (`published_records`: its record's fingerprint and cluster, to tell new from updated and
to report cluster moves), and a few small JSON values (`publish_state`: the cursor, the change files kept, the
feeds' signatures and identities).

The store and the published files must never disagree, or a change is announced twice or never. So a publish does
not write this state itself: it stages it as one more file, `.publish-pending.json`, renamed into place with the
feeds by the journal (feed.publish.transaction), after which it is copied into the store and removed. A publish
killed after its commit point leaves the file in place (the journal's recovery, even the scheduler's sweep
without a store, renames it); the next publish copies it into the store before anything else. Copying it twice
is harmless: it holds values, not increments.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select

from feed.store.api import Store
from feed.store.changes import changed_since, last_change
from feed.store.schema import PublishedRecord, PublishState

log = logging.getLogger(__name__)

PENDING = ".publish-pending.json"  # hidden from the server like every dotfile
LEGACY_STATE = "snapshots/.state.json"  # where publishes before the store kept this state wrote it
LEGACY_FEED_STATE = ".publish-state.json"
BATCH = 500
STATE_NAMES = ("seq", "snapshot", "feeds")


@dataclass
class Prior:
    """What the last publish covered."""

    seq: int | None = None  # the change number it covered; None: unknown, read everything
    snapshot: dict[str, Any] = field(default_factory=dict)  # cursor, cursor_at, changes kept, source names
    feeds: dict[str, Any] = field(default_factory=dict)  # site, feed and entry signatures, identities, empty
    legacy_records: dict[str, list[str]] | None = None  # from a pre-store state file, on the first run only


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def folder_key(out: Path) -> str:
    """The published folder this state is of: one store may publish into several."""
    return hashlib.blake2b(str(out.resolve()).encode("utf-8"), digest_size=16).hexdigest()


def load_prior(store: Store, out: Path) -> Prior:
    """The state the last publish into `out` left (from a pre-store state file the first time, so cursors carry
    on). A folder without a manifest starts afresh whatever the store remembers of it."""
    if not (out / "snapshots" / "manifest.json").is_file():
        return Prior()
    query = select(PublishState.name, PublishState.value).where(PublishState.folder == folder_key(out))
    with store.engine.connect() as conn:
        values = {name: json.loads(value) for name, value in conn.execute(query).all() if name in STATE_NAMES}
    if values:
        return Prior(values.get("seq"), values.get("snapshot") or {}, values.get("feeds") or {})
    legacy = _load_json(out / LEGACY_STATE) or {}
    feeds = _load_json(out / LEGACY_FEED_STATE) or {}
    if not isinstance(legacy, dict) or not isinstance(feeds, dict):
        return Prior()
    snapshot = {k: legacy[k] for k in ("cursor", "cursor_at", "changes") if k in legacy}
    records = {k: v[:2] for k, v in (legacy.get("articles") or {}).items()}
    return Prior(None, snapshot, feeds, records if legacy else None)


def current_seq(store: Store) -> int:
    """The highest change number committed now: read before the articles, so nothing after it is missed."""
    with store.engine.connect() as conn:
        return last_change(conn)


def changed_ids(store: Store, seq: int | None) -> set[str] | None:
    """Articles written since change number `seq` (deleted ones included); None: everything (no `seq`)."""
    if seq is None:
        return None
    with store.engine.connect() as conn:
        return set(changed_since(conn, seq))


def published_records(store: Store, out: Path, ids: Iterable[str] | None) -> dict[str, list[str]]:
    """Article id -> [fingerprint, cluster id] the last publish into `out` gave these articles (all when `ids` is
    None)."""
    query = select(PublishedRecord.article_id, PublishedRecord.fingerprint, PublishedRecord.cluster_id).where(
        PublishedRecord.folder == folder_key(out)
    )
    found: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        if ids is None:
            return {a: [f, c] for a, f, c in conn.execute(query)}
        wanted = list(ids)
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start : start + BATCH]
            found.update({a: [f, c] for a, f, c in conn.execute(query.where(PublishedRecord.article_id.in_(chunk)))})
    return found


def pending_document(
    seq: int,
    snapshot: dict[str, Any],
    feeds: dict[str, Any],
    records: dict[str, list[str]],
    deleted: list[str],
    *,
    everything: bool,
) -> str:
    """The state a publish leaves, as the text of `.publish-pending.json`."""
    return json.dumps(
        {
            "seq": seq,
            "snapshot": snapshot,
            "feeds": feeds,
            "records": records,
            "deleted": deleted,
            "everything": everything,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def apply_pending(store: Store, out: Path) -> bool:
    """Copy a committed publish's state into the store (one transaction), then remove its file; False when none.
    Call with the publish lock held."""
    path = out / PENDING
    doc = _load_json(path)
    if doc is None:
        path.unlink(missing_ok=True)  # absent, or (never expected: it is renamed whole) unreadable
        return False
    records: dict[str, list[str]] = doc.get("records") or {}
    gone = [*records, *(doc.get("deleted") or [])]
    folder = folder_key(out)
    with store.session() as s:
        if doc.get("everything"):  # a publish that read every article: what it did not see is gone
            s.execute(delete(PublishedRecord).where(PublishedRecord.folder == folder))
        else:
            for start in range(0, len(gone), BATCH):
                chunk = gone[start : start + BATCH]
                mine = PublishedRecord.folder == folder
                s.execute(delete(PublishedRecord).where(mine, PublishedRecord.article_id.in_(chunk)))
        rows = [{"folder": folder, "article_id": a, "fingerprint": f, "cluster_id": c} for a, (f, c) in records.items()]
        if rows:
            # Core, not the ORM's bulk insert: a first publish files 10,000 records, and the ORM's per-row
            # bookkeeping was most of this transaction's time.
            s.execute(insert(cast(Table, PublishedRecord.__table__)), rows)
        s.execute(delete(PublishState).where(PublishState.folder == folder))
        s.add_all(
            PublishState(folder=folder, name=n, value=json.dumps(doc.get(n), ensure_ascii=False)) for n in STATE_NAMES
        )
    path.unlink()
    for legacy in (LEGACY_STATE, LEGACY_FEED_STATE):
        (out / legacy).unlink(missing_ok=True)  # superseded by the store
    return True
