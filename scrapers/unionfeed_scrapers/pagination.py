"""A listing's next page when its source configures no `next:` selector (nor does its profile).

`next_page_candidates` names the links a listing page offers as its next page, best first:

1. `<link rel="next">` and `<a rel="next">`;
2. a link whose whole text (case, tone marks and diacritics ignored; arrows and other symbols around it too) is one
   of the pager words, in this order: "Trang sau", "Trang tiếp", "Xem tiếp", "Xem thêm", "Tiếp", "Sau", "»", "›",
   "Next". A word counts only when the page's links with it lead to one page that is not an article: "Xem thêm"
   under every item of a listing is each article's "read more", not the pager;
3. a numbered pager: the link to page N+1 when this page is page N, in the shapes `?page=N`, `?p=N`, `&trang=N`,
   `/trang-N.html`, `/page/N/`, `/p-N.htm(l)` and `-pN.html`. Only a link whose URL differs from this page's in
   that number alone counts; a page whose URL carries no number is page 1.

The spider follows the first candidate it has not visited and the source's boundary allows, up to the listing's
`max_pages`. Candidates are absolute http(s) URLs, never this page itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

from scrapy.http import Response

from feed.lang.text import strip_accents
from feed.lang.urls import web_url

# Pager words, best first, as `words()` reads a link's text.
PAGER_WORDS = ("trang sau", "trang tiep", "xem tiep", "xem them", "tiep", "sau")
# Pager symbols, matched when they are a link's whole text (no words): "»»" or "›|" mean the last page.
PAGER_SYMBOLS = ("»", "›")
PAGER_LAST_WORDS = ("next",)
# Query parameters that number a listing's pages.
PAGE_PARAMS = ("page", "p", "trang")
# Path endings that number a listing's pages; group 1 is the number. What is left when the match is cut out (with
# ".html"/".htm" and trailing slashes trimmed) is the listing itself.
PAGE_PATHS = (
    re.compile(r"/trang-(\d{1,5})\.html?$"),
    re.compile(r"/page/(\d{1,5})/?$"),
    re.compile(r"/p-(\d{1,5})\.html?$"),
    re.compile(r"-p(\d{1,5})\.html?$"),
)
SKIP = ("javascript:", "mailto:", "tel:", "#")
_WORD = re.compile(r"\w+")
_SYMBOLS = re.compile(r"[\w\s]+")

# How a page is numbered in one shape: (shape, the URL with the number taken out) -> the number.
PageKey = tuple[str, tuple[str, ...]]


def words(text: str) -> str:
    """A link's text as pager words: lower case, without diacritics, only its words ("Trang sau »" -> "trang sau")."""
    return " ".join(_WORD.findall(strip_accents(text)))


def symbols(text: str) -> str:
    """A link's text without its words and spaces ("»" stays "»", "Trang sau »" -> "»")."""
    return _SYMBOLS.sub("", text)


def _stem(path: str) -> str:
    """A listing path without the endings that do not change the page: "/tin-tuc.html", "/tin-tuc/" -> "/tin-tuc"."""
    path = path.rstrip("/")
    for suffix in (".html", ".htm"):
        path = path.removesuffix(suffix)
    return path.rstrip("/")


def page_numbers(url: str) -> dict[PageKey, int]:
    """The page number a URL carries in each shape, keyed by the shape and the rest of the URL; a shape the URL
    does not carry numbers it page 1 (the first page of a listing usually has no number)."""
    parts = urlsplit(url)
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    query = parse_qsl(parts.query, keep_blank_values=True)
    found: dict[PageKey, int] = {}
    for param in PAGE_PARAMS:
        values = [v for k, v in query if k.lower() == param]
        rest = urlencode(sorted((k, v) for k, v in query if k.lower() != param))
        key = (f"?{param}", (scheme, netloc, _stem(parts.path), rest))
        if not values:
            found[key] = 1
        elif len(values) == 1 and values[0].isdigit():
            found[key] = int(values[0])
    whole = urlencode(sorted(query))
    for shape in PAGE_PATHS:
        match = shape.search(parts.path)
        if match:
            found[(shape.pattern, (scheme, netloc, _stem(parts.path[: match.start()]), whole))] = int(match.group(1))
        else:
            found[(shape.pattern, (scheme, netloc, _stem(parts.path), whole))] = 1
    return found


def is_next_number(current: str, link: str) -> bool:
    """True when link is page N+1 of the listing current is page N of, in one of the numbered shapes."""
    here = page_numbers(current)
    return any(number == here.get(key, -1) + 1 and number >= 2 for key, number in page_numbers(link).items())


def _links(response: Response) -> Iterator[tuple[str, str, str]]:
    """(absolute URL, link text, rel) of each link of the page, in page order."""
    for node in response.xpath("//a[@href] | //link[@href]"):
        href = (node.attrib.get("href") or "").strip()
        if not href or href.lower().startswith(SKIP):
            continue
        url = web_url(response.url, href)
        if url is None or urlsplit(url).scheme not in ("http", "https"):
            continue
        text = " ".join(node.xpath("string(.)").get("").split()) or node.attrib.get("title", "")
        yield url, text, (node.attrib.get("rel") or "").lower()


def next_page_candidates(response: Response, is_article: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(URL, how it was found: "rel", "text" or "number") for each link that may be this listing's next page,
    best first, without repeats. `is_article` tells an article link, which a pager word never leads to."""
    here = response.url.split("#", 1)[0]
    links = [(u, t, r) for u, t, r in _links(response) if u.split("#", 1)[0] != here]
    out: dict[str, str] = {}
    for url, _, rel in links:
        if "next" in rel.split():
            out.setdefault(url, "rel")
    by_word: dict[str, list[str]] = {}
    for url, text, _ in links:
        key = words(text)
        if not key and symbols(text) in PAGER_SYMBOLS:
            key = symbols(text)
        if key in (*PAGER_WORDS, *PAGER_SYMBOLS, *PAGER_LAST_WORDS) and not is_article(url):
            by_word.setdefault(key, []).append(url)
    for key in (*PAGER_WORDS, *PAGER_SYMBOLS, *PAGER_LAST_WORDS):
        urls = list(dict.fromkeys(by_word.get(key, [])))
        if len(urls) == 1:  # one page behind the word: a pager; several: "read more" of each item
            out.setdefault(urls[0], "text")
    for url, _, _ in links:
        if is_next_number(here, url):
            out.setdefault(url, "number")
    return list(out.items())
