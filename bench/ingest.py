"""The crawl's store step alone: storing, indexing and clustering a crawl's pages, without Scrapy.

    .venv/bin/python bench/ingest.py [--pages 600] [--batch 50] [--repeat 3] [--before DIR]

The pages are bench/crawl.py's loopback site (invented Vietnamese union articles with a portal's menus and
footer), extracted and classified once before the clock starts (each page's verdict is handed back as it is, so
the classifier's cost is left out). Timed, CPU seconds: `feed.ingest.ingest_batch` over them in batches of
--batch into a new SQLite store (the upsert, the search index, the change log, dedup's fingerprints, index and
clusters, one transaction per batch), as the crawl's store pipeline calls it.

The anchor, in the same run: the floor of any store, Python's sqlite3 writing the same articles (id, URL, title,
body, published time) into one table with a primary key and a URL index, one transaction per batch, no dedup.
The figures are milliseconds a page (median of --repeat) and their ratio to the anchor. --before DIR measures
another checkout too (an exported main, say), each round in fresh interpreters taking turns going first, and
prints after / before.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pages(count: int) -> list[bytes]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from crawl import article_page  # the crawl benchmark's site

    return [article_page(n) for n in range(1, count + 1)]


def run_ingest(count: int, batch: int) -> float:
    """CPU ms a page of ingest_batch over the pages (extraction and classification done beforehand)."""
    import feed.ingest as ingest
    from feed.extract.article import extract
    from feed.store.api import Store

    pages = _pages(count + 1)
    articles = [
        extract(page, f"http://127.0.0.1:8000/tin-tuc/bai-{n}.html", encoding="utf-8")
        for n, page in enumerate(pages, start=1)
    ]
    verdicts = {id(a): ingest.classify_article(a) for a in articles}
    ingest.classify_article = lambda article: verdicts[id(article)]
    with tempfile.TemporaryDirectory(prefix="ingestbench-") as work:
        store = Store(f"sqlite:///{work}/store.db")
        ingest.ingest_batch(store, "warm-up", [ingest.Page(articles[-1])])  # tables, statement caches
        gc.collect()
        start = time.process_time()
        for first in range(0, count, batch):
            ingest.ingest_batch(store, "congdoan-mau", [ingest.Page(a) for a in articles[first : first + batch]])
        return 1000 * (time.process_time() - start) / count


def run_anchor(count: int, batch: int) -> float:
    """CPU ms a page of sqlite3 writing the same articles, one transaction per batch."""
    from feed.extract.article import extract

    articles = [
        extract(page, f"http://127.0.0.1:8000/tin-tuc/bai-{n}.html", encoding="utf-8")
        for n, page in enumerate(_pages(count), start=1)
    ]
    rows = [
        (f"a{n}", a.url, a.title, a.body_text, a.published_at.isoformat() if a.published_at else None)
        for n, a in enumerate(articles)
    ]
    with tempfile.TemporaryDirectory(prefix="ingestbench-") as work:
        db = sqlite3.connect(f"{work}/anchor.db")
        db.execute("CREATE TABLE articles (id TEXT PRIMARY KEY, url TEXT, title TEXT, body TEXT, published TEXT)")
        db.execute("CREATE UNIQUE INDEX articles_url ON articles (url)")
        gc.collect()
        start = time.process_time()
        for first in range(0, count, batch):
            with db:
                db.executemany("INSERT INTO articles VALUES (?, ?, ?, ?, ?)", rows[first : first + batch])
        elapsed = time.process_time() - start
        db.close()
        return 1000 * elapsed / count


def measure(kind: str, count: int, batch: int, root: Path = ROOT) -> float:
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}:{root / 'scrapers'}"}
    args = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(count), str(batch)]
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=root, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the {kind} run failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")
    return float(json.loads(lines[-1][len("RESULT ") :]))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        kind, count, batch = argv[1], int(argv[2]), int(argv[3])
        print("RESULT " + json.dumps(run_anchor(count, batch) if kind == "anchor" else run_ingest(count, batch)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another checkout, measured in every round too")
    args = parser.parse_args(argv)
    if args.before is not None and not (args.before / "src" / "feed" / "ingest.py").is_file():
        raise SystemExit(f"--before {args.before}: no src/feed/ingest.py there (give the root of a checkout)")
    figures: dict[str, list[float]] = {"anchor": [], "ingest": []}
    if args.before is not None:
        figures["before"] = []
    for round_ in range(args.repeat):
        order = ["ingest", "before"] if round_ % 2 == 0 else ["before", "ingest"]
        for kind in ["anchor", *(k for k in order if k in figures)]:
            if kind == "before":
                figures[kind].append(measure("ingest", args.pages, args.batch, root=args.before.resolve()))
            else:
                figures[kind].append(measure(kind, args.pages, args.batch))
            print(f"round {round_ + 1} {kind:>7}: {figures[kind][-1]:6.2f} ms a page (CPU)", flush=True)
    medians = {kind: statistics.median(values) for kind, values in figures.items()}
    print(
        f"medians: ingest_batch {medians['ingest']:.2f} ms a page, sqlite3 anchor {medians['anchor']:.2f} ms a page;"
        f" ingest / anchor {medians['ingest'] / medians['anchor']:.1f}x"
    )
    if "before" in medians:
        print(
            f"before {medians['before']:.2f} ms a page ({medians['before'] / medians['anchor']:.1f}x the anchor);"
            f" after / before: {medians['before'] / medians['ingest']:.2f}x as fast"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
