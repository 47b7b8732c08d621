"""Features of one article for the learned meeting-report model (feed.classify.model, trained by
feed.classify.train): the cue grammar's matches, word and character n-grams of the folded text, and structure.

Every feature is named, so that a weight explains itself ("cue|lead|held: tổ chức $MEETING", "w|title|hôi5 nghi5",
"c|body|ôi5 ", "s|dated_short_lines>=3"). Features are computed on the folded document the cue grammar reads
(feed.classify.cue_patterns.Folded: lower case, tones as trailing digits), so letter case, Unicode form and tone
placement never change them. Zones are the grammar's: the title, the lead (the first prose line of the body) and
the rest of the body. Only the first BODY_CHARS characters of the body are read, as the labelled excerpts are the
first ~2,000 characters of a page: a full article is read like the excerpts the model was trained on.

Values: a cue, structure or grammar feature is 1 (or a number in [0, 1]); an n-gram is 1/sqrt(n) where n is the
number of distinct n-grams of its block (kind and zone), so a long text does not outweigh a short one. n counts
every n-gram, known to the model or not, so dropping a zero weight from the model changes nothing.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import compress, pairwise

from feed.lang.text import fold

# Changing any of these changes the features: the model artifact records them and refuses a mismatch.
FEATURE_VERSION = 2
BODY_CHARS = 2000
CHAR_NGRAMS = (2, 5)
WORD_NGRAMS = (1, 2)
ZONES = ("title", "lead", "body")
# character n-grams are read in these zones only: in the body they measured nothing under cross-validation
# (F1 0.847 without, 0.845 with) and were most of the cost of a long article (docs/classify.md)
CHAR_ZONES = ("title", "lead")


@dataclass
class Features:
    """One article's features: named scalars (cues, structure, grammar) and n-gram blocks ("w|body" -> grams),
    each n-gram worth 1/sqrt(size of its block); the feature name of an n-gram is "<block>|<gram>"."""

    scalars: dict[str, float] = field(default_factory=dict)
    blocks: dict[str, frozenset[str]] = field(default_factory=dict)

    def flat(self) -> dict[str, float]:
        """Every feature by name (for training)."""
        out = dict(self.scalars)
        for block, grams in self.blocks.items():
            value = block_value(grams)
            prefix = block + "|"
            for gram in grams:
                out[prefix + gram] = value
        return out


def block_value(grams: frozenset[str]) -> float:
    return 1.0 / math.sqrt(len(grams)) if grams else 0.0


_DATE = re.compile(r"(?<![\w/.-])\d{1,2}\s?[/.-]\s?\d{1,2}(?:\s?[/.-]\s?(?:19|20)\d\d)?(?![\w/-])")
_CHAR_CACHE: dict[str, tuple[str, ...]] = {}
_FOREIGN = frozenset(
    "the of and to in for is on with was were by at from that this an be has have are will its as "
    "le la les des du et en pour une un dans sur avec par est sont au aux qui".split()
)


def _folded_phrases(**groups: Iterable[str]) -> re.Pattern[str]:
    """One regex over folded text with a named group per list of phrases. No leading look-behind (it would
    cost the engine its fast scan): the caller checks that a match starts a word."""
    parts = []
    for name, words in groups.items():
        alts = sorted({re.escape(fold(w)) for w in words}, key=len, reverse=True)
        parts.append(f"(?P<{name}>{'|'.join(alts)})")
    return re.compile(rf"(?:{'|'.join(parts)})(?!\w)")


# Structure vocabulary: the meeting is still to come; the page is a plan, guidance or an official letter.
_VOCABULARY = _folded_phrases(
    future=[
        "sẽ diễn ra",
        "sẽ được tổ chức",
        "sẽ tổ chức",
        "sắp diễn ra",
        "sẵn sàng",
        "chuẩn bị",
        "dự kiến",
        "sẽ",
        "sắp tới",
    ],
    plan=["kế hoạch", "hướng dẫn", "công văn", "thông báo", "quyết định", "dự thảo", "chỉ thị", "thể lệ", "văn bản"],
)


@dataclass(frozen=True)
class Grammar:
    """What the cue grammar read (feed.classify.classifier): the cues that fired, per zone, and its choice."""

    cues: frozenset[tuple[str, str]]  # (zone, "stage: pattern") for every place a cue fired
    score: float  # the hand-weighted cue score
    threshold: float
    primary: str | None  # "<zone><strength>" of the meeting the page reports ("lead2"); None: no meeting word
    ceremonial: bool  # that meeting is a ceremony ("hội nghị tuyên dương")
    rule_kind: str | None  # the kind the kind rules give it
    mentions: int  # meeting words in the text


@dataclass(frozen=True)
class Layout:
    """The folded document and where its zones are (feed.classify.classifier._lead_span)."""

    text: str  # the folded text: title, a blank line, the body
    words: list[str]  # its folded words ("" where blanked)
    starts: list[int]  # where each word starts
    body_at: int
    lead: tuple[int, int]
    title_given: bool


def _zone(pos: int, layout: Layout) -> str:
    lead = layout.lead
    return "lead" if lead[0] <= pos < lead[1] else ("title" if pos < layout.body_at else "body")


def _chars(word: str) -> tuple[str, ...]:
    """Character n-grams inside a word padded with a space each side (as sklearn's char_wb)."""
    grams = _CHAR_CACHE.get(word)
    if grams is None:
        padded = f" {word} "
        lo, hi = CHAR_NGRAMS
        grams = tuple(dict.fromkeys(padded[i : i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)))
        if len(_CHAR_CACHE) < 200_000:
            _CHAR_CACHE[word] = grams
    return grams


def _token(word: str) -> str:
    if word.isdigit():
        return "<year>" if len(word) == 4 and word[:2] in ("19", "20") else "<num>"
    return word


def _bins(name: str, value: float, edges: tuple[float, ...], out: dict[str, float]) -> None:
    for edge in edges:
        if value >= edge:
            out[f"{name}>={edge:g}"] = 1.0


def _zone_words(layout: Layout) -> dict[str, list[str]]:
    """The folded words of each zone (blanked ones left out), the body up to BODY_CHARS."""
    starts, words = layout.starts, layout.words
    limit = bisect_left(starts, layout.body_at + BODY_CHARS)
    body_at = bisect_left(starts, layout.body_at)
    lead = (bisect_left(starts, layout.lead[0]), bisect_left(starts, layout.lead[1]))
    if lead[0] == lead[1]:
        spans = {"title": [(0, body_at)], "lead": [], "body": [(body_at, limit)]}
    else:
        spans = {"title": [(0, body_at)], "lead": [lead], "body": [(body_at, lead[0]), (lead[1], limit)]}
    return {zone: [w for a, b in parts for w in words[a : min(b, limit)] if w] for zone, parts in spans.items()}


def ngram_features(layout: Layout, out: dict[str, frozenset[str]]) -> None:
    """Word uni- and bigrams per zone, character n-grams in CHAR_ZONES (blocks "w|<zone>" and "c|<zone>")."""
    for zone, words in _zone_words(layout).items():
        if not words:
            continue
        tokens = words
        numbers = list(compress(range(len(words)), map(str.isdigit, words)))  # found in C: most words are none
        if numbers:
            tokens = list(words)
            for i in numbers:
                tokens[i] = _token(words[i])
        grams = set(tokens)
        grams.update(map(" ".join, pairwise(tokens)))  # "a b": the same strings as f"{a} {b}"
        chars: set[str] = set()
        if zone in CHAR_ZONES:  # the same set as updating it word by word, in the same order
            unique = list(set(words))
            cached = zip(unique, map(_CHAR_CACHE.get, unique), strict=True)  # a number is never cached (no n-grams)
            chars = chars.union(*[g or _chars(w) for w, g in cached if g is not None or not w.isdigit()])
        for kind, block in (("w", grams), ("c", chars)):
            if block:
                out[f"{kind}|{zone}"] = frozenset(block)


def structure_features(layout: Layout, grammar: Grammar, out: dict[str, float]) -> None:
    """Dated teasers, future and plan vocabulary, where the excerpt starts, foreign text, mentions."""
    text = layout.text[: layout.body_at + BODY_CHARS]
    body = text[layout.body_at :]
    _bins("s|dates", len(_DATE.findall(text)), (2, 4, 7), out)
    lines = [line for line in body.split("\n") if line.strip()]
    short = [line for line in lines if len(line.split()) <= 20]
    _bins("s|dated_short_lines", sum(1 for line in short if _DATE.search(line)), (2, 3, 5), out)
    _bins("s|short_lines", len([line for line in lines if len(line.split()) <= 6]), (5, 10, 20), out)
    for m in _VOCABULARY.finditer(text):
        at = m.start()
        if at and (text[at - 1].isalnum() or text[at - 1] == "_"):
            continue  # inside a word
        key = f"s|{m.lastgroup}|{_zone(at, layout)}"
        out[key] = min(1.0, out.get(key, 0.0) + 1 / 3)
    if not layout.title_given:
        out["s|no_title"] = 1.0
    if layout.lead[0] == layout.lead[1]:
        out["s|no_lead"] = 1.0
    else:
        into = layout.lead[0] - layout.body_at
        out["s|lead_first_line" if into <= 1 else ("s|lead_after_chrome" if into > 300 else "s|lead_soon")] = 1.0
    words = [w for w in layout.words[:600] if w]
    if words:
        share = sum(1 for w in words if w in _FOREIGN) / len(words)
        _bins("s|foreign_share", share, (0.03, 0.1, 0.2), out)
    _bins("s|body_chars", len(body), (300, 800, 1500), out)
    _bins("s|mentions", grammar.mentions, (2, 4, 8), out)


def grammar_features(grammar: Grammar, out: dict[str, float]) -> None:
    """The cue grammar as features: every cue per zone it fired in, its score, and the meeting it chose."""
    for zone, cue in grammar.cues:
        out[f"cue|{zone}|{cue}"] = 1.0
    out["g|score"] = max(-1.0, min(1.0, grammar.score / 10))
    if grammar.score >= grammar.threshold:
        out["g|above_threshold"] = 1.0
    out[f"g|primary|{grammar.primary or 'none'}"] = 1.0
    if grammar.ceremonial:
        out["g|ceremonial"] = 1.0
    if grammar.rule_kind:
        out[f"g|rule_kind|{grammar.rule_kind}"] = 1.0


def featurize(layout: Layout, grammar: Grammar) -> Features:
    """Every feature of one article."""
    out = Features()
    grammar_features(grammar, out.scalars)
    structure_features(layout, grammar, out.scalars)
    ngram_features(layout, out.blocks)
    return out
