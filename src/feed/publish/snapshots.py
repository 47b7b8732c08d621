"""JSON snapshots for pipelines: latest.json, dated copies, incremental change files behind a cursor, manifest.

A cursor names one published state of the store: the UTC time of the publish that produced it, written
`20260714T100512.123456Z` so that cursors sort as strings. Each publish that changes any article record writes
`snapshots/changes/<cursor>.json` (new, updated, removed from a cluster, deleted since the previous cursor)
and moves the cursor; a publish that changes nothing keeps it, so every file stays byte-identical and
conditional GETs answer 304. What the last
cursor saw is kept in the store (feed.publish.incremental), so a publish encodes only the articles written since
the last one. latest.json holds the newest WINDOW articles only: its size does not grow with the store; every
change still travels, exactly once, in the change files.

A record's fingerprint (what the store keeps to tell an updated record from an unchanged one) is a digest of the
values the record is made of (`record_fingerprint`), not of its JSON: a first publish encodes only the records a
file shows (latest.json's window), not every article of the store. Fingerprints filed before 2026-12-08 were
digests of the encoded record (`legacy_fingerprint`, no FINGERPRINT_PREFIX); a record that still has one is
encoded once more when it is next touched and compared the old way, then filed under the new scheme, so an
upgrade announces no record that did not change.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from feed.config.sources import Source
from feed.lang.dates import VN_TZ
from feed.publish.changes import CHANGE_KINDS, CURSOR_FORMAT, CURSOR_RE, SCHEMA_VERSION, change_document, parse_cursor
from feed.publish.feed_writer import rfc3339
from feed.publish.rows import BODY_BATCH, PubRow, prefetch_bodies
from feed.records import Meeting

WINDOW = 1000  # the newest articles latest.json holds
FINGERPRINT_PREFIX = "v2:"  # record_fingerprint's; a fingerprint without it is legacy_fingerprint's
RECORD_FORMAT = 1  # bump when snapshot_record shows the same stored values differently: every record touched after
# is then announced as updated once
DATED_RE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})\.json$")


@dataclass
class SnapshotState:
    """What the last cursor saw, kept in the store between publishes (feed.publish.incremental)."""

    cursor: str | None = None
    cursor_at: str | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)  # the change files kept, oldest first
    names: dict[str, str] = field(default_factory=dict)  # source slug -> the name its records carry

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SnapshotState:
        return cls(raw.get("cursor"), raw.get("cursor_at"), list(raw.get("changes") or []), raw.get("names") or {})

    def to_json(self) -> dict[str, Any]:
        return {"cursor": self.cursor, "cursor_at": self.cursor_at, "changes": self.changes, "names": self.names}


@dataclass
class Snapshot:
    """The files one publish writes under snapshots/ (relative path -> text, None when unchanged), and what the
    store is to remember of the articles it looked at."""

    files: dict[str, str | bytes | None]
    counts: dict[str, int]
    state: SnapshotState
    stale: list[str]  # relative paths past the retention period, to delete
    records: dict[str, list[str]] = field(default_factory=dict)  # id -> [fingerprint, cluster] of what it encoded
    deleted: list[str] = field(default_factory=list)  # ids the last publish knew and the store no longer has


def _iso(value: datetime | None) -> str | None:
    return rfc3339(value) if value else None


def meeting_record(data: dict[str, Any]) -> dict[str, Any]:
    """The stored meeting facts in the schema's shape (every field, in order, officials as name/role)."""
    return Meeting.from_json(data).to_json()


def snapshot_record(row: PubRow, source: Source | None, members: list[PubRow]) -> dict[str, Any]:
    """One article as the snapshot schema describes it (fetched_at left out: it is added last)."""
    return {
        "id": row.id,
        "url": row.url,
        "canonical_url": row.canonical_url,
        "source": row.source_slug,
        "source_name": source.name if source else None,
        "province": source.province if source else None,  # the source's configured province (docs/search.md)
        "title": row.title,
        "lead": row.lead,
        "body_text": row.body_text,
        "author": row.author,
        "published_at": _iso(row.published_at),
        "updated_at": _iso(row.updated_at),
        "first_seen_at": _iso(row.first_seen_at),
        "language": row.language,
        "image_urls": list(row.image_urls),
        "syndicated_from": row.syndicated_from,
        "content_hash": row.content_hash,
        "cluster_id": row.cluster_id or row.id,
        "is_canonical": bool(row.is_canonical),
        "duplicates": [m.url for m in members if m.id != row.id],
        "meeting": meeting_record(row.meeting),
    }


def encode_record(row: PubRow, source: Source | None, members: list[PubRow]) -> tuple[str, str]:
    """(record JSON, fingerprint). A re-fetch that only moves fetched_at is not a change for pipelines."""
    return with_fetched_at(_bare_record(row, source, members), row), record_fingerprint(row, source, members)


def _bare_record(row: PubRow, source: Source | None, members: list[PubRow]) -> str:
    """The record JSON without fetched_at."""
    return json.dumps(snapshot_record(row, source, members), ensure_ascii=False, separators=(",", ":"))


def _stamp(value: datetime | None) -> int | None:
    """A time as the record shows it (rfc3339 keeps whole seconds), zone-free."""
    return None if value is None else int(value.timestamp())


def record_fingerprint(row: PubRow, source: Source | None, members: list[PubRow]) -> str:
    """A digest of every value snapshot_record is made of (the body through content_hash, which the store changes
    whenever it changes the body; fetched_at left out: a re-fetch that only moves it is not a change): equal
    values make equal records, so a record need not be encoded to tell whether it changed. Prefixed, so a
    fingerprint filed by the older scheme (legacy_fingerprint) is told apart."""
    meeting = row.meeting_raw
    if meeting is not None and not isinstance(meeting, str | bytes):  # a JSON column already decoded
        meeting = json.dumps(meeting, sort_keys=True, ensure_ascii=False)
    values = (
        RECORD_FORMAT,
        row.id,
        row.url,
        row.canonical_url,
        row.source_slug,
        source.name if source else None,
        source.province if source else None,
        row.title,
        row.lead,
        row.author,
        _stamp(row.published_at),
        _stamp(row.updated_at),
        _stamp(row.first_seen_at),
        row.language,
        row.image_urls,
        row.syndicated_from,
        row.content_hash,
        row.cluster_id or row.id,
        bool(row.is_canonical),
        [m.url for m in members if m.id != row.id],
        meeting,
    )
    return FINGERPRINT_PREFIX + hashlib.blake2b(repr(values).encode("utf-8"), digest_size=12).hexdigest()


def legacy_fingerprint(bare: str) -> str:
    """The fingerprint publishes before 2026-12-08 filed: a digest of the record JSON without fetched_at."""
    return hashlib.blake2b(bare.encode("utf-8"), digest_size=12).hexdigest()


def is_legacy(fingerprint: str) -> bool:
    """True for a fingerprint of the older scheme (legacy_fingerprint)."""
    return not fingerprint.startswith(FINGERPRINT_PREFIX)


def with_fetched_at(body: str, row: PubRow) -> str:
    """The record JSON of _fingerprinted with fetched_at added last."""
    return body[:-1] + f',"fetched_at":"{rfc3339(row.fetched_at)}"}}'


def previous_records(out: Path) -> dict[str, bytes]:
    """Article id -> its record line in the current latest.json (one record a line, as this module writes);
    kept as bytes so that unchanged records go back to disk without being decoded and encoded again."""
    try:
        lines = (out / "snapshots" / "latest.json").read_bytes().split(b"\n")
    except OSError:
        return {}
    found = {}
    for line in lines:
        if line.startswith(b'{"id":"'):
            found[line[7 : line.index(b'"', 7)].decode("utf-8")] = line.removesuffix(b",")
    return found


def make_cursor(now: datetime, previous: str | None) -> str:
    """A cursor for now, strictly after the previous one."""
    at = now.astimezone(UTC)
    if previous and CURSOR_RE.match(previous):
        at = max(at, parse_cursor(previous) + timedelta(microseconds=1))
    return at.strftime(CURSOR_FORMAT)


def _cluster_move(article_id: str, before: str, now: str) -> str:
    return json.dumps({"id": article_id, "cluster_id": before, "now_cluster_id": now}, separators=(",", ":"))


def build_snapshot(
    window: list[PubRow],
    touched: list[PubRow],
    gone: list[str],
    clusters: dict[str, list[PubRow]],
    before: dict[str, list[str]],
    sources: dict[str, Source],
    prior: SnapshotState,
    total: int,
    out: Path,
    now: datetime,
    retention_days: int,
    keep_bodies: set[str] | None = None,
) -> Snapshot:
    """latest.json (the newest `window` articles), today's dated copy and, when a record changed, a change file
    and a new cursor. Only `touched` rows (written since the last publish, or sharing a story with one) are
    fingerprinted and compared with what the last publish said of them (`before`), and encoded only when a file
    shows them (the window, a change file); `gone` are ids written since then and no longer stored. Every other
    record of the window is taken, as bytes, from the current latest.json. Bodies read to encode a record are
    let go after it unless the window or `keep_bodies` (the feeds about to be rendered) shows the article, so
    they are not read twice."""
    state = SnapshotState(prior.cursor, prior.cursor_at, list(prior.changes), {s: v.name for s, v in sources.items()})
    changes: dict[str, list[str]] = {k: [] for k in CHANGE_KINDS}
    encoded: dict[str, str] = {}
    records: dict[str, list[str]] = {}
    shown = {r.id for r in window}
    keep = shown | (keep_bodies or set())
    announce = prior.cursor is not None  # the first state is latest.json itself: nothing to announce
    wanted: list[PubRow] = []  # the rows whose record JSON is needed: shown, announced, or compared the old way
    for row in touched:
        cluster = row.cluster_id or row.id
        fingerprint = record_fingerprint(row, sources.get(row.source_slug), clusters.get(cluster, [row]))
        records[row.id] = [fingerprint, cluster]
        seen = before.get(row.id)
        if row.id in shown or (announce and (seen is None or seen[0] != fingerprint)):
            wanted.append(row)
    for start in range(0, len(wanted), BODY_BATCH):  # bodies read a batch at a time, and let go after it
        batch = wanted[start : start + BODY_BATCH]
        prefetch_bodies(batch)
        for row in batch:
            fingerprint, cluster = records[row.id]
            bare = _bare_record(row, sources.get(row.source_slug), clusters.get(cluster, [row]))
            row._body = None if row.id not in keep else row._body
            body = with_fetched_at(bare, row)
            if row.id in shown:
                encoded[row.id] = body
            seen = before.get(row.id)
            if not announce:
                continue
            if seen is None:
                changes["new"].append(body)
                continue
            # A fingerprint filed before this scheme is compared the old way: an upgrade announces nothing new.
            if seen[0] != fingerprint and not (is_legacy(seen[0]) and seen[0] == legacy_fingerprint(bare)):
                changes["updated"].append(body)
            if seen[1] != cluster:
                changes["removed_from_cluster"].append(_cluster_move(row.id, seen[1], cluster))
    deleted = [i for i in gone if i in before]
    for article_id in deleted:
        gone_record = {"id": article_id, "cluster_id": before[article_id][1]}
        changes["deleted"].append(json.dumps(gone_record, separators=(",", ":")))
    files: dict[str, str | bytes | None] = {}
    if state.cursor is None or any(changes.values()):  # (no cursor yet: the first state, announced by latest.json)
        state.cursor, state.cursor_at = make_cursor(now, prior.cursor), rfc3339(now)
        if prior.cursor is not None:  # the first state is latest.json itself, not a change
            path = f"snapshots/changes/{state.cursor}.json"
            files[path] = change_document(prior.cursor, state.cursor, state.cursor_at, changes)
            state.changes.append(
                {
                    "since": prior.cursor,
                    "cursor": state.cursor,
                    "path": path,
                    "counts": {k: len(changes[k]) for k in CHANGE_KINDS},
                }
            )
    assert state.cursor is not None and state.cursor_at is not None
    latest = out / "snapshots" / "latest.json"
    if not touched and not gone and state.cursor == prior.cursor and latest.is_file():
        files["snapshots/latest.json"] = None  # byte-identical: keep the file, its ETag and Last-Modified
    else:
        files["snapshots/latest.json"] = _latest(window, encoded, clusters, sources, state, total, out)
    stale = _expire(state, now, retention_days)
    files["snapshots/changes/index.json"] = (
        json.dumps(
            {"schema_version": SCHEMA_VERSION, "cursor": state.cursor, "changes": state.changes},
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )
    counts = {"articles": len(window), **{k: len(v) for k, v in changes.items()}}
    return Snapshot(files, counts, state, stale, records, deleted)


def _latest(
    window: list[PubRow],
    encoded: dict[str, str],
    clusters: dict[str, list[PubRow]],
    sources: dict[str, Source],
    state: SnapshotState,
    total: int,
    out: Path,
) -> bytes:
    """latest.json: the window's records, those not encoded this run taken from the current file."""
    lines: dict[str, bytes] = previous_records(out) if any(r.id not in encoded for r in window) else {}
    missing = [r for r in window if r.id not in encoded and r.id not in lines]
    prefetch_bodies(missing)
    for row in missing:  # the window moved past a deletion, or the file is gone
        cluster = row.cluster_id or row.id
        encoded[row.id] = encode_record(row, sources.get(row.source_slug), clusters.get(cluster, [row]))[0]
    head = json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "generated_at": state.cursor_at,
            "cursor": state.cursor,
            "count": len(window),
            "total": total,
        },
        separators=(",", ":"),
    )
    body = b",\n".join(encoded[r.id].encode("utf-8") if r.id in encoded else lines[r.id] for r in window)
    if not window:
        return (head[:-1] + ',"articles":[]}\n').encode("utf-8")
    return (head[:-1] + ',"articles":[\n').encode("utf-8") + body + b"\n]}\n"


def dated_path(now: datetime) -> str:
    """Today's dated snapshot (the date in Vietnam)."""
    return f"snapshots/{now.astimezone(VN_TZ):%Y-%m-%d}.json"


def _expire(state: SnapshotState, now: datetime, retention_days: int) -> list[str]:
    """Drop change files older than the retention period from the state; returns their paths."""
    horizon = now - timedelta(days=max(retention_days, 0))
    kept = [c for c in state.changes if parse_cursor(c["cursor"]) >= horizon]
    stale = [c["path"] for c in state.changes if c not in kept]
    state.changes = kept
    return stale


def stale_dated(out: Path, now: datetime, retention_days: int) -> list[Path]:
    """Dated snapshots older than the retention period (today's is always kept)."""
    first_kept = (now.astimezone(VN_TZ) - timedelta(days=max(retention_days, 0))).strftime("%Y-%m-%d")
    folder = out / "snapshots"
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if (m := DATED_RE.match(p.name)) and m.group(1) < first_kept]


def manifest_document(files: dict[str, dict[str, Any]], cursor: str | None, generated_at: datetime) -> str:
    """snapshots/manifest.json: every published file with its size, sha256, item count and cache lifetime."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": rfc3339(generated_at),
        "cursor": cursor,
        "files": [{"path": p, **files[p]} for p in sorted(files)],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def schema_problems(out: Path) -> list[str]:
    """Check every snapshot file written under out/snapshots against snapshots/schema.json; one line a problem."""
    import jsonschema

    schema = json.loads((out / "snapshots" / "schema.json").read_text(encoding="utf-8"))
    problems = []
    for path in sorted((out / "snapshots").rglob("*.json")):
        name = path.relative_to(out / "snapshots").as_posix()
        if name == "schema.json" or name.startswith("."):
            continue
        definition = {"manifest.json": "manifest", "changes/index.json": "change_index"}.get(name)
        if definition is None and name.startswith("changes/"):
            definition = "changes"
        target = schema if definition is None else {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
        validator = jsonschema.Draft202012Validator(target, format_checker=jsonschema.FormatChecker())
        doc = json.loads(path.read_text(encoding="utf-8"))
        problems += [f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
    return problems
