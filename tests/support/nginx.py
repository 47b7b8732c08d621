"""Debian's nginx started on loopback with the project's own deploy/nginx.conf (tests/test_nginx.py, bench/serve.py).

Only the lines marked "loopback:" in that file change: the listen address, the published folder's path, the
unionfeed server nginx passes its own answers to (when a test runs one), and paths that must be writable without
root (under nginx's -p prefix). Each rewrite must match exactly once, so a config edited past what this knows fails
loudly here instead of testing something else.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "nginx.conf"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def loopback_config(text: str, *, host: str, port: int, public: Path, upstream: str | None = None) -> str:
    """deploy/nginx.conf with its "loopback:" lines pointed at host:port, the folder `public` and, when given, the
    unionfeed server at `upstream` ("127.0.0.1:PORT"; else the compose name stays and those answers are 502)."""
    rewrites = [
        (r"listen 8080;", f"listen {host}:{port};"),
        (r"root /data/public;", f"root {public.resolve()};"),
        (r"set $unionfeed http://unionfeed:8080;", f"set $unionfeed http://{upstream or 'unionfeed:8080'};"),
    ]
    for old, new in rewrites:
        if text.count(old) != 1:
            raise AssertionError(
                f"deploy/nginx.conf: expected {old!r} once (a 'loopback:' line), found it {text.count(old)} times"
            )
        text = text.replace(old, new)
    marked = len(re.findall(r"# loopback:", text))
    if marked != 5:
        raise AssertionError(f"deploy/nginx.conf: expected 5 'loopback:' lines, found {marked}")
    return text


@contextmanager
def run_nginx(
    binary: str, public: Path, prefix: Path, *, host: str = "127.0.0.1", upstream: str | None = None
) -> Iterator[int]:
    """nginx (not daemonised) serving `public` on host:<port>, passing unionfeed's own answers to `upstream`;
    yields the port and stops it on exit."""
    port = free_port(host)
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    text = loopback_config(CONFIG.read_text(encoding="utf-8"), host=host, port=port, public=public, upstream=upstream)
    conf.write_text(text)
    # As root nginx's workers would drop to "nobody", who cannot read a test's private folder.
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    log = prefix / "stderr.log"
    with log.open("wb") as err:
        process = subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf), "-g", directives], stderr=err)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise AssertionError(f"nginx exited with {process.returncode}: {log.read_text(errors='replace')}")
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    stderr = log.read_text(errors="replace")
                    raise AssertionError(f"nginx did not listen within 15 s: {stderr}") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
