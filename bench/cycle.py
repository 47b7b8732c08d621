"""One cycle at 1k / 10k / 100k stored articles: a crawl that finds 5 new articles on a loopback site, then publish.

    .venv/bin/python bench/cycle.py [--quick] [--sizes 1000,10000,100000] [--keep DIR]

For each size a SQLite store is filled straight away with invented Vietnamese articles (bench/publish.py's
generator, inserted in bulk, 20 sources, one in ten a copy of another outlet's story) and published once (the
first publish, every file written). Then a real `unionfeed crawl` of one loopback site with 5 new articles, then
a real `unionfeed publish`: each step runs as its own process, and the bench prints its wall time, CPU time
(user + system) and peak RSS, and the ratio of each to the same step at the smallest size. Targets: the publish
after the crawl at 100k ≤ 1.5× its cost at 1k and ≤ 300 MB peak.

In the same run, the anchor: feedgen + json.dumps writing the same feeds (all, meetings, one per kind and one per
source, entries as many as ours, Atom and RSS by feedgen, JSON Feed by json.dumps) and the same snapshot
(latest.json's articles) from the 10k store, every file fsynced, in its own process. Target: our first publish
of 10k ≤ 1.0× the anchor's CPU and ≤ 300 MiB. `--quick` runs 1k and 10k only (a few minutes).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the loopback sites live with the tests
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import insert, text  # noqa: E402
from tests.support.loopback_sites import Site, serve, source_entry, write_config  # noqa: E402

import publish as generator  # noqa: E402
from feed.store.api import Store  # noqa: E402
from feed.store.schema import ArticleRow  # noqa: E402

SOURCES = 20
NEW_ARTICLES = 5
TARGET_RATIO = 1.5
TARGET_MB = 300
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},  # imports from bytecode, as installed
    "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "scrapers")]),
}


@dataclass
class Step:
    wall: float
    cpu: float
    rss_mb: float


def run(args: list[str], log: Path) -> Step:
    """Run one process; its wall time, CPU time and peak RSS (from wait4, this child only)."""
    started = time.perf_counter()
    with log.open("ab") as out:
        child = subprocess.Popen(args, stdout=out, stderr=out, env=ENV)
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 3):
        sys.exit(f"bench/cycle.py: {' '.join(args[-3:])} exited {child.returncode}; see {log}")
    return Step(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def quick_hash(title: str | None, body: str) -> str:
    """The generator's content hash without the store's word folding (the text is invented and clean): filling
    100k articles takes seconds instead of half an hour on a loaded machine."""
    return hashlib.sha256(f"{title}\x1f{body}".encode()).hexdigest()


def fill(db: Path, count: int) -> float:
    """Insert `count` articles in bulk (no ORM, so no change numbers per row: one for all of them after)."""
    started = time.perf_counter()
    generator.content_hash = quick_hash  # type: ignore[attr-defined]
    store = Store(f"sqlite:///{db}")
    sources = generator.make_sources(SOURCES)
    rng = random.Random(7)
    now = datetime.now(UTC) - timedelta(days=3)
    rows = generator.make_rows([s.slug for s in sources], count, now, timedelta(minutes=3), rng)
    columns = [c.key for c in ArticleRow.__table__.columns]
    with store.engine.begin() as conn:
        for start in range(0, count, 5000):
            chunk = rows[start : start + 5000]
            conn.execute(insert(ArticleRow.__table__), [{c: getattr(r, c) for c in columns} for r in chunk])
        conn.execute(text("INSERT INTO change_counter (id, seq) VALUES (1, 1)"))
        conn.execute(text("INSERT INTO article_changes (article_id, seq) SELECT id, 1 FROM articles"))
    store.close()
    return time.perf_counter() - started


def config_for(folder: Path, base: str) -> Path:
    generated = "".join(
        f"  - slug: {s.slug}\n    name: '{s.name}'\n    kind: labour_federation\n    homepage: http://127.0.0.1:9/{s.slug}/\n"
        f"    discovery:\n      feeds: ['http://127.0.0.1:9/{s.slug}/rss']\n"
        for s in generator.make_sources(SOURCES)
    )
    path = write_config(folder, [source_entry("cycle", base), generated])
    return path


def cycle(size: int, work: Path) -> dict[str, Step]:
    """Fill, first publish, crawl of 5 new articles, publish; the figures of each step."""
    folder = work / f"store-{size}"
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    # Filled by a child: a process forked from a big one starts with its peak RSS (Linux carries the high-water
    # mark across fork and exec), so this driver stays small and each step's figure is its own.
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--fill", str(data / "unionfeed.sqlite"), str(size)], check=True, env=ENV)
    built = time.perf_counter() - started
    site = Site("cycle", articles=NEW_ARTICLES, start=datetime.now(UTC) - timedelta(hours=6), gap=timedelta(hours=1))
    log = folder / "steps.log"
    steps: dict[str, Step] = {}
    with serve([site]) as bases:
        config = config_for(folder / "config", bases["cycle"])
        cli = [sys.executable, "-m", "feed", "--config", str(config), "--data", str(data)]
        steps["first publish"] = run([*cli, "publish"], log)
        steps["crawl (+5)"] = run([*cli, "crawl", "cycle"], log)
        steps["publish after it"] = run([*cli, "publish"], log)
    latest = data / "public" / "snapshots" / "latest.json"
    print(
        f"{size:>7} articles: filled in {built:.1f} s; latest.json {latest.stat().st_size / 1e6:.1f} MB, "
        f"public folder {sum(p.stat().st_size for p in (data / 'public').rglob('*') if p.is_file()) / 1e6:.0f} MB",
        flush=True,
    )
    return steps


ANCHOR = r"""
import json, os, sqlite3, sys, time
from feedgen.feed import FeedGenerator
db, out, limit, window = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
con = sqlite3.connect(db)
cols = ["id", "url", "source_slug", "title", "lead", "body_text", "author", "published_at", "first_seen_at",
        "fetched_at", "content_hash", "cluster_id", "is_canonical", "meeting", "is_meeting_report", "meeting_kind",
        "image_urls", "language"]
rows = [dict(zip(cols, r)) for r in con.execute(
    f"SELECT {', '.join(cols)} FROM articles ORDER BY COALESCE(published_at, first_seen_at) DESC, id")]
def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
def feed(name, items):
    fg = FeedGenerator()
    fg.id("https://tin.example.vn/feeds/" + name)
    fg.title("unionfeed — " + name)
    fg.link(href="https://tin.example.vn/feeds/" + name + ".atom", rel="self")
    fg.description("Tin công đoàn")
    fg.language("vi")
    for r in reversed(items):
        e = fg.add_entry()
        e.id("urn:unionfeed:" + r["id"])
        e.title(r["title"] or "")
        e.link(href=r["url"])
        e.summary(r["lead"] or "")
        e.content("".join("<p>%s</p>" % p for p in r["body_text"].split("\n\n")), type="html")
        e.published(r["published_at"] + "+00:00")
        e.updated(r["first_seen_at"] + "+00:00")
    write(f"{out}/feeds/{name}.atom", fg.atom_str(pretty=False))
    write(f"{out}/feeds/{name}.rss", fg.rss_str(pretty=False))
    write(f"{out}/feeds/{name}.json", json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": name,
        "items": [{"id": r["id"], "url": r["url"], "title": r["title"], "content_html": r["body_text"],
                   "date_published": r["published_at"]} for r in items]}, ensure_ascii=False))
canon = [r for r in rows if r["is_canonical"] or not r["cluster_id"]]
feed("all", canon[:limit])
meetings = [r for r in canon if r["is_meeting_report"]]
feed("meetings", meetings[:limit])
for kind in sorted({r["meeting_kind"] for r in meetings if r["meeting_kind"]}):
    feed("kinds/" + kind, [r for r in meetings if r["meeting_kind"] == kind][:limit])
for slug in sorted({r["source_slug"] for r in rows}):
    feed("sources/" + slug, [r for r in rows if r["source_slug"] == slug][:limit])
for r in rows:
    r["meeting"] = json.loads(r["meeting"]); r["image_urls"] = json.loads(r["image_urls"])
write(f"{out}/snapshots/latest.json", json.dumps({"count": len(rows[:window]), "articles": rows[:window]},
      ensure_ascii=False))
"""


def anchor(db: Path, work: Path, window: int) -> Step:
    """feedgen + json.dumps writing the same feeds and snapshot, fsynced, in its own process."""
    out = work / "anchor"
    return run([sys.executable, "-c", ANCHOR, str(db), str(out), "200", str(window)], work / "anchor.log")


def main(argv: list[str] | None = None) -> int:
    """Run the cycles and the anchor; print the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k only")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--keep", type=Path, help="work in this folder and leave it (default: a temporary one)")
    parser.add_argument("--fill", nargs=2, metavar=("DB", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fill:
        fill(Path(args.fill[0]), int(args.fill[1]))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes = [s for s in sizes if s <= 10_000]
    work = args.keep or Path(tempfile.mkdtemp(prefix="unionfeed-cycle-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; work in {work}", flush=True)
    run([sys.executable, "-m", "feed", "--help"], work / "warm-up.log")  # bytecode written once, before any step
    from feed.publish.snapshots import WINDOW

    figures = {size: cycle(size, work) for size in sizes}
    base = figures[sizes[0]]
    print(f"\n{'size':>7} {'step':<18} {'wall s':>8} {'CPU s':>8} {'RSS MB':>8}   ratio to {sizes[0]} (wall/CPU/RSS)")
    for size, steps in figures.items():
        for name, step in steps.items():
            ref = base[name]
            print(
                f"{size:>7} {name:<18} {step.wall:8.2f} {step.cpu:8.2f} {step.rss_mb:8.0f}   "
                f"{step.wall / ref.wall:5.2f}× {step.cpu / ref.cpu:5.2f}× {step.rss_mb / ref.rss_mb:5.2f}×"
            )
    ok = True
    largest = figures[sizes[-1]]["publish after it"]
    ratio = largest.cpu / base["publish after it"].cpu
    met = ratio <= TARGET_RATIO and largest.rss_mb <= TARGET_MB
    ok &= met
    print(
        f"\npublish after a 5-article crawl at {sizes[-1]}: {ratio:.2f}× the CPU at {sizes[0]}"
        f" (target ≤ {TARGET_RATIO}×), {largest.rss_mb:.0f} MB peak (target ≤ {TARGET_MB}): "
        f"{'met' if met else 'MISSED'}"
    )
    if 10_000 in figures:
        mine = figures[10_000]["first publish"]
        theirs = anchor(work / "store-10000" / "data" / "unionfeed.sqlite", work, WINDOW)
        met = mine.cpu <= theirs.cpu and mine.rss_mb <= TARGET_MB
        ok &= met
        print(
            f"first publish of 10k: {mine.wall:.2f} s wall, {mine.cpu:.2f} s CPU, {mine.rss_mb:.0f} MB; anchor "
            f"(feedgen + json.dumps, fsync) {theirs.wall:.2f} s wall, {theirs.cpu:.2f} s CPU, {theirs.rss_mb:.0f} MB"
            f" → {mine.cpu / theirs.cpu:.2f}× its CPU (target ≤ 1.0×), {mine.rss_mb / theirs.rss_mb:.2f}× its RSS: "
            f"{'met' if met else 'MISSED'}"
        )
    print(f"peak RSS of this driver {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
