"""Near-duplicate index: story fingerprints (folded word shingles, MinHash), LSH band buckets, and the verdict.

The index answers "which stored articles are copies of this text?" with a bounded number of look-ups:
one by exact text hash, one over the LSH band keys (each bucket holds at most BUCKET_CAP articles), one
for the signatures of the best-ranked candidates, and one for the texts of the few that survive. Those few
are verified exactly: shingle Jaccard, then the names and numbers of each text (two template reports of
different unions share boilerplate but not their facts). docs/dedup.md explains the choice of constants.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import weakref
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import Any, ClassVar, Protocol

import numpy as np
from sqlalchemy import BigInteger, Integer, LargeBinary, String, bindparam, delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from feed.noise import parse_credit
from feed.store import ArticleRow, Base
from feed.text import fold

SHINGLE_WORDS = 5  # word 5-grams: long enough that shared stock phrases rarely align, short enough for edits
BANDS, ROWS = 16, 4  # 64 MinHash values; a pair with Jaccard 0.5 shares a band with p=0.64, 0.7 with p=0.99
NUM_PERM = BANDS * ROWS
MIN_WORDS = 30  # below this a text is too short for shingles to mean anything: exact copies only
JACCARD_MIN = 0.5  # verified shingle Jaccard for a copy (copies with new headers/captions sit at 0.6-1.0)
PREFILTER_MIN = 0.3  # signature estimate below this is not worth reading the text for (3 sigma under 0.5)
SURE_MIN = 0.7  # estimate this far above JACCARD_MIN (3 sigma) needs no exact Jaccard, only the facts check
FACT_SLACK, FACT_SLACK_SHARE = 2, 0.15  # facts each side may have alone: edits, captions, a credited name
BUCKET_CAP = 64  # a band bucket this full holds stock text, not a story: no more members are filed in it
MAX_CANDIDATES, MAX_VERIFY = 64, 16
MAX_CREDIT_CHARS = 240  # credit and caption lines are short; paragraphs longer than this are story

_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d+")
_UPPER = "".join(sorted({c for c in map(chr, range(0x41, 0x1F00)) if c.isupper()}))
# Chunks holding a figure or a capital letter: the only places facts can be (most words are neither).
_FACT_CHUNK = re.compile(r"[^\s]*[\d" + re.escape(_UPPER) + r"][^\s]*")
# "hcma.vn - ", "(LĐLĐ) - ", "TTXVN – ": the outlet's dateline, which each copy rewrites.
_DATELINE = re.compile(r"^\s*(?:\([^()\n]{2,40}\)|[\w.-]*\.[a-z]{2,6}|[A-ZĐ]{2,12})\s*[-–—:]\s+")
_CAPTION = re.compile(r"^\s*\(?\s*(?:ảnh|ảnh minh họa|ảnh minh hoạ|video)\s*:", re.I)
_MASK63 = (1 << 63) - 1
_BIN_BITS = NUM_PERM.bit_length() - 1  # NUM_PERM is a power of two: 6 bits pick one of 64 bins
_ROTATION = 0x9E3779B1  # densification offset per bin skipped (any odd 32-bit constant)
_RNG = np.random.default_rng(20240607)  # fixed: signatures are persisted and must mean the same forever
_SHINGLE_MULT = _RNG.integers(1, 2**63, size=SHINGLE_WORDS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_BAND_MULT = _RNG.integers(1, 2**63, size=ROWS + 1, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def story_text(body: str) -> str:
    """The body without what each copy rewrites: credit lines, photo captions, the leading dateline."""
    lines = [line for line in unicodedata.normalize("NFC", body or "").splitlines() if line.strip()]
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
    # A chunk ("2021.", "(LĐLĐ)", "15/01/2021") is one token: its folded words, so case and tone placement
    # (hoà/hòa) never tell copies apart and punctuation never counts; 0 when it holds no word at all.
    words = _WORD.findall(chunk)
    if not words:
        return 0
    # ASCII (figures, most abbreviations) folds to its lower case; the rest goes through feed.text.fold.
    key = (" ".join(words).lower() if chunk.isascii() else " ".join(map(fold, words))).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") or 1


def _chunk_facts(chunk: str) -> tuple[int, ...]:
    # Facts are kept as CRC-32s: compact enough to store with the signature, stable across processes.
    facts = [n.lstrip("0") or "0" for n in _NUMBER.findall(chunk)]
    if chunk != chunk.lower():
        facts.extend(fold(w) for w in _WORD.findall(chunk) if w[0].isupper())
    return tuple(zlib.crc32(f.encode("utf-8")) for f in facts)


_TOKENS = _ChunkTable(_chunk_token)
_FACTS = _ChunkTable(_chunk_facts)


def _tokens(text: str) -> np.ndarray:
    chunks = text.split()
    tokens = np.fromiter(map(_TOKENS.__getitem__, chunks), dtype=np.uint64, count=len(chunks))
    return tokens[tokens != 0]


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    # np.unique is ten times slower than this on small arrays (numpy 2.x).
    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _shingles(tokens: np.ndarray) -> np.ndarray:
    n = len(tokens) - SHINGLE_WORDS + 1  # callers pass at least MIN_WORDS tokens
    acc = tokens[:n] * _SHINGLE_MULT[0]
    for j in range(1, SHINGLE_WORDS):
        acc = acc + tokens[j : j + n] * _SHINGLE_MULT[j]  # uint64 wraps: a polynomial hash mod 2^64
    return _sorted_unique(acc)


def minhash(shingles: np.ndarray) -> np.ndarray:
    """NUM_PERM MinHash values (uint32) of a sorted set of uniform 64-bit shingle hashes.

    One-permutation hashing: the top bits of a hash pick its bin, the next 32 bits are its value, and each
    bin keeps its minimum; empty bins borrow from the next full bin (rotation densification, Shrivastava
    and Li 2014). O(n) instead of O(n * NUM_PERM), with the same collision probability, the Jaccard index.
    """
    if len(shingles) == 0:
        return np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    starts = np.arange(NUM_PERM, dtype=np.uint64) << np.uint64(64 - _BIN_BITS)
    first = np.searchsorted(shingles, starts)
    full = first < len(shingles)
    full[full] = (shingles[first[full]] >> np.uint64(64 - _BIN_BITS)) == np.arange(NUM_PERM, dtype=np.uint64)[full]
    values = np.zeros(NUM_PERM, dtype=np.uint64)
    values[full] = (shingles[first[full]] >> np.uint64(32 - _BIN_BITS)) & np.uint64(0xFFFFFFFF)
    if not full.all():
        values = _densify(values, full)
    return values.astype(np.uint32)


def _densify(values: np.ndarray, full: np.ndarray) -> np.ndarray:
    filled = np.flatnonzero(full)
    out = values.copy()
    for empty in np.flatnonzero(~full):
        later = filled[filled > empty]
        donor = int(later[0]) if len(later) else int(filled[0])
        distance = (donor - int(empty)) % NUM_PERM
        out[empty] = (int(values[donor]) + distance * _ROTATION) & 0xFFFFFFFF
    return out


def band_keys(signature: np.ndarray) -> list[int]:
    """One 63-bit bucket key per LSH band (band number mixed in, so bands never share buckets)."""
    rows = signature.reshape(BANDS, ROWS).astype(np.uint64)
    acc = np.arange(BANDS, dtype=np.uint64) * _BAND_MULT[ROWS]
    for r in range(ROWS):
        acc = (acc ^ rows[:, r]) * _BAND_MULT[r]
    return (acc & np.uint64(_MASK63)).tolist()


@dataclass
class Fingerprint:
    """What the index knows of one text: exact hash, shingle set, MinHash signature, band keys."""

    text: str
    n_words: int
    text_hash: str
    shingles: np.ndarray
    signature: np.ndarray
    keys: list[int] = field(default_factory=list)

    @cached_property
    def facts(self) -> frozenset[int]:
        """Numbers and capitalised words (hashed): what tells one union's meeting from another's."""
        return frozenset(chain.from_iterable(map(_FACTS.__getitem__, _FACT_CHUNK.findall(self.text))))

    def fact_array(self) -> np.ndarray:
        """The facts as a sorted uint32 array, the form the index stores."""
        return np.array(sorted(self.facts), dtype=np.uint32)


def fingerprint(body: str) -> Fingerprint:
    """Fingerprint an article body (boilerplate that copies rewrite is left out first)."""
    text = story_text(body)
    tokens = _tokens(text)
    digest = hashlib.blake2b(tokens.tobytes(), digest_size=16).hexdigest()
    if len(tokens) < MIN_WORDS:
        empty = np.empty(0, dtype=np.uint64)
        return Fingerprint(text, len(tokens), digest, empty, minhash(empty), [])
    shingles = _shingles(tokens)
    signature = minhash(shingles)
    return Fingerprint(text, len(tokens), digest, shingles, signature, band_keys(signature))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted, unique shingle arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


def facts_agree(a: Fingerprint | frozenset[int], b: Fingerprint | frozenset[int]) -> bool:
    """True unless both texts carry names or numbers the other lacks (a different union, people, figures)."""
    fa = a.facts if isinstance(a, Fingerprint) else a
    fb = b.facts if isinstance(b, Fingerprint) else b
    only_a, only_b = len(fa - fb), len(fb - fa)
    slack = max(FACT_SLACK, FACT_SLACK_SHARE * min(len(fa), len(fb)))
    return min(only_a, only_b) <= slack


def same_story(a: Fingerprint, b: Fingerprint) -> bool:
    """The verdict: an exact copy, or a near copy (high shingle Jaccard) whose facts agree."""
    if a.n_words and a.text_hash == b.text_hash:
        return True
    if min(a.n_words, b.n_words) < MIN_WORDS:
        return False
    return jaccard(a.shingles, b.shingles) >= JACCARD_MIN and facts_agree(a, b)


class IndexBackend(Protocol):
    """Where fingerprints live: a dict for benchmarks, SQLite/any SQL for the product."""

    def by_hash(self, text_hash: str) -> list[str]: ...
    def buckets(self, keys: Sequence[int]) -> dict[int, list[str]]: ...
    def profiles(self, ids: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]: ...
    def texts(self, ids: Sequence[str]) -> dict[str, str]: ...
    def put(self, doc_id: str, fp: Fingerprint, keys: Sequence[int]) -> None: ...
    def drop(self, doc_id: str) -> None: ...
    def has(self, doc_id: str) -> str | None: ...


class DedupIndex:
    """Find and file copies through a backend; every call costs a bounded number of backend look-ups."""

    def __init__(self, backend: IndexBackend) -> None:
        self.backend = backend

    def find(self, fp: Fingerprint, exclude: Iterable[str] = ()) -> list[str]:
        """Ids of stored articles that are copies of fp (exact copies first)."""
        return self._search(fp, set(exclude))[0]

    def add(self, doc_id: str, fp: Fingerprint) -> list[str]:
        """File doc_id under fp (replacing an older fingerprint of it) and return the copies found."""
        stored_hash = self.backend.has(doc_id)
        if stored_hash is not None:
            self.backend.drop(doc_id)
        matches, buckets = self._search(fp, {doc_id})
        open_keys = [k for k in fp.keys if len(buckets.get(k, ())) < BUCKET_CAP]
        self.backend.put(doc_id, fp, open_keys)
        return matches

    def _search(self, fp: Fingerprint, exclude: set[str]) -> tuple[list[str], dict[int, list[str]]]:
        exact = [i for i in self.backend.by_hash(fp.text_hash) if i not in exclude] if fp.n_words else []
        if not fp.keys:
            return exact, {}
        buckets = self.backend.buckets(fp.keys)
        seen = exclude | set(exact)
        counts = Counter(i for ids in buckets.values() for i in ids if i not in seen)
        ranked = [i for i, _ in counts.most_common(MAX_CANDIDATES)]
        if not ranked:
            return exact, buckets
        profiles = self.backend.profiles(ranked)
        estimates = {i: float(np.mean(sig == fp.signature)) for i, (sig, _) in profiles.items()}
        # Far above the threshold the estimate settles the Jaccard test; only the stored facts are checked.
        sure = [i for i in ranked if estimates.get(i, 0.0) >= SURE_MIN
                and facts_agree(fp.facts, frozenset(profiles[i][1].tolist()))]
        doubtful = sorted((i for i in ranked if PREFILTER_MIN <= estimates.get(i, 0.0) < SURE_MIN),
                          key=lambda i: -estimates[i])[:MAX_VERIFY]
        texts = self.backend.texts(doubtful) if doubtful else {}
        near = [i for i in doubtful if i in texts and same_story(fp, fingerprint(texts[i]))]
        return exact + sure + near, buckets


# --- in memory ----------------------------------------------------------------------------------------
class MemoryBackend:
    """A dict-backed index (benchmarks, tests); texts come from the caller."""

    def __init__(self, texts: Callable[[Sequence[str]], Mapping[str, str]]) -> None:
        self._texts = texts
        self._hashes: dict[str, list[str]] = {}
        self._buckets: dict[int, list[str]] = {}
        self._docs: dict[str, tuple[str, np.ndarray, np.ndarray, tuple[int, ...]]] = {}

    def by_hash(self, text_hash: str) -> list[str]:
        return list(self._hashes.get(text_hash, ()))

    def buckets(self, keys: Sequence[int]) -> dict[int, list[str]]:
        return {k: list(self._buckets[k]) for k in keys if k in self._buckets}

    def profiles(self, ids: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {i: (self._docs[i][1], self._docs[i][2]) for i in ids if i in self._docs}

    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        return dict(self._texts(ids))

    def put(self, doc_id: str, fp: Fingerprint, keys: Sequence[int]) -> None:
        self._docs[doc_id] = (fp.text_hash, fp.signature, fp.fact_array(), tuple(keys))
        self._hashes.setdefault(fp.text_hash, []).append(doc_id)
        for key in keys:
            self._buckets.setdefault(key, []).append(doc_id)

    def drop(self, doc_id: str) -> None:
        text_hash, _, _, keys = self._docs.pop(doc_id)
        self._hashes[text_hash].remove(doc_id)
        for key in keys:
            self._buckets[key].remove(doc_id)

    def has(self, doc_id: str) -> str | None:
        doc = self._docs.get(doc_id)
        return doc[0] if doc else None


# --- in the store's database -----------------------------------------------------------------------------
class DedupDoc(Base):
    """One fingerprinted article: its exact text hash and MinHash signature."""

    __tablename__ = "dedup_docs"

    article_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(32), index=True)
    n_words: Mapped[int] = mapped_column(Integer)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    facts: Mapped[bytes] = mapped_column(LargeBinary)


class DedupBand(Base):
    """One LSH bucket membership; the primary key (key, article_id) is the look-up index."""

    __tablename__ = "dedup_bands"
    __table_args__: ClassVar[dict[str, Any]] = {"sqlite_with_rowid": False}

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[str] = mapped_column(String(32), primary_key=True)


_CREATED: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def ensure_tables(engine: Engine) -> None:
    """Create the dedup tables on this engine once per process (Store creates only the tables it imports)."""
    if engine not in _CREATED:
        Base.metadata.create_all(engine, tables=[DedupDoc.__table__, DedupBand.__table__])
        _CREATED[engine] = True


_DOCS, _BANDS = DedupDoc.__table__, DedupBand.__table__
_ARTICLES = ArticleRow.__table__
# Statements built once: SQLAlchemy's per-call statement building costs more than SQLite's look-ups.
_BY_HASH = select(_DOCS.c.article_id).where(_DOCS.c.text_hash == bindparam("h"))
_HAS = select(_DOCS.c.text_hash).where(_DOCS.c.article_id == bindparam("a"))
_BUCKETS = select(_BANDS.c.key, _BANDS.c.article_id).where(_BANDS.c.key.in_(bindparam("keys", expanding=True)))
_PROFILES = select(_DOCS.c.article_id, _DOCS.c.signature, _DOCS.c.facts).where(
    _DOCS.c.article_id.in_(bindparam("ids", expanding=True)))
_TEXTS = select(_ARTICLES.c.id, _ARTICLES.c.body_text).where(_ARTICLES.c.id.in_(bindparam("ids", expanding=True)))
_SIGNATURE = select(_DOCS.c.signature).where(_DOCS.c.article_id == bindparam("a"))
_PUT_DOC, _PUT_BAND = insert(_DOCS), insert(_BANDS)
_DROP_BANDS = delete(_BANDS).where(_BANDS.c.key.in_(bindparam("keys", expanding=True)),
                                   _BANDS.c.article_id == bindparam("a"))
_DROP_DOC = delete(_DOCS).where(_DOCS.c.article_id == bindparam("a"))


class SqlBackend:
    """The persistent index: every look-up is by primary key or an indexed column, inside one session."""

    def __init__(self, session: Session, texts: Callable[[Sequence[str]], Mapping[str, str]] | None = None) -> None:
        self.session = session
        self._texts = texts

    def _run(self, statement: Any, params: Any) -> Any:
        return self.session.connection().execute(statement, params)

    def by_hash(self, text_hash: str) -> list[str]:
        return list(self._run(_BY_HASH, {"h": text_hash}).scalars())

    def buckets(self, keys: Sequence[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for key, doc_id in self._run(_BUCKETS, {"keys": list(keys)}):
            found.setdefault(key, []).append(doc_id)
        return found

    def profiles(self, ids: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {i: (np.frombuffer(sig, dtype=np.uint32), np.frombuffer(facts, dtype=np.uint32))
                for i, sig, facts in self._run(_PROFILES, {"ids": list(ids)})}

    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        if self._texts is not None:
            return dict(self._texts(ids))
        return {i: body or "" for i, body in self._run(_TEXTS, {"ids": list(ids)})}

    def put(self, doc_id: str, fp: Fingerprint, keys: Sequence[int]) -> None:
        self._run(_PUT_DOC, {"article_id": doc_id, "text_hash": fp.text_hash, "n_words": fp.n_words,
                             "signature": fp.signature.tobytes(), "facts": fp.fact_array().tobytes()})
        if keys:
            self._run(_PUT_BAND, [{"key": k, "article_id": doc_id} for k in keys])

    def drop(self, doc_id: str) -> None:
        signature = self._run(_SIGNATURE, {"a": doc_id}).scalar()
        if signature is None:
            return
        self._run(_DROP_BANDS, {"keys": band_keys(np.frombuffer(signature, dtype=np.uint32)), "a": doc_id})
        self._run(_DROP_DOC, {"a": doc_id})

    def has(self, doc_id: str) -> str | None:
        return self._run(_HAS, {"a": doc_id}).scalar()
