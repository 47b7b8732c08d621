"""The Redis server the shared-frontier tests use: `UNIONFEED_TEST_REDIS_URL` (`.ci/run` starts Debian's
redis-server on 127.0.0.1 and exports it), else redis://127.0.0.1:6379/15.

No Redis reachable skips the test on a developer's machine and fails it under CI (tests/support/needs.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


@contextmanager
def private_redis() -> Iterator[tuple[str, Any]]:
    """A redis-server of this test's own on a free loopback port (the test may shut it down); yields (url, client)."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing("no redis-server on PATH (apt-get install redis-server)")
    import redis

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=2)
    try:
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0", client
    finally:
        process.kill()
        process.wait(10)
