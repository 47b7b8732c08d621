"""How well a source given as an operator writes it (a homepage, or a homepage and one section) is read: issue 13's
real-shaped loopback sites, one crawl each.

    .venv/bin/python bench/discovery.py [--sites slug,slug] [--browser auto|yes|no] [--repeat 1] [--keep DIR]

Serves each site of tests/support/real_shaped_sites.py (a cookie-gated laodong.vn, nld.com.vn moved to
tuoitre.vn/nld, a NukeViet provincial portal, a section with numbered pages only, a list only a script builds, a
CMS that gives every page the homepage as canonical) on its own 127.0.0.x hosts beside a decoy host, crawls it
from its sources entry with the real spider in a forked child (as the scheduler does), and prints per site:
expected articles stored right / expected, non-articles stored, other unexpected URLs stored, requests the
site's hosts and the decoy saw, requests outside the source's boundary, and the crawl's wall time as a ratio
to an anchor measured in the same run after one warm-up crawl (a crawl of a plain ten-article loopback site
configured with its listing, link selector and article pattern). The script-built list is crawled with
`render: browser` when Chromium and scrapy-playwright are installed (--browser auto), and is otherwise judged on
the cause it names ("cần JavaScript"). Figures go to bench/out/discovery.json as well. Exit status 0 when
every site passes, else 1.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the loopback sites live with the tests

from tests.support.loopback_sites import Site, serve, source_entry, write_config  # noqa: E402
from tests.support.real_shaped_sites import SITES, Crawl, browser_available, crawl_site  # noqa: E402

OUT = ROOT / "bench" / "out"
ANCHOR_ARTICLES = 10


def anchor(folder: Path) -> float:
    """Seconds for one crawl of a plain loopback site whose entry names its listing, selector and pattern."""
    from feed.app.crawl_runner import crawl_in_child
    from feed.config.settings import load_settings

    site = Site("neo", articles=ANCHOR_ARTICLES)
    with serve([site]) as bases:
        config = write_config(folder / "config", [source_entry("neo", bases["neo"])])
        settings = load_settings(config, folder / "data")
        started = time.perf_counter()
        code = crawl_in_child(settings, ["neo"], timeout=120)
        seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"the anchor crawl failed (exit status {code}); the figures would mean nothing")
    return seconds


def one(slug: str, folder: Path, browser: str) -> Crawl:
    site = SITES[slug]()
    site.browser = site.needs_js and (browser == "yes" or (browser == "auto" and browser_available()))
    return crawl_site(site, folder)


def row(slug: str, crawl: Crawl, ratio: float, browser: bool) -> dict[str, Any]:
    o = crawl.outcome
    problems = o.problems(needs_js_cause=SITES[slug].needs_js and not browser)
    if crawl.exit_code != 0:
        problems.insert(0, f"crawl exit status {crawl.exit_code}")
    return {
        "site": slug,
        "found": o.found,
        "expected": o.expected,
        "non_articles": len(o.non_articles),
        "unexpected": len(o.unexpected),
        "requests": o.requests,
        "outside": len(o.outside),
        "time_ratio": round(ratio, 2),
        "seconds": round(crawl.seconds, 2),
        "exit_code": crawl.exit_code,
        "cause": o.cause,
        "browser": browser,
        "passed": not problems,
        "problems": problems,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sites", default=",".join(sorted(SITES)), help="comma-separated slugs (default: all)")
    parser.add_argument("--browser", choices=("auto", "yes", "no"), default="auto")
    parser.add_argument("--repeat", type=int, default=1, help="crawls per site and of the anchor (median time)")
    parser.add_argument("--keep", type=Path, help="keep each crawl's config and data under this folder")
    args = parser.parse_args(argv)
    slugs = [s for s in args.sites.split(",") if s]
    unknown = sorted(set(slugs) - set(SITES))
    if unknown:
        parser.error(f"unknown sites {unknown}; known: {sorted(SITES)}")

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-discovery-"))
    anchor(root / "warm-up")  # the first crawl starts the forkserver (Scrapy imported once): not a site's cost
    base = statistics.median(anchor(root / f"anchor-{n}") for n in range(args.repeat))
    rows = []
    for slug in slugs:
        crawls = [one(slug, root / f"{slug}-{n}", args.browser) for n in range(args.repeat)]
        crawl = crawls[-1]  # the figures of the last crawl; the time is the median of them all
        seconds = statistics.median(c.seconds for c in crawls)
        browser = SITES[slug].needs_js and (args.browser == "yes" or (args.browser == "auto" and browser_available()))
        rows.append(row(slug, crawl, seconds / base, browser))

    print(f"anchor: a {ANCHOR_ARTICLES}-article loopback site with a configured listing, {base:.2f} s per crawl")
    header = (
        f"{'site':<20} {'found/exp':>9} {'non-art':>7} {'unexp':>5} {'requests':>8} {'outside':>7} {'time':>6}  verdict"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        verdict = "pass" if r["passed"] else "FAIL: " + "; ".join(_short(p) for p in r["problems"][:3])
        if len(r["problems"]) > 3:
            verdict += f"; … {len(r['problems']) - 3} more"
        found = f"{r['found']}/{r['expected']}"
        print(
            f"{r['site']:<20} {found:>9} {r['non_articles']:>7} {r['unexpected']:>5} {r['requests']:>8} "
            f"{r['outside']:>7} {r['time_ratio']:>5.2f}x  {verdict}"
        )
        if r["cause"]:
            print(f"{'':<20} cause named: {r['cause']}")
    passed = sum(r["passed"] for r in rows)
    print(f"{passed} of {len(rows)} sites pass")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "discovery.json").write_text(
        json.dumps({"anchor_seconds": round(base, 2), "sites": rows}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    return 0 if passed == len(rows) else 1


def _short(problem: str) -> str:
    """A problem line without the loopback base URL (ports change every run)."""
    head, _, url = problem.rpartition(" ")
    if url.startswith("http://127."):
        url = "/" + url.split("/", 3)[-1] if url.count("/") >= 3 else url
    short = f"{head} {url}".strip()
    return short if len(short) <= 90 else short[:89] + "…"


if __name__ == "__main__":
    raise SystemExit(main())
