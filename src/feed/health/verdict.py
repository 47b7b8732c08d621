"""Health of each source, judged against its own history: failing or empty runs, falling field coverage, silence.

A run's figures come from its CrawlRun stats (requests, responses by status, discovery outcome, articles
found/new/updated, field coverage). A source is broken when its last FAIL_RUNS judged runs all failed or
found nothing, when its title/date/body coverage falls well below its own history, or when it has been
silent far longer than its usual gap between articles. Runs stopped by us (shutdown), whose process died
(abandoned: marked by the source's next run, or judged so once far past the time limit) or deferred by the
site (Retry-After) are neutral. An obstacle a crawl met and named in its stats (a cookie gate that did not lift,
a discovery page that needs JavaScript; see CAUSES) is the run's cause, and the broken reason of a streak it
ends: each has its own code and wording, in English and Vietnamese. A site that moved whole and was followed
raises the `moved` flag with the entry's fix (a warning, like stale selectors). Selectors that missed on most
article pages of the newest run (the pages were read by the layers below them) raise the selectors_stale flag: a
warning that keeps the source ok, recorded and announced like a breakage. Pages the article judge refused
(feed.extract.judge: menus, sections, about and login pages; never stored) are counted per reason and raise the
not_articles flag ("12 trang không phải bài viết bị bỏ qua: 8 trang chuyên mục, 4 thiếu ngày đăng"), which keeps
the source ok; a run whose every judged page was refused (none read, none known) found nothing, and that is its
cause ("không tìm thấy bài viết: mọi trang đều bị loại"). Recording breakages and recoveries is
feed.health.status; writing status.json and feeds/health.atom is feed.publish.status_files.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select

from feed.config.sources import Source
from feed.health.bounds import run_bounds
from feed.health.words import failure_in_vietnamese
from feed.store.api import ABANDONED, Store, now_utc
from feed.store.schema import ArticleRow, CrawlRun, HealthEvent, PageError

FAIL_RUNS = 3  # judged runs in a row that failed or found nothing before a source is called broken
RUN_WINDOW = 50  # runs of history read per source
FIELDS = ("title", "date", "body")
RECENT_ARTICLES = 3  # fewest fetched articles the recent coverage is judged on
HISTORY_ARTICLES = 10  # fewest fetched articles its history needs
COVERAGE_DROP = 0.3  # "well below": at least this much lower (absolute) …
COVERAGE_RATIO = 0.6  # … and under this share of the historical coverage
GAP_SAMPLE = 60  # newest articles whose publishing gaps make a source's rhythm
GAPS_NEEDED = 5
SILENCE_FACTOR = 4.0  # silent when quiet for this many "usual long gaps" (the 90th percentile gap) …
SILENCE_FLOOR = timedelta(days=3)  # … and never before this: quiet days are normal for small unions
NEUTRAL_REASONS = {"shutdown", "retry_after", ABANDONED}
# Selectors are stale when, in the newest judged run that read article pages, they missed on at least half of
# those pages and on at least STALE_MIN_PAGES of them (the pages were kept: the other layers read them).
STALE_MIN_PAGES = 2
STALE_SHARE = 0.5
RUNNING_GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class Reason:
    # failing | empty | cookie_gate | needs_js | not_articles | coverage | silent | deferred | selectors_stale | moved
    code: str
    text: str  # for operators (English)
    text_vi: str  # for the index page and the health feed


@dataclass(frozen=True)
class Cause:
    """An obstacle a crawl met and named (the stats key holding the URL it met it at), in each wording."""

    code: str
    stat: str  # the run's stats key with the first URL (set by a middleware of unionfeed_scrapers)
    run_en: str  # one run: "… (URL)"
    streak_en: str  # "the last N runs …"
    vi: str  # both, in Vietnamese: "… (URL)" and "N lần thu thập gần nhất …"


# Not an obstacle met on a page but a run's figures: every page it judged was refused as not an article.
NOT_ARTICLES = Cause(
    "not_articles",
    "unionfeed/not_article_url",
    "found no articles: every page was refused as not an article",
    "found no articles: every page was refused as not an article",
    "không tìm thấy bài viết: mọi trang đều bị loại",
)
NOT_ARTICLE_PREFIX = "unionfeed/not_article/"


# In order of precedence: a run stopped by a cookie gate never saw whether its pages needed JavaScript.
CAUSES = (
    Cause(
        "cookie_gate",
        "unionfeed/cookie_gate_url",
        "blocked by a cookie gate",
        "were blocked by a cookie gate",
        "bị chặn bởi cookie",
    ),
    Cause(
        "needs_js",
        "unionfeed/needs_js_url",
        "found no article links: the page needs JavaScript",
        "found no article links: the page needs JavaScript",
        "không tìm thấy liên kết bài viết: trang cần JavaScript",
    ),
)


@dataclass(frozen=True)
class RunFigures:
    """One crawl run as health sees it."""

    run_id: int
    started_at: datetime
    finished_at: datetime | None
    finish_reason: str  # Scrapy's reason, or running / abandoned
    outcome: str  # ok | unchanged | empty | failed | neutral | running
    requests: int
    statuses: dict[str, int]
    not_modified: int
    found: int
    new: int
    updated: int
    errors: int
    extracted: int
    fields: dict[str, int]
    retry_after_until: datetime | None = None
    pages: int = 0  # pages the run fetched (the index page shows it; status.json does not)
    offsite: int = 0  # requests refused by the source's boundary (links, redirects, meta refreshes to other hosts)
    canonical_ignored: int = 0  # pages whose canonical named another host or another source's article
    cause: Reason | None = None  # an obstacle the run met and named (cookie gate, needs JavaScript), with its URL
    cause_url: str | None = None
    selectors_missed: int = 0  # article pages the source's selectors missed (read by the layers below them)
    selectors_missed_url: str | None = None  # the first of them
    moved_to: str | None = None  # where the source's whole site moved ("tuoitre.vn/nld/"), followed this run
    moved_fix: str | None = None  # the entry's fix: its new homepage and discovery URLs
    not_articles: dict[str, int] = field(default_factory=dict)  # pages the judge refused, by reason (never stored)
    not_article_url: str | None = None  # the first of them
    bounds: dict[str, Any] | None = None  # what the run's bounds cut (feed.health.bounds), None when nothing

    def to_json(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": iso(self.finished_at),
            "finish_reason": self.finish_reason,
            "outcome": self.outcome,
            "requests": self.requests,
            "responses": self.statuses,
            "not_modified": self.not_modified,
            "found": self.found,
            "new": self.new,
            "updated": self.updated,
            "errors": self.errors,
            "extracted": self.extracted,
            "fields": self.fields,
            "retry_after_until": iso(self.retry_after_until),
            "selectors_missed": self.selectors_missed,
            "selectors_missed_url": self.selectors_missed_url,
            "moved": {"to": self.moved_to, "fix": self.moved_fix} if self.moved_to else None,
            "not_articles": {
                "count": sum(self.not_articles.values()),
                "reasons": self.not_articles,
                "url": self.not_article_url,
                "text_vi": _count_line(self.not_articles.items()) or None,
            },
            "bounds": self.bounds,
            "cause": (
                {"code": self.cause.code, "text": self.cause.text, "text_vi": self.cause.text_vi, "url": self.cause_url}
                if self.cause
                else None
            ),
        }


@dataclass
class SourceHealth:
    """A source's health now: state, why, and the figures behind it."""

    slug: str
    name: str
    homepage: str
    state: str  # ok | broken | pending (no finished run yet) | disabled
    reasons: list[Reason] = field(default_factory=list)
    since: datetime | None = None  # when the current broken/ok state was announced
    last_run: RunFigures | None = None
    last_success_at: datetime | None = None
    failing_runs: int = 0
    coverage: dict[str, float] | None = None  # recent
    usual_coverage: dict[str, float] | None = None
    newest_article_at: datetime | None = None
    usual_gap: timedelta | None = None
    deferred_until: datetime | None = None
    # Warnings that do not break a source: its articles are still read (selectors_stale: the source's selectors
    # missed on most pages of its newest run; the main-text layers read them).
    flags: list[Reason] = field(default_factory=list)
    # A homepage-only source: what discovery found and remembered (text "2 feeds, 1 sitemap, 4 sections", …).
    discovered: dict[str, Any] | None = None

    @property
    def broken(self) -> bool:
        return self.state == "broken"

    @property
    def event_state(self) -> str:
        """What breakage/recovery events record: broken, stale (ok, selectors flagged), moved (ok, its whole site
        moved and was followed), skipping (ok, pages that are not articles skipped) or ok."""
        if self.broken:
            return "broken"
        codes = {f.code for f in self.flags} if self.state == "ok" else set()
        for code, state in (("selectors_stale", "stale"), ("moved", "moved"), ("not_articles", "skipping")):
            if code in codes:
                return state
        return "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "homepage": self.homepage,
            "state": self.state,
            "reasons": [{"code": r.code, "text": r.text, "text_vi": r.text_vi} for r in self.reasons],
            "flags": [{"code": r.code, "text": r.text, "text_vi": r.text_vi} for r in self.flags],
            "since": iso(self.since),
            "last_run": self.last_run.to_json() if self.last_run else None,
            "last_success_at": iso(self.last_success_at),
            "failing_runs": self.failing_runs,
            "coverage": self.coverage,
            "usual_coverage": self.usual_coverage,
            "newest_article_at": iso(self.newest_article_at),
            "usual_gap_hours": round(self.usual_gap.total_seconds() / 3600, 1) if self.usual_gap else None,
            "deferred_until": iso(self.deferred_until),
            "discovered": self.discovered,
        }


def _count_line(counts: Iterable[tuple[str, int]]) -> str:
    from feed.extract.judge import count_line  # (on use: the page parsers it imports cost a publish 0.05 s)

    return count_line(counts)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


# --- one run ------------------------------------------------------------------------------------------------
def run_figures(run: CrawlRun, now: datetime, time_limit: int) -> RunFigures:
    """Read a run's stats into figures and decide its outcome."""
    stats = run.stats or {}
    statuses = {
        k.rsplit("/", 1)[1]: int(v) for k, v in stats.items() if k.startswith("downloader/response_status_count/")
    }
    found = int(
        stats.get(
            "found",
            run.new + run.updated + int(stats.get("unchanged", 0)) + int(stats.get("unionfeed/skipped_known", 0)),
        )
    )
    reason = run.finish_reason or ""
    if run.finished_at is None and reason != ABANDONED:  # Store.start_run marks the runs of dead processes
        running = now - run.started_at < timedelta(seconds=time_limit) + RUNNING_GRACE
        reason = "running" if running else "abandoned"
    figures = dict(
        run_id=run.id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        finish_reason=reason,
        requests=int(stats.get("downloader/request_count", 0)),
        statuses=statuses,
        not_modified=int(stats.get("unionfeed/not_modified", 0)),
        found=found,
        new=run.new,
        updated=run.updated,
        errors=run.errors,
        extracted=int(stats.get("extracted", 0)),
        fields={name: int(stats.get(f"field_{name}", 0)) for name in FIELDS},
        retry_after_until=parse_time(stats.get("unionfeed/retry_after_until")),
        pages=run.pages,
        offsite=int(stats.get("unionfeed/offsite_refused", 0)),
        canonical_ignored=int(stats.get("unionfeed/canonical_ignored", 0)),
        selectors_missed=int(stats.get("unionfeed/selectors_missed", 0)),
        selectors_missed_url=stats.get("unionfeed/selectors_missed_url") or None,
        moved_to=stats.get("unionfeed/moved_to") or None,
        moved_fix=stats.get("unionfeed/moved_fix") or None,
        not_articles={
            k.removeprefix(NOT_ARTICLE_PREFIX): int(v) for k, v in stats.items() if k.startswith(NOT_ARTICLE_PREFIX)
        },
        not_article_url=stats.get(NOT_ARTICLES.stat) or None,
        bounds=run_bounds(stats),
    )
    met = run_cause(stats)
    if met is not None:
        figures.update(cause=Reason(met[0].code, f"{met[0].run_en} ({met[1]})", f"{met[0].vi} ({met[1]})"))
        figures.update(cause_url=met[1])
    return RunFigures(outcome=outcome(reason, stats, found), **figures)  # type: ignore[arg-type]


def run_cause(stats: dict[str, Any]) -> tuple[Cause, str] | None:
    """The obstacle a run named in its stats, and the first URL it met it at."""
    for cause in CAUSES:
        url = stats.get(cause.stat)
        if isinstance(url, str) and url:
            return cause, url
    if all_refused(stats):
        return NOT_ARTICLES, str(stats.get(NOT_ARTICLES.stat) or "?")
    return None


def all_refused(stats: dict[str, Any]) -> bool:
    """Every page the run judged was refused as not an article: none read (stored or in error), none already known."""
    refused = int(stats.get("unionfeed/not_article", 0))
    return refused > 0 and not int(stats.get("extracted", 0)) and not int(stats.get("unionfeed/skipped_known", 0))


def outcome(reason: str, stats: dict[str, Any], found: int) -> str:
    """ok (articles found), unchanged (discovery said 304), empty, failed, neutral (stopped by us) or running."""
    if reason == "running":
        return "running"
    if reason in NEUTRAL_REASONS:
        return "neutral"
    if reason != "finished" or stats.get("unionfeed/discovery_failed", 0):
        return "failed"
    if all_refused(stats):  # links were found, but none led to an article
        return "empty"
    if found:
        return "ok"
    if stats.get("unionfeed/not_modified", 0):
        return "unchanged"
    return "empty"


# --- judging ------------------------------------------------------------------------------------------------
def failing_streak(runs: list[RunFigures]) -> list[RunFigures]:
    """The newest judged runs that failed or found nothing, up to the first good one (newest first)."""
    streak: list[RunFigures] = []
    for run in runs:
        if run.outcome in ("neutral", "running"):
            continue
        if run.outcome not in ("failed", "empty"):
            break
        streak.append(run)
    return streak


def pooled_coverage(runs: list[RunFigures]) -> tuple[dict[str, float], int] | None:
    extracted = sum(r.extracted for r in runs)
    if not extracted:
        return None
    return {name: round(sum(r.fields.get(name, 0) for r in runs) / extracted, 3) for name in FIELDS}, extracted


def coverage_split(runs: list[RunFigures]) -> tuple[dict[str, float] | None, dict[str, float] | None]:
    """Coverage of the latest runs that fetched articles, and of the runs before them."""
    fetched = [r for r in runs if r.extracted]
    recent: list[RunFigures] = []
    while fetched and sum(r.extracted for r in recent) < RECENT_ARTICLES:
        recent.append(fetched.pop(0))
    now_cov = pooled_coverage(recent)
    past_cov = pooled_coverage(fetched)
    recent_ok = now_cov is not None and now_cov[1] >= RECENT_ARTICLES
    history_ok = past_cov is not None and past_cov[1] >= HISTORY_ARTICLES
    return (now_cov[0] if recent_ok and now_cov else None), (past_cov[0] if history_ok and past_cov else None)


def coverage_reasons(recent: dict[str, float] | None, usual: dict[str, float] | None) -> list[Reason]:
    if recent is None or usual is None:
        return []
    labels = {"title": ("title", "tiêu đề"), "date": ("date", "ngày đăng"), "body": ("body", "nội dung")}
    out = []
    for name in FIELDS:
        if usual[name] - recent[name] >= COVERAGE_DROP and recent[name] < usual[name] * COVERAGE_RATIO:
            en, vi = labels[name]
            out.append(
                Reason(
                    "coverage",
                    f"{en} found on {recent[name]:.0%} of recent articles (usually {usual[name]:.0%})",
                    f"chỉ {recent[name]:.0%} bài gần đây có {vi} (thường là {usual[name]:.0%})",
                )
            )
    return out


def selectors_flag(runs: list[RunFigures]) -> Reason | None:
    """selectors_stale when the newest judged run that read article pages saw its selectors miss on most of them."""
    newest = next((r for r in runs if r.outcome not in ("neutral", "running") and r.extracted), None)
    if newest is None:
        return None
    missed, pages = newest.selectors_missed, newest.extracted
    if missed < STALE_MIN_PAGES or missed < pages * STALE_SHARE:
        return None
    url = newest.selectors_missed_url or "?"
    return Reason(
        "selectors_stale",
        f"selectors stale: the source's selectors missed on {missed} of {pages} article pages of the last run ({url})",
        f"bộ chọn không còn khớp: {missed}/{pages} trang bài viết của lần thu thập gần nhất ({url})",
    )


def moved_flag(runs: list[RunFigures]) -> Reason | None:
    """moved when the newest judged run reached the source's pages through a whole-site move (see
    unionfeed_scrapers.moves): the articles are read, but the entry should name the new host."""
    newest = next((r for r in runs if r.outcome not in ("neutral", "running")), None)
    if newest is None or not newest.moved_to:
        return None
    fix = newest.moved_fix or "?"
    return Reason(
        "moved",
        f"site moved to {newest.moved_to} (permanent redirects, followed); mend the entry in sources.yaml: {fix}",
        f"trang đã chuyển sang {newest.moved_to} (chuyển hướng vĩnh viễn, vẫn thu thập); sửa cấu hình "
        f"trong sources.yaml: {fix}",
    )


def not_articles_flag(runs: list[RunFigures]) -> Reason | None:
    """not_articles when the newest judged run that judged pages refused some as not articles (never stored)."""
    newest = next(
        (r for r in runs if r.outcome not in ("neutral", "running") and (r.extracted or r.not_articles)), None
    )
    if newest is None or not newest.not_articles:
        return None
    url = newest.not_article_url or "?"
    pairs = newest.not_articles.items()
    from feed.extract.judge import count_line, count_line_en

    return Reason("not_articles", f"{count_line_en(pairs)} (e.g. {url})", f"{count_line(pairs)} (ví dụ {url})")


def publishing_rhythm(times: list[datetime]) -> timedelta | None:
    """The source's usual long gap between articles (90th percentile), from newest-first publication times."""
    gaps = [a - b for a, b in pairwise(times) if a > b]
    if len(gaps) < GAPS_NEEDED:
        return None
    seconds = sorted(g.total_seconds() for g in gaps)
    return timedelta(seconds=statistics.quantiles(seconds, n=10, method="inclusive")[-1])


def silence_reason(newest: datetime | None, usual_gap: timedelta | None, now: datetime) -> Reason | None:
    if newest is None or usual_gap is None:
        return None
    quiet = now - newest
    if quiet <= max(SILENCE_FLOOR, usual_gap * SILENCE_FACTOR):
        return None
    (quiet_en, quiet_vi), (gap_en, gap_vi) = span(quiet), span(usual_gap)
    return Reason(
        "silent",
        f"no new article for {quiet_en} (long gaps are usually {gap_en})",
        f"không có bài mới trong {quiet_vi} (thường chỉ cách nhau tối đa {gap_vi})",
    )


def span(value: timedelta) -> tuple[str, str]:
    """A duration in days (or hours when short), in English and Vietnamese."""
    hours = value.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.0f} hours", f"{hours:.0f} giờ"
    return f"{hours / 24:.0f} days", f"{hours / 24:.0f} ngày"


def streak_reason(streak: list[RunFigures], last_error: str | None = None) -> Reason | None:
    if len(streak) < FAIL_RUNS:
        return None
    newest = streak[0]
    met = next((c for c in (*CAUSES, NOT_ARTICLES) if newest.cause is not None and c.code == newest.cause.code), None)
    if met is not None:
        url = newest.cause_url
        return Reason(
            met.code,
            f"the last {len(streak)} runs {met.streak_en} ({url})",
            f"{len(streak)} lần thu thập gần nhất {met.vi} ({url})",
        )
    if newest.outcome == "empty":
        return Reason(
            "empty",
            f"the last {len(streak)} runs found no article links",
            f"{len(streak)} lần thu thập gần nhất không tìm thấy liên kết bài viết",
        )
    codes = ", ".join(f"HTTP {code}" for code in sorted(newest.statuses) if int(code) >= 400) or newest.finish_reason
    # A run that got no HTTP error (refused, timed out, robots.txt, redirect loop) says why in its page errors.
    detail = codes if codes != "finished" else (last_error or "discovery pages could not be fetched")
    failed = sorted(int(code) for code in newest.statuses if int(code) >= 400)
    detail_vi = failure_in_vietnamese(failed, newest.finish_reason, last_error)
    return Reason(
        "failing",
        f"the last {len(streak)} runs failed ({detail})",
        f"{len(streak)} lần thu thập gần nhất bị lỗi ({detail_vi})",
    )


def judge(
    source: Source, runs: list[RunFigures], times: list[datetime], now: datetime, last_error: str | None = None
) -> SourceHealth:
    """A source's health from its runs (newest first), its articles' publication times (newest first) and the
    newest page error of its newest run."""
    health = SourceHealth(source.slug, source.name, source.homepage, state="pending")
    if not source.enabled:
        health.state = "disabled"
    health.last_run = runs[0] if runs else None
    judged = [r for r in runs if r.outcome not in ("neutral", "running")]
    good = [r for r in judged if r.outcome in ("ok", "unchanged")]
    health.last_success_at = (good[0].finished_at or good[0].started_at) if good else None
    streak = failing_streak(runs)
    health.failing_runs = len(streak)
    health.coverage, health.usual_coverage = coverage_split(judged)
    health.newest_article_at = min(times[0], now) if times else None
    health.usual_gap = publishing_rhythm(times)
    deferred = [r.retry_after_until for r in runs[:1] if r.retry_after_until and r.retry_after_until > now]
    health.deferred_until = deferred[0] if deferred else None
    reasons = [r for r in (streak_reason(streak, last_error),) if r]
    reasons += coverage_reasons(health.coverage, health.usual_coverage)
    if good and not streak:  # silence only means something while polls work
        reasons += [r for r in (silence_reason(health.newest_article_at, health.usual_gap, now),) if r]
    health.reasons = reasons
    if health.state != "disabled" and judged:
        health.state = "broken" if reasons else "ok"
    health.flags = [r for r in (selectors_flag(runs), moved_flag(runs), not_articles_flag(runs)) if r]
    if health.deferred_until:
        until = health.deferred_until.isoformat(timespec="minutes")
        health.reasons.append(
            Reason("deferred", f"the site asked us to wait until {until}", f"trang yêu cầu tạm dừng đến {until}")
        )
    return health


# --- reading the store --------------------------------------------------------------------------------------
def publication_times(store: Store, slug: str, limit: int = GAP_SAMPLE) -> list[datetime]:
    """Newest-first publication times (first-seen when undated) of a source's latest articles."""
    when = func.coalesce(ArticleRow.published_at, ArticleRow.first_seen_at)
    query = (
        select(ArticleRow.published_at, ArticleRow.first_seen_at)
        .where(ArticleRow.source_slug == slug)
        .order_by(when.desc())
        .limit(limit)
    )
    with store.session() as s:
        return [published or seen for published, seen in s.execute(query)]


def last_error(store: Store, runs: list[RunFigures]) -> str | None:
    """The first page error of the newest run, shortened for a status line; None when it had none."""
    if not runs:
        return None
    query = select(PageError.error).where(PageError.run_id == runs[0].run_id).order_by(PageError.id).limit(1)
    with store.session() as s:
        error = s.scalar(query)
    text = " ".join(str(error).split()) if error else ""
    return (text[:117] + "…" if len(text) > 120 else text) or None


def latest_events(store: Store) -> dict[str, HealthEvent]:
    """The newest health event of each source."""
    newest = select(func.max(HealthEvent.id)).group_by(HealthEvent.source_slug)
    with store.session() as s:
        return {e.source_slug: e for e in s.scalars(select(HealthEvent).where(HealthEvent.id.in_(newest)))}


def source_health(
    store: Store, sources: list[Source], *, now: datetime | None = None, time_limit: int = 1800
) -> list[SourceHealth]:
    """Every source's health, in config order (what status.json, `unionfeed status` and the index page show)."""
    now = now or now_utc()
    events = latest_events(store)
    out = []
    for source in sources:
        runs = [run_figures(r, now, time_limit) for r in store.runs(source.slug, limit=RUN_WINDOW)]
        health = judge(source, runs, publication_times(store, source.slug), now, last_error(store, runs))
        event = events.get(source.slug)
        if event is not None and event.state == health.event_state:
            health.since = event.at
        health.discovered = discovered_of(store, source)
        out.append(health)
    return out


def discovered_of(store: Store, source: Source) -> dict[str, Any] | None:
    """What discovery found for a homepage-only source, for status.json and `unionfeed status` (None otherwise)."""
    if source.discovery.configured:
        return None
    row = store.discovered(source.slug)
    if row is None:
        return None
    from feed.discover.found import Summary  # (on use: the parsers it imports cost a publish 0.05 s)

    summary = Summary.from_json(row.found)
    return {
        "text": summary.describe(),
        "found_at": iso(row.found_at),
        "used_at": iso(row.used_at),
        "worked": row.worked,
        **summary.to_json(),
    }
