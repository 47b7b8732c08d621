"""Vietnamese news dates: parse a date field, find a date in a byline, resolve a meeting date in prose.

Text is matched after dropping tags, unescaping entities, NFC, lower-casing and collapsing whitespace;
dates are always day-first. How dates are written (words and patterns) lives in `feed.lang.dates_vocab`;
this module holds the rules that turn what those patterns find into datetimes.
"""

from __future__ import annotations

import bisect
import functools
import html
import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import NamedTuple

from feed.lang.dates_vocab import (
    AGO_RE,
    CLOCKS,
    DATES,
    DAY_PARTS,
    DURATION_PART_RE,
    DURATION_TAIL_RE,
    FUTURE_SKEW,
    INVISIBLE,
    JOINER_RE,
    JUST_NOW_RE,
    LUNAR_TAIL_RE,
    MARKERS,
    MAX_OFFSET,
    MAX_YEAR,
    MEETING_AHEAD_GRACE,
    MERIDIEM_RE,
    MIN_YEAR,
    MONTHS,
    NUMBER_WORDS,
    RELATIVE_DAY_OFFSETS,
    RELATIVE_DAY_RE,
    RELATIVE_UNITS,
    STANDALONE_DAY_OFFSETS,
    TAG_RE,
    WEAK_DATE_FORM,
    WEEKDAY_RE,
    ZONE_OFFSETS,
    ZONE_RE,
    DayPart,
    group_text,
)

VN_ZONE = "Asia/Ho_Chi_Minh"
# The one Vietnam timezone of the product. Vietnam has kept UTC+7 without daylight saving since 1975, so a fixed
# offset is exact for news and always explicit in output (+07:00), and it needs no tz database.
VN_TZ: tzinfo = timezone(timedelta(hours=7), VN_ZONE)


class _DateHit(NamedTuple):
    start: int
    end: int
    day: int
    month: int
    year: int | None  # None when the text gave no year
    short_year: bool  # a two-digit year ("24/12/12")
    strong: bool  # has a year or a word that marks it as a date, so not a fraction like "1/3"


class _ClockHit(NamedTuple):
    start: int
    end: int
    hour: int  # as written, before any day-part shift
    minute: int
    second: int
    micro: int
    part: DayPart | None
    zone: tzinfo | None


class _RelativeHit(NamedTuple):
    start: int
    end: int
    ago: timedelta | None  # "3 giờ trước"
    day_offset: int  # "hôm qua" is -1 (unused when `ago` is set)
    part: DayPart | None  # "tối qua"


def parse_vn_datetime(
    text: str, *, now: datetime | None = None, default_tz: tzinfo = VN_TZ, allow_future: bool = False
) -> datetime | None:
    """Parse a date/time as written on a Vietnamese news page; None when no date can be read."""
    if not isinstance(text, str):
        return None
    try:
        current = _local_now(now, default_tz)
        for found in _candidates(_prepare(text), current, default_tz, allow_future):
            return found if found is not None and _is_plausible(found, current, allow_future) else None
    except OverflowError:  # a clock at the edge of the calendar (year 1 or 9999) has no plausible date near it
        return None
    return None


def find_vn_datetime(text: str, *, now: datetime | None = None, default_tz: tzinfo = VN_TZ) -> datetime | None:
    """Find the first plausible publication date/time inside a longer string (a byline, a date bar)."""
    if not isinstance(text, str):
        return None
    try:
        current = _local_now(now, default_tz)
        for found in _candidates(_prepare(text), current, default_tz, False):
            if found is not None and _is_plausible(found, current, False):
                return found
    except OverflowError:  # as in parse_vn_datetime
        return None
    return None


def parse_day_month(text: str, *, reference: datetime) -> date | None:
    """Resolve a meeting date written in prose against the article's publication time."""
    if not isinstance(text, str):
        return None
    try:
        return _day_month(text, reference)
    except OverflowError:  # a reference at the edge of the calendar
        return None


def _day_month(text: str, reference: datetime) -> date | None:
    ref = reference.astimezone(VN_TZ) if reference.tzinfo is not None else reference
    prose = _prepare(text)
    hits: list[_DateHit | _RelativeHit] = [*_scan_dates(prose)]
    hits += [hit for hit in _scan_relatives(prose) if hit.ago is None]
    # Fractions and scores ("1/3 số đại biểu") look like year-less dates: try them last.
    hits.sort(key=lambda hit: (isinstance(hit, _DateHit) and not hit.strong, hit.start))
    for hit in hits:
        found = _meeting_date(hit, ref.date())
        if found is not None:
            return found
    return None


def _prepare(text: str) -> str:
    """Drop tags, unescape entities, NFC, lower-case, drop weekday words and collapse whitespace."""
    if "<" in text:  # callers sometimes hand over inner HTML: "<span>17:39</span> | 28/12/2012"
        text = TAG_RE.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    text = unicodedata.normalize("NFC", text).translate(INVISIBLE).lower()
    text = " ".join(text.split())
    return WEEKDAY_RE.sub(" ", text)


def _local_now(now: datetime | None, tz: tzinfo) -> datetime:
    """The reference clock in `tz`; a naive `now` is taken to be in `tz` already."""
    if now is None:
        return datetime.now(tz)
    return now.replace(tzinfo=tz) if now.tzinfo is None else now.astimezone(tz)


def _is_plausible(found: datetime, now: datetime, allow_future: bool) -> bool:
    """Reject publication dates from before the Vietnamese web, placeholders far ahead, or the future."""
    return MIN_YEAR <= found.year <= MAX_YEAR and (allow_future or found <= now + FUTURE_SKEW)


def _candidates(s: str, now: datetime, tz: tzinfo, allow_future: bool) -> Iterator[datetime | None]:
    """Readings of `s` best first: dated stamps, then relative ones, then dates without a year."""
    dates = _scan_dates(s)
    clocks = _scan_clocks(s)
    for hit in dates:
        if hit.year is not None:
            yield _read_date(s, hit, clocks, now, tz, allow_future)
    for relative in _scan_relatives(s):
        yield _read_relative(s, relative, clocks, now, tz)
    for hit in dates:
        if hit.year is None:
            yield _read_date(s, hit, clocks, now, tz, allow_future)


def _scan_dates(s: str) -> list[_DateHit]:
    """Every day-month(-year) in `s`, in order and without overlaps."""
    hits: list[_DateHit] = []
    for m, groups in DATES.scan(s):
        day, month, year = m[groups["d"]], m[groups["m"]], group_text(m, groups, "y")
        if year is None and "tháng" in m[0] and LUNAR_TAIL_RE.match(s, m.end()):
            continue
        strong = year is not None or m.lastgroup != WEAK_DATE_FORM
        hits.append(
            _DateHit(
                m.start() if year else m.start(groups["d"]),
                m.end(),
                int(day),
                int(month) if month.isdigit() else MONTHS[month],
                int(year) if year else None,
                year is not None and len(year) == 2,
                strong,
            )
        )
    return hits


def _scan_clocks(s: str) -> list[_ClockHit]:
    """Every valid time of day in `s` with its day-part word and zone, in order."""
    hits: list[_ClockHit] = []
    for m, groups in CLOCKS.scan(s):
        if "giờ" in m[0] and DURATION_TAIL_RE.match(s, m.end()):
            continue
        hit = _read_clock(s, m, groups)
        if hit is not None:
            hits.append(hit)
    return hits


def _read_clock(s: str, m: re.Match[str], groups: dict[str, int]) -> _ClockHit | None:
    """One clock match, widened to its day-part word and zone; None when it is no valid time."""
    hour, minute = int(m[groups["h"]]), int(group_text(m, groups, "m") or 0)
    second = int(group_text(m, groups, "s") or 0)
    if group_text(m, groups, "half"):
        minute = 30
    if hour > 23 or minute > 59 or second > 59:
        return None
    micro = int((group_text(m, groups, "f") or "0").ljust(6, "0"))
    start, end, part = m.start(), m.end(), None
    marker = MERIDIEM_RE.match(s, end)
    if marker:
        part, end = MARKERS[marker[1]], marker.end()
    else:
        part, start = _day_part_before(s, start, "lúc")
    zone, end = _read_zone(s, end)
    return _ClockHit(start, end, hour, minute, second, micro, part, zone)


def _day_part_before(s: str, pos: int, joiner: str) -> tuple[DayPart | None, int]:
    """The day-part word just before `pos` ("sáng 8:30", "chiều lúc 3:00"), and where it starts."""
    words = s[max(0, pos - 16) : pos].split()
    if words and words[-1] == joiner:
        words.pop()
    if not words or words[-1] not in DAY_PARTS:
        return None, pos
    return DAY_PARTS[words[-1]], s.rfind(words[-1], 0, pos)


def _read_zone(s: str, pos: int) -> tuple[tzinfo | None, int]:
    """The UTC offset written right after a clock ("GMT+7", "+07:00", "Z"), and where it ends."""
    m = ZONE_RE.match(s, pos)
    if m is None:
        return None, pos
    if m["name"]:
        return _fixed_zone(ZONE_OFFSETS[m["name"]] * 60), m.end()
    minutes = int(m["mm"] or 0)
    offset = (int(m["hh"]) * 60 + minutes) * (1 if m["sign"] == "+" else -1)
    if timedelta(minutes=abs(offset)) > MAX_OFFSET or minutes > 59:
        return None, pos
    return _fixed_zone(offset), m.end()


@functools.cache
def _fixed_zone(minutes: int) -> tzinfo:
    """A fixed UTC offset, built once per value (at most 1,681 of them, `MAX_OFFSET` either way)."""
    return timezone(timedelta(minutes=minutes))


def _scan_relatives(s: str) -> list[_RelativeHit]:
    """Every relative stamp in `s` ("3 giờ trước", "vừa xong", "hôm qua"), in order."""
    hits: list[_RelativeHit] = []
    for m in AGO_RE.finditer(s):
        ago = _read_duration(m["d"] or m["p"])
        if ago is not None:
            hits.append(_RelativeHit(m.start(), m.end(), ago, 0, None))
    hits += [_RelativeHit(m.start(), m.end(), timedelta(0), 0, None) for m in JUST_NOW_RE.finditer(s)]
    for m in RELATIVE_DAY_RE.finditer(s):
        if m["alone"]:
            offset, part = STANDALONE_DAY_OFFSETS[m["alone"]], None
        else:
            offset, word = RELATIVE_DAY_OFFSETS[m["o1"] or m["o2"]], m["p1"] or m["p2"]
            part = DAY_PARTS[word] if word else None
        hits.append(_RelativeHit(m.start(), m.end(), None, offset, part))
    return sorted(hits, key=lambda hit: hit.start)


def _read_duration(text: str) -> timedelta | None:
    """Sum of "2 giờ 43 phút"; None when it overflows."""
    total = timedelta(0)
    try:
        for number, unit in DURATION_PART_RE.findall(text):
            total += RELATIVE_UNITS[unit] * (int(number) if number.isdigit() else NUMBER_WORDS[number])
    except OverflowError:
        return None
    return total


def _attach_clock(s: str, start: int, end: int, clocks: list[_ClockHit]) -> _ClockHit | None:
    """The clock nearest the span [start, end) with only separators or joiner words between them.

    Only the two neighbours can qualify: the gap to any farther clock holds a nearer clock's text.
    """
    after = bisect.bisect_left(clocks, end, key=lambda clock: clock.start)
    before = bisect.bisect_right(clocks, start, key=lambda clock: clock.end) - 1
    best: tuple[int, int, _ClockHit] | None = None
    if after < len(clocks) and JOINER_RE.fullmatch(s, end, clocks[after].start):
        best = (clocks[after].start - end, 0, clocks[after])  # on a tie, "date time" order wins
    if before >= 0 and JOINER_RE.fullmatch(s, clocks[before].end, start):
        rank = (start - clocks[before].end, 1)
        if best is None or rank < best[:2]:
            best = (*rank, clocks[before])
    return best[2] if best else None


def _shift_hour(hour: int, part: DayPart | None) -> int:
    """24-hour value of a clock hour read with its day-part word ("11 tối" is 23)."""
    if part is None:
        return hour
    if hour == 12 and part.twelve_is_midnight:
        return 0
    return hour + 12 if hour in part.pm_hours else hour


def _read_date(
    s: str, hit: _DateHit, clocks: list[_ClockHit], now: datetime, tz: tzinfo, allow_future: bool
) -> datetime | None:
    """A date hit with its clock; a missing year is the latest one not in the future."""
    clock = _attach_clock(s, hit.start, hit.end, clocks)
    part, _ = _day_part_before(s, hit.start, "ngày")
    moment, zone = _clock_time(clock, part)
    if hit.year is not None:
        return _combine(_full_year(hit, now.year), hit.month, hit.day, moment, zone or tz)
    years = (now.year,) if allow_future else (now.year + 1, now.year, now.year - 1)
    for year in years:
        found = _combine(year, hit.month, hit.day, moment, zone or tz)
        if found is not None and (allow_future or found <= now + FUTURE_SKEW):
            return found
    return None


def _read_relative(s: str, hit: _RelativeHit, clocks: list[_ClockHit], now: datetime, tz: tzinfo) -> datetime | None:
    """A relative stamp resolved against `now`; a day word takes its clock, else its day-part's hour."""
    try:
        if hit.ago is not None:
            return now - hit.ago
        day = now.date() + timedelta(days=hit.day_offset)
    except OverflowError:
        return None
    clock = _attach_clock(s, hit.start, hit.end, clocks)
    if clock is not None:
        moment, zone = _clock_time(clock, hit.part)
        return datetime.combine(day, moment, tzinfo=zone or tz)
    if hit.part is not None:
        return datetime.combine(day, time(hit.part.nominal_hour), tzinfo=tz)
    return datetime.combine(day, now.timetz())


def _clock_time(clock: _ClockHit | None, context: DayPart | None) -> tuple[time, tzinfo | None]:
    """Time of day of a clock, its own day-part word winning over one written before the date."""
    if clock is None:
        return time(0), None
    hour = _shift_hour(clock.hour, clock.part or context)
    return time(hour, clock.minute, clock.second, clock.micro), clock.zone


def _combine(year: int, month: int, day: int, moment: time, tz: tzinfo) -> datetime | None:
    """An aware datetime, or None for an impossible date such as 31/02."""
    found = _make_date(year, month, day)
    return datetime.combine(found, moment, tzinfo=tz) if found is not None else None


def _make_date(year: int, month: int, day: int) -> date | None:
    """The date, or None for an impossible one such as 31/02."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _meeting_date(hit: _DateHit | _RelativeHit, ref: date) -> date | None:
    """A date in prose resolved against the publication day; None when impossible or absurd."""
    if isinstance(hit, _RelativeHit):
        try:
            return ref + timedelta(days=hit.day_offset)
        except OverflowError:
            return None
    if hit.year is not None:
        year = _full_year(hit, ref.year)
        return _make_date(year, hit.month, hit.day) if MIN_YEAR <= year <= MAX_YEAR else None
    # The latest year that does not put the meeting more than a few days after the report.
    for year in (ref.year + 1, ref.year, ref.year - 1):
        found = _make_date(year, hit.month, hit.day)
        if found is not None and found - ref <= MEETING_AHEAD_GRACE:
            return found
    return None


def _full_year(hit: _DateHit, this_year: int) -> int:
    """The four-digit year of a hit: "12" is 2012, "99" is 1999 (no later than next year)."""
    if hit.year is None or not hit.short_year:
        return hit.year or this_year
    return hit.year + 2000 if hit.year + 2000 <= this_year + 1 else hit.year + 1900
