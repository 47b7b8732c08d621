"""Find an article's main text without site selectors: prune page chrome, score blocks by text density, read one.

A fast, lxml-only relative of Readability tuned on Vietnamese news markup (captions after pictures, "Theo …"
credits, sapo blocks). It answers when it is confident; the caller falls back to trafilatura when it is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from feed.extract.page_noise import (
    BODY_HINT,
    CAPTION_HINT,
    NEGATIVE_HINT,
    NOISE_HINT,
    NOISE_TAGS,
    POSITIVE_HINT,
    SAPO_HINT,
    WEAK_NOISE_HINT,
    looks_like_caption_style,
)
from feed.extract.tree import text_content
from feed.lang.text import clean_line, clean_lines

BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "blockquote",
        "tr",
        "section",
        "article",
        "figure",
        "table",
        "ul",
        "ol",
        "pre",
        "center",
        "dd",
        "dt",
        "td",
        "th",
        "main",
        "tbody",
        "thead",
        "dl",
        "header",
        "footer",
        "figcaption",
        "hr",
    }
)
_BLOCKS_NOT_BR = BLOCK_TAGS - {"br"}  # block children that make a container more than a paragraph
PARAGRAPH_TAGS = frozenset({"p", "pre", "blockquote", "li", "h2", "h3", "h4"})
CONTAINER_TAGS = frozenset(
    {"div", "article", "section", "td", "main", "body", "span", "font", "center", "form", "blockquote"}
)
MIN_PARAGRAPH = 25  # characters of text before a block counts as prose
CONFIDENT_CHARS = 250  # a container with less text is trusted only when it also holds the headline
MAX_CAPTION_WORDS = 40
PHOTO_STORY_SHARE = 0.4  # below this share of text outside captions, the captions are the story
MIN_PROSE_SHARE = 0.25  # the chosen blocks must hold this share of the page's prose paragraphs
LINK_LIST_ITEMS = 2  # a list of this many items or more whose text is mostly links is a teaser list
LINK_LIST_DENSITY = 0.8
LINK_LIST_SHARE = 0.25  # a link list holding more of the body's text than this is not a teaser beside an article
LIST_TITLE_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
SIBLING_PROSE = 200  # characters of prose a sibling block needs before it joins the body
DIV_PARAGRAPH_WORDS = 12  # words a sibling <div> holding text directly needs to join the body as a paragraph
_STANDFIRST = re.compile(f"{SAPO_HINT.pattern}|{CAPTION_HINT.pattern}", re.I)  # boxes beside the body, not in it


@dataclass
class MainText:
    """Paragraphs of the article body, the pictures inside it, and how sure the finder is."""

    paragraphs: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    confident: bool = False
    after: list[str] = field(default_factory=list)  # short unlinked lines right after the body: bylines, credits


def _tag(el: etree._Element) -> str:
    tag = el.tag  # a property: read once
    return tag.lower() if isinstance(tag, str) else ""


def _hints(el: etree._Element) -> str:
    return f"{el.get('class', '')} {el.get('id', '')} {el.get('type', '')}".lower()


# What an element's class/id/type words say, by the words themselves: a page repeats a few dozen class strings over
# thousands of elements, so each string meets the three hint patterns once (the memo is emptied when it grows large).
_KEEP, _NOISE, _WEAK, _PLAIN = range(4)
_HINT_VERDICTS: dict[str, int] = {}
_HINT_MEMO_MAX = 50_000


def _hint_verdict(hints: str) -> int:
    """_KEEP for body-wrapper words, _NOISE for chrome, _WEAK for words that are chrome unless prose, else _PLAIN."""
    verdict = _HINT_VERDICTS.get(hints)
    if verdict is None:
        if hints.isspace() or not hints:
            verdict = _PLAIN
        elif BODY_HINT.search(hints):
            verdict = _KEEP
        elif NOISE_HINT.search(hints):
            verdict = _NOISE
        elif WEAK_NOISE_HINT.search(hints):
            verdict = _WEAK
        else:
            verdict = _PLAIN
        if len(_HINT_VERDICTS) >= _HINT_MEMO_MAX:
            _HINT_VERDICTS.clear()
        _HINT_VERDICTS[hints] = verdict
    return verdict


def prune(root: etree._Element) -> None:
    """Drop elements that are never article text: scripts, navigation, share bars, comments, related boxes, hidden.

    One pass in document order; an element's class/id words are tested once (through the memo above), the cheap
    tests (tag, style, hidden) come before the prose test, and the inside of an element already doomed is not
    examined (it goes with it)."""
    doomed = []
    inside: etree._Element | None = None  # the last element of the doomed subtree being passed over
    for el in root.iter():
        if inside is not None:
            if el is inside:
                inside = None
            continue
        tag = el.tag
        if not isinstance(tag, str):
            if el.getparent() is not None:
                doomed.append(el)  # comments and processing instructions
            continue
        tag = tag.lower()
        if tag in NOISE_TAGS:
            doom = True
        elif tag in ("html", "body"):
            continue
        else:
            style = el.get("style")
            if (style and "display:none" in style.replace(" ", "").lower()) or el.get("hidden") is not None:
                doom = True
            else:
                verdict = _hint_verdict(f"{el.get('class', '')} {el.get('id', '')} {el.get('type', '')}".lower())
                doom = verdict == _NOISE or (verdict == _WEAK and not _reads_as_prose(el))
        if doom:
            doomed.append(el)
            if len(el):
                inside = _last_descendant(el)
    for el in doomed:
        _remove(el)


def _last_descendant(el: etree._Element) -> etree._Element:
    """The element's last descendant in document order (root.iter() reaches it last of the subtree)."""
    while len(el):
        el = el[-1]
    return el


def _reads_as_prose(el: etree._Element) -> bool:
    """True for a box holding a long run of unlinked text: a wrapper of the article, whatever its class says."""
    whole = text_content(el)
    if len(whole) < 200:  # no paragraph inside can be longer than the whole
        return False
    longest = max((len(text_content(p)) for p in el.iter("p", "div", "td") if len(p) < 8), default=0)
    text = len(whole.strip())
    return longest >= 200 and _link_density(el, text) < 0.35


def _remove(el: etree._Element) -> None:
    """Remove an element but keep its tail text in place."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and el.tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _text_len(text: str | None) -> int:
    return len(text.strip()) if text else 0


def _link_density(el: etree._Element, total: int) -> float:
    if not total:
        return 1.0
    linked = sum(len(text_content(a).strip()) for a in el.iter("a"))
    return min(1.0, linked / total)


def _class_weight(el: etree._Element) -> int:
    hints = _hints(el)
    return (25 if POSITIVE_HINT.search(hints) else 0) - (25 if NEGATIVE_HINT.search(hints) else 0)


def _prose_runs(el: etree._Element) -> list[str]:
    """Text sitting directly in a container (its text and the tails of its children), split at block children."""
    runs, current = [], [el.text or ""]
    for child in el:
        tag = _tag(child)
        if tag in BLOCK_TAGS:
            runs.append("".join(current))
            current = []
        elif tag:
            current.append(text_content(child))
        current.append(child.tail or "")
    runs.append("".join(current))
    return [r for r in runs if _text_len(r) >= MIN_PARAGRAPH]


def _credit(scores: dict[etree._Element, float], start: etree._Element | None, text: str) -> None:
    points = 1 + text.count(",") + min(len(text) // 100, 3)
    level = 0
    node = start
    while node is not None and level < 4:
        tag = _tag(node)
        if tag in CONTAINER_TAGS:
            base = scores.get(node)
            if base is None:
                base = (5 if tag in ("div", "article", "section", "main") else 0) + _class_weight(node)
            scores[node] = base + points / (1 if level == 0 else 2 if level == 1 else level * 3)
        node = node.getparent()
        level += 1


def _counts(el: etree._Element, text: str, skip: set[str]) -> bool:
    """True for a paragraph that is prose: long enough, mostly unlinked, not the headline or sapo again."""
    if _text_len(text) < MIN_PARAGRAPH or " ".join(text.split()).casefold() in skip:
        return False
    return _link_density(el, len(text.strip())) <= 0.5


@dataclass
class Scores:
    """Container scores, and each prose paragraph found (its element and length) for measuring coverage."""

    blocks: dict[etree._Element, float] = field(default_factory=dict)
    prose: list[tuple[etree._Element, int]] = field(default_factory=list)


def score_blocks(root: etree._Element, skip: set[str] | None = None) -> Scores:
    """Readability-style scores: each paragraph credits its container, less so the container's ancestors."""
    found = Scores()
    skip = skip or set()
    for el in root.iter():
        tag = _tag(el)
        if tag in PARAGRAPH_TAGS:
            text = text_content(el)
            if _counts(el, text, skip):
                _credit(found.blocks, el.getparent(), text)
                found.prose.append((el, len(text.strip())))
        elif tag in CONTAINER_TAGS:
            has_blocks = any(_tag(c) in _BLOCKS_NOT_BR for c in el)
            if not has_blocks and tag in ("div", "td"):
                text = text_content(el)
                if _counts(el, text, skip):
                    _credit(found.blocks, el.getparent(), text)
                    found.prose.append((el, len(text.strip())))
            elif has_blocks:
                for run in _prose_runs(el):
                    if " ".join(run.split()).casefold() not in skip:
                        _credit(found.blocks, el, run)
                        found.prose.append((el, len(run.strip())))
    return found


def pick_container(root: etree._Element, skip: set[str] | None = None) -> tuple[list[etree._Element], float]:
    """The best-scoring block (score discounted by its share of link text) and the siblings that continue it,
    with the share of the page's prose they hold."""
    scores = score_blocks(root, skip)
    adjusted: dict[etree._Element, float] = {}
    for el, raw in scores.blocks.items():
        adjusted[el] = raw * (1 - _link_density(el, len(text_content(el).strip())))
    if not adjusted:
        return [], 0.0
    best = max(adjusted, key=adjusted.__getitem__)
    held_by: dict[etree._Element, int] = {}
    for el, length in scores.prose:
        for holder in (el, *el.iterancestors()):
            held_by[holder] = held_by.get(holder, 0) + length
    nodes = _with_siblings(best, adjusted, held_by)
    # List items are left out of the measure: on news portals they are mostly teaser lists of other stories.
    prose = [(el, length) for el, length in scores.prose if _tag(el) != "li"]
    total = sum(length for _, length in prose)
    chosen = set(nodes)
    held = sum(length for el, length in prose if el in chosen or any(a in chosen for a in el.iterancestors()))
    return nodes, held / total if total else 0.0


def _with_siblings(
    top: etree._Element, adjusted: dict[etree._Element, float], held_by: dict[etree._Element, int]
) -> list[etree._Element]:
    """Readability's sibling rule: an article cut into several blocks (around an ad, say) is read whole."""
    parent = top.getparent()
    if parent is None or _tag(top) in ("body", "html"):
        return [top]
    threshold = max(10.0, adjusted[top] * 0.2)
    # Readability's lift: a block that is its parent's only element child is read as the parent, so the sibling
    # rule sees the blocks beside the wrapper (an article cut into several wrapped blocks is read whole).
    while _tag(parent) not in ("body", "html") and parent.getparent() is not None and _only_child(top, parent):
        top, parent = parent, parent.getparent()
    nodes = []
    for sibling in parent:
        if sibling is top:
            nodes.append(sibling)
        elif _tag(sibling) and adjusted.get(sibling, 0.0) >= threshold and held_by.get(sibling, 0) >= SIBLING_PROSE:
            # A class name alone ("content-head") earns a score; a sibling must also hold prose of its own.
            nodes.append(sibling)
        elif _tag(sibling) == "p":
            text = text_content(sibling).strip()
            density = _link_density(sibling, len(text))
            if (len(text) > 80 and density < 0.25) or (0 < len(text) <= 80 and density == 0 and text.endswith(".")):
                nodes.append(sibling)
        elif _tag(sibling) == "div" and not _has_blocks(sibling) and not _STANDFIRST.search(_hints(sibling)):
            # A <div> written as a paragraph (no block inside, not a sapo or caption box): kept only when it reads
            # as a sentence of prose.
            text = text_content(sibling).strip()
            if len(text.split()) >= DIV_PARAGRAPH_WORDS and _link_density(sibling, len(text)) < 0.25:
                nodes.append(sibling)
    return nodes


def _only_child(el: etree._Element, parent: etree._Element) -> bool:
    return all(child is el for child in parent if _tag(child))


def _has_blocks(el: etree._Element) -> bool:
    return any(_tag(c) in _BLOCKS_NOT_BR for c in el)


def _alts(el: etree._Element) -> set[str]:
    return {clean_line(img.get(key)) for img in el.iter("img") for key in ("alt", "title") if img.get(key)}


def _is_caption(el: etree._Element, after_image: bool, alts: set[str], whole: str | None = None) -> bool:
    """A short line that describes a picture: caption markup, the picture's alt text, or styled right under it."""
    whole = text_content(el) if whole is None else whole
    text = clean_line(whole)
    if not text:
        return False
    if CAPTION_HINT.search(_hints(el)) or _tag(el) == "figcaption" or text in alts:
        return True
    if text.count(" ") >= MAX_CAPTION_WORDS:  # words of a clean line: its single spaces, plus one
        return False
    inside_picture = after_image or any(True for _ in el.iter("img"))
    # The style is read only for a line by a picture (it decides nothing elsewhere).
    return inside_picture and looks_like_caption_style(el, whole)


def mark_captions(container: etree._Element) -> set[etree._Element]:
    """Elements of the container that are picture captions (a photo story's lines are all of this kind)."""
    alts = _alts(container)
    captions: set[etree._Element] = set()
    after_image = False
    for el in container.iter():
        tag = _tag(el)
        if tag not in BLOCK_TAGS or tag == "br" or (captions and any(a in captions for a in el.iterancestors())):
            continue
        text = text_content(el)  # read once: the picture test, the caption test and the prose test all need it
        if not text.strip() and any(True for _ in el.iter("img")):  # _image_only
            after_image = True
            continue
        has_block_children = any(_tag(c) in _BLOCKS_NOT_BR for c in el)
        if (
            not has_block_children or CAPTION_HINT.search(_hints(el)) or tag in ("figcaption", "table")
        ) and _caption_block(el, after_image, alts, text):
            captions.add(el)
            continue
        if not has_block_children and text.strip():
            after_image = False
    return captions


def _caption_block(el: etree._Element, after_image: bool, alts: set[str], whole: str | None = None) -> bool:
    """`whole` is the element's text_content() when the caller has it already."""
    if _tag(el) == "table":
        # A layout table holding one picture and a short line is a captioned photo.
        text = clean_line(text_content(el) if whole is None else whole)
        return bool(text) and any(True for _ in el.iter("img")) and len(text.split()) <= MAX_CAPTION_WORDS
    return _is_caption(el, after_image, alts, whole)


def read_paragraphs(container: etree._Element, skip: set[etree._Element] | None = None) -> list[str]:
    """The container's paragraphs, breaking at block elements and <br>, leaving out the elements in `skip`."""
    parts: list[str] = []
    skip = skip or set()

    def walk(node: etree._Element) -> None:
        tag = _tag(node)
        if node in skip:
            parts.append("\n")
            return
        if tag in BLOCK_TAGS:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            if _tag(child):
                walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in BLOCK_TAGS:
            parts.append("\n")

    walk(container)
    return clean_lines("".join(parts))


def image_urls(container: etree._Element) -> list[str]:
    """Picture URLs in a container, lazy-loading attributes first."""
    urls = []
    for img in container.iter("img"):
        src = img.get("data-src") or img.get("data-original") or img.get("data-lazy-src") or img.get("src")
        if src and not src.startswith("data:"):
            urls.append(src)
    return urls


def find_main_text(doc: etree._Element, *, title: str | None = None, lead: str | None = None) -> MainText:
    """The article body of a page with no selectors; `doc` is pruned in place, so read metadata first."""
    body = doc.find("body")
    root = body if body is not None else doc
    prune(root)
    skip = {" ".join(t.split()).casefold() for t in (title, lead) if t}
    nodes, share = pick_container(root, skip)
    if not nodes:
        return MainText()
    holds_title = bool(title) and any(
        clean_line(text_content(h)) == title for node in nodes for h in node.iter("h1", "h2")
    )
    for node in nodes:
        _drop_link_lists(node)
    paragraphs, images = read_blocks(nodes)
    chars = sum(map(len, paragraphs))
    confident = (chars >= CONFIDENT_CHARS and share >= MIN_PROSE_SHARE) or (holds_title and chars > 0)
    return MainText(paragraphs, images, confident=confident, after=lines_after(nodes[-1]))


def _drop_link_lists(container: etree._Element) -> None:
    """Remove lists inside the body whose text is mostly links (teasers of other stories, not the article) when
    they hold a small share of the body: on a listing page the links are the page, and the judge must see them."""
    lists = []
    for el in container.iter("ul", "ol"):
        text = len(text_content(el).strip()) if len(el) >= LINK_LIST_ITEMS else 0
        if text and _link_density(el, text) > LINK_LIST_DENSITY and not any(a in lists for a in el.iterancestors()):
            lists.append(el)
    listed = sum(len(text_content(el).strip()) for el in lists)
    if not lists or listed > len(text_content(container).strip()) * LINK_LIST_SHARE:
        return
    for el in lists:
        title = el.getprevious()
        if title is not None and _tag(title) in LIST_TITLE_TAGS and not (title.tail or "").strip():
            _remove(title)  # the list's own heading ("Trending", "Tin liên quan") goes with it
        _remove(el)


def read_blocks(nodes: list[etree._Element]) -> tuple[list[str], list[str]]:
    """Paragraphs and picture URLs of the body blocks, captions left out unless they are the story."""
    images = [url for node in nodes for url in image_urls(node)]
    captions = {c for node in nodes for c in mark_captions(node)}
    paragraphs = [line for node in nodes for line in read_paragraphs(node, captions)]
    # Without captions both readings are the same walk: read once.
    everything = [line for node in nodes for line in read_paragraphs(node)] if captions else paragraphs
    if sum(map(len, paragraphs)) < sum(map(len, everything)) * PHOTO_STORY_SHARE:
        # Most of the text sits under pictures: a photo story, whose captions are the story.
        paragraphs = everything
    return paragraphs, images


def lines_after(container: etree._Element, limit: int = 3) -> list[str]:
    """Short unlinked lines in the blocks just after the body (some templates print the byline outside it)."""
    lines: list[str] = []
    node: etree._Element | None = container
    while node is not None and not lines:
        for sibling in node.itersiblings():
            if not _tag(sibling) or any(True for _ in sibling.iter("a")):
                break
            text = clean_line(text_content(sibling))
            if text:
                if len(text) > 80:
                    break
                lines.append(text)
            if len(lines) >= limit:
                break
        node = node.getparent() if not lines and _tag(node) not in ("body", "html") else None
        if node is not None and _tag(node) in ("body", "html"):
            break
    return lines
