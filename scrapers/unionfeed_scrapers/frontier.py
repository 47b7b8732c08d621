"""A crawl frontier shared by several workers through Redis (scrapy-redis), when `redis_url` is set.

Without `redis_url` nothing here is imported and every crawl keeps its own in-memory queue, as before.

With it, each source's crawl in a period is one *round* shared by every worker that crawls that source:

- **The period's round** (`join_round`): the first worker to crawl a source in a period creates the round
  (`SET unionfeed:frontier:<slug>:round <id> NX EX <interval>`) and alone asks for the start pages; a worker
  that comes while the round lives joins it and takes requests from the shared queue, starting nothing itself.
  A source is so polled once per period however many workers run.
- **The queue and the duplicate filter** are scrapy-redis's, under the round's own keys, so a URL is fetched by
  one worker once in the round, and the next period starts clean (the keys expire).
- **Leases** (`InflightQueue`): taking a request from the queue moves it, in one Lua step, into the round's
  in-flight hash under the worker that took it; the lease is released once the response has been handled (its
  article out of the item pipeline, so stored; the requests it led to queued: `FrontierSpiderMiddleware`), once
  its download finally failed (`LeaseRelease`), or once a retry or redirect of it is queued (in the same step).
  A new request is checked against the duplicate filter and queued in one step too, so a worker killed at any
  instant leaves every request in the queue, leased, or done. Every worker keeps a heartbeat key (`HEARTBEAT_TTL`
  seconds) alive; each live worker, at every beat and when idle, puts the leases of workers whose key has expired
  back in the queue (`FrontierExtension.reclaim`, one Lua step): the crawl finishes without the dead one, and only
  what it had leased is fetched again. A worker stays open while another live worker still holds leases or is still
  seeding, since those may add more.
- **Politeness per domain** (`SharedPoliteness`): every request first reserves a moment on its host's Redis
  clock, `download_delay` after the one reserved before it by any worker, and waits for it; Scrapy's own
  per-domain slot then applies as before within each worker. Concurrency per domain
  (`concurrent_per_domain`) and Retry-After waits stay per worker.

What is *not* shared: the store is each worker's `database_url` (point them at one PostgreSQL server, or one
SQLite file on one machine), robots.txt is read by each worker, autothrottle's estimate is each worker's, and the
known-article set is read from the store when a worker's crawl starts. The shared clock is waited for before
Scrapy's own per-domain delay, so within one worker the two partly add up (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

log = logging.getLogger(__name__)

ROUND_KEY = "UNIONFEED_FRONTIER_ROUND"  # the round's key prefix, unionfeed:frontier:<slug>:<round id>
SEED_KEY = "UNIONFEED_FRONTIER_SEED"  # true for the worker that holds the period's lease
WORKER_KEY = "UNIONFEED_FRONTIER_WORKER"  # this worker's id (host:pid:random)
TTL_KEY = "UNIONFEED_FRONTIER_TTL"  # seconds the round's keys outlive the last worker that closes it
HEARTBEAT_SECONDS = 1.0
HEARTBEAT_TTL = 5  # a worker whose heartbeat is this old is dead: its requests in flight go back to the queue
IDLE_RECHECK = 0.5  # seconds between looks at the shared queue while waiting for other workers (Scrapy: 5)
LOST = "unionfeed/frontier_lost"  # crawl stat: why the frontier was lost mid-crawl
TOKEN = "unionfeed_frontier_token"  # request meta: the request's field in the round's in-flight hash


class FrontierUnavailable(RuntimeError):
    """Redis cannot be reached or refused a command: the crawl stops at its start with this one line."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def connect(url: str) -> Any:
    """A Redis client for url that answers, or FrontierUnavailable naming the URL and the cause."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise FrontierUnavailable(f"the shared frontier at {url} cannot be reached: {exc}") from None
    return client


def round_prefix(slug: str, round_id: str) -> str:
    return f"unionfeed:frontier:{slug}:{round_id}"


def join_round(client: Any, slug: str, period_seconds: int) -> tuple[str, bool]:
    """(the source's round id in this period, True when this worker created it and so seeds it)."""
    key = f"unionfeed:frontier:{slug}:round"
    fresh = uuid.uuid4().hex[:12]
    if client.set(key, fresh, nx=True, ex=max(1, period_seconds)):
        return fresh, True
    current = client.get(key)
    if current is None:  # expired between the two commands: the period is over, take the next one
        return join_round(client, slug, period_seconds)
    return current.decode() if isinstance(current, bytes) else str(current), False


def scrapy_settings(url: str, slug: str, round_id: str, seed: bool, worker: str, ttl: int) -> dict[str, Any]:
    """The Scrapy settings of one source's crawl on the shared frontier."""
    prefix = round_prefix(slug, round_id).replace("%", "%%")  # scrapy-redis formats keys with %(spider)s
    return {
        "SCHEDULER": "unionfeed_scrapers.frontier.FrontierScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "unionfeed_scrapers.frontier.InflightQueue",
        "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
        "SCHEDULER_PERSIST": True,  # the other workers still use the queue when this one closes
        "REDIS_URL": url,
        ROUND_KEY: round_prefix(slug, round_id),
        SEED_KEY: seed,
        WORKER_KEY: worker,
        TTL_KEY: ttl,
    }


def heartbeat_key(prefix: str, worker: str) -> str:
    """The key a worker keeps alive while it works on the round under prefix (one per round: a worker that
    finished one source's round no longer vouches for its leases in another)."""
    return f"{prefix}:alive:{worker}"


# A request leaves the queue and enters the in-flight hash, tagged with the worker that took it, in one step:
# a worker killed at any moment leaves each request either in the queue or leased to it, never nowhere.
POP_AND_LEASE = """
local taken = redis.call('ZRANGE', KEYS[1], 0, 0)
if #taken == 0 then return false end
redis.call('ZREM', KEYS[1], taken[1])
local token = redis.sha1hex(taken[1])
redis.call('HSET', KEYS[2], token, ARGV[1] .. '\\n' .. taken[1])
return {token, taken[1]}
"""
# A new request is recorded in the duplicate filter and queued in one step (a worker killed between the two would
# leave a URL marked seen that nobody will fetch); a request that is a retry or redirect of a leased one (it
# carries the lease's token, ARGV[3]) is queued and that lease released in the same step.
PUSH = """
if ARGV[4] ~= '' and redis.call('SADD', KEYS[2], ARGV[4]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HDEL', KEYS[3], ARGV[3]) end
return 1
"""
# Leases of workers whose heartbeat key has expired go back to the queue, each in one step, so two live workers
# doing this at once put each back once; returns {requests put back, live workers that still hold leases...}.
RECLAIM = """
local back = 0
local live = {}
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local value = entries[i + 1]
  local cut = string.find(value, '\\n', 1, true)
  local holder = string.sub(value, 1, cut - 1)
  if holder ~= ARGV[1] then
    if redis.call('EXISTS', ARGV[2] .. holder) == 0 then
      redis.call('HDEL', KEYS[1], entries[i])
      redis.call('ZADD', KEYS[2], 0, string.sub(value, cut + 1))
      back = back + 1
    else
      live[holder] = true
    end
  end
end
local out = {back}
for holder in pairs(live) do table.insert(out, holder) end
return out
"""


class InflightQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop leases the request to this worker (the in-flight hash).

    The lease is released when the request's response has been handled (`FrontierSpiderMiddleware.let_go`), when
    its download finally failed (`LeaseRelease`), when a retry or redirect of it is queued (`push`), or, for
    anything else that ended without a response, when this worker goes idle; a dead worker's leases are put back
    by the others (`FrontierExtension.reclaim`).
    """

    def __init__(self, server: Any, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        settings = spider.crawler.settings
        self.inflight = f"{settings.get(ROUND_KEY)}:inflight"
        self.worker = settings.get(WORKER_KEY)
        self._pop = server.register_script(POP_AND_LEASE)
        self._push = server.register_script(PUSH)

    def push(self, request: Any, fingerprint: str = "", seen_key: str = "") -> bool:
        """Queue request, unless fingerprint is given and already in the set seen_key: False for a duplicate."""
        leased = request.meta.pop(TOKEN, "")  # the queued copy gets a lease of its own when it is taken
        data = self._encode_request(request)
        keys = [self.key, seen_key or f"{self.key}:unused", self.inflight]
        return bool(self._push(keys=keys, args=[-request.priority, data, leased, fingerprint]))

    def pop(self, timeout: int = 0) -> Any:
        taken = self._pop(keys=[self.key, self.inflight], args=[self.worker])
        if not taken:
            return None
        token, data = taken
        request = self._decode_request(data)
        request.meta[TOKEN] = token.decode() if isinstance(token, bytes) else str(token)
        return request


class FrontierScheduler(Scheduler):
    """scrapy-redis's scheduler whose duplicate check and push are one Redis step (`InflightQueue.push`).

    When Redis fails under it mid-crawl, the crawl stops (`LOST`, then `lost_frontier` turns it into the crawl's
    one-line error and exit status): a worker never goes on alone without the frontier it was told to share.
    """

    crawler: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierScheduler:
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        return instance

    def enqueue_request(self, request: Any) -> bool:
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        try:
            queued = self.queue.push(request, fingerprint, self.df.key)
        except Exception as exc:  # redis.RedisError and its kin: the frontier is gone
            self.lost(exc)
            return False
        if not queued:
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Any:
        try:
            request = self.queue.pop(self.idle_before_close)
        except Exception as exc:
            self.lost(exc)
            return None
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        try:
            return len(self) > 0
        except Exception as exc:
            self.lost(exc)
            return False

    def lost(self, exc: BaseException) -> None:
        """Record the loss once and stop this crawl (what is stored stays; the others put back its leases)."""
        if self.stats is None or self.stats.get_value(LOST):
            return
        url = self.crawler.settings.get("REDIS_URL") if self.crawler is not None else "?"
        message = f"the shared frontier at {url} was lost mid-crawl: {exc}"
        self.stats.set_value(LOST, message)
        log.error("%s", message, extra={"event": "frontier_lost"})
        if self.crawler is not None:
            from twisted.internet import reactor

            reactor.callLater(0, self.crawler.stop)  # type: ignore[arg-type, unused-ignore]


def lost_frontier(stats: Iterable[Any]) -> str | None:
    """The first crawl's lost-frontier message among these crawlers' stats, or None."""
    for one in stats:
        if one is not None and one.get_value(LOST):
            return str(one.get_value(LOST))
    return None


class LeaseRelease:
    """A request whose download finally failed (retries spent, refused by robots.txt or the boundary) is done."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        if not settings.get(ROUND_KEY):
            raise NotConfigured
        self.inflight = f"{settings.get(ROUND_KEY)}:inflight"
        self.client = connect(settings.get("REDIS_URL"))

    @classmethod
    def from_crawler(cls, crawler: Any) -> LeaseRelease:
        return cls(crawler)

    def process_exception(self, request: Any, exception: BaseException, spider: Any = None) -> None:
        token = request.meta.get(TOKEN)
        if token:
            self.client.hdel(self.inflight, token)


class FrontierExtension:
    """Heartbeat, hand-back of dead workers' requests, staying open while others may add work, and cleanup."""

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        if not settings.get(ROUND_KEY):
            raise NotConfigured
        self.crawler = crawler
        self.prefix = settings.get(ROUND_KEY)
        self.worker = settings.get(WORKER_KEY)
        self.ttl = settings.getint(TTL_KEY, 3600)
        self.client = connect(settings.get("REDIS_URL"))
        self.beat: Any = None
        self.beating = threading.Event()
        self.requeued = False
        self.reclaim_script = self.client.register_script(RECLAIM)
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.idle, signal=signals.spider_idle)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierExtension:
        return cls(crawler)

    def opened(self, spider: Any) -> None:
        from twisted.internet import task

        self.client.set(heartbeat_key(self.prefix, self.worker), b"1", ex=HEARTBEAT_TTL)
        self.client.sadd(f"{self.prefix}:workers", self.worker)
        # The heartbeat beats from a thread of its own, so a reactor busy for a while (a long parse, a loaded
        # machine) does not pass for a dead worker; only a process that is gone (or frozen) stops it.
        threading.Thread(target=self.heartbeat, name="frontier-heartbeat", daemon=True).start()
        self.beat = task.LoopingCall(self.reclaim)
        self.beat.start(HEARTBEAT_SECONDS, now=False)

    def heartbeat(self) -> None:
        """Keep this worker's key alive until the spider closes (a thread of its own, its own connection)."""
        client = connect(self.crawler.settings.get("REDIS_URL"))
        key = heartbeat_key(self.prefix, self.worker)
        while not self.beating.wait(HEARTBEAT_SECONDS):
            try:
                client.set(key, b"1", ex=HEARTBEAT_TTL)
            except Exception as exc:  # Redis gone for a moment: the next beat tries again
                log.warning("frontier heartbeat failed: %s", exc, extra={"event": "frontier_heartbeat_failed"})
        client.close()

    def alive(self, worker: str) -> bool:
        return worker == self.worker or bool(self.client.exists(heartbeat_key(self.prefix, worker)))

    def reclaim(self) -> set[str]:
        """Put dead workers' leases back in the queue; returns the live other workers that still hold leases."""
        out = self.reclaim_script(
            keys=[f"{self.prefix}:inflight", f"{self.prefix}:requests"],
            args=[self.worker, heartbeat_key(self.prefix, "")],
        )
        returned, live = int(out[0]), {w.decode() if isinstance(w, bytes) else str(w) for w in out[1:]}
        if returned:
            slug = self.crawler.spider.source.slug if self.crawler.spider is not None else "?"
            log.warning(
                "%s: %d request(s) of a worker that stopped put back in the shared queue",
                slug,
                returned,
                extra={"event": "frontier_requeued", "source": slug, "requests": returned},
            )
            self.crawler.stats.inc_value("unionfeed/frontier_requeued", returned)
            self.requeued = True
        return live

    def idle(self, spider: Any) -> None:
        """Nothing left here: take back dead workers' requests, wait for live ones that may add more, or close."""
        inflight = f"{self.prefix}:inflight"
        # Idle: no request of this worker is downloading or being handled, so a lease still marked ours belongs to
        # a request that ended on a path that did not release it (it was dropped, or its errback raised).
        for token, value in self.client.hgetall(inflight).items():
            if value.partition(b"\n")[0].decode() == self.worker:
                self.client.hdel(inflight, token)
        self.requeued = False
        waiting_on = self.reclaim()
        seeder = self.client.get(f"{self.prefix}:seeding")
        seeding = seeder is not None and seeder.decode() != self.worker and self.alive(seeder.decode())
        if self.requeued or seeding or waiting_on:
            self.look_again_soon()
            raise DontCloseSpider

    def look_again_soon(self) -> None:
        """Ask the engine to look at the shared queue (and so come back here) in IDLE_RECHECK seconds, not 5."""
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule(IDLE_RECHECK)

    def closed(self, spider: Any, reason: str) -> None:
        self.beating.set()
        if self.beat is not None and self.beat.running:
            self.beat.stop()
        inflight = f"{self.prefix}:inflight"
        for token, value in self.client.hgetall(inflight).items():
            if value.partition(b"\n")[0].decode() == self.worker:
                self.client.hdel(inflight, token)
        self.client.srem(f"{self.prefix}:workers", self.worker)
        self.client.delete(heartbeat_key(self.prefix, self.worker))
        for suffix in ("requests", "dupefilter", "inflight", "workers", "seeding"):
            self.client.expire(f"{self.prefix}:{suffix}", self.ttl)


class FrontierSpiderMiddleware:
    """Only the lease holder seeds the round; a response's request leaves the in-flight hash once its output is in.

    "In" means: the requests it led to are in the shared queue, and every item it yielded has left the item
    pipeline (Scrapy's item_scraped, item_dropped or item_error: on the shared frontier the store writes each
    article as it comes, so an article that left the pipeline is stored). Scrapy hands items to the pipeline
    concurrently with the rest of the callback's output, so the end of the output alone is not enough: a lease
    given back then, by a worker killed before the store wrote the article, would lose that article for the round.
    """

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        if not settings.get(ROUND_KEY):
            raise NotConfigured
        self.prefix = settings.get(ROUND_KEY)
        self.seed = settings.getbool(SEED_KEY)
        self.worker = settings.get(WORKER_KEY)
        self.crawler = crawler
        self.client = connect(settings.get("REDIS_URL"))
        # token -> what still holds its lease: 1 while the response's output is being read, +1 per item of it
        # still in the item pipeline; id(item) -> (item, token) for those items.
        self.holding: dict[str, int] = {}
        self.items: dict[int, tuple[Any, str]] = {}
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self.item_left, signal=signal)
        if self.seed:
            self.client.set(f"{self.prefix}:seeding", self.worker, ex=settings.getint(TTL_KEY, 3600))

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierSpiderMiddleware:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if self.seed:
            async for item in start:
                yield item
            self.client.delete(f"{self.prefix}:seeding")

    def process_start_requests(self, start_requests: Iterable[Any], spider: Any) -> Iterator[Any]:
        if self.seed:
            yield from start_requests
            self.client.delete(f"{self.prefix}:seeding")

    # Requests a response led to go into the shared queue here, before the response leaves the in-flight hash:
    # the scraper would enqueue them later, concurrently, and a worker killed in between would lose them.
    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any]) -> Any:
        token = self.reading(response)
        try:
            async for item in result:
                if self.enqueue(item):
                    self.hold(token, item)
                    yield item
        finally:
            self.let_go(token)

    def process_spider_output(self, response: Any, result: Iterable[Any], spider: Any) -> Iterator[Any]:
        token = self.reading(response)
        try:
            for item in result:
                if self.enqueue(item):
                    self.hold(token, item)
                    yield item
        finally:
            self.let_go(token)

    def enqueue(self, item: Any) -> bool:
        """False when item was a request, now in the shared queue (or its duplicate filter)."""
        from scrapy import Request

        if isinstance(item, Request) and self.crawler.engine is not None:
            self.crawler.engine.crawl(item)
            return False
        return True

    def reading(self, response: Any) -> str:
        """The lease token of response's request ("" for none); its output is now being read."""
        token = response.request.meta.get(TOKEN, "") if response.request is not None else ""
        if token:
            self.holding[token] = self.holding.get(token, 0) + 1
        return str(token)

    def hold(self, token: str, item: Any) -> None:
        """item goes to the item pipeline: the lease of its response waits for it."""
        if token and item is not None:
            self.holding[token] += 1
            self.items[id(item)] = (item, token)

    def item_left(self, item: Any = None, **kwargs: Any) -> None:
        """An item left the item pipeline (stored, dropped or failed)."""
        entry = self.items.get(id(item))
        if entry is not None and entry[0] is item:
            del self.items[id(item)]
            self.let_go(entry[1])

    def let_go(self, token: str) -> None:
        """One holder of token's lease is done; the last one releases it."""
        if not token or token not in self.holding:
            return
        self.holding[token] -= 1
        if self.holding[token] <= 0:
            del self.holding[token]
            self.client.hdel(f"{self.prefix}:inflight", token)


class SharedPoliteness:
    """Each request waits for its moment on its host's clock in Redis: `download_delay` apart across all workers."""

    SCRIPT = """
    local now = redis.call('TIME')
    local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
    local next_ms = tonumber(redis.call('GET', KEYS[1]) or '0')
    local at = math.max(now_ms, next_ms)
    redis.call('SET', KEYS[1], at + tonumber(ARGV[1]), 'PX', tonumber(ARGV[1]) + 60000)
    return at - now_ms
    """

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.delay_ms = int(settings.getfloat("DOWNLOAD_DELAY") * 1000)
        if not settings.get(ROUND_KEY) or self.delay_ms <= 0:
            raise NotConfigured
        self.client = connect(settings.get("REDIS_URL"))
        self.reserve = self.client.register_script(self.SCRIPT)

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedPoliteness:
        return cls(crawler)

    async def process_request(self, request: Any, spider: Any = None) -> None:
        from urllib.parse import urlsplit

        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import reactor, task

        host = (urlsplit(request.url).hostname or "").lower()
        wait_ms = int(self.reserve(keys=[f"unionfeed:polite:{host}"], args=[self.delay_ms]))
        if wait_ms > 0:
            await maybe_deferred_to_future(task.deferLater(reactor, wait_ms / 1000, lambda: None))
