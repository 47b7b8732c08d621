"""Story fingerprints: folded word 5-gram shingles, a MinHash signature with LSH band keys, and the evidence
(names and numbers, sentence by sentence) that tells a copy from another union's report of the same kind.

Everything here is a pure function of the body text and stable across processes and machines: signatures
and evidence are persisted by feed.dedup.index. docs/dedup.md explains the constants.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from feed.extract.page_noise import parse_credit
from feed.lang.text import fold

SHINGLE_WORDS = 5  # word 5-grams: long enough that shared stock phrases rarely align, short enough for edits
NUM_PERM = 128  # MinHash values (one-permutation bins, a power of two); estimates have sd <= 0.045
BANDS, ROWS = 24, 4  # LSH over the first 96: a pair shares a band with p=0.63 at Jaccard 0.45, 0.96 at 0.6
MIN_WORDS = 30  # below this a text is too short for shingles to mean anything: exact copies only
JACCARD_MIN = 0.45  # verified 5-gram Jaccard of a copy; the facts check, not this, stops near misses
ALIGNED_MIN = 2  # sentences both texts word alike (outside names and numbers) needed to judge by sentence
CLAIM_SLACK = 0.25  # share of those aligned sentences whose names/numbers may differ (an editor's fix)
FACT_SLACK, FACT_SLACK_SHARE = 2, 0.15  # fallback: facts each side may hold alone (captions, a credited name)
MAX_CREDIT_CHARS = 240  # credit and caption lines are short; paragraphs longer than this are story

_WORD = re.compile(r"\w+")
_LINE_BREAK = "\x00"  # stands for a line break among the chunks, so one split serves the whole text
_SENTENCE_END = frozenset(".!?;:…")
# "hcma.vn - ", "(LĐLĐ) - ", "TTXVN – ": the outlet's dateline, which each copy rewrites.
_DATELINE = re.compile(r"^\s*(?:\([^()\n]{2,40}\)|[\w.-]*\.[a-z]{2,6}|[A-ZĐ]{2,12})\s*[-–—:]\s+")
_CAPTION = re.compile(r"^\s*\(?\s*(?:ảnh|ảnh minh họa|ảnh minh hoạ|video)\s*:", re.I)
_MASK63 = (1 << 63) - 1
_blake = hashlib.blake2b
_FACT_BIT, _END_BIT, _FLAGS = np.uint64(1), np.uint64(2), np.uint64(3)
_BIN_BITS = NUM_PERM.bit_length() - 1  # NUM_PERM is a power of two: 6 bits pick one of 64 bins
_ROTATION = 0x9E3779B1  # densification offset per bin skipped (any odd 32-bit constant)
_BIN_SHIFT, _VALUE_SHIFT = np.uint64(64 - _BIN_BITS), np.uint64(32 - _BIN_BITS)
_BIN_IDS = np.arange(NUM_PERM, dtype=np.uint64)
_BIN_STARTS = _BIN_IDS << _BIN_SHIFT
_RNG = np.random.default_rng(20240607)  # fixed: signatures are persisted and must mean the same forever
_SHINGLE_MULT = _RNG.integers(1, 2**63, size=SHINGLE_WORDS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_BAND_MULT = _RNG.integers(1, 2**63, size=ROWS + 1, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_SLOT = np.uint64(int(_RNG.integers(1, 2**63)) & ~3)  # what a name or number becomes in a sentence's wording


def story_text(body: str) -> str:
    """The body without what each copy rewrites: credit lines, photo captions, the leading dateline."""
    body = body or ""
    if not unicodedata.is_normalized("NFC", body):
        body = unicodedata.normalize("NFC", body)
    lines = [line for line in body.splitlines() if line.strip()]
    kept = [line for line in lines if len(line) > MAX_CREDIT_CHARS or not (parse_credit(line) or _CAPTION.match(line))]
    if kept:
        kept[0] = _DATELINE.sub("", kept[0], count=1)
    return "\n".join(kept)


class _ChunkTable(dict[str, Any]):
    """A memo of whitespace-separated chunks, looked up at C speed with map(table.__getitem__, chunks).

    Cleared when full: a long-running crawler meets endless numbers, and a miss costs only recomputation."""

    def __init__(self, compute: Callable[[str], Any], limit: int = 1 << 19) -> None:
        super().__init__()
        self.compute, self.limit = compute, limit

    def __missing__(self, chunk: str) -> Any:
        if len(self) >= self.limit:
            self.clear()
        value = self[chunk] = self.compute(chunk)
        return value


def _chunk_token(chunk: str) -> int:
    """One chunk ("2021.", "(LĐLĐ)", "15/01/2021") as one 64-bit token; 0 when it holds no word.

    The hash covers the folded words only, so case, tone placement (hoà/hòa), punctuation and leading zeros
    never tell copies apart. The two low bits are flags, masked off before hashing shingles: bit 0 says the
    chunk is a fact (a figure or a capitalised word), bit 1 that it ends a sentence."""
    if chunk == _LINE_BREAK:
        return int(_END_BIT)
    words = _WORD.findall(chunk)
    if not words:
        return 0
    if "0" in chunk:
        words = [w.lstrip("0") or "0" if w.isdigit() else w for w in words]
    # ASCII (figures, most abbreviations) folds to its lower case; the rest goes through feed.lang.text.fold.
    key = " ".join(words).lower() if chunk.isascii() else " ".join(map(fold, words))
    value = int.from_bytes(_blake(key.encode("utf-8"), digest_size=8).digest(), "little") & ~3 or 4
    # A fact: a capital letter anywhere, or no letter at all (a figure). "15h30" and "m2" are not facts.
    is_fact = not chunk.islower()
    ends = chunk.rstrip("\"'”’)»")[-1:] in _SENTENCE_END
    return value | is_fact | ends << 1


_TOKENS = _ChunkTable(_chunk_token)


def _tokens(text: str) -> np.ndarray:
    """Flagged tokens of the text; the last token of every line also ends a sentence."""
    chunks = (text + "\n").replace("\n", f" {_LINE_BREAK} ").split()
    tokens = np.fromiter(map(_TOKENS.__getitem__, chunks), dtype=np.uint64, count=len(chunks))
    tokens = tokens[tokens != 0]
    breaks = tokens == _END_BIT  # a line-break marker: flag the token before it, then drop it
    before = np.flatnonzero(breaks) - 1
    tokens[before[before >= 0]] |= _END_BIT
    return tokens[~breaks]


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    # np.unique is ten times slower than this on small arrays (numpy 2.x).
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _shingles(words: np.ndarray) -> np.ndarray:
    n = len(words) - SHINGLE_WORDS + 1  # callers pass at least MIN_WORDS words
    acc = words[:n] * _SHINGLE_MULT[0]
    for j in range(1, SHINGLE_WORDS):
        acc = acc + words[j : j + n] * _SHINGLE_MULT[j]  # uint64 wraps: a polynomial hash mod 2^64
    return _sorted_unique(acc)


def minhash(shingles: np.ndarray) -> np.ndarray:
    """NUM_PERM MinHash values (uint32) of a sorted set of uniform 64-bit shingle hashes.

    One-permutation hashing: the top bits of a hash pick its bin, the next 32 bits are its value, and each
    bin keeps its minimum; empty bins borrow from the next full bin (rotation densification, Shrivastava
    and Li 2014). O(n) instead of O(n * NUM_PERM), with the same collision probability, the Jaccard index.
    """
    if len(shingles) == 0:
        return np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    first = np.minimum(np.searchsorted(shingles, _BIN_STARTS), len(shingles) - 1)
    lowest = shingles[first]  # the smallest hash at or after each bin's start: in the bin, or past it
    full = (lowest >> _BIN_SHIFT) == _BIN_IDS
    values = (lowest >> _VALUE_SHIFT).astype(np.uint32)  # the 32 bits below the bin bits
    if not full.all():
        values = _densify(values, full)
    return values


def _densify(values: np.ndarray, full: np.ndarray) -> np.ndarray:
    filled = np.flatnonzero(full)
    empty = np.flatnonzero(~full)
    donor = filled[np.searchsorted(filled, empty) % len(filled)]  # the next full bin, wrapping around
    distance = ((donor - empty) % NUM_PERM).astype(np.uint32)
    out = values.copy()
    out[empty] = values[donor] + distance * np.uint32(_ROTATION)  # uint32 arithmetic wraps mod 2^32
    return out


def band_keys(signature: np.ndarray) -> list[int]:
    """One 63-bit bucket key per LSH band (band number mixed in, so bands never share buckets)."""
    rows = signature[: BANDS * ROWS].reshape(BANDS, ROWS).astype(np.uint64)
    acc = np.arange(BANDS, dtype=np.uint64) * _BAND_MULT[ROWS]
    for r in range(ROWS):
        acc = (acc ^ rows[:, r]) * _BAND_MULT[r]
    return (acc & np.uint64(_MASK63)).tolist()


_EMPTY32 = np.empty(0, dtype=np.uint32)


class Evidence:
    """Names and numbers of a text, as 32-bit hashes: all of them (`facts`), and per sentence that has any
    (`claims`: the sentence's wording with names and numbers blanked -> what fills the blanks).

    Kept as packed arrays; the sets a comparison needs are built on first use (most never are)."""

    __slots__ = ("__dict__", "fact_array", "pairs")

    def __init__(self, fact_array: np.ndarray = _EMPTY32, pairs: np.ndarray = _EMPTY32) -> None:
        self.fact_array = fact_array  # sorted unique uint32
        self.pairs = pairs  # uint32 (wording, filling) pairs, flattened

    @cached_property
    def facts(self) -> frozenset[int]:
        return frozenset(self.fact_array.tolist())

    @cached_property
    def claims(self) -> dict[int, int]:
        values = self.pairs.tolist()
        return dict(zip(values[0::2], values[1::2], strict=True))

    def to_bytes(self) -> tuple[bytes, bytes]:
        """(facts, claims) as uint32 arrays, the form the index stores."""
        return self.fact_array.tobytes(), self.pairs.tobytes()

    @classmethod
    def from_bytes(cls, facts: bytes, claims: bytes) -> Evidence:
        return cls(np.frombuffer(facts, dtype=np.uint32), np.frombuffer(claims, dtype=np.uint32))


def _evidence(tokens: np.ndarray, words: np.ndarray) -> Evidence:
    if not len(tokens):
        return Evidence()
    ends = (tokens & _END_BIT) != 0
    first = np.concatenate(([True], ends[:-1]))
    starts = np.flatnonzero(first)
    # A capital that only opens a sentence ("Hội nghị đã…") names nothing: the first word is never a fact.
    is_fact = ((tokens & _FACT_BIT) != 0) & ~first
    # Multiset hashes (sums of 64-bit word hashes) of each sentence's wording and of its names and numbers.
    fill = np.where(is_fact, words, np.uint64(0))
    wording = np.add.reduceat(np.where(is_fact, _SLOT, words), starts) >> np.uint64(32)
    filling = np.add.reduceat(fill, starts)
    has_facts = filling != 0
    pairs = np.empty((int(has_facts.sum()), 2), dtype=np.uint32)
    pairs[:, 0] = wording[has_facts]
    pairs[:, 1] = filling[has_facts] >> np.uint64(32)
    facts = _sorted_unique((words[is_fact] >> np.uint64(32)).astype(np.uint32))
    return Evidence(facts, pairs.reshape(-1))


@dataclass
class Fingerprint:
    """What the index knows of one text: exact hash, shingle set, MinHash signature, band keys, evidence."""

    n_words: int
    text_hash: str
    shingles: np.ndarray
    signature: np.ndarray
    evidence: Evidence
    keys: list[int] = field(default_factory=list)


def _words(body: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(tokens, words, exact text hash) of a body, boilerplate that copies rewrite left out first."""
    tokens = _tokens(story_text(body))
    words = tokens & ~_FLAGS
    return tokens, words, hashlib.blake2b(words.tobytes(), digest_size=16).hexdigest()


def fingerprint(body: str) -> Fingerprint:
    """Fingerprint an article body (boilerplate that copies rewrite is left out first)."""
    tokens, words, digest = _words(body)
    evidence = _evidence(tokens, words)
    if len(words) < MIN_WORDS:
        empty = np.empty(0, dtype=np.uint64)
        return Fingerprint(len(words), digest, empty, minhash(empty), evidence, [])
    shingles = _shingles(words)
    signature = minhash(shingles)
    return Fingerprint(len(words), digest, shingles, signature, evidence, band_keys(signature))


def _plain_words(body: str) -> tuple[np.ndarray, str]:
    """(words, exact text hash) of _words(body) without the flagged tokens: the words are the chunks' tokens with
    the flag bits off, so neither line-break markers nor sentence ends need working out (tests/test_dedup.py)."""
    tokens = np.array(list(map(_TOKENS.__getitem__, story_text(body).split())), dtype=np.uint64) & ~_FLAGS
    words = tokens[tokens != 0]  # chunks without a word, and a "\x00" standing alone (a line-break marker's token)
    return words, hashlib.blake2b(words.tobytes(), digest_size=16).hexdigest()


def shingle_set(body: str) -> tuple[str, np.ndarray]:
    """(text hash, shingles) of fingerprint(body), without the MinHash signature and the evidence it also works out
    (half its cost): what a feed's identity keeps to judge later changes of a body (feed.publish.guids)."""
    words, digest = _plain_words(body)
    if len(words) < MIN_WORDS:
        return digest, np.empty(0, dtype=np.uint64)
    return digest, _shingles(words)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted, unique shingle arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


def facts_agree(a: Fingerprint | Evidence, b: Fingerprint | Evidence) -> bool:
    """False when the two texts name other unions, people or figures in the same sentences.

    Sentences worded alike in both (names and numbers blanked) are aligned; a copy fills them alike, another
    union's report of the same template fills them with its own names and numbers. Trimmed paragraphs and
    added context do not align, so they cannot make a copy look foreign. With too few aligned sentences,
    fall back to the facts each text holds alone."""
    ea = a.evidence if isinstance(a, Fingerprint) else a
    eb = b.evidence if isinstance(b, Fingerprint) else b
    aligned = ea.claims.keys() & eb.claims.keys()
    if len(aligned) >= ALIGNED_MIN:
        differ = sum(ea.claims[k] != eb.claims[k] for k in aligned)
        return differ <= max(1, CLAIM_SLACK * len(aligned))
    only_a, only_b = len(ea.facts - eb.facts), len(eb.facts - ea.facts)
    slack = max(FACT_SLACK, FACT_SLACK_SHARE * min(len(ea.facts), len(eb.facts)))
    return min(only_a, only_b) <= slack


def same_story(a: Fingerprint, b: Fingerprint) -> bool:
    """The verdict: an exact copy, or a near copy (high shingle Jaccard) whose facts agree."""
    if a.n_words and a.text_hash == b.text_hash:
        return True
    if min(a.n_words, b.n_words) < MIN_WORDS:
        return False
    return jaccard(a.shingles, b.shingles) >= JACCARD_MIN and facts_agree(a, b)
