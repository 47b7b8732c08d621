"""Atom 1.0, RSS 2.0 and JSON Feed 1.1 documents, written by hand so every byte is ours to check.

Rules (those the W3C Feed Validation Service applies): times in RFC 3339 (Atom, JSON) and RFC 822 (RSS)
with an explicit +07:00 offset; content as escaped HTML, never CDATA; characters XML 1.0 forbids removed
from every text and attribute; feed and entry ids, self, alternate and hub links, feed-level author;
entries newest first with no duplicate id. Serialising by hand is also what keeps 10,000 entries fast.

Safety does not depend on callers: every value an entry or feed shows loses XML-forbidden characters and bidi
controls here (xml_safe), every field a reader treats as HTML (content, RSS description) is HTML built from
escaped text, and a link that is not http(s) is dropped (safe_url), so no script, event handler or javascript:
URL can reach a reader whatever the crawled page held.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from functools import lru_cache
from typing import Any

from feed.lang.dates import VN_TZ
from feed.records import Meeting

RSS_DOCS = "https://www.rssboard.org/rss-specification"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GUID_PREFIX = "urn:unionfeed:"  # every entry id: stories and articles (+ id), health events (+ "health:…")
# Bump whenever a renderer's output changes: feeds rendered, and entries kept, by an older version are redone.
# 2: RSS description is escaped HTML (its text's "<" no longer reaches readers as markup)
# 3: aggregate feeds carry a story's opening and links, only its source's feed the whole body
# 4: category labels without commas (tag_label)
FORMAT_VERSION = 4
_json_string = json.encoder.encode_basestring  # C-accelerated, keeps non-ASCII
# Characters XML 1.0 forbids (C0 controls but tab, LF and CR; lone surrogates; U+FFFE/U+FFFF), DEL, and the bidi
# controls that can reorder a title in a reader (LRM/RLM, ALM, embeddings and overrides, isolates). Kept here, not
# only in feed.lang.text, so a feed stays well-formed whatever its callers cleaned.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_WEB_URL = re.compile(r"^https?://[^\s/?#]+[^\x00-\x1f\x7f]*\Z", re.IGNORECASE)  # a host, then no controls


def xml_safe(value: str) -> str:
    """Text without the characters XML 1.0 forbids and without bidi controls."""
    return _FORBIDDEN.sub("", value)


def safe_url(value: str) -> str:
    """The URL when it is an absolute http(s) URL, else "" (never javascript:, data:, file: or a relative path)."""
    value = xml_safe(value)
    return value if _WEB_URL.match(value) else ""


def html_text(value: str) -> str:
    """Plain text as HTML: a "<" in the text stays text for readers that render the field as HTML."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Category:
    """A category with a machine term (kind, source slug) and a Vietnamese label."""

    scheme: str  # "kinds" | "sources" | "org": the folder of the site the term belongs to
    term: str
    label: str

    def __post_init__(self) -> None:
        for name in ("scheme", "term", "label"):
            object.__setattr__(self, name, xml_safe(getattr(self, name)))
        object.__setattr__(self, "label", tag_label(self.label))


@lru_cache(maxsize=4096)
def category(scheme: str, term: str, label: str) -> Category:
    """The Category of these values, made once: every entry of a source or kind shows the same one."""
    return Category(scheme, term, label)


def tag_label(label: str) -> str:
    """A category label with no comma: readers (FreshRSS, newsboat, JSON Feed clients) split tags on commas, so
    "Hội nghị cán bộ, công chức, viên chức" would become three tags. The parts are joined by an en dash."""
    parts = [p.strip() for p in label.split(",")]
    return " – ".join(p for p in parts if p)


@dataclass
class ItemDetails:
    """What an entry shows beyond its identity; made only for feeds that are rendered. Its text loses the
    characters XML forbids and bidi controls, its other places any link that is not http(s)."""

    title: str
    summary: str
    author: str
    source_name: str
    categories: list[Category]
    also_at: list[tuple[str, str]]  # (outlet name, url) of the story's other members
    other_sources: list[str]  # their source slugs
    meeting: Meeting
    meeting_json: str  # the meeting facts as compact JSON, "null" when the article is not a report
    content: Callable[[], str]  # the entry's HTML, with the whole body
    brief: Callable[[], str] | None = None  # the same without the body past its opening (aggregate feeds)
    rendered: dict[str, str] = field(default_factory=dict, repr=False)  # HTML, escaped HTML: made once

    def __post_init__(self) -> None:
        self.title, self.summary = xml_safe(self.title), xml_safe(self.summary)
        self.author, self.source_name = xml_safe(self.author), xml_safe(self.source_name)
        self.also_at = [(xml_safe(name), url) for name, url in ((n, safe_url(u)) for n, u in self.also_at) if url]
        self.meeting_json = xml_safe(self.meeting_json)

    def html(self, full: bool = True) -> str:
        """The entry's HTML (with the whole body, or brief), free of XML-illegal characters."""
        key = "html" if full or self.brief is None else "brief"
        if key not in self.rendered:
            self.rendered[key] = xml_safe(self.content() if key == "html" else self.brief())  # type: ignore[misc]
        return self.rendered[key]

    def escaped_html(self, full: bool = True) -> str:
        """The entry's HTML escaped for an XML element."""
        key = "escaped" if full or self.brief is None else "escaped-brief"
        if key not in self.rendered:
            self.rendered[key] = _esc(self.html(full))
        return self.rendered[key]


@dataclass
class FeedItem:
    """One feed entry: identity, times and a signature up front, everything else on first use."""

    guid: str
    link: str
    published: datetime
    updated: datetime
    article_id: str
    cluster_id: str
    source_slug: str
    is_report: bool
    kind: str | None
    signature: str  # changes whenever anything this entry shows changes
    make_details: Callable[[], ItemDetails] = field(repr=False)
    full_body: bool = True  # False: the entry carries the opening of the body and links (see entries.build_stories)
    _details: ItemDetails | None = field(default=None, repr=False)
    _xml: dict[str, str] = field(default_factory=dict, repr=False)  # rendered fields, reused across feeds
    _stamps: tuple[str, str] | None = field(default=None, repr=False)  # published, updated in RFC 3339

    @property
    def stamps(self) -> tuple[str, str]:
        """Its published and updated times in RFC 3339, worked out once for Atom and JSON Feed."""
        if self._stamps is None:
            self._stamps = (rfc3339(self.published), rfc3339(self.updated))
        return self._stamps

    def __post_init__(self) -> None:
        self.guid, self.link = xml_safe(self.guid), safe_url(self.link)

    @property
    def details(self) -> ItemDetails:
        if self._details is None:
            self._details = self.make_details()
        return self._details

    @property
    def title(self) -> str:
        return self.details.title

    @property
    def summary(self) -> str:
        return self.details.summary

    @property
    def author(self) -> str:
        return self.details.author

    @property
    def source_name(self) -> str:
        return self.details.source_name

    @property
    def categories(self) -> list[Category]:
        return self.details.categories

    @property
    def also_at(self) -> list[tuple[str, str]]:
        return self.details.also_at

    @property
    def other_sources(self) -> list[str]:
        return self.details.other_sources

    @property
    def meeting(self) -> Meeting:
        return self.details.meeting

    @property
    def content_html(self) -> str:
        return self.details.html(self.full_body)

    def escaped_content(self) -> str:
        return self.details.escaped_html(self.full_body)


@dataclass(frozen=True)
class FeedSpec:
    """One logical feed, written in three formats."""

    path: str  # without extension, relative to feeds/: "all", "kinds/tong_ket", "sources/<slug>"
    title: str
    description: str
    items: Sequence[FeedItem]
    alternate: str  # the HTML page this feed mirrors
    ttl_minutes: int  # how often the content behind it can change (the sources' poll interval)
    updated: datetime  # used when the feed is empty; otherwise the newest entry's update
    items_signature: str | None = None  # known without making the items (see stories.LazyItems)


@dataclass(frozen=True)
class FeedSite:
    """What every feed shares: where the site lives, its hub and the generator's version."""

    base: str  # site URL ending in "/"
    hub: str | None
    version: str

    def url(self, spec: FeedSpec, fmt: str) -> str:
        return f"{self.base}feeds/{spec.path}.{fmt}"


def xml_text(value: str) -> str:
    """Escape text for an XML element, dropping characters XML 1.0 forbids."""
    return _esc(xml_safe(value))


def xml_attr(value: str) -> str:
    """Escape text for a double-quoted XML attribute, dropping characters XML 1.0 forbids."""
    return _attr(xml_safe(value))


def _esc(value: str) -> str:
    """Escape text already free of XML-illegal characters (every FeedItem field is, by its __post_init__)."""
    if "&" not in value and "<" not in value and ">" not in value:  # most titles, names, ids: nothing to do
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return _esc(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def rfc3339(value: datetime) -> str:
    """2026-07-14T17:05:12+07:00."""
    return value.astimezone(VN_TZ).isoformat(timespec="seconds")


def rfc822(value: datetime) -> str:
    """Tue, 14 Jul 2026 17:05:12 +0700."""
    return format_datetime(value.astimezone(VN_TZ))


def feed_updated(spec: FeedSpec) -> datetime:
    """The newest entry's update, or the spec's fallback when the feed is empty."""
    return max((i.updated for i in spec.items), default=spec.updated)


def _cached(item: FeedItem, key: str, make: Any) -> str:
    value = item._xml.get(key)
    if value is None:
        value = item._xml[key] = make()
    return value


# --- Atom (RFC 4287) ----------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _atom_category(c: Category, base: str) -> str:
    return f'<category term="{_attr(c.term)}" scheme="{_attr(base + c.scheme)}" label="{_attr(c.label)}"/>'


@lru_cache(maxsize=4096)
def _rss_category(c: Category, base: str) -> str:
    return f'<category domain="{_attr(base + c.scheme)}">{_esc(c.label)}</category>'


def _atom_entry(item: FeedItem, site: FeedSite) -> str:
    cats = "".join(_atom_category(c, site.base) for c in item.categories)
    published, updated = item.stamps
    return (
        f'<entry>\n<id>{_esc(item.guid)}</id>\n<title type="text">{_esc(item.title)}</title>\n'
        f'<link rel="alternate" type="text/html" href="{_attr(item.link)}"/>\n'
        f"<published>{published}</published>\n<updated>{updated}</updated>\n"
        f"<author><name>{_esc(item.author)}</name></author>\n{cats}\n"
        f'<summary type="text">{_esc(item.summary)}</summary>\n'
        f'<content type="html">{item.escaped_content()}</content>\n</entry>\n'
    )


def atom_document(spec: FeedSpec, site: FeedSite) -> str:
    """The feed as Atom 1.0."""
    self_url = site.url(spec, "atom")
    hub = f'<link rel="hub" href="{xml_attr(site.hub)}"/>\n' if site.hub else ""
    head = (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">\n'
        f'<id>{xml_text(self_url)}</id>\n<title type="text">{xml_text(spec.title)}</title>\n'
        f'<subtitle type="text">{xml_text(spec.description)}</subtitle>\n'
        f"<updated>{rfc3339(feed_updated(spec))}</updated>\n"
        f'<link rel="self" type="application/atom+xml" href="{xml_attr(self_url)}"/>\n'
        f'<link rel="alternate" type="text/html" href="{xml_attr(spec.alternate)}"/>\n{hub}'
        f"<author><name>unionfeed</name><uri>{xml_text(site.base)}</uri></author>\n"
        f'<generator uri="https://github.com/unionfeed/unionfeed" version="{xml_attr(site.version)}">unionfeed'
        "</generator>\n"
    )
    return head + "".join(_cached(i, "atom", lambda i=i: _atom_entry(i, site)) for i in spec.items) + "</feed>\n"


# --- RSS 2.0 --------------------------------------------------------------------------------------------
def _rss_item(item: FeedItem, site: FeedSite) -> str:
    cats = "".join(_rss_category(c, site.base) for c in item.categories)
    permalink = "true" if item.guid == item.link else "false"
    return (
        f"<item>\n<title>{_esc(item.title)}</title>\n<link>{_esc(item.link)}</link>\n"
        f"<description>{_esc(html_text(item.summary))}</description>\n"  # readers render it as HTML
        f"<content:encoded>{item.escaped_content()}</content:encoded>\n"
        f"<dc:creator>{_esc(item.author)}</dc:creator>\n{cats}\n"
        f'<guid isPermaLink="{permalink}">{_esc(item.guid)}</guid>\n'
        f"<pubDate>{rfc822(item.published)}</pubDate>\n</item>\n"
    )


def rss_document(spec: FeedSpec, site: FeedSite) -> str:
    """The feed as RSS 2.0 (with atom:link self/hub, content:encoded and dc:creator)."""
    self_url = site.url(spec, "rss")
    hub = f'<atom:link rel="hub" href="{xml_attr(site.hub)}"/>\n' if site.hub else ""
    head = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f"<channel>\n<title>{xml_text(spec.title)}</title>\n<link>{xml_text(spec.alternate)}</link>\n"
        f"<description>{xml_text(spec.description)}</description>\n<language>vi</language>\n"
        f"<lastBuildDate>{rfc822(feed_updated(spec))}</lastBuildDate>\n"
        f"<generator>unionfeed {xml_text(site.version)}</generator>\n<docs>{RSS_DOCS}</docs>\n"
        f"<ttl>{spec.ttl_minutes}</ttl>\n"
        f'<atom:link rel="self" type="application/rss+xml" href="{xml_attr(self_url)}"/>\n{hub}'
    )
    items = "".join(_cached(i, "rss", lambda i=i: _rss_item(i, site)) for i in spec.items)
    return head + items + "</channel>\n</rss>\n"


# --- JSON Feed 1.1 --------------------------------------------------------------------------------------
def json_feed_item(item: FeedItem) -> str:
    """One JSON Feed item as compact JSON, with our facts under the `_unionfeed` extension.

    Assembled from encoded strings rather than json.dumps of a dict: a third of the time, same bytes."""
    q = _json_string
    tags = ",".join(q(c.label) for c in item.categories)
    also = ",".join(f'{{"name":{q(n)},"url":{q(u)}}}' for n, u in item.also_at)
    meeting = item.details.meeting_json
    published, updated = item.stamps
    return (
        f'{{"id":{q(item.guid)},"url":{q(item.link)},"title":{q(item.title)},"summary":{q(item.summary)},'
        f'"content_html":{q(item.content_html)},"date_published":"{published}",'
        f'"date_modified":"{updated}","authors":[{{"name":{q(item.author)}}}],"tags":[{tags}],'
        f'"language":"vi","_unionfeed":{{"article_id":{q(item.article_id)},"cluster_id":{q(item.cluster_id)},'
        f'"source":{q(item.source_slug)},"meeting":{meeting},"also_at":[{also}]}}}}'
    )


def json_feed_document(spec: FeedSpec, site: FeedSite) -> str:
    """The feed as JSON Feed 1.1 (keys in a fixed order; one item a line)."""
    head: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": xml_safe(spec.title),
        "description": xml_safe(spec.description),
        "home_page_url": xml_safe(spec.alternate),
        "feed_url": xml_safe(site.url(spec, "json")),
        "language": "vi",
        "authors": [{"name": "unionfeed", "url": xml_safe(site.base)}],
    }
    if site.hub:
        head["hubs"] = [{"type": "WebSub", "url": xml_safe(site.hub)}]
    items = ",\n".join(_cached(i, "json", lambda i=i: json_feed_item(i)) for i in spec.items)
    text = json.dumps(head, ensure_ascii=False, indent=1)
    return text[:-2] + f',\n "items": [\n{items}\n ]\n}}\n' if items else text[:-2] + ',\n "items": []\n}\n'


RENDERERS = {"atom": atom_document, "rss": rss_document, "json": json_feed_document}


def split_entries(fmt: str, document: str) -> list[str]:
    """The entry fragments of a document these renderers wrote, in order, as _cached stores them: so a
    re-render can take unchanged entries from the file on disk instead of rendering them again."""
    if fmt == "json":
        body = document.partition('\n "items": [\n')[2].rpartition("\n ]\n}\n")[0]
        return [line.removesuffix(",") for line in body.split("\n")] if body else []
    marker, tail = ("<entry>\n", "</feed>\n") if fmt == "atom" else ("<item>\n", "</channel>\n</rss>\n")
    parts = document.split(marker)[1:]  # escaped content cannot hold the marker
    if parts:
        parts[-1] = parts[-1].removesuffix(tail)
    return [marker + p for p in parts]


def reuse_entries(items: Sequence[FeedItem], signatures: list[str], fragments: dict[str, list[str]]) -> int:
    """Give items whose signature matches a previous entry that entry's fragments; returns how many."""
    reused = 0
    by_sig = {
        fmt: dict(zip(signatures, found, strict=True))
        for fmt, found in fragments.items()
        if len(found) == len(signatures)
    }
    for item in items:
        for fmt, known in by_sig.items():
            fragment = known.get(item.signature)
            if fragment is not None and fmt not in item._xml:
                item._xml[fmt] = fragment
                reused += 1
    return reused


def article_updated(shown_at: datetime, changed_at: datetime, first_seen_at: datetime) -> datetime:
    """An article's `updated`: when its text last changed after it was first stored, else when it was published.
    Not the time it was fetched: a crawl stores many articles in the same second, and their entries would all
    claim that second (the W3C validator warns of entries sharing `atom:updated`)."""
    changed = changed_at if changed_at > first_seen_at else shown_at
    return max(changed, shown_at)
