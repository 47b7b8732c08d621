"""What a homepage-only source offers to be watched: feeds, sitemaps, listing sections, and the article shape.

Read from fetched text only (the spider fetches; see `unionfeed_scrapers.homepage` for the order it asks in):

1. feeds named by the homepage (and any section page): `<link rel="alternate">` of an RSS or Atom type, or an
   untyped one whose URL reads like a feed (trafilatura's test); comment feeds are left out;
2. sitemaps named in robots.txt (`Sitemap:` lines, read by trafilatura's helper), news sitemaps first;
3. while neither works: the feed paths worth probing when no page names a feed (`FEED_PROBES`), then, when
   robots.txt names none, the sitemap paths (`SITEMAP_PROBES`), one at a time until one answers;
4. listing sections: same-host links of the homepage, in menus too (that is where sections are), that are not
   articles by the learnt shape, not the homepage, not an "about", contact, login, search, tag, feed or file
   link; union sections ("công đoàn", "lao động", "tin tức", "hoạt động", …) first. A candidate is a section
   when its page links at least `MIN_SECTION_ARTICLES` articles outside its navigation blocks.

`Summary` is what was found for one source (what the store remembers and the status shows); `summarize` builds it
from fetched pages, for the spider and for a command that proposes a sources.yaml entry from a URL. trafilatura is
imported when first used: publish and status import this module for `Summary` only (half a second saved each).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from feed.discover.links import PageLink, page_links, parse_html
from feed.discover.shapes import ANY_ARTICLE, LearnedShape, learn_article_pattern
from feed.lang.text import fold
from feed.lang.urls import canonicalize_url, origin_of, web_url

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/rss",
        "application/atom",
        "text/rss+xml",
        "text/atom+xml",
        "application/x-rss+xml",
    }
)
# Conventional feed paths, most common on Vietnamese news CMSs and WordPress first. Probed one at a time, and
# only until one answers a feed with items.
FEED_PROBES = ("/rss", "/rss/home.rss", "/rss.xml", "/feed/", "/feed", "/index.rss", "/atom.xml")
SITEMAP_PROBES = ("/sitemap.xml", "/sitemap_index.xml", "/sitemap-news.xml")
MAX_NAMED_FEEDS = 3  # feeds named by the homepage that are fetched
MAX_SITEMAPS = 3  # sitemaps named by robots.txt that are fetched
MAX_SECTIONS = 6  # section candidates fetched
SECTION_NAME_WORDS = 5  # a link text this short names a section, not a headline
MIN_SECTION_ARTICLES = 3  # article links (outside navigation) a page needs to be a listing section
# Links that are never sections: about, contact, login, search, tags, feeds, sitemaps, files, print and share.
NOT_SECTIONS = re.compile(
    r"gioi-?thieu|lien-?he|dang-?nhap|dang-?ky|login|register|tim-?kiem|search|/tags?/|/tu-?khoa|/chu-?de/|/tac-?gia"
    r"|sitemap|/rss|/feed|\.(?:rss|xml|pdf|docx?|xlsx?|jpe?g|png|gif|zip|rar|mp[34])(?:$|\?)|/print|share|"
    r"so-?do|site-?map|ban-?do|hoi-?dap|contact|about|gop-?y|video|/anh/|photo|thu-?vien|van-?ban",
    re.IGNORECASE,
)
UNION_WORDS = {
    "cong doan": 3,
    "lao dong": 2,
    "doan vien": 2,
    "cong nhan": 2,
    "tin tuc": 1,
    "hoat dong": 1,
    "thoi su": 1,
    "su kien": 1,
}
NEWS_SITEMAP = re.compile(r"news|tin-?tuc|bai-?viet|post", re.IGNORECASE)


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def feeds_in_page(text: str | bytes, base_url: str) -> list[str]:
    """Feeds a page names in `<link rel="alternate">` (RSS, Atom or RDF types, or untyped with a feed-like URL),
    absolute, in page order, comment feeds left out."""
    tree = parse_html(text)
    if tree is None:
        return []
    out: list[str] = []
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        if "alternate" not in rel or not href:
            continue
        kind = _media_type(link.get("type"))
        if kind not in FEED_TYPES and (kind or not _feed_like(href)):
            continue
        url = web_url(base_url, href)
        if url and not re.search(r"\bcomments?\b", url) and url not in out:
            out.append(url)
    return out


def _feed_like(href: str) -> bool:
    """trafilatura's test of an untyped alternate link's URL."""
    from trafilatura.feeds import LINK_VALIDATION_RE

    return bool(LINK_VALIDATION_RE.search(href))


def probe_urls(homepage: str, paths: Sequence[str]) -> list[str]:
    """The probe paths on the homepage's origin."""
    return [urljoin(homepage, path) for path in paths]


def sitemaps_in_robots(text: str, base_url: str) -> list[str]:
    """Sitemaps named in robots.txt (`Sitemap:` lines), absolute, news sitemaps first."""
    from trafilatura.sitemaps import extract_robots_sitemaps

    root = f"{urlsplit(base_url).scheme}://{urlsplit(base_url).netloc}"
    found = [web_url(root, u) for u in extract_robots_sitemaps(text, root)]
    urls = list(dict.fromkeys(u for u in found if u))
    return sorted(urls, key=lambda u: not NEWS_SITEMAP.search(urlsplit(u).path))


def looks_like_feed(body: bytes) -> bool:
    """An RSS, Atom or RDF document (not an HTML page a soft 404 answers with)."""
    head = body[:2000].decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if "<html" in head[:300].lower():
        return False
    from trafilatura.feeds import is_potential_feed

    return is_potential_feed(head) and bool(re.search(r"<(?:rss|feed|rdf:RDF)\b", head))


def looks_like_sitemap(body: bytes) -> bool:
    """A sitemap or sitemap index (XML), gzip or not (Scrapy's sitemap reader unpacks it)."""
    if body[:2] == b"\x1f\x8b":
        return True
    head = body[:2000].decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    return "<html" not in head[:300].lower() and bool(re.search(r"<(?:[\w.-]+:)?(?:urlset|sitemapindex)\b", head))


def section_candidates(
    links: Iterable[PageLink], homepage: str, is_article: Any, limit: int = MAX_SECTIONS
) -> list[str]:
    """Same-origin links of the homepage that may be listing sections, best first (union words in the link's text
    or URL first, then page order), at most `limit`. `is_article(url)` tells an article link (menu links and links
    named in a few words are taken whatever their shape)."""
    origin = origin_of(homepage)
    home = canonicalize_url(homepage)
    scored: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for order, link in enumerate(links):
        url = link.url
        try:
            if origin_of(url) != origin:
                continue
        except ValueError:
            continue
        key = canonicalize_url(url)
        # A menu link, or one named in a few words ("Văn hóa - Xã hội"), is a section even when its slug is long
        # enough to pass for an article ("/van-hoa-xa-hoi") — unless its URL carries an id (…-1234.html): then, as a
        # headline-long link that looks like an article, it is one.
        named_briefly = (link.in_nav or 0 < len(link.text.split()) <= SECTION_NAME_WORDS) and not re.search(
            r"\d{3,}", urlsplit(url).path
        )
        if key in seen or key == home or urlsplit(url).path in ("", "/") or (is_article(url) and not named_briefly):
            continue
        seen.add(key)
        if NOT_SECTIONS.search(urlsplit(url).path) or NOT_SECTIONS.search(url.split("?", 1)[-1] if "?" in url else ""):
            continue
        words = fold(f"{link.text} {urlsplit(url).path.replace('-', ' ').replace('/', ' ')}")
        score = sum(weight for w, weight in UNION_WORDS.items() if w in words)
        scored.append((-score, order, url))
    return [url for _, _, url in sorted(scored)[:limit]]


def article_links(links: Iterable[str], pattern: re.Pattern[str] | None) -> list[str]:
    """The links matching the article pattern (any article shape when none was learnt)."""
    shape = pattern or ANY_ARTICLE
    return [u for u in links if shape.search(u)]


@dataclass
class Summary:
    """What discovery found for one source: remembered by the store, shown by `unionfeed status`."""

    homepage: str
    feeds: list[str] = field(default_factory=list)  # feeds that answered with items
    sitemaps: list[str] = field(default_factory=list)  # sitemaps that answered as sitemaps
    sections: list[str] = field(default_factory=list)  # listing pages (the homepage too when it lists articles)
    article_pattern: str | None = None  # the learnt shape's regex
    confidence: float = 0.0
    families: list[str] = field(default_factory=list)
    named_feeds: list[str] = field(default_factory=list)  # what the homepage named, worked or not
    probes: int = 0  # conventional paths asked
    site_name: str | None = None  # the homepage's og:site_name, else its <title>

    @property
    def empty(self) -> bool:
        return not (self.feeds or self.sitemaps or self.sections)

    def describe(self) -> str:
        """ "2 feeds, 1 sitemap, 4 sections" (and the article shape when one was learnt)."""

        def count(n: int, word: str) -> str:
            return f"{n} {word}" + ("" if n == 1 else "s")

        text = ", ".join(
            (count(len(self.feeds), "feed"), count(len(self.sitemaps), "sitemap"), count(len(self.sections), "section"))
        )
        if self.families:
            text += f"; articles like {' | '.join(self.families)} ({self.confidence:.0%})"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "homepage": self.homepage,
            "feeds": list(self.feeds),
            "sitemaps": list(self.sitemaps),
            "sections": list(self.sections),
            "article_pattern": self.article_pattern,
            "confidence": self.confidence,
            "families": list(self.families),
            "named_feeds": list(self.named_feeds),
            "probes": self.probes,
            "site_name": self.site_name,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        def strings(key: str) -> list[str]:
            value = data.get(key) or []
            return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []

        pattern = data.get("article_pattern")
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error:
                pattern = None
        return cls(
            homepage=str(data.get("homepage") or ""),
            feeds=strings("feeds"),
            sitemaps=strings("sitemaps"),
            sections=strings("sections"),
            article_pattern=pattern if isinstance(pattern, str) else None,
            confidence=float(data.get("confidence") or 0.0),
            families=strings("families"),
            named_feeds=strings("named_feeds"),
            probes=int(data.get("probes") or 0),
            site_name=str(data["site_name"]) if data.get("site_name") else None,
        )

    def learnt(self, shape: LearnedShape | None) -> None:
        if shape is not None:
            self.article_pattern, self.confidence, self.families = shape.regex, shape.confidence, list(shape.families)


def site_name_of(text: str | bytes) -> str | None:
    """The name a homepage gives its site: og:site_name, else <title> (whitespace folded, NFC, at most 200 chars)."""
    import unicodedata

    tree = parse_html(text)
    if tree is None:
        return None
    for value in (
        *tree.xpath("//meta[@property='og:site_name' or @name='og:site_name' or @name='application-name']/@content"),
        *tree.xpath("//title//text()"),
    ):
        name = " ".join(str(value).split())
        if name:
            return unicodedata.normalize("NFC", name)[:200]
    return None


def summarize(
    homepage: str,
    homepage_html: str | bytes,
    *,
    robots_txt: str | None = None,
    fetched: Mapping[str, bytes] | None = None,
    article_pattern: str | None = None,
) -> Summary:
    """What a site offers, from pages already fetched: the homepage, robots.txt, and any probed feed, sitemap or
    section page (URL -> body; a probe that failed is simply absent). For a command that proposes an entry."""
    fetched = fetched or {}
    summary = Summary(homepage)
    links = page_links(homepage_html, homepage)
    content = [link.url for link in links if not link.in_nav]
    pages = {url: page_links(body, url) for url, body in fetched.items() if not looks_like_feed(body)}
    every = content + [link.url for found in pages.values() for link in found if not link.in_nav]
    shape = learn_article_pattern(every) if article_pattern is None else None
    summary.learnt(shape)
    pattern = re.compile(article_pattern) if article_pattern else (shape.pattern if shape else None)
    summary.named_feeds = feeds_in_page(homepage_html, homepage)
    summary.feeds = [
        u
        for u in (*summary.named_feeds, *probe_urls(homepage, FEED_PROBES))
        if u in fetched and looks_like_feed(fetched[u])
    ]
    named_maps = sitemaps_in_robots(robots_txt, homepage) if robots_txt else []
    summary.sitemaps = [
        u
        for u in (*named_maps, *probe_urls(homepage, SITEMAP_PROBES))
        if u in fetched and looks_like_sitemap(fetched[u])
    ]
    if len(article_links(content, pattern)) >= MIN_SECTION_ARTICLES:
        summary.sections.append(homepage)
    for url, found in pages.items():
        inside = [link.url for link in found if not link.in_nav]
        if url != homepage and len(article_links(inside, pattern)) >= MIN_SECTION_ARTICLES:
            summary.sections.append(url)
    return summary
