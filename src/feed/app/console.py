"""What the terminal shows: a rich console sized for pipes, and the tables of `unionfeed status`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feed.health.verdict import SourceHealth

STATE_STYLES = {"ok": "green", "broken": "bold red", "pending": "yellow", "disabled": "dim"}


def console() -> Any:
    """A rich console; wide when output is not a terminal, so piped tables are not squeezed to 80 columns."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def status_table(healths: list[SourceHealth]) -> Any:
    """A rich table of every source's health, for `unionfeed status`."""
    from rich.table import Table

    from feed.lang.dates import VN_TZ

    table = Table(
        "source",
        "state",
        "why",
        "last run",
        "outcome",
        "req",
        "304",
        "found",
        "new",
        "upd",
        "err",
        "title/date/body",
        "newest article",
        title="unionfeed sources",
    )
    for h in healths:
        run = h.last_run
        when = run.finished_at or run.started_at if run else None
        coverage = "/".join(f"{h.coverage[f]:.0%}" for f in ("title", "date", "body")) if h.coverage else "—"
        style = STATE_STYLES.get(h.state, "")
        state = f"[{style}]{h.state}[/]" if style else h.state
        why = "; ".join(r.text for r in (*h.reasons, *h.flags)) or (run.cause.text if run and run.cause else "")
        if h.discovered:  # a homepage-only source: what discovery found
            why = "; ".join(filter(None, (why, f"discovered: {h.discovered['text']}")))
        table.add_row(
            h.slug,
            state
            + (" [yellow](selectors stale)[/]" if any(f.code == "selectors_stale" for f in h.flags) else "")
            + (" (pages skipped)" if any(f.code == "not_articles" for f in h.flags) else ""),
            why,
            f"{when.astimezone(VN_TZ):%Y-%m-%d %H:%M}" if when else "never",
            run.outcome if run else "",
            *(
                str(x)
                for x in (
                    (run.requests, run.not_modified, run.found, run.new, run.updated, run.errors) if run else ("",) * 6
                )
            ),
            coverage,
            f"{h.newest_article_at.astimezone(VN_TZ):%Y-%m-%d}" if h.newest_article_at else "—",
        )
    return table
