"""The Vietnamese index page: latest meeting reports with their facts and filters, every feed, each source's state.

A source's state is feed.health.verdict's judgement (the one status.json and `unionfeed status` show), with the
latest run's nuances (running, failed, overdue, pages with errors) read off the run figures it holds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape as _escape
from importlib import resources
from string import Template

from feed import __version__
from feed.config.sources import Source
from feed.health.verdict import SourceHealth
from feed.health.words import in_vietnamese
from feed.lang.dates import VN_TZ
from feed.lang.text import strip_accents
from feed.publish.calendar import feed_calendar
from feed.publish.context import PublishContext
from feed.publish.feed_writer import FeedItem, FeedSpec, safe_url, xml_safe
from feed.publish.query_static import province_slug
from feed.records import KIND_LABELS, MEETING_KINDS
from feed.store.api import PageError

INDEX_MEETINGS = 200  # rows on the page; the feeds carry the rest
ERROR_CHARS = 160
FEED_FORMATS = (("atom", "Atom"), ("rss", "RSS"), ("json", "JSON Feed"))
STATES = {
    "ok": "Hoạt động",
    "partial": "Có trang lỗi",
    "stale": "Bộ chọn không còn khớp",
    "moved": "Trang đã chuyển địa chỉ",
    "broken": "Lỗi: không lấy được bài",
    "failed": "Lỗi: lần thu thập không hoàn tất",
    "overdue": "Quá hạn thu thập",
    "running": "Đang thu thập",
    "never": "Chưa thu thập",
    "off": "Tạm dừng",
}
BROKEN_STATES = ("broken", "failed")
BANNER_NAMES = 6  # broken sources named in the banner; the state table lists them all


def escape(value: str) -> str:
    """Text for HTML, without the characters XML forbids or bidi controls (the page is as clean as the feeds)."""
    return _escape(xml_safe(value))


def link(url: str, text: str) -> str:
    """An anchor when the URL is http(s), else the text alone (a javascript: or file: URL never becomes a link)."""
    safe = safe_url(url)
    return f'<a href="{escape(safe)}">{text}</a>' if safe else text


def _template() -> Template:
    return Template(resources.files("feed.publish").joinpath("templates/index.html").read_text(encoding="utf-8"))


def _when(value: datetime | None) -> str:
    return value.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y") if value else "—"


def _held(value: str | None, text: str | None) -> str:
    if value:
        try:
            return datetime.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return escape(value)
    return escape(text) if text else "—"


def meeting_row(item: FeedItem, provinces: dict[str, str] | None = None) -> str:
    """One table row of a meeting report; its data-* attributes drive the filters and the search box."""
    slugs = " ".join(dict.fromkeys([item.source_slug, *item.other_sources]))
    where = "|".join(dict.fromkeys(p for s in slugs.split() if (p := (provinces or {}).get(s))))
    meeting = item.meeting
    also = ""
    if item.also_at:
        links = ", ".join(link(u, escape(n)) for n, u in item.also_at)
        also = f'<br><span class="muted">Cũng đăng tại: {links}</span>'
    period = f'<br><span class="muted">{escape(meeting.period)}</span>' if meeting.period else ""
    return (
        f'<tr data-kind="{escape(meeting.kind or "")}" data-sources="{escape(slugs)}"'
        f' data-provinces="{escape(where)}">'
        f'<td data-label="Bài viết">{link(item.link, escape(item.title))}<br><span class="muted">'
        f"{escape(item.source_name)} · {_when(item.published)}</span>{also}</td>"
        f'<td data-label="Loại"><span class="kind">{escape(KIND_LABELS.get(meeting.kind or "", "—"))}</span>'
        f"{period}</td>"
        f'<td data-label="Đơn vị tổ chức">{escape(meeting.org or "—")}</td>'
        f'<td data-label="Ngày họp">{_held(meeting.held_on, meeting.held_on_text)}</td>'
        f'<td data-label="Địa điểm">{escape(meeting.location or "—")}</td></tr>'
    )


def feed_row(spec: FeedSpec) -> str:
    """One feed with links to its three formats."""
    links = " ".join(f'<a href="feeds/{escape(spec.path)}.{fmt}">{label}</a>' for fmt, label in FEED_FORMATS)
    calendar = feed_calendar(spec.path)  # meetings, each kind and each province have a calendar beside the feed
    if calendar is not None:
        links += f' <a href="{escape(calendar)}" type="text/calendar">Lịch (iCal)</a>'
    return (
        f'<tr><td data-label="Kênh tin">{escape(spec.title)}</td>'
        f'<td data-label="Số bài">{len(spec.items)}</td><td data-label="Định dạng" class="fmt">{links}</td></tr>'
    )


def province_calendar(province: str, calendars: set[str]) -> str:
    """The province option's data-lich attribute: its calendar, when this publish writes one (its feed exists)."""
    path = f"feeds/provinces/{province_slug(province)}.ics"
    return f' data-lich="{escape(path)}"' if path in calendars else ""


def source_state(source: Source, health: SourceHealth | None, now: datetime) -> str:
    """A key of STATES: the health verdict, then what its latest run figures say."""
    if not source.enabled or (health is not None and health.state == "disabled"):
        return "off"
    if health is not None and health.broken:
        return "broken"
    run = health.last_run if health is not None else None
    if run is None:
        return "never"
    if run.outcome == "running":
        return "running"
    if run.outcome == "failed":
        return "failed"
    if run.finished_at is not None and now - run.finished_at > timedelta(minutes=2 * source.interval + 10):
        return "overdue"
    if health is not None and any(f.code == "selectors_stale" for f in health.flags):
        return "stale"  # articles still read, but the source's selectors need mending
    if health is not None and any(f.code == "moved" for f in health.flags):
        return "moved"  # articles still read, but the entry should name the site's new host
    return "partial" if run.errors else "ok"


def source_row(source: Source, health: SourceHealth | None, error: PageError | None, now: datetime) -> str:
    """One source's line in the state table, with why it is broken or else the latest error of its latest run."""
    state = source_state(source, health, now)
    run = health.last_run if health is not None else None
    message = ""
    if state == "broken" and health is not None:
        message = escape("; ".join(r.text_vi or r.text for r in health.reasons))
    if not message and health is not None and health.flags:  # each flag's text names its first page
        urls = {
            "selectors_stale": run.selectors_missed_url if run else None,
            "not_articles": run.not_article_url if run else None,
        }
        message = "; ".join(link(urls.get(f.code) or "", escape(f.text_vi)) for f in health.flags)
    if not message and run is not None and run.cause is not None:  # an obstacle named before it breaks the source
        message = link(run.cause_url or "", escape(run.cause.text_vi))
    if error is not None and not message:
        message = error_html(error)
    figures = (run.pages, run.new, run.errors) if run else ("—", "—", "—")
    labels = ("Trang", "Bài mới", "Lỗi")
    counts = "".join(f'<td data-label="{label}">{value}</td>' for label, value in zip(labels, figures, strict=True))
    return (
        f'<tr id="nguon-{escape(source.slug)}"><td data-label="Nguồn">{link(source.homepage, escape(source.name))}'
        f'<br><span class="muted"><a href="feeds/sources/{escape(source.slug)}.atom">kênh tin</a></span></td>'
        f'<td data-label="Tình trạng" class="state state-{state}">{STATES[state]}</td>'
        f'<td data-label="Lần thu thập gần nhất">{_when(run.finished_at or run.started_at) if run else "—"}</td>'
        f'<td data-label="Chu kỳ">{source.interval} phút</td>'
        f'{counts}<td data-label="Lỗi gần nhất">{message or "—"}</td></tr>'
    )


def error_html(error: PageError) -> str:
    """A page error in Vietnamese words linking to its page, the stored text beside it when it adds something."""
    words = in_vietnamese(error.error)
    html = link(error.url, escape(words.text_vi))
    if words.detail:
        detail = words.detail if len(words.detail) <= ERROR_CHARS else words.detail[:ERROR_CHARS] + "…"
        html += f' <span class="muted chi-tiet">({escape(detail)})</span>'
    return html


def banner(states: dict[str, str], names: dict[str, str]) -> str:
    """A warning above everything when sources are broken: all of them, or how many and which."""
    watched = [slug for slug, state in states.items() if state != "off"]
    broken = [slug for slug in watched if states[slug] in BROKEN_STATES]
    if not broken:
        return ""
    if len(broken) == len(watched):
        text = (
            f"Tất cả {len(watched)} nguồn tin đang lỗi: không thu thập được bài mới nào. "
            'Xem <a href="#nguon-tin">tình trạng nguồn tin</a>.'
        )
        return f'<div id="canh-bao" class="banner banner-all" role="alert"><p>{text}</p></div>'
    shown = ", ".join(f'<a href="#nguon-{escape(slug)}">{escape(names[slug])}</a>' for slug in broken[:BANNER_NAMES])
    more = f" và {len(broken) - BANNER_NAMES} nguồn khác" if len(broken) > BANNER_NAMES else ""
    text = f"{len(broken)} trên {len(watched)} nguồn tin đang lỗi: {shown}{more}."
    return f'<div id="canh-bao" class="banner" role="status"><p>{text}</p></div>'


def render_index(ctx: PublishContext) -> str:
    """The index page as HTML; every value escaped."""
    meetings = [i for i in ctx.stories.stories if i.is_report][:INDEX_MEETINGS]
    runs = {slug: h.last_run for slug, h in ctx.health.items() if h.last_run is not None}
    errors: dict[str, PageError] = {}
    for error in ctx.store.page_errors(limit=1000):  # newest first: keep each source's latest of its last run
        run = runs.get(error.source_slug)
        if run is not None and error.run_id == run.run_id:
            errors.setdefault(error.source_slug, error)
    by_slug = {s.slug: s for s in ctx.sources}
    provinces = {s.slug: s.province for s in ctx.sources if s.province}
    calendars = {c for c in (feed_calendar(s.path) for s in ctx.specs) if c is not None}
    states = {s.slug: source_state(s, ctx.health.get(s.slug), ctx.generated_at) for s in ctx.sources}
    rows = (
        "\n".join(meeting_row(i, provinces) for i in meetings)
        or '<tr><td colspan="5">Chưa có bài tường thuật hội nghị nào.</td></tr>'
    )
    last_crawl = max((r.finished_at for r in runs.values() if r.finished_at), default=None)
    status_link = ' · <a href="status.json">status.json</a>' if (ctx.out / "status.json").is_file() else ""
    if (ctx.out / "feeds" / "health.atom").is_file():  # written by feed.publish.status_files after each crawl
        status_link += ' · <a href="feeds/health.atom">kênh tin về tình trạng nguồn (Atom)</a>'

    return _template().substitute(
        n_sources=len(ctx.sources),
        n_articles=ctx.stories.total
        if ctx.stories.total is not None
        else sum(len(m) for m in ctx.stories.clusters.values()),
        n_meetings=sum(i.is_report for i in ctx.stories.stories),
        newest=_when(max((i.published for i in ctx.stories.stories), default=None)),
        last_crawl=_when(last_crawl),
        kind_options="\n".join(f'<option value="{k}">{escape(KIND_LABELS[k])}</option>' for k in MEETING_KINDS),
        source_options="\n".join(
            f'<option value="{escape(s.slug)}">{escape(s.name)}</option>'
            for s in sorted(by_slug.values(), key=lambda s: s.name)
        ),
        province_options="\n".join(
            f'<option value="{escape(p)}"{province_calendar(p, calendars)}>{escape(p)}</option>'
            for p in sorted(set(provinces.values()), key=lambda p: (strip_accents(p), p))
        ),
        province_hidden="" if provinces else " hidden",
        banner=banner(states, {s.slug: s.name for s in ctx.sources}),
        meeting_rows=rows,
        feed_rows="\n".join(feed_row(s) for s in ctx.specs),
        status_link=status_link,
        source_rows="\n".join(
            source_row(s, ctx.health.get(s.slug), errors.get(s.slug), ctx.generated_at) for s in ctx.sources
        ),
        version=escape(__version__),
    )
