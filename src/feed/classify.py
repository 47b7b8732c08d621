"""Meeting-report classifier: weighted Vietnamese cues (src/feed/cues.yaml) decide whether an article reports a
held meeting and which kind; src/feed/facts.py then reads who met, when, where and who attended."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from itertools import accumulate
from typing import Any, cast

import yaml

from feed.facts import FactsVocabulary, Report, compile_facts, read_facts, read_period
from feed.models import Meeting
from feed.text import clean, fold, nfc

ZONES = ("title", "lead", "body")
_WORD = re.compile(r"\w+")
_SPLIT = re.compile(r"(\w+)")
# Between two words of a cue: spaces and light punctuation, never a sentence end.
_SEP = r"(?:[ \t\u00a0,\-–—/()\"“”'‘’]|\.(?=\w))+"
_GAP_WORD = r"\w+(?:[.,/:]\w+)*"
_NUMBER = r"\d+(?:[.,/:\-–]\d+)*"
_TOKEN = re.compile(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}|\[[^\[\]]*\]|\S+")
_SENTENCE_END = re.compile(r"[.!?;:]\s|\n")
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
    """Text folded word by word with feed.text.fold, with word positions and a map back to the original."""

    def __init__(self, text: str) -> None:
        self.orig = text
        parts = _SPLIT.split(text)
        self._owords = parts[1::2]
        cached = list(map(_FOLD_CACHE.get, self._owords))
        folded = cast(list[str], cached) if None not in cached else [
            f or _fold_word(w) for f, w in zip(cached, self._owords, strict=True)]
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
        return self._word_map()[0]

    def numbers(self) -> list[int]:
        """Where numbers start ("15/01/2021" once, not again at "01")."""
        return [m.start() for m in _NUMBER_START.finditer(self.text)]

    def to_orig(self, fpos: int) -> int:
        """Original offset of a folded offset."""
        fstart, fend, ostart, oend = self._word_map()
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


# --- cue patterns ----------------------------------------------------------------------------------------

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
            word = word.strip("()\"“”,")
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
    return Pattern(src, re.compile(f"{head}(?:{rx})(?!\\w)"), re.compile(f"(?:{rx})(?!\\w)"), heads,
                   frozenset(h[0] for h in heads or ()), frozenset(h[0] for h in heads or () if h[1] is None),
                   tuple(needs),
                   halves)


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
        text, table, firsts, words = doc.text, self._table, self._firsts, doc.fwords
        for i, (w, start) in enumerate(zip(words, doc.word_starts(), strict=True)):
            if w not in firsts:
                continue
            nxt = words[i + 1] if i + 1 < len(words) else ""
            for key in ((w, nxt), (w, None)):
                for source, at in table.get(key, ()):
                    m = at.match(text, start)
                    if m:
                        found.setdefault(source, []).append(m.span())
        doc.matches.update(found)
        doc.scanned |= self.sources


# --- the vocabulary --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cue:
    stage: str
    pattern: Pattern
    weights: dict[str, float]  # per zone

    @property
    def name(self) -> str:
        return f"{self.stage}: {self.pattern.source}"


@dataclass(frozen=True)
class KindRule:
    kind: str
    phrase: tuple[Pattern, ...]
    sentence: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]


@dataclass(frozen=True)
class Vocabulary:
    """The loaded cue file: cues, kind rules, how the primary meeting is chosen, and tuning numbers."""

    cues: tuple[Cue, ...]
    kinds: tuple[KindRule, ...]
    threshold: float
    lead_min_words: int
    lead_max_chars: int
    neutral: tuple[Pattern, ...]
    mentions: tuple[Pattern, Pattern]  # meeting nouns; verbs that head a meeting phrase
    ceremonial: Pattern
    primary: dict[str, re.Pattern[str]]
    facts: FactsVocabulary
    scanner: Scanner  # every cue and mention pattern, found in one pass
    facts_scanner: Scanner  # the facts vocabulary, scanned for reports only


def build_vocabulary(data: dict[str, Any]) -> Vocabulary:
    """Compile a parsed cue file (see cues.yaml) into a Vocabulary."""
    macros = {k: str(v) for k, v in data["macros"].items()}
    factors = {z: float(data["zone_factor"][z]) for z in ZONES}

    def pat(src: str) -> Pattern:
        return compile_pattern(src, macros)

    cues = [
        Cue(stage, pat(e["p"]), {z: float(e["w"]) * factors[z] if "w" in e else float(e.get(z, 0.0)) for z in ZONES})
        for stage, entries in data["report"].items()
        for e in entries
    ]
    kinds = tuple(KindRule(r["kind"], *(tuple(map(pat, r.get(k, ()))) for k in ("phrase", "sentence", "unless")))
                  for r in data["kinds"])
    words = {k: v for k, v in data["primary"].items() if k != "verb_mention"}
    # "..._before" patterns must end where the meeting word starts.
    primary = {k: re.compile(pat(v).search.pattern + (r"\W*\Z" if k.endswith("_before") else ""))
               for k, v in words.items()}
    meeting, verbs = pat("$MEETING"), pat(data["primary"]["verb_mention"])
    leaves = [leaf for p in (*(c.pattern for c in cues), meeting, verbs) for leaf in p.leaves()]
    facts_patterns: list[Pattern] = []

    def facts_pat(src: str) -> Pattern:
        facts_patterns.append(pat(src))
        return facts_patterns[-1]

    facts = compile_facts(data["facts"], facts_pat)
    return Vocabulary(
        cues=tuple(cues), kinds=kinds, threshold=float(data["threshold"]),
        lead_min_words=int(data["lead"]["min_words"]), lead_max_chars=int(data["lead"]["max_chars"]),
        neutral=tuple(map(pat, data.get("neutral", ()))), mentions=(meeting, verbs),
        ceremonial=next(c.pattern for c in cues if c.stage == "ceremony"),  # the first names "hội nghị tuyên dương"
        primary=primary, facts=facts, scanner=Scanner(leaves),
        facts_scanner=Scanner([leaf for p in facts_patterns for leaf in p.leaves()]),
    )


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The packaged cue vocabulary, loaded and folded once."""
    raw = resources.files("feed").joinpath("cues.yaml").read_text(encoding="utf-8")
    return build_vocabulary(yaml.safe_load(raw))


# --- mentions of meetings and the primary one --------------------------------------------------------------

@dataclass
class Mention:
    """A meeting word in the text and the phrase it heads."""

    zone: str
    start: int
    phrase: str
    sentence: str
    strength: int  # 2: organised ("tổ chức Hội nghị"), 1: held (attended, spoken at), 0: only named
    sentence_span: tuple[int, int]
    ceremonial: bool = False  # "hội nghị tuyên dương", "hội nghị kỷ niệm": a ceremony named as a meeting


_RANK = {("lead", 2): 0, ("title", 2): 1, ("lead", 1): 2, ("title", 1): 3, ("title", 0): 3, ("body", 2): 4,
         ("body", 1): 5, ("lead", 0): 6}


def _rank(m: Mention) -> tuple[int, int]:
    return _RANK.get((m.zone, m.strength), 7), m.start


def _zone(pos: int, lead: tuple[int, int, int]) -> str:
    """The title runs up to the lead's search start; the lead is its span; the body is the rest."""
    return "lead" if lead[0] <= pos < lead[1] else ("title" if pos < lead[2] else "body")


def _lead_span(text: str, body_at: int, min_words: int, max_chars: int) -> tuple[int, int, int]:
    """(start, end) of the lead, the first line of the body long enough to be prose; then where the body starts."""
    pos = body_at
    for line in text[body_at:].split("\n"):
        if len(line.split()) >= min_words:
            stop = _SENTENCE_END.search(text, pos + max_chars)
            return pos, stop.end() if stop else len(text), body_at
        pos += len(line) + 1
    return body_at, body_at, body_at


def _sentence_bounds(text: str, pos: int) -> tuple[int, int]:
    start = max(text.rfind(". ", 0, pos), text.rfind("\n", 0, pos), text.rfind("; ", 0, pos))
    stop = _SENTENCE_END.search(text, pos)
    return start + 1, (stop.start() + (stop.group()[0] in ".!?")) if stop else len(text)


def _strength(text: str, start: int, end: int, sentence: tuple[int, int], voc: Vocabulary) -> int:
    before = text[max(sentence[0], start - 60) : start]
    after = text[end : min(sentence[1], end + 160)]
    words = voc.primary
    if words["planned_before"].search(before):
        return 0
    if words["organised_before"].search(before) or words["organised_after"].search(after):
        return 2
    return 1 if words["held_before"].search(before) or words["held_after"].search(after[:100]) else 0


def _mentions(doc: Folded, voc: Vocabulary, lead: tuple[int, int, int]) -> list[Mention]:
    nouns, verbs = voc.mentions
    hits = sorted([(*span, 0) for span in nouns.spans(doc)] + [(*span, 2) for span in verbs.spans(doc)])
    found = []
    for start, end, floor in hits:
        s_start, s_end = _sentence_bounds(doc.text, start)
        strength = max(floor, _strength(doc.text, start, end, (s_start, s_end), voc))
        found.append(Mention(_zone(start, lead), start, doc.text[start : min(s_end, start + 240)],
                             doc.text[s_start:s_end], strength, (s_start, s_end),
                             bool(voc.ceremonial.at.match(doc.text, start))))
    return found


def decide_kind(mention: Mention, voc: Vocabulary) -> tuple[str, str]:
    """First kind rule whose pattern fits the meeting phrase; returns (kind, the pattern that fired)."""
    for rule in voc.kinds:
        if any(u.search.search(mention.phrase) for u in rule.unless):
            continue
        for p in rule.phrase:
            if p.search.search(mention.phrase):
                return rule.kind, p.source
        for p in rule.sentence:
            if p.search.search(mention.sentence):
                return rule.kind, p.source
    return "other_meeting", ""


def _kind_of(primary: Mention, mentions: list[Mention], voc: Vocabulary) -> tuple[str, str, Mention]:
    kind, rule = decide_kind(primary, voc)
    if kind != "other_meeting":
        return kind, rule, primary
    # A headline that starts with the meeting's name says what the lead may leave implicit; a bare
    # "Hội nghị." in the lead takes its name from another mention in the lead or title.
    named = [m for m in mentions if m.zone == "title" and m.start <= 2]  # the title opens the document
    if len(primary.phrase.split()) <= 4:
        named += sorted((m for m in mentions if m.zone in ("lead", "title") and not m.ceremonial), key=_rank)
    for other in named:
        better, why = decide_kind(other, voc)
        if other is not primary and better != "other_meeting":
            return better, why, other
    return kind, rule, primary


# --- scoring -------------------------------------------------------------------------------------------------

Fired = dict[str, dict[str, tuple[float, str]]]  # stage -> cue pattern -> (weight, the words it matched)


def _score(doc: Folded, lead: tuple[int, int, int], voc: Vocabulary) -> tuple[float, Fired]:
    """The sum of the cues that fired (each counted once, at its best zone) and the cues by stage."""
    fired: Fired = {}
    total = 0.0
    words = doc.words
    for cue in voc.cues:
        for need in cue.pattern.needs:  # the pattern's own pre-test, inlined: most cues stop here
            if need.isdisjoint(words):
                break
        else:
            best, span = _best_weight(cue, doc, lead)
            if best:
                fired.setdefault(cue.stage, {})[cue.pattern.source] = (round(best, 2), span)
                total += best
    return round(total, 2), fired


def _best_weight(cue: Cue, doc: Folded, lead: tuple[int, int, int]) -> tuple[float, str]:
    """The cue's weight where it weighs most (by size) among the places it fires, and the words there."""
    best, where = 0.0, (0, 0)
    for start, end in cue.pattern.spans(doc):
        w = cue.weights[_zone(start, lead)]
        if abs(w) > abs(best):
            best, where = w, (start, end)
    return best, (doc.orig[doc.to_orig(where[0]) : doc.to_orig(where[1])] if best else "")


def _tidy(text: str | None) -> str:
    """NFC and entities; the full clean() only when the text needs it (it costs more than classifying)."""
    if not text:
        return ""
    if "&" in text or "\r" in text or not unicodedata.is_normalized("NFC", text):
        return clean(text)
    return text.strip()


def _prepare(title: str | None, text: str, lead: str | None, voc: Vocabulary) -> tuple[Folded, int]:
    """One folded document: the title, a blank line, then the body; returns it and where the body starts."""
    title, body = " ".join(_tidy(title).split()), _tidy(text)
    if lead and _tidy(lead) not in body:
        body = f"{_tidy(lead)}\n{body}"
    if title:
        at = body.find(title, 0, len(title) + 400)
        if at >= 0:  # the headline repeated as the first line of the body counts once, in the title zone
            body = body[:at] + " " * len(title) + body[at + len(title) :]
    doc = Folded(f"{title}\n\n{body}")
    bang = doc.text.find("!")
    while bang >= 0:  # banner slogans ("... tổ chức thành công Đại hội ...!") are chrome
        start = max(doc.text.rfind(ch, 0, bang) for ch in ".!?\n") + 1
        doc.blank(start, bang + 1)
        bang = doc.text.find("!", bang + 1)
    for p in voc.neutral:  # rare words: a scan is cheaper than indexing the words first
        if not any(need.isdisjoint(doc.words) for need in p.needs):
            for m in list(p.search.finditer(doc.text)):
                doc.blank(m.start(), m.end())
    return doc, len(title) + 2


def _names_a_meeting(doc: Folded, voc: Vocabulary) -> bool:
    """Whether a meeting word stands in the text; scans for every cue when one does."""
    if all(p.firsts.isdisjoint(doc.words) for p in voc.mentions):
        return False
    voc.scanner.scan(doc)
    return any(p.spans(doc) for p in voc.mentions)


def analyse(title: str | None, text: str, *, published_at: datetime | None = None,
            lead: str | None = None) -> tuple[Meeting, dict[str, Any]]:
    """Classify and explain: the Meeting, plus the cues that fired (stage -> cue -> weight) and the kind rule."""
    voc = vocabulary()
    doc, body_at = _prepare(title, text or "", lead, voc)
    if not _names_a_meeting(doc, voc):  # no meeting word at all: nothing else can make it a report
        return Meeting(cues=["no meeting word"]), {"report": {}, "score": 0.0, "threshold": voc.threshold,
                                                    "note": "no meeting word ($MEETING) in title or text"}
    lead_span = _lead_span(doc.text, body_at, voc.lead_min_words, voc.lead_max_chars)
    score, fired = _score(doc, lead_span, voc)
    explain: dict[str, Any] = {
        "report": {stage: {cue: w for cue, (w, _) in cues.items()} for stage, cues in fired.items()},
        "matched": {cue: words for cues in fired.values() for cue, (_, words) in cues.items()},
        "score": score, "threshold": voc.threshold}
    meeting = Meeting(score=score, cues=[f"{stage} {w:+g}: «{' '.join(words.split())[:80]}»"
                                         for stage, cues in fired.items() for _, (w, words) in cues.items()])
    if score < voc.threshold:
        return meeting, explain
    mentions = _mentions(doc, voc, lead_span)
    if not mentions:
        return meeting, explain
    primary = min(mentions, key=_rank)
    if primary.ceremonial:  # the meeting the page reports is a ceremony ("hội nghị tuyên dương")
        meeting.cues.append(f"veto: the meeting reported is a ceremony («{_orig_of(doc, primary)[:60]}»)")
        explain["veto"] = "ceremony"
        return meeting, explain
    mentions = [m for m in mentions if not m.ceremonial]
    kind, rule, named = _kind_of(primary, mentions, voc)
    explain["kind"] = {"kind": kind, "rule": rule, "phrase": _orig_of(doc, named)[:200]}
    meeting.is_report, meeting.kind = True, kind
    meeting.cues.append(f"kind: {kind} ({rule or 'no kind cue'})")
    _fill_facts(meeting, doc, mentions, primary, lead_span, voc, published_at)
    return meeting, explain


def _fill_facts(meeting: Meeting, doc: Folded, mentions: list[Mention], primary: Mention,
                lead_span: tuple[int, int, int], voc: Vocabulary, published_at: datetime | None) -> None:
    said = primary if primary.zone != "title" else next((m for m in mentions if m.zone != "title" and m.strength), None)
    report = Report(doc=doc, body_at=lead_span[2], sentence=said.sentence_span if said else None,
                    meeting_at=said.start if said else None, phrase=_span_of(primary),
                    title_phrases=[_span_of(m) for m in mentions if m.zone == "title"], lead=lead_span[:2],
                    kind=meeting.kind or "")
    voc.facts_scanner.scan(doc)
    facts = read_facts(report, voc.facts, published_at)
    if facts.period is None:  # "Hội nghị tổng kết có ...": another mention of the same meeting names the period
        same = [_orig_of(doc, m) for m in mentions if m is not primary and decide_kind(m, voc)[0] == meeting.kind]
        facts.period = read_period(same, report.kind)
    meeting.org, meeting.period, meeting.location = facts.org, facts.period, facts.location
    meeting.held_on, meeting.held_on_text = facts.held_on, facts.held_on_text
    meeting.officials, meeting.figures = facts.officials, facts.figures


def _span_of(m: Mention) -> tuple[int, int]:
    return m.start, m.start + len(m.phrase)


def _orig_of(doc: Folded, m: Mention) -> str:
    return doc.orig[doc.to_orig(m.start) : doc.to_orig(m.start + len(m.phrase))]


def classify(title: str | None, text: str, *, published_at: datetime | None = None,
             lead: str | None = None) -> Meeting:
    """Decide whether an article reports a held meeting, which kind, and read its facts."""
    return analyse(title, text, published_at=published_at, lead=lead)[0]


def _published(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def classify_record(record: dict, *, explain: bool = False) -> dict:
    """For the CLI: add record["meeting"] (and record["explain"] when asked) to a copy of an article record."""
    out = dict(record)
    text = record.get("text") or record.get("body_text") or ""
    meeting, why = analyse(record.get("title"), nfc(str(text)), published_at=_published(record.get("published_at")),
                           lead=record.get("lead"))
    out["meeting"] = meeting.to_json()
    if explain:
        out["explain"] = why
    return out
