"""Page metadata: JSON-LD, OpenGraph, <meta> and rel=canonical, read into one flat dict."""

from __future__ import annotations

import json
import re
from typing import Any

from parsel import Selector

from feed.text import clean_line

ARTICLE_TYPES = {"newsarticle", "article", "blogposting", "reportagenewsarticle", "webpage", "analysisnewsarticle"}
META_TITLE = ('meta[property="og:title"]::attr(content)', 'meta[name="twitter:title"]::attr(content)',
              'meta[itemprop="headline"]::attr(content)', 'meta[name="title"]::attr(content)')
META_DESCRIPTION = ('meta[property="og:description"]::attr(content)', 'meta[name="description"]::attr(content)',
                    'meta[itemprop="description"]::attr(content)')
META_PUBLISHED = ('meta[property="article:published_time"]::attr(content)',
                  'meta[itemprop="datePublished"]::attr(content)', 'meta[name="pubdate"]::attr(content)',
                  'meta[name="publishdate"]::attr(content)', 'meta[name="article:published_time"]::attr(content)',
                  'meta[property="og:published_time"]::attr(content)', 'meta[name="dc.date"]::attr(content)',
                  'time[itemprop="datePublished"]::attr(datetime)')
META_MODIFIED = ('meta[property="article:modified_time"]::attr(content)',
                 'meta[itemprop="dateModified"]::attr(content)', 'meta[property="og:updated_time"]::attr(content)')
META_AUTHOR = ('meta[name="author"]::attr(content)', 'meta[property="article:author"]::attr(content)',
               'meta[name="dc.creator"]::attr(content)')
META_URL = ('link[rel="canonical"]::attr(href)', 'meta[property="og:url"]::attr(content)')
META_IMAGE = ('meta[property="og:image"]::attr(content)', 'meta[name="twitter:image"]::attr(content)')
# Lax JSON-LD: real pages put raw newlines and trailing commas inside their scripts.
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def _first(sel: Selector, queries: tuple[str, ...]) -> str | None:
    for query in queries:
        value = sel.css(query).get()
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


def read_json_ld(sel: Selector) -> dict[str, Any]:
    """The first article-like JSON-LD object's fields that we use (headline, dates, author, body...)."""
    best: dict[str, Any] = {}
    for raw in sel.css('script[type="application/ld+json"]::text').getall():
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


def read_metadata(sel: Selector) -> dict[str, Any]:
    """JSON-LD over OpenGraph over plain <meta>: title, published, modified, author, description, url, image."""
    meta = {
        "title": _first(sel, META_TITLE),
        "published": _first(sel, META_PUBLISHED),
        "modified": _first(sel, META_MODIFIED),
        "author": _first(sel, META_AUTHOR),
        "description": _first(sel, META_DESCRIPTION),
        "url": _first(sel, META_URL),
        "image": _first(sel, META_IMAGE),
        "html_title": clean_line(sel.css("title::text").get()) or None,
        "h1": clean_line(" ".join(sel.css("h1 ::text").getall())) or None,
        "feed_urls": sel.css('link[rel="alternate"][type*="rss"]::attr(href), '
                             'link[rel="alternate"][type*="atom"]::attr(href)').getall(),
    }
    meta = {k: v for k, v in meta.items() if v}
    for key, value in read_json_ld(sel).items():
        if key == "url" and "url" in meta:
            continue  # rel=canonical beats a JSON-LD url that often points at the section
        meta[key] = value
    return meta
