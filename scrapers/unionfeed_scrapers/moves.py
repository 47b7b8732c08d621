"""Sites that moved: when a source's homepage and its discovery pages all redirect permanently to one new host, follow.

nld.com.vn answers every path, RSS included, with a 301 to tuoitre.vn/nld/<the same path>. The source boundary
refuses a redirect to another host, so such a source would get nothing. A move is followed only when it is the
whole site's:

1. a discovery page of the source (a configured feed, sitemap or listing on the homepage's host) is redirected
   to another host with 301 or 308 only: the boundary holds it (`boundary.MovedAway`) instead of refusing it;
2. the spider then asks the homepage once, without following redirects: it must answer 301/308 to that same host;
3. every other discovery page on the homepage's host must have moved alike (none answered there, none went to
   another host); a page that failed (timeout, robots.txt) neither proves nor disproves it.

The move found is the new host scoped to the path prefix the site moved to (`/nld/`, from where each old path
landed): it joins the source's boundary for this run and is remembered in the store (`Store.save_move`) for the
next runs, which follow the redirects at once. Articles of the new host outside that prefix are not the source's:
refused and counted (`unionfeed/offsite_refused/outside_move`). A temporary redirect (302, 303, 307), a move of the
homepage or of one discovery page alone, or pages that went to different hosts are refused as any other redirect
to another host (`unionfeed/moved_refused` counts them). While a source still reaches its pages through a move,
each run names it in its stats (`unionfeed/moved_to`, `unionfeed/moved_fix`: the entry's new homepage and
discovery URLs), from which `feed.health.verdict` raises the `moved` flag: "trang đã chuyển sang tuoitre.vn/nld/".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request
from scrapy.http import Response
from twisted.python.failure import Failure

from feed.lang.urls import canonicalize_url, origin_of
from feed.store.api import Store
from unionfeed_scrapers.boundary import MovedAway
from unionfeed_scrapers.keys import DISCOVERY, HOMEPAGE_DISCOVERY

log = logging.getLogger(__name__)

PERMANENT = (301, 308)
REDIRECTS = (301, 302, 303, 307, 308)
PROBE = "unionfeed_move_probe"  # meta flag: the homepage asked without following its redirect
MOVED_TO = "unionfeed/moved_to"  # stats: where the site moved ("tuoitre.vn/nld/")
MOVED_FROM = "unionfeed/moved_from"  # stats: the configured host it moved from
MOVED_HOMEPAGE = "unionfeed/moved_homepage"  # stats: the homepage's new URL
MOVED_FIX = "unionfeed/moved_fix"  # stats: the entry's fix, in sources.yaml words
MOVED_REFUSED = "unionfeed/moved_refused"  # stats: discovery redirects to another host that were no whole-site move


@dataclass(frozen=True)
class Move:
    """A whole site moved: from a configured origin to a new origin's path prefix (to_url = scheme://host/prefix/)."""

    from_origin: str
    to_url: str
    homepage: str  # where the configured homepage now redirects
    keeps_paths: bool  # the old path P is now at prefix + P (so every configured URL maps over)

    @property
    def to_origin(self) -> str:
        return origin_of(self.to_url)

    @property
    def prefix(self) -> str:
        return urlsplit(self.to_url).path or "/"

    @property
    def label(self) -> str:
        """The new place as people write it: "tuoitre.vn/nld/"."""
        return self.to_origin + self.prefix

    def new_url(self, old: str) -> str | None:
        """Where a configured URL of the old host lives now, when the move kept its paths."""
        if not self.keeps_paths or origin_of(old) != self.from_origin:
            return None
        parts, to = urlsplit(old), urlsplit(self.to_url)
        return urlunsplit((to.scheme, to.netloc, self.prefix.rstrip("/") + (parts.path or "/"), parts.query, ""))


def landing_prefix(old: str, new: str) -> tuple[str, bool]:
    """The path prefix an old URL landed under, and whether its path was kept ("/rss/a.rss" -> "/nld/rss/a.rss"
    gives ("/nld/", True)); when the path changed, the new path's first folder ("/" when there is none)."""
    old_path, new_path = urlsplit(old).path or "/", urlsplit(new).path or "/"
    if old_path == "/":  # a homepage: "/" -> "/nld/" (or "/nld")
        return new_path.rstrip("/") + "/", True
    if new_path.endswith(old_path):
        return new_path[: len(new_path) - len(old_path)] + "/", True
    folders = new_path.strip("/").split("/")[:-1]  # the page's own name is no folder
    return (f"/{folders[0]}/" if folders else "/"), False


def common_prefix(prefixes: list[str]) -> str:
    """The longest folder path every prefix starts with ("/nld/" and "/nld/rss/" -> "/nld/")."""
    parts = [p.strip("/").split("/") if p.strip("/") else [] for p in prefixes]
    common: list[str] = []
    for segments in zip(*parts, strict=False):
        if len(set(segments)) != 1:
            break
        common.append(segments[0])
    return "/" + "".join(f"{s}/" for s in common)


def permanent(request: Request) -> bool:
    """True when every redirect that led to this request was permanent (301/308)."""
    reasons = request.meta.get("redirect_reasons") or []
    return bool(reasons) and all(r in PERMANENT for r in reasons)


def original_url(request: Request) -> str:
    return (request.meta.get("redirect_urls") or [request.url])[0]


class MoveWatch:
    """One per spider: tells a moved site from a stray redirect, and keeps the boundary and the run's stats told."""

    def __init__(self, spider: Any, crawler: Any, store: Store | None) -> None:
        self.spider, self.crawler, self.store = spider, crawler, store
        source = spider.source
        self.home_origin = origin_of(source.homepage)
        discovery = source.discovery
        urls = [*discovery.feeds, *discovery.sitemaps, *(listing.url for listing in discovery.listings)]
        if not discovery.configured:  # a homepage-only source: its homepage is its one discovery page
            urls = [source.homepage]
        # The discovery pages on the homepage's host, by canonical URL: each answered, moved, or failed.
        self.starts: dict[str, str] = {canonicalize_url(u): "pending" for u in urls if origin_of(u) == self.home_origin}
        self.held: list[tuple[Request, str]] = []  # redirected discovery requests held, and where they went
        self.probe: tuple[int, str] | str = "not asked"  # the homepage's (status, Location), or why not
        self.decided = False
        self.moves: dict[str, Move] = {}  # by new origin: this run's and the remembered ones
        self.named: set[str] = set()  # moves already named in this run's stats
        if store is not None:
            for row in store.moves(source.slug):
                if row.from_origin in spider.boundary.origins:
                    self.adopt(Move(row.from_origin, row.to_url, row.homepage, row.keeps_paths))

    def adopt(self, move: Move) -> None:
        self.moves[move.to_origin] = move
        self.spider.boundary.add_scope(move.to_origin, move.prefix)

    # --- what the boundary middleware and the spider tell it --------------------------------------------------
    def holds(self, request: Request) -> bool:
        """True when a request outside the boundary is a discovery page's permanent redirect, to be held until the
        whole site is judged (the spider's errback hands it back through `failed`)."""
        asked_for_discovery = request.meta.get(DISCOVERY) or request.meta.get(HOMEPAGE_DISCOVERY)
        if self.decided or not asked_for_discovery or not permanent(request):
            return False
        return self.starts.get(canonicalize_url(original_url(request))) == "pending"

    def answered(self, request: Request, response: Response) -> None:
        """A discovery page answered (on its own host, or after a redirect the boundary let through)."""
        key = canonicalize_url(original_url(request))
        if self.starts.get(key) == "pending":
            moved = origin_of(response.url) != self.home_origin and request.meta.get("redirect_urls")
            self.starts[key] = "moved" if moved else "answered"
            self.decide()

    def followed(self, request: Request) -> None:
        """A redirect the boundary let through: when it went from the old host into a move, the run names it."""
        move = self.moves.get(origin_of(request.url))
        if move is not None and origin_of(original_url(request)) == move.from_origin:
            self.name(move)

    def failed(self, failure: Failure) -> bool:
        """The spider's errback hands every failure here first; True when it was a held redirect (not an error)."""
        request = getattr(failure, "request", None)
        if request is None:
            return False
        key = canonicalize_url(original_url(request))
        if failure.check(MovedAway):
            self.starts[key] = "moved"
            self.held.append((request, request.url))
            self.ask_homepage()
            self.decide()
            return True
        if self.starts.get(key) == "pending":
            self.starts[key] = "failed"
            self.decide()
        return False

    # --- the homepage ------------------------------------------------------------------------------------------
    def ask_homepage(self) -> None:
        if self.probe != "not asked":
            return
        home = canonicalize_url(self.spider.source.homepage)
        for request, target in self.held:
            if canonicalize_url(original_url(request)) == home:  # the homepage is a discovery page: already known
                hops = [*request.meta["redirect_urls"][1:], target]  # where each redirect of the chain led
                self.probe = (int(request.meta["redirect_reasons"][0]), hops[0])
                return
        self.probe = "asking"
        probe = Request(
            self.spider.source.homepage,
            callback=self.on_homepage,
            errback=self.on_homepage_error,
            dont_filter=True,
            meta={"dont_redirect": True, "handle_httpstatus_list": list(REDIRECTS), PROBE: True},
        )
        self.crawler.engine.crawl(probe)

    def on_homepage(self, response: Response) -> list[Any]:
        location = response.headers.get(b"Location")
        if response.status in REDIRECTS and location:
            self.probe = (response.status, response.urljoin(location.decode("latin-1")))
        else:
            self.probe = f"the homepage answers HTTP {response.status} where it was"
        self.decide()
        return []

    def on_homepage_error(self, failure: Failure) -> list[Any]:
        self.probe = f"the homepage could not be asked ({failure.getErrorMessage() or failure.type})"
        self.decide()
        return []

    # --- judging -------------------------------------------------------------------------------------------
    def decide(self) -> None:
        if self.decided or not self.held or self.probe in ("not asked", "asking"):
            return
        if any(state == "pending" for state in self.starts.values()):
            return
        self.decided = True
        why, move = self.judge()
        if move is None:
            for _, target in self.held:
                self.crawler.stats.inc_value(MOVED_REFUSED)
                self.spider.boundary.refuse(target, "redirect")
            log.warning(
                "source %s: not following %d discovery page(s) to another host: %s",
                self.spider.source.slug,
                len(self.held),
                why,
                extra={"event": "move_refused"},
            )
            return
        self.adopt(move)
        if self.store is not None:
            slug = self.spider.source.slug
            self.store.save_move(slug, move.from_origin, move.to_url, move.homepage, move.keeps_paths)
        log.warning(
            "source %s: the whole site moved permanently from %s to %s; following it (mend the entry: %s)",
            self.spider.source.slug,
            move.from_origin,
            move.label,
            self.fix(move),
            extra={"event": "site_moved"},
        )
        self.name(move)
        for request, _ in self.held:  # asked again where they went, now inside the boundary
            self.crawler.engine.crawl(request.replace(dont_filter=True))

    def judge(self) -> tuple[str, Move | None]:
        """Why the held redirects are no whole-site move, or the move they are."""
        if not isinstance(self.probe, tuple):
            return str(self.probe), None
        status, home_target = self.probe
        if status not in PERMANENT:
            return f"the homepage redirects only temporarily (HTTP {status})", None
        new_origin = origin_of(home_target)
        if new_origin == self.home_origin:
            return "the homepage redirects within its own host", None
        stayed = [url for url, state in self.starts.items() if state == "answered"]
        if stayed:
            return f"{stayed[0]} still answers on {self.home_origin}", None
        elsewhere = [t for _, t in self.held if origin_of(t) != new_origin]
        if elsewhere:
            return f"discovery pages went to other hosts than the homepage ({elsewhere[0]})", None
        pairs = [(self.spider.source.homepage, home_target), *((original_url(r), t) for r, t in self.held)]
        landed = [landing_prefix(old, new) for old, new in pairs]
        prefix = common_prefix([p for p, _ in landed])
        keeps = all(k for _, k in landed) and len({p for p, _ in landed}) == 1
        to = urlsplit(home_target)
        to_url = urlunsplit((to.scheme, to.netloc, prefix, "", ""))
        return "", Move(self.home_origin, to_url, home_target, keeps)

    # --- naming it ------------------------------------------------------------------------------------------
    def fix(self, move: Move) -> str:
        """The entry's new homepage and discovery URLs, in sources.yaml words."""
        discovery = self.spider.source.discovery
        parts = [f"homepage: {move.homepage}"]
        for name, urls in (
            ("feeds", discovery.feeds),
            ("sitemaps", discovery.sitemaps),
            ("listings", [listing.url for listing in discovery.listings]),
        ):
            mapped = [move.new_url(u) or u for u in urls if origin_of(u) == move.from_origin]
            if mapped:
                parts.append(f"{name}: {', '.join(mapped)}")
        if not move.keeps_paths:
            parts.append(f"(paths changed: take each discovery URL from where it redirects under {move.label})")
        return "; ".join(parts)

    def name(self, move: Move) -> None:
        if move.to_origin in self.named:
            return
        self.named.add(move.to_origin)
        stats = self.crawler.stats
        stats.set_value(MOVED_TO, move.label)
        stats.set_value(MOVED_FROM, move.from_origin)
        stats.set_value(MOVED_HOMEPAGE, move.homepage)
        stats.set_value(MOVED_FIX, self.fix(move))
