"""Is a fetched page an article? Judged from the page and what extraction read off it, before anything is stored.

A source whose listing rule is every link (`links: "a"`) fetches its menus, sections, "Giới thiệu"/"Liên hệ",
tag and search pages too, and the generic layers turn such a page into a "valid" article (the site's tagline as
title, the copyright footer as body). `judge_page` names why a page is not an article, or says it is one:

* `homepage`, `section`: the URL is the site's root or one of its listing pages (the source's own listing URLs, or
  a path whose first segment is a section, tag or search word: `/tag/…`, `/tim-kiem?q=…`, `/chuyen-muc/…/`);
* `og_type`: the page declares `og:type` and it is not an article (`website`, `object`, `profile`);
* `site_title`: the headline is the site's name (the source's name, `og:site_name`, the homepage's title), or a
  generic page title ("Trang chủ", "Giới thiệu", "Liên hệ", "Tìm kiếm", "Đăng nhập"…);
* `menu_title`: the headline is the label of a link in the site's menu, header or footer (a menu target);
* `login`: a password form and no date: a login or gate page;
* `listing`: most of the text read as body is the text of links on the page (teaser titles), many of them;
* `chrome`: most of the body is text that the menus and footer already hold (address, copyright, hotline);
* `no_date`: no publication date anywhere (selectors, metadata, the visible page) and no article metadata
  (`og:type=article`, a JSON-LD `NewsArticle`/`Article`/`BlogPosting`);
* `short`: under SHORT_BODY characters of body and no article metadata.

The first that applies is the page's reason (URL reasons first: they are certain and cheap). A page extraction
could not read at all stays an extraction error; only the structural reasons (URL, og:type, login) turn such a
page into a refusal. Measured on every real article page we hold and on written non-article
pages: `python bench/judge.py` (figures in docs/extraction.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from lxml import etree

from feed.extract.article import parser_text
from feed.extract.tree import drop_tree, parse_document, text_content
from feed.lang.text import clean_line, clean_lines, fold
from feed.lang.urls import canonicalize_url
from feed.records import Extracted

# Each reason's code, its English text and its Vietnamese label (the status line counts pages by label).
REASONS: dict[str, tuple[str, str]] = {
    "homepage": ("the site's home page", "trang chủ"),
    "section": ("a section, tag or search page", "trang chuyên mục"),
    "og_type": ("og:type says it is not an article", "og:type không phải bài viết"),
    "site_title": ("its title is the site's name", "tiêu đề là tên trang"),
    "menu_title": ("its title is a menu item (about, contact…)", "trang của menu"),
    "login": ("a login or gate page", "trang đăng nhập"),
    "listing": ("a list of links to other pages", "trang danh sách liên kết"),
    "chrome": ("its text is the site's menu and footer", "nội dung là menu, chân trang"),
    "no_date": ("no publication date anywhere", "thiếu ngày đăng"),
    "short": ("too little text", "quá ít nội dung"),
}

MENU_WORDS = 6  # a menu label has at most this many words (headlines have more)
HEADLINE_WORDS = 8  # an undated page keeps its chance only with a headline this long …
LONG_UNDATED = 1500  # … and this much text (an undated press release; an about page has a label for a title)
SHORT_BODY = 200  # characters of body under which a page without article metadata is not an article
LISTING_MANY = 8  # body lines that are link texts, whatever their share
LISTING_DATES = 3  # lines that are only a date ("12/08/2026 11:20"): one under each teaser of a list
DATE_LINE = re.compile(
    r"^[(\[]?(?:[^\W\d_]+,?\s*)?\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?:[\s,|-]*(?:lúc\s*)?\d{1,2}[:h]\d{2}(?::\d{2})?\s*(?:AM|PM|SA|CH)?)?(?:\s*\(?GMT\+7\)?)?[)\]]?$",
    re.I,
)
LISTING_LINES = 4  # body lines that are link texts (teaser titles) …
LISTING_SHARE = 0.3  # … and their share of the body's characters
LINK_TEXT_MIN = 20  # shorter link texts ("Xem thêm", "Trang sau") are not teaser titles
CHROME_SHARE = 0.5  # share of the body's characters the menus and footer already hold
CHROME_LINE_MIN = 12
ARTICLE_OG_TYPES = ("article", "news", "newsarticle", "blog", "blogposting")
JSON_LD_ARTICLE = re.compile(
    r'"@type"\s*:\s*(?:\[[^\]]*)?"(?:News|Reportage|Analysis|Opinion|Report|Scholarly|Tech|Satirical)?Article"'
    r'|"@type"\s*:\s*(?:\[[^\]]*)?"(?:BlogPosting|LiveBlogPosting)"',
    re.I,
)
# A path's first segment that names a section, tag or search page, when nothing but a page number follows it.
SECTION_WORDS = {
    "tag",
    "tags",
    "the",
    "tu-khoa",
    "chu-de",
    "topic",
    "topics",
    "category",
    "categories",
    "chuyen-muc",
    "danh-muc",
    "search",
    "tim-kiem",
    "timkiem",
    "author",
    "tac-gia",
}
SEARCH_PARAMS = {"q", "s", "keyword", "keywords", "tu-khoa", "tukhoa", "search", "query"}
INDEX_PAGES = re.compile(r"^/(?:(?:index|default|home|trang-chu)\.(?:html?|php|aspx?|jsp))?$", re.I)
PAGE_NUMBER = re.compile(r"^(?:page|trang|p)[-/]?\d+(?:\.html?)?$|^\d{1,3}$", re.I)
# Titles of pages that are never articles, folded ("Giới thiệu" → "gioi thieu").
GENERIC_TITLES = {
    fold(t)
    for t in (
        "Trang chủ",
        "Trang chủ - Home",
        "Home",
        "Giới thiệu",
        "Giới thiệu chung",
        "Liên hệ",
        "Liên hệ với chúng tôi",
        "Tin tức",
        "Tin tức - Sự kiện",
        "Tin tức sự kiện",
        "Tìm kiếm",
        "Kết quả tìm kiếm",
        "Sơ đồ trang",
        "Sơ đồ cổng",
        "Đăng nhập",
        "Đăng ký",
        "Thông báo",
        "Lịch công tác",
        "Văn bản",
        "Hỏi đáp",
        "Thư viện ảnh",
        "Video",
        "Bản đồ",
        "Cơ cấu tổ chức",
        "Ban lãnh đạo",
        "Chức năng nhiệm vụ",
        "Lịch sử phát triển",
    )
}
CHROME_TAGS = ("nav", "header", "footer")
# A class or id token that names a menu, header or footer ("main-menu", "site-footer", "navbar", "copyright").
CHROME_HINT = re.compile(
    r"^(?:(?:site|page|main|top|sub)[-_]?)?(?:footer|menu|nav|navbar|navigation|header|copyright|topbar)s?$", re.I
)
CHROME_PROSE = 2  # a block holding this many prose paragraphs is content, whatever its class says
LOGIN_TITLE = re.compile(r"đăng nhập|login|log in|sign in|đăng ký tài khoản", re.I)
SEARCH_TITLE = re.compile(r"^(?:kết quả tìm kiếm|tìm kiếm|search results?)\b", re.I)


@dataclass(frozen=True)
class Judgement:
    """The verdict on one page: `reason` is None for an article, else a code of REASONS; `detail` says what."""

    reason: str | None = None
    detail: str = ""

    @property
    def is_article(self) -> bool:
        return self.reason is None

    @property
    def label_vi(self) -> str:
        return REASONS[self.reason][1] if self.reason else ""

    def text(self) -> str:
        """English, for logs: "not an article (a section, tag or search page: /tag/x)"."""
        if self.reason is None:
            return "an article"
        return f"not an article ({REASONS[self.reason][0]}{': ' + self.detail if self.detail else ''})"


@dataclass(frozen=True)
class SiteFacts:
    """What the judge knows of the page's site besides the page: its names, its home page and listing pages."""

    homepage: str | None = None
    names: tuple[str, ...] = ()  # the source's name, the homepage's <title>, … (og:site_name is read off the page)
    listings: tuple[str, ...] = ()  # URLs of the source's own listing pages (sections)
    # The URL matched the source's article_pattern: the operator vouched for it, so a missing date or a short text
    # is the article's flaw (health's coverage figures see it), not a sign of a menu page.
    vouched: bool = False


def _path_reason(url: str, site: SiteFacts) -> Judgement | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None  # a saved file: its name says nothing of the site's layout
    key = canonicalize_url(url)
    if site.homepage and key == canonicalize_url(site.homepage):
        return Judgement("homepage", url)
    if INDEX_PAGES.match(parts.path or "/"):
        return Judgement("homepage", url)
    if any(key == canonicalize_url(listing) for listing in site.listings):
        return Judgement("section", url)
    query = {name.lower() for name, value in parse_qsl(parts.query) if value}
    if query & SEARCH_PARAMS:
        return Judgement("section", f"search: {url}")
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[0].lower() in SECTION_WORDS and all(PAGE_NUMBER.match(s) for s in segments[2:]):
        return Judgement("section", url)
    return None


def _text(element: etree._Element) -> str:
    return clean_line(text_content(element))


def _og_type(doc: etree._Element) -> str | None:
    for meta in doc.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:type":
            value = (meta.get("content") or "").strip().lower()
            return value or None
    return None


def _site_names(doc: etree._Element, site: SiteFacts, title: str) -> list[str]:
    names = list(site.names)
    if any(fold(_text(h)) == fold(title) for h in doc.iter("h1")):
        # The page prints this title as its headline: a site name declared equal to it is a CMS filling og:site_name
        # with the headline (MSN does), not the site's name.
        return [n for n in (fold(clean_line(n)) for n in names) if len(n) >= 4]
    for meta in doc.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").strip().lower() in ("og:site_name", "application-name"):
            names.append(meta.get("content") or "")
    return [n for n in (fold(clean_line(n)) for n in names) if len(n) >= 4]


def _title_reason(title: str, doc: etree._Element, site: SiteFacts) -> Judgement | None:
    key = fold(title)
    if not key:
        return None
    if key in GENERIC_TITLES or SEARCH_TITLE.match(title):
        return Judgement("site_title", title)
    for name in _site_names(doc, site, title):
        # Equal to the site's name, or a piece of it (the tagline "Cổng thông tin điện tử" of the site's name).
        if key == name or (len(key) >= 8 and key in name):
            return Judgement("site_title", title)
    return None


def _chrome(doc: etree._Element) -> list[etree._Element]:
    """The page's menus, headers and footers: by tag, role, or a class/id that says so."""
    found: list[etree._Element] = []
    # Depth first in document order, not entering a block once found (what it holds is part of it): the blocks
    # found are the ones testing every element's ancestors against the list found so far gave, at a visit each.
    # One iter() in C, passing over the inside of a block found (up to its last descendant, which iter() reaches
    # last of the block) as prune does, rather than a stack of children built in Python.
    inside: etree._Element | None = None
    for element in doc.iter():
        if inside is not None:
            if element is inside:
                inside = None
            continue
        if isinstance(element.tag, str) and _is_chrome(element):
            found.append(element)
            if len(element):
                inside = _last_descendant(element)
    return found


def _last_descendant(element: etree._Element) -> etree._Element:
    while len(element):
        element = element[-1]
    return element


CHROME_NAMED_TAGS = frozenset({"div", "ul", "section", "table", "td"})  # tags a chrome class or id may name
# What a block's class/id/role words say of it, by the words: a page repeats a few dozen such strings over its
# elements (the memo is emptied when it grows large).
_CHROME_WORDS: dict[tuple[bool, str], bool] = {}
_CHROME_WORDS_MAX = 50_000


def _chrome_words(named_tag: bool, hints: str) -> bool:
    """True when the class/id/role words name a menu, header or footer (a chrome word on a block that may carry
    one, or the role "navigation")."""
    key = (named_tag, hints)
    verdict = _CHROME_WORDS.get(key)
    if verdict is None:
        tokens = hints.split()
        verdict = (named_tag and any(CHROME_HINT.match(t) for t in tokens)) or "navigation" in tokens
        if len(_CHROME_WORDS) >= _CHROME_WORDS_MAX:
            _CHROME_WORDS.clear()
        _CHROME_WORDS[key] = verdict
    return verdict


def _is_chrome(element: etree._Element) -> bool:
    """A menu, header or footer block by its tag, role, class or id, unless it holds the headline or prose."""
    tag = element.tag
    if tag not in CHROME_TAGS:
        hints = f"{element.get('class', '')} {element.get('id', '')} {element.get('role', '')}"
        if not _chrome_words(tag in CHROME_NAMED_TAGS, hints):
            return False
    # An article's own <header> (headline, byline) or a wrapper named "header-…" around the whole page is not
    # chrome: a block holding the headline or prose paragraphs is content.
    prose = sum(1 for p in element.iter("p") if len(_text(p)) >= 100)
    return not (prose >= CHROME_PROSE or any(True for _ in element.iter("h1", "article")))


def _menu_title(title: str, chrome: list[etree._Element]) -> Judgement | None:
    """The headline is the label of a link in a menu, header or footer: a menu target ("Giới thiệu", "Liên hệ")."""
    key = fold(title)
    if len(title.split()) > MENU_WORDS:
        return None  # a headline, not a menu label
    for block in chrome:
        links = [fold(_text(a)) for a in block.iter("a")]
        labels = [t for t in links if t]
        # A menu of labels, not a strip of headlines ("Trending", "Most read") that may name this very article.
        if key in labels and sorted(len(t.split()) for t in labels)[len(labels) // 2] <= MENU_WORDS:
            return Judgement("menu_title", title)
    return None


def _dated_or_long(article: Extracted) -> bool:
    """A date, or else a headline-long title over a long text (an undated press release is still an article; an
    about page has a label for a title)."""
    if article.published_at is not None:
        return True
    headline = article.title is not None and len(article.title.split()) >= HEADLINE_WORDS
    return headline and len(article.body_text) >= LONG_UNDATED


def _headline_printed(title: str | None, doc: etree._Element) -> bool:
    """The page prints the title as its h1: a short photo or video post is still an article."""
    return title is not None and any(fold(_text(h)) == fold(title) for h in doc.iter("h1"))


def _has_password_form(doc: etree._Element) -> bool:
    return any((field.get("type") or "").lower() == "password" for field in doc.iter("input"))


def _body_lines(article: Extracted) -> list[str]:
    return clean_lines(article.body_text)


def _own_host(article: Extracted) -> str | None:
    for url in (article.url, article.canonical_url):
        try:
            if url and urlsplit(url).scheme in ("http", "https"):
                return urlsplit(url).hostname
        except ValueError:
            continue
    return None


def _same_site(href: str | None, host: str | None) -> bool:
    """A link to the page's own site: relative, or on its host (a roundup's links to shops and outlets are not)."""
    if not href:
        return False
    href = href.strip()
    if href[:1] in ("/", "#", "?") and href[1:2] != "/" and "\t" not in href and "\n" not in href and "\r" not in href:
        # A path, fragment or query with no scheme and no host: what urlsplit would find, without it.
        return True
    try:
        parts = urlsplit(href)
    except ValueError:
        return False
    if parts.scheme and parts.scheme not in ("http", "https"):
        return False
    if not parts.netloc:
        return True
    other = (parts.hostname or "").removeprefix("www.")
    return host is not None and other == host.removeprefix("www.")


def _listing(lines: list[str], folded: list[str], doc: etree._Element, host: str | None) -> Judgement | None:
    """The body is a list of teasers: lines that are (or open with) the text of links to other pages of the site,
    or a date line under each teaser. `folded` is fold() of each line (folded once for both tests)."""
    anchors = (_text(a) for a in doc.iter("a") if _same_site(a.get("href"), host))
    link_texts = {fold(t) for t in anchors if len(t) >= LINK_TEXT_MIN}
    starts = {t[:LINK_TEXT_MIN] for t in link_texts}
    linked = [
        line for line, key in zip(lines, folded, strict=True) if key in link_texts or key[:LINK_TEXT_MIN] in starts
    ]
    linked = [line for line in linked if len(line) >= LINK_TEXT_MIN]
    total = sum(map(len, lines)) or 1
    share = sum(map(len, linked)) / total
    if len(linked) >= LISTING_MANY or (len(linked) >= LISTING_LINES and share >= LISTING_SHARE):
        return Judgement("listing", f"{len(linked)} of {len(lines)} lines are links ({share:.0%} of the text)")
    dates = [line for line in lines if DATE_LINE.match(line)]
    if len(dates) >= LISTING_DATES:
        return Judgement("listing", f"{len(dates)} date lines, one under each teaser")
    return None


def _chrome_body(lines: list[str], folded: list[str], chrome: list[etree._Element]) -> Judgement | None:
    """Most of the body is what the menus and footer already say (copyright, address, hotline)."""
    held = " ".join(fold(_text(block)) for block in chrome)
    if not held:
        return None
    counted = [(line, key) for line, key in zip(lines, folded, strict=True) if len(line) >= CHROME_LINE_MIN]
    total = sum(len(line) for line, _ in counted)
    inside = sum(len(line) for line, key in counted if key in held)
    if total and inside / total >= CHROME_SHARE:
        return Judgement("chrome", f"{inside / total:.0%} of the body is menu or footer text")
    return None


def article_evidence(doc: etree._Element) -> bool:
    """The page declares itself an article: og:type article, or a JSON-LD Article/NewsArticle/BlogPosting."""
    og = _og_type(doc)
    if og and og.startswith(ARTICLE_OG_TYPES):
        return True
    return any(JSON_LD_ARTICLE.search(script.text or "") for script in doc.iter("script"))


def parse(page: bytes | str, encoding: str | None = None) -> etree._Element | None:
    """The page as the extractor reads it (decoded, mojibake repaired), or None when it holds no element."""
    try:
        return parse_document(parser_text(page, encoding))
    except (etree.ParserError, ValueError):
        return None


def judge_page(
    page: bytes | str, article: Extracted, site: SiteFacts | None = None, *, encoding: str | None = None
) -> Judgement:
    """Whether the page `article` was read from is an article; never raises (a page it cannot judge is kept)."""
    site = site or SiteFacts()
    try:
        return _judge(page, article, site, encoding)
    except Exception:  # the judge must never lose a page to its own bug: extraction decides then
        return Judgement()


def _judge(page: bytes | str, article: Extracted, site: SiteFacts, encoding: str | None) -> Judgement:
    found = _path_reason(article.url, site)
    if found:
        return found
    doc = parse(page, encoding)
    if doc is None:
        return Judgement()
    evidence = article_evidence(doc)  # before the scripts go: JSON-LD lives in one
    for code in list(doc.iter("script", "style", "template", "noscript")):
        if code.getparent() is not None:
            drop_tree(code)
    og = _og_type(doc)
    if og and not og.startswith(ARTICLE_OG_TYPES) and not evidence and not site.vouched and not _dated_or_long(article):
        # og:type=website on a dated page is a CMS default (seen on real news articles); on an undated one it is
        # the page's own word that it is no article.
        return Judgement("og_type", f"og:type={og}")
    chrome = _chrome(doc)
    if article.title and not article.error:  # a cut-off page's title falls back to the site's: still an error
        menu = _menu_title(article.title, chrome) if article.published_at is None else None
        found = _title_reason(article.title, doc, site) or menu
        if found:
            return found
    login = article.title and LOGIN_TITLE.search(article.title)
    if article.published_at is None and not evidence and _has_password_form(doc) and (login or article.error):
        return Judgement("login", "a password form and no date")
    if article.error:
        return Judgement()  # an unreadable page stays an extraction error
    lines = _body_lines(article)
    folded = [fold(line) for line in lines]  # once per line, for both tests
    found = _listing(lines, folded, doc, _own_host(article)) or _chrome_body(lines, folded, chrome)
    if found:
        return found
    if evidence or site.vouched:
        return Judgement()
    if not _dated_or_long(article):
        return Judgement("no_date", "no date in selectors, metadata or the page")
    if article.published_at is None:
        return Judgement()
    if len(article.body_text) < SHORT_BODY and not _headline_printed(article.title, doc):
        return Judgement("short", f"{len(article.body_text)} characters of text")
    return Judgement()


def count_line(counts: Iterable[tuple[str, int]]) -> str:
    """ "12 trang không phải bài viết bị bỏ qua: 8 trang chuyên mục, 4 thiếu ngày đăng" from (reason, n) pairs."""
    pairs = sorted(((r, n) for r, n in counts if n), key=lambda p: (-p[1], p[0]))
    total = sum(n for _, n in pairs)
    parts = ", ".join(f"{n} {REASONS[r][1] if r in REASONS else r}" for r, n in pairs)
    return f"{total} trang không phải bài viết bị bỏ qua: {parts}" if total else ""


def count_line_en(counts: Iterable[tuple[str, int]]) -> str:
    pairs = sorted(((r, n) for r, n in counts if n), key=lambda p: (-p[1], p[0]))
    total = sum(n for _, n in pairs)
    parts = ", ".join(f"{n} {REASONS[r][0] if r in REASONS else r}" for r, n in pairs)
    return f"{total} pages that are not articles skipped: {parts}" if total else ""
