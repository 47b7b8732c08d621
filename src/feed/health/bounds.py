"""What a run's bounds cut, as status shows it: article bodies cut at the body cap, sitemap children not followed
(children per index, depth, sitemaps per run) and sitemap loops (the stats keys of unionfeed_scrapers.page_bounds
and unionfeed_scrapers.sitemaps)."""

from __future__ import annotations

from typing import Any


def run_bounds(stats: dict[str, Any]) -> dict[str, Any] | None:
    """The bounds a run met, or None when it met none."""
    figures = {
        "body_cut": int(stats.get("unionfeed/body_cut", 0)),
        "body_cut_url": stats.get("unionfeed/body_cut_url") or None,
        "sitemap_children_skipped": int(stats.get("unionfeed/sitemap_capped", 0)),
        "sitemap_capped_url": stats.get("unionfeed/sitemap_capped_url") or None,
        "sitemap_loops": int(stats.get("unionfeed/sitemap_loop", 0)),
    }
    return figures if any(figures.values()) else None
