"""The scheduler's clock: wall time read once at start, then carried forward by the monotonic clock.

APScheduler 3 asks `datetime.now()` whenever it looks for due jobs and when it decides how long to sleep. When
the machine's clock is stepped back (an NTP correction, a VM resumed, an operator's `date -s`), every job's next
run time moves that far into the future: stepped back ten minutes, no source is polled for ten minutes. Here
APScheduler's modules see a `datetime` whose `now()` is the wall time at the moment the scheduler was built plus
the monotonic time elapsed since, which steps never move: intervals stay intervals, whatever the wall clock does.

The price: a source on a crontab line fires on the clock the scheduler started with, so after a step of N
minutes it is N minutes off the machine's new clock until the scheduler restarts (interval sources, the usual
kind, do not care). Run records keep the machine's wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from types import ModuleType
from typing import Any

# The APScheduler modules that read the current time for scheduling (the loop, and the executors' lateness check).
_MODULES = ("apscheduler.schedulers.base", "apscheduler.executors.base")


class SteadyClock:
    """Wall time at construction, advanced by a monotonic clock (both injectable, for tests)."""

    def __init__(self, wall: Callable[[], float] = time.time, mono: Callable[[], float] = time.monotonic) -> None:
        self.mono = mono
        self.anchor_wall = wall()
        self.anchor_mono = mono()

    def time(self) -> float:
        return self.anchor_wall + (self.mono() - self.anchor_mono)


def steady_datetime(clock: SteadyClock) -> type[datetime]:
    """A `datetime` class whose `now()` (and `utcnow()`) read `clock`; everything else is datetime's own."""

    class SteadyDatetime(datetime):
        steady = clock

        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Any:
            return datetime.fromtimestamp(clock.time(), tz)

    return SteadyDatetime


def install(wall: Callable[[], float] | None = None, mono: Callable[[], float] = time.monotonic) -> SteadyClock:
    """Make APScheduler schedule by a steady clock anchored now; returns that clock.

    The anchor is read from the `datetime` APScheduler's scheduler module sees at this moment (the machine's
    clock, unless a test has put a fake one there), unless `wall` is given. Calling it again re-anchors.
    """
    import importlib

    modules: list[ModuleType] = [importlib.import_module(name) for name in _MODULES]
    current = modules[0].datetime
    base = getattr(current, "wall_source", current)  # re-installing: anchor on the clock under ours
    clock = SteadyClock(wall or (lambda: float(base.now().timestamp())), mono)
    steady = steady_datetime(clock)
    steady.wall_source = base  # type: ignore[attr-defined]
    for module in modules:
        module.datetime = steady  # type: ignore[attr-defined]
    return clock
