"""Crawl 2,000 loopback article pages end to end, against a plain Scrapy spider and `scrapy bench`, in one run.

    .venv/bin/python bench/crawl.py [--pages 2000] [--repeat 3] [--concurrency 8] [--profile]

A news site of --pages invented Vietnamese union articles (about 2,500 characters of text each, with the menus,
related links and footer of a real portal page) is served from a separate process on 127.0.0.1: robots.txt, one
sitemap listing every article, the article pages. Three crawlers then fetch it, interleaved, --repeat times each,
every one in a fresh interpreter (Twisted's reactor runs once per process):

- unionfeed: `feed.app.crawl_runner.crawl` of one source whose discovery is the sitemap: extraction, the
  article judge, classification, storing in a new SQLite store, dedup clustering, the crawl-run record;
- plain: a Scrapy spider reading the same sitemap and calling `trafilatura.extract` on every page, storing
  nothing (the anchor);
- scrapy bench: Scrapy's own benchmark (its local server in a subprocess, a link-following spider, nothing
  parsed), for 10 s, run in the child as the `scrapy bench` command runs it.

Politeness is the same for the first two and set for scrapy bench too: robots.txt obeyed, CONCURRENT_REQUESTS
= CONCURRENT_REQUESTS_PER_DOMAIN = --concurrency, DOWNLOAD_DELAY 0, AutoThrottle off, LOG_LEVEL WARNING (the
production defaults, a 1 s delay and AutoThrottle, would measure the delay, not the crawler). Each run prints
pages per second over the article pages, by wall time from the engine's start to its stop and by the CPU time
the crawling process used meanwhile (the fair figure on a shared, loaded machine: the site's server runs in its
own process); the figures are the medians, and the ratios unionfeed / plain (target ≥ 1.0) and unionfeed /
scrapy bench (target ≥ 0.6), both ways.
--profile runs one more unionfeed crawl and one more plain crawl under cProfile (CPU time) and prints where their
time went, by area (with CRAWL_BENCH_PSTATS=FILE, the raw profiles go to FILE and FILE.plain).
--before DIR adds, in every round, the unionfeed crawl of another checkout (an exported main, say), the two taking
turns going first, and prints the ratio of their medians: a before/after measured in one run, on one site.

The other Scrapy settings of the two crawls of this site, compared key by key (2026-12-07, Scrapy 2.19): the
reactor, the scheduler, the queues and the HTTP client are the same; unionfeed runs with CONCURRENT_ITEMS 8
(Scrapy starts that many tasks for every response; plain keeps Scrapy's 100, as a spider written plainly does:
--plain-items 8 gives it 8 too, to see what the setting alone is worth), with
cookies off (COOKIES_ENABLED False; plain keeps Scrapy's True: the site sets none, so no difference in work),
its own downloader and spider middlewares, its store pipeline and PeakMemory extension (the product being
measured), DOWNLOAD_TIMEOUT 30 s and DOWNLOAD_MAXSIZE 10 MB (no page comes near either), REDIRECT_MAX_TIMES 5 (no
redirects here), TWISTED_DNS_RESOLVER CachingHostnameResolver (the site is an IP address: nothing is resolved)
and REMOTE_CONTROL_ENABLED False (plain opens Scrapy's control port once, at start). None of these changes what
is fetched or how fast the site is asked.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the loopback servers live with the tests

from tests.support.loopback_sites import pages_handler  # noqa: E402

PLACES = ("Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Thừa Thiên Huế", "Nghệ An", "Thanh Hoá", "Quảng Ninh")
TOPICS = (
    "chăm lo Tết cho đoàn viên, người lao động có hoàn cảnh khó khăn",
    "tập huấn nghiệp vụ an toàn, vệ sinh lao động cho cán bộ công đoàn cơ sở",
    "tổ chức hội nghị đối thoại giữa người sử dụng lao động và người lao động",
    "thăm hỏi, tặng quà công nhân bị tai nạn lao động",
    "phát triển đoàn viên, thành lập công đoàn cơ sở trong doanh nghiệp ngoài nhà nước",
    "phát động phong trào thi đua lao động giỏi, lao động sáng tạo",
    "ký kết thoả ước lao động tập thể nhóm doanh nghiệp",
    "tổ chức Tháng Công nhân với chủ đề vì việc làm bền vững",
)
SENTENCES = (
    "Phát biểu tại buổi làm việc, đồng chí Chủ tịch Liên đoàn Lao động tỉnh đề nghị các cấp công đoàn tiếp tục "
    "lắng nghe tâm tư, nguyện vọng của đoàn viên và kịp thời phản ánh kiến nghị chính đáng của người lao động.",
    "Theo báo cáo, trong năm qua công đoàn cơ sở đã phối hợp với chuyên môn chăm lo đời sống vật chất, tinh thần "
    "cho hơn {n} đoàn viên, giải quyết dứt điểm các vụ việc phát sinh tại nơi làm việc.",
    "Nhiều ý kiến tại hội nghị tập trung vào tiền lương, thời giờ làm việc, bữa ăn ca và điều kiện nhà ở của công "
    "nhân tại các khu công nghiệp trên địa bàn.",
    "Đại diện doanh nghiệp cam kết thực hiện đầy đủ chế độ bảo hiểm xã hội, bảo hiểm y tế, bảo hiểm thất nghiệp "
    "và nâng mức hỗ trợ nhà trọ thêm {m} nghìn đồng mỗi tháng từ quý tới.",
    "Dịp này, ban tổ chức đã trao {k} suất quà, mỗi suất trị giá 500 nghìn đồng, cho đoàn viên có hoàn cảnh đặc "
    "biệt khó khăn, công nhân bị tai nạn lao động và bệnh nghề nghiệp.",
    "Kết thúc chương trình, Ban Thường vụ đã khen thưởng {k} tập thể và cá nhân có thành tích xuất sắc trong "
    "phong trào thi đua lao động giỏi, lao động sáng tạo năm {y}.",
)
VOCABULARY = (
    "công nhân người lao động đoàn viên doanh nghiệp nhà máy xí nghiệp khu công nghiệp tiền lương thưởng Tết "
    "bảo hiểm xã hội hợp đồng ca làm việc tăng ca nhà trọ bữa ăn an toàn vệ sinh tai nạn bệnh nghề nghiệp "
    "thương lượng thoả ước đối thoại kiến nghị giải quyết tranh chấp đình công phòng ngừa hỗ trợ chăm lo "
    "thăm hỏi tặng quà học bổng con em mái ấm công đoàn sửa chữa xây mới trao tặng kinh phí quỹ xã hội "
    "tuyên truyền pháp luật tập huấn cán bộ chủ tịch phó ban thường vụ chấp hành kiểm tra giám sát "
    "thi đua khen thưởng sáng kiến tiết kiệm năng suất chất lượng đào tạo nghề việc làm thu nhập ổn định "
    "phối hợp chính quyền sở lao động thanh tra quận huyện phường xã tỉnh thành phố miền Bắc miền Trung "
    "miền Nam đồng bằng ven biển may mặc da giày điện tử chế biến thuỷ sản gỗ dệt cơ khí xây dựng giao thông "
    "vận tải y tế giáo dục ngân hàng bưu điện điện lực than khoáng sản dầu khí cao su nông nghiệp"
).split()
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


# --- the site -------------------------------------------------------------------------------------------
def title(n: int) -> str:
    return f"Công đoàn {PLACES[n % len(PLACES)]} {TOPICS[n % len(TOPICS)]} (số {n})"


def article_page(n: int) -> bytes:
    when = START + timedelta(hours=3 * n)
    # One sentence of the shared template per paragraph, the rest in words of its own: each article is its own
    # story (a site whose pages were all copies of a few stories would measure dedup's merging, not a crawl).
    rng = random.Random(n)
    paragraphs = []
    for i in range(9):
        sentence = SENTENCES[(n + i) % len(SENTENCES)].format(n=120 + n, m=100 + n % 50, k=10 + i, y=2025)
        words = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(24, 40)))
        paragraphs.append(f"<p>{sentence} {words[0].upper()}{words[1:]}.</p>")
    menu = "".join(f'<li><a href="/chuyen-muc/{i}/">Chuyên mục {i}</a></li>' for i in range(12))
    related = "".join(
        f'<li><a href="/tin-tuc/bai-{(n + j) % 9999 + 1}.html">{title(n + j)}</a></li>' for j in range(1, 6)
    )
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>{title(n)} - Công đoàn mẫu</title>"
        f'<meta property="article:published_time" content="{when.isoformat()}"></head><body>'
        f'<header><nav><ul class="menu">{menu}</ul></nav></header><main><article><h1>{title(n)}</h1>'
        f'<div class="date">{when:%H:%M, %d/%m/%Y}</div><div class="sapo">Sáng {when:%d/%m}, công đoàn '
        f"{PLACES[n % len(PLACES)]} đã {TOPICS[n % len(TOPICS)]}.</div>"
        f'<div class="content">{"".join(paragraphs)}</div></article>'
        f'<aside><h3>Tin liên quan</h3><ul class="related">{related}</ul></aside></main>'
        "<footer><p>Cơ quan chủ quản: Liên đoàn Lao động tỉnh. Địa chỉ: 12 đường Lê Lợi.</p></footer></body></html>"
    ).encode()


def site_pages(count: int, base: str) -> dict[str, tuple[str, bytes]]:
    pages = {f"/tin-tuc/bai-{n}.html": ("text/html; charset=utf-8", article_page(n)) for n in range(1, count + 1)}
    urls = "".join(f"<url><loc>{base}{path}</loc></url>" for path in pages)
    pages["/sitemap.xml"] = (
        "application/xml",
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}'
        "</urlset>".encode(),
    )
    pages["/robots.txt"] = ("text/plain", b"User-agent: *\nDisallow: /quan-tri/\n")
    pages["/"] = ("text/html; charset=utf-8", b"<html><body><a href='/tin-tuc/bai-1.html'>tin</a></body></html>")
    return pages


def serve_site(count: int, ready: Any) -> None:
    pages: dict[str, tuple[str, bytes]] = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), pages_handler(pages))
    server.daemon_threads = True
    pages.update(site_pages(count, f"http://127.0.0.1:{server.server_address[1]}"))
    ready.put(server.server_address[1])
    server.serve_forever()


# --- the crawlers (each in its own interpreter) -----------------------------------------------------------
def polite(concurrency: int) -> dict[str, Any]:
    return {
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    }


class Clock:
    """Wall and CPU time of the crawling process from the engine's start to its stop (start-up left out)."""

    def __init__(self) -> None:
        self.start = self.stop = self.cpu_start = self.cpu_stop = 0.0

    def figures(self, pages: int) -> dict[str, Any]:
        return {"seconds": self.stop - self.start, "cpu": self.cpu_stop - self.cpu_start, "pages": pages}

    def connect(self, crawler: Any) -> None:
        from scrapy import signals

        crawler.signals.connect(self.started, signal=signals.engine_started)
        crawler.signals.connect(self.stopped, signal=signals.engine_stopped)

    def started(self) -> None:
        self.start, self.cpu_start = time.perf_counter(), time.process_time()

    def stopped(self) -> None:
        self.stop, self.cpu_stop = time.perf_counter(), time.process_time()


def run_unionfeed(base: str, concurrency: int, profile: bool) -> dict[str, Any]:
    from scrapy import signals
    from scrapy.crawler import Crawler

    from feed.app import crawl_runner
    from feed.config.settings import Politeness, Settings
    from feed.config.sources import parse_sources
    from feed.store.api import Store

    work = Path(tempfile.mkdtemp(prefix="crawlbench-"))
    settings = replace(
        Settings(),
        data=work,
        politeness=Politeness(download_delay=0, concurrent_per_domain=concurrency, autothrottle_start_delay=0.01),
        crawl_time_limit=600,
    )
    entry = {
        "slug": "congdoan-mau",
        "name": "Công đoàn mẫu",
        "kind": "union_portal",
        "homepage": f"{base}/",
        "discovery": {"article_pattern": r"/tin-tuc/bai-\d+\.html$", "sitemaps": [f"{base}/sitemap.xml"]},
    }
    sources = parse_sources({"version": 1, "sources": [entry]})
    clock = Clock()
    original = Crawler.__init__

    def hooked(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.signals.connect(clock.started, signal=signals.engine_started)
        self.signals.connect(clock.stopped, signal=signals.engine_stopped)

    Crawler.__init__ = hooked  # type: ignore[method-assign]
    options = crawl_runner.CrawlOptions(extra=tuple(polite(concurrency).items()))
    import feed.app.crawl_warmup  # noqa: F401  (as the crawl forkserver does: patterns compiled before the crawl)

    profiler = None
    if profile:  # after the warm-up, as the clock: compiling the cue vocabulary once is no cost of the crawl
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU time: on a loaded machine wall time says little
        profiler.enable()
    failed = crawl_runner.crawl(settings, sources, options)
    if profiler is not None:
        profiler.disable()
    stored = Store(settings.db_url).count()
    result = {**clock.figures(stored), "failed": failed}
    if profiler is not None:
        result["profile"] = profile_areas(profiler)
        if os.environ.get("CRAWL_BENCH_PSTATS"):
            profiler.dump_stats(os.environ["CRAWL_BENCH_PSTATS"])
    return result


def profile_areas(profiler: Any) -> dict[str, float]:
    """Share of the crawl's own time (tottime) spent in each area of the code."""
    import pstats

    areas = {
        "store + SQLAlchemy + sqlite": ("/feed/store/", "sqlalchemy", "sqlite3"),
        "dedup": ("/feed/dedup/",),
        "classify": ("/feed/classify/",),
        "extract (+ lxml, judge; trafilatura for plain)": (
            "/feed/extract/",
            "lxml",
            "judging.py",
            "html5",
            "/feed/lang/",
            "trafilatura",
            "htmldate",
            "courlan",
            "justext",
        ),
        "ingest + pipeline": ("/feed/ingest.py", "pipelines.py"),
        "scrapy + twisted (fetching)": ("scrapy", "twisted", "w3lib", "parsel", "urllib"),
    }
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in stats.values()) or 1.0
    shares = dict.fromkeys([*areas, "other"], 0.0)
    for (filename, _line, _name), entry in stats.items():
        area = next((a for a, marks in areas.items() if any(m in filename for m in marks)), "other")
        shares[area] += entry[2]
    return {area: round(100 * seconds / total, 1) for area, seconds in shares.items()}


def run_plain(base: str, concurrency: int, profile: bool = False) -> dict[str, Any]:
    import scrapy
    import trafilatura
    from scrapy.crawler import CrawlerProcess
    from scrapy.spiders import SitemapSpider

    extracted: list[int] = []

    class Plain(SitemapSpider):
        name = "plain"
        sitemap_urls: ClassVar[list[str]] = [f"{base}/sitemap.xml"]

        def parse(self, response: scrapy.http.Response) -> Any:
            text = trafilatura.extract(response.text, url=response.url)
            extracted.append(int(bool(text)))
            yield {"url": response.url, "chars": len(text or "")}

    settings = {**polite(concurrency), "TELNETCONSOLE_ENABLED": False}
    if os.environ.get("CRAWL_BENCH_PLAIN_ITEMS"):
        settings["CONCURRENT_ITEMS"] = int(os.environ["CRAWL_BENCH_PLAIN_ITEMS"])
    process = CrawlerProcess(settings, install_root_handler=False)
    crawler = process.create_crawler(Plain)
    clock = Clock()
    clock.connect(crawler)
    process.crawl(crawler)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    process.start()
    if profiler is not None:
        profiler.disable()
    result = clock.figures(sum(extracted))
    if profiler is not None:
        result["profile"] = profile_areas(profiler)
        if os.environ.get("CRAWL_BENCH_PSTATS"):
            profiler.dump_stats(os.environ["CRAWL_BENCH_PSTATS"] + ".plain")
    return result


def run_scrapy_bench(concurrency: int) -> dict[str, Any]:
    """`scrapy bench`, run here as its command does (its server in a subprocess, its link-following spider for
    10 s), with the same politeness."""
    from scrapy.commands.bench import _BenchServer, _BenchSpider
    from scrapy.crawler import CrawlerProcess

    settings = {**polite(concurrency), "CLOSESPIDER_TIMEOUT": 10, "TELNETCONSOLE_ENABLED": False}
    with _BenchServer():
        process = CrawlerProcess(settings, install_root_handler=False)
        crawler = process.create_crawler(_BenchSpider)
        clock = Clock()
        clock.connect(crawler)
        process.crawl(crawler, total=100000)
        process.start()
    assert crawler.stats is not None
    return clock.figures(int(crawler.stats.get_value("response_received_count", 0)))


def child(argv: list[str]) -> None:
    kind, base, concurrency, profile = argv[0], argv[1], int(argv[2]), argv[3] == "1"
    if kind == "unionfeed":
        result = run_unionfeed(base, concurrency, profile)
    elif kind == "plain":
        result = run_plain(base, concurrency, profile)
    else:
        result = run_scrapy_bench(concurrency)
    print("RESULT " + json.dumps(result))


def measure(kind: str, base: str, concurrency: int, profile: bool = False, root: Path = ROOT) -> dict[str, Any]:
    """One crawl in a fresh interpreter; `root` is the checkout whose code crawls (--before: another one)."""
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}:{root / 'scrapers'}"}
    script = root / "bench" / "crawl.py"
    args = [sys.executable, str(script), "--child", kind, base, str(concurrency), "1" if profile else "0"]
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=root, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the {kind} crawl failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    result["rate"] = result["pages"] / result["seconds"]
    result["cpu_rate"] = result["pages"] / result["cpu"]
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        child(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--plain-items", type=int, help="CONCURRENT_ITEMS of the plain spider (default Scrapy's)")
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout (e.g. `git archive main | tar -x -C DIR`): its unionfeed crawls too, in every round, "
        "right before or after this one's (alternately), and the ratio of the two is printed",
    )
    args = parser.parse_args(argv)
    if args.plain_items:
        os.environ["CRAWL_BENCH_PLAIN_ITEMS"] = str(args.plain_items)  # read by the plain spider's child
    if args.before is not None and not (args.before / "bench" / "crawl.py").is_file():
        raise SystemExit(f"--before {args.before}: no bench/crawl.py there (give the root of a checkout)")
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    server = context.Process(target=serve_site, args=(args.pages, ready), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{ready.get(timeout=120)}"
    kinds: tuple[str, ...] = ("unionfeed", "plain", "scrapy bench")
    if args.before is not None:
        kinds = ("before", *kinds)
    rates: dict[str, list[float]] = {kind: [] for kind in kinds}
    cpu_rates: dict[str, list[float]] = {kind: [] for kind in kinds}
    try:
        for round_ in range(args.repeat):
            order = list(kinds)
            if args.before is not None and round_ % 2:  # the two unionfeed crawls take turns going first
                order[0], order[1] = order[1], order[0]
            for kind in order:
                if kind == "before":
                    result = measure("unionfeed", base, args.concurrency, root=args.before.resolve())
                else:
                    result = measure(kind.replace(" ", "-"), base, args.concurrency)
                rates[kind].append(result["rate"])
                cpu_rates[kind].append(result["cpu_rate"])
                print(
                    f"round {round_ + 1} {kind:>12}: {result['pages']:5d} pages in {result['seconds']:6.2f} s wall,"
                    f" {result['cpu']:6.2f} s CPU = {result['rate']:7.1f} pages/s, {result['cpu_rate']:7.1f} pages"
                    " per CPU second",
                    flush=True,
                )
                if kind in ("unionfeed", "before") and result["pages"] < args.pages:
                    raise SystemExit(f"{kind} stored {result['pages']} of {args.pages} pages")
        if args.profile:
            profiled = measure("unionfeed", base, args.concurrency, profile=True)
            print("profile of one unionfeed crawl (share of own time):")
            for area, share in sorted(profiled["profile"].items(), key=lambda kv: -kv[1]):
                print(f"  {share:5.1f} %  {area}")
            profiled = measure("plain", base, args.concurrency, profile=True)
            print("profile of one plain spider crawl (share of own time):")
            for area, share in sorted(profiled["profile"].items(), key=lambda kv: -kv[1]):
                print(f"  {share:5.1f} %  {area}")
    finally:
        server.terminate()
    met = True
    for label, figures in (("wall", rates), ("CPU", cpu_rates)):
        medians = {kind: statistics.median(values) for kind, values in figures.items()}
        plain_ratio = medians["unionfeed"] / medians["plain"]
        bench_ratio = medians["unionfeed"] / medians["scrapy bench"]
        print(
            f"{label} medians (pages/s): unionfeed {medians['unionfeed']:.1f}, plain spider + trafilatura "
            f"{medians['plain']:.1f}, scrapy bench {medians['scrapy bench']:.1f}; unionfeed / plain spider "
            f"{plain_ratio:.2f}x (target >= 1.0), unionfeed / scrapy bench {bench_ratio:.2f}x (target >= 0.6)"
        )
        met = met and plain_ratio >= 1.0 and bench_ratio >= 0.6
        if args.before is not None:
            print(
                f"{label}: unionfeed {medians['unionfeed']:.1f} pages/s against {medians['before']:.1f} for --before:"
                f" {medians['unionfeed'] / medians['before']:.2f}x ({1000 / medians['unionfeed']:.1f} against"
                f" {1000 / medians['before']:.1f} ms a page); --before / plain spider"
                f" {medians['before'] / medians['plain']:.2f}x"
            )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
