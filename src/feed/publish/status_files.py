"""status.json and feeds/health.atom: the health verdict written for people and programs, after every crawl.

Written by the scheduler (and `unionfeed status --write`), not by publish: a publish that changed nothing
rewrites nothing, and status.json carries the time it was judged.
"""

from __future__ import annotations

import html
import json
from datetime import datetime

from feedgen.feed import FeedGenerator

from feed import __version__
from feed.config.settings import Settings
from feed.config.sources import Source, read_sources
from feed.health.status import recent_events, refresh_verdicts, status_document
from feed.health.verdict import SourceHealth
from feed.lang.dates import VN_TZ
from feed.publish.feed_writer import GUID_PREFIX
from feed.publish.transaction import write_atomic
from feed.store.api import Store, now_utc
from feed.store.schema import HealthEvent


def health_feed(events: list[HealthEvent], names: dict[str, str], settings: Settings) -> bytes:
    """feeds/health.atom: one entry per breakage, stale-selectors flag, pages skipped as not articles or recovery,
    newest first."""
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
        entry.id(f"{GUID_PREFIX}health:{event.source_slug}:{event.seq}")
        broken = event.state in ("broken", "stale", "skipping", "moved")
        titles = {
            "broken": "Nguồn tin bị lỗi",
            "stale": "Bộ chọn của nguồn tin không còn khớp",
            "skipping": "Nguồn tin có trang không phải bài viết bị bỏ qua",
            "moved": "Nguồn tin đã chuyển trang",  # a whole-site move followed (the flag holds the fix)
        }
        entry.title(f"{titles.get(event.state, 'Nguồn tin hoạt động trở lại')}: {name}")
        entry.link(href=f"{base}status.json", rel="alternate")
        entry.published(event.at.astimezone(VN_TZ))
        entry.updated(event.at.astimezone(VN_TZ))
        lines = (
            [r.get("text_vi") or r.get("text", "") for r in event.reasons]
            if broken
            else ["Lần thu thập gần nhất đã thành công."]
        )
        if event.capture:
            lines.append(f"Trang lỗi đã được lưu tại {event.capture} (dữ liệu của unionfeed).")
        entry.content("".join(f"<p>{html.escape(line)}</p>" for line in lines), type="html")
        entry.category(term=event.state)
    return bytes(fg.atom_str(pretty=True))


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
