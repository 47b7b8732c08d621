"""Benchmark of cross-site deduplication: build time, memory, query time, precision/recall on known pairs.

    .venv/bin/python bench/dedup.py            # 100,000 articles in memory + 20,000 in a SQLite file
    .venv/bin/python bench/dedup.py --quick    # 5,000 articles (the CI quality gate runs this)

The corpus (bench/dedup_corpus.py) is generated: stories with 0-3 syndicated copies and near misses (the
same template reported by another union in the same week). Each article is added to the index the way
`assign_cluster` adds it (fingerprint, find copies, file), and matches are merged into clusters. Pairs of
one story are the positives; precision and recall are counted over all pairs of the resulting clusters.
Figures go to docs/dedup.md between the bench markers unless --no-docs or --quick is given.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import partial
from itertools import chain
from multiprocessing.pool import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dedup_corpus import FAMILIES_PER_BLOCK, generate_block  # noqa: E402 (needs the path above)
from feed.dedup.fingerprints import Fingerprint, facts_agree, fingerprint, jaccard  # noqa: E402
from feed.dedup.index import DedupIndex, MemoryBackend, SqlBackend  # noqa: E402
from feed.store.schema import create_tables  # noqa: E402

TARGETS = {"build_s": 60.0, "median_ms": 1.0, "rss_mb": 1024.0, "precision": 0.98, "recall": 0.95}
DOCS = ROOT / "docs" / "dedup.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
BATCH = 500  # articles per message to and from a fingerprint worker
BUILD_CPU: list[float] = []  # CPU seconds of each build: the machine is shared, wall time alone misleads


class Corpus:
    """Bodies kept zlib-compressed (as a store keeps them on disk), read back on demand."""

    def __init__(self) -> None:
        self.stories: list[int] = []
        self.families: list[int] = []
        self.blobs: list[bytes] = []

    def extend(self, block: list[tuple[int, int, bytes]], limit: int) -> None:
        for story, family, blob in block[: limit - len(self.blobs)]:
            self.stories.append(story)
            self.families.append(family)
            self.blobs.append(blob)

    def head(self, limit: int) -> Corpus:
        part = Corpus()
        part.stories, part.families, part.blobs = self.stories[:limit], self.families[:limit], self.blobs[:limit]
        return part

    def __len__(self) -> int:
        return len(self.blobs)

    def body(self, i: int) -> str:
        return zlib.decompress(self.blobs[i]).decode("utf-8")

    def texts(self, ids: Sequence[str]) -> Mapping[str, str]:
        return {i: self.body(int(i)) for i in ids}


def compressed_block(seed: int, block: int) -> list[tuple[int, int, bytes]]:
    """One generated block, bodies compressed (run in the worker processes)."""
    return [(a.story, a.family, zlib.compress(a.body.encode("utf-8"), 1)) for a in generate_block(seed, block)]


def fingerprint_blob(blob: bytes) -> Fingerprint:
    """Fingerprint a compressed body."""
    return fingerprint(zlib.decompress(blob).decode("utf-8"))


def fingerprint_batch(blobs: list[bytes]) -> list[Fingerprint]:
    """Fingerprint a batch (run in the worker processes: one message each way per batch, since the feeder
    and result threads of the pool compete with the index for the main process's GIL)."""
    return [fingerprint_blob(blob) for blob in blobs]


def make_corpus(n: int, seed: int, pool: Pool | None) -> Corpus:
    corpus = Corpus()
    blocks = range(n // (FAMILIES_PER_BLOCK // 2) + 2)  # more than enough: a block holds >= 400 articles
    make = partial(compressed_block, seed)
    stream = pool.imap(make, blocks) if pool else map(make, blocks)
    for block in stream:
        corpus.extend(block, n)
        if len(corpus) >= n:
            break
    return corpus


class Clusters:
    """Union-find: matches merge clusters, as assign_cluster does in the store."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pairs(counts: Counter[tuple[int, ...]]) -> int:
    return sum(c * (c - 1) // 2 for c in counts.values())


def score(corpus: Corpus, clusters: Clusters) -> dict[str, float]:
    """Pairwise precision and recall of the clusters against the stories; near-miss pairs merged."""
    predicted = [clusters.find(i) for i in range(len(corpus))]
    true_pairs = pairs(Counter((s,) for s in corpus.stories))
    found_pairs = pairs(Counter((p,) for p in predicted))
    right = pairs(Counter(zip(corpus.stories, predicted, strict=True)))
    same_family = pairs(Counter(zip(corpus.families, predicted, strict=True)))
    return {
        "true_pairs": true_pairs,
        "found_pairs": found_pairs,
        "right_pairs": right,
        "precision": right / found_pairs if found_pairs else 1.0,
        "recall": right / true_pairs if true_pairs else 1.0,
        "near_miss_merged": same_family - right,
        "near_miss_pairs": pairs(Counter((f,) for f in corpus.families)) - true_pairs,
    }


def pair_stats(corpus: Corpus, sample: int, seed: int) -> dict[str, float]:
    """Shingle Jaccard of sampled copy pairs and near-miss pairs, and how often near misses' facts agree."""
    rng = random.Random(seed)
    by_story: dict[int, list[int]] = {}
    by_family: dict[int, set[int]] = {}
    for i, (story, family) in enumerate(zip(corpus.stories, corpus.families, strict=True)):
        by_story.setdefault(story, []).append(i)
        by_family.setdefault(family, set()).add(story)
    copies = [(m[0], m[k]) for m in by_story.values() for k in range(1, len(m))]
    misses = [(by_story[a][0], by_story[b][0]) for f in by_family.values() if len(f) > 1 for a, b in [sorted(f)[:2]]]
    out: dict[str, float] = {}
    for name, chosen in (("copy", copies), ("near_miss", misses)):
        picked = rng.sample(chosen, min(sample, len(chosen)))
        values, agree = [], 0
        for a, b in picked:
            fa, fb = fingerprint(corpus.body(a)), fingerprint(corpus.body(b))
            values.append(jaccard(fa.shingles, fb.shingles))
            agree += facts_agree(fa, fb)
        values.sort()
        out[f"{name}_j_p1"] = values[max(0, len(values) // 100 - 1)] if values else 0.0
        out[f"{name}_j_median"] = statistics.median(values) if values else 0.0
        out[f"{name}_j_max"] = values[-1] if values else 0.0
        out[f"{name}_facts_agree"] = agree / len(picked) if picked else 0.0
    return out


def build(
    corpus: Corpus, index: DedupIndex, pool: Pool | None, commit: Session | None = None
) -> tuple[float, Clusters]:
    """Add articles one by one as assign_cluster does (fingerprints may come from worker processes, as they
    would from parallel crawls); returns wall seconds, and leaves main-process CPU seconds in BUILD_CPU."""
    clusters = Clusters(len(corpus))
    start, cpu = time.perf_counter(), time.process_time()
    if pool:
        batches = [corpus.blobs[i : i + BATCH] for i in range(0, len(corpus), BATCH)]
        prints: Iterable[Fingerprint] = chain.from_iterable(pool.imap(fingerprint_batch, batches))
    else:
        prints = map(fingerprint_blob, corpus.blobs)
    for i, fp in enumerate(prints):
        for match in index.add(str(i), fp):
            clusters.union(i, int(match))
        if commit is not None and i % 1000 == 999:
            commit.commit()
    if commit is not None:
        commit.commit()
    BUILD_CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start, clusters


def query_times(corpus: Corpus, index: DedupIndex, limit: int, count: int, seed: int) -> dict[str, float]:
    """Time "which stored articles copy this text?" for sampled stored articles (excluding themselves)."""
    rng = random.Random(seed)
    total: list[float] = []
    lookup: list[float] = []
    for i in rng.sample(range(limit), min(count, limit)):
        body = corpus.body(i)
        t0 = time.perf_counter()
        fp = fingerprint(body)
        t1 = time.perf_counter()
        index.find(fp, exclude=[str(i)])
        t2 = time.perf_counter()
        total.append((t2 - t0) * 1000)
        lookup.append((t2 - t1) * 1000)
    total.sort()
    lookup.sort()
    return {
        "median_ms": statistics.median(total),
        "p99_ms": total[int(len(total) * 0.99) - 1],
        "lookup_median_ms": statistics.median(lookup),
        "lookup_p99_ms": lookup[int(len(lookup) * 0.99) - 1],
    }


def run_sqlite(corpus: Corpus, queries: int, seed: int, pool: Pool | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dedup.sqlite"
        engine = create_engine(f"sqlite:///{path}")
        create_tables(engine)
        with Session(engine) as session:
            index = DedupIndex(SqlBackend(session, texts=corpus.texts))
            seconds, clusters = build(corpus, index, pool, commit=session)
            times = query_times(corpus, index, len(corpus), queries, seed)
        engine.dispose()
        size = path.stat().st_size / 2**20
    quality = score(corpus, clusters)
    return {
        "n": len(corpus),
        "build_s": seconds,
        "build_cpu_s": BUILD_CPU[-1],
        "file_mb": size,
        **times,
        "precision": quality["precision"],
        "recall": quality["recall"],
    }


def report(args: argparse.Namespace, gen_s: float, figures: dict[str, float], sql: dict[str, float] | None) -> str:
    total_mb = figures["rss_mb"] + args.workers * figures["worker_mb"]
    ok = {
        "build_s": figures["build_s"] <= TARGETS["build_s"],
        "median_ms": figures["median_ms"] <= TARGETS["median_ms"],
        "rss_mb": total_mb <= TARGETS["rss_mb"],
        "precision": figures["precision"] >= TARGETS["precision"],
        "recall": figures["recall"] >= TARGETS["recall"],
    }
    mark = {k: "meets" if v else "MISSES" for k, v in ok.items()}
    lines = [
        f"articles                 {args.n:,} (corpus generated in {gen_s:.1f} s; in-memory index built in"
        f" {'one process' if not args.workers else f'one process + {args.workers} fingerprint workers'})",
        f"stories / true pairs     {figures['stories']:,} / {figures['true_pairs']:,}",
        f"build time               {figures['build_s']:.1f} s   ({mark['build_s']} target {TARGETS['build_s']:.0f} s;"
        f" CPU {figures['build_cpu_s']:.1f} s)",
        f"peak RSS                 {figures['rss_mb']:.0f} MB"
        + (f" main + {figures['worker_mb']:.0f} MB largest worker" if args.workers else "")
        + f"  ({mark['rss_mb']} target {TARGETS['rss_mb']:.0f} MB; the compressed corpus is"
        f" {figures['corpus_mb']:.0f} MB of it)",
        f"query median / p99       {figures['median_ms']:.3f} / {figures['p99_ms']:.3f} ms"
        f"   ({mark['median_ms']} target {TARGETS['median_ms']} ms; fingerprint + look-up + verification)",
        f"look-up only median/p99  {figures['lookup_median_ms']:.3f} / {figures['lookup_p99_ms']:.3f} ms",
        f"precision                {figures['precision']:.4f}  ({mark['precision']} target {TARGETS['precision']})",
        f"recall                   {figures['recall']:.4f}  ({mark['recall']} target {TARGETS['recall']})",
        f"near-miss pairs merged   {figures['near_miss_merged']} of {figures['near_miss_pairs']:,}",
        f"copy pairs Jaccard       p1 {figures['copy_j_p1']:.2f}, median {figures['copy_j_median']:.2f}"
        f" (facts agree {figures['copy_facts_agree']:.1%})",
        f"near-miss pairs Jaccard  median {figures['near_miss_j_median']:.2f}, max {figures['near_miss_j_max']:.2f}"
        f" (facts agree {figures['near_miss_facts_agree']:.1%})",
    ]
    if sql:
        lines.append(
            f"sqlite ({sql['n']:,} articles) build {sql['build_s']:.1f} s (CPU {sql['build_cpu_s']:.1f} s),"
            f" file {sql['file_mb']:.0f} MB, "
            f"query median/p99 {sql['median_ms']:.3f}/{sql['p99_ms']:.3f} ms, precision "
            f"{sql['precision']:.4f}, recall {sql['recall']:.4f}"
        )
    return "\n".join(lines)


def write_docs(text: str, command: str) -> None:
    stamp = f"Measured {date.today().isoformat()} with `{command}` (2 shared CPU cores):"
    block = f"{START}\n{stamp}\n\n```\n{text}\n```\n{END}"
    current = DOCS.read_text(encoding="utf-8") if DOCS.exists() else f"# Deduplication\n\n{START}\n{END}\n"
    if START not in current:
        current += f"\n{START}\n{END}\n"
    head, _, rest = current.partition(START)
    _, _, tail = rest.partition(END)
    DOCS.write_text(head + block + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="articles in the corpus")
    parser.add_argument("--quick", action="store_true", help="5,000 articles, no SQLite run, no docs")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--sqlite-n", type=int, default=20_000, help="articles for the SQLite-file run (0: skip)")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="processes that fingerprint articles while the main one builds the index (default: "
        "none: one process, the way assign_cluster builds it)",
    )
    parser.add_argument("--gen-workers", type=int, default=2, help="processes that generate the corpus")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.sqlite_n, args.no_docs = 5000, 0, True

    # Workers are forked before the corpus exists, so they stay small.
    pool = Pool(args.workers) if args.workers else None
    try:
        t0 = time.perf_counter()
        if args.gen_workers:
            with Pool(args.gen_workers) as generators:
                corpus = make_corpus(args.n, args.seed, generators)
        else:
            corpus = make_corpus(args.n, args.seed, None)
        gen_s = time.perf_counter() - t0
        corpus_mb = rss_mb()
        index = DedupIndex(MemoryBackend(corpus.texts))
        build_s, clusters = build(corpus, index, pool)
        figures = {
            "build_s": build_s,
            "build_cpu_s": BUILD_CPU[-1],
            "rss_mb": rss_mb(),
            "corpus_mb": corpus_mb,
            "stories": len(set(corpus.stories)),
            **score(corpus, clusters),
            **query_times(corpus, index, len(corpus), args.queries, args.seed),
            **pair_stats(corpus, 1000, args.seed),
        }
        del index
        sql = None
        if args.sqlite_n:
            sql = run_sqlite(corpus.head(args.sqlite_n), min(args.queries, 1000), args.seed, pool)
    finally:
        if pool:
            pool.close()
            pool.join()
    figures["worker_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    text = report(args, gen_s, figures, sql)
    print(text)
    if not args.no_docs:
        command = ".venv/bin/python bench/dedup.py" + ("" if args.n == 100_000 else f" --n {args.n}")
        write_docs(text, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
