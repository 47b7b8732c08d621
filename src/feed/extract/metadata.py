"""Page metadata: JSON-LD, OpenGraph, <meta> and rel=canonical, read into one flat dict."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from feed.extract.page_noise import CAPTION_HINT, RELATED_LINE, SAPO_HINT
from feed.extract.tree import text_content
from feed.lang.dates import find_vn_datetime
from feed.lang.text import clean_line, clean_lines, nfc

ARTICLE_TYPES = {"newsarticle", "article", "blogposting", "reportagenewsarticle", "webpage", "analysisnewsarticle"}
META_TITLE = (
    'meta[property="og:title"]::attr(content)',
    'meta[name="twitter:title"]::attr(content)',
    'meta[itemprop="headline"]::attr(content)',
    'meta[name="title"]::attr(content)',
)
META_DESCRIPTION = (
    'meta[property="og:description"]::attr(content)',
    'meta[name="description"]::attr(content)',
    'meta[itemprop="description"]::attr(content)',
)
META_PUBLISHED = (
    'meta[property="article:published_time"]::attr(content)',
    'meta[itemprop="datePublished"]::attr(content)',
    'meta[name="pubdate"]::attr(content)',
    'meta[name="publishdate"]::attr(content)',
    'meta[name="article:published_time"]::attr(content)',
    'meta[property="og:published_time"]::attr(content)',
    'meta[name="dc.date"]::attr(content)',
    'time[itemprop="datePublished"]::attr(datetime)',
)
META_MODIFIED = (
    'meta[property="article:modified_time"]::attr(content)',
    'meta[itemprop="dateModified"]::attr(content)',
    'meta[property="og:updated_time"]::attr(content)',
)
META_AUTHOR = (
    'meta[name="author"]::attr(content)',
    'meta[property="article:author"]::attr(content)',
    'meta[name="dc.creator"]::attr(content)',
)
META_URL = ('link[rel="canonical"]::attr(href)', 'meta[property="og:url"]::attr(content)')
META_IMAGE = ('meta[property="og:image"]::attr(content)', 'meta[name="twitter:image"]::attr(content)')
# A clock time ("08:04", "8h30") in a date string: a date without one is only the day.
HAS_CLOCK = re.compile(r"\d{1,2}\s*[:h]\s*\d{2}")
# Lax JSON-LD: real pages put raw newlines and trailing commas inside their scripts.
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


_CSS = HTMLTranslator()  # parsel's own translator for HTML: the XPath a Selector's .css() would run
_TEXT_NODES = etree.XPath(".//text()", smart_strings=False)


@lru_cache(maxsize=512)
def css_xpath(query: str) -> etree.XPath:
    """A CSS query (with parsel's ::text and ::attr()) compiled once: what `Selector(root=el).css(query)` finds, as
    elements and strings, without a Selector wrapped around every result (a page runs ~40 such queries)."""
    return etree.XPath(_CSS.css_to_xpath(query), smart_strings=False)


def _root(sel: Selector | etree._Element) -> Any:
    return sel.root if isinstance(sel, Selector) else sel


# The metadata queries above are all of one shape, `tag[attribute="value"]::attr(wanted)`: read in one walk over
# the page's <meta>, <link> and <time> elements instead of one XPath search of the whole page each (27 a page).
_SIMPLE_QUERY = re.compile(r'^(\w+)\[([\w:-]+)="([^"]*)"\]::attr\(([\w:-]+)\)$')
_QUERIES_BY_KEY: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
for _query in (*META_TITLE, *META_DESCRIPTION, *META_PUBLISHED, *META_MODIFIED, *META_AUTHOR, *META_URL, *META_IMAGE):
    _shape = _SIMPLE_QUERY.match(_query)
    assert _shape is not None, _query
    _tag, _attribute, _value, _wanted = _shape.groups()
    _QUERIES_BY_KEY.setdefault((_tag, _attribute, _value), []).append((_query, _wanted))
_KEY_TAGS = tuple(sorted({key[0] for key in _QUERIES_BY_KEY}))
_KEY_ATTRIBUTES = tuple(sorted({key[1] for key in _QUERIES_BY_KEY}))


def _first_values(root: Any) -> dict[str, str]:
    """For each metadata query, what `Selector(root=root).css(query).get()` gives: the wanted attribute of the first
    element, in document order, that matches and has it."""
    found: dict[str, str] = {}
    for el in root.iter(*_KEY_TAGS):
        tag = el.tag
        for attribute in _KEY_ATTRIBUTES:
            value = el.get(attribute)
            if value is None:
                continue
            for query, wanted in _QUERIES_BY_KEY.get((tag, attribute, value), ()):
                if query not in found:
                    got = el.get(wanted)
                    if got is not None:
                        found[query] = got
    return found


def _first(values: dict[str, str], queries: tuple[str, ...]) -> str | None:
    """The first query's first value, if it is not blank (as `sel.css(query).get()` tried query by query)."""
    for query in queries:
        value = values.get(query)
        if value and value.strip():
            return value.strip()
    return None


def _json_objects(raw: str) -> list[Any]:
    for attempt in (raw, _TRAILING_COMMA.sub(r"\1", raw.replace("\n", " ").replace("\r", " "))):
        try:
            return [json.loads(attempt)]
        except (json.JSONDecodeError, ValueError):
            continue
    return []


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, list):
        for item in node:
            found.extend(_walk(item))
    elif isinstance(node, dict):
        found.append(node)
        for key in ("@graph", "mainEntity", "itemListElement"):
            if key in node:
                found.extend(_walk(node[key]))
    return found


def _is_article(node: dict[str, Any]) -> bool:
    types = node.get("@type")
    names = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and t.lower() in ARTICLE_TYPES for t in names)


def _name(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _name(value.get("name"))
    if isinstance(value, list):
        names = [n for n in (_name(v) for v in value) if n]
        return ", ".join(names) if names else None
    return None


def _image(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _image(value.get("url") or value.get("contentUrl"))
    if isinstance(value, list) and value:
        return _image(value[0])
    return None


def read_json_ld(sel: Selector | etree._Element) -> dict[str, Any]:
    """The first article-like JSON-LD object's fields that we use (headline, dates, author, body...)."""
    best: dict[str, Any] = {}
    for raw in css_xpath('script[type="application/ld+json"]::text')(_root(sel)):
        for obj in _json_objects(raw):
            for node in _walk(obj):
                if not _is_article(node):
                    continue
                candidate = {
                    "title": node.get("headline") or node.get("name"),
                    "published": node.get("datePublished"),
                    "modified": node.get("dateModified"),
                    "author": _name(node.get("author")),
                    "description": node.get("description"),
                    "body": node.get("articleBody"),
                    "url": node.get("url") if isinstance(node.get("url"), str) else None,
                    "image": _image(node.get("image")),
                }
                if candidate["published"] or candidate["body"]:
                    return {k: v for k, v in candidate.items() if isinstance(v, str) and v.strip()}
                best = best or {k: v for k, v in candidate.items() if isinstance(v, str) and v.strip()}
    return best


def read_metadata(sel: Selector | etree._Element) -> dict[str, Any]:
    """JSON-LD over OpenGraph over plain <meta>: title, published, modified, author, description, url, image."""
    root = _root(sel)
    titles = css_xpath("title::text")(root)
    values = _first_values(root)
    meta = {
        "title": _first(values, META_TITLE),
        "published": _first(values, META_PUBLISHED),
        "modified": _first(values, META_MODIFIED),
        "author": _first(values, META_AUTHOR),
        "description": _first(values, META_DESCRIPTION),
        "url": _first(values, META_URL),
        "canonical": _first(values, META_URL[:1]),
        "og_url": _first(values, META_URL[1:]),
        "image": _first(values, META_IMAGE),
        "html_title": clean_line(str(titles[0]) if titles else None) or None,
        "h1": clean_line(" ".join(map(str, css_xpath("h1 ::text")(root)))) or None,
        "feed_urls": list(
            map(
                str,
                css_xpath(
                    'link[rel="alternate"][type*="rss"]::attr(href), link[rel="alternate"][type*="atom"]::attr(href)'
                )(root),
            )
        ),
    }
    meta = {k: v for k, v in meta.items() if v}
    for key, value in read_json_ld(root).items():
        if key == "url" and "url" in meta:
            continue  # rel=canonical beats a JSON-LD url that often points at the section
        meta[key] = value
    return meta


# --- Fields read off the visible page when no selector names them ----------------------------------------------


def headings(doc: etree._Element) -> list[etree._Element]:
    """The page's h1 elements that hold text, in document order."""
    return [h for h in doc.iter("h1") if clean_line(text_content(h))]


def pick_title(meta: dict[str, Any], h1s: list[etree._Element]) -> str | None:
    """The headline: an h1 that starts the metadata title (which often carries a site or SEO tail), else metadata."""
    declared = [t for t in (meta.get("title"), meta.get("html_title")) if t]
    texts = [clean_line(text_content(h)) for h in h1s]
    for text in texts:
        if len(text) >= 10 and any(fold_title(d).startswith(fold_title(text)) for d in declared):
            return text
    if declared:
        return declared[0]
    return texts[0] if texts else None


def fold_title(text: str) -> str:
    """A title's comparison key: NFC, case folded, spaces collapsed."""
    return " ".join(nfc(text).casefold().split())


# Whether class/id words name a sapo box (and not a caption), by the words: a page repeats a few dozen such strings
# (the memo is emptied when it grows large).
_SAPO_WORDS: dict[str, bool] = {}
_SAPO_WORDS_MAX = 50_000


def _sapo_words(hints: str) -> bool:
    verdict = _SAPO_WORDS.get(hints)
    if verdict is None:
        verdict = bool(SAPO_HINT.search(hints)) and not CAPTION_HINT.search(hints)
        if len(_SAPO_WORDS) >= _SAPO_WORDS_MAX:
            _SAPO_WORDS.clear()
        _SAPO_WORDS[hints] = verdict
    return verdict


def find_sapo(h1: etree._Element | None, doc: etree._Element) -> str | None:
    """The standfirst: an element whose class says so, else the first h2/h3 after the headline in its block."""
    candidates: list[etree._Element] = []
    scope = h1.getparent().getparent() if h1 is not None and h1.getparent() is not None else None
    for el in (scope if scope is not None else doc).iter():
        tag = el.tag
        if not isinstance(tag, str) or tag.lower() in ("body", "html", "meta"):
            continue
        if _sapo_words(f"{el.get('class', '')} {el.get('id', '')}") and len(el) < 12:
            candidates.append(el)
    if h1 is not None:
        for sibling in h1.itersiblings():
            if isinstance(sibling.tag, str) and sibling.tag.lower() in ("h2", "h3"):
                candidates.append(sibling)
                break
    for el in candidates:
        text = sapo_text(el)
        if len(text) >= 40:
            return text
    return None


def sapo_text(el: etree._Element) -> str:
    """A sapo's text without the "» related story" links that trail it."""
    lines = []
    for piece in _lines(el):
        if RELATED_LINE.match(piece):
            break
        lines.append(piece)
    return "\n".join(lines)


def _lines(el: etree._Element) -> list[str]:
    parts = [el.text or ""]
    for child in el.iter():
        if child is el or not isinstance(child.tag, str):
            continue
        if child.tag.lower() in ("br", "p", "div", "li"):
            parts.append("\n")
        parts.append(child.text or "")
        if child.tail:
            parts.append(child.tail)
    return clean_lines("".join(parts))


def find_visible_date(
    h1: etree._Element | None,
    doc: etree._Element,
    queries: tuple[str, ...],
    fetched_at: datetime | None,
    *,
    depth: int = 4,
    whole_page: bool = True,
) -> datetime | None:
    """A date with a clock time printed near the headline (its block, then wider), else anywhere on the page."""
    node = h1
    for _ in range(depth):
        if node is None or node.getparent() is None:
            break
        node = node.getparent()
        found = _date_in(node, queries, fetched_at) or _short_date_line(node, fetched_at)
        if found:
            return found
    return _date_in(doc, queries, fetched_at) if whole_page else None


def _short_date_line(scope: etree._Element, fetched_at: datetime | None) -> datetime | None:
    """A short text by the headline that reads as a date and time ("Thứ Ba, 25/12/2012 - 10:03")."""
    for text in scope.itertext():
        text = text.strip()
        if 8 <= len(text) <= 80 and HAS_CLOCK.search(text):
            found = find_vn_datetime(text, now=fetched_at)
            if found:
                return found
    return None


def _date_in(scope: etree._Element, queries: tuple[str, ...], fetched_at: datetime | None) -> datetime | None:
    """The first date with a clock time in the elements the queries find in scope: their datetime and content
    attributes, then their text (at most 16 texts a query)."""
    for query in queries:
        nodes = [n for n in css_xpath(query)(scope) if isinstance(n, etree._Element)]
        texts = [v for n in nodes if (v := n.get("datetime")) is not None]
        texts += [v for n in nodes if (v := n.get("content")) is not None]
        texts += [" ".join(map(str, _TEXT_NODES(n))) for n in nodes]
        for text in texts[:16]:
            if not HAS_CLOCK.search(text):
                continue
            found = find_vn_datetime(text, now=fetched_at)
            if found:
                return found
    return None
