"""The near-duplicate index of one batch of pages: its look-ups read at once, its writes sent at once.

Page-by-page, filing an article in the SQL index (feed.dedup.index.SqlBackend) costs five or six statements: is
it filed already, the exact copies by text hash, the band buckets, the candidates' profiles, then the document
and its band keys written. `ingest_batch` (feed.ingest) clusters a batch of pages in one transaction, in the
batch's order; `BatchBackend` serves that same index to it with one round of reads before the first page
(`preload`: the buckets of every band key the batch's texts have, then in one query the documents of the batch's
own articles, of the batch's text hashes and of each text's best-ranked stored candidates) and one round of
writes at the end (`flush`, before the commit).

What it has read is known whole: a band key, a text hash or an article id it has read stands for everything the
database holds under it, and the batch's own puts and drops are applied to it in memory as they are written.
Anything it has not read (a page whose text the preload could not foresee) is read when asked, after the pending
writes are sent, so every answer is the one the database would give page by page. Lists come in the order the SQL
backend returns them (by band key, then article id; by article id), so rankings tie the same way.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from feed.dedup.fingerprints import NUM_PERM, Fingerprint, band_keys, fingerprint
from feed.dedup.index import (
    _BANDS,
    _DOCS,
    _DROP_BANDS,
    _DROP_DOC,
    _PUT_BAND,
    _PUT_DOC,
    MAX_CANDIDATES,
    Profiles,
    SqlBackend,
    doc_row,
)

CHUNK = 900  # values per IN list (SQLite's bound-parameter limit is 999 on old builds)
_DOC_COLUMNS = (_DOCS.c.article_id, _DOCS.c.text_hash, _DOCS.c.signature, _DOCS.c.facts, _DOCS.c.claims)
_BUCKET_ROWS = select(_BANDS.c.key, _BANDS.c.article_id).where(_BANDS.c.key.in_(bindparam("keys", expanding=True)))
_DOCS_BY_ID = select(*_DOC_COLUMNS).where(_DOCS.c.article_id.in_(bindparam("ids", expanding=True)))
_DOCS_BY_ID_OR_HASH = select(*_DOC_COLUMNS).where(
    or_(
        _DOCS.c.article_id.in_(bindparam("ids", expanding=True)),
        _DOCS.c.text_hash.in_(bindparam("hashes", expanding=True)),
    )
)
_DOCS_BY_HASH = select(*_DOC_COLUMNS).where(_DOCS.c.text_hash.in_(bindparam("hashes", expanding=True)))

_Doc = tuple[str, np.ndarray, tuple[bytes, bytes]]  # text hash, signature, packed evidence


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(set(values))
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class BatchBackend:
    """An `IndexBackend` over the store's index tables for one batch (see the module docstring)."""

    def __init__(self, session: Session, texts: Callable[[Sequence[str]], Mapping[str, str]] | None = None) -> None:
        self.session = session
        self._sql = SqlBackend(session, texts)
        self._bands: dict[int, list[str]] = {}  # band key read -> its members, sorted
        self._hashes: dict[str, list[str]] = {}  # text hash read -> its documents, sorted
        self._docs: dict[str, _Doc | None] = {}  # article id read -> its document (None: not filed)
        self._pending: list[tuple[str, Any]] = []  # ("put", (doc row, band rows)) / ("drop", (id, keys)), in order
        self._fingerprints: dict[str, Fingerprint] = {}
        self.reads = 0  # statements this backend ran to read (tests count them)

    # --- the batch's reads, at once ---------------------------------------------------------------------
    def fingerprint(self, body: str) -> Fingerprint:
        """fingerprint(body), worked out once for a text the preload has seen."""
        fp = self._fingerprints.get(body)
        return fp if fp is not None else fingerprint(body)

    def preload(self, articles: Mapping[str, str]) -> None:
        """Read what filing these articles (article id -> body) will ask for: the buckets of their band keys, and
        in one query the documents of their ids, of their text hashes and of each one's best-ranked candidates."""
        fps = {}
        for doc_id, body in articles.items():
            fp = self._fingerprints.get(body) or fingerprint(body)
            self._fingerprints[body] = fp
            fps[doc_id] = fp
        if not fps:
            return
        self._read_buckets({k for fp in fps.values() for k in fp.keys})
        wanted = set(fps)
        for doc_id, fp in fps.items():
            counts = Counter(i for k in fp.keys for i in self._bands.get(k, ()) if i != doc_id)
            wanted.update(i for i, _ in counts.most_common(MAX_CANDIDATES))
        hashes = {fp.text_hash for fp in fps.values() if fp.n_words}
        self._read_docs(wanted, hashes)

    def _read_buckets(self, keys: Iterable[int]) -> None:
        missing = [k for k in keys if k not in self._bands]
        if not missing:
            return
        self.flush()
        for key in missing:
            self._bands[key] = []
        for chunk in _chunks(missing):
            self.reads += 1
            for key, doc_id in self._run(_BUCKET_ROWS, {"keys": chunk}):
                self._bands[key].append(doc_id)
        for key in missing:
            self._bands[key].sort()

    def _read_docs(self, ids: Iterable[str], hashes: Iterable[str] = ()) -> None:
        ids = [i for i in ids if i not in self._docs]
        hashes = [h for h in hashes if h not in self._hashes]
        if not ids and not hashes:
            return
        self.flush()
        for doc_id in ids:
            self._docs[doc_id] = None
        for text_hash in hashes:
            self._hashes[text_hash] = []
        rows: list[Any] = []
        id_chunks, hash_chunks = list(_chunks(ids)), list(_chunks(hashes))
        while id_chunks or hash_chunks:
            id_chunk, hash_chunk = id_chunks.pop() if id_chunks else [], hash_chunks.pop() if hash_chunks else []
            self.reads += 1
            if id_chunk and hash_chunk:
                rows += self._run(_DOCS_BY_ID_OR_HASH, {"ids": id_chunk, "hashes": hash_chunk}).all()
            elif id_chunk:
                rows += self._run(_DOCS_BY_ID, {"ids": id_chunk}).all()
            else:
                rows += self._run(_DOCS_BY_HASH, {"hashes": hash_chunk}).all()
        read = set(hashes)
        for r in {r.article_id: r for r in rows}.values():
            signature = np.frombuffer(r.signature, dtype=np.uint32)
            self._docs[r.article_id] = (r.text_hash, signature, (r.facts, r.claims))
            if r.text_hash in read:
                bisect.insort(self._hashes[r.text_hash], r.article_id)

    def _run(self, statement: Any, params: Any) -> Any:
        return self.session.connection().execute(statement, params)

    # --- IndexBackend -------------------------------------------------------------------------------------
    def by_hash(self, text_hash: str) -> list[str]:
        self._read_docs((), [text_hash])
        return list(self._hashes[text_hash])

    def buckets(self, keys: Sequence[int]) -> dict[int, list[str]]:
        self._read_buckets(keys)
        return {k: list(self._bands[k]) for k in sorted(set(keys)) if self._bands[k]}

    def profiles(self, ids: Sequence[str]) -> Profiles:
        self._read_docs(ids)
        docs = [(i, doc) for i in sorted(set(ids)) if (doc := self._docs[i]) is not None]
        signatures = np.array([doc[1] for _, doc in docs], dtype=np.uint32).reshape(len(docs), NUM_PERM)
        return Profiles([i for i, _ in docs], signatures, [doc[2] for _, doc in docs])

    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        return self._sql.texts(ids)  # the articles' table: the index's pending writes do not touch it

    def put(self, doc_id: str, fp: Fingerprint, keys: Sequence[int]) -> None:
        facts, claims = fp.evidence.to_bytes()
        self._docs[doc_id] = (fp.text_hash, fp.signature, (facts, claims))
        if fp.text_hash in self._hashes:
            bisect.insort(self._hashes[fp.text_hash], doc_id)
        for key in keys:
            if key in self._bands:
                bisect.insort(self._bands[key], doc_id)
        doc = doc_row(doc_id, fp, (facts, claims))
        self._pending.append(("put", (doc, [{"key": k, "article_id": doc_id} for k in keys])))

    def drop(self, doc_id: str) -> None:
        self._read_docs([doc_id])
        doc = self._docs[doc_id]
        if doc is None:
            return
        keys = band_keys(doc[1])
        self._docs[doc_id] = None
        if doc[0] in self._hashes:
            self._hashes[doc[0]].remove(doc_id)
        for key in keys:
            members = self._bands.get(key)
            if members is not None and doc_id in members:
                members.remove(doc_id)
        self._pending.append(("drop", (doc_id, keys)))

    def has(self, doc_id: str) -> str | None:
        self._read_docs([doc_id])
        doc = self._docs[doc_id]
        return doc[0] if doc is not None else None

    # --- the batch's writes, at once ----------------------------------------------------------------------
    def flush(self) -> None:
        """Send the pending writes, in order (runs of puts as one statement for the documents, one for the keys)."""
        docs: list[dict[str, Any]] = []
        bands: list[dict[str, Any]] = []

        def send_puts() -> None:
            if docs:
                self._run(_PUT_DOC, docs)
            if bands:
                self._run(_PUT_BAND, bands)
            docs.clear()
            bands.clear()

        pending, self._pending = self._pending, []
        for kind, value in pending:
            if kind == "put":
                docs.append(value[0])
                bands.extend(value[1])
            else:
                send_puts()
                doc_id, keys = value
                self._run(_DROP_BANDS, {"keys": keys, "a": doc_id})
                self._run(_DROP_DOC, {"a": doc_id})
        send_puts()
