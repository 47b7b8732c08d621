"""Several workers on one crawl frontier in Redis (scrapy-redis), over real HTTP on loopback and a real redis-server.

Each worker is a crawl child forked from the crawl runner's forkserver (as the scheduler runs its crawls: Scrapy
is imported once, not once per worker) with `redis_url` set, over loopback news sites that count every request
they answer. Each worker has its own data folder (the per-source locks live there, as on two machines) and all
share one store, a SQLite file named by `database_url`. Slugs are new for
every test, so a round left in Redis by an earlier run never meets this one. The lease tests drive the frontier's
queue directly against the same Redis, in this process.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import time
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest

from feed.app.crawl_runner import CrawlOptions, ReadConfig, _crawl_child, child_context, read_config
from feed.config.settings import Settings, load_settings
from feed.store.api import Store

from .support.loopback_sites import Site, serve, source_entry, write_config
from .support.redis_server import private_redis, redis_url

ARTICLE = "/tin-tuc/bai-"


def worker(config: Path, data: Path, store: str, url: str | None, options: CrawlOptions | None = None) -> Any:
    """One crawl worker (every source of config) on the shared frontier, its own data folder, the shared store."""
    settings = replace(load_settings(config, data), redis_url=url, database_url=store)
    process = child_context().Process(
        target=_crawl_child, args=(settings, [], options or CrawlOptions(), {}, read_config(settings)), name="worker"
    )
    process.start()
    return process


def finish(process: Any, timeout: float = 60) -> int:
    process.join(timeout)
    assert process.exitcode is not None, "the worker did not finish"
    return int(process.exitcode)


def article_hits(site: Site) -> Counter[str]:
    return Counter(h.path for h in list(site.hits) if h.path.startswith(ARTICLE) and h.status == 200)


def stored(store_url: str, slug: str) -> list[str]:
    """The stored articles' URL paths of one source (one entry per stored row)."""
    store = Store(store_url)
    try:
        return [urlsplit(row.url).path for row in store.articles() if row.source_slug == slug]
    finally:
        store.close()


def slugs(*names: str) -> list[str]:
    tag = uuid.uuid4().hex[:6]
    return [f"{name}-{tag}" for name in names]


def every_article(site: Site) -> set[str]:
    return {f"{ARTICLE}{n}.html" for n in range(1, site.articles + 1)}


@pytest.mark.reliability("redis-two-workers")
def test_two_workers_fetch_every_article_once(tmp_path: Path) -> None:
    """Two workers, two sources: every article and every listing page fetched once in all, stored once."""
    url = redis_url()
    names = slugs("ldld-ha-noi", "cd-det-may")
    sites = [Site(names[0], articles=8, delay=0.02), Site(names[1], articles=6, delay=0.02)]
    store = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    with serve(sites) as bases:
        config = write_config(tmp_path / "config", [source_entry(n, bases[n], max_pages=3) for n in names])
        first, second = worker(config, tmp_path / "w1", store, url), worker(config, tmp_path / "w2", store, url)
        assert [finish(first), finish(second)] == [0, 0]
    for site in sites:
        hits = article_hits(site)
        assert set(hits) == every_article(site), site.name
        twice = {path: n for path, n in hits.items() if n > 1}
        assert not twice, f"{site.name}: fetched more than once by the two workers: {twice}"
        assert sorted(stored(store, site.name)) == sorted(every_article(site))
        # One worker held the period's lease and seeded: each listing page was asked for once in all.
        listing = Counter(h.path for h in site.hits if h.path.startswith("/tin-tuc/") and h.path not in hits)
        assert listing and set(listing.values()) == {1}, listing


@pytest.mark.reliability("redis-lease-until-stored")
def test_an_article_keeps_its_lease_until_it_is_stored(tmp_path: Path) -> None:
    """Each article's request is still leased when the store has written it (a probe pipeline after the store).

    Scrapy hands a callback's items to the pipeline concurrently with reading the rest of its output; a lease
    given back at the end of the output came before the store, so a worker killed in between lost the article
    for the round (seen once in CI: one of twelve articles never stored).
    """
    import redis

    from .support.lease_probe import PROBE_FILE

    url = redis_url()
    (name,) = slugs("cd-xay-dung")
    site = Site(name, articles=5, delay=0.02)
    probe = tmp_path / "probe.txt"
    store = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    pipelines = {"unionfeed_scrapers.pipelines.StorePipeline": 300, "tests.support.lease_probe.LeaseProbe": 310}
    options = CrawlOptions(extra=(("ITEM_PIPELINES", pipelines), (PROBE_FILE, str(probe))))
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry(name, bases[name], max_pages=3)])
        assert finish(worker(config, tmp_path / "w1", store, url, options)) == 0
    seen = dict(line.split() for line in probe.read_text(encoding="utf-8").splitlines())
    assert set(seen) == every_article(site)
    assert set(seen.values()) == {"held"}, seen
    assert sorted(stored(store, name)) == sorted(every_article(site))
    rounds = redis.Redis.from_url(url).get(f"unionfeed:frontier:{name}:round")
    assert rounds and redis.Redis.from_url(url).hlen(f"unionfeed:frontier:{name}:{rounds.decode()}:inflight") == 0


def leases_of(client: Any, prefix: str, pid: int) -> set[str]:
    """URL paths of the requests leased (in flight) to the worker process pid in the round under prefix."""
    out = set()
    for value in client.hgetall(f"{prefix}:inflight").values():
        holder, _, data = value.partition(b"\n")
        if f":{pid}:" in holder.decode():
            out.add(urlsplit(pickle.loads(data)["url"]).path)
    return out


@pytest.mark.reliability("redis-worker-killed")
def test_a_killed_worker_leaves_the_crawl_to_the_other(tmp_path: Path) -> None:
    """A worker SIGKILLed while it holds a leased article request: the other finishes the crawl alone.

    What is asserted, with K the article requests leased to the killed worker when it died (read from Redis once it
    is dead): every article is stored exactly once; an article outside K was fetched exactly once in all; an
    article in K was fetched again after the kill (so at most twice: once more if the killed worker had reached
    the server with it); and the survivor says it put K's requests back.
    """
    import redis

    url = redis_url()
    client = redis.Redis.from_url(url)
    (name,) = slugs("ldld-da-nang")
    # The kill must land while the doomed worker holds an article lease. On a starved machine a worker can end
    # before that moment; then the precondition, not the property, failed: start over with a fresh site, store and
    # round (at most three times).
    for attempt in range(3):
        for key in client.scan_iter(f"unionfeed:frontier:{name}*"):
            client.delete(key)
        # Slow pages, so the crawl is still under way when one worker dies; 3 listing pages of 5 hold them all.
        site = Site(name, articles=15, delay=0.3)
        store = f"sqlite:///{tmp_path / f'shared-{attempt}.sqlite'}"
        with serve([site]) as bases:
            config = write_config(tmp_path / f"config-{attempt}", [source_entry(name, bases[name], max_pages=3)])
            doomed = worker(config, tmp_path / f"w1-{attempt}", store, url)
            survivor = worker(config, tmp_path / f"w2-{attempt}", store, url)
            deadline = time.monotonic() + 40
            prefix = ""
            while doomed.is_alive() and survivor.is_alive():  # until the doomed worker holds an article lease
                assert time.monotonic() < deadline, "the doomed worker never held an article request"
                rounds = client.get(f"unionfeed:frontier:{name}:round")
                prefix = f"unionfeed:frontier:{name}:{rounds.decode()}" if rounds else ""
                held = leases_of(client, prefix, doomed.pid) if prefix else set()
                both_in = bool(prefix) and client.scard(f"{prefix}:workers") >= 2  # the survivor has joined
                if both_in and sum(article_hits(site).values()) >= 2 and any(p.startswith(ARTICLE) for p in held):
                    break
                time.sleep(0.02)
            if not (doomed.is_alive() and survivor.is_alive()):
                for process in (doomed, survivor):
                    process.kill()
                    process.join(10)
                continue
            doomed.kill()  # SIGKILL
            doomed.join(10)
            assert doomed.exitcode == -signal.SIGKILL
            in_flight = {p for p in leases_of(client, prefix, doomed.pid) if p.startswith(ARTICLE)}
            before = article_hits(site)
            assert finish(survivor) == 0
        break
    else:
        pytest.fail("three times a worker ended before it could be killed holding an article lease")
    assert in_flight, "the killed worker held no article request"
    hits = article_hits(site)
    missing = every_article(site) - set(stored(store, name))
    assert not missing, f"not stored: {missing}; in flight at the kill: {in_flight}; fetched: {hits}; before: {before}"
    assert sorted(stored(store, name)) == sorted(every_article(site))
    assert set(hits) == every_article(site)
    once = {path: n for path, n in hits.items() if path not in in_flight and n != 1}
    assert not once, f"fetched more than once though not in flight at the kill: {once} (in flight: {in_flight})"
    again = {path for path in in_flight if hits[path] - before[path] >= 1 and hits[path] <= 2}
    assert again == in_flight, (in_flight, hits, before)
    assert client.hlen(f"{prefix}:inflight") == 0  # nothing left leased: the dead worker's leases were put back


@pytest.mark.reliability("redis-lease-steps")
def test_a_taken_request_is_leased_and_a_dead_workers_lease_goes_back(tmp_path: Path) -> None:
    """The queue's steps against a real Redis: take = lease, duplicate check + queue = one step, reclaim once."""
    import redis
    from scrapy import Request
    from scrapy.settings import Settings as ScrapySettings

    from unionfeed_scrapers.frontier import (
        RECLAIM,
        ROUND_KEY,
        TOKEN,
        WORKER_KEY,
        FrontierExtension,
        InflightQueue,
        heartbeat_key,
    )

    url = redis_url()
    client = redis.Redis.from_url(url)
    (name,) = slugs("cd-cao-su")
    prefix = f"unionfeed:frontier:{name}:r1"

    def queue_of(worker_name: str) -> InflightQueue:
        settings = ScrapySettings({ROUND_KEY: prefix, WORKER_KEY: worker_name})
        spider = SimpleNamespace(crawler=SimpleNamespace(settings=settings), name=name)
        return InflightQueue(client, spider, f"{prefix}:requests")

    alive, dead = queue_of(f"may-a:{os.getpid()}:1"), queue_of("may-b:999999:2")
    seen = f"{prefix}:dupefilter"
    first = Request("http://127.0.0.1:9/tin-tuc/bai-1.html")
    assert alive.push(first, "fp-1", seen) is True
    assert alive.push(Request("http://127.0.0.1:9/tin-tuc/bai-1.html"), "fp-1", seen) is False  # duplicate
    assert dead.push(Request("http://127.0.0.1:9/tin-tuc/bai-2.html"), "fp-2", seen) is True
    taken_by_dead = dead.pop()
    taken_by_alive = alive.pop()
    assert {taken_by_dead.url, taken_by_alive.url} == {first.url, "http://127.0.0.1:9/tin-tuc/bai-2.html"}
    assert alive.pop() is None and len(alive) == 0  # both taken: neither in the queue, both leased
    assert client.hlen(f"{prefix}:inflight") == 2
    # A retry of the alive worker's request is queued and its lease released in one step.
    retry = taken_by_alive.replace(dont_filter=True)
    assert retry.meta[TOKEN]
    assert alive.push(retry) is True and client.hlen(f"{prefix}:inflight") == 1 and len(alive) == 1
    # The dead worker has no heartbeat key: a live worker puts its lease back, once however many try.
    client.set(heartbeat_key(prefix, alive.worker), b"1", ex=5)
    extension = object.__new__(FrontierExtension)
    extension.client, extension.prefix, extension.worker = client, prefix, alive.worker
    extension.reclaim_script = client.register_script(RECLAIM)
    extension.crawler = SimpleNamespace(spider=None, stats=SimpleNamespace(inc_value=lambda *a, **k: None))
    assert extension.reclaim() == set() and extension.reclaim() == set()
    assert client.hlen(f"{prefix}:inflight") == 0 and len(alive) == 2
    assert {alive.pop().url, alive.pop().url} == {retry.url, taken_by_dead.url}  # the retry, and the dead one's
    client.delete(*client.keys(f"{prefix}:*"))


def test_a_source_is_polled_once_per_period_however_many_workers_ask() -> None:
    """The period's round: the first worker seeds it, every later one in the period joins it; then a new one."""
    import redis

    from unionfeed_scrapers.frontier import join_round

    client = redis.Redis.from_url(redis_url())
    (name,) = slugs("cd-thuy-san")
    first, seeds = join_round(client, name, 1)
    assert seeds is True
    assert [join_round(client, name, 1) for _ in range(3)] == [(first, False)] * 3
    client.pexpire(f"unionfeed:frontier:{name}:round", 1)  # the period ends (without waiting a second for it)
    time.sleep(0.01)
    second, seeds = join_round(client, name, 1)
    assert seeds is True and second != first
    client.delete(f"unionfeed:frontier:{name}:round")


def crawl_and_tell_imports(settings: Settings, config: ReadConfig) -> None:
    """A crawl child's target: crawl, then exit 0 if neither redis nor scrapy-redis was imported, else 3."""
    try:
        _crawl_child(settings, [], CrawlOptions(), {}, config)  # the scheduler's crawl child: ends in sys.exit
    except SystemExit as done:
        if done.code not in (0, None):
            raise
    sys.exit(3 if {"redis", "scrapy_redis"} & set(sys.modules) else 0)


def test_without_redis_url_nothing_of_redis_is_imported(tmp_path: Path) -> None:
    """The frontier is opt-in: a crawl without redis_url neither imports redis nor scrapy-redis (exit 3 if it did)."""
    (name,) = slugs("cd-giao-duc")
    site = Site(name, articles=1)
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry(name, bases[name])])
        settings = load_settings(config, tmp_path / "data")
        assert settings.redis_url is None
        process = child_context().Process(target=crawl_and_tell_imports, args=(settings, read_config(settings)))
        process.start()
        assert finish(process) == 0
    assert len(article_hits(site)) == 1


@pytest.mark.reliability("redis-unreachable")
def test_an_unreachable_redis_stops_the_worker_with_one_line(tmp_path: Path, monkeypatch: Any) -> None:
    """A worker whose Redis cannot be reached does not crawl alone (it would fetch what the others fetch)."""
    pytest.importorskip("redis")
    from feed.app.cli import main

    (name,) = slugs("cd-xay-dung")
    site = Site(name, articles=2)
    with serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry(name, bases[name])])
        monkeypatch.setenv("UNIONFEED_REDIS_URL", "redis://127.0.0.1:1/0")
        with pytest.raises(SystemExit) as stopped:
            main(["--config", str(config), "--data", str(tmp_path / "data"), "crawl"])
    message = str(stopped.value.code)
    assert message.startswith("unionfeed crawl: the shared frontier at redis://127.0.0.1:1/0 cannot be reached")
    assert "\n" not in message  # one line; Python prints it to stderr and exits with status 1
    assert not site.hits


@pytest.mark.reliability("redis-lost-mid-crawl")
def test_redis_lost_mid_crawl_stops_the_worker(tmp_path: Path) -> None:
    """Redis shut down while a worker crawls: the worker stops (exit 1, one line) instead of going on alone."""
    (name,) = slugs("cd-dien-luc")
    site = Site(name, articles=10, delay=0.3)
    with private_redis() as (url, client), serve([site]) as bases:
        config = write_config(tmp_path / "config", [source_entry(name, bases[name], max_pages=2)])
        crawl = worker(config, tmp_path / "w1", f"sqlite:///{tmp_path / 'shared.sqlite'}", url)
        deadline = time.monotonic() + 40
        while sum(article_hits(site).values()) < 2:
            assert time.monotonic() < deadline and crawl.is_alive(), "the worker fetched no article"
            time.sleep(0.02)
        client.shutdown(nosave=True)
        assert finish(crawl, timeout=30) == 1
        fetched = sum(article_hits(site).values())
        time.sleep(0.5)
        assert sum(article_hits(site).values()) == fetched  # nothing fetched after it stopped
    assert fetched < site.articles, "the worker went on without the frontier"
