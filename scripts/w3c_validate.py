"""Validate every feed the demo writes with the W3C Feed Validation Service's own code, each at its own URL.

    pip install -e '.[w3c]'                     # html5lib and rdflib, which the validator imports
    git clone https://github.com/w3c/feedvalidator /path/to/feedvalidator
    python scripts/w3c_validate.py --validator /path/to/feedvalidator

The validator is not on PyPI, so neither CI nor the tests can run it; this is the check a person runs where a
checkout of it exists (docs/feeds.md gives the last result). It runs the demo into a temporary folder with
`site_url` set to a free loopback port, serves that folder with `unionfeed serve` on the port, and validates each
Atom, RSS and OPML file by URL, so the feeds' `rel="self"` links are checked against where they are really served.
The level is the online service's ("AA": errors and warnings). JSON Feed and iCalendar files are not feeds the
validator reads; tests/test_feeds_valid.py and the calendar tests check those.

Exit status: 0 no error and no warning in any file; 1 some file has one (each printed, with its URL); 2 the
validator or the demo could not be run (one line says why).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

FEED_SUFFIXES = (".atom", ".rss", ".opml")
# Feeds `unionfeed serve` answers from the store: a search, a kind, a province (the demo's is Thanh Hóa).
QUERY_FEEDS = (
    "feeds/query.atom?q=dai+hoi+cong+doan",
    "feeds/query.rss?q=h%E1%BB%99i+ngh%E1%BB%8B",
    "feeds/query.atom?kind=so_ket",
    "feeds/query.rss?province=thanh-hoa",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def load_validator(checkout: Path) -> Any:
    """The feedvalidator package of a w3c/feedvalidator checkout (its src/ folder, or the checkout itself)."""
    for folder in (checkout / "src", checkout):
        if (folder / "feedvalidator" / "__init__.py").is_file():
            sys.path.insert(0, str(folder))
            break
    else:
        raise SystemExit(f"w3c_validate: no feedvalidator package under {checkout} (give a w3c/feedvalidator checkout)")
    try:
        import feedvalidator  # type: ignore[import-not-found]
        import feedvalidator.compatibility  # type: ignore[import-not-found]
        import feedvalidator.formatter.text_plain  # type: ignore[import-not-found]
    except ImportError as error:
        raise SystemExit(f"w3c_validate: the validator cannot be imported ({error}); pip install -e '.[w3c]'") from None
    return feedvalidator


def validate(validator: Any, url: str) -> list[str]:
    """The errors and warnings the online service would show for url, as its plain-text lines."""
    try:
        events = validator.validateURL(url, firstOccurrenceOnly=1)["loggedEvents"]
    except validator.logging.ValidationFailure as failure:
        events = [failure.event]
    shown = validator.compatibility.AA(events)
    return list(validator.formatter.text_plain.Formatter(shown))


def wait_until_served(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"w3c_validate: unionfeed serve ended with status {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"w3c_validate: {url} did not answer within 30 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--validator", type=Path, required=True, help="a checkout of github.com/w3c/feedvalidator")
    parser.add_argument("--out", type=Path, help="the demo's folder (default: a temporary one, removed after)")
    args = parser.parse_args(argv)
    validator = load_validator(args.validator)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "UNIONFEED_SITE_URL": f"{base}/"}
    with tempfile.TemporaryDirectory(prefix="w3c-demo-") as scratch:
        out = args.out or Path(scratch)
        demo = subprocess.run(
            [sys.executable, "-m", "feed", "demo", "--out", str(out)], env=env, capture_output=True, text=True
        )
        if demo.returncode != 0:
            print(demo.stdout + demo.stderr, file=sys.stderr)
            print(f"w3c_validate: the demo failed with status {demo.returncode}", file=sys.stderr)
            return 2
        public = out / "public"
        # feeds/health.atom is written after each crawl by the scheduler; `status --write` writes the same file.
        subprocess.run(
            [sys.executable, "-m", "feed", "--data", str(out), "status", "--write"], env=env, capture_output=True
        )
        if not (public / "feeds" / "health.atom").is_file():
            print("w3c_validate: `unionfeed status --write` wrote no feeds/health.atom", file=sys.stderr)
            return 2
        config = str(out / "sources.yaml")  # the demo's sources: the query feeds know their provinces by it
        command = [sys.executable, "-m", "feed", "--data", str(out), "--config", config, "serve"]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_served(f"{base}/feeds.opml", server)
            files = sorted(p for p in public.rglob("*") if p.suffix in FEED_SUFFIXES and p.is_file())
            urls = [f"{base}/{path.relative_to(public).as_posix()}" for path in files]
            urls += [f"{base}/{query}" for query in QUERY_FEEDS]
            failed = 0
            for url in urls:
                lines = validate(validator, url)
                if lines:
                    failed += 1
                    print(f"{url}:")
                    print("\n".join(f"  {line}" for line in lines))
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{len(urls)} feeds validated at their own URLs; {failed} with errors or warnings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
