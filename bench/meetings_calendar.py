"""What the meetings calendars (feed.publish.calendar) cost a publish, next to the meetings feed in Atom.

    .venv/bin/python bench/meetings_calendar.py [--articles 10000] [--sources 100] [--repeat 5] [--provinces 34]

Builds bench/publish.py's store (a third of the articles meeting reports, each with a day held) and publishes
once. Then, --repeat times on freshly built entries: renders the meetings feed in Atom (the anchor, measured in
the same run); renders the eight calendars (meetings.ics and one per kind) from nothing, as a first publish does;
writes them again with the events rendered before, as a publish after a crawl does (only new stories' events are
rendered); and asks for them with the signatures of the run before, as a publish whose meetings did not change
does. Prints CPU seconds (best of the repeats, the entries built beforehand) and ratios to the anchor.

With --provinces N the sources are spread over N provinces (round robin) and the same three cases also make one
calendar per province (feeds/provinces/<slug>.ics, from the province feeds' searches, which are made beforehand
and not timed: they are the province feeds' cost, not the calendars').
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from feed import __version__
from feed.config.settings import Settings
from feed.publish.calendar import Wanted, calendar_outputs, province_calendars
from feed.publish.entries import IdentityCache, Stories, build_stories
from feed.publish.feed_writer import RENDERERS, FeedSite
from feed.publish.publisher import feed_specs, publish
from feed.publish.query_static import query_feed_specs
from feed.publish.rows import load_rows
from feed.store.api import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from publish import fill_store, make_sources


def best_cpu(repeat: int, setup: Callable[[], Stories], run: Callable[[Stories], object]) -> float:
    """The least CPU time `run` took over `repeat` runs, each on fresh entries from `setup` (not timed)."""
    times = []
    for _ in range(repeat):
        built = setup()
        started = time.process_time()
        run(built)
        times.append(time.process_time() - started)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--provinces", type=int, default=0, help="spread the sources over N provinces")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="unionfeed-bench-calendar-"))
    store = Store(f"sqlite:///{work / 'bench.sqlite'}")
    sources = make_sources(args.sources)
    if args.provinces:
        sources = [
            s.model_copy(update={"province": f"Tỉnh Mẫu {n % args.provinces + 1}"}) for n, s in enumerate(sources)
        ]
    settings = replace(Settings(), data=work, public_dir=work / "public", site_url="https://tin.example.vn/")
    fill_store(store, sources, args.articles)
    publish(store, settings, sources)
    site = FeedSite(settings.site_url, None, __version__)
    cache = IdentityCache()
    now = datetime.now(UTC)
    by_slug = {s.slug: s for s in sources}

    more: dict[int, list[Wanted]] = {}  # the province calendars wanted, by the Stories they were made from

    def fresh() -> Stories:
        built = build_stories(store, load_rows(store), by_slug, settings.feed_limit, now, cache)
        if args.provinces:  # the province feeds' searches: made here, untimed
            specs = query_feed_specs(store, built, sources, settings, lambda _p: now, 60)
            more[id(built)] = province_calendars(specs, built, sources, settings.feed_limit)
        return built

    def anchor(built: Stories) -> None:
        spec = next(s for s in feed_specs(built, sources, settings, lambda _p: now) if s.path == "meetings")
        RENDERERS["atom"](spec, site)

    state: dict[str, list[object]] = {}
    events: dict[str, list[str]] = {}
    limit = settings.feed_limit

    def render(built: Stories) -> None:  # a first publish: every event rendered
        _, sigs, made = calendar_outputs(built.stories, site, {}, set(), 300, limit, {}, more.get(id(built), []))
        state.update(sigs)
        events.update(made)

    def changed(built: Stories) -> None:  # every calendar written again, each event taken from the last publish
        calendar_outputs(built.stories, site, {}, set(), 300, limit, dict(events), more.get(id(built), []))

    def kept(built: Stories) -> None:  # stories unchanged: nothing written
        calendar_outputs(built.stories, site, state, set(state), 300, limit, dict(events), more.get(id(built), []))

    atom = best_cpu(args.repeat, fresh, anchor)
    ics = best_cpu(args.repeat, fresh, render)
    again = best_cpu(args.repeat, fresh, changed)
    same = best_cpu(args.repeat, fresh, kept)
    built = fresh()
    outputs = calendar_outputs(built.stories, site, {}, set(), 300, limit, {}, more.get(id(built), []))[0]
    events_count = outputs["feeds/meetings.ics"].count
    size = sum(len(o.text or b"") for o in outputs.values())
    n = len(outputs)
    in_provinces = sum(o.count for p, o in outputs.items() if p.startswith("feeds/provinces/"))
    print(f"{args.articles} articles, {events_count} events in meetings.ics, {size / 1024:.0f} KiB in {n} calendars")
    if args.provinces:
        print(f"{args.provinces} provinces: {in_provinces} events in their calendars")
    print(f"anchor: meetings feed in Atom, entries made   {atom:7.3f} s CPU  1.00")
    print(f"{n} calendars rendered, entries made         {ics:7.3f} s CPU  {ics / atom:4.2f}x anchor")
    print(f"{n} calendars rewritten, events reused       {again:7.3f} s CPU  {again / atom:4.2f}x anchor")
    print(f"{n} calendars kept (stories unchanged)       {same:7.3f} s CPU  {same / atom:4.2f}x anchor")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
