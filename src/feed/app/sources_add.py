"""`unionfeed sources add URL`: a short probe crawl of a site given by its homepage, and the entry it proposes.

The probe is the real crawl (the same spider, boundary, robots.txt, cookie gate, moved-site and JavaScript checks,
homepage discovery of `unionfeed_scrapers.homepage`) run in a child process against a scratch store in a temporary
folder: nothing of the operator's store, captures or feeds is touched. It stops after a few articles (or a page
budget, or a time limit), then reads back what discovery found, the articles stored, and the source's health as
`unionfeed status` would show it. From those it proposes a `sources.yaml` entry (printed, or appended with
`--write` after the whole file is validated), with comments saying how sure each part is.

`unionfeed sources check` runs the same probe for each configured source (after its quick check of discovery URLs
and sample fields) and prints the same report; `--no-probe` leaves the probe out.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from feed.app.crawl_runner import CrawlOptions, crawl, run_child
from feed.config.settings import Settings
from feed.config.sources import ConfigError, Source, SourceKind, read_sources
from feed.discover.found import Summary
from feed.health.verdict import SourceHealth, source_health
from feed.lang.dates import VN_TZ
from feed.lang.text import strip_accents
from feed.store.api import ArticleRow, Store

SAMPLE = 3  # articles the probe reads before it stops
PAGE_BUDGET = 60  # pages (discovery, listings, articles) a probe may fetch at most
TIME_LIMIT = 120  # seconds a probe may run


@dataclass
class Probe:
    """What one probe crawl of a source found."""

    source: Source
    status: int  # the crawl child's exit status
    summary: Summary | None  # what discovery found (a source without configured discovery)
    samples: list[ArticleRow] = field(default_factory=list)
    health: SourceHealth | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (url, error) of the pages that failed

    @property
    def obstacles(self) -> list[str]:
        """What stood in the way, in the words `unionfeed status` uses (cookie gate, moved, needs JavaScript …)."""
        if self.health is None:
            return []
        found = [r.text for r in (*self.health.reasons, *self.health.flags)]
        run = self.health.last_run
        if run is not None and run.cause is not None and not self.health.reasons:  # named before it breaks a source
            found.append(run.cause.text)  # its text names the URL
        return found

    @property
    def needs_js(self) -> bool:
        run = self.health.last_run if self.health is not None else None
        return run is not None and run.cause is not None and run.cause.code == "needs_js"

    @property
    def works(self) -> bool:
        return bool(self.samples)

    @property
    def requests(self) -> int:
        return int(self.stats.get("downloader/request_count") or 0)

    @property
    def offsite(self) -> int:
        return int(self.stats.get("unionfeed/offsite_refused") or 0)


def _probe_child(settings: Settings, source: Source, options: CrawlOptions) -> None:
    import sys

    from feed.app.logs import configure_logging

    configure_logging(40)  # errors only: the report says what happened
    sys.exit(1 if crawl(settings, [source], options, registry=[source]) else 0)


def probe(
    settings: Settings, source: Source, *, sample: int = SAMPLE, time_limit: int = TIME_LIMIT, pages: int = PAGE_BUDGET
) -> Probe:
    """Crawl `source` briefly into a scratch store and read back what it found (the operator's data is untouched)."""
    with tempfile.TemporaryDirectory(prefix="unionfeed-probe-") as tmp:
        scratch = replace(settings, data=Path(tmp), database_url=None, public_dir=None, crawl_time_limit=time_limit)
        options = CrawlOptions(
            extra=(
                ("CLOSESPIDER_ITEMCOUNT", sample),
                ("CLOSESPIDER_PAGECOUNT", pages),
                ("HTTPCACHE_ENABLED", False),
            )
        )
        args = (scratch, source, options)
        status = run_child(_probe_child, args, name=f"probe[{source.slug}]", timeout=time_limit + 30)
        store = Store(scratch.db_url)
        try:
            remembered = store.discovered(source.slug)
            summary = Summary.from_json(remembered.found) if remembered is not None else None
            samples = sorted(
                store.articles(source_slug=source.slug),
                key=lambda r: r.published_at or r.first_seen_at,
                reverse=True,
            )[:sample]
            (health,) = source_health(store, [source], time_limit=time_limit)
            runs = store.runs(source.slug, limit=1)
            stats = dict(runs[0].stats or {}) if runs else {}
            errors = [(e.url, e.error) for e in store.page_errors(source.slug, limit=20)]
        finally:
            store.close()
    return Probe(source, status, summary, samples, health, stats, errors)


# --- the proposed entry ---------------------------------------------------------------------------------------
_TLDS = re.compile(r"\.(?:com|org|net|gov|edu|info|net|ac|int)?\.?vn$|\.(?:com|org|net|info|edu)$")


def slug_for(url: str) -> str:
    """A slug from a homepage URL: congdoan.cantho.gov.vn -> congdoan-cantho, tuoitre.vn/nld/ -> tuoitre-nld."""
    parts = urlsplit(url)
    host = (parts.hostname or "site").removeprefix("www.")
    host = _TLDS.sub("", host) or host
    words = [host.replace(".", "-"), *[p for p in parts.path.split("/") if p][:1]]
    slug = re.sub(r"[^a-z0-9-]+", "-", strip_accents("-".join(words)).lower()).strip("-")
    return re.sub(r"-{2,}", "-", slug)[:60] or "site"


_KIND_WORDS: tuple[tuple[SourceKind, tuple[str, ...]], ...] = (
    (SourceKind.LABOUR_FEDERATION, ("lien doan lao dong", "ldld", "congdoan tinh", "cong doan tinh")),
    (SourceKind.SECTOR_UNION, ("cong doan nganh", "cong doan tong cong ty", "cong doan giao thong")),
    (SourceKind.MINISTRY, ("bo noi vu", "bo lao dong", "bo ")),
    (SourceKind.ACADEMY, ("hoc vien", "truong dai hoc", "dai hoc", "university", "academy")),
    (SourceKind.UNION_PORTAL, ("cong doan", "congdoan")),
    (SourceKind.NATIONAL_PAPER, ("bao lao dong", "bao nguoi lao dong", "bao ")),
)


def guess_kind(name: str, homepage: str) -> SourceKind:
    """A first guess at the source's kind from its name and host; the operator confirms it."""
    host = urlsplit(homepage).hostname or ""
    text = f" {strip_accents(name).lower()} {strip_accents(host).lower()} "
    for kind, words in _KIND_WORDS:
        if any(word in text for word in words):
            return kind
    return SourceKind.OTHER


def _day(row: ArticleRow) -> str:
    when = row.published_at
    return when.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if when else "no date"


def confidence(probe: Probe) -> tuple[str, str]:
    """How sure the proposal is ("high", "medium", "low", "none") and why, in one line."""
    summary = probe.summary
    if not probe.works:
        why = "; ".join(probe.obstacles) or "no article was read"
        return "none", why
    if summary is None:
        return "high", f"the configured discovery gave {len(probe.samples)} articles"
    if summary.feeds or summary.sitemaps:
        return "high", f"articles read through {'a feed' if summary.feeds else 'a sitemap'}"
    if summary.confidence >= 0.6:
        return "medium", f"articles read from sections; the URL shape covers {summary.confidence:.0%} of their links"
    return "low", "articles read from sections without a clear URL shape: check the samples"


def proposed_entry(probe: Probe, *, kind: SourceKind | None = None, name: str | None = None) -> dict[str, Any]:
    """The `sources.yaml` entry a probe supports: the homepage, and the discovery it found pinned when sure."""
    source, summary = probe.source, probe.summary
    title = name or (summary.site_name if summary and summary.site_name else None) or source.name
    entry: dict[str, Any] = {
        "slug": source.slug,
        "name": title,
        "kind": (kind or guess_kind(title, source.homepage)).value,
        "homepage": source.homepage,
    }
    if source.render != "http":
        entry["render"] = source.render
    if summary is not None and not summary.empty:
        discovery: dict[str, Any] = {}
        if summary.feeds:
            discovery["feeds"] = list(summary.feeds)
        if summary.sitemaps:
            discovery["sitemaps"] = list(summary.sitemaps)
        if summary.sections and not summary.feeds:
            discovery["listings"] = [{"url": url} for url in summary.sections]
        if summary.article_pattern and summary.confidence >= 0.6:
            discovery["article_pattern"] = summary.article_pattern
        entry["discovery"] = discovery
    level, why = confidence(probe)
    today = datetime.now(VN_TZ).date().isoformat()
    entry["verified"] = {
        "urls": level == "high",
        "markup": False,
        "note": f"proposed by `unionfeed sources add` on {today} ({level}: {why})",
    }
    return entry


def render_entry(entry: dict[str, Any]) -> str:
    """The entry as a YAML list item indented for the `sources:` list of sources.yaml."""
    text = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=110)
    return "".join(f"  {line}" if line.strip() else line for line in text.splitlines(keepends=True))


def report(probe: Probe) -> list[str]:
    """What the probe found, for the operator: discovery, URL shape, samples, obstacles, requests."""
    level, why = confidence(probe)
    lines = [f"{probe.source.slug} ({probe.source.homepage}): {level} confidence — {why}"]
    summary = probe.summary
    if summary is not None:
        lines.append(f"  discovered: {summary.describe()}")
        lines += [f"    feed    {u}" for u in summary.feeds]
        lines += [f"    sitemap {u}" for u in summary.sitemaps]
        lines += [f"    section {u}" for u in summary.sections]
        if summary.article_pattern:
            lines.append(f"  article URL shape: {summary.article_pattern} ({summary.confidence:.0%} of links)")
    for row in probe.samples:
        lines.append(f"  sample: {_day(row)}  {row.title or '(no title)'}  <{row.url}>")
    for text in probe.obstacles:
        lines.append(f"  obstacle: {text}")
    for url, error in probe.errors[:3]:
        lines.append(f"  page error: {error} ({url})")
    if probe.needs_js and probe.source.render != "browser":
        lines.append("  hint: its pages are built by scripts; probe again with --render browser")
    lines.append(f"  requests: {probe.requests}, refused outside the source's hosts: {probe.offsite}")
    return lines


def append_entry(path: Path, entry: dict[str, Any]) -> None:
    """Append the entry to the sources file, keeping its comments; ConfigError (file unchanged) when the file
    would not load with it, or the slug is taken."""
    text = path.read_text(encoding="utf-8")
    sources, problems = read_sources(path)
    if any(s.slug == entry["slug"] for s in sources) or any(p.slug == entry["slug"] for p in problems):
        raise ConfigError(f"{path}: a source with slug {entry['slug']!r} exists; give another with --slug")
    if not re.search(r"^sources:\s*$", text, re.MULTILINE) or re.search(r"^\S", text.split("\nsources:", 1)[-1], re.M):
        raise ConfigError(f"{path}: the sources list is not the file's last top-level key; paste the entry by hand")
    new = text.rstrip("\n") + "\n\n" + render_entry(entry)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(new, encoding="utf-8")
    try:
        _, after = read_sources(tmp)
        added = [p for p in after if p.slug == entry["slug"]]
        if added:
            raise ConfigError("; ".join(str(p) for p in added))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def homepage_source(url: str, slug: str | None, render: str = "http") -> Source:
    """The probe's source: the homepage alone (a homepage is enough), as an operator would first write it."""
    url = unicodedata.normalize("NFC", url.strip())
    if not urlsplit(url).path:
        url += "/"
    name = urlsplit(url).hostname or url
    fields = {"slug": slug or slug_for(url), "name": name, "kind": "other", "homepage": url, "render": render}
    return Source.model_validate(fields)


def add_source(
    settings: Settings,
    url: str,
    *,
    slug: str | None = None,
    kind: str | None = None,
    name: str | None = None,
    render: str = "http",
    write: bool = False,
    out: Any = None,
) -> int:
    """Probe a homepage and print (or append) the proposed entry; 0 when it read articles, 1 when not."""
    import sys

    out = out or sys.stdout
    try:
        source = homepage_source(url, slug, render)
        chosen_kind = SourceKind(kind) if kind else None
    except ValueError as exc:
        print(f"sources add: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    found = probe(settings, source)
    for line in report(found):
        print(f"# {line}", file=out)
    entry = proposed_entry(found, kind=chosen_kind, name=name)
    print(render_entry(entry), file=out, end="")
    if write:
        if not found.works:
            print(f"sources add: not written to {settings.config}: the probe read no article", file=sys.stderr)
            return 1
        try:
            append_entry(settings.config, entry)
        except (ConfigError, OSError) as exc:
            print(f"sources add: not written: {exc}", file=sys.stderr)
            return 1
        print(f"# written to {settings.config}", file=out)
    return 0 if found.works else 1


def probe_sources(settings: Settings, sources: Sequence[Source], out: Any = None) -> int:
    """`sources check`: the probe's report for each configured source; 1 when any read no article."""
    import sys

    out = out or sys.stdout
    worked = True
    for source in sources:
        found = probe(settings, source)
        worked = worked and found.works
        for line in report(found):
            print(line, file=out)
    return 0 if worked else 1
