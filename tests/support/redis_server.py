"""The Redis server the shared-frontier tests use: `UNIONFEED_TEST_REDIS_URL` (`.ci/run` starts Debian's
redis-server on 127.0.0.1 and exports it), else redis://127.0.0.1:6379/15.

No Redis reachable skips the test on a developer's machine and fails it under CI (tests/support/needs.py).
"""

from __future__ import annotations

import os

from .needs import missing

DEFAULT_URL = "redis://127.0.0.1:6379/15"


def redis_url() -> str:
    """A Redis URL that answers PING, or skip (fail under CI)."""
    url = os.environ.get("UNIONFEED_TEST_REDIS_URL") or DEFAULT_URL
    try:
        import redis
    except ImportError:
        missing("the redis client is not installed (pip install -e '.[redis]')")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        missing(f"no Redis answers at {url} ({exc}); .ci/run starts one with redis-server")
    return url
