"""Several workers on one crawl frontier in Redis (scrapy-redis), over real HTTP on loopback and a real redis-server.

Each test starts `unionfeed crawl` twice as separate processes, with `UNIONFEED_REDIS_URL` set, over loopback news
sites that count every request they answer; the workers share one data folder (one SQLite store), as two workers on
one machine would. Slugs are new for every test, so a round left in Redis by an earlier run never meets this one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from feed.config.settings import load_settings
from feed.store.api import Store

from .support.loopback_sites import Site, serve, source_entry, write_config
from .support.redis_server import redis_url

ARTICLE = "/tin-tuc/bai-"


def worker(config: Path, data: Path, url: str, *slugs: str) -> subprocess.Popen[str]:
    """One `unionfeed crawl` worker process on the shared frontier."""
    return subprocess.Popen(
        [sys.executable, "-m", "feed.app.cli", "--config", str(config), "--data", str(data), "crawl", *slugs],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "UNIONFEED_REDIS_URL": url},
    )


def finish(process: subprocess.Popen[str], timeout: float = 90) -> tuple[int, str]:
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


def article_hits(site: Site) -> Counter[str]:
    return Counter(h.path for h in site.hits if h.path.startswith(ARTICLE) and h.status == 200)


def stored_titles(config: Path, data: Path, slug: str) -> set[str]:
    store = Store(load_settings(config, data).db_url)
    try:
        return {row.title or "" for row in store.articles() if row.source_slug == slug}
    finally:
        store.close()


def slugs(*names: str) -> list[str]:
    tag = uuid.uuid4().hex[:6]
    return [f"{name}-{tag}" for name in names]


def test_two_workers_fetch_every_article_once(tmp_path: Path) -> None:
    url = redis_url()
    names = slugs("ldld-ha-noi", "cd-det-may")
    sites = [Site(names[0], articles=14, delay=0.05), Site(names[1], articles=10, delay=0.05)]
    with serve(sites) as bases:
        config = write_config(tmp_path / "config", [source_entry(n, bases[n], max_pages=3) for n in names])
        data = tmp_path / "data"
        first, second = worker(config, data, url), worker(config, data, url)
        results = [finish(first), finish(second)]
    for code, err in results:
        assert code == 0, err[-3000:]
    for site in sites:
        hits = article_hits(site)
        assert set(hits) == {f"{ARTICLE}{n}.html" for n in range(1, site.articles + 1)}, site.name
        twice = {path: n for path, n in hits.items() if n > 1}
        assert not twice, f"{site.name}: fetched more than once by the two workers: {twice}"
        assert len(stored_titles(config, data, site.name)) == site.articles
    # The listing of each source was asked for once in the period: one worker held the lease and seeded.
    for site in sites:
        assert len([h for h in site.hits if h.path.startswith("/tin-tuc/") and not h.path.startswith(ARTICLE)]) <= 3


@pytest.mark.xfail(
    strict=True,
    reason="an article request of the killed worker is still lost (neither in the queue nor in flight): see the report",
)
def test_a_killed_worker_leaves_the_crawl_to_the_other(tmp_path: Path) -> None:
    url = redis_url()
    (name,) = slugs("ldld-da-nang")
    site = Site(name, articles=16, delay=0.25)  # slow pages: the crawl is still under way when one worker dies
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry(name, bases[name], max_pages=3)])
        data = tmp_path / "data"
        doomed, survivor = worker(config, data, url), worker(config, data, url)
        deadline = time.monotonic() + 60
        while sum(article_hits(site).values()) < 3:
            assert time.monotonic() < deadline, "the workers fetched no article"
            assert doomed.poll() is None and survivor.poll() is None, "a worker ended before any article"
            time.sleep(0.05)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        code, err = finish(survivor)
        assert code == 0, err[-3000:]
    hits = article_hits(site)
    assert set(hits) == {f"{ARTICLE}{n}.html" for n in range(1, site.articles + 1)}
    assert len(stored_titles(config, data, name)) == site.articles
    # Only what the dead worker had in flight may have been asked again.
    assert sum(hits.values()) - site.articles <= 4, hits


def test_without_redis_url_nothing_of_redis_is_imported(tmp_path: Path) -> None:
    """The frontier is opt-in: a crawl without redis_url neither imports redis nor scrapy-redis."""
    (name,) = slugs("cd-giao-duc")
    site = Site(name, articles=2)
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry(name, bases[name])])
        code = (
            "import sys\nfrom feed.app.cli import main\n"
            f"status = main(['--config', {str(config)!r}, '--data', {str(tmp_path / 'data')!r}, 'crawl'])\n"
            "assert 'redis' not in sys.modules and 'scrapy_redis' not in sys.modules, 'redis imported'\n"
            "sys.exit(status)\n"
        )
        env = {k: v for k, v in os.environ.items() if k != "UNIONFEED_REDIS_URL"}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=90)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(article_hits(site)) == 2


def test_an_unreachable_redis_stops_the_worker_with_one_line(tmp_path: Path) -> None:
    """A worker whose Redis cannot be reached does not crawl alone (it would fetch what the others fetch)."""
    pytest.importorskip("redis")
    (name,) = slugs("cd-xay-dung")
    site = Site(name, articles=2)
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry(name, bases[name])])
        process = worker(config, tmp_path / "data", "redis://127.0.0.1:1/0")
        code, err = finish(process)
    assert code != 0
    assert "the shared frontier at redis://127.0.0.1:1/0 cannot be reached" in err
    assert not site.hits
