"""A time-compressed day of hourly polls: the real scheduler over loopback news sites.

    .venv/bin/python bench/schedule.py [--sources 22] [--hours 24] [--hour-seconds 30] [--keep]

Serves --sources sites on 127.0.0.1 from a separate process (so they do not weigh on the scheduler's
memory): half publish a new article every (virtual) hour, the rest never change, and two break a quarter
of the way in (one answers 500 and recovers at three quarters, one is redesigned so its listing links
nothing). The real scheduler (APScheduler jobs, crawls in forked children, health after each crawl, the
publisher thread) polls every source once per virtual hour of --hour-seconds. Prints requests per poll of
an unchanged source, missed and duplicated polls, the scheduler's RSS over the day, when the broken sources
were announced (and that nothing else was), completeness and delay for new articles, and CPU.
Figures are written to bench/out/schedule.json as well.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the loopback sites live with the tests

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent  # noqa: E402
from tests.support.loopback_sites import VN, Site, serve, source_entry, write_config  # noqa: E402

OUT = ROOT / "bench" / "out"


@dataclass(frozen=True)
class Spec:
    name: str
    kind: str  # growing | static | error | redesign
    feed: bool = False  # an RSS feed besides the listing


def specs_for(count: int) -> list[Spec]:
    """Two broken sources, then growing and static ones alternating; every third of those also has a feed."""
    specs = [Spec("hong-500", "error"), Spec("doi-giao-dien", "redesign")]
    for index in range(count - 2):
        kind = "growing" if index % 2 == 0 else "static"
        specs.append(Spec(f"{kind[:4]}-{index:02d}", kind, feed=index % 3 == 2))
    return specs


@dataclass
class Gathered:
    """What one bench run observed."""

    specs: list[Spec]
    hour: float
    hours: int
    t0: float  # when the sites went up (virtual hour 0)
    started: float  # when the scheduler started
    runs: dict[str, list[Any]]  # RunFigures per source, newest first
    due: dict[str, list[datetime]]
    counts: dict[str, int]
    samples: list[tuple[float, float, float]]
    events: list[tuple[str, str, datetime]]
    articles: list[tuple[str, str, datetime]]
    hits: dict[str, list[tuple[str, int]]]
    crawl_cpu: float


# --- the sites, in their own process ------------------------------------------------------------------------
FIRST_NEW = 9  # growing sites start with 8 articles; article 8 + k appears at virtual hour k


def make_site(spec: Spec, hour: float, now: datetime) -> Site:
    if spec.kind == "growing":  # article 8 is published now, article 8 + k at hour k
        return Site(spec.name, articles=8, start=now - timedelta(seconds=7 * hour), gap=timedelta(seconds=hour))
    return Site(spec.name, articles=10, start=now - timedelta(days=2), gap=timedelta(hours=4))


def run_farm(specs: list[Spec], hour: float, hours: int, conn: Connection) -> None:
    """Serve the sites; every virtual hour add articles and break or mend sources; report hits at the end."""
    sites = [make_site(spec, hour, datetime.now(VN)) for spec in specs]
    by_kind = {spec.kind: site for spec, site in zip(specs, sites, strict=True)}
    with serve(sites) as bases:
        t0 = time.time()
        conn.send((bases, t0))
        for k in range(1, hours + 1):
            if conn.poll(max(0.0, t0 + k * hour - time.time())):
                break
            for spec, site in zip(specs, sites, strict=True):
                if spec.kind == "growing":
                    site.add(1)
            if k == breaks_at(hours):
                by_kind["error"].mode, by_kind["redesign"].mode = "error", "redesign"
            if k == recovers_at(hours):
                by_kind["error"].mode = "ok"
        conn.recv()
        conn.send({site.name: [(h.path, h.status) for h in site.hits] for site in sites})


def breaks_at(hours: int) -> int:
    return max(1, hours // 4)


def recovers_at(hours: int) -> int:
    return max(breaks_at(hours) + 4, 3 * hours // 4)


# --- measuring ----------------------------------------------------------------------------------------------
def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MiB (Linux /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_cpu(pid: int) -> float:
    """CPU seconds of the processes a process has reaped (the forkserver reaps every crawl and publish)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def forkserver_pid() -> int | None:
    from multiprocessing import forkserver

    return getattr(forkserver._forkserver, "_forkserver_pid", None)  # no public accessor


class Sampler(threading.Thread):
    """Samples the scheduler's (and the forkserver's) RSS every half virtual hour."""

    def __init__(self, start: float, hour: float) -> None:
        super().__init__(daemon=True)
        self.start_at, self.hour = start, hour
        self.samples: list[tuple[float, float, float]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.hour / 2):
            server = forkserver_pid()
            self.samples.append(
                ((time.time() - self.start_at) / self.hour, rss_mb(), rss_mb(server) if server else 0.0)
            )


def slot_report(due: dict[str, list[datetime]], runs: dict[str, int], hour: float, hours: int) -> dict[str, Any]:
    """Missed and duplicated polls: due times per one-hour slot of each source's own grid."""
    missed = duplicated = 0
    mismatched = []
    for slug, times in due.items():
        first = min(times)
        slots = Counter(round((t - first).total_seconds() / hour) for t in times)
        missed += sum(1 for k in range(hours) if slots[k] == 0)
        duplicated += sum(n - 1 for n in slots.values() if n > 1)
        if runs.get(slug, 0) != len(times):
            mismatched.append(slug)
    return {"missed": missed, "duplicated": duplicated, "due_without_exactly_one_run": mismatched}


def run_bench(args: argparse.Namespace) -> Gathered:
    from feed.app.crawl_runner import crawl_in_child, publish_in_child
    from feed.app.logs import configure_logging
    from feed.app.scheduler import Runner, build_scheduler
    from feed.config.settings import load_settings
    from feed.config.sources import load_sources
    from feed.health.verdict import HealthEvent, run_figures
    from feed.store.api import ArticleRow, Store

    configure_logging(40, fmt="text")  # errors only: the broken sites are supposed to fail
    hour, hours = args.hour_seconds, args.hours
    work = OUT / "schedule-data"
    shutil.rmtree(work, ignore_errors=True)
    specs = specs_for(args.sources)
    parent, child = multiprocessing.get_context("spawn").Pipe()
    farm = multiprocessing.get_context("spawn").Process(target=run_farm, args=(specs, hour, hours, child))
    farm.start()
    bases, t0 = parent.recv()
    config = write_config(work / "config", [source_entry(s.name, bases[s.name], feed=s.feed) for s in specs])
    settings = load_settings(config, work / "data")
    sources = load_sources(config)
    runner = Runner(
        settings,
        sources,
        publish_gap=hour / 4,
        crawl=functools.partial(crawl_in_child, log_level="CRITICAL"),
        publish=functools.partial(publish_in_child, timeout=hour * 4),
    )
    due: dict[str, list[datetime]] = {s.slug: [] for s in sources}

    def record(event: JobSubmissionEvent) -> None:
        due[event.job_id].extend(event.scheduled_run_times)

    scheduler = build_scheduler(settings, sources, runner, period_for=lambda s: timedelta(seconds=hour))
    scheduler.add_listener(record, EVENT_JOB_SUBMITTED)
    started = time.time()
    sampler = Sampler(started, hour)
    publisher = runner.start_publisher()
    scheduler.start()
    sampler.start()
    print(
        f"{len(sources)} sources, {hours} virtual hours of {hour:g} s; sites up at t0, scheduler at "
        f"t0+{started - t0:.1f} s",
        flush=True,
    )
    # Run through the last slot's polls (they start within ~0.35 h of the slot), then let them finish.
    while time.time() < started + (hours - 1) * hour + 0.6 * hour:
        time.sleep(1)
    scheduler.shutdown(wait=False)
    while runner.running:
        time.sleep(0.2)
    server = forkserver_pid()
    crawl_cpu = children_cpu(server) if server else 0.0
    runner.stopping.set()
    publisher.join(timeout=hour)
    sampler.halt.set()
    parent.send("stop")
    hits: dict[str, list[tuple[str, int]]] = parent.recv()
    farm.join(timeout=10)

    store = Store(settings.db_url)
    try:
        runs = {
            s.slug: [run_figures(r, datetime.now(UTC), 120) for r in store.runs(s.slug, limit=10_000)] for s in sources
        }
        with store.session() as session:
            events = [(e.source_slug, e.state, e.at) for e in session.query(HealthEvent).order_by(HealthEvent.id)]
            articles = [(a.source_slug, a.url, a.first_seen_at) for a in session.query(ArticleRow)]
    finally:
        store.close()
    return Gathered(
        specs,
        hour,
        hours,
        t0,
        started,
        runs,
        due,
        dict(runner.counts),
        sampler.samples,
        events,
        articles,
        hits,
        crawl_cpu,
    )


def mean_requests(runs: list[Any]) -> float | None:
    return round(statistics.mean(r.requests for r in runs), 2) if runs else None


def figures(g: Gathered) -> dict[str, Any]:
    """The numbers the bench prints, from what run_bench gathered."""
    kinds, hour, hours = {s.name: s.kind for s in g.specs}, g.hour, g.hours
    feeds = {s.name for s in g.specs if s.feed}
    static = [(slug, r) for slug, rs in g.runs.items() if kinds[slug] == "static" for r in rs[:-1]]  # not the 1st
    growing = [r for slug, rs in g.runs.items() if kinds[slug] == "growing" for r in rs[:-1]]
    statuses: Counter[str] = Counter()
    for _, r in static:
        statuses.update(r.statuses)
    started = datetime.fromtimestamp(g.started, UTC)
    announced = [
        {"source": slug, "state": state, "hour": round((at - started).total_seconds() / hour, 2)}
        for slug, state, at in g.events
    ]
    # Article 8 + k of a growing site went up at t0 + k hours (pages give minutes only: too coarse here).
    numbered = [
        (int(url.rsplit("bai-", 1)[1].removesuffix(".html")), seen)
        for slug, url, seen in g.articles
        if kinds[slug] == "growing"
    ]
    new_articles = [(n, seen) for n, seen in numbered if n >= FIRST_NEW]
    delays = [(seen.timestamp() - (g.t0 + (n - FIRST_NEW + 1) * hour)) / hour * 60 for n, seen in new_articles]
    growing_sites = sum(1 for k in kinds.values() if k == "growing")
    samples = g.samples
    quarter = max(1, len(samples) // 4)
    sched_rss = [s[1] for s in samples]
    return {
        "sources": len(g.runs),
        "hours": hours,
        "hour_seconds": hour,
        "unchanged_poll": {
            "polls": len(static),
            "requests_per_poll_listing_only": mean_requests([r for slug, r in static if slug not in feeds]),
            "requests_per_poll_listing_and_feed": mean_requests([r for slug, r in static if slug in feeds]),
            "responses": dict(statuses),
            "article_fetches": sum(r.extracted for _, r in static),
        },
        "changing_poll_requests": mean_requests(growing),
        "polls": {
            **slot_report(g.due, {s: len(r) for s, r in g.runs.items()}, hour, hours),
            "expected_per_source": hours,
            "runs": sum(len(r) for r in g.runs.values()),
            "apscheduler_missed": g.counts["missed"],
            "apscheduler_overlapping": g.counts["overlapping"],
        },
        "rss_mb": {
            "scheduler": [round(x, 1) for x in sched_rss],
            "scheduler_first_quarter_mean": round(statistics.mean(sched_rss[:quarter]), 1) if samples else None,
            "scheduler_last_quarter_mean": round(statistics.mean(sched_rss[-quarter:]), 1) if samples else None,
            "forkserver": [round(s[2], 1) for s in samples],
        },
        "health": {
            "breaks_at_hour": breaks_at(hours),
            "recovers_at_hour": recovers_at(hours),
            "announcements": announced,
        },
        "new_articles": {
            "published": growing_sites * (hours - 1),
            "stored": len(new_articles),
            "median_delay_virtual_minutes": round(statistics.median(delays), 1) if delays else None,
        },
        "publishes": g.counts["published"],
        "cpu_seconds": {
            "scheduler": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 1),
            "crawl_and_publish_children": round(g.crawl_cpu, 1),
        },
        "site_hits": {
            kind: dict(Counter(status for slug, hs in g.hits.items() if kinds[slug] == kind for _, status in hs))
            for kind in sorted(set(kinds.values()))
        },
    }


def show(result: dict[str, Any]) -> None:
    u, p, rss, h, n = (result[k] for k in ("unchanged_poll", "polls", "rss_mb", "health", "new_articles"))
    print(
        f"unchanged source: {u['requests_per_poll_listing_only']} requests per poll (listing + robots.txt), "
        f"{u['requests_per_poll_listing_and_feed']} with a feed too; over {u['polls']} polls responses "
        f"{u['responses']}, article fetches {u['article_fetches']}"
    )
    print(f"changing source: {result['changing_poll_requests']} requests per poll")
    print(
        f"polls: {p['runs']} runs for {result['sources']} sources x {p['expected_per_source']} hours; "
        f"missed {p['missed']}, duplicated {p['duplicated']}, due without exactly one run "
        f"{len(p['due_without_exactly_one_run'])}; APScheduler missed {p['apscheduler_missed']}, "
        f"overlapping {p['apscheduler_overlapping']}"
    )
    print(f"scheduler RSS (MiB, every half hour): {rss['scheduler']}")
    print(
        f"  first-quarter mean {rss['scheduler_first_quarter_mean']}, last-quarter mean "
        f"{rss['scheduler_last_quarter_mean']}; forkserver {rss['forkserver'][:1]} -> {rss['forkserver'][-1:]}"
    )
    print(
        f"health: sources break at hour {h['breaks_at_hour']}, hong-500 recovers at hour {h['recovers_at_hour']}; "
        f"announced: {h['announcements']}"
    )
    print(
        f"new articles: {n['stored']} of {n['published']} stored, median delay {n['median_delay_virtual_minutes']}"
        f" virtual minutes"
    )
    print(f"publishes: {result['publishes']}; CPU s: {result['cpu_seconds']}")
    print(f"responses served by kind of site: {result['site_hits']}")


def main(argv: list[str] | None = None) -> int:
    """Run the compressed day and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=22, help="number of sites (at least 4; two break)")
    parser.add_argument("--hours", type=int, default=24, help="virtual hours to run")
    parser.add_argument("--hour-seconds", type=float, default=30.0, help="real seconds per virtual hour")
    parser.add_argument("--keep", action="store_true", help="keep bench/out/schedule-data for inspection")
    args = parser.parse_args(argv)
    if args.sources < 4 or args.hours < 8:
        parser.error("needs at least 4 sources and 8 hours (breakage is detected on the third failing poll)")
    result = figures(run_bench(args))
    show(result)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "schedule.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if not args.keep:
        shutil.rmtree(OUT / "schedule-data", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
