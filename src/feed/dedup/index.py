"""Near-duplicate index: fingerprints (feed.dedup.fingerprints) filed under LSH band buckets, in memory or SQL.

The index answers "which stored articles are copies of this text?" with a bounded number of look-ups:
one by exact text hash, one over the LSH band keys (each bucket holds at most BUCKET_CAP articles), one
for the signatures and stored evidence of the best-ranked candidates (which settles most of them: two
template reports of different unions share boilerplate but not their names and numbers), and one for the
texts of the few whose Jaccard must be computed exactly. docs/dedup.md explains the choice of constants.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, cast

import numpy as np
from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from feed.dedup.fingerprints import (
    NUM_PERM,
    Evidence,
    Fingerprint,
    band_keys,
    facts_agree,
    fingerprint,
    same_story,
)
from feed.store.schema import ArticleRow, DedupBand, DedupDoc

PREFILTER_MIN = 0.32  # a signature estimate this low is not worth reading the text for (3 sd under 0.45)
SURE_MIN = 0.6  # an estimate this far above JACCARD_MIN (3.4 sd) needs no exact Jaccard, only the facts check
BUCKET_CAP = 64  # a band bucket this full holds stock text, not a story: no more members are filed in it
MAX_CANDIDATES, MAX_VERIFY = 64, 16


class Profiles(NamedTuple):
    """Stored signatures (one row each) and packed evidence of some articles."""

    ids: list[str]
    signatures: np.ndarray
    evidence: list[tuple[bytes, bytes]]


class IndexBackend(Protocol):
    """Where fingerprints live: a dict for benchmarks, SQLite/any SQL for the product."""

    def by_hash(self, text_hash: str) -> list[str]: ...
    def buckets(self, keys: Sequence[int]) -> dict[int, list[str]]: ...
    def profiles(self, ids: Sequence[str]) -> Profiles: ...
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
        if self.backend.has(doc_id) is not None:
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
        if not profiles.ids:
            return exact, buckets
        agreement = (profiles.signatures == fp.signature).mean(axis=1).tolist()
        estimates = dict(zip(profiles.ids, agreement, strict=True))
        evidence = dict(zip(profiles.ids, profiles.evidence, strict=True))
        # The stored facts settle most candidates without reading a text: another union's report of the same
        # template is refused here. Far above the threshold the estimate settles the Jaccard test as well.
        agree = [
            i
            for i in profiles.ids
            if estimates[i] >= PREFILTER_MIN and facts_agree(fp, Evidence.from_bytes(*evidence[i]))
        ]
        sure = [i for i in agree if estimates[i] >= SURE_MIN]
        doubtful = sorted((i for i in agree if estimates[i] < SURE_MIN), key=lambda i: -estimates[i])[:MAX_VERIFY]
        texts = self.backend.texts(doubtful) if doubtful else {}
        near = [i for i in doubtful if i in texts and same_story(fp, fingerprint(texts[i]))]
        return exact + sure + near, buckets


# --- in memory ----------------------------------------------------------------------------------------
class MemoryBackend:
    """A dict-backed index (benchmarks, tests); texts come from the caller.

    Kept lean for 100,000s of articles: a bucket with one member holds the bare id (most buckets), a list
    only from the second; signatures are rows of one matrix; evidence stays packed bytes; band keys are
    recomputed to drop an article."""

    def __init__(self, texts: Callable[[Sequence[str]], Mapping[str, str]]) -> None:
        self._texts = texts
        self._hashes: dict[str, list[str]] = {}
        self._buckets: dict[int, str | list[str]] = {}
        self._docs: dict[str, tuple[str, int, tuple[bytes, bytes]]] = {}  # id -> hash, signature row, evidence
        self._signatures = np.empty((1024, NUM_PERM), dtype=np.uint32)
        self._rows = 0

    def by_hash(self, text_hash: str) -> list[str]:
        return list(self._hashes.get(text_hash, ()))

    def buckets(self, keys: Sequence[int]) -> dict[int, list[str]]:
        found = {}
        for key in keys:
            ids = self._buckets.get(key)
            if ids is not None:
                found[key] = [ids] if isinstance(ids, str) else ids  # callers only read these lists
        return found

    def profiles(self, ids: Sequence[str]) -> Profiles:
        docs = [(i, self._docs[i]) for i in ids if i in self._docs]
        rows = self._signatures[[doc[1] for _, doc in docs]]
        return Profiles([i for i, _ in docs], rows, [doc[2] for _, doc in docs])

    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        return dict(self._texts(ids))

    def put(self, doc_id: str, fp: Fingerprint, keys: Sequence[int]) -> None:
        if self._rows == len(self._signatures):
            self._signatures = np.concatenate([self._signatures, np.empty_like(self._signatures)])
        self._signatures[self._rows] = fp.signature
        self._docs[doc_id] = (fp.text_hash, self._rows, fp.evidence.to_bytes())
        self._rows += 1
        self._hashes.setdefault(fp.text_hash, []).append(doc_id)
        for key in keys:
            ids = self._buckets.get(key)
            if ids is None:
                self._buckets[key] = doc_id
            elif isinstance(ids, str):
                self._buckets[key] = [ids, doc_id]
            else:
                ids.append(doc_id)

    def drop(self, doc_id: str) -> None:
        text_hash, row, _ = self._docs.pop(doc_id)  # its signature row is left unused
        self._hashes[text_hash].remove(doc_id)
        for key in band_keys(self._signatures[row]):
            ids = self._buckets.get(key)
            if ids == doc_id:
                del self._buckets[key]
            elif isinstance(ids, list) and doc_id in ids:
                ids.remove(doc_id)

    def has(self, doc_id: str) -> str | None:
        doc = self._docs.get(doc_id)
        return doc[0] if doc else None


# --- in the store's database -----------------------------------------------------------------------------
# The tables (dedup_docs, dedup_bands) are defined and created with the store's others (feed.store.schema).
_DOCS, _BANDS = cast(Table, DedupDoc.__table__), cast(Table, DedupBand.__table__)
_ARTICLES = cast(Table, ArticleRow.__table__)
# Statements built once: SQLAlchemy's per-call statement building costs more than SQLite's look-ups.
_BY_HASH = select(_DOCS.c.article_id).where(_DOCS.c.text_hash == bindparam("h")).order_by(_DOCS.c.article_id)
_HAS = select(_DOCS.c.text_hash).where(_DOCS.c.article_id == bindparam("a"))
# In a defined order (SQLite's index order): the ranking of candidates ties the same way in feed.dedup.batch_index.
_BUCKETS = (
    select(_BANDS.c.key, _BANDS.c.article_id)
    .where(_BANDS.c.key.in_(bindparam("keys", expanding=True)))
    .order_by(_BANDS.c.key, _BANDS.c.article_id)
)
_PROFILES = (
    select(_DOCS.c.article_id, _DOCS.c.signature, _DOCS.c.facts, _DOCS.c.claims)
    .where(_DOCS.c.article_id.in_(bindparam("ids", expanding=True)))
    .order_by(_DOCS.c.article_id)
)
_TEXTS = select(_ARTICLES.c.id, _ARTICLES.c.body_text).where(_ARTICLES.c.id.in_(bindparam("ids", expanding=True)))
_SIGNATURE = select(_DOCS.c.signature).where(_DOCS.c.article_id == bindparam("a"))
_PUT_DOC, _PUT_BAND = insert(_DOCS), insert(_BANDS)
_DROP_BANDS = delete(_BANDS).where(
    _BANDS.c.key.in_(bindparam("keys", expanding=True)), _BANDS.c.article_id == bindparam("a")
)
_DROP_DOC = delete(_DOCS).where(_DOCS.c.article_id == bindparam("a"))


def doc_row(doc_id: str, fp: Fingerprint, evidence: tuple[bytes, bytes]) -> dict[str, Any]:
    """The dedup_docs row of an article's fingerprint (evidence: fp.evidence packed, as (facts, claims))."""
    facts, claims = evidence
    return {
        "article_id": doc_id,
        "text_hash": fp.text_hash,
        "n_words": fp.n_words,
        "signature": fp.signature.tobytes(),
        "facts": facts,
        "claims": claims,
    }


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

    def profiles(self, ids: Sequence[str]) -> Profiles:
        rows = self._run(_PROFILES, {"ids": list(ids)}).all()
        signatures = np.frombuffer(b"".join(r.signature for r in rows), dtype=np.uint32).reshape(len(rows), -1)
        return Profiles([r.article_id for r in rows], signatures, [(r.facts, r.claims) for r in rows])

    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        if self._texts is not None:
            return dict(self._texts(ids))
        return {i: body or "" for i, body in self._run(_TEXTS, {"ids": list(ids)})}

    def put(self, doc_id: str, fp: Fingerprint, keys: Sequence[int]) -> None:
        self._run(_PUT_DOC, doc_row(doc_id, fp, fp.evidence.to_bytes()))
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
