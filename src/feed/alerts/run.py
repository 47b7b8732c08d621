"""Sending alerts: each channel is told what is new since its last alert, then its state moves.

`send_alerts` runs after a publish, in the scheduler's alerts thread (`AlertsWorker`, poked by the publisher
thread and never waited for) or from `unionfeed alerts send`: a receiver that fails or hangs costs that thread its
timeouts and retries, never a crawl or a publish. The first time a channel is seen it starts from now (what is
already published is not announced again); from then on every meeting report that enters the meetings feed and
every breakage or recovery is sent once, in order, to every channel (feed.alerts.state). One sender at a time per
data folder (a lock file): a second one finds the lock taken and leaves the news to the first.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from feed.alerts.channels import DeliveryFailed, post_webhook, send_email
from feed.alerts.config import AlertConfig, Email, Webhook, load_alerts
from feed.alerts.digest import Digest, health_events, last_event_id, plain_text, published_meetings, subject
from feed.alerts.state import load_state, save_state
from feed.config.settings import Settings
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
    stop: Callable[[], bool] = lambda: False,
) -> list[Outcome]:
    """Tell every channel what is new since its last alert; returns what happened on each."""
    config = config or load_alerts(settings)
    if config is None:
        return []
    with _sender_lock(settings.data) as mine:
        if not mine:
            return [Outcome(c.channel, "busy", "another sender is at work") for c in config.channels]
        return _send(settings, store, config, stop)


def _send(settings: Settings, store: Store, config: AlertConfig, stop: Callable[[], bool]) -> list[Outcome]:
    state = load_state(settings.data)
    meetings = published_meetings(settings.public)
    current = {m["id"] for m in meetings}
    newest_event = last_event_id(store)
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
        pending = [m for m in reversed(meetings) if m["id"] not in told][: config.max_items]  # oldest first
        events = health_events(store, after, config.max_items)
        digest = Digest(list(reversed(pending)), events, max((e["id"] for e in events), default=after))
        if not digest:
            if told - current:  # forget reports that left the feed
                state[key] = {"meetings": sorted(told & current), "health": after}
                save_state(settings.data, state)
            outcomes.append(Outcome(key, "nothing"))
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
        state[key] = {"meetings": sorted((told & current) | {m["id"] for m in pending}), "health": digest.last_event}
        save_state(settings.data, state)
        detail = f"{len(pending)} meeting reports, {len(events)} source changes, {attempts} attempt(s)"
        log.info("alert sent to %s: %s", key, detail, extra={"event": "alert_sent"})
        outcomes.append(Outcome(key, "sent", detail))
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
