"""What an alert tells: the meeting reports published since a channel's last alert and the sources that broke or
recovered since then, read from what the product already keeps (never computed again here).

Meeting reports come from the published feeds/meetings.json (JSON Feed, with the facts under `_unionfeed`): the
alert names exactly the stories readers were given, under the same GUIDs. Breakages and recoveries are the health
events feed.health.status records (one per change of a source's state, numbered by the store).

A channel that follows saved queries is given each report with the names of the queries that found it
(`queries`, in the channel's order; [] on a channel that follows every report). The e-mail lists each report
once, under one heading per set of queries found it: a report that two queries find is under a heading naming
both, before the reports of the second query alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from feed.lang.dates import VN_TZ
from feed.records import KIND_LABELS
from feed.store.api import Store
from feed.store.schema import HealthEvent

MEETINGS_FEED = "feeds/meetings.json"
STATE_WORDS = {
    "broken": "gặp sự cố",
    "stale": "bộ chọn nội dung đã lỗi thời",
    "skipping": "bỏ qua nhiều trang không phải bài viết",
    "ok": "đã hoạt động trở lại",
}
PRIVATE = ("article_id", "cluster_id")  # what matching needs from the feed, not what a receiver is told


@dataclass
class Digest:
    """One channel's news: meeting reports (newest first) and health events (oldest first)."""

    meetings: list[dict[str, Any]] = field(default_factory=list)
    health: list[dict[str, Any]] = field(default_factory=list)
    last_event: int = 0  # the newest health event id this digest covers
    test: bool = False
    follows: tuple[str, ...] = ()  # the channel's saved queries (() = every report)
    titles: dict[str, str] = field(default_factory=dict)  # each saved query's feed title, for the e-mail

    def __bool__(self) -> bool:
        return bool(self.meetings or self.health or self.test)

    def to_json(self, site_url: str) -> dict[str, Any]:
        return {
            "type": "unionfeed.test" if self.test else "unionfeed.alert",
            "site": site_url,
            "meetings": [{k: v for k, v in m.items() if k not in PRIVATE} for m in self.meetings],
            "health": self.health,
        }


def published_meetings(public: Path) -> list[dict[str, Any]]:
    """Every meeting report in the published meetings feed, newest first, as the alert shows it."""
    try:
        doc = json.loads((public / MEETINGS_FEED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    out = []
    for item in doc.get("items") or []:
        facts = item.get("_unionfeed") or {}
        meeting = facts.get("meeting") or {}
        kind = meeting.get("kind")
        out.append(
            {
                "id": item.get("id"),
                "title": item.get("title"),
                "url": item.get("url"),
                "published": item.get("date_published"),
                "source": facts.get("source"),
                "kind": kind,
                "kind_label": KIND_LABELS.get(kind or ""),
                "org": meeting.get("org"),
                "held_on": meeting.get("held_on"),
                "location": meeting.get("location"),
                "article_id": facts.get("article_id"),
                "cluster_id": facts.get("cluster_id"),
            }
        )
    return [m for m in out if isinstance(m["id"], str)]


def last_event_id(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.max(HealthEvent.id))) or 0)


def health_events(store: Store, after: int, limit: int = 500) -> list[dict[str, Any]]:
    """Health events with an id above `after`, oldest first."""
    with store.session() as s:
        rows = list(s.scalars(select(HealthEvent).where(HealthEvent.id > after).order_by(HealthEvent.id).limit(limit)))
    return [
        {
            "id": e.id,
            "source": e.source_slug,
            "state": e.state,
            "state_text": STATE_WORDS.get(e.state, e.state),
            "at": e.at.astimezone(VN_TZ).isoformat(timespec="seconds"),
            "reasons": [r.get("text_vi") or r.get("text") or "" for r in e.reasons or []],
        }
        for e in rows
    ]


def subject(digest: Digest) -> str:
    """The e-mail subject: what the digest holds, in Vietnamese."""
    if digest.test:
        return "unionfeed: thư thử nghiệm cảnh báo"
    parts = []
    if digest.meetings:
        parts.append(f"{len(digest.meetings)} tin hội nghị mới")
    broken = sum(1 for h in digest.health if h["state"] != "ok")
    recovered = len(digest.health) - broken
    if broken:
        parts.append(f"{broken} nguồn gặp sự cố")
    if recovered:
        parts.append(f"{recovered} nguồn hoạt động trở lại")
    return "unionfeed: " + ", ".join(parts)


def plain_text(digest: Digest, site_url: str) -> str:
    """The e-mail body: one paragraph a meeting report, one line a change of a source's state."""
    if digest.test:
        return f"Đây là thư thử nghiệm từ unionfeed ({site_url}): cấu hình cảnh báo qua e-mail hoạt động.\n"
    lines = []
    for names, meetings in _by_queries(digest):
        lines.append("TIN HỘI NGHỊ MỚI" + (f" khớp truy vấn {_named(names, digest.titles)}" if names else ""))
        for m in meetings:
            facts = [m["kind_label"] or "Hội nghị"]
            if m["org"]:
                facts.append(f"đơn vị tổ chức: {m['org']}")
            if m["held_on"]:
                facts.append(f"ngày họp: {m['held_on']}")
            if m["location"]:
                facts.append(f"địa điểm: {m['location']}")
            lines += ["", f"* {m['title']}", f"  {'; '.join(facts)}", f"  {m['url']}"]
        lines.append("")
    if digest.health:
        lines.append("TÌNH TRẠNG NGUỒN TIN")
        for h in digest.health:
            why = f": {'; '.join(r for r in h['reasons'] if r)}" if any(h["reasons"]) else ""
            lines.append(f"* {h['source']} {h['state_text']} lúc {h['at']}{why}")
        lines.append("")
    lines.append(f"Trang tin: {site_url}")
    return "\n".join(lines) + "\n"


def _by_queries(digest: Digest) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    """The reports under each set of saved queries that found them (newest first within), the sets in the channel's
    order of its queries: (a,), (a, b), (b,)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for m in digest.meetings:
        groups.setdefault(tuple(m.get("queries") or ()), []).append(m)
    place = {name: n for n, name in enumerate(digest.follows)}
    return sorted(groups.items(), key=lambda group: [place.get(name, len(place)) for name in group[0]])


def _named(names: tuple[str, ...], titles: dict[str, str]) -> str:
    """ "“dai-hoi-thanh-hoa” (Tìm “đại hội” · Thanh Hóa) và “giao-duc” (Công đoàn Giáo dục)"."""
    said = [f"“{n}”" + (f" ({titles[n]})" if titles.get(n) else "") for n in names]
    return ", ".join(said[:-1]) + f" và {said[-1]}" if len(said) > 1 else said[0]
