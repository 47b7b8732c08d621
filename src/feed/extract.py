"""Read one article page: site selectors, then JSON-LD/OpenGraph/meta, then a generic main-text extractor.

The same function serves the spiders, `unionfeed extract` and the tests.
"""

from __future__ import annotations

import html as html_lib
from datetime import datetime
from urllib.parse import urljoin

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from parsel import Selector
from w3lib.encoding import html_to_unicode

from feed.dates import find_vn_datetime, parse_vn_datetime
from feed.extract_meta import read_metadata
from feed.models import Extracted
from feed.noise import (
    CAPTION_SELECTORS,
    FOOTER_START,
    INLINE_CREDIT,
    NOISE_SELECTORS,
    is_noise_line,
    looks_like_name_line,
    parse_author_line,
    parse_credit,
)
from feed.sources import Selectors
from feed.text import clean, clean_line, repair_mojibake

BLOCK_TAGS = frozenset({"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "tr", "section",
                        "article", "figure", "table", "ul", "ol", "pre", "center", "dd", "dt"})
# Places where a page states its date near the headline, when no selector or metadata does.
DATE_HINT_SELECTORS = ("[class*=date]", "[class*=time]", "[class*=ngay]", "[class*=publish]", "[id*=date]",
                       "[class*=meta]", "[class*=info]", "time")
MIN_BODY_CHARS = 80
LEAD_MAX_CHARS = 600
TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ")


def decode_page(data: bytes | str, encoding: str | None = None) -> str:
    """Page bytes to text: BOM, HTTP/meta charset, then UTF-8; mojibake repaired."""
    if isinstance(data, bytes):
        _, text = html_to_unicode(f"charset={encoding}" if encoding else None, data)
    else:
        text = data
    return repair_mojibake(text)


def _element_text(el: etree._Element) -> list[str]:
    """Paragraphs of an element's text, breaking at block elements."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag in BLOCK_TAGS:
            parts.append("\n")
        if node.text and tag not in ("script", "style"):
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in BLOCK_TAGS:
            parts.append("\n")

    walk(el)
    return [line for line in (clean_line(x) for x in "".join(parts).split("\n")) if line]


def _drop(root: etree._Element, selectors: tuple[str, ...]) -> None:
    sel = Selector(root=root)
    for query in selectors:
        try:
            found = sel.css(query)
        except Exception:  # a bad selector in a profile must not stop extraction
            continue
        for node in found:
            element = node.root
            parent = element.getparent() if hasattr(element, "getparent") else None
            if parent is not None:
                element.drop_tree() if hasattr(element, "drop_tree") else parent.remove(element)


def _select_body(doc: lxml_html.HtmlElement, query: str, remove: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Paragraphs and image URLs of the body a selector names, noise and captions removed."""
    nodes = Selector(root=doc).css(query)
    paragraphs: list[str] = []
    images: list[str] = []
    for node in nodes:
        element = node.root
        if not isinstance(element, etree._Element):
            continue
        for img in element.iter("img"):
            src = img.get("data-src") or img.get("data-original") or img.get("src")
            if src and not src.startswith("data:"):
                images.append(src)
        _drop(element, (*NOISE_SELECTORS, *CAPTION_SELECTORS, *remove))
        paragraphs.extend(_element_text(element))
    return paragraphs, images


def _split_tail(paragraphs: list[str]) -> tuple[list[str], str | None, str | None]:
    """Drop noise and footers; take the author line and syndication credit off the end of the body."""
    kept: list[str] = []
    for line in paragraphs:
        if FOOTER_START.search(line):
            break
        if not is_noise_line(line):
            kept.append(line)
    author: str | None = None
    credit: str | None = None
    # Walk back over the last few lines: credits and bylines close Vietnamese reports.
    while kept and len(kept) > 1:
        line = kept[-1]
        found_credit = parse_credit(line)
        found_author = parse_author_line(line)
        if found_credit and credit is None:
            credit = found_credit
        elif found_author and author is None:
            author = found_author
        elif author is None and looks_like_name_line(line):
            inline = INLINE_CREDIT.search(line)
            author = INLINE_CREDIT.sub("", line).strip() if inline else line.strip()
            if inline and credit is None:
                credit = inline.group("src").strip()
        else:
            break
        kept.pop()
    return kept, author, credit


def _strip_site_name(title: str | None) -> str | None:
    """A <title>'s text without its site-name tail ("Hội nghị … | Báo Nam Định"); real dashes in titles stay."""
    title = clean_line(title)
    if not title:
        return None
    for sep in TITLE_SEPARATORS:
        if sep in title:
            head, _, tail = title.rpartition(sep)
            # A site name has letters ("nhiệm kỳ 2026 - 2031" keeps its years) and is short beside the headline.
            if head and len(tail) < 40 and len(head) > len(tail) * 1.5 and any(c.isalpha() for c in tail):
                return head.strip()
    return title


# Where pages put "(Theo …)" / "Nguồn: …" when it is not the body's last line.
CREDIT_HOSTS = ("p", "em", "i", "span", "div", "strong")
MAX_CREDIT_CHARS = 160


def _find_credit(doc: lxml_html.HtmlElement) -> str | None:
    """The last short element on the page whose whole text is a syndication credit."""
    found = None
    for element in doc.iter(*CREDIT_HOSTS):
        text = clean_line(element.text_content())
        if 4 < len(text) <= MAX_CREDIT_CHARS:
            credit = parse_credit(text)
            if credit:
                found = credit
    return found


def _find_page_date(sel: Selector, fetched_at: datetime | None) -> datetime | None:
    for query in DATE_HINT_SELECTORS:
        nodes = sel.css(query)
        for text in (nodes.xpath("@datetime").getall() + nodes.xpath(".//text()").getall())[:12]:
            found = find_vn_datetime(text, now=fetched_at)
            if found:
                return found
    return None


def _generic(page: str, url: str) -> dict[str, str | None]:
    doc = trafilatura.bare_extraction(page, url=url, with_metadata=True, include_comments=False,
                                      include_tables=True, deduplicate=False)
    if doc is None:
        return {}
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    return {k: data.get(k) for k in ("text", "title", "date", "author", "description")}


def extract(page: bytes | str, url: str, *, selectors: Selectors | None = None, fetched_at: datetime | None = None,
            encoding: str | None = None) -> Extracted:
    """Read one article page into an Extracted record; problems land in `error`, never as an exception."""
    try:
        return _extract(decode_page(page, encoding), url, selectors or Selectors(), fetched_at)
    except Exception as exc:  # a broken page must never stop the crawl
        return Extracted(url=url, error=f"{type(exc).__name__}: {exc}")


def _extract(page: str, url: str, rules: Selectors, fetched_at: datetime | None) -> Extracted:
    if not page.strip():
        return Extracted(url=url, error="empty page")
    doc = lxml_html.document_fromstring(page)
    sel = Selector(root=doc)
    meta = read_metadata(sel)
    out = Extracted(url=url)
    out.canonical_url = urljoin(url, meta["url"]) if meta.get("url") else None

    def pick(query: str | None) -> str | None:
        if not query:
            return None
        # .xpath on the matched elements, not "query ::text": in "a, b ::text" the pseudo-element binds only to b.
        return clean_line(" ".join(sel.css(query).xpath(".//text()").getall())) or None

    # Selectors, og:title/JSON-LD and <h1> give the headline as written; only <title> carries the site's name.
    out.title = pick(rules.title) or clean_line(meta.get("title")) or meta.get("h1") or None
    out.title = out.title or _strip_site_name(meta.get("html_title"))
    published_text = pick(rules.published)
    out.published_at = (
        (find_vn_datetime(published_text, now=fetched_at) if published_text else None)
        or (parse_vn_datetime(meta["published"], now=fetched_at) if meta.get("published") else None)
    )
    out.updated_at = parse_vn_datetime(meta["modified"], now=fetched_at) if meta.get("modified") else None
    selector_author = pick(rules.author)
    lead = pick(rules.lead)

    paragraphs: list[str] = []
    images: list[str] = []
    if rules.body:
        paragraphs, images = _select_body(doc, rules.body, rules.remove)
        out.method = "selectors"
        if not paragraphs and rules.title and not pick(rules.title):
            # Neither the headline nor the body of this site's layout is on the page: a broken page or a redesign.
            # Say so rather than publish the menus a generic extractor would find.
            return Extracted(url=url, error="the source's title and body selectors match nothing on this page")
    if sum(map(len, paragraphs)) < MIN_BODY_CHARS and meta.get("body"):
        paragraphs = [clean_line(p) for p in clean(meta["body"]).split("\n") if clean_line(p)]
        out.method = "metadata"
    generic: dict[str, str | None] = {}
    if sum(map(len, paragraphs)) < MIN_BODY_CHARS:
        generic = _generic(page, url)
        paragraphs = [clean_line(p) for p in (generic.get("text") or "").split("\n") if clean_line(p)]
        out.method = "generic"
        out.title = out.title or _strip_site_name(generic.get("title"))

    paragraphs, tail_author, credit = _split_tail(paragraphs)
    if paragraphs and out.title and clean_line(paragraphs[0]) == out.title:
        paragraphs = paragraphs[1:]
    if lead and paragraphs and paragraphs[0] == lead:
        paragraphs = paragraphs[1:]
    out.body_text = "\n\n".join(paragraphs)
    out.lead = lead or _lead_from(meta.get("description"), paragraphs)
    if selector_author:
        selector_author = parse_author_line(selector_author) or selector_author
    out.author = clean_line(selector_author or tail_author or meta.get("author") or generic.get("author")) or None
    out.syndicated_from = credit or _find_credit(doc)
    if out.published_at is None:
        out.published_at = _find_page_date(sel, fetched_at) or (
            parse_vn_datetime(generic["date"], now=fetched_at) if generic.get("date") else None
        )
    if meta.get("image"):
        images.insert(0, meta["image"])
    out.image_urls = list(dict.fromkeys(urljoin(url, i) for i in images))[:20]
    out.body_html = "".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs)
    if not out.title:
        out.error = "no title found"
    elif len(out.body_text) < MIN_BODY_CHARS:
        out.error = "no article text found"
    return out


def _lead_from(description: str | None, paragraphs: list[str]) -> str | None:
    """The standfirst: the page's description when it is real text, else the first paragraph."""
    description = clean_line(description)
    if description and not description.endswith("...") and len(description) > 40:
        return description[:LEAD_MAX_CHARS]
    if paragraphs:
        first = paragraphs[0]
        return first if len(first) <= LEAD_MAX_CHARS else first[:LEAD_MAX_CHARS].rsplit(" ", 1)[0] + "…"
    return description or None
