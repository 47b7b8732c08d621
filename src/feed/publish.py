"""Publishing: Atom, RSS 2.0 and JSON Feed files, JSON snapshots and the index page, each written atomically."""

from __future__ import annotations

import html
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from feedgen.feed import FeedGenerator

from feed import __version__
from feed.atomic import write_atomic
from feed.dates import VN_TZ
from feed.models import KIND_LABELS, MEETING_KINDS, Meeting
from feed.settings import Settings
from feed.sources import Source
from feed.store import ArticleRow, Store, now_utc
from feed.text import strip_xml_illegal

SCHEMA_VERSION = "1.0"
FEED_TITLE = "unionfeed — Tin công đoàn"
MEETINGS_TITLE = "unionfeed — Tin hội nghị, đại hội công đoàn"


@dataclass
class FeedItem:
    """One feed entry: one story (cluster), with the other places it was published."""

    guid: str
    link: str
    title: str
    summary: str
    content_html: str
    published: datetime
    updated: datetime
    author: str | None
    source_slug: str
    source_name: str
    categories: list[str] = field(default_factory=list)
    also_at: list[tuple[str, str]] = field(default_factory=list)  # (outlet name, url)
    meeting: Meeting = field(default_factory=Meeting)
    row: ArticleRow | None = None


@dataclass(frozen=True)
class FeedSpec:
    path: str  # without extension, relative to feeds/
    title: str
    description: str
    items: list[FeedItem]


def _local(value: datetime) -> datetime:
    return value.astimezone(VN_TZ)


def meeting_summary(meeting: Meeting) -> str:
    """A short Vietnamese line of the meeting's facts, for feed readers."""
    parts = [KIND_LABELS.get(meeting.kind or "", "Hội nghị")]
    if meeting.org:
        parts.append(f"của {meeting.org}")
    if meeting.period:
        parts.append(f"({meeting.period})")
    line = " ".join(parts)
    if meeting.held_on:
        try:
            held = datetime.fromisoformat(meeting.held_on)
            line += f", họp ngày {held:%d/%m/%Y}"
        except ValueError:
            line += f", {meeting.held_on}"
    if meeting.location:
        line += f", {meeting.location}"
    return line + "."


def build_items(store: Store, sources: dict[str, Source], rows: list[ArticleRow]) -> list[FeedItem]:
    """Feed items for the canonical member of each cluster, newest first."""
    by_cluster: dict[str, list[ArticleRow]] = {}
    for row in store.articles():
        by_cluster.setdefault(row.cluster_id or row.id, []).append(row)
    items: list[FeedItem] = []
    for row in rows:
        if row.cluster_id and not row.is_canonical:
            continue
        source = sources.get(row.source_slug)
        meeting = Meeting.from_json(row.meeting)
        others = [r for r in by_cluster.get(row.cluster_id or row.id, []) if r.id != row.id]
        also_at = [(sources[r.source_slug].name if r.source_slug in sources else r.source_slug, r.url) for r in others]
        categories = [source.name] if source else []
        summary = row.lead or ""
        if meeting.is_report:
            categories = [KIND_LABELS.get(meeting.kind or "", "Hội nghị"), *([meeting.org] if meeting.org else []),
                          *categories]
            summary = f"{meeting_summary(meeting)} {summary}".strip()
        content = html.escape(row.lead or "") and f"<p><strong>{html.escape(row.lead or '')}</strong></p>"
        content += "".join(f"<p>{html.escape(p)}</p>" for p in row.body_text.split("\n\n") if p)
        if also_at:
            links = ", ".join(f'<a href="{html.escape(u)}">{html.escape(n)}</a>' for n, u in also_at)
            content += f"<p>Cũng đăng tại: {links}</p>"
        published = row.published_at or row.first_seen_at
        items.append(FeedItem(
            guid=f"urn:unionfeed:{row.id}", link=row.url, title=row.title or "(không có tiêu đề)",
            summary=summary, content_html=content, published=published,
            updated=max(row.changed_at, published), author=row.author, source_slug=row.source_slug,
            source_name=source.name if source else row.source_slug, categories=categories, also_at=also_at,
            meeting=meeting, row=row,
        ))
    items.sort(key=lambda i: (i.published, i.guid), reverse=True)
    return items


def _generator(spec: FeedSpec, settings: Settings, fmt: str) -> FeedGenerator:
    base = settings.site_url.rstrip("/") + "/"
    fg = FeedGenerator()
    fg.id(f"{base}feeds/{spec.path}.atom")
    fg.title(spec.title)
    fg.subtitle(spec.description)
    fg.description(spec.description)
    fg.language("vi")
    fg.author({"name": "unionfeed"})
    fg.generator("unionfeed", version=__version__)
    fg.link(href=f"{base}feeds/{spec.path}.{fmt}", rel="self")
    fg.link(href=base, rel="alternate")
    if settings.websub_hub:
        fg.link(href=settings.websub_hub, rel="hub")
    updated = max((i.updated for i in spec.items), default=now_utc())
    fg.updated(_local(updated))
    fg.lastBuildDate(_local(updated))
    for item in spec.items:
        entry = fg.add_entry(order="append")
        entry.id(item.guid)
        entry.guid(item.guid, permalink=False)
        entry.title(strip_xml_illegal(item.title))
        entry.link(href=item.link, rel="alternate")
        entry.published(_local(item.published))
        entry.updated(_local(item.updated))
        if item.author:
            entry.author({"name": strip_xml_illegal(item.author)})
        entry.summary(strip_xml_illegal(item.summary) or strip_xml_illegal(item.title))
        entry.content(strip_xml_illegal(item.content_html), type="CDATA" if fmt == "rss" else "html")
        for category in item.categories:
            entry.category(term=strip_xml_illegal(category))
    return fg


def json_feed(spec: FeedSpec, settings: Settings) -> dict[str, Any]:
    """A JSON Feed 1.1 document."""
    base = settings.site_url.rstrip("/") + "/"
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": spec.title,
        "description": spec.description,
        "home_page_url": base,
        "feed_url": f"{base}feeds/{spec.path}.json",
        "language": "vi",
        "authors": [{"name": "unionfeed"}],
        "items": [
            {
                "id": i.guid,
                "url": i.link,
                "title": i.title,
                "summary": i.summary,
                "content_html": i.content_html,
                "date_published": _local(i.published).isoformat(),
                "date_modified": _local(i.updated).isoformat(),
                "authors": [{"name": i.author}] if i.author else [],
                "tags": i.categories,
                "_unionfeed": {"source": i.source_slug, "meeting": i.meeting.to_json(),
                               "also_at": [{"name": n, "url": u} for n, u in i.also_at]},
            }
            for i in spec.items
        ],
    }


def write_feed(spec: FeedSpec, settings: Settings, out: Path) -> list[Path]:
    """Write one feed as .atom, .rss and .json; returns the paths."""
    paths = []
    for fmt in ("atom", "rss"):
        fg = _generator(spec, settings, fmt)
        data = fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)
        path = out / "feeds" / f"{spec.path}.{fmt}"
        write_atomic(path, data)
        paths.append(path)
    path = out / "feeds" / f"{spec.path}.json"
    write_atomic(path, json.dumps(json_feed(spec, settings), ensure_ascii=False, indent=1))
    paths.append(path)
    return paths


def snapshot_record(item_row: ArticleRow, sources: dict[str, Source], members: list[ArticleRow]) -> dict[str, Any]:
    """One article as the snapshot schema describes it."""
    def iso(value: datetime | None) -> str | None:
        return _local(value).isoformat() if value else None

    source = sources.get(item_row.source_slug)
    return {
        "id": item_row.id,
        "url": item_row.url,
        "canonical_url": item_row.canonical_url,
        "source": item_row.source_slug,
        "source_name": source.name if source else None,
        "title": item_row.title,
        "lead": item_row.lead,
        "body_text": item_row.body_text,
        "author": item_row.author,
        "published_at": iso(item_row.published_at),
        "updated_at": iso(item_row.updated_at),
        "fetched_at": iso(item_row.fetched_at),
        "first_seen_at": iso(item_row.first_seen_at),
        "language": item_row.language,
        "image_urls": list(item_row.image_urls or []),
        "syndicated_from": item_row.syndicated_from,
        "content_hash": item_row.content_hash,
        "cluster_id": item_row.cluster_id or item_row.id,
        "is_canonical": bool(item_row.is_canonical),
        "duplicates": [m.url for m in members if m.id != item_row.id],
        "meeting": Meeting.from_json(item_row.meeting).to_json(),
    }


def write_snapshot(store: Store, sources: dict[str, Source], out: Path, generated_at: datetime) -> Path:
    """snapshots/latest.json (every article, every cluster member) and snapshots/schema.json."""
    rows = store.articles()
    clusters: dict[str, list[ArticleRow]] = {}
    for row in rows:
        clusters.setdefault(row.cluster_id or row.id, []).append(row)
    doc = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": _local(generated_at).isoformat(),
        "count": len(rows),
        "articles": [snapshot_record(r, sources, clusters[r.cluster_id or r.id]) for r in rows],
    }
    path = out / "snapshots" / "latest.json"
    write_atomic(path, json.dumps(doc, ensure_ascii=False, indent=1))
    schema = resources.files("feed").joinpath("snapshot.schema.json").read_bytes()
    write_atomic(out / "snapshots" / "schema.json", schema)
    return path


def publish(store: Store, settings: Settings, sources: list[Source]) -> list[Path]:
    """Write every feed, the snapshot and the index page from the store; returns the files written."""
    out = settings.public
    out.mkdir(parents=True, exist_ok=True)
    by_slug = {s.slug: s for s in sources}
    generated_at = now_utc()
    limit = settings.feed_limit
    everything = build_items(store, by_slug, store.articles())
    meetings = [i for i in everything if i.meeting.is_report]
    specs = [
        FeedSpec("all", FEED_TITLE, "Mọi bài viết từ các trang công đoàn được theo dõi", everything[:limit]),
        FeedSpec("meetings", MEETINGS_TITLE, "Tin tường thuật hội nghị, đại hội công đoàn", meetings[:limit]),
    ]
    for kind in MEETING_KINDS:
        items = [i for i in meetings if i.meeting.kind == kind]
        specs.append(FeedSpec(f"kinds/{kind}", f"unionfeed — {KIND_LABELS[kind]}", KIND_LABELS[kind], items[:limit]))
    written: list[Path] = []
    for spec in specs:
        written.extend(write_feed(spec, settings, out))
    written.append(write_snapshot(store, by_slug, out, generated_at))
    from feed.render import write_index

    written.append(write_index(out, settings, meetings[:50], sources, store, generated_at))
    return written


def clear_output(out: Path) -> None:
    """Remove a published folder (used by the demo before a fresh run)."""
    if out.exists():
        shutil.rmtree(out)
