"""CPU a page of extraction and the article judge, as the crawl calls them, on bench/crawl.py's site; --before DIR
measures another checkout's in the same run, the two taking turns.

    PYTHONPATH=src:scrapers .venv/bin/python bench/extract_judge.py [--pages 200] [--rounds 5] [--before DIR]

Each page of the loopback site of bench/crawl.py (the same generator, no server: bytes in) is read as the spider
reads it: `extract(body, url, encoding="utf-8")`, then `judge_page(body, article, site, encoding="utf-8")`. Every
measurement runs in a fresh interpreter (the crawl's warm-up imported first, as the forkserver does) and passes over
the pages --rounds times after one warm pass; the figure is the least CPU time of the rounds (the machine is
shared: the least is the one others disturbed least). With --before, the two checkouts alternate three times and
the ratio of their medians is printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(pages: int, rounds: int) -> dict[str, float]:
    """ms of CPU a page for extraction and for the judge, with the `feed` on sys.path."""
    import feed.app.crawl_warmup  # noqa: F401  (patterns compiled before the clock, as in a crawl child)
    from feed.extract.article import extract
    from feed.extract.judge import SiteFacts, judge_page

    spec = importlib.util.spec_from_file_location("crawl_bench", ROOT / "bench" / "crawl.py")
    assert spec is not None and spec.loader is not None
    crawl = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(crawl)
    base = "http://127.0.0.1:8000"
    site_pages = [(crawl.article_page(n), f"{base}/tin-tuc/bai-{n}.html") for n in range(1, pages + 1)]
    site = SiteFacts(homepage=f"{base}/", names=("Công đoàn mẫu",), vouched=True)

    def one_pass() -> tuple[float, float]:
        extracting = judging = 0.0
        for body, url in site_pages:
            start = time.process_time()
            article = extract(body, url, encoding="utf-8")
            middle = time.process_time()
            judge_page(body, article, site, encoding="utf-8")
            judging += time.process_time() - middle
            extracting += middle - start
        return extracting, judging

    one_pass()
    passes = [one_pass() for _ in range(rounds)]
    extract_ms = min(p[0] for p in passes) / pages * 1000
    judge_ms = min(p[1] for p in passes) / pages * 1000
    return {"extract": extract_ms, "judge": judge_ms, "total": extract_ms + judge_ms}


def child(checkout: Path, pages: int, rounds: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": f"{checkout / 'src'}{os.pathsep}{checkout / 'scrapers'}"}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(pages), str(rounds)]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        print(json.dumps(measure(int(argv[1]), int(argv[2]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", type=Path, default=None, help="the root of another checkout, measured in turn")
    args = parser.parse_args(argv)
    runs: dict[str, list[dict[str, float]]] = {"this": [], "before": []}
    for turn in range(3 if args.before else 1):
        order = ("before", "this") if turn % 2 == 0 else ("this", "before")
        for name in order:
            if name == "before" and args.before is None:
                continue
            result = child(args.before.resolve() if name == "before" else ROOT, args.pages, args.rounds)
            runs[name].append(result)
            print(
                f"turn {turn + 1} {name:>6}: extract {result['extract']:.2f} ms, judge {result['judge']:.2f} ms, "
                f"together {result['total']:.2f} ms of CPU a page"
            )
    medians = {n: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for n, rs in runs.items() if rs}
    for name, figures in medians.items():
        print(
            f"median {name:>6}: extract {figures['extract']:.2f} ms, judge {figures['judge']:.2f} ms, "
            f"together {figures['total']:.2f} ms a page ({args.pages} pages)"
        )
    if "before" in medians:
        ratios = {k: medians["before"][k] / medians["this"][k] for k in ("extract", "judge", "total")}
        print(
            f"before / this: extract {ratios['extract']:.2f}×, judge {ratios['judge']:.2f}×, "
            f"together {ratios['total']:.2f}× (≥ 2.0: the cost halved)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
