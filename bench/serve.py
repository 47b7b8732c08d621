"""`unionfeed serve` beside nginx over the same published folder: 304s and small files at 32 connections (wrk).

    .venv/bin/python bench/serve.py [--public DIR] [--seconds 8] [--rounds 3] [--connections 32]

Needs Debian's `nginx` and `wrk` (apt-get install nginx wrk). Without --public it runs `unionfeed demo` into a
temporary folder and publishes it again with publish_gzip on (the `.gz` files beside the feeds). It then starts
`unionfeed serve` (its own process, as an operator runs it) and nginx with the project's deploy/nginx.conf
(tests/support/nginx.py: only the listen address and root change), both on loopback, and runs wrk against each in
turn, interleaved, --rounds times per case:

- `304`: GET /feeds/meetings.atom with If-None-Match set to that server's own ETag (a feed reader's poll);
- `small`: GET of the smallest published feed, whole (200), without gzip;
- `small gzip`: the same with Accept-Encoding: gzip (the `.gz` beside it, sent as it is by both).

Prints, per case, the median req/s of each server, unionfeed's as a ratio to nginx, and the median p99 latency.
Targets: ≥ 0.25× nginx, p99 ≤ 20 ms; the exit status says whether both were met in every case.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the nginx runner lives with the tests

from tests.support.nginx import free_port, run_nginx  # noqa: E402

RATIO_TARGET = 0.25
P99_TARGET_MS = 20.0
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def published(work: Path, python: str, env: dict[str, str]) -> Path:
    """A demo crawl's published folder, published again with the .gz files beside it."""
    out = work / "demo"
    subprocess.run([python, "-m", "feed", "demo", "--out", str(out)], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        [python, "-m", "feed", "--data", str(out), "--config", str(out / "sources.yaml"), "publish"],
        check=True,
        env={**env, "UNIONFEED_PUBLISH_GZIP": "true"},
        stdout=subprocess.DEVNULL,
    )
    return out / "public"


def start_unionfeed(python: str, public: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    data = public.parent
    process = subprocess.Popen(
        [python, "-m", "feed", "--data", str(data), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"unionfeed serve did not start (exit {process.poll()})") from None
            time.sleep(0.1)


def etag(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return str(response.headers["ETag"])


def wrk(binary: str, url: str, headers: dict[str, str], seconds: int, connections: int) -> tuple[float, float]:
    """(requests/s, p99 latency in ms) of one wrk run; non-2xx/3xx answers fail the benchmark."""
    args = [binary, "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    text = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in text or "Socket errors" in text:
        raise SystemExit(f"wrk saw errors against {url}:\n{text}")
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([0-9.]+)(us|ms|s)\b", text).groups()  # type: ignore[union-attr]
    return rate, float(value) * UNITS[unit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--public", type=Path, help="a published folder (default: a fresh demo, with .gz files)")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    nginx, wrk_binary = shutil.which("nginx") or "/usr/sbin/nginx", shutil.which("wrk")
    if not Path(nginx).exists() or wrk_binary is None:
        print("bench/serve.py needs Debian's nginx and wrk: apt-get install nginx wrk", file=sys.stderr)
        return 2
    python = sys.executable
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "scrapers")])}
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        work = Path(tmp)
        public = args.public.resolve() if args.public else published(work, python, env)
        feeds = [p for p in (public / "feeds").rglob("*.atom") if (p.parent / (p.name + ".gz")).is_file()]
        small = "/" + min(feeds, key=lambda p: p.stat().st_size).relative_to(public).as_posix()
        ours, our_port = start_unionfeed(python, public, env)
        try:
            with run_nginx(nginx, public, work / "nginx") as nginx_port:
                ports = {"nginx": nginx_port, "unionfeed": our_port}
                poll = "/feeds/meetings.atom"
                cases = {
                    "304": lambda name: (poll, {"If-None-Match": etag(ports[name], poll)}),
                    "small": lambda name: (small, {}),
                    "small gzip": lambda name: (small, {"Accept-Encoding": "gzip"}),
                }
                print(
                    f"{args.connections} connections, {args.seconds} s a run, {args.rounds} rounds interleaved; "
                    f"small file {small} ({(public / small[1:]).stat().st_size} bytes)"
                )
                print(
                    f"{'case':12} {'nginx req/s':>12} {'unionfeed req/s':>16} {'ratio':>7} {'p99 nginx':>10} "
                    f"{'p99 unionfeed':>14}"
                )
                met = True
                for case, make in cases.items():
                    runs: dict[str, list[tuple[float, float]]] = {"nginx": [], "unionfeed": []}
                    for _ in range(args.rounds):
                        for name in ("nginx", "unionfeed"):
                            path, headers = make(name)
                            url = f"http://127.0.0.1:{ports[name]}{path}"
                            runs[name].append(wrk(wrk_binary, url, headers, args.seconds, args.connections))
                    rate = {n: statistics.median(r for r, _ in v) for n, v in runs.items()}
                    p99 = {n: statistics.median(p for _, p in v) for n, v in runs.items()}
                    ratio = rate["unionfeed"] / rate["nginx"]
                    met &= ratio >= RATIO_TARGET and p99["unionfeed"] <= P99_TARGET_MS
                    print(
                        f"{case:12} {rate['nginx']:12.0f} {rate['unionfeed']:16.0f} {ratio:6.3f}x "
                        f"{p99['nginx']:8.2f}ms {p99['unionfeed']:12.2f}ms"
                    )
                print(
                    f"targets: >= {RATIO_TARGET}x nginx, p99 <= {P99_TARGET_MS:.0f} ms: {'met' if met else 'NOT met'}"
                )
        finally:
            ours.send_signal(signal.SIGINT)
            try:
                ours.wait(timeout=15)
            except subprocess.TimeoutExpired:
                ours.kill()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
