"""Cue matching over Vietnamese text: text folded word by word (feed.lang.text.fold) with a map back to the original,
cue patterns compiled from the small syntax of cues.yaml, and a scanner that finds every pattern in one pass."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate, compress
from typing import cast

from feed.lang.text import fold

_WORD = re.compile(r"\w+")
_SPLIT = re.compile(r"(\w+)")
# Between two words of a cue: spaces and light punctuation, never a sentence end.
_SEP = r"(?:[ \t\u00a0,\-–—/()\"“”'‘’]|\.(?=\w))+"
_GAP_WORD = r"\w+(?:[.,/:]\w+)*"
_NUMBER = r"\d+(?:[.,/:\-–]\d+)*"
_TOKEN = re.compile(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}|\[[^\[\]]*\]|\S+")
_NUMBER_START = re.compile(r"(?<![\w.,/:\-–])\d|(?<=[.,/:\-–])(?<!\d[.,/:\-–])\d")
_LONG_GAP = re.compile(f"(?:{_SEP}{_GAP_WORD}){{0,20}}{_SEP}")  # what "**" spans
_FOLD_CACHE: dict[str, str] = {}


# --- folded text -----------------------------------------------------------------------------------------


def _fold_word(word: str) -> str:
    folded = fold(word)
    if len(_FOLD_CACHE) < 200_000:
        _FOLD_CACHE[word] = folded
    return folded


class Folded:
    """Text folded word by word with feed.lang.text.fold, with word positions and a map back to the original."""

    def __init__(self, text: str) -> None:
        self.orig = text
        parts = _SPLIT.split(text)
        self._owords = parts[1::2]
        cached = list(map(_FOLD_CACHE.get, self._owords))
        folded = (
            cast(list[str], cached)
            if None not in cached
            else [f or _fold_word(w) for f, w in zip(cached, self._owords, strict=True)]
        )
        parts[1::2] = folded
        self._parts = parts
        self.fwords = folded  # the folded words; blanked ones become ""
        self.text = "".join(parts)
        self.words = set(folded)
        self._index: defaultdict[str, list[tuple[int, str]]] | None = None
        self.candidates: dict[Heads, list[int]] = {}  # where patterns with these heads may match
        self.scanned: frozenset[str] = frozenset()  # sources a Scanner has looked for (Pattern.spans)
        self.matches: dict[str, list[tuple[int, int]]] = {}  # pattern source -> spans (Pattern.spans)
        self._map: tuple[list[int], list[int], list[int], list[int]] | None = None
        self._starts: list[int] | None = None

    def where(self, word: str) -> list[tuple[int, str]]:
        """Where a folded word starts, each with the word after it ("" at the end)."""
        if self._index is None:
            index: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
            words = self.fwords
            for w, start, nxt in zip(words, self._word_map()[0], [*words[1:], ""], strict=True):
                index[w].append((start, nxt))
            self._index = index
        return self._index.get(word, [])

    def word_starts(self) -> list[int]:
        """Where each word starts in the folded text."""
        if self._starts is None:
            self._starts = list(accumulate(map(len, self._parts[:-1]), initial=0))[1::2]
        return self._starts

    def numbers(self) -> list[int]:
        """Where numbers start ("15/01/2021" once, not again at "01")."""
        return [m.start() for m in _NUMBER_START.finditer(self.text)]

    def to_orig(self, fpos: int) -> int:
        """Original offset of a folded offset."""
        fstart, fend, ostart, oend = self._map or self._word_map()
        i = bisect_right(fstart, fpos) - 1
        if i < 0:
            return fpos
        if fpos >= fend[i]:
            return oend[i] + fpos - fend[i]
        return min(ostart[i] + fpos - fstart[i], oend[i])

    def to_folded(self, opos: int) -> int:
        """Folded offset of an original offset."""
        fstart, fend, ostart, oend = self._word_map()
        i = bisect_right(ostart, opos) - 1
        if i < 0:
            return opos
        if opos >= oend[i]:
            return fend[i] + opos - oend[i]
        return min(fstart[i] + opos - ostart[i], fend[i])

    def _word_map(self) -> tuple[list[int], list[int], list[int], list[int]]:
        """Start and end of every word in the folded text and in the original."""
        if self._map is None:
            flens = list(map(len, self._parts))
            olens = flens.copy()
            olens[1::2] = map(len, self._owords)  # text between words is the same in both
            fcum, ocum = list(accumulate(flens, initial=0)), list(accumulate(olens, initial=0))
            n = len(self._owords)
            self._map = fcum[1::2][:n], fcum[2::2][:n], ocum[1::2][:n], ocum[2::2][:n]
        return self._map

    def blank(self, start: int, end: int) -> None:
        """Hide a folded span from matching (same length, so offsets hold)."""
        self.text = self.text[:start] + " " * (end - start) + self.text[end:]
        fstart = self._word_map()[0]
        for i in range(bisect_right(fstart, start - 1), bisect_right(fstart, end - 1)):
            self.fwords[i] = ""
        self._index = None
        self.matches.clear()
        self.candidates.clear()
        self.scanned = frozenset()


# --- cue patterns ----------------------------------------------------------------------------------------


class _Lazy:
    """A regex compiled on its first use, not when the vocabulary is built: the packaged vocabulary holds about 560
    regexes, and compiling them all cost every crawl process 1.5-3 CPU seconds at start (most of a short crawl),
    while a text's Scanner pass reaches only the patterns its words can start. `pattern` is known at once; the
    first call of any other attribute (search, match, ...) compiles and puts the compiled regex's own methods on
    this object, so later calls cost what calls on the compiled regex cost."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = re.compile(self.pattern)
        for method in ("search", "match", "fullmatch", "finditer", "findall", "sub", "split"):
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __eq__(self, other: object) -> bool:  # as re.Pattern: the same source (the flags are always the same)
        return isinstance(other, _Lazy) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)

    def __reduce__(self) -> tuple[type[_Lazy], tuple[str]]:
        return _Lazy, (self.pattern,)

    def __repr__(self) -> str:
        return f"_Lazy({self.pattern[:60]!r})"


def lazy_compile(pattern: str) -> re.Pattern[str]:
    """`re.compile(pattern)`, done on first use (see _Lazy)."""
    return cast("re.Pattern[str]", _Lazy(pattern))


@dataclass(frozen=True)
class Pattern:
    """A compiled cue pattern: `search` scans; `at` is tried only where a word pair of `heads` stands."""

    source: str
    search: re.Pattern[str]
    at: re.Pattern[str]
    heads: Heads
    firsts: frozenset[str] = frozenset()  # the first words of `heads`
    wild: frozenset[str] = frozenset()  # first words that may be followed by anything
    needs: tuple[frozenset[str], ...] = ()  # a text holds a word of each set, or the pattern cannot match
    halves: tuple[Pattern, Pattern] | None = None  # "A ** B", matched as A then B nearby (no backtracking)
    # `search` without its leading word-boundary test, which would cost the regex engine its fast scan
    loose: re.Pattern[str] | None = None

    def find(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        """The first match in text[pos:endpos] that starts a word (what `search` finds, faster)."""
        end = len(text) if endpos is None else endpos
        if self.loose is None:
            return self.search.search(text, pos, end)
        while (m := self.loose.search(text, pos, end)) is not None:
            at = m.start()
            if at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_"):
                return m
            pos = at + 1
        return None

    def find_all(self, text: str, pos: int = 0, endpos: int | None = None) -> Iterator[re.Match[str]]:
        """Every match in text[pos:endpos] that starts a word, left to right."""
        while (m := self.find(text, pos, endpos)) is not None:
            yield m
            pos = max(m.end(), m.start() + 1)

    def spans(self, doc: Folded) -> list[tuple[int, int]]:
        """(start, end) of every match in a folded text, in order; cached on the text."""
        found = doc.matches.get(self.source)
        if found is None:
            if self.source in doc.scanned:  # a Scanner pass looked for it everywhere and found nothing
                return []
            found = doc.matches[self.source] = self._find(doc)
        return found

    def leaves(self) -> Iterator[Pattern]:
        """The patterns a Scanner looks for: this one, or its two halves."""
        if self.halves is not None:
            for half in self.halves:
                yield from half.leaves()
        elif self.heads is not None:
            yield self

    def _find(self, doc: Folded) -> list[tuple[int, int]]:
        words = doc.words
        for need in self.needs:
            if need.isdisjoint(words):
                return []
        found = []
        if self.halves is not None:
            rights = self.halves[1].spans(doc)
            starts = [r[0] for r in rights]
            for l_start, l_end in self.halves[0].spans(doc):
                for r_start, r_end in rights[bisect_right(starts, l_end - 1) : bisect_right(starts, l_end + 240)]:
                    if _LONG_GAP.fullmatch(doc.text, l_end, r_start):
                        found.append((l_start, r_end))
                        break
            return found
        at, text = self.at.match, doc.text
        if self.heads is None and self.source.startswith("#"):
            candidates = doc.numbers()
        elif self.heads is None:
            return [m.span() for m in self.search.finditer(text)]
        else:
            candidates = self._candidates(doc)
        for pos in candidates:
            m = at(text, pos)
            if m:
                found.append(m.span())
        if len(found) > 1:
            found.sort()
        return found

    def _candidates(self, doc: Folded) -> list[int]:
        """Offsets where the first two words fit `heads`; shared by every pattern with the same heads."""
        found = doc.candidates.get(self.heads)
        if found is None:
            heads, wild, found = self.heads or frozenset(), self.wild, []
            for word in self.firsts.intersection(doc.words):
                if word in wild:
                    found.extend(start for start, _ in doc.where(word))
                else:
                    found.extend(start for start, nxt in doc.where(word) if (word, nxt) in heads)
            doc.candidates[self.heads] = found
        return found


def _split_alternatives(inner: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    return [*parts, inner[start:]]


Heads = frozenset[tuple[str, str | None]] | None  # the first two words a match can start with (None: any)
_Items = list[tuple[str, str, Heads]]  # (regex, req|opt|gap, heads)


def _compile_seq(src: str, macros: dict[str, str]) -> tuple[str, Heads, list[frozenset[str]]]:
    """Regex for a cue sequence, how a match can start, and word sets a text must meet (one word of each)."""
    items: _Items = []
    for tok in _TOKEN.findall(src):
        if tok.startswith("$"):
            rx, heads, _ = _compile_seq(macros[tok[1:]], macros)
            items.append((f"(?:{rx})", "req", heads))
        elif tok in ("*", "**", "[*]", "[**]"):  # a gap is optional already
            items.append((str(4 if tok.strip("[]") == "*" else 20), "gap", None))
        elif tok == "#":
            items.append((_NUMBER, "req", None))
        elif tok[0] in "{[":
            alts = [a for a in (_compile_seq(a, macros) for a in _split_alternatives(tok[1:-1])) if a[0]]
            if alts:
                rx = "|".join(a[0] for a in alts)
                heads = None if any(a[1] is None for a in alts) else frozenset().union(*(a[1] or () for a in alts))
                items.append((f"(?:{rx})", "req" if tok[0] == "{" else "opt", heads))
        elif parts := _WORD.findall(word := fold(tok)):  # punctuation alone is a separator, matched by _SEP
            word = word.strip('()"“”,')
            items.append((re.escape(word), "req", frozenset([(parts[0], parts[1] if len(parts) > 1 else "")])))
    needs: list[frozenset[str]] = []
    for _, mode, heads in items:
        if mode == "req" and heads:
            needs.append(frozenset(h[0] for h in heads))
            seconds = {h[1] for h in heads}
            if None not in seconds and "" not in seconds:  # every alternative runs two words or more
                needs.append(frozenset(w for w in seconds if w))
    return _assemble(items), _heads(items), needs


def _heads(items: _Items) -> Heads:
    """(first word, second word) pairs a match starts with; "" as second word: whatever follows the first."""
    found: set[tuple[str, str | None]] = set()
    for i, (_, mode, heads) in enumerate(items):
        if mode == "gap" or heads is None:
            return None
        found.update(h for h in heads if h[1])
        singles = [h[0] for h in heads if not h[1]]  # one-word heads: the second word comes from what follows
        if singles:
            rest = _heads(items[i + 1 :]) if i + 1 < len(items) else None
            if rest:
                found.update((w, nxt[0]) for w in singles for nxt in rest)
            else:  # the pattern ends here, or anything may follow
                found.update((w, None) for w in singles)
        if mode == "req":
            return frozenset(found)
    return frozenset(found) or None


def _assemble(items: _Items) -> str:
    out: list[str] = []
    need_sep = False
    for rx, mode, _ in items:
        if mode == "req":
            out.append(f"{_SEP}{rx}" if need_sep else rx)
            need_sep = True
        elif mode == "opt":
            out.append(f"(?:{_SEP}{rx})?" if need_sep else f"(?:{rx}{_SEP})?")
        else:
            out.append(f"(?:{_SEP}{_GAP_WORD}){{0,{rx}}}" if need_sep else f"(?:{_GAP_WORD}{_SEP}){{0,{rx}}}")
    return "".join(out)


def compile_pattern(src: str, macros: dict[str, str]) -> Pattern:
    """Compile a cue pattern (syntax in cues.yaml) to regexes over folded text; "^" anchors at the start."""
    src = src.strip()
    rx, heads, needs = _compile_seq(src.lstrip("^"), macros)
    if not rx:
        return Pattern(src, re.compile(r"\A"), re.compile(""), None)
    # A leading number needs no word-boundary look-behind, which would cost the regex its fast digit scan.
    head = r"\A" if src.startswith("^") else ("" if src.startswith("#") else r"(?<!\w)")
    tokens = _TOKEN.findall(src)
    halves = None
    if "**" in tokens and not src.startswith("^"):
        cut = tokens.index("**")
        halves = (compile_pattern(" ".join(tokens[:cut]), macros), compile_pattern(" ".join(tokens[cut + 1 :]), macros))
    loose = lazy_compile(f"(?:{rx})(?!\\w)") if head == r"(?<!\w)" else None
    return Pattern(
        src,
        lazy_compile(f"{head}(?:{rx})(?!\\w)"),
        lazy_compile(f"(?:{rx})(?!\\w)"),
        heads,
        frozenset(h[0] for h in heads or ()),
        frozenset(h[0] for h in heads or () if h[1] is None),
        tuple(needs),
        halves,
        loose,
    )


class Scanner:
    """Patterns filed by the word pair they start with, so that one pass over a text's words finds them all."""

    def __init__(self, patterns: list[Pattern]) -> None:
        table: dict[tuple[str, str | None], dict[str, re.Pattern[str]]] = {}
        for p in patterns:
            wild = {w for w, nxt in p.heads or () if nxt is None}
            for w, nxt in p.heads or ():
                if nxt is None or w not in wild:  # a wildcard entry already covers this first word
                    table.setdefault((w, nxt), {})[p.source] = p.at
        self._table = {key: tuple(entry.items()) for key, entry in table.items()}
        self._firsts = frozenset(w for w, _ in table)
        self.sources = frozenset(p.source for p in patterns)

    def scan(self, doc: Folded) -> None:
        """Fill doc.matches for every filed pattern."""
        found: dict[str, list[tuple[int, int]]] = {}
        text, table, words = doc.text, self._table, doc.fwords
        starts, last = doc.word_starts(), len(words) - 1
        # The words that can start a pattern, picked out without a Python-level loop over every word.
        for i in compress(range(len(words)), map(self._firsts.__contains__, words)):
            w, start = words[i], starts[i]
            nxt = words[i + 1] if i < last else ""
            for key in ((w, nxt), (w, None)):
                for source, at in table.get(key, ()):
                    m = at.match(text, start)
                    if m:
                        found.setdefault(source, []).append(m.span())
        doc.matches.update(found)
        doc.scanned |= self.sources
