"""status.json and feeds/health.atom: the health verdict written for people and programs, after every crawl.

Written by the scheduler (and `unionfeed status --write`), not by publish: a publish that changed nothing
rewrites nothing, and status.json carries the time it was judged.
"""

from __future__ import annotations

import html
import json
from datetime import datetime

from feed import __version__
from feed.config.settings import Settings
from feed.config.sources import Source, read_sources
from feed.health.status import recent_events, refresh_verdicts, status_document
from feed.health.verdict import SourceHealth
from feed.publish.feed_writer import GUID_PREFIX, rfc3339, xml_attr, xml_text
from feed.publish.transaction import write_atomic
from feed.store.api import Store, now_utc
from feed.store.schema import HealthEvent

HEALTH_TITLE = "Tình trạng nguồn tin"
STATE_TITLES = {
    "broken": "Nguồn tin bị lỗi",
    "stale": "Bộ chọn của nguồn tin không còn khớp",
    "skipping": "Nguồn tin có trang không phải bài viết bị bỏ qua",
    "moved": "Nguồn tin đã chuyển trang",  # a whole-site move followed (the flag holds the fix)
}


def _health_entry(event: HealthEvent, name: str, base: str) -> str:
    broken = event.state in ("broken", "stale", "skipping", "moved")
    title = f"{STATE_TITLES.get(event.state, 'Nguồn tin hoạt động trở lại')}: {name}"
    lines = (
        [r.get("text_vi") or r.get("text", "") for r in event.reasons]
        if broken
        else ["Lần thu thập gần nhất đã thành công."]
    )
    if event.capture:
        lines.append(f"Trang lỗi đã được lưu tại {event.capture} (dữ liệu của unionfeed).")
    content = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    at = rfc3339(event.at)
    return (
        f"<entry>\n<id>{xml_text(f'{GUID_PREFIX}health:{event.source_slug}:{event.seq}')}</id>\n"
        f'<title type="text">{xml_text(title)}</title>\n'
        f'<link rel="alternate" type="application/json" href="{xml_attr(base)}status.json"/>\n'
        f"<published>{at}</published>\n<updated>{at}</updated>\n"
        f'<category term="{xml_attr(event.state)}"/>\n'
        f'<content type="html">{xml_text(content)}</content>\n</entry>\n'
    )


def health_feed(events: list[HealthEvent], names: dict[str, str], settings: Settings) -> bytes:
    """feeds/health.atom: one entry per breakage, stale-selectors flag, pages skipped as not articles or recovery,
    newest first. Written with feed.publish.feed_writer's escaping and times (whole seconds, +07:00), like every
    other feed."""
    base = settings.site_url.rstrip("/") + "/"
    self_url = f"{base}feeds/health.atom"
    updated = rfc3339(events[0].at if events else now_utc())
    head = (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">\n'
        f'<id>{xml_text(self_url)}</id>\n<title type="text">{xml_text(HEALTH_TITLE)}</title>\n'
        '<subtitle type="text">Nguồn tin bị lỗi và hoạt động trở lại</subtitle>\n'
        f"<updated>{updated}</updated>\n"
        f'<link rel="self" type="application/atom+xml" href="{xml_attr(self_url)}"/>\n'
        f'<link rel="alternate" type="application/json" href="{xml_attr(base)}status.json"/>\n'
        f"<author><name>unionfeed</name><uri>{xml_text(base)}</uri></author>\n"
        f'<generator uri="https://github.com/unionfeed/unionfeed" version="{xml_attr(__version__)}">unionfeed'
        "</generator>\n"
    )
    entries = "".join(_health_entry(e, names.get(e.source_slug, e.source_slug), base) for e in events)
    return (head + entries + "</feed>\n").encode("utf-8")


def refresh_health(
    store: Store,
    settings: Settings,
    sources: list[Source],
    *,
    next_runs: dict[str, datetime] | None = None,
    now: datetime | None = None,
    cache: dict[str, SourceHealth] | None = None,
    only: set[str] | None = None,
) -> list[HealthEvent]:
    """Judge sources, record breakages and recoveries, write both files; returns the new events.

    With a cache, only the sources named in `only` (and those not cached yet) are judged again; the rest
    keep their cached judgement. Without one, every source is judged.
    """
    now = now or now_utc()
    healths, created = refresh_verdicts(
        store, sources, settings.data, now=now, time_limit=settings.crawl_time_limit, cache=cache, only=only
    )
    out = settings.public
    # A broken entry is not crawled, so no run of it can break: status.json names it instead.
    problems = read_sources(settings.config)[1]
    write_atomic(
        out / "status.json",
        json.dumps(status_document(healths, now, next_runs, problems), ensure_ascii=False, indent=1),
    )
    write_atomic(
        out / "feeds" / "health.atom", health_feed(recent_events(store), {s.slug: s.name for s in sources}, settings)
    )
    return created
