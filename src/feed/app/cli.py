"""The `unionfeed` command: crawl, publish, run, serve, sources, status, extract, classify, reclassify, train, search,
demo."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from feed.app.console import console
from feed.config.settings import Settings, load_settings
from feed.config.sources import (
    SKIPPED_ENTRIES_EXIT,
    ConfigError,
    ConfigProblem,
    Source,
    SourceKind,
    choose,
    load_sources,
    read_sources,
    select,
)

Handler = Callable[[argparse.Namespace, Settings], int]
log = logging.getLogger("feed.app.cli")
EXIT_CODES = """exit status: 0 done; 1 nothing to do, or a check failed; 2 configuration error (bad settings, or no
usable source, or serve --data naming no folder): nothing was touched; 3 done, but entries of the sources file were
skipped for the problems printed (see docs/sources.md); 4 (crawl) the store refused some fetched articles: they are
fetched again next time; 5 another process holds the work: a scheduler already runs on the data folder (run), or
named sources were being crawled by another process and were left out (crawl); 6 the store cannot be used (damaged,
read-only, locked, full disk, deleted or replaced under a crawl): the line printed names the file and the fix; it is
also the status when the data folder cannot be written (the line names the uid the process runs as: the image's is
10001); 7 (crawl) some sources failed, the others ran (one line each says why), (status) some sources are broken; 8
(crawl) every source failed, (status) every source is broken; 9 (serve, run --serve) the port cannot be listened on
(in use by another process, or privileged): the line names the port and the fix"""


def _print_json(record: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def _sources(settings: Settings) -> list[Source]:
    """Every source, strictly: any problem in the file is a ConfigError (for commands that check the config)."""
    return load_sources(settings.config)


def _usable_sources(settings: Settings, *, logged: bool = False) -> tuple[list[Source], list[ConfigProblem]]:
    """The sources that can run and the problems of the rest, each problem told on stderr (or logged).

    ConfigError when nothing is usable (the file is missing, its top level is broken, or every entry is).
    """
    sources, problems = read_sources(settings.config)
    if problems and not sources:
        raise ConfigError("\n".join(str(p) for p in problems) + "\nno usable source: nothing was done")
    if problems:
        skipped = len({p.entry for p in problems if p.entry is not None})
        head = f"{settings.config}: {skipped} entr{'y' if skipped == 1 else 'ies'} skipped; the other sources run"
        if logged:
            log.warning(head, extra={"event": "config_problems", "skipped": skipped})
            for problem in problems:
                log.warning("%s", problem, extra={"event": "config_problem", "source": problem.slug})
        else:
            print(f"unionfeed: configuration problems:\n{head}:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
    return sources, problems


def _select_usable(sources: list[Source], problems: list[ConfigProblem], slugs: list[str]) -> list[Source]:
    """The named sources that can run; a named source whose entry is broken is told and left out."""
    choice = choose(sources, slugs, problems)
    for slug in choice.broken:
        print(f"unionfeed: source {slug} skipped: its entry has the problems above", file=sys.stderr)
    if slugs and len(choice.broken) == len(slugs):
        raise ConfigError(f"no usable source among: {', '.join(slugs)}")
    if choice.unknown:
        raise ConfigError(f"unknown source slug(s): {', '.join(choice.unknown)}")
    return choice.sources


def _done(problems: list[ConfigProblem]) -> int:
    return SKIPPED_ENTRIES_EXIT if problems else 0


def cmd_crawl(args: argparse.Namespace, settings: Settings) -> int:
    """Crawl the named sources (all enabled ones by default) once, in this process; print one line per source."""
    from feed.app.crawl_runner import CrawlOptions, crawl

    registry, problems = _usable_sources(settings)
    chosen = _select_usable(registry, problems, args.slugs)
    if not chosen:
        print("no enabled sources to crawl", file=sys.stderr)
        return 1
    from feed.app import crawl_report
    from feed.app.crawl_runner import STORE_FAILED_EXIT, check_store
    from feed.app.locks import BUSY_EXIT, claim_sources
    from feed.store.api import Store

    check_store(settings)  # a store that cannot be used: one line (exit 6) before any lock is taken or page fetched
    with claim_sources(settings.data, chosen) as claim:  # a source the scheduler is crawling is not crawled twice
        for slug, holder in claim.busy.items():
            print(f"unionfeed crawl: source {slug} not crawled: it is being crawled by {holder}", file=sys.stderr)
        # Without --log-level, Scrapy's page-by-page log (and its tracebacks) stays quiet: the summary says what
        # each site did. Errors of our own code on a page (an item the pipeline or the spider failed on) stay loud.
        options = CrawlOptions(refetch=args.refetch, log_level=args.log_level or "CRITICAL")
        store = Store(settings.db_url)
        try:
            previous = crawl_report.before(store)
        finally:
            store.close()
        refused: list[str] = []
        if claim.sources:
            progress = crawl_report.Progress(sys.stdout) if sys.stdout.isatty() else None

            def starting(crawlers: dict[str, Any]) -> None:
                if args.log_level is None:  # set here: creating the crawlers has just reset Scrapy's levels
                    logging.getLogger("scrapy.core.scraper").setLevel(logging.ERROR)
                if progress is not None:
                    progress.watch(crawlers)

            try:
                refused = crawl(settings, claim.sources, options, registry=registry, watch=starting)
            finally:
                if progress is not None:
                    progress.close()
        store = Store(settings.db_url)
        try:
            done = crawl_report.reports(
                store,
                claim.sources,
                previous,
                time_limit=settings.crawl_time_limit,
                busy=claim.busy,
                store_refused=refused,
            )
        finally:
            store.close()
    for report in done:
        print(report.line())
    failed = crawl_report.exit_status(done)
    print(crawl_report.last_line(done), file=sys.stderr if failed else sys.stdout, flush=True)
    if refused:
        return STORE_FAILED_EXIT  # fetched articles the store refused: the next run retries
    return failed or (BUSY_EXIT if claim.busy else _done(problems))


def cmd_publish(args: argparse.Namespace, settings: Settings) -> int:
    """Write every feed, snapshot and the index page from the store."""
    from feed.app.websub import announce
    from feed.publish.publisher import PublishFailed, publish
    from feed.store.api import Store

    sources, config_problems = _usable_sources(settings)
    store = Store(settings.db_url)
    try:
        written = publish(store, settings, sources, allow_empty=args.allow_empty)
    except PublishFailed as exc:  # a full disk, or feeds it would empty: said plainly; published files untouched
        print(f"unionfeed publish: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    announce(settings, written.changed)
    print(f"published {len(written)} files to {settings.public}")
    if args.check:
        from feed.publish.snapshots import schema_problems

        problems = schema_problems(settings.public)
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"snapshots against snapshots/schema.json: {len(problems)} problems")
        if problems:
            return 1
    return _done(config_problems)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Schedule every enabled source and keep crawling and publishing (and serving with --serve)."""
    from rich.console import Console

    from feed.app.logs import configure_logging
    from feed.app.scheduler import run_scheduler

    console = Console(stderr=True)
    configure_logging(logging.DEBUG if args.verbose else logging.INFO, console=console)
    from feed.app.locks import BUSY_EXIT, LockHeld

    sources, problems = _usable_sources(settings, logged=True)
    try:
        status = run_scheduler(
            settings,
            sources,
            serve=args.serve,
            host=args.host,
            port=args.port,
            stop_grace=args.stop_grace,
            console=console,
        )
    except LockHeld as held:  # one scheduler per data folder: a second would fetch everything twice
        print(
            f"unionfeed run: not started: a scheduler already runs on {settings.data} ({held.holder})",
            file=sys.stderr,
        )
        return BUSY_EXIT
    except OSError as exc:  # --serve on a busy or privileged port: one line naming it and the fix
        from feed.app.plain_errors import SERVE_FAILED_EXIT, port_problem

        problem = port_problem(exc, args.host, args.port) if args.serve else None
        if problem is None:
            raise
        print(f"unionfeed run: {problem}", file=sys.stderr)
        return SERVE_FAILED_EXIT
    return status or _done(problems)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the published folder over HTTP."""
    from feed.app import plain_errors
    from feed.serve.query import query_feeds
    from feed.serve.server import serve_forever

    # A mistyped --data is refused, not created: serving an empty site from it would look like losing every feed.
    folder = settings.public if settings.public_dir is not None else settings.data
    if not folder.is_dir():
        missing = plain_errors.missing_folder(folder, explicit=hasattr(args, "data"))
        print(f"unionfeed serve: {missing}", file=sys.stderr)
        return 2
    # Query feeds (/feeds/query.atom?q=…) read the store, read-only (feed.serve.query).
    try:
        known = read_sources(settings.config)[0]
    except ConfigError:  # serving the published files needs no sources file; query feeds then know no province
        known = []
    queries = query_feeds(settings.db_url, known, settings.site_url, settings.websub_hub)
    try:
        serve_forever(settings.public, host=args.host, port=args.port, queries=queries)
    except OSError as exc:  # a busy or privileged port: one line naming it and the fix
        problem = plain_errors.port_problem(exc, args.host, args.port)
        if problem is None:
            raise
        print(f"unionfeed serve: {problem}", file=sys.stderr)
        return plain_errors.SERVE_FAILED_EXIT
    return 0


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    """List the configured sources, or check them against the live sites."""
    if args.action == "add":
        from feed.app.sources_add import add_source

        if len(args.slugs) != 1:
            print("sources add: give one homepage URL", file=sys.stderr)
            return 2
        return add_source(
            settings,
            args.slugs[0],
            slug=args.slug,
            kind=args.kind,
            name=args.name,
            render=args.render,
            write=args.write,
        )
    sources = _sources(settings)
    if args.action == "check":
        from feed.app.sources_check import check_sources

        chosen = select(sources, args.slugs)
        # The quick check reads configured discovery URLs; a homepage-only source has none: its probe says it all.
        configured = [s for s in chosen if s.discovery.configured or args.no_probe]
        status = check_sources(settings, configured) if configured else 0
        if not args.no_probe:
            from feed.app.sources_add import probe_sources

            status = max(status, probe_sources(settings, chosen))
        return status
    from rich.table import Table

    table = Table("slug", "name", "kind", "province", "discovery", "every", "on", "verified")
    for s in select(sources, args.slugs) if args.slugs else sources:
        d = s.discovery
        discovery = ", ".join(
            x
            for x in (
                f"{len(d.feeds)} feed" if d.feeds else "",
                f"{len(d.sitemaps)} sitemap" if d.sitemaps else "",
                f"{len(d.listings)} listing" if d.listings else "",
            )
            if x
        )
        verified = "/".join(k for k in ("urls", "markup") if getattr(s.verified, k)) or "no"
        table.add_row(
            s.slug,
            s.name,
            s.kind.value,
            s.province or "",
            discovery,
            f"{s.interval}m",
            "yes" if s.enabled else "no",
            verified,
        )
    console().print(table)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """Print every source's health: state, why, latest run; --write also writes status.json and health.atom."""
    from rich.console import Console

    from feed.app.console import status_table
    from feed.health.status import status_document
    from feed.health.verdict import source_health
    from feed.publish.status_files import refresh_health
    from feed.store.api import Store, now_utc

    sources, problems = _usable_sources(settings)
    settings.data.mkdir(parents=True, exist_ok=True)  # a fresh machine: an empty store, not a traceback
    store = Store(settings.db_url)
    try:
        if args.write:
            refresh_health(store, settings, sources)
        healths = source_health(store, sources, time_limit=settings.crawl_time_limit)
        total = store.count()
    finally:
        store.close()
    from feed.app.crawl_report import broken_status

    broken_exit = broken_status(sum(h.broken for h in healths), len(healths))
    if args.json:
        _print_json(status_document(healths, now_utc(), config_problems=problems))
        return broken_exit or _done(problems)
    # Piped output keeps every column readable instead of squeezing into 80.
    console = Console() if sys.stdout.isatty() else Console(width=200)
    console.print(status_table(healths))
    broken = [h.slug for h in healths if h.broken]
    print(
        f"{total} articles stored; {len(broken)} of {len(healths)} sources broken"
        + (f": {', '.join(broken)}" if broken else "")
    )
    stale = [h.slug for h in healths if any(f.code == "selectors_stale" for f in h.flags)]
    if stale:
        print(f"{len(stale)} source(s) with stale selectors (articles still read): {', '.join(stale)}")
    moved = [h for h in healths if h.last_run is not None and any(f.code == "moved" for f in h.flags)]
    if moved:  # followed, but the entry should name the new host: the fix is in the flag's text
        print(
            f"{len(moved)} source(s) moved (articles still read): "
            + ", ".join(f"{h.slug} -> {h.last_run.moved_to}" for h in moved if h.last_run is not None)
        )
    for h in healths:  # pages the article judge refused: counted by reason, never stored
        for flag in (f for f in h.flags if f.code == "not_articles"):
            print(f"{h.slug}: {flag.text}")
    if problems:
        print(f"{len(problems)} config problem(s): those entries are not crawled until mended")
        for problem in problems:
            print(f"  {problem}")
    return broken_exit or _done(problems)


def cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    """Print each page as one JSON line; a page that cannot be read gives an `error` line."""
    from feed.extract.article import extract

    selectors = None
    if args.source:
        sources, problems = _usable_sources(settings)
        selectors = _select_usable(sources, problems, [args.source])[0].effective_selectors()
    failed = 0
    for target in args.targets:
        url = args.url or (target if target.startswith(("http://", "https://")) else Path(target).resolve().as_uri())
        try:
            data = _read_target(target, args.timeout, settings)
        except (OSError, ValueError) as exc:
            _print_json({"url": url, "error": f"{type(exc).__name__}: {exc}"})
            failed += 1
            continue
        article = extract(data, url, selectors=selectors)
        record = article.to_json()
        if not args.html:
            record.pop("body_html", None)
        failed += bool(article.error)
        _print_json(record)
    return 1 if failed else 0


def _read_target(target: str, timeout: float, settings: Settings) -> bytes:
    if target.startswith(("http://", "https://")):
        from feed.app.http_client import request

        return request(target, settings.politeness, timeout=timeout, max_bytes=settings.politeness.max_page_bytes)
    return Path(target).read_bytes()


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    """Read JSON Lines {"title", "text", ...} on stdin; write each back with a `meeting` object added."""
    from feed.classify.classifier import classify_record

    bad = 0
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("expected a JSON object")
        except ValueError as exc:
            _print_json({"line": number, "error": f"not a JSON object: {exc}"})
            bad += 1
            continue
        _print_json(classify_record(record, explain=args.explain))
    return 1 if bad else 0


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the meeting-report model from the labelled corpus; print what was read and the artifact's hash."""
    from feed.classify.model import shipped_path
    from feed.classify.train import TrainingUnavailable, train

    out = Path(args.out) if args.out else shipped_path()
    try:
        done = train(Path(args.corpus), out, holdout=Path(args.holdout) if args.holdout else None)
    except TrainingUnavailable as exc:
        print(f"unionfeed: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as exc:
        print(f"unionfeed: cannot train: {exc}", file=sys.stderr)
        return 2
    corpus = done.corpus
    print(
        f"read {corpus.lines} lines of {len(corpus.files)} files in {args.corpus}: {done.items} items"
        f" ({done.positives} meeting reports); skipped {corpus.malformed} malformed, {corpus.duplicates} duplicate"
        f" URLs, {corpus.held_out} held-out URLs"
    )
    print(f"wrote {done.out} ({done.weights} report weights)")
    print(f"sha256 {done.sha256}")
    return 0


def _day(text: str) -> datetime:
    """--since: a date (YYYY-MM-DD, midnight in Vietnam) or an ISO time with its offset."""
    from feed.lang.dates import VN_TZ

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD) or an ISO time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=VN_TZ)


def cmd_reclassify(args: argparse.Namespace, settings: Settings) -> int:
    """Classify stored articles again (after the classifier changed); the next publish shows the new verdicts."""
    from rich.progress import Progress

    from feed.ingest import reclassify
    from feed.store.api import Store

    if args.slugs:
        sources, problems = _usable_sources(settings)
        known = {s.slug for s in sources} | {p.slug for p in problems if p.slug}
        unknown = [slug for slug in args.slugs if slug not in known]
        if unknown:
            raise ConfigError(f"unknown source slug(s): {', '.join(unknown)}")
    store = Store(settings.db_url)
    try:
        with Progress(console=console(), transient=True, disable=not sys.stderr.isatty()) as progress:
            task = progress.add_task("reclassifying", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            figures = reclassify(store, since=args.since, slugs=args.slugs, progress=advance)
    finally:
        store.close()
    print(
        f"reclassified {figures.read} stored articles: {figures.changed} changed verdict "
        f"({figures.now_reports} now meeting reports, {figures.no_longer_reports} no longer); "
        "run `unionfeed publish` (the scheduler does after its next crawl) to update the feeds"
    )
    return 0


def cmd_alerts(args: argparse.Namespace, settings: Settings) -> int:
    """`alerts test`: a test message on every channel; `alerts send`: what is new since each channel's last alert."""
    from feed.alerts.config import load_alerts
    from feed.alerts.run import send_alerts, send_test
    from feed.store.api import Store

    config = load_alerts(settings)
    if config is None:
        where = settings.config.parent / "settings.yaml"
        raise ConfigError(f"{where}: no `alerts:` section: no webhook or e-mail to send to (see docs/operations.md)")
    if args.action == "test":
        outcomes = send_test(settings, config)
    else:
        store = Store(settings.db_url)
        try:
            outcomes = send_alerts(settings, store, config)
        finally:
            store.close()
    for outcome in outcomes:
        print(
            f"unionfeed alerts {args.action}: {outcome.line()}",
            file=sys.stderr if outcome.status == "failed" else sys.stdout,
        )
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the bundled sample sites on loopback and run crawl → publish once."""
    from feed.app.demo import run_demo

    if args.database_url:
        settings = replace(settings, database_url=args.database_url)
    return run_demo(Path(args.out) if args.out else settings.data / "demo", settings)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", default=argparse.SUPPRESS, help="sources file (default config/sources.yaml; env UNIONFEED_CONFIG)"
    )
    common.add_argument(
        "--data",
        default=argparse.SUPPRESS,
        help="folder for the store and published files (default data/; env UNIONFEED_DATA)",
    )
    parser = argparse.ArgumentParser(prog="unionfeed", description=__doc__, parents=[common], epilog=EXIT_CODES)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    from feed.app.plain_errors import version

    parser.add_argument("--version", action="version", version=f"unionfeed {version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_, description=help_, epilog=EXIT_CODES)
        p.set_defaults(handler=handler)
        return p

    p = add("crawl", cmd_crawl, "crawl sources once (all enabled ones when no slug is given)")
    p.add_argument("slugs", nargs="*")
    p.add_argument("--refetch", action="store_true", help="fetch article pages even when already stored")
    p.add_argument(
        "--log-level",
        default=None,
        help="show Scrapy's page-by-page log at this level, e.g. WARNING (default: only the per-source summary)",
    )
    p = add("publish", cmd_publish, "write feeds, snapshots and the index page")
    p.add_argument("--check", action="store_true", help="then check every snapshot file against its JSON Schema")
    p.add_argument(
        "--allow-empty", action="store_true", help="publish even when it empties feeds that have entries (empty store)"
    )
    for name, handler, help_ in (("run", cmd_run, "run the scheduler"), ("serve", cmd_serve, "serve the feeds")):
        p = add(name, handler, help_)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8080)
        if name == "run":
            p.add_argument("--serve", action="store_true", help="also serve the published folder")
            p.add_argument(
                "--stop-grace",
                type=float,
                default=8.0,
                metavar="SECONDS",
                help="on SIGTERM, how long a running crawl may take to stop before it is killed",
            )
    p = add("sources", cmd_sources, "list or check the configured sources, or propose one from its homepage")
    p.add_argument("action", choices=["list", "check", "add"])
    p.add_argument("slugs", nargs="*", metavar="SLUG_OR_URL", help="slugs (all by default); add: one homepage URL")
    p.add_argument(
        "--no-probe", action="store_true", help="check: only fetch discovery URLs and samples, no probe crawl"
    )
    p.add_argument("--slug", help="add: the new source's slug (default: from the host)")
    p.add_argument("--kind", choices=[k.value for k in SourceKind], help="add: the source's kind (default: a guess)")
    p.add_argument("--name", help="add: the source's name (default: the homepage's site name)")
    p.add_argument("--render", choices=["http", "browser"], default="http", help="add: how pages are fetched")
    p.add_argument("--write", action="store_true", help="add: append the entry to the sources file")
    p = add("status", cmd_status, "show each source's health and latest crawl")
    p.add_argument("--write", action="store_true", help="also write status.json and feeds/health.atom")
    p.add_argument("--json", action="store_true", help="print status.json's document instead of a table")
    p = add("extract", cmd_extract, "extract articles from files or URLs, one JSON object a line")
    p.add_argument("targets", nargs="+", metavar="FILE_OR_URL")
    p.add_argument("--url", help="the page's real URL (for saved files)")
    p.add_argument("--source", help="use this source's selectors")
    p.add_argument("--html", action="store_true", help="include body_html")
    p.add_argument("--timeout", type=float, default=30.0)
    p = add("classify", cmd_classify, "classify JSON Lines from stdin")
    p.add_argument(
        "--explain", action="store_true", help="show the features that weighed most, and the cues that fired"
    )
    p = add("reclassify", cmd_reclassify, "classify stored articles again, e.g. after the classifier changed")
    p.add_argument("slugs", nargs="*", help="only these sources (all by default)")
    p.add_argument("--since", type=_day, metavar="DATE", help="only articles first seen or published since DATE")
    p = add("train", cmd_train, "rebuild the meeting-report model from the labelled corpus (needs unionfeed[train])")
    p.add_argument("--corpus", default="corpus/meetings", help="folder of labelled JSON Lines (default: %(default)s)")
    p.add_argument("--out", help="where to write the model (default: the packaged meeting_model.json)")
    p.add_argument("--holdout", metavar="JSONL", help="a labelled test set whose URLs are never trained on")
    from feed.app import search_cmd  # `unionfeed search` (feed.app.search_cmd)

    search_cmd.add_arguments(add("search", search_cmd.run, search_cmd.HELP))
    p = add("alerts", cmd_alerts, "send a test alert, or what is new since the last alerts (webhooks, e-mail)")
    p.add_argument("action", choices=["test", "send"])
    p = add("demo", cmd_demo, "run the whole pipeline once against bundled sample sites on loopback")
    p.add_argument("--out", help="the demo's data folder (published files land in OUT/public)")
    p.add_argument(
        "--database-url",
        help="store the demo's articles in this database, e.g. postgresql+psycopg://user@host/db (default: env "
        "UNIONFEED_DATABASE_URL, else a SQLite file in OUT); it must hold no other source's articles",
    )
    return parser


def _store_failure(exc: Exception, args: argparse.Namespace) -> Exception | None:
    """The StoreError an exception stands for (a driver error raised outside the Store's own calls too)."""
    from feed.store.api import busy_timeout_ms
    from feed.store.faults import StoreError, explain

    if isinstance(exc, StoreError):
        return exc
    try:
        database = load_settings(getattr(args, "config", None), getattr(args, "data", None)).db_url
        return explain(exc, database.removeprefix("sqlite:///"), busy_timeout_ms() / 1000)
    except Exception:  # the original error is raised instead
        return None


def _data_folder(args: argparse.Namespace) -> Path | None:
    try:
        return load_settings(getattr(args, "config", None), getattr(args, "data", None)).data
    except Exception:  # the settings themselves are broken: the error names the path it met
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `unionfeed` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # On the handler too: starting a crawl, Scrapy sets the root logger and its own back to DEBUG.
    wanted = logging.getLevelName(str(getattr(args, "log_level", "") or "").upper())
    for handler in logging.getLogger().handlers:
        handler.setLevel(wanted if isinstance(wanted, int) else level)
    try:
        settings = load_settings(getattr(args, "config", None), getattr(args, "data", None))
        return int(args.handler(args, settings))
    except ConfigError as exc:
        print(f"unionfeed: configuration error:\n{exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a store that cannot be used: one line naming the file and the fix (feed.store.faults)
        from feed.app import plain_errors
        from feed.store.faults import EXIT_STATUS

        failure = _store_failure(exc, args)
        if failure is None:  # a data folder this process may not write: one line naming the uid and the fix
            problem = plain_errors.data_folder_problem(exc, _data_folder(args))
            if problem is None:
                raise
            print(f"unionfeed {args.command}: {problem}", file=sys.stderr)
            return EXIT_STATUS
        hint = plain_errors.store_hint(str(getattr(failure, "kind", "")))
        print(f"unionfeed {args.command}: {failure}{hint}", file=sys.stderr)
        return EXIT_STATUS
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
