"""Sending alerts: each channel is told what is new since its last alert, then its state moves.

`send_alerts` runs after a publish, in the scheduler's alerts thread (`AlertsWorker`, poked by the publisher
thread and never waited for) or from `unionfeed alerts send`: a receiver that fails or hangs costs that thread its
timeouts and retries, never a crawl or a publish. The first time a channel is seen it starts from now (what is
already published is not announced again); from then on every meeting report that enters the meetings feed and
every breakage or recovery is sent once, in order, to every channel (feed.alerts.state). One sender at a time per
data folder (a lock file): a second one finds the lock taken and leaves the news to the first.

A channel that follows saved queries (`queries:`) is sent only the new reports one of them finds
(feed.alerts.matching); a report none finds counts as told to it (decided once, when it enters the meetings feed).
When one of its queries cannot run (it names an unknown province, or PostgreSQL has no unaccent), the channel's
reports wait, its source changes are still sent, and the round says "failed" naming the query.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feed.alerts.channels import DeliveryFailed, post_webhook, send_email
from feed.alerts.config import AlertConfig, Email, Webhook, load_alerts
from feed.alerts.digest import Digest, health_events, last_event_id, plain_text, published_meetings, subject
from feed.alerts.matching import Matches, match_reports
from feed.alerts.state import load_state, save_state
from feed.config.settings import Settings
from feed.config.sources import Source, read_sources
from feed.store.api import Store

log = logging.getLogger(__name__)
LOCK_FILE = ".alerts.lock"


@dataclass(frozen=True)
class Outcome:
    channel: str
    status: str  # sent | nothing | started | failed | busy
    detail: str = ""

    def line(self) -> str:
        return f"{self.channel}: {self.status}{f' ({self.detail})' if self.detail else ''}"


@contextmanager
def _sender_lock(data: Path) -> Iterator[bool]:
    data.mkdir(parents=True, exist_ok=True)
    fd = os.open(data / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def deliver(
    channel: Webhook | Email, digest: Digest, settings: Settings, delivery: str, stop: Callable[[], bool]
) -> int:
    """Send one digest on one channel; returns the attempts made (DeliveryFailed when it was not accepted)."""
    site = settings.site_url
    if isinstance(channel, Webhook):
        return post_webhook(channel, digest.to_json(site), delivery, stop=stop)
    return send_email(channel, subject(digest), plain_text(digest, site), stop=stop)


def send_alerts(
    settings: Settings,
    store: Store,
    config: AlertConfig | None = None,
    *,
    sources: Sequence[Source] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> list[Outcome]:
    """Tell every channel what is new since its last alert; returns what happened on each. `sources` (for saved
    queries naming a province or a source) are read from the sources file when not given, as a publish does."""
    config = config or load_alerts(settings)
    if config is None:
        return []
    with _sender_lock(settings.data) as mine:
        if not mine:
            return [Outcome(c.channel, "busy", "another sender is at work") for c in config.channels]
        return _send(settings, store, config, sources, stop)


def _matches(
    store: Store,
    config: AlertConfig,
    sources: Sequence[Source] | None,
    settings: Settings,
    wanted: dict[str, list[dict[str, Any]]],
) -> Matches:
    """The saved queries of the channels that follow some, run once each among every such channel's new reports."""
    names = {name for channel in config.channels if channel.channel in wanted for name in channel.queries}
    if not names:
        return Matches()
    reports = list({m["id"]: m for pending in wanted.values() for m in pending}.values())
    if sources is None:
        sources = read_sources(settings.config)[0]  # the usable ones; their problems are the crawl's to tell
    return match_reports(store, sources, config.saved_queries, names, reports)


def _send(
    settings: Settings,
    store: Store,
    config: AlertConfig,
    sources: Sequence[Source] | None,
    stop: Callable[[], bool],
) -> list[Outcome]:
    state = load_state(settings.data)
    meetings = published_meetings(settings.public)
    current = {m["id"] for m in meetings}
    newest_event = last_event_id(store)
    new: dict[str, list[dict[str, Any]]] = {}  # the reports each known channel was not told about, oldest first
    for channel in config.channels:
        known = state.get(channel.channel)
        if isinstance(known, dict):
            told = set(known.get("meetings") or [])
            new[channel.channel] = [m for m in reversed(meetings) if m["id"] not in told]
    following = {c.channel: new[c.channel] for c in config.channels if c.queries and new.get(c.channel)}
    matches = _matches(store, config, sources, settings, following)
    outcomes = []
    for channel in config.channels:
        key = channel.channel
        known = state.get(key)
        if not isinstance(known, dict):  # a new channel starts from now: nothing published before is re-announced
            state[key] = {"meetings": sorted(current), "health": newest_event}
            save_state(settings.data, state)
            outcomes.append(Outcome(key, "started", f"{len(current)} published meeting reports counted as told"))
            continue
        told = set(known.get("meetings") or [])
        after = int(known.get("health") or 0)
        reports = [{**m, "queries": matches.of(m["id"], channel.queries)} for m in new[key]]
        # A query that cannot run decides nothing: the channel's reports wait (its source changes still go out).
        held = "; ".join(f"saved query {n!r} cannot be run: {matches.failed[n]}" for n in channel.queries
                         if n in matches.failed) if reports else ""  # fmt: skip
        if held:
            log.warning("%s: meeting reports held: %s", key, held, extra={"event": "alert_query_failed"})
            reports = []
        passed = {m["id"] for m in reports if channel.queries and not m["queries"]}  # decided: no query finds it
        pending = [m for m in reports if m["id"] not in passed][: config.max_items]
        events = health_events(store, after, config.max_items)
        digest = Digest(
            list(reversed(pending)),
            events,
            max((e["id"] for e in events), default=after),
            follows=channel.queries,
            titles=matches.titles,
        )
        decided = (told & current) | passed
        if not digest:
            if decided != told:  # forget reports that left the feed; remember those no query of the channel finds
                state[key] = {"meetings": sorted(decided), "health": after}
                save_state(settings.data, state)
            outcomes.append(Outcome(key, "failed", held) if held else Outcome(key, "nothing"))
            continue
        delivery = hashlib.sha256(
            repr((key, [m["id"] for m in pending], [e["id"] for e in events])).encode("utf-8")
        ).hexdigest()[:32]
        try:
            attempts = deliver(channel, digest, settings, delivery, stop)
        except DeliveryFailed as exc:
            log.warning("alert not sent, kept for the next time: %s", exc, extra={"event": "alert_failed"})
            outcomes.append(Outcome(key, "failed", str(exc).removeprefix(f"{key}: ")))
            continue
        state[key] = {"meetings": sorted(decided | {m["id"] for m in pending}), "health": digest.last_event}
        save_state(settings.data, state)
        detail = f"{len(pending)} meeting reports, {len(events)} source changes, {attempts} attempt(s)"
        log.info("alert sent to %s: %s", key, detail, extra={"event": "alert_sent"})
        outcomes.append(Outcome(key, "failed", f"{detail} sent; {held}") if held else Outcome(key, "sent", detail))
    return outcomes


def send_test(settings: Settings, config: AlertConfig | None = None) -> list[Outcome]:
    """A test message on every channel (no state moves); returns what happened on each."""
    config = config or load_alerts(settings)
    if config is None:
        return []
    outcomes = []
    for channel in config.channels:
        try:
            attempts = deliver(channel, Digest(test=True), settings, "test", lambda: False)
            outcomes.append(Outcome(channel.channel, "sent", f"{attempts} attempt(s)"))
        except DeliveryFailed as exc:
            outcomes.append(Outcome(channel.channel, "failed", str(exc).removeprefix(f"{channel.channel}: ")))
    return outcomes


class AlertsWorker:
    """The scheduler's alerts job: a thread of its own that sends after each publish (`poke`), never waited for."""

    def __init__(self, settings: Settings, store: Store, config: AlertConfig, stopping: threading.Event) -> None:
        self.settings, self.store, self.config, self.stopping = settings, store, config, stopping
        self.due = threading.Event()
        self.rounds = 0
        self.recent: deque[Outcome] = deque(maxlen=100)  # what the latest rounds did, oldest first

    def poke(self) -> None:
        """A publish finished: send what it made new (soon, on the alerts thread)."""
        self.due.set()

    def loop(self) -> None:
        while not self.stopping.is_set():
            if not self.due.wait(0.2):
                continue
            self.due.clear()
            try:
                self.recent.extend(send_alerts(self.settings, self.store, self.config, stop=self.stopping.is_set))
            except Exception:  # a broken alert never stops the scheduler; the next publish tries again
                log.exception("alerts failed", extra={"event": "alert_failed"})
            self.rounds += 1

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.loop, name="unionfeed-alerts", daemon=True)
        thread.start()
        return thread


def start_alerts(settings: Settings, store: Store, stopping: threading.Event) -> AlertsWorker | None:
    """The alerts thread when alerts are configured (a ConfigError when they are written wrong), else None."""
    config = load_alerts(settings)
    if config is None:
        return None
    worker = AlertsWorker(settings, store, config, stopping)
    worker.start()
    return worker
