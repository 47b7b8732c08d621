"""What `unionfeed crawl` says when it is done: one line per source, a last line, and the exit status.

Each line names the source, what its run did (new and updated articles, pages refused as not articles, page
errors) and, when it failed, why in plain words ("the site refused the connection (http://…/)") instead of the
Twisted message. The last line counts the sources that failed; when every source failed it says so. The exit
status tells "some sources failed" (SOME_FAILED_EXIT) from "all failed" (ALL_FAILED_EXIT); `unionfeed status`
uses the same two codes for broken sources. While the crawl runs, a live progress line is drawn only when stdout is
a terminal (Progress); piped output gets the plain lines alone.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from feed.config.sources import Source
from feed.health.verdict import RunFigures, run_figures
from feed.health.words import plain_words
from feed.store.api import Store, now_utc

SOME_FAILED_EXIT = 7  # crawl: some sources failed (the others ran); status: some sources are broken
ALL_FAILED_EXIT = 8  # crawl: every source crawled failed; status: every source is broken

# A page error in plain words: the one table of error classes, beside their Vietnamese wording.
plain_error = plain_words


@dataclass(frozen=True)
class SourceReport:
    """One source's part in a crawl."""

    slug: str
    state: str  # ok | unchanged | empty | failed | busy (another process was crawling it)
    new: int = 0
    updated: int = 0
    refused: int = 0  # pages refused as not articles (never stored)
    errors: int = 0
    why: str = ""  # plain words: why it failed, or what it met

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    def line(self) -> str:
        """`slug: state — 3 new, 1 updated, 0 pages refused, 0 errors` (and why, when there is a why)."""
        if self.state == "busy":
            return f"{self.slug}: not crawled — {self.why}"
        figures = (
            f"{self.new} new, {self.updated} updated, {self.refused} page{'' if self.refused == 1 else 's'} refused, "
            f"{self.errors} error{'' if self.errors == 1 else 's'}"
        )
        words = {"ok": "ok", "unchanged": "unchanged", "empty": "found nothing", "failed": "FAILED"}[self.state]
        return f"{self.slug}: {words}" + (f": {self.why}" if self.why else "") + f" — {figures}"


def before(store: Store) -> dict[str, int]:
    """The id of each source's latest run, taken before a crawl: runs above it are that crawl's."""
    return {slug: run.id for slug, run in store.last_runs().items()}


def reports(
    store: Store,
    sources: Sequence[Source],
    previous: Mapping[str, int],
    *,
    time_limit: int,
    busy: Mapping[str, str] | None = None,
    store_refused: Sequence[str] = (),
) -> list[SourceReport]:
    """Each source's report from the run the crawl recorded for it (failed when it recorded none)."""
    from sqlalchemy import select

    from feed.store.schema import PageError

    now = now_utc()
    out = [SourceReport(slug, "busy", why=f"it is being crawled by {holder}") for slug, holder in (busy or {}).items()]
    for source in sources:
        if busy and source.slug in busy:
            continue
        runs = [r for r in store.runs(source.slug, limit=1) if r.id > previous.get(source.slug, 0)]
        if not runs:
            out.append(SourceReport(source.slug, "failed", why="the crawl recorded no run (see the log)"))
            continue
        figures = run_figures(runs[0], now, time_limit)
        with store.session() as s:
            first = s.execute(
                select(PageError.url, PageError.error).where(PageError.run_id == figures.run_id).order_by(PageError.id)
            ).first()
        report = _report(source.slug, figures, (first[0], first[1]) if first else None)
        if source.slug in store_refused:
            why = "; ".join(filter(None, (report.why, "the store refused some articles: they are fetched next time")))
            report = SourceReport(**{**report.__dict__, "state": "failed", "why": why})
        out.append(report)
    return out


def _report(slug: str, run: RunFigures, first_error: tuple[str, str] | None) -> SourceReport:
    state = run.outcome if run.outcome in ("ok", "unchanged", "empty", "failed") else "failed"
    why = ""
    if run.cause is not None:  # an obstacle the crawl met and named: a cookie gate, a page that needs JavaScript
        state, why = "failed", run.cause.text
    elif state == "failed":
        http = [f"HTTP {code}" for code in sorted(run.statuses) if int(code) >= 400]
        if first_error is not None:
            why = f"{plain_error(first_error[1])} ({first_error[0]})"
        elif http:
            why = "the site answered " + ", ".join(http)
        elif run.finish_reason not in ("finished", ""):
            why = f"stopped: {run.finish_reason.replace('_', ' ')}"
        else:
            why = "its discovery pages could not be fetched"
    elif first_error is not None:
        why = f"first error: {plain_error(first_error[1])} ({first_error[0]})"
    return SourceReport(
        slug,
        state,
        new=run.new,
        updated=run.updated,
        refused=sum(run.not_articles.values()),
        errors=run.errors,
        why=why,
    )


def last_line(done: Sequence[SourceReport]) -> str:
    """The verdict under the per-source lines."""
    crawled = [r for r in done if r.state != "busy"]
    failed = [r for r in crawled if r.failed]
    new = sum(r.new for r in crawled)
    updated = sum(r.updated for r in crawled)
    if crawled and len(failed) == len(crawled):
        return f"all {len(crawled)} source{'' if len(crawled) == 1 else 's'} failed: nothing was fetched"
    head = f"{len(crawled)} source{'' if len(crawled) == 1 else 's'} crawled: {new} new, {updated} updated articles"
    return head + (f"; {len(failed)} failed: {', '.join(r.slug for r in failed)}" if failed else "")


def exit_status(done: Sequence[SourceReport]) -> int:
    """0 when no crawled source failed, ALL_FAILED_EXIT when every one did, else SOME_FAILED_EXIT."""
    crawled = [r for r in done if r.state != "busy"]
    failed = [r for r in crawled if r.failed]
    if not failed:
        return 0
    return ALL_FAILED_EXIT if len(failed) == len(crawled) else SOME_FAILED_EXIT


def broken_status(broken: int, total: int) -> int:
    """`unionfeed status`: 0 when no source is broken, ALL_FAILED_EXIT when every one is, else SOME_FAILED_EXIT."""
    if not broken:
        return 0
    return ALL_FAILED_EXIT if broken == total else SOME_FAILED_EXIT


class Progress:
    """A live line on a terminal while the crawl runs: sources done, pages fetched, articles new and updated.

    Redrawn from a thread reading the crawlers' stats (plain counters) every `every` seconds; cleared when the
    crawl ends, so what stays on the screen is the summary. Never used when stdout is not a terminal.
    """

    def __init__(self, stream: TextIO, every: float = 0.25) -> None:
        self.stream = stream
        self.every = every
        self._crawlers: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, crawlers: Mapping[str, Any]) -> None:
        """Start drawing (the crawl runner calls this with its crawlers just before the reactor starts)."""
        self._crawlers = dict(crawlers)
        self._thread = threading.Thread(target=self._run, name="crawl-progress", daemon=True)
        self._thread.start()

    def text(self) -> str:
        done = pages = new = updated = 0
        for crawler in self._crawlers.values():
            stats = crawler.stats.get_stats() if crawler.stats is not None else {}
            done += "finish_reason" in stats
            pages += int(stats.get("response_received_count", 0))
            new += int(stats.get("unionfeed/articles_new", 0))
            updated += int(stats.get("unionfeed/articles_updated", 0))
        return f"crawling: {done}/{len(self._crawlers)} sources done, {pages} pages, {new} new, {updated} updated"

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.stream.write("\r\x1b[2K" + self.text())
            self.stream.flush()

    def close(self) -> None:
        """Stop drawing and clear the line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
