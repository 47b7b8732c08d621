"""`unionfeed sources check`: fetch each source's discovery URLs and a few articles, and say what is wrong.

For an operator on the real internet, after adding or editing a source. Sequential and polite (the configured
delay between requests, the project's User-Agent); a handful of requests a source, no crawl state touched.
"""

from __future__ import annotations

import time
import urllib.error
from dataclasses import dataclass, field
from urllib.parse import urljoin

import feedparser
from lxml import etree
from parsel import Selector

from feed.app.http_client import request
from feed.config.settings import Settings
from feed.config.sources import Source
from feed.extract.article import MIN_BODY_CHARS, extract
from feed.lang.urls import host_of

FIELDS = ("title", "published", "author", "lead", "body")
SAMPLE = 3
MAX_BYTES = 5 * 1024 * 1024


@dataclass
class Report:
    """What checking one source found."""

    slug: str
    discovery_ok: int = 0
    discovery_total: int = 0
    articles: list[str] = field(default_factory=list)
    sampled: int = 0
    coverage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    methods: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class Fetcher:
    """urllib GETs with the project's User-Agent, a timeout and a pause between requests."""

    def __init__(self, settings: Settings) -> None:
        self.politeness = settings.politeness
        self.timeout = settings.politeness.download_timeout
        self.delay = settings.politeness.download_delay
        self._last = 0.0

    def get(self, url: str) -> bytes:
        """The body of a 200 response; HTTPError/URLError/OSError otherwise."""
        wait = self._last + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            return request(url, self.politeness, timeout=self.timeout, max_bytes=MAX_BYTES)
        finally:
            self._last = time.monotonic()


def _problem(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        return f"unreachable ({error.reason})"
    return f"{type(error).__name__}: {error}"


def feed_links(data: bytes) -> list[str]:
    """Entry links of an RSS/Atom document (feedparser tolerates the ill-formed ones sites serve)."""
    parsed = feedparser.parse(data)
    return [entry.get("link") for entry in parsed.entries if entry.get("link")]


def sitemap_links(data: bytes) -> tuple[list[str], bool]:
    """<loc> URLs of a sitemap, and whether it is an index of further sitemaps."""
    root = etree.fromstring(data, parser=etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    if root is None:
        return [], False
    locs = [el.text.strip() for el in root.iter() if isinstance(el.tag, str) and el.tag.endswith("loc") and el.text]
    return locs, root.tag.endswith("sitemapindex")


def listing_links(data: bytes, url: str, selector: str) -> list[str]:
    """Absolute hrefs that a listing's link selector matches."""
    hrefs = Selector(text=data.decode("utf-8", "replace")).css(selector).xpath("@href | .//a/@href").getall()
    return [urljoin(url, href.strip()) for href in hrefs if href.strip() and not href.startswith(("#", "javascript:"))]


def discover(source: Source, fetch: Fetcher, report: Report) -> None:
    """Fetch every discovery URL of a source and collect article URLs, noting each failure."""
    found: list[str] = []
    steps: list[tuple[str, str, str | None]] = [("feed", url, None) for url in source.discovery.feeds]
    steps += [("sitemap", url, None) for url in source.discovery.sitemaps]
    steps += [("listing", listing.url, source.listing_rule(listing)[0]) for listing in source.discovery.listings]
    for kind, url, selector in steps:
        report.discovery_total += 1
        try:
            data = fetch.get(url)
        except Exception as exc:
            report.problems.append(f"{kind} {url}: {_problem(exc)}")
            continue
        links = _links(kind, data, url, selector, fetch)
        if not links:
            what = f"no links match {selector!r}" if kind == "listing" else "no entries"
            report.problems.append(f"{kind} {url}: {what}")
            continue
        report.discovery_ok += 1
        found.extend(links)
    report.articles = _article_urls(source, found)
    if found and not report.articles:
        report.problems.append(
            f"{len(set(found))} links found but none is an article URL of this site "
            f"(article_pattern {source.discovery.article_pattern!r})"
        )
    elif not found:
        report.problems.append("no article URLs found")


def _links(kind: str, data: bytes, url: str, selector: str | None, fetch: Fetcher) -> list[str]:
    if kind == "feed":
        return feed_links(data)
    if kind == "listing":
        return listing_links(data, url, selector or "a")
    locs, is_index = sitemap_links(data)
    if not is_index:
        return locs
    pages: list[str] = []
    for child in locs[:2]:  # an index's first sitemaps are enough to see whether it works
        try:
            pages.extend(sitemap_links(fetch.get(child))[0])
        except Exception:
            continue
    return pages


def _article_urls(source: Source, links: list[str]) -> list[str]:
    import re

    pattern = re.compile(source.discovery.article_pattern) if source.discovery.article_pattern else None
    hosts = {host_of(source.homepage)} | {host_of(u) for u in (*source.discovery.feeds, *source.discovery.sitemaps)}
    hosts |= {host_of(listing.url) for listing in source.discovery.listings}
    kept = [u for u in links if host_of(u) in hosts and (pattern is None or pattern.search(u))]
    return list(dict.fromkeys(kept))


def sample(source: Source, fetch: Fetcher, report: Report, count: int) -> None:
    """Fetch and extract the first few articles; count which fields came out and by which path."""
    rules = source.effective_selectors()
    missing: dict[str, int] = dict.fromkeys(FIELDS, 0)
    for url in report.articles[:count]:
        try:
            data = fetch.get(url)
        except Exception as exc:
            report.problems.append(f"article {url}: {_problem(exc)}")
            continue
        art = extract(data, url, selectors=rules)
        report.sampled += 1
        report.methods[art.method] = report.methods.get(art.method, 0) + 1
        values = {
            "title": art.title,
            "published": art.published_at,
            "author": art.author,
            "lead": art.lead,
            "body": art.body_text if len(art.body_text) >= MIN_BODY_CHARS else None,
        }
        for name, value in values.items():
            report.coverage[name] += value is not None
            missing[name] += value is None
    for name in ("title", "published", "body"):
        if report.sampled and missing[name]:
            report.problems.append(f"{name} missing on {missing[name]}/{report.sampled} sampled articles")
    if rules.body and report.sampled and report.methods.get("selectors", 0) < report.sampled:
        report.problems.append(
            f"body selector {rules.body!r} matched on {report.methods.get('selectors', 0)}/"
            f"{report.sampled}; the rest fell back to other paths"
        )


def check_source(source: Source, fetch: Fetcher, count: int = SAMPLE) -> Report:
    """Discovery, then a sample of articles, for one source."""
    report = Report(source.slug)
    discover(source, fetch, report)
    sample(source, fetch, report, count)
    return report


def print_reports(reports: list[Report]) -> None:
    """One table row per source, problems spelled out under it."""
    from rich.console import Console
    from rich.table import Table

    table = Table("source", "discovery", "articles", "sampled", *FIELDS, "path", "status")
    for r in reports:
        cover = [f"{r.coverage[f]}/{r.sampled}" if r.sampled else "-" for f in FIELDS]
        path = ", ".join(f"{m} {n}" for m, n in sorted(r.methods.items())) or "-"
        status = "ok" if r.ok else "; ".join(r.problems)
        table.add_row(
            r.slug, f"{r.discovery_ok}/{r.discovery_total}", str(len(r.articles)), str(r.sampled), *cover, path, status
        )
    Console(width=200).print(table)


def check_sources(settings: Settings, sources: list[Source], *, sample_size: int = SAMPLE) -> int:
    """Check every given source against its live site; exit status 1 when any has a problem."""
    if not sources:
        print("no sources to check")
        return 1
    fetch = Fetcher(settings)
    reports = [check_source(source, fetch, sample_size) for source in sources]
    print_reports(reports)
    return 0 if all(r.ok for r in reports) else 1
