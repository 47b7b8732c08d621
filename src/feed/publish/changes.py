"""Reading the change files: the merged changes after a cursor, and the cursor format they are named by.

Light on purpose (no store, no database): the server imports it to answer `/snapshots/changes.json?since=`.
feed.publish.snapshots writes the files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feed.publish.feed_writer import rfc3339

SCHEMA_VERSION = "2.0"
CURSOR_FORMAT = "%Y%m%dT%H%M%S.%fZ"
CURSOR_RE = re.compile(r"^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z$")
CHANGE_KINDS = ("new", "updated", "removed_from_cluster", "deleted")


class CursorGone(LookupError):
    """The cursor is older than the oldest change file kept: reload latest.json."""


def parse_cursor(cursor: str) -> datetime:
    """The UTC time a cursor names; ValueError when it is not a cursor."""
    if not CURSOR_RE.match(cursor):
        raise ValueError(f"not a cursor: {cursor!r}")
    return datetime.strptime(cursor, CURSOR_FORMAT).replace(tzinfo=UTC)


def _array(lines: Iterable[str]) -> str:
    body = ",\n".join(lines)
    return f"[\n{body}\n]" if body else "[]"


def change_document(since: str | None, cursor: str, generated_at: str, changes: dict[str, list[str]]) -> str:
    """A change file's text from its change lists (each entry already JSON text)."""
    counts = {k: len(changes[k]) for k in CHANGE_KINDS}
    head = json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "since": since,
            "cursor": cursor,
            "generated_at": generated_at,
            "counts": counts,
        },
        separators=(",", ":"),
    )
    parts = [f'"{k}":{_array(changes[k])}' for k in CHANGE_KINDS]
    return head[:-1] + ",\n" + ",\n".join(parts) + "}\n"


def changes_since(out: Path, since: str) -> str:
    """The merged changes after a cursor, as one change document; CursorGone when that history is gone."""
    return changes_page(out, since)[0]


def changes_page(out: Path, since: str, max_bytes: int | None = None) -> tuple[str, str | None]:
    """The merged changes after a cursor, bounded: (change document, next cursor or None when it is the last page).

    With `max_bytes`, the page folds the change files after `since` in order until their sizes on disk would
    pass `max_bytes` (always at least one file); its `cursor` is then the last folded file's cursor, the one to
    ask with next, not the latest. CursorGone when the history after `since` is no longer kept; ValueError for a
    malformed cursor or one from the future.
    """
    parse_cursor(since)
    folder = out / "snapshots" / "changes"
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    current = index["cursor"]
    if since > current:
        raise ValueError(f"cursor {since} is newer than the latest ({current})")
    after = [c for c in index["changes"] if c["cursor"] > since]
    if after and after[0]["since"] is not None and after[0]["since"] > since:
        raise CursorGone(f"changes before {after[0]['since']} are no longer kept")
    if not after and since != current:
        raise CursorGone("no change history is kept for this cursor")
    page: list[dict[str, Any]] = []
    total = 0
    for change in after:
        path = out / change["path"]
        size = path.stat().st_size if max_bytes is not None else 0
        if page and max_bytes is not None and total + size > max_bytes:
            break
        page.append(change)
        total += size
    merged = _merge(json.loads((out / c["path"]).read_text(encoding="utf-8")) for c in page)
    more = len(page) < len(after)
    end = page[-1]["cursor"] if more else current
    generated = page[-1]["cursor"] if page else current
    lines = {k: [json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in v] for k, v in merged.items()}
    return change_document(since, end, rfc3339(parse_cursor(generated)), lines), end if more else None


def _merge(documents: Iterable[dict[str, Any]]) -> dict[str, list[Any]]:
    """Fold consecutive change files into one: an article new then updated is new with its last record."""
    state: dict[str, tuple[str, dict[str, Any]]] = {}
    moves: list[dict[str, Any]] = []
    for doc in documents:
        for record in doc["new"]:
            state[record["id"]] = ("new", record)
        for record in doc["updated"]:
            kind = state.get(record["id"], ("updated", record))[0]
            state[record["id"]] = ("new" if kind == "new" else "updated", record)
        for gone in doc["deleted"]:
            if state.get(gone["id"], ("",))[0] == "new":
                del state[gone["id"]]
            else:
                state[gone["id"]] = ("deleted", gone)
        moves.extend(doc["removed_from_cluster"])
    out: dict[str, list[Any]] = {k: [] for k in CHANGE_KINDS}
    for kind, record in state.values():
        out[kind].append(record)
    out["removed_from_cluster"] = moves
    return out
