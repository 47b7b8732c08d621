"""Read one article page: site selectors, then JSON-LD/OpenGraph/meta, then the main-text finder, then trafilatura.

Selectors are a hint, not a gate: when a source's title or body selectors miss, the other layers read the page and
`Extracted.selectors_missed` says which selectors missed (a page no layer reads is still an error).

The same function serves the spiders, `unionfeed extract` and the tests. The selector and metadata paths never
call trafilatura, so a configured source costs a parse and a few queries a page.
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html
from parsel import Selector
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

from feed.config.sources import Selectors
from feed.extract.bounds import bounded, cap_body
from feed.extract.main_text import find_main_text, image_urls, lines_after, prune, read_blocks, read_paragraphs
from feed.extract.metadata import (
    HAS_CLOCK,
    find_sapo,
    find_visible_date,
    fold_title,
    headings,
    pick_title,
    read_metadata,
    sapo_text,
)
from feed.extract.page_noise import (
    CAPTION_SELECTORS,
    NOISE_SELECTORS,
    RELATED_LINE,
    parse_author_line,
    plausible_person,
    read_closing_lines,
    split_tail,
)
from feed.extract.tree import drop_tree, parse_document, text_content
from feed.lang.dates import find_vn_datetime, parse_vn_datetime
from feed.lang.text import clean, clean_line, clean_lines, repair_mojibake, strip_xml_illegal
from feed.lang.urls import pick_canonical, web_url
from feed.records import Extracted

# Places where a page states its date near the headline, when no selector or metadata does.
DATE_HINT_SELECTORS = (
    "[itemprop=datePublished]",
    "time",
    "[class*=date]",
    "[class*=time]",
    "[class*=Date]",
    "[class*=Time]",
    "[class*=ngay]",
    "[class*=publish]",
    "[id*=date]",
    "[id*=Date]",
    "[id*=time]",
    "[class*=meta]",
    "[class*=info]",
)
MIN_BODY_CHARS = 40  # below this the page has no article text (a photo post's one line still counts)
LEAD_MAX_CHARS = 600
TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ")
# Characters that only appear in Vietnamese UTF-8 read as Latin-1/cp1252: a cheap test before the repair scan.
MOJIBAKE_MARKS = ("Ã", "Ä", "Æ", "á»", "áº")
# C0 controls no HTML text may hold (NUL included): libxml2 refuses or mangles them, feeds cannot carry them.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A page that is mostly not text: random bytes or an image answered with a text/html label.
BINARY_SAMPLE = 8192
BINARY_SHARE = 0.02
# An </html> or </body> in the middle of a page (a widget pasted as a whole document) makes libxml2 drop all
# that follows; the parser closes both by itself.
EARLY_END_TAGS = re.compile(r"</(?:html|body)\s*>", re.I)
LEGACY_CODEC = "cp1258"  # what an undeclared page that is not UTF-8 is read as
# XHTML pages open with <?xml … encoding="…"?>, which lxml refuses in text it did not decode itself.
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _declared(data: bytes, encoding: str | None) -> tuple[str, str]:
    """The charset a page declares (BOM, HTTP header, meta), else UTF-8, and the text it gives.

    Spelled out rather than left to w3lib's html_to_unicode, whose undeclared-page guess changed in 2.6
    (a frequency guess that reads windows-1258 Vietnamese as ISO-8859-4); the legacy fallback is ours."""
    bom, mark = read_bom(data)
    if bom is not None and mark is not None:
        return bom, to_unicode(data[len(mark) :], bom)
    declared = http_content_type_encoding(f"charset={encoding}") if encoding else None
    declared = declared or html_body_declared_encoding(data)
    chosen = (resolve_encoding(declared) if declared else None) or "utf-8"
    return chosen, to_unicode(data, chosen)


def _decode_bytes(data: bytes, encoding: str | None) -> str:
    """BOM, HTTP charset, meta charset, UTF-8, checked against the bytes themselves."""
    chosen, text = _declared(data, encoding)
    codec = codecs.lookup(chosen).name
    if not codec.startswith("utf") and not data.isascii():
        # Non-ASCII bytes that form valid UTF-8 are UTF-8, whatever a server's default "iso-8859-1" says.
        return _utf8(data) or text
    if codec != "utf-8" or "\ufffd" not in text or _utf8(data) is not None:
        return text
    declared = html_body_declared_encoding(data)
    if declared and codecs.lookup(declared).name != "utf-8":
        # Declared UTF-8 but not UTF-8: a server-wide header over an old page; the page's own meta knows.
        return data.decode(declared, "replace")
    if not encoding and not declared and read_bom(data)[0] is None:
        # No charset anywhere and not UTF-8: old Vietnamese sites were written in windows-1258.
        return data.decode(LEGACY_CODEC, "replace")
    return text


def decode_page(data: bytes | str, encoding: str | None = None) -> str:
    """Page bytes to text: BOM, HTTP/meta charset checked against the bytes, then UTF-8; mojibake repaired."""
    text = _decode_bytes(data, encoding) if isinstance(data, bytes) else data
    if any(mark in text for mark in MOJIBAKE_MARKS):
        return repair_mojibake(text)
    return text


def looks_binary(text: str) -> bool:
    """True when the start of a decoded page is mostly control characters or undecodable bytes."""
    sample = text[:BINARY_SAMPLE]
    odd = len(CONTROL_CHARS.findall(sample)) + sample.count("\ufffd")
    return odd > max(8, len(sample) * BINARY_SHARE)


def prepare_page(text: str) -> str:
    """Text the HTML parser reads whole: no XML declaration, no XML-illegal characters, no early </html>."""
    return EARLY_END_TAGS.sub("", strip_xml_illegal(XML_DECLARATION.sub("", text, count=1)))


# The last page extract() parsed (the object it was given, its encoding) and the text the parser read: the crawl's
# judge (feed.extract.judge.parse) reads the same response body right after, and finds the text decoded, prepared
# and bounded here instead of doing it again. One tuple, replaced whole; matched by identity, so a page that only
# looks the same is read afresh.
_last_read: tuple[bytes | str, str | None, str] | None = None


def parser_text(page: bytes | str, encoding: str | None = None) -> str:
    """The text the HTML parser reads of a page: decoded, prepared, bounded (the last page extracted: remembered)."""
    last = _last_read
    if last is not None and last[0] is page and last[1] == encoding:
        return last[2]
    return bounded(prepare_page(decode_page(page, encoding)))


def _drop(root: etree._Element, selectors: tuple[str, ...]) -> None:
    sel = Selector(root=root)
    for query in selectors:
        try:
            found = sel.css(query)
        except Exception:  # a bad selector in a profile must not stop extraction
            continue
        for node in found:
            element = node.root
            if isinstance(element, etree._Element) and element.getparent() is not None:
                drop_tree(element)


def _drop_code(doc: etree._Element) -> None:
    """Remove <script>, <style> and <template> elements, keeping the text that follows each."""
    for element in list(doc.iter("script", "style", "template")):
        if element.getparent() is not None:
            drop_tree(element)


def _select_body(doc: etree._Element, query: str, remove: tuple[str, ...]) -> tuple[list[str], list[str], list[str]]:
    """Paragraphs, image URLs and the lines printed just after the body a selector names, chrome removed."""
    nodes = [n.root for n in Selector(root=doc).css(query) if isinstance(n.root, etree._Element)]
    # Of nested matches ("a, b" where b sits inside a) keep the outer one, so no text is read twice.
    nodes = [n for n in nodes if not any(a in nodes for a in n.iterancestors())]
    images = [url for element in nodes for url in image_urls(element)]  # before removal: the lead picture counts
    for element in nodes:
        _drop(element, (*NOISE_SELECTORS, *CAPTION_SELECTORS, *remove))
        prune(element)
    paragraphs, _ = read_blocks(nodes)
    return paragraphs, images, lines_after(nodes[-1]) if nodes else []


def _selected_lead(sel: Selector, query: str | None) -> str | None:
    """The sapo a selector names, without the related-story links that trail it."""
    if not query:
        return None
    nodes = [n.root for n in sel.css(query) if isinstance(n.root, etree._Element)]
    return "\n".join(text for text in (sapo_text(n) for n in nodes) if text) or None


def _clean_title(title: str | None) -> str | None:
    title = clean_line(title)
    if not title:
        return None
    for sep in TITLE_SEPARATORS:
        if sep in title:
            head, _, tail = title.rpartition(sep)
            # "Hội nghị ... | Báo Nam Định": drop a short site-name tail; a tail without letters is part of the
            # headline ("nhiệm kỳ 2026 - 2031").
            if head and len(tail) < 40 and len(head) > len(tail) * 1.5 and any(c.isalpha() for c in tail):
                title = head
                break
    return title.strip() or None


def _generic(page: str, url: str) -> dict[str, str | None]:
    """trafilatura's reading of the page, for pages where neither selectors nor our own finder answer."""
    import trafilatura  # imported here: the selector and metadata paths never need it

    # Without extensive search: it turns a year mentioned in the text ("năm 2026") into 1 January of that year.
    doc = trafilatura.bare_extraction(
        page,
        url=url,
        with_metadata=True,
        include_comments=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None:
        return {}
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    return {k: data.get(k) for k in ("text", "title", "date", "author", "description")}


def extract(
    page: bytes | str,
    url: str,
    *,
    selectors: Selectors | None = None,
    fetched_at: datetime | None = None,
    encoding: str | None = None,
) -> Extracted:
    """Read one article page into an Extracted record; problems land in `error`, never as an exception."""
    try:
        return _extract(decode_page(page, encoding), url, selectors or Selectors(), fetched_at, (page, encoding))
    except Exception as exc:  # a broken page must never stop the crawl
        return Extracted(url=url, error=f"{type(exc).__name__}: {exc}")


def _extract(
    page: str,
    url: str,
    rules: Selectors,
    fetched_at: datetime | None,
    given: tuple[bytes | str, str | None] | None = None,
) -> Extracted:
    global _last_read
    if not page.strip():
        return Extracted(url=url, error="empty page")
    if looks_binary(page):
        return Extracted(url=url, error="binary content, not a text page")
    # A megabytes-long line of text is cut, and nesting libxml2 would stop at (255 deep) flattened, before parsing.
    page = bounded(prepare_page(page))
    if given is not None:
        _last_read = (*given, page)
    try:
        doc = parse_document(page)
    except etree.ParserError:  # comments or a declaration only: no element at all
        return Extracted(url=url, error="empty page")
    sel = Selector(root=doc)
    meta = read_metadata(sel)
    _drop_code(doc)  # JSON-LD is read; from here on no script or style may lend its text to a title, lead or body
    out = Extracted(url=url)
    if url.startswith(("http://", "https://")):
        # A copy that declares its origin's URL as canonical must stay its own record: dedup lists it.
        out.canonical_url = pick_canonical(url, meta.get("canonical"), meta.get("og_url"))
        out.declared_canonical = next(
            (u for u in (web_url(url, meta.get("canonical")), web_url(url, meta.get("og_url"))) if u), None
        )
    elif meta.get("url"):  # a saved file: the page's own declaration is all we know of its address
        out.canonical_url = urljoin(url, meta["url"])

    def pick(query: str | None, attributes: bool = False) -> str | None:
        if not query:
            return None
        nodes = [n for n in sel.css(query) if isinstance(n.root, etree._Element)]
        # Of nested matches (".author, .author .name") keep the outer one, so no text is read twice.
        nodes = [n for n in nodes if not any(a in {m.root for m in nodes} for a in n.root.iterancestors())]
        # .xpath on the matched elements, not "query ::text": in "a, b ::text" the pseudo-element binds only to b.
        texts = [" ".join(n.xpath(".//text()").getall()) for n in nodes]
        if attributes:  # <time datetime="…"> carries the clock time its text leaves out
            texts = [v for n in nodes for v in n.xpath("@datetime | @content").getall()] + texts
        return clean_line(" ".join(texts)) or None

    selected_title = pick(rules.title)
    h1s = headings(doc)
    # A selected headline is taken as written; only page-level titles may carry a site-name tail.
    out.title = selected_title or _clean_title(pick_title(meta, h1s))
    h1 = next(
        (h for h in h1s if out.title and fold_title(clean_line(text_content(h))) == fold_title(out.title)),
        h1s[0] if h1s else None,
    )
    out.published_at = _published(pick(rules.published, attributes=True), meta, h1, doc, fetched_at)
    out.updated_at = parse_vn_datetime(meta["modified"], now=fetched_at) if meta.get("modified") else None
    selector_author = pick(rules.author)
    lead = _selected_lead(sel, rules.lead) or (find_sapo(h1, doc) if not rules.body else None)

    paragraphs, images, generic, after = _body(doc, page, url, rules, meta, out, lead)
    # One article keeps at most BODY_MAX_CHARS of text, cut at a paragraph or sentence end; the cut is recorded.
    paragraphs, out.body_cut_from = cap_body(paragraphs)
    body_missed = bool(rules.body) and out.method != "selectors"
    lead = lead or _lead_from(meta.get("description"), out.title, [])
    tail = split_tail(_drop_heading_lines(paragraphs, out.title, lead))
    if tail.author is None and tail.credit is None:
        read_closing_lines(tail, after)
    paragraphs = tail.paragraphs
    if out.method == "generic" and not out.title:
        out.title = _clean_title(generic.get("title"))
    out.body_text = "\n\n".join(paragraphs)
    out.lead = lead or _lead_from(None, out.title, paragraphs)
    if selector_author:
        selector_author = parse_author_line(selector_author) or selector_author
    meta_author = meta.get("author") if plausible_person(meta.get("author")) else None
    out.author = clean_line(selector_author or tail.author or meta_author or generic.get("author")) or None
    out.syndicated_from = tail.credit
    if out.published_at is None and generic.get("date"):
        out.published_at = parse_vn_datetime(str(generic["date"]), now=fetched_at)
    if meta.get("image"):
        images.insert(0, meta["image"])
    out.image_urls = list(dict.fromkeys(u for u in (web_url(url, i) for i in images) if u))[:20]
    out.body_html = "".join(f"<p>{html_lib.escape(p)}</p>" for p in paragraphs)
    if not out.title:
        out.error = "no title found"
    elif len(out.body_text) < MIN_BODY_CHARS:
        out.error = "no article text found"
    # Selectors are a hint: when the configured ones miss, the layers below read the page; the miss is recorded
    # (the crawl counts it and health flags selectors that miss on most pages of a run).
    missed = [name for name, miss in (("title", rules.title and not selected_title), ("body", body_missed)) if miss]
    out.selectors_missed = ", ".join(missed) or None
    if len(missed) == 2 and (out.error or out.method == "generic"):
        # Neither the headline nor the body of this site's layout is on the page, and neither the page's metadata
        # nor our main-text finder reads it: a broken page (trafilatura would publish its menus) or a redesign.
        out.error = "the source's title and body selectors match nothing on this page"
    return out


def _body(
    doc: etree._Element,
    page: str,
    url: str,
    rules: Selectors,
    meta: dict[str, str],
    out: Extracted,
    lead: str | None,
) -> tuple[list[str], list[str], dict[str, str | None], list[str]]:
    """The body by the first path that answers: selectors, JSON-LD articleBody, our finder, trafilatura."""
    if rules.body:
        paragraphs, images, after = _select_body(doc, rules.body, rules.remove)
        if sum(map(len, paragraphs)) >= MIN_BODY_CHARS:
            out.method = "selectors"
            return paragraphs, images, {}, after
    declared = _metadata_body(meta.get("body"))
    if declared:
        out.method = "metadata"
        return declared, [], {}, []
    found = find_main_text(doc, title=out.title, lead=lead or meta.get("description"))
    if found.confident:
        out.method = "density"
        return found.paragraphs, found.images, {}, found.after
    generic = _generic(page, url)
    out.method = "generic"
    paragraphs = clean_lines(generic.get("text"))
    return paragraphs, found.images, generic, []


def _metadata_body(body: str | None) -> list[str] | None:
    """JSON-LD articleBody as paragraphs, unless it is a teaser cut short ("…") or too short to be the article."""
    text = clean(body)
    if len(text) < MIN_BODY_CHARS or text.rstrip().endswith(("…", "...", "[…]")):
        return None
    if "<" in text and re.search(r"</?(?:p|br|div|body|span|a|strong|em)\b", text, re.I):
        # Some sites put the body's HTML in articleBody.
        return read_paragraphs(lxml_html.fragment_fromstring(text, create_parent="div"))
    return clean_lines(text)


def _published(
    selected: str | None,
    meta: dict[str, str],
    h1: etree._Element | None,
    doc: etree._Element,
    fetched_at: datetime | None,
) -> datetime | None:
    """The publication time: a selector's, else the one printed by the headline, else metadata's, else any shown."""
    if selected:
        found = find_vn_datetime(selected, now=fetched_at)
        if found:
            return found
    # The time printed beside the headline is the page's own statement; metadata is often the CMS's creation stamp.
    near = find_visible_date(h1, doc, DATE_HINT_SELECTORS, fetched_at, depth=2, whole_page=False)
    if near:
        return near
    declared = parse_vn_datetime(meta["published"], now=fetched_at) if meta.get("published") else None
    if declared and HAS_CLOCK.search(meta["published"]):
        return declared
    shown = find_visible_date(h1, doc, DATE_HINT_SELECTORS, fetched_at)
    if shown and (declared is None or shown.date() == declared.date()):
        return shown
    return declared or shown


def _drop_heading_lines(paragraphs: list[str], title: str | None, lead: str | None) -> list[str]:
    """Remove the headline, the sapo and a printed date from the top of a body read off the page."""
    key_title = fold_title(title) if title else None
    key_lead = fold_title(lead.replace("\n", " ")) if lead else None
    kept: list[str] = []
    for index, line in enumerate(paragraphs):
        key = fold_title(line)
        at_top = index < 6 and not kept
        repeats_lead = key_lead and (key == key_lead or (at_top and len(key) > 30 and key_lead.startswith(key)))
        if key == key_title or repeats_lead:
            continue
        if at_top and len(line) < 60 and HAS_CLOCK.search(line) and find_vn_datetime(line):
            continue
        if at_top and RELATED_LINE.match(line):
            continue
        kept.append(line)
    return kept


def _lead_from(description: str | None, title: str | None, paragraphs: list[str]) -> str | None:
    """The standfirst: the page's description when it is real text, else the first paragraph."""
    description = clean_line(description)
    if description and len(description) > 40 and (not title or fold_title(description) != fold_title(title)):
        return description.split(" >>")[0][:LEAD_MAX_CHARS]
    if paragraphs:
        first = paragraphs[0]
        return first if len(first) <= LEAD_MAX_CHARS else first[:LEAD_MAX_CHARS].rsplit(" ", 1)[0] + "…"
    return description or None
