"""JSON snapshots for pipelines: latest.json, dated copies, incremental change files behind a cursor, manifest.

A cursor names one published state of the store: the UTC time of the publish that produced it, written
`20260714T100512.123456Z` so that cursors sort as strings. Each publish that changes any article record writes
`snapshots/changes/<cursor>.json` (new, updated, removed from a cluster, deleted since the previous cursor)
and moves the cursor; a publish that changes nothing keeps it, so every file stays byte-identical and
conditional GETs answer 304. `snapshots/.state.json` (hidden from the server) remembers what the last
cursor saw: one fingerprint and one cluster id per article.
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
from feed.publish.rows import PubRow, prefetch_bodies
from feed.records import Meeting

DATED_RE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})\.json$")
STATE_FILE = "snapshots/.state.json"


@dataclass
class SnapshotState:
    """What the last cursor saw; kept between publishes."""

    cursor: str | None = None
    cursor_at: str | None = None
    articles: dict[str, list[str]] = field(default_factory=dict)  # id -> [fingerprint, cluster id, input sig]
    changes: list[dict[str, Any]] = field(default_factory=list)  # the change files kept, oldest first

    @classmethod
    def load(cls, out: Path) -> SnapshotState:
        try:
            raw = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        return cls(raw.get("cursor"), raw.get("cursor_at"), raw.get("articles") or {}, raw.get("changes") or [])

    def dumps(self) -> str:
        return json.dumps(
            {"cursor": self.cursor, "cursor_at": self.cursor_at, "articles": self.articles, "changes": self.changes},
            separators=(",", ":"),
        )


@dataclass
class Snapshot:
    """The files one publish writes under snapshots/ (relative path -> text, None when unchanged)."""

    files: dict[str, str | bytes | None]
    counts: dict[str, int]
    state: SnapshotState
    stale: list[str]  # relative paths past the retention period, to delete


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
    body = json.dumps(snapshot_record(row, source, members), ensure_ascii=False, separators=(",", ":"))
    fingerprint = hashlib.blake2b(body.encode("utf-8"), digest_size=12).hexdigest()
    return body[:-1] + f',"fetched_at":"{rfc3339(row.fetched_at)}"}}', fingerprint


def record_inputs(row_sig: str, source: Source | None, members: list[PubRow], row: PubRow) -> str:
    """A digest of everything a record is made from: equal digests give equal records."""
    name = f"{source.name}\x1f{source.province or ''}" if source else ""  # what the record shows of its source
    if len(members) == 1:
        return hashlib.blake2b(f"{row_sig}\x1f{name}".encode(), digest_size=10).hexdigest()
    urls = "\x1f".join(m.url for m in members if m.id != row.id)
    return hashlib.blake2b(f"{row_sig}\x1f{name}\x1f{urls}".encode(), digest_size=10).hexdigest()


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


Record = tuple[str, str, str | bytes | None, str, str]  # id, cluster, JSON (None/bytes: reused), fingerprint, inputs


def _diff(records: list[Record], previous: dict[str, list[str]]) -> dict[str, list[str]]:
    """Change lists (JSON texts) from (id, cluster, record JSON, fingerprint) against the previous state."""
    changes: dict[str, list[str]] = {k: [] for k in CHANGE_KINDS}
    seen = set()
    for article_id, cluster, body, fingerprint, _ in records:
        seen.add(article_id)
        before = previous.get(article_id)
        if not isinstance(body, str):  # inputs unchanged since the last run, record reused: nothing to report
            continue
        if before is None:
            changes["new"].append(body)
            continue
        if before[0] != fingerprint:
            changes["updated"].append(body)
        if before[1] != cluster:
            changes["removed_from_cluster"].append(
                json.dumps(
                    {"id": article_id, "cluster_id": before[1], "now_cluster_id": cluster}, separators=(",", ":")
                )
            )
    for article_id, (_, cluster, *_rest) in previous.items():
        if article_id not in seen:
            changes["deleted"].append(json.dumps({"id": article_id, "cluster_id": cluster}, separators=(",", ":")))
    return changes


def _encode_all(
    rows: list[PubRow], sources: dict[str, Source], signatures: dict[str, str], previous: SnapshotState, out: Path
) -> list[Record]:
    """(id, cluster, record JSON, fingerprint, input digest) per row. A row whose inputs did not change keeps
    last run's fingerprint; its JSON is None when nothing changed at all (latest.json stays), else its line
    is taken from the current latest.json instead of being encoded again."""
    clusters: dict[str, list[PubRow]] = {}
    for row in rows:
        clusters.setdefault(row.cluster_id or row.id, []).append(row)
    inputs = {
        row.id: record_inputs(signatures[row.id], sources.get(row.source_slug), clusters[row.cluster_id or row.id], row)
        for row in rows
    }
    known = previous.articles
    reusable = {i for i, d in inputs.items() if len(known.get(i, ())) == 3 and known[i][2] == d}
    everything_kept = len(reusable) == len(rows) == len(known) and (out / "snapshots" / "latest.json").is_file()
    lines = {} if everything_kept or not reusable else previous_records(out)
    records: list[Record] = []
    prefetch_bodies(r for r in rows if not (r.id in reusable and (everything_kept or r.id in lines)))
    for row in rows:
        cluster = row.cluster_id or row.id
        if row.id in reusable and (everything_kept or row.id in lines):
            records.append((row.id, cluster, lines.get(row.id), known[row.id][0], inputs[row.id]))
        else:
            body, fingerprint = encode_record(row, sources.get(row.source_slug), clusters[cluster])
            records.append((row.id, cluster, body, fingerprint, inputs[row.id]))
    return records


def build_snapshot(
    rows: list[PubRow],
    sources: dict[str, Source],
    signatures: dict[str, str],
    out: Path,
    now: datetime,
    retention_days: int,
) -> Snapshot:
    """latest.json, today's dated snapshot and, when anything changed, a change file and a new cursor."""
    previous = SnapshotState.load(out)
    records = _encode_all(rows, sources, signatures, previous, out)
    state = SnapshotState(
        previous.cursor, previous.cursor_at, {r[0]: [r[3], r[1], r[4]] for r in records}, list(previous.changes)
    )
    files: dict[str, str | bytes | None] = {}
    changes = _diff(records, previous.articles)
    if state.cursor is None or any(changes.values()):
        state.cursor, state.cursor_at = make_cursor(now, previous.cursor), rfc3339(now)
        if previous.cursor is not None:  # the first state is latest.json itself, not a change
            path = f"snapshots/changes/{state.cursor}.json"
            files[path] = change_document(previous.cursor, state.cursor, state.cursor_at, changes)
            state.changes.append(
                {
                    "since": previous.cursor,
                    "cursor": state.cursor,
                    "path": path,
                    "counts": {k: len(changes[k]) for k in CHANGE_KINDS},
                }
            )
    assert state.cursor is not None and state.cursor_at is not None
    unchanged = all(r[2] is None for r in records) and state.cursor == previous.cursor
    if unchanged and (out / "snapshots" / "latest.json").is_file():
        files["snapshots/latest.json"] = None  # byte-identical: keep the file, its ETag and Last-Modified
    else:
        head = json.dumps(
            {
                "schema_version": SCHEMA_VERSION,
                "generated_at": state.cursor_at,
                "cursor": state.cursor,
                "count": len(records),
            },
            separators=(",", ":"),
        )
        lines = b",\n".join(r[2] if isinstance(r[2], bytes) else (r[2] or "").encode("utf-8") for r in records)
        files["snapshots/latest.json"] = (
            (head[:-1] + ',"articles":[\n').encode("utf-8") + lines + b"\n]}\n"
            if records
            else (head[:-1] + ',"articles":[]}\n').encode("utf-8")
        )
    stale = _expire(state, now, retention_days)
    files["snapshots/changes/index.json"] = (
        json.dumps(
            {"schema_version": SCHEMA_VERSION, "cursor": state.cursor, "changes": state.changes},
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )
    counts = {"articles": len(records), **{k: len(v) for k, v in changes.items()}}
    return Snapshot(files, counts, state, stale)


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
