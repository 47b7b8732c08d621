"""An item pipeline for the shared-frontier tests: it runs after the store and writes down, for every article item,
whether the request that fetched it is still leased in the round's in-flight hash at that moment.

A worker killed between "stored" and "lease released" fetches nothing twice; one killed between "lease released"
and "stored" loses the article for the round. So every line this probe writes must say `held`.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROBE_FILE = "UNIONFEED_TEST_LEASE_PROBE_FILE"


class LeaseProbe:
    def __init__(self, crawler: Any) -> None:
        import redis

        from unionfeed_scrapers.frontier import ROUND_KEY

        settings = crawler.settings
        self.inflight = f"{settings.get(ROUND_KEY)}:inflight"
        self.client = redis.Redis.from_url(settings.get("REDIS_URL"))
        self.out = Path(settings.get(PROBE_FILE))

    @classmethod
    def from_crawler(cls, crawler: Any) -> LeaseProbe:
        return cls(crawler)

    def process_item(self, item: dict[str, Any], spider: Any = None) -> dict[str, Any]:
        path = urlsplit(item["url"]).path
        leased = {urlsplit(pickle.loads(v.partition(b"\n")[2])["url"]).path for v in self.client.hvals(self.inflight)}
        with self.out.open("a", encoding="utf-8") as out:
            out.write(f"{path} {'held' if path in leased else 'released'}\n")
        return item
