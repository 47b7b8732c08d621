"""The Vietnamese index page: latest meeting reports with their facts and filters, every feed, each source's state."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from html import escape as _escape
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

from feed import __version__
from feed.formats import FEED_TZ, FeedItem, FeedSpec, safe_url, xml_safe
from feed.models import KIND_LABELS, MEETING_KINDS
from feed.sources import Source
from feed.store import CrawlRun, PageError

if TYPE_CHECKING:
    from feed.publish import PublishContext

INDEX_MEETINGS = 200  # rows on the page; the feeds carry the rest
ERROR_CHARS = 160
FEED_FORMATS = (("atom", "Atom"), ("rss", "RSS"), ("json", "JSON Feed"))
STATES = {
    "ok": "Hoạt động",
    "partial": "Có trang lỗi",
    "broken": "Lỗi: không lấy được bài",
    "failed": "Lỗi: lần thu thập không hoàn tất",
    "overdue": "Quá hạn thu thập",
    "running": "Đang thu thập",
    "never": "Chưa thu thập",
    "off": "Tạm dừng",
}


def escape(value: str) -> str:
    """Text for HTML, without the characters XML forbids or bidi controls (the page is as clean as the feeds)."""
    return _escape(xml_safe(value))


def link(url: str, text: str) -> str:
    """An anchor when the URL is http(s), else the text alone (a javascript: or file: URL never becomes a link)."""
    safe = safe_url(url)
    return f'<a href="{escape(safe)}">{text}</a>' if safe else text


def _template() -> Template:
    return Template(resources.files("feed").joinpath("templates/index.html").read_text(encoding="utf-8"))


def _when(value: datetime | None) -> str:
    return value.astimezone(FEED_TZ).strftime("%H:%M %d/%m/%Y") if value else "—"


def _held(value: str | None, text: str | None) -> str:
    if value:
        try:
            return datetime.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return escape(value)
    return escape(text) if text else "—"


def meeting_row(item: FeedItem) -> str:
    """One table row of a meeting report; its data-* attributes drive the filters."""
    slugs = " ".join(dict.fromkeys([item.source_slug, *item.other_sources]))
    meeting = item.meeting
    also = ""
    if item.also_at:
        links = ", ".join(link(u, escape(n)) for n, u in item.also_at)
        also = f'<br><span class="muted">Cũng đăng tại: {links}</span>'
    period = f'<br><span class="muted">{escape(meeting.period)}</span>' if meeting.period else ""
    return (
        f'<tr data-kind="{escape(meeting.kind or "")}" data-sources="{escape(slugs)}">'
        f'<td>{link(item.link, escape(item.title))}<br><span class="muted">'
        f"{escape(item.source_name)} · {_when(item.published)}</span>{also}</td>"
        f'<td><span class="kind">{escape(KIND_LABELS.get(meeting.kind or "", "—"))}</span>{period}</td>'
        f"<td>{escape(meeting.org or '—')}</td><td>{_held(meeting.held_on, meeting.held_on_text)}</td>"
        f"<td>{escape(meeting.location or '—')}</td></tr>"
    )


def feed_row(spec: FeedSpec) -> str:
    """One feed with links to its three formats."""
    links = " ".join(f'<a href="feeds/{escape(spec.path)}.{fmt}">{label}</a>' for fmt, label in FEED_FORMATS)
    return f"<tr><td>{escape(spec.title.removeprefix('unionfeed — '))}</td><td>{len(spec.items)}</td>" \
           f'<td class="fmt">{links}</td></tr>'


def source_state(source: Source, run: CrawlRun | None, now: datetime) -> str:
    """A key of STATES for a source's latest run."""
    if not source.enabled:
        return "off"
    if run is None:
        return "never"
    if run.finished_at is None:
        return "running"
    if run.finish_reason and run.finish_reason != "finished":
        return "failed"
    if run.errors and not run.new and not run.updated and run.pages <= run.errors:
        return "broken"
    if now - run.finished_at > timedelta(minutes=2 * source.interval + 10):
        return "overdue"
    return "partial" if run.errors else "ok"


def read_health(out: Path) -> dict[str, dict[str, Any]]:
    """Each source's judged health from status.json (feed.health_publish writes it after every crawl)."""
    try:
        document = json.loads((out / "status.json").read_text(encoding="utf-8"))
        return {record["slug"]: record for record in document.get("sources", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def source_row(source: Source, run: CrawlRun | None, error: PageError | None, now: datetime,
               health: dict[str, Any] | None = None) -> str:
    """One source's line in the state table, with the latest error of its latest run."""
    state = source_state(source, run, now)
    message = ""
    # The health judgement looks at the source's history (several failing runs, coverage, silence): when it says
    # broken, the page says so too, with its reason.
    if health and health.get("state") == "broken":
        state = "broken"
        message = escape("; ".join(r.get("text_vi") or r.get("text") or "" for r in health.get("reasons") or []))
    if error is not None and not message:
        text = error.error if len(error.error) <= ERROR_CHARS else error.error[:ERROR_CHARS] + "…"
        message = link(error.url, escape(text))
    counts = f"<td>{run.pages}</td><td>{run.new}</td><td>{run.errors}</td>" if run else "<td>—</td>" * 3
    return (
        f'<tr id="nguon-{escape(source.slug)}"><td>{link(source.homepage, escape(source.name))}'
        f'<br><span class="muted"><a href="feeds/sources/{escape(source.slug)}.atom">kênh tin</a></span></td>'
        f'<td class="state state-{state}">{STATES[state]}</td>'
        f"<td>{_when(run.finished_at or run.started_at) if run else '—'}</td><td>{source.interval} phút</td>"
        f"{counts}<td>{message or '—'}</td></tr>"
    )


def render_index(ctx: PublishContext) -> str:
    """The index page as HTML; every value escaped."""
    meetings = [i for i in ctx.stories.stories if i.is_report][:INDEX_MEETINGS]
    runs = ctx.store.last_runs()
    health = read_health(ctx.out)
    errors: dict[str, PageError] = {}
    for error in ctx.store.page_errors(limit=1000):  # newest first: keep each source's latest of its last run
        run = runs.get(error.source_slug)
        if run is not None and error.run_id == run.id:
            errors.setdefault(error.source_slug, error)
    by_slug = {s.slug: s for s in ctx.sources}
    rows = "\n".join(meeting_row(i) for i in meetings) or \
        '<tr><td colspan="5">Chưa có bài tường thuật hội nghị nào.</td></tr>'
    last_crawl = max((r.finished_at for r in runs.values() if r.finished_at), default=None)
    status_link = ' · <a href="status.json">status.json</a>' if (ctx.out / "status.json").is_file() else ""
    if (ctx.out / "feeds" / "health.atom").is_file():  # written by feed.health_publish after each crawl
        status_link += ' · <a href="feeds/health.atom">kênh tin về tình trạng nguồn (Atom)</a>'

    return _template().substitute(
        n_sources=len(ctx.sources), n_articles=sum(len(m) for m in ctx.stories.clusters.values()),
        n_meetings=sum(i.is_report for i in ctx.stories.stories),
        newest=_when(max((i.published for i in ctx.stories.stories), default=None)), last_crawl=_when(last_crawl),
        kind_options="\n".join(f'<option value="{k}">{escape(KIND_LABELS[k])}</option>' for k in MEETING_KINDS),
        source_options="\n".join(f'<option value="{escape(s.slug)}">{escape(s.name)}</option>'
                                 for s in sorted(by_slug.values(), key=lambda s: s.name)),
        meeting_rows=rows, feed_rows="\n".join(feed_row(s) for s in ctx.specs), status_link=status_link,
        source_rows="\n".join(source_row(s, runs.get(s.slug), errors.get(s.slug), ctx.generated_at,
                                          health.get(s.slug))
                              for s in ctx.sources),
        version=escape(__version__),
    )
