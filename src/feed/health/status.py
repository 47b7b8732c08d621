"""Acting on the health verdict: breakages, stale selectors and recoveries recorded once (with the failing pages
kept), and the status document. feed.publish.status_files writes status.json and feeds/health.atom from these."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feed.config.sources import ConfigProblem, Source
from feed.health.verdict import SourceHealth, latest_events, source_health
from feed.lang.dates import VN_TZ
from feed.store.api import Store, now_utc
from feed.store.schema import HealthEvent

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
    reasons = [{"code": r.code, "text": r.text} for r in (*health.reasons, *health.flags)]
    note = {
        "source": slug,
        "broken_at": now.isoformat(),
        "reasons": reasons,
        "last_run": health.last_run.to_json() if health.last_run else None,
    }
    (target / "broken.json").write_text(json.dumps(note, ensure_ascii=False, indent=1), encoding="utf-8")
    return str(target.relative_to(data))


def record_transitions(
    store: Store, healths: list[SourceHealth], data: Path, now: datetime | None = None
) -> list[HealthEvent]:
    """Add an event when a source breaks, its selectors go stale, or it recovers (a source never seen broken
    counts as ok)."""
    now = now or now_utc()
    previous = latest_events(store)
    created: list[HealthEvent] = []
    for health in healths:
        if health.state not in ("ok", "broken"):
            continue
        last = previous.get(health.slug)
        state = health.event_state  # broken, stale (ok with its selectors flagged) or ok
        if state == (last.state if last else "ok"):
            continue
        capture = promote_capture(data, health.slug, health, now) if state != "ok" else None
        event = HealthEvent(
            source_slug=health.slug,
            seq=(last.seq + 1) if last else 1,
            at=now,
            state=state,
            reasons=[{"code": r.code, "text": r.text, "text_vi": r.text_vi} for r in (*health.reasons, *health.flags)],
            capture=capture,
        )
        try:
            with store.session() as s:
                s.add(event)
        except IntegrityError:
            continue  # another process announced this change first
        health.since = now
        created.append(event)
        log.warning(
            "source %s is now %s: %s",
            health.slug,
            state,
            "; ".join(r.text for r in (*health.reasons, *health.flags)) or "recovered",
        )
    return created


def recent_events(store: Store, limit: int = HEALTH_FEED_ENTRIES) -> list[HealthEvent]:
    with store.session() as s:
        return list(s.scalars(select(HealthEvent).order_by(HealthEvent.id.desc()).limit(limit)))


def status_document(
    healths: list[SourceHealth],
    generated_at: datetime,
    next_runs: dict[str, datetime] | None = None,
    config_problems: list[ConfigProblem] | None = None,
) -> dict[str, object]:
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
    problems = [
        {
            "file": p.path,
            "line": p.line,
            "entry": p.entry,
            "slug": p.slug,
            "field": p.field,
            "message": p.message,
            "text": str(p),
        }
        for p in config_problems or []
    ]
    return {
        "schema_version": STATUS_SCHEMA_VERSION,
        "generated_at": generated_at.astimezone(VN_TZ).isoformat(),
        "counts": counts,
        "sources": sources,
        "config_problems": problems,
    }


def refresh_verdicts(
    store: Store,
    sources: list[Source],
    data: Path,
    *,
    now: datetime,
    time_limit: int,
    cache: dict[str, SourceHealth] | None = None,
    only: set[str] | None = None,
) -> tuple[list[SourceHealth], list[HealthEvent]]:
    """Judge sources and record breakages and recoveries; returns every source's health and the new events.

    With a cache, only the sources named in `only` (and those not cached yet) are judged again; the rest
    keep their cached judgement. Without one, every source is judged.
    """
    cache = {} if cache is None else cache
    todo = [s for s in sources if only is None or s.slug in only or s.slug not in cache]
    fresh = source_health(store, todo, now=now, time_limit=time_limit)
    created = record_transitions(store, fresh, data, now)
    cache.update({h.slug: h for h in fresh})
    return [cache[s.slug] for s in sources], created
