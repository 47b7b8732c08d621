"""The meetings calendar: feeds/meetings.ics, feeds/kinds/<kind>.ics and feeds/provinces/<slug>.ics, one VEVENT per
held meeting (RFC 5545).

A meeting report whose facts resolve the day it was held (Meeting.held_on) becomes an event on that day in
Asia/Ho_Chi_Minh: all-day, or timed when the words the date was read from give the hour ("7h30 ngày 20/12",
"8 giờ sáng 10/1"). The place is its LOCATION, the organiser and the meeting's line are in its DESCRIPTION, the
story's link is its URL. Its UID is the story's feed GUID (feed.publish.guids: fixed the first time the story is
published), so a calendar application that subscribed updates the event instead of adding a second one; DTSTAMP
and LAST-MODIFIED are the story's `updated`, so the bytes change only when a story does and ETag/304 keep working.
Events are written here (line folding at 75 octets, escaping of commas, semicolons and newlines), and so are the
calendar's own head and VTIMEZONE, the lines the `icalendar` package wrote for them before
(tests/test_calendar_events.py compares them with it), so a publish does not import icalendar; every text is NFC.
Reports with no resolved day are left out: a calendar cannot place them.

A province has a calendar exactly when this publish wrote its feeds (feed.publish.query_static:
feeds/provinces/<slug>.*, same slug): its meeting reports among the aggregate stories meetings.ics is made from (a
story with an article from one of the province's sources) and among its feed's search of the whole store (older
stories the aggregate feeds no longer hold), newest first, bounded like the others. An event it shares with
meetings.ics is the very same (same story, same UID, same rendered text from the cache).

Written at publish beside the feeds (a few lines in feed.publish.publisher call `calendar_outputs`), staged and
renamed with them and listed in the manifest; served as `text/calendar; charset=utf-8` by feed.serve.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from feed.config.sources import Source
from feed.lang.dates import VN_TZ, VN_ZONE
from feed.publish.entries import Stories, meeting_summary, newest_first
from feed.publish.feed_writer import FeedItem, FeedSpec
from feed.publish.query_feeds import provinces
from feed.publish.query_static import province_slug
from feed.publish.transaction import Output
from feed.records import KIND_LABELS, MEETING_KINDS

CALENDAR_VERSION = "2"  # bump when the bytes written for the same stories change
CALENDAR_EVENTS = ".calendar-events.json"  # rendered events kept between publishes (a dotfile: never served)
MEETINGS_CALENDAR = "feeds/meetings.ics"
CALENDAR_NAME = "Lịch hội nghị, đại hội công đoàn"
CONTENT_TYPE = "text/calendar; charset=utf-8"
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
# "7h30", "7 h 30", "8 giờ 30", "8 giờ", "14:00" in the words the date was read from; never a bare number.
_TIME = re.compile(
    r"(?<![0-9])([01]?[0-9]|2[0-3])\s*(?:h|giờ|g|:)\s*([0-5][0-9])?(?![0-9])(?![^\W\d_])(?!\s*/)", re.IGNORECASE
)
FOLD_OCTETS = 75  # RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets
_ESCAPES = b"\\^"  # a TEXT escape's backslash, RFC 6868's caret
_AFTERNOON = re.compile(r"\b(chiều|tối)\b", re.IGNORECASE)


PROVINCE_FEEDS = "provinces/"  # feed.publish.query_static's province feeds: feeds/provinces/<slug>.*
Wanted = tuple[str, str, list[FeedItem]]  # a calendar's path, name and stories (newest first)


def calendar_path(kind: str | None) -> str:
    """feeds/meetings.ics, or feeds/kinds/<kind>.ics."""
    return MEETINGS_CALENDAR if kind is None else f"feeds/kinds/{kind}.ics"


def feed_calendar(feed_path: str) -> str | None:
    """The calendar published beside a feed ("meetings", "kinds/<kind>", "provinces/<slug>"), else None."""
    if feed_path == "meetings":
        return MEETINGS_CALENDAR
    kind = feed_path.removeprefix("kinds/")
    if kind != feed_path and kind in MEETING_KINDS:
        return calendar_path(kind)
    if feed_path.startswith(PROVINCE_FEEDS) and "/" not in feed_path.removeprefix(PROVINCE_FEEDS):
        return f"feeds/{feed_path}.ics"
    return None


def province_calendars(
    specs: Sequence[FeedSpec], stories: Stories, sources: Sequence[Source], limit: int
) -> list[Wanted]:
    """One calendar per province feed made this publish (feeds/provinces/<slug>.ics beside feeds/provinces/<slug>.*):
    the newest `limit` meeting reports of that province, newest first. They are the reports of the aggregate
    stories (those meetings.ics draws from) with a member from one of the province's sources, and the reports of the
    province's feed (a search of the whole store, so older stories the aggregate feeds no longer hold): a
    province whose latest stories are not meetings still shows the meetings meetings.ics shows for it."""
    names = {province_slug(name): name for name in provinces(sources).values()}
    where = {s.slug: province_slug(s.province) for s in sources if s.province}
    aggregate: dict[str, list[FeedItem]] = {}
    for item in stories.stories:
        if not item.is_report:
            continue
        members = stories.clusters.get(item.cluster_id) or []
        slugs = {item.source_slug, *(m.source_slug for m in members)}
        for province in {where[slug] for slug in slugs if slug in where}:
            aggregate.setdefault(province, []).append(item)
    out: list[Wanted] = []
    for spec in specs:
        path = feed_calendar(spec.path)
        if path is None or not spec.path.startswith(PROVINCE_FEEDS):
            continue
        slug = spec.path.removeprefix(PROVINCE_FEEDS)
        # One entry per story, the aggregate one first: its event is the one meetings.ics holds, byte for byte.
        chosen = {i.guid: i for i in spec.items if i.is_report}
        chosen.update((i.guid, i) for i in aggregate.get(slug, []))
        items = newest_first(chosen.values())
        out.append((path, f"Lịch hội nghị công đoàn {names.get(slug, slug)}", items[:limit]))
    return out


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def held_day(held_on: str | None) -> date | None:
    """The ISO day a meeting was held, None when it did not resolve (or is no real day)."""
    found = _ISO_DATE.match(held_on or "")
    if not found:
        return None
    try:
        return date(*map(int, found.groups()))
    except ValueError:
        return None


def held_time(held_on_text: str | None) -> time | None:
    """The hour a meeting began when its date words state it ("7h30 ngày 20/12", "14 giờ chiều"), else None."""
    found = _TIME.search(held_on_text or "")
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if hour < 12 and _AFTERNOON.search(held_on_text or ""):  # "2 giờ chiều" is 14:00
        hour += 12
    return time(hour, minute)


# VTIMEZONE for Asia/Ho_Chi_Minh: UTC+7 without daylight saving since 1975, one STANDARD rule.
VN_TIMEZONE = (
    f"BEGIN:VTIMEZONE\r\nTZID:{VN_ZONE}\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZNAME:+07\r\n"
    "TZOFFSETFROM:+0700\r\nTZOFFSETTO:+0700\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)


def _text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 3.3.11 says: backslash, semicolon, comma, and line ends as \\n."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """A content line folded as RFC 5545 3.1 says: no line over 75 octets (CRLF left out), continued after CRLF and
    a space; never inside a character, and a backslash escape is never split from the character it escapes.

    Cut on the UTF-8 bytes (a character's continuation bytes are 10xxxxxx), not a character at a time: each part
    holds at most FOLD_OCTETS - 1 octets, the space before it making FOLD_OCTETS."""
    if len(line) < FOLD_OCTETS and line.isascii():
        return line
    data = line.encode("utf-8")
    if len(data) < FOLD_OCTETS:
        return line
    room = FOLD_OCTETS - 1
    parts: list[str] = []
    start = 0
    while len(data) - start > room:
        end = start + room
        while data[end] & 0xC0 == 0x80:  # inside a character: cut before it
            end -= 1
        if data[end - 1] in _ESCAPES and end - 1 > start:
            end -= 1  # an escape's backslash (or RFC 6868's caret) moves down with what it escapes, as icalendar does
        parts.append(data[start:end].decode("utf-8"))
        start = end
    parts.append(data[start:].decode("utf-8"))
    return "\r\n ".join(parts)


def _utc(when: datetime) -> str:
    """A UTC DATE-TIME to the second (DTSTAMP, CREATED and LAST-MODIFIED are UTC)."""
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def meeting_event(item: FeedItem) -> tuple[str, str] | None:
    """(sort key, VEVENT text) for a story that reports a meeting held on a known day; None for any other story.

    Written here, not by icalendar: ~2 ms an event there, the largest part of a first publish's calendars, for a
    dozen fixed properties. Properties come in icalendar's order (SUMMARY, DTSTART, DTEND, DTSTAMP, UID, then by
    name), so the text is the one icalendar wrote before; tests/test_calendar_events.py checks it against
    icalendar's Event and parses it back with icalendar."""
    if not item.is_report:
        return None
    meeting = item.details.meeting
    day = held_day(meeting.held_on)
    if day is None:
        return None
    start = held_time(meeting.held_on_text)
    lines = [f"SUMMARY:{_text(_nfc(item.title))}"]
    if start is None:
        key = day.isoformat()
        lines.append(f"DTSTART;VALUE=DATE:{day:%Y%m%d}")
        lines.append(f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}")
    else:
        # A wall time in Vietnam, named by TZID (its VTIMEZONE is in the calendar): readers show it as written.
        began = datetime.combine(day, start)
        key = began.replace(tzinfo=VN_TZ).isoformat()
        lines.append(f"DTSTART;TZID={VN_ZONE}:{began:%Y%m%dT%H%M%S}")
    stamp = _utc(item.updated)
    lines.append(f"DTSTAMP:{stamp}")
    lines.append(f"UID:{_text(item.guid)}")
    if meeting.kind in KIND_LABELS:
        lines.append(f"CATEGORIES:{_text(_nfc(KIND_LABELS[meeting.kind]))}")
    lines.append(f"CREATED:{_utc(item.published)}")
    about = [meeting_summary(meeting)]
    if meeting.org:
        about.append(f"Đơn vị tổ chức: {meeting.org}")
    about.append(f"Nguồn: {item.source_name}")
    if item.link:
        about.append(f"Bài viết: {item.link}")
    lines.append(f"DESCRIPTION:{_text(_nfc(chr(10).join(about)))}")
    lines.append(f"LAST-MODIFIED:{stamp}")
    if meeting.location:
        lines.append(f"LOCATION:{_text(_nfc(meeting.location))}")
    lines.append("TRANSP:TRANSPARENT")  # a meeting reported in the news does not make the reader busy
    if item.link:
        lines.append(f"URL:{item.link}")
    body = "".join(f"{fold(line)}\r\n" for line in lines)
    return f"{key} {item.guid}", f"BEGIN:VEVENT\r\n{body}END:VEVENT\r\n"


def event_text(item: FeedItem, cache: dict[str, list[str]]) -> list[str] | None:
    """[sort key, VEVENT text] of a story (None when it is no held meeting), from `cache` when the story's
    signature was rendered before, so an event is rendered once, not at every publish."""
    key = f"{CALENDAR_VERSION}:{item.signature}"
    hit = cache.get(key)
    if hit is None:
        event = meeting_event(item)
        hit = [] if event is None else list(event)
        cache[key] = hit
    return hit or None


def calendar_head(name: str, base_url: str, version: str) -> str:
    """BEGIN:VCALENDAR and the calendar's properties, in icalendar's order and escaping: PRODID is TEXT (escaped),
    the X- properties are written as given (icalendar's vUnknown; a line end, which it refused, is written \\n)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{_text(f'-//unionfeed//unionfeed {version}//VI')}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALDESC:{_unknown(_nfc(f'{name}, theo tin tường thuật trên các trang công đoàn ({base_url})'))}",
        f"X-WR-CALNAME:{_unknown(_nfc(name))}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        f"X-WR-TIMEZONE:{VN_ZONE}",
    ]
    return "".join(f"{fold(line)}\r\n" for line in lines)


def _unknown(value: str) -> str:
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def calendar_document(
    items: Sequence[FeedItem], name: str, base_url: str, version: str, cache: dict[str, list[str]] | None = None
) -> bytes:
    """The iCalendar text of the events of `items` (in the order they were held), as UTF-8 with CRLF line ends.

    Each event's text is a whole, folded VEVENT, so an event rendered once serves every calendar showing it."""
    cache = {} if cache is None else cache
    events = sorted(e for e in (event_text(i, cache) for i in items) if e is not None)
    body = [calendar_head(name, base_url, version)]
    if any(";TZID=" in text for _, text in events):  # a timed event names the zone: its VTIMEZONE comes first
        body.append(VN_TIMEZONE)
    body.extend(text for _, text in events)
    body.append("END:VCALENDAR\r\n")
    return "".join(body).encode("utf-8")


def calendar_signature(items: Sequence[FeedItem], site: Any, name: str = "") -> str:
    """Equal signatures write equal bytes (the items' own signatures move with anything they show; the name is a
    province's as configured, which can change without any story changing)."""
    head = repr((CALENDAR_VERSION, site, name, [i.signature for i in items if i.is_report]))
    return hashlib.blake2b(head.encode("utf-8"), digest_size=12).hexdigest()


def calendar_outputs(
    stories: Sequence[FeedItem],
    site: Any,
    state: dict[str, Any],
    kept: set[str],
    max_age: int,
    limit: int,
    cache: dict[str, list[str]],
    more: Sequence[Wanted] = (),
) -> tuple[dict[str, Output], dict[str, list[Any]], dict[str, list[str]]]:
    """feeds/meetings.ics and one calendar per kind (each the newest `limit` meeting reports, like their feeds),
    and the calendars of `more` (the provinces': province_calendars), each one's [signature, events] for the next
    run, and the events rendered (the next run's `cache`).

    `state` is what the last run returned, `kept` the paths already published (in the manifest and on disk): a
    calendar whose signature did not change is kept as it is, without making its stories' details.
    """
    meetings = [i for i in stories if i.is_report]
    wanted: list[tuple[str, str, list[FeedItem]]] = [(calendar_path(None), CALENDAR_NAME, meetings[:limit])]
    for kind in MEETING_KINDS:
        items = [i for i in meetings if i.kind == kind][:limit]
        wanted.append((calendar_path(kind), f"Lịch: {KIND_LABELS[kind]}", items))
    wanted.extend((path, name, list(items)[:limit]) for path, name, items in more)
    outputs: dict[str, Output] = {}
    written: dict[str, list[Any]] = {}
    used: dict[str, list[str]] = {}
    for path, name, items in wanted:
        sig = calendar_signature(items, site, name)
        before = state.get(path)
        keys = [f"{CALENDAR_VERSION}:{i.signature}" for i in items]
        if isinstance(before, list) and len(before) == 2 and before[0] == sig and path in kept:
            outputs[path] = Output(None, before[1], max_age)
            written[path] = before
            used.update((k, cache[k]) for k in keys if k in cache)
            continue
        text = calendar_document(items, name, site.base, site.version, cache)
        count = text.count(b"BEGIN:VEVENT")
        outputs[path] = Output(text, count, max_age)
        written[path] = [sig, count]
        used.update((k, cache[k]) for k in keys if k in cache)
    return outputs, written, used
