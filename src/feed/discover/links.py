"""A page's links, and which of them sit in navigation blocks.

Menus, headers, footers, breadcrumbs and sidebars of category links repeat on every page of a site; harvested as
"article links" they send a crawler to the site's sections, its "about" and contact pages. A link is in a
navigation block when one of its ancestors is `<nav>`, `<header>`, `<footer>` or `<menu>`, has role="navigation"
or "menubar", or has a class or id one of whose words (split at spaces, "-" and "_") is a navigation word
(menu, nav, navbar, footer, breadcrumb, topbar, …; "header" only as the whole class, or site-/page-/top-header,
so an item's "card-header" around its headline still counts as content).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from feed.lang.urls import web_url

NAV_TAGS = frozenset({"nav", "header", "footer", "menu"})
NAV_ROLES = frozenset({"navigation", "menubar", "menu", "banner", "contentinfo"})
NAV_WORDS = frozenset(
    {
        "menu",
        "menus",
        "mainmenu",
        "megamenu",
        "submenu",
        "nav",
        "navbar",
        "navigation",
        "navi",
        "footer",
        "breadcrumb",
        "breadcrumbs",
        "topbar",
        "toolbar",
    }
)
NAV_HEADERS = frozenset({"header", "site-header", "page-header", "top-header", "main-header", "header-top"})
SKIP = ("javascript:", "mailto:", "tel:", "#", "data:")
_SPLIT = re.compile(r"[\s_-]+")


@dataclass(frozen=True)
class PageLink:
    url: str  # absolute http(s), without its fragment
    text: str  # the link's text, spaces collapsed
    in_nav: bool  # inside a navigation block


def _is_nav(element: etree._Element) -> bool:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag.lower() in NAV_TAGS:
        return True
    if (element.get("role") or "").strip().lower() in NAV_ROLES:
        return True
    for attr in ("class", "id"):
        value = (element.get(attr) or "").lower()
        if not value:
            continue
        for token in value.split():
            if token in NAV_HEADERS or any(part in NAV_WORDS for part in _SPLIT.split(token)):
                return True
    return False


def parse_html(text: str | bytes) -> etree._Element | None:
    """The page's tree, or None when there is no HTML to read."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


def page_links(text: str | bytes, base_url: str) -> list[PageLink]:
    """Every http(s) link of a page (`<a href>`), absolute, in page order, first occurrence of each URL kept, each
    marked when it sits in a navigation block (a URL seen both in a menu and in the content counts as content)."""
    tree = parse_html(text)
    if tree is None:
        return []
    nav_memo: dict[etree._Element, bool] = {}  # keyed by element: lxml proxies' ids are reused

    def in_nav(element: etree._Element) -> bool:
        chain = []
        node: etree._Element | None = element
        result = False
        while node is not None:
            if node in nav_memo:
                result = nav_memo[node]
                break
            chain.append(node)
            if _is_nav(node):
                result = True
                break
            node = node.getparent()
        for seen in chain:
            nav_memo[seen] = result
        return result

    found: dict[str, PageLink] = {}
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.lower().startswith(SKIP):
            continue
        url = web_url(base_url, href)
        if url is None:
            continue
        try:
            if urlsplit(url).scheme not in ("http", "https"):
                continue
        except ValueError:
            continue
        url = url.split("#", 1)[0]
        text_of = " ".join(anchor.text_content().split()) or (anchor.get("title") or "").strip()
        nav = in_nav(anchor)
        known = found.get(url)
        if known is None:
            found[url] = PageLink(url, text_of, nav)
        elif known.in_nav and not nav:
            found[url] = PageLink(url, known.text or text_of, False)
    return list(found.values())


def content_links(text: str | bytes, base_url: str) -> list[str]:
    """The page's links outside navigation blocks: where a listing's articles are."""
    return [link.url for link in page_links(text, base_url) if not link.in_nav]
