"""What the full-text index (feed.store.search) costs ingest, how long a store's first open takes to build it, and
how fast a search answers, on a SQLite store filled from the labelled corpus.

    .venv/bin/python bench/search.py [--articles 3000] [--queries 200]

Fills two fresh stores with the same --articles articles (texts of corpus/meetings, cycled, each made unique), in
batches of 50 upserts:
  - the anchor: the store with the index's hook removed (what ingest cost before search);
  - the same with the index kept current (the after-flush hook), as every store now does;
then drops the index and opens the store again (the migration of an older store), and runs --queries searches
(two or three diacritic-free words of the corpus, with and without a province-like source filter).
Prints CPU seconds and ratios to the anchor, search latency (median, p95, wall) in milliseconds, and a search's
CPU time against a read of the newest 50 with the same filters and no words (its anchor).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from feed.lang.text import strip_accents
from feed.records import Extracted
from feed.store import search
from feed.store.api import Store

ROOT = Path(__file__).resolve().parents[1]


def texts() -> list[str]:
    out = []
    for shard in sorted((ROOT / "corpus" / "meetings").glob("*.jsonl")):
        for line in shard.read_text(encoding="utf-8").splitlines():
            text = json.loads(line).get("text") or ""
            if len(text) > 200:
                out.append(text)
    return out


def fill(store: Store, bodies: list[str], n: int) -> float:
    start = time.process_time()
    day = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        body = f"{bodies[i % len(bodies)]}\n\nBài số {i}."
        art = Extracted(
            url=f"https://nguon{i % 20}.example.vn/tin/{i}.html",
            title=body.split(".")[0][:160],
            body_text=body,
            published_at=day + timedelta(hours=i),
        )
        store.upsert(f"nguon-{i % 20}", art)
    return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    bodies = texts()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        anchor_store = Store(f"sqlite:///{tmp}/anchor.sqlite")
        event.remove(anchor_store._sessions, "after_flush", search._after_flush)
        anchor = fill(anchor_store, bodies, args.articles)
        anchor_store.close()
        store = Store(f"sqlite:///{tmp}/indexed.sqlite")
        indexed = fill(store, bodies, args.articles)
        with store.engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE {search.TABLE}")
        store.close()
        start = time.process_time()
        store = Store(f"sqlite:///{tmp}/indexed.sqlite")
        migration = time.process_time() - start
        for name in ("anchor", "indexed"):  # every page in the main file, so the sizes compare
            with sqlite3.connect(f"{tmp}/{name}.sqlite") as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = Path(f"{tmp}/indexed.sqlite").stat().st_size
        anchor_size = Path(f"{tmp}/anchor.sqlite").stat().st_size
        vocabulary = [w for w in strip_accents(" ".join(bodies[:200])).split() if w.isalpha() and len(w) > 2]
        latencies, cpu, plain_cpu, found = [], [], [], []
        for i in range(args.queries):
            words = " ".join(rng.sample(vocabulary, 2 + i % 2))
            query = search.SearchQuery(words, limit=50)
            if i % 2:
                query = replace(query, sources=("nguon-1", "nguon-2", "nguon-3"))
            start, start_cpu = time.perf_counter(), time.process_time()
            found.append(len(search.search(store.engine, query)))
            latencies.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            start_cpu = time.process_time()  # the anchor: the same filters, newest 50, no words to match
            search.search(store.engine, replace(query, text=""))
            plain_cpu.append((time.process_time() - start_cpu) * 1000)
        store.close()
    latencies.sort()
    print(f"articles: {args.articles}; CPU seconds, ratio to the anchor (ingest without the index)")
    print(f"  ingest, anchor (no index)       {anchor:7.2f} s  1.00×")
    print(f"  ingest, index kept current      {indexed:7.2f} s  {indexed / anchor:.2f}×")
    print(f"  first open of an older store    {migration:7.2f} s  {migration / anchor:.2f}× (index built)")
    print(f"  store size with the index       {size / anchor_size:.2f}× the store without it")
    print(
        f"search, {args.queries} queries of 2–3 words (half with a 3-source filter), limit 50: "
        f"median {statistics.median(latencies):.1f} ms, p95 {latencies[int(len(latencies) * 0.95)]:.1f} ms, "
        f"mean hits {statistics.mean(found):.1f}"
    )
    print(
        f"  CPU a search: median {statistics.median(cpu):.1f} ms; the anchor (same filters, no words, newest 50) "
        f"{statistics.median(plain_cpu):.1f} ms: {statistics.median(cpu) / statistics.median(plain_cpu):.2f}×"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
