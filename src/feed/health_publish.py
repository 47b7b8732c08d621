"""Telling people about source health: breakages and recoveries recorded once, status.json, feeds/health.atom."""

from __future__ import annotations

import html
import json
import logging
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from feedgen.feed import FeedGenerator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feed import __version__
from feed.atomic import write_atomic
from feed.dates import VN_TZ
from feed.health import HealthEvent, SourceHealth, ensure_tables, latest_events, source_health
from feed.settings import Settings
from feed.sources import ConfigProblem, Source, read_sources
from feed.store import Store, now_utc

log = logging.getLogger(__name__)
STATUS_SCHEMA_VERSION = "1.0"
HEALTH_FEED_ENTRIES = 50


def promote_capture(data: Path, slug: str, health: SourceHealth, now: datetime) -> str | None:
    """Copy the pages the crawl saved for a source to broken/<slug>/<time>/, to become test fixtures."""
    source = data / "captures" / slug
    if not source.is_dir():
        return None
    target = data / "broken" / slug / now.astimezone(VN_TZ).strftime("%Y%m%d-%H%M%S")
    shutil.copytree(source, target, dirs_exist_ok=True)
    reasons = [{"code": r.code, "text": r.text} for r in health.reasons]
    note = {"source": slug, "broken_at": now.isoformat(), "reasons": reasons,
            "last_run": health.last_run.to_json() if health.last_run else None}
    (target / "broken.json").write_text(json.dumps(note, ensure_ascii=False, indent=1), encoding="utf-8")
    return str(target.relative_to(data))


def record_transitions(store: Store, healths: list[SourceHealth], data: Path,
                       now: datetime | None = None) -> list[HealthEvent]:
    """Add an event when a source breaks or recovers (a source never seen broken counts as ok)."""
    now = now or now_utc()
    previous = latest_events(store)
    created: list[HealthEvent] = []
    for health in healths:
        if health.state not in ("ok", "broken"):
            continue
        last = previous.get(health.slug)
        if health.state == (last.state if last else "ok"):
            continue
        capture = promote_capture(data, health.slug, health, now) if health.broken else None
        event = HealthEvent(source_slug=health.slug, seq=(last.seq + 1) if last else 1, at=now, state=health.state,
                            reasons=[{"code": r.code, "text": r.text, "text_vi": r.text_vi} for r in health.reasons],
                            capture=capture)
        try:
            with store.session() as s:
                s.add(event)
        except IntegrityError:
            continue  # another process announced this change first
        health.since = now
        created.append(event)
        log.warning("source %s is now %s: %s", health.slug, health.state,
                    "; ".join(r.text for r in health.reasons) or "recovered")
    return created


def recent_events(store: Store, limit: int = HEALTH_FEED_ENTRIES) -> list[HealthEvent]:
    ensure_tables(store)
    with store.session() as s:
        return list(s.scalars(select(HealthEvent).order_by(HealthEvent.id.desc()).limit(limit)))


def status_document(healths: list[SourceHealth], generated_at: datetime,
                    next_runs: dict[str, datetime] | None = None,
                    config_problems: list[ConfigProblem] | None = None) -> dict[str, object]:
    """status.json: every source's state, reasons and latest figures, and the config entries that were skipped."""
    counts: dict[str, int] = {}
    for health in healths:
        counts[health.state] = counts.get(health.state, 0) + 1
    sources = []
    for health in healths:
        record = health.to_json()
        when = (next_runs or {}).get(health.slug)
        record["next_run"] = when.astimezone(VN_TZ).isoformat() if when else None
        sources.append(record)
    problems = [{"file": p.path, "line": p.line, "entry": p.entry, "slug": p.slug, "field": p.field,
                 "message": p.message, "text": str(p)} for p in config_problems or []]
    return {"schema_version": STATUS_SCHEMA_VERSION, "generated_at": generated_at.astimezone(VN_TZ).isoformat(),
            "counts": counts, "sources": sources, "config_problems": problems}


def health_feed(events: list[HealthEvent], names: dict[str, str], settings: Settings) -> bytes:
    """feeds/health.atom: one entry per breakage or recovery, newest first."""
    base = settings.site_url.rstrip("/") + "/"
    fg = FeedGenerator()
    fg.id(f"{base}feeds/health.atom")
    fg.title("unionfeed — Tình trạng nguồn tin")
    fg.subtitle("Nguồn tin bị lỗi và hoạt động trở lại")
    fg.language("vi")
    fg.author({"name": "unionfeed"})
    fg.generator("unionfeed", version=__version__)
    fg.link(href=f"{base}feeds/health.atom", rel="self")
    fg.link(href=f"{base}status.json", rel="alternate", type="application/json")
    fg.updated((events[0].at if events else now_utc()).astimezone(VN_TZ))
    for event in events:
        name = names.get(event.source_slug, event.source_slug)
        entry = fg.add_entry(order="append")
        entry.id(f"urn:unionfeed:health:{event.source_slug}:{event.seq}")
        broken = event.state == "broken"
        entry.title(f"Nguồn tin bị lỗi: {name}" if broken else f"Nguồn tin hoạt động trở lại: {name}")
        entry.link(href=f"{base}status.json", rel="alternate")
        entry.published(event.at.astimezone(VN_TZ))
        entry.updated(event.at.astimezone(VN_TZ))
        lines = [r.get("text_vi") or r.get("text", "") for r in event.reasons] if broken else [
            "Lần thu thập gần nhất đã thành công."]
        if event.capture:
            lines.append(f"Trang lỗi đã được lưu tại {event.capture} (dữ liệu của unionfeed).")
        entry.content("".join(f"<p>{html.escape(line)}</p>" for line in lines), type="html")
        entry.category(term=event.state)
    return bytes(fg.atom_str(pretty=True))


def refresh_health(store: Store, settings: Settings, sources: list[Source], *,
                   next_runs: dict[str, datetime] | None = None, now: datetime | None = None,
                   cache: dict[str, SourceHealth] | None = None, only: set[str] | None = None) -> list[HealthEvent]:
    """Judge sources, record breakages and recoveries, write both files; returns the new events.

    With a cache, only the sources named in `only` (and those not cached yet) are judged again; the rest
    keep their cached judgement. Without one, every source is judged.
    """
    now = now or now_utc()
    ensure_tables(store)
    cache = {} if cache is None else cache
    todo = [s for s in sources if only is None or s.slug in only or s.slug not in cache]
    fresh = source_health(store, todo, now=now, time_limit=settings.crawl_time_limit)
    created = record_transitions(store, fresh, settings.data, now)
    cache.update({h.slug: h for h in fresh})
    healths = [cache[s.slug] for s in sources]
    out = settings.public
    # A broken entry is not crawled, so no run of it can break: status.json names it instead.
    problems = read_sources(settings.config)[1]
    write_atomic(out / "status.json",
                 json.dumps(status_document(healths, now, next_runs, problems), ensure_ascii=False, indent=1))
    write_atomic(out / "feeds" / "health.atom",
                 health_feed(recent_events(store), {s.slug: s.name for s in sources}, settings))
    return created


def publish_health(store: Store, settings: Settings, sources: list[Source], *,
                   next_runs: dict[str, datetime] | None = None, now: datetime | None = None) -> list[Path]:
    """Judge every source, announce breakages and recoveries once, write status.json and feeds/health.atom."""
    refresh_health(store, settings, sources, next_runs=next_runs, now=now)
    return [settings.public / "status.json", settings.public / "feeds" / "health.atom"]


STATE_STYLES = {"ok": "green", "broken": "bold red", "pending": "yellow", "disabled": "dim"}


def status_table(healths: list[SourceHealth]) -> Any:
    """A rich table of every source's health, for `unionfeed status`."""
    from rich.table import Table

    table = Table("source", "state", "why", "last run", "outcome", "req", "304", "found", "new", "upd", "err",
                  "title/date/body", "newest article", title="unionfeed sources")
    for h in healths:
        run = h.last_run
        when = run.finished_at or run.started_at if run else None
        coverage = "/".join(f"{h.coverage[f]:.0%}" for f in ("title", "date", "body")) if h.coverage else "—"
        style = STATE_STYLES.get(h.state, "")
        table.add_row(
            h.slug, f"[{style}]{h.state}[/]" if style else h.state, "; ".join(r.text for r in h.reasons) or "",
            f"{when.astimezone(VN_TZ):%Y-%m-%d %H:%M}" if when else "never", run.outcome if run else "",
            *(str(x) for x in ((run.requests, run.not_modified, run.found, run.new, run.updated, run.errors)
                               if run else ("",) * 6)),
            coverage, f"{h.newest_article_at.astimezone(VN_TZ):%Y-%m-%d}" if h.newest_article_at else "—",
        )
    return table
