"""Crontab lines for source schedules, read with standard cron weekdays (0 and 7 are Sunday).

APScheduler 3 numbers weekdays from Monday = 0 (its issue 286); an operator writing `1-5` means Monday to
Friday, so numeric weekdays are turned into names before APScheduler sees them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

from feed.lang.dates import VN_ZONE

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def weekday_names(field: str) -> str:
    """A crontab day-of-week field with numbers (0-7, ranges, steps) turned into day names."""
    if not any(ch.isdigit() for ch in field.split("/")[0]) and "/" not in field:
        return field
    days: set[int] = set()
    names: list[str] = []
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            low, high = base.split("-", 1)
            if not (low.isdigit() and high.isdigit()):
                names.append(part)
                continue
            first, last = int(low), int(high)
        elif base.isdigit():
            first = int(base)
            last = 6 if step_text else first
        else:
            names.append(part)
            continue
        if not (0 <= first <= 7 and 0 <= last <= 7 and first <= last and step > 0):
            raise ValueError(f"bad day-of-week {part!r}")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join([*(DAY_NAMES[d] for d in sorted(days)), *names])


def cron_trigger(expr: str, *, timezone: tzinfo | str = VN_ZONE, jitter: int | None = None) -> CronTrigger:
    """An APScheduler trigger for a five-field crontab line (minute hour day month weekday)."""
    values = expr.split()
    if len(values) != 5:
        raise ValueError(f"wrong number of fields: got {len(values)}, expected 5")
    minute, hour, day, month, weekday = values
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=weekday_names(weekday),
        timezone=timezone,
        jitter=jitter,
    )


def fire_times(trigger: CronTrigger, start: datetime, count: int) -> list[datetime]:
    """The next `count` fire times (no jitter) from start."""
    times: list[datetime] = []
    when = trigger.get_next_fire_time(None, start)
    while when is not None and len(times) < count:
        times.append(when)
        when = trigger.get_next_fire_time(when, when + timedelta(seconds=1))
    return times
