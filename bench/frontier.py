"""What one machine crawls at today's politeness, and what a second worker on a shared Redis frontier adds.

    .venv/bin/python bench/frontier.py [--sources 16] [--articles 6] [--redis-url redis://...]

Serves --sources news sites, each on a loopback address of its own (127.0.0.2, 127.0.0.3, ...: politeness is
per host, so each is a separate domain), each with --articles new articles (a first poll: listing pages, robots.txt
and every article fetched). Crawls all of them with the project's default politeness (download_delay 1 s,
autothrottle, 2 requests at a time per domain, robots.txt obeyed), as forked crawl children like the scheduler's,
three ways on fresh stores: one worker alone (the anchor: what runs today), one worker on the Redis frontier,
two workers on one Redis frontier (each with its own data folder, one shared SQLite store). Prints, for each, the
wall time of the poll of every source, sources per hour (sources x 3600 / wall), that figure as a ratio to the
anchor of the same run, requests answered, and articles fetched more than once (must be 0) and stored.

Without --redis-url it starts Debian's redis-server on a free loopback port (no persistence) and stops it after.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the loopback sites live with the tests

from tests.support.loopback_sites import Site, handler_for, source_entry  # noqa: E402

from feed.app.crawl_runner import CrawlOptions, _crawl_child, child_context, read_config  # noqa: E402
from feed.config.settings import load_settings  # noqa: E402
from feed.store.api import Store  # noqa: E402

ARTICLE = "/tin-tuc/bai-"


@contextmanager
def serve_apart(sites: list[Site]) -> Iterator[dict[str, str]]:
    """Each site on 127.0.0.<2+i>, a host of its own; yields site name -> base URL."""
    servers = []
    try:
        for number, site in enumerate(sites):
            server = ThreadingHTTPServer((f"127.0.0.{2 + number}", 0), handler_for(site))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
        yield {
            s.name: f"http://{v.server_address[0]}:{v.server_address[1]}" for s, v in zip(sites, servers, strict=True)
        }
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@contextmanager
def redis_server(url: str | None) -> Iterator[str]:
    """url, or a redis-server of our own on a free loopback port for the run."""
    if url:
        yield url
        return
    if shutil.which("redis-server") is None:
        sys.exit("bench/frontier.py: no redis-server on PATH (apt-get install redis-server) and no --redis-url")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def run(folder: Path, articles: int, count: int, workers: int, url: str | None) -> dict[str, float]:
    tag = uuid.uuid4().hex[:6]
    sites = [Site(f"cd-tinh-{n}-{tag}", articles=articles) for n in range(count)]
    store = f"sqlite:///{folder / 'shared.sqlite'}"
    with serve_apart(sites) as bases:
        config = folder / "config"
        config.mkdir(parents=True)
        # Today's politeness: the defaults (no politeness block); only the crawl's time limit is set.
        (config / "settings.yaml").write_text("crawl_time_limit: 900\n", encoding="utf-8")
        entries = "".join(source_entry(s.name, bases[s.name], max_pages=5) for s in sites)
        (config / "sources.yaml").write_text(f"version: 1\nsources:\n{entries}", encoding="utf-8")
        children = []
        started = time.monotonic()
        for number in range(workers):
            settings = replace(
                load_settings(config / "sources.yaml", folder / f"w{number}"), redis_url=url, database_url=store
            )
            child = child_context().Process(
                target=_crawl_child, args=(settings, [], CrawlOptions(), {}, read_config(settings))
            )
            child.start()
            children.append(child)
        for child in children:
            child.join()
        wall = time.monotonic() - started
        codes = [child.exitcode for child in children]
    if codes != [0] * workers:
        sys.exit(f"bench/frontier.py: a worker exited with {codes}")
    hits = Counter((s.name, h.path) for s in sites for h in s.hits if h.path.startswith(ARTICLE) and h.status == 200)
    db = Store(store)
    try:
        stored = len(db.articles())
    finally:
        db.close()
    return {
        "wall": wall,
        "per_hour": count * 3600 / wall,
        "requests": sum(len(s.hits) for s in sites),
        "twice": sum(1 for n in hits.values() if n > 1),
        "missing": count * articles - len(hits),
        "stored": stored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=16)
    parser.add_argument("--articles", type=int, default=6)
    parser.add_argument("--redis-url")
    args = parser.parse_args()
    child_context().Process(target=int).start()  # start the forkserver (Scrapy imported) outside the timings
    with redis_server(args.redis_url) as url, tempfile.TemporaryDirectory(prefix="unionfeed-frontier-") as tmp:
        rows = [
            ("1 worker, no Redis (anchor)", run(Path(tmp, "a"), args.articles, args.sources, 1, None)),
            ("1 worker, Redis frontier", run(Path(tmp, "b"), args.articles, args.sources, 1, url)),
            ("2 workers, one Redis frontier", run(Path(tmp, "c"), args.articles, args.sources, 2, url)),
        ]
    anchor = rows[0][1]["per_hour"]
    print(f"{args.sources} sources x {args.articles} new articles, default politeness, a host per source")
    print(f"{'':32} {'wall s':>7} {'sources/h':>10} {'ratio':>6} {'requests':>9} {'twice':>6} {'stored':>7}")
    for label, row in rows:
        print(
            f"{label:32} {row['wall']:7.1f} {row['per_hour']:10.0f} {row['per_hour'] / anchor:6.2f} "
            f"{row['requests']:9.0f} {row['twice']:6.0f} {row['stored']:7.0f}"
        )
        if row["missing"] or row["twice"]:
            sys.exit(f"bench/frontier.py: {label}: {row['missing']:.0f} articles missing, {row['twice']:.0f} twice")


if __name__ == "__main__":
    main()
