"""The Vietnamese index page: latest meeting reports with their facts, every feed, each source's status."""
# ruff: noqa: E501  (the page template holds long CSS and HTML lines on purpose)

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from feed.atomic import write_atomic
from feed.dates import VN_TZ
from feed.models import KIND_LABELS, MEETING_KINDS
from feed.settings import Settings
from feed.sources import Source
from feed.store import Store

if TYPE_CHECKING:
    from feed.publish import FeedItem

PAGE = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>unionfeed — Tin hội nghị công đoàn</title>
<link rel="alternate" type="application/atom+xml" title="Tin hội nghị công đoàn" href="feeds/meetings.atom">
<link rel="alternate" type="application/rss+xml" title="Tin hội nghị công đoàn" href="feeds/meetings.rss">
<style>
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.5rem}} table{{border-collapse:collapse;width:100%}} td,th{{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}}
.kind{{font-size:.8rem;background:#eef;padding:.1rem .3rem;border-radius:.2rem}} .muted{{color:#666;font-size:.85rem}}
.broken{{color:#a00}} .ok{{color:#070}}
</style>
</head>
<body>
<h1>Tin hội nghị, đại hội công đoàn</h1>
<p class="muted">Cập nhật lúc {generated}. Theo dõi {n_sources} nguồn tin.</p>
<section id="feeds"><h2>Đăng ký nhận tin</h2>
<ul>
<li>Tất cả hội nghị: <a href="feeds/meetings.atom">Atom</a> · <a href="feeds/meetings.rss">RSS</a> · <a href="feeds/meetings.json">JSON Feed</a></li>
<li>Mọi bài viết: <a href="feeds/all.atom">Atom</a> · <a href="feeds/all.rss">RSS</a> · <a href="feeds/all.json">JSON Feed</a></li>
{kind_links}
<li>Dữ liệu cho lập trình viên: <a href="snapshots/latest.json">snapshots/latest.json</a> (<a href="snapshots/schema.json">JSON Schema</a>)</li>
</ul></section>
<section id="meetings"><h2>Hội nghị mới nhất</h2>
<table><thead><tr><th>Bài viết</th><th>Loại</th><th>Đơn vị tổ chức</th><th>Ngày họp</th><th>Địa điểm</th></tr></thead>
<tbody>
{rows}
</tbody></table></section>
<section id="sources"><h2>Tình trạng nguồn tin</h2>
<table><thead><tr><th>Nguồn</th><th>Lần thu thập gần nhất</th><th>Trang</th><th>Bài mới</th><th>Lỗi</th></tr></thead>
<tbody>
{source_rows}
</tbody></table></section>
</body>
</html>
"""


def _date(value: datetime | None) -> str:
    return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if value else "—"


def _held(value: str | None) -> str:
    if not value:
        return "—"
    try:
        return datetime.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return escape(value)


def render_index(settings: Settings, meetings: list[FeedItem], sources: list[Source], store: Store,
                 generated_at: datetime) -> str:
    """The index page as HTML; every value escaped."""
    kind_links = "\n".join(
        f'<li>{escape(KIND_LABELS[k])}: <a href="feeds/kinds/{k}.atom">Atom</a> · '
        f'<a href="feeds/kinds/{k}.rss">RSS</a> · <a href="feeds/kinds/{k}.json">JSON Feed</a></li>'
        for k in MEETING_KINDS
    )
    rows = "\n".join(
        f'<tr data-kind="{escape(i.meeting.kind or "")}" data-source="{escape(i.source_slug)}">'
        f'<td><a href="{escape(i.link)}">{escape(i.title)}</a><br><span class="muted">{escape(i.source_name)} · '
        f'{_date(i.published)}</span></td><td><span class="kind">{escape(KIND_LABELS.get(i.meeting.kind or "", "—"))}'
        f'</span></td><td>{escape(i.meeting.org or "—")}</td><td>{_held(i.meeting.held_on)}</td>'
        f'<td>{escape(i.meeting.location or "—")}</td></tr>'
        for i in meetings
    ) or '<tr><td colspan="5">Chưa có bài tường thuật hội nghị nào.</td></tr>'
    runs = store.last_runs()
    source_rows = []
    for source in sources:
        run = runs.get(source.slug)
        state = "—" if run is None else _date(run.finished_at or run.started_at)
        css = "broken" if run is not None and run.errors and not run.new and not run.pages else "ok"
        source_rows.append(
            f'<tr class="{css}"><td><a href="{escape(source.homepage)}">{escape(source.name)}</a></td><td>{state}</td>'
            f"<td>{run.pages if run else 0}</td><td>{run.new if run else 0}</td><td>{run.errors if run else 0}</td></tr>"
        )
    return PAGE.format(
        generated=_date(generated_at), n_sources=len(sources), kind_links=kind_links, rows=rows,
        source_rows="\n".join(source_rows),
    )


def write_index(out: Path, settings: Settings, meetings: list[FeedItem], sources: list[Source], store: Store,
                generated_at: datetime) -> Path:
    """Write index.html atomically."""
    path = out / "index.html"
    write_atomic(path, render_index(settings, meetings, sources, store, generated_at))
    return path
