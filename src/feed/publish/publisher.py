"""Publishing: every feed, snapshot, the OPML list and the index page, rendered, staged, then renamed into place.

Order matters for readers and for failures: everything is rendered and staged beside its target first
(feed.publish.transaction), so an error (a full disk included) leaves every previous file as it was; a journal of the
renames is the commit point, so a publish killed after it is finished by the next one. A feed whose entries
did not change is not rendered again, an unchanged entry is taken from the file on disk, and a file whose bytes
did not change is not touched, so ETag and Last-Modified stay and conditional GETs keep answering 304; the
manifest is renamed last and describes what is on disk. Publishing writes files only: the app tells the WebSub hub
which feeds changed (Published.changed) once publish returns.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from feed import __version__
from feed.config.settings import Settings
from feed.config.sources import Source
from feed.health.verdict import source_health
from feed.publish.calendar import CALENDAR_EVENTS, calendar_outputs, province_calendars
from feed.publish.context import PublishContext
from feed.publish.entries import IdentityCache, Stories, build_stories
from feed.publish.feed_writer import (
    FORMAT_VERSION,
    RENDERERS,
    FeedItem,
    FeedSite,
    FeedSpec,
    reuse_entries,
    split_entries,
)
from feed.publish.incremental import PENDING, Prior, apply_pending, current_seq, load_prior, pending_document
from feed.publish.index_page import render_index
from feed.publish.jsonl import JSONL_PATH, LATEST_PATH, jsonl_output
from feed.publish.opml import ALL_OPML, opml_all, opml_document
from feed.publish.precompressed import gzip_steps
from feed.publish.query_static import query_feed_specs
from feed.publish.rows import prefetch_bodies
from feed.publish.selection import Selection, select_rows, source_key
from feed.publish.snapshots import (
    Snapshot,
    SnapshotState,
    build_snapshot,
    dated_path,
    manifest_document,
    stale_dated,
)
from feed.publish.transaction import Output, Stager, finish_interrupted, publish_lock, remove_staged
from feed.records import KIND_LABELS, MEETING_KINDS
from feed.store.api import Store, now_utc

log = logging.getLogger(__name__)

FEED_TITLE = "Tin công đoàn"
MEETINGS_TITLE = "Tin hội nghị, đại hội công đoàn"
OTHER_TITLE = "Tin công đoàn khác"
MANIFEST = "snapshots/manifest.json"
FORMATS = ("atom", "rss", "json")
GC_FIRST_THRESHOLD = 100_000  # allocations between the collector's passes while publishing (Python's default: 700)
MAX_AGE_CEILING = 3600  # caches may keep a file at most this long, however rarely its sources are polled
IMMUTABLE_AGE = 365 * 24 * 3600
DEFAULT_INTERVAL = 60
# Files earlier runs wrote that this run keeps without rewriting: dated snapshots and change files.
KEPT_FILES = re.compile(r"^snapshots/([0-9]{4}-[0-9]{2}-[0-9]{2}|changes/[0-9]{8}T[0-9.]+Z)\.json$")


def _interval(sources: list[Source]) -> int:
    enabled = [s.interval for s in sources if s.enabled] or [s.interval for s in sources] or [DEFAULT_INTERVAL]
    return min(enabled)


def _max_age(minutes: int) -> int:
    return max(60, min(minutes * 60, MAX_AGE_CEILING))


class KeptItems(Sequence[FeedItem]):
    """The entries of a feed this publish keeps as it is on disk: only their number is known."""

    def __init__(self, count: int) -> None:
        self.known = count

    def __len__(self) -> int:
        return self.known

    def __getitem__(self, index: Any) -> Any:
        raise LookupError("the entries of a kept feed are not read")


def feed_specs(
    stories: Stories,
    sources: list[Source],
    settings: Settings,
    empty_since: Callable[[str], datetime],
    kept: dict[str, int] | None = None,
) -> list[FeedSpec]:
    """all, meetings, other (every story not a meeting report), one per kind and one per source; an empty feed's
    `updated` is when it became empty.
    `kept`: the per-source feeds this publish keeps as they are (path -> entries), none of whose articles changed."""
    kept = kept or {}
    base = settings.site_url.rstrip("/") + "/"
    limit = settings.feed_limit
    every = _interval(sources)
    meetings = [i for i in stories.stories if i.is_report]
    other = [i for i in stories.stories if not i.is_report]
    specs = [
        FeedSpec(
            "all",
            FEED_TITLE,
            "Mọi bài viết từ các trang công đoàn được theo dõi",
            stories.stories[:limit],
            base,
            every,
            empty_since("all"),
        ),
        FeedSpec(
            "meetings",
            MEETINGS_TITLE,
            "Tin tường thuật hội nghị, đại hội công đoàn",
            meetings[:limit],
            f"{base}#hoi-nghi",
            every,
            empty_since("meetings"),
        ),
        # Every story that is not a meeting report: with meetings, what feeds.opml subscribes to (no overlap).
        FeedSpec(
            "other",
            OTHER_TITLE,
            "Tin công đoàn không phải tường thuật hội nghị",
            other[:limit],
            base,  # the index page (it has no filter for non-reports)
            every,
            empty_since("other"),
        ),
    ]
    for kind in MEETING_KINDS:
        items = [i for i in meetings if i.kind == kind][:limit]
        specs.append(
            FeedSpec(
                f"kinds/{kind}",
                KIND_LABELS[kind],
                f"Tin tường thuật: {KIND_LABELS[kind]}",
                items,
                f"{base}#loai={kind}",
                every,
                empty_since(f"kinds/{kind}"),
            )
        )
    for source in sources:
        path = f"sources/{source.slug}"
        specs.append(
            FeedSpec(
                path,
                source.name,
                f"Bài viết của {source.name}",
                KeptItems(kept[path]) if path in kept else stories.by_source.get(source.slug, []),
                f"{base}#nguon={source.slug}",
                source.interval,
                empty_since(f"sources/{source.slug}"),
                getattr(stories.by_source.get(source.slug), "signature", None),
            )
        )
    return specs


def spec_signature(spec: FeedSpec, site: FeedSite) -> str:
    """Equal signatures render equal bytes, so an unchanged feed need not be rendered again."""
    entries = spec.items_signature or [i.signature for i in spec.items]
    head = repr(
        (
            FORMAT_VERSION,
            spec.title,
            spec.description,
            spec.alternate,
            spec.ttl_minutes,
            spec.updated if not spec.items else None,
            site,
            entries,
        )
    )
    return hashlib.blake2b(head.encode("utf-8"), digest_size=12).hexdigest()


def _reuse_key(site: FeedSite) -> str:
    """Entries rendered for another site or by another renderer version are not reused."""
    return repr((FORMAT_VERSION, site))


def _reuse_previous_entries(ctx: PublishContext, render: list[FeedSpec], state: dict[str, Any]) -> None:
    """Hand the entries of the feeds about to be rendered their fragments from the files on disk, where the
    entry did not change (a crawl usually adds a few entries to feeds of hundreds)."""
    previous: dict[str, list[str]] = state.get("items") or {}
    for spec in render:
        signatures = previous.get(spec.path)
        if not signatures:
            continue
        fragments = {}
        for fmt in FORMATS:
            try:
                fragments[fmt] = split_entries(fmt, (ctx.out / f"feeds/{spec.path}.{fmt}").read_text("utf-8"))
            except OSError:
                continue
        reuse_entries(spec.items, signatures, fragments)


def _release(item: FeedItem) -> None:
    """Let go of what rendering an entry kept (its fragments, its HTML) once no feed still to render shows it:
    made again, they would be the same bytes."""
    item._xml.clear()
    details = item._details
    if details is not None:
        full = item.full_body or details.brief is None
        for key in ("html", "escaped") if full else ("brief", "escaped-brief"):
            details.rendered.pop(key, None)


def feed_outputs(
    ctx: PublishContext,
    site: FeedSite,
    state: dict[str, Any],
    manifest: dict[str, dict[str, Any]],
    stager: Stager | None = None,
) -> tuple[dict[str, Output], dict[str, str], dict[str, list[str]]]:
    """The three files of every feed; a feed with the signature it had last run is kept as it is.
    Returns the outputs, each feed's signature and each feed's entry signatures (for the next run).

    With a `stager`, each feed's files are handed to it as soon as they are rendered and their text let go
    (Stager.stage, release), and each entry's fragments once the last feed showing it is rendered: a first
    publish holds one feed at a time, not every feed and every entry at once."""
    outputs: dict[str, Output] = {}
    signatures: dict[str, str] = {}
    render: list[FeedSpec] = []
    seen: dict[str, str] = state.get("feeds") or {}
    for spec in ctx.specs:
        paths = [f"feeds/{spec.path}.{fmt}" for fmt in FORMATS]
        if isinstance(spec.items, KeptItems):  # none of its articles changed: its files stay (see _kept_feeds)
            signatures[spec.path] = seen[spec.path]
            outputs.update((p, Output(None, len(spec.items), _max_age(spec.ttl_minutes))) for p in paths)
            continue
        sig = signatures[spec.path] = spec_signature(spec, site)
        if seen.get(spec.path) == sig and all(p in manifest and (ctx.out / p).is_file() for p in paths):
            outputs.update((p, Output(None, len(spec.items), _max_age(spec.ttl_minutes))) for p in paths)
        else:
            render.append(spec)
    if state.get("site") == _reuse_key(site):
        _reuse_previous_entries(ctx, render, state)
    by_id = {r.id: r for r in ctx.stories.rows}
    prefetch_bodies(by_id[i.article_id] for spec in render for i in spec.items if not i._xml)
    uses = Counter(id(i) for spec in render for i in spec.items)
    for spec in render:
        files = {
            f"feeds/{spec.path}.{fmt}": Output(RENDERERS[fmt](spec, site), len(spec.items), _max_age(spec.ttl_minutes))
            for fmt in FORMATS
        }
        outputs.update(files)
        if stager is None:
            continue
        stager.stage(files, release=True)
        for item in spec.items:
            uses[id(item)] -= 1
            if not uses[id(item)]:
                _release(item)
    previous: dict[str, list[str]] = state.get("items") or {}
    rendered = {spec.path for spec in render}
    entries = {
        spec.path: [i.signature for i in spec.items]
        if spec.path in rendered or spec.path not in previous
        else previous[spec.path]
        for spec in ctx.specs
    }
    return outputs, signatures, entries


def _shown_in_feeds(ctx: PublishContext) -> set[str]:
    """The articles whose entries the feeds of this publish may render (the stories of the aggregate feeds, each
    source's newest), whose bodies the snapshot keeps once read."""
    shown = {i.article_id for i in ctx.stories.stories}
    for items in ctx.stories.by_source.values():
        shown.update(r.id for r in items.rows)
    return shown


def snapshot_outputs(ctx: PublishContext, selection: Selection, prior: Prior) -> tuple[dict[str, Output], Snapshot]:
    """latest.json, today's dated copy, the change file and index; returns them and the snapshot."""
    every = _max_age(_interval(ctx.sources))
    snapshot = build_snapshot(
        selection.window,
        selection.touched,
        selection.gone,
        ctx.stories.clusters,
        selection.before,
        {s.slug: s for s in ctx.sources},
        SnapshotState.from_json(prior.snapshot),
        selection.total,
        ctx.out,
        ctx.generated_at,
        ctx.settings.snapshot_retention_days,
        _shown_in_feeds(ctx),
    )
    change_counts = {c["path"]: sum(c["counts"].values()) for c in snapshot.state.changes}
    outputs: dict[str, Output] = {}
    for path, text in snapshot.files.items():
        if path in change_counts:  # a change file never changes once written
            outputs[path] = Output(text, change_counts[path], IMMUTABLE_AGE)
        elif path.endswith("changes/index.json"):
            outputs[path] = Output(text, len(snapshot.state.changes), every)
        else:
            outputs[path] = Output(text, snapshot.counts["articles"], every)
    outputs[dated_path(ctx.generated_at)] = Output(
        None, snapshot.counts["articles"], every, link_from="snapshots/latest.json"
    )
    schema = resources.files("feed.publish").joinpath("snapshot.schema.json").read_text(encoding="utf-8")
    outputs["snapshots/schema.json"] = Output(schema, None, every)
    # JSON Lines for data teams (feed.publish.jsonl): rewritten only when latest.json is.
    latest = snapshot.files.get(LATEST_PATH)
    outputs[JSONL_PATH] = jsonl_output(latest, ctx.out, snapshot.counts["articles"], every)
    return outputs, snapshot


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _load_manifest(out: Path) -> dict[str, dict[str, Any]]:
    doc = _load_json(out / MANIFEST)
    try:
        return {f["path"]: {k: v for k, v in f.items() if k != "path"} for f in doc["files"]}
    except (KeyError, TypeError):
        return {}


def _carry_over(out: Path, entries: dict[str, dict[str, Any]], previous: dict[str, dict[str, Any]]) -> None:
    """Manifest entries for files this run kept without rewriting (older dated snapshots, change files)."""
    for path, entry in previous.items():
        if path in entries or not KEPT_FILES.match(path):
            continue  # e.g. the feeds of a source no longer configured: left on disk, not listed
        target = out / path
        if target.is_file() and target.stat().st_size == entry.get("bytes"):
            entries[path] = {**entry, "max_age": IMMUTABLE_AGE}


def _unchanged(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") == text
    except OSError:
        return False


class Published(list[Path]):
    """The files a publish wrote or kept, and `changed`: the paths (relative to the folder) whose bytes changed."""

    def __init__(self, paths: list[Path], changed: list[str]) -> None:
        super().__init__(paths)
        self.changed = changed


class PublishFailed(RuntimeError):
    """A publish that could not write its files; every file published before is as it was."""


def _no_room(exc: OSError, out: Path) -> PublishFailed | None:
    """A clear error for a full disk (or a file size limit); None for any other failure."""
    if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return None
    what = "the disk is full" if exc.errno != errno.EFBIG else "a file size limit was reached"
    return PublishFailed(
        f"publishing to {out} failed, {what}: {exc.strerror} writing {exc.filename or out}; "
        "every file published before is unchanged: free some space and publish again"
    )


class PublishRefused(PublishFailed):
    """A publish that would empty feeds that have entries (an empty or replaced store): nothing is written."""


def _refuse_emptying(store: Store, out: Path, original: dict[str, dict[str, Any]], stories: Stories) -> None:
    """PublishRefused when the new all-articles feed would be empty while the published one has entries."""
    if stories.stories:
        return
    before = original.get("feeds/all.atom", {}).get("count") or 0
    if isinstance(before, int) and before > 0:
        raise PublishRefused(
            f"not publishing to {out}: the store {store.name} has no article while the published feeds hold"
            f" {before} entries, so every feed would be emptied; check that the store is the right one (--data,"
            " UNIONFEED_DATABASE_URL), or publish with --allow-empty to empty them on purpose"
        )


@contextmanager
def _fewer_collections(first: int = GC_FIRST_THRESHOLD) -> Iterator[None]:
    """Run the cyclic garbage collector less often while publishing: a publish makes hundreds of thousands of
    objects that live until it ends (rows, entries, records) and almost no cycles, and the collector's default
    (a pass every 700 allocations, each older generation walked again and again) cost a first publish of 10,000
    articles about 5 % of its CPU. Reference counting frees everything else as before; the old thresholds
    come back when the publish ends, however it ends."""
    before = gc.get_threshold()
    gc.set_threshold(max(first, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def publish(store: Store, settings: Settings, sources: list[Source], *, allow_empty: bool = False) -> Published:
    """Write every feed, the snapshots, both OPML lists and index.html from the store; returns the files published.

    One publisher at a time per folder: a second waits for the first. A publish killed earlier is finished
    (after its commit point) or cleared away (before it) first. A full disk raises PublishFailed; a store with
    no article while the published feeds have entries raises PublishRefused unless `allow_empty`.
    """
    out = settings.public
    with publish_lock(out), _fewer_collections():
        finish_interrupted(out)
        apply_pending(store, out)  # the state of a publish killed after its commit point
        return _publish(store, settings, sources, out, allow_empty=allow_empty)


def _kept_feeds(
    out: Path, prior: Prior, manifest: dict[str, dict[str, Any]], sources: list[Source], affected: set[str] | None
) -> dict[str, int]:
    """Per-source feeds kept as they are on disk (path -> entries): none of their articles was written since the
    last publish, their source's name and interval are the same, and their three files are there as published."""
    if affected is None:
        return {}
    seen: dict[str, str] = prior.feeds.get("feeds") or {}
    counts: dict[str, int] = prior.feeds.get("counts") or {}
    kept = {}
    for source in sources:
        path = f"sources/{source.slug}"
        files = [f"feeds/{path}.{fmt}" for fmt in FORMATS]
        if source.slug in affected or path not in seen or path not in counts:
            continue
        if all(f in manifest and (out / f).is_file() for f in files):
            kept[path] = counts[path]
    return kept


def _missing_feeds(out: Path, manifest: dict[str, dict[str, Any]], sources: list[Source], prior: Prior) -> set[str]:
    """Sources whose feed files are not all there as published, or unknown to the last publish: rebuilt whatever
    changed."""
    seen: dict[str, str] = prior.feeds.get("feeds") or {}
    counts: dict[str, int] = prior.feeds.get("counts") or {}
    return {
        s.slug
        for s in sources
        if f"sources/{s.slug}" not in seen
        or f"sources/{s.slug}" not in counts
        or not all(
            f"feeds/sources/{s.slug}.{fmt}" in manifest and (out / f"feeds/sources/{s.slug}.{fmt}").is_file()
            for fmt in FORMATS
        )
    }


def _publish(
    store: Store, settings: Settings, sources: list[Source], out: Path, *, allow_empty: bool = False
) -> Published:
    generated_at = now_utc()
    site = FeedSite(settings.site_url.rstrip("/") + "/", settings.websub_hub, __version__)
    original = _load_manifest(out)
    prior = load_prior(store, out)
    state = prior.feeds
    seq = current_seq(store)  # read before the articles: a write after it is seen by the next publish
    everything = prior.seq is None or state.get("site") != _reuse_key(site)
    selection = select_rows(
        store,
        out,
        prior,
        sources,
        settings.feed_limit,
        everything=everything,
        force=_missing_feeds(out, original, sources, prior),
    )
    cache = IdentityCache(state.get("identities") or {})
    stories = build_stories(
        store, selection.rows, {s.slug: s for s in sources}, settings.feed_limit, generated_at, cache
    )
    stories.total = selection.total
    if not allow_empty:
        _refuse_emptying(store, out, original, stories)
    empty: dict[str, str] = dict(state.get("empty") or {})
    health = source_health(store, sources, now=generated_at, time_limit=settings.crawl_time_limit)
    ctx = PublishContext(store, settings, sources, out, generated_at, stories, health={h.slug: h for h in health})
    kept = _kept_feeds(out, prior, original, sources, selection.sources)
    ctx.specs = feed_specs(
        stories,
        sources,
        settings,
        lambda p: datetime.fromisoformat(empty.setdefault(p, generated_at.isoformat())),
        kept,
    )
    # Province and saved-query feeds (feed.publish.query_static): searches of the whole store, so the stories
    # outside this publish's selection are found too (shown under their registered guids).
    ctx.specs += query_feed_specs(
        store,
        stories,
        sources,
        settings,
        lambda p: datetime.fromisoformat(empty.setdefault(p, generated_at.isoformat())),
        _interval(sources),
    )
    empty = {s.path: empty[s.path] for s in ctx.specs if not s.items and s.path in empty}
    stager = Stager(out, original)
    try:
        outputs, snapshot = snapshot_outputs(ctx, selection, prior)
        stager.stage(outputs)
        feeds, feed_sigs, entry_sigs = feed_outputs(ctx, site, state, original, stager)
        outputs.update(feeds)
        every = _max_age(_interval(sources))
        # feeds.opml: meetings + other, which never overlap; feeds-all.opml: every feed, by group.
        outputs["feeds.opml"] = Output(opml_document(ctx.specs, site), 2, every)
        outputs[ALL_OPML] = Output(opml_all(ctx.specs, site), len(ctx.specs), every)
        outputs["index.html"] = Output(render_index(ctx), sum(i.is_report for i in stories.stories), every)
        # -- the meetings calendar (feed.publish.calendar): feeds/meetings.ics, one per kind, one per province --
        kept_calendars = {p for p in original if p.endswith(".ics") and (out / p).is_file()}
        events = _load_json(out / CALENDAR_EVENTS)
        events = events if isinstance(events, dict) else {}
        calendars, calendar_state, events = calendar_outputs(
            stories.stories,
            site,
            state.get("calendars") or {},
            kept_calendars,
            every,
            settings.feed_limit,
            events,
            province_calendars(ctx.specs, stories, sources, settings.feed_limit),
        )
        outputs.update(calendars)
        events_text = json.dumps(events, ensure_ascii=False, separators=(",", ":"))
        # -- end of the calendar --
        entries, steps = stager.settle(outputs)
        previous = dict(original)
        for path in [
            *(out / p for p in snapshot.stale),
            *stale_dated(out, generated_at, settings.snapshot_retention_days),
        ]:
            relative = path.relative_to(out).as_posix()
            steps.append(["delete", relative])
            previous.pop(relative, None)
        used = {i.cluster_id for i in stories.stories}
        feed_state = {
            "site": _reuse_key(site),
            "feeds": feed_sigs,
            "items": entry_sigs,
            "identities": {k: v for k, v in cache.entries.items() if k in used or k in stories.clusters},
            "empty": empty,
            "sources": {s.slug: source_key(s) for s in sources},
            "counts": {s.path: len(s.items) for s in ctx.specs},
            "calendars": calendar_state,  # feed.publish.calendar's signatures
        }
        snapshot_state = snapshot.state.to_json()
        if everything or seq != prior.seq or feed_state != state or snapshot_state != prior.snapshot:
            pending = pending_document(
                seq, snapshot_state, feed_state, snapshot.records, snapshot.deleted, everything=everything
            )
            stager.stage_last(PENDING, pending)  # renamed with the files, copied into the store after them
        if not _unchanged(out / CALENDAR_EVENTS, events_text):  # the calendar's rendered events, by story signature
            stager.stage_last(CALENDAR_EVENTS, events_text)
        _carry_over(out, entries, previous)
        if entries != original or not (out / MANIFEST).is_file():
            stager.stage_last(MANIFEST, manifest_document(entries, snapshot.state.cursor, generated_at))
        # A .gz beside each feed and snapshot, renamed by the same journal; off, stale ones go (issue 15).
        steps = gzip_steps(out, steps, list(outputs), write=settings.publish_gzip)
        # Everything is rendered and on disk beside its target: from the journal on the published files change.
        changed = stager.commit(steps)
        if stager.committed:
            apply_pending(store, out)
    except BaseException as exc:
        stager.abort()
        if not stager.committed:
            remove_staged(out)  # the .gz files staged beside the others too (the lock is held: only ours)
        failure = _no_room(exc, out) if isinstance(exc, OSError) and not stager.committed else None
        if failure is not None:
            raise failure from exc
        raise
    return Published([out / p for p in outputs] + [out / MANIFEST], [c for c in changed if c != PENDING])
