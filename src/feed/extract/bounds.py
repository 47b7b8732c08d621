"""Bounds on what one page may cost: nesting too deep for the HTML parser, and a body too long for a feed.

- libxml2 stops reading a document 255 elements deep: a page of 100,000 nested <div>s lost everything after
  the 255th, the article with it. `flatten_deep` drops the tags beyond `MAX_DEPTH` (their text stays, in
  order) before the page is parsed, so every walk over the tree stays shallow too.
- A page may hold megabytes of text on one line; one article never does. `cap_body` keeps the first
  `BODY_MAX_CHARS` characters of the body, cut at a paragraph end, else a sentence end, else a word end, and
  says how long the body was, so the page is kept (and flagged) rather than refused or published whole.
"""

from __future__ import annotations

import re

BODY_MAX_CHARS = 200_000  # characters of body text one article keeps (a long report is ~30,000)
MAX_DEPTH = 160  # elements one inside another kept by flatten_deep (libxml2's own limit is 255)
# Elements whose end tag may be left out (a <p> ends at the next <p>) and void elements: no depth of their own.
_NO_DEPTH = frozenset(
    "p li dt dd tr td th option optgroup thead tbody tfoot colgroup caption rb rt rp "
    "area base br col embed hr img input link meta source track wbr param keygen".split()
)
# A comment, a raw-text element read whole (script, style …: a "<div" in a script is not a tag), or one tag:
# groups (raw-text name, "/", tag name, the rest of the tag up to ">"). A comment or raw text runs to its end or to
# the end of the page; written as unrolled loops ([^<]* runs between the "<" that do not close it), which reads
# a page about 2.5× faster than lazy ".*?" and matches the same spans.
_TOKENS = re.compile(
    r"<!--[^-]*(?:-(?!->)[^-]*)*(?:-->)?"
    r"|<(script|style|textarea|template|title)\b[^<]*(?:<(?!/\1\s*>)[^<]*)*(?:</\1\s*>)?"
    r"|<(/?)([A-Za-z][\w:-]*)([^>]*)>",
    re.I,
)
# A sentence end: . ! ? or … with a closing quote or bracket, then a space.
_SENTENCE_END = re.compile(r"[.!?…][\"”’)\]]*\s")


def flatten_deep(page: str, limit: int = MAX_DEPTH) -> tuple[str, int]:
    """The page with the start and end tags nested deeper than `limit` removed (each replaced by a line break,
    so words on either side stay apart), and how many tags were removed. A page never that deep is returned as
    it is."""
    if page.count("<") <= limit or not _too_deep(page, limit):
        return page, 0
    stack: list[tuple[str, bool]] = []  # (tag name, removed)
    cuts: list[tuple[int, int]] = []
    for match in _TOKENS.finditer(page):
        name = match.group(3)
        if name is None:
            continue  # a comment or a raw-text element
        name = name.lower()
        if name in _NO_DEPTH:
            continue
        if not match.group(2):  # a start tag
            if match.group(0).endswith("/>"):
                continue
            deep = len(stack) >= limit
            stack.append((name, deep))
            if deep:
                cuts.append(match.span())
            continue
        for index in range(len(stack) - 1, -1, -1):  # an end tag closes its element and any left open inside
            if stack[index][0] == name:
                if stack[index][1]:
                    cuts.append(match.span())
                del stack[index:]
                break
    if not cuts:
        return page, 0
    parts: list[str] = []
    start = 0
    for begin, end in cuts:
        parts.append(page[start:begin])
        start = end
    parts.append(page[start:])
    return "\n".join(parts), len(cuts)


def _too_deep(page: str, limit: int) -> bool:
    """True when some start tag of the page opens deeper than `limit` (flatten_deep's own nesting rules), found
    without keeping positions: most pages are shallow and are read once, here, in one tokenising call."""
    stack: list[str] = []
    for _raw, slash, name, rest in _TOKENS.findall(page):
        if not name:
            continue  # a comment or a raw-text element
        name = name.lower()
        if name in _NO_DEPTH:
            continue
        if not slash:
            if rest.endswith("/"):
                continue
            if len(stack) >= limit:
                return True
            stack.append(name)
            continue
        for index in range(len(stack) - 1, -1, -1):
            if stack[index] == name:
                del stack[index:]
                break
    return False


def cap_body(paragraphs: list[str], limit: int = BODY_MAX_CHARS) -> tuple[list[str], int | None]:
    """The paragraphs kept within `limit` characters of body text (joined by blank lines) and, when some were cut,
    the length of the whole body. Whole paragraphs are kept while they fit; when they fill less than half of the
    limit, the next one is cut at its last sentence end (else word end) within what is left."""
    total = sum(map(len, paragraphs)) + 2 * max(len(paragraphs) - 1, 0)
    if total <= limit:
        return paragraphs, None
    kept: list[str] = []
    used = 0
    for paragraph in paragraphs:
        room = limit - used - (2 if kept else 0)
        if len(paragraph) <= room:
            kept.append(paragraph)
            used += len(paragraph) + (2 if len(kept) > 1 else 0)
            continue
        if used < limit // 2 and room > 0:
            kept.append(_cut(paragraph, room))
        break
    return kept, total


def _cut(text: str, room: int) -> str:
    """The start of `text` up to `room` characters, ending at a sentence end, else a word end."""
    head = text[: room + 1]
    ends = [m.end() for m in _SENTENCE_END.finditer(head) if m.end() <= room]
    if ends and ends[-1] > room // 2:
        return head[: ends[-1]].rstrip()
    space = head.rfind(" ", 0, room)
    return (head[:space] if space > room // 2 else head[:room]).rstrip()


RUN_MAX_CHARS = 2 * BODY_MAX_CHARS  # characters of text kept between two tags (a 9 MB line of text is one run)


def trim_runs(page: str, limit: int = RUN_MAX_CHARS) -> tuple[str, int]:
    """The page with every run of text between two tags longer than `limit` characters cut to its first `limit`
    (the body cap cuts it again at a sentence end), and how many characters were dropped. A megabytes-long line
    is never parsed, scored and copied whole: the page costs what its kept text costs."""
    if len(page) <= limit:
        return page, 0
    pieces = page.split("<")  # each piece: a tag (up to its ">") and the text after it
    dropped = 0
    for index, piece in enumerate(pieces):
        if len(piece) > limit:
            close = piece.find(">") + 1 if index else 0  # the first piece has no tag
            if len(piece) - close > limit:
                dropped += len(piece) - close - limit
                pieces[index] = piece[: close + limit]
    return ("<".join(pieces), dropped) if dropped else (page, 0)


def bounded(page: str) -> str:
    """The page as the parser may read it: endless lines of text cut (`trim_runs`), nesting past what libxml2
    reads flattened (`flatten_deep`). The extractor and the judge both parse this."""
    return flatten_deep(trim_runs(page)[0])[0]
