"""The VEVENTs feed.publish.calendar writes itself, checked against the `icalendar` package: parsed back by it to
the same values, and the same content lines, in the same order, as icalendar's own Event writes for the item."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st
from icalendar import Calendar, Event, Timezone, TimezoneStandard

from feed.lang.dates import VN_TZ, VN_ZONE
from feed.publish.calendar import (
    FOLD_OCTETS,
    VN_TIMEZONE,
    calendar_head,
    fold,
    held_day,
    held_time,
    meeting_event,
)
from feed.publish.entries import meeting_summary
from feed.publish.feed_writer import FeedItem, ItemDetails
from feed.records import KIND_LABELS, Meeting

# Vietnamese letters in both forms, and what TEXT escaping and folding must get right.
LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
ALPHABET = LETTERS + LETTERS.upper() + " 0123456789,;:\\\n^\"'–/()" + "e\u0301o\u0323"
texts = st.text(alphabet=ALPHABET, min_size=1, max_size=160).filter(lambda t: t.strip() != "")
WHEN = datetime(2026, 3, 9, 8, 30, 15, tzinfo=VN_TZ)


def item(title: str, location: str | None, org: str | None, kind: str, held_text: str, link: str) -> FeedItem:
    meeting = Meeting(
        is_report=True, kind=kind, org=org, location=location, held_on="2026-03-09", held_on_text=held_text
    )
    details = ItemDetails(
        title=title,
        summary=title,
        author="LĐLĐ tỉnh Thanh Hóa",
        source_name="LĐLĐ tỉnh Thanh Hóa",
        categories=[],
        also_at=[],
        other_sources=[],
        meeting=meeting,
        meeting_json="{}",
        content=lambda: "",
    )
    return FeedItem(
        guid="urn:unionfeed:2f5e0c1d9a8b7c6d5e4f",
        link=link,
        published=WHEN,
        updated=WHEN + timedelta(hours=3),
        article_id="a1",
        cluster_id="a1",
        source_slug="ldld-th",
        is_report=True,
        kind=kind,
        signature="s",
        make_details=lambda: details,
    )


def icalendar_event(it: FeedItem) -> Event:
    """The event as icalendar's Event wrote it before (the oracle)."""
    meeting = it.details.meeting
    day = held_day(meeting.held_on)
    assert day is not None
    nfc = lambda text: unicodedata.normalize("NFC", text)  # noqa: E731
    event = Event()
    event.add("uid", it.guid)
    event.add("dtstamp", it.updated.astimezone(UTC).replace(microsecond=0))
    event.add("last-modified", it.updated.astimezone(UTC).replace(microsecond=0))
    event.add("created", it.published.astimezone(UTC).replace(microsecond=0))
    start = held_time(meeting.held_on_text)
    if start is None:
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
    else:
        event.add("dtstart", datetime.combine(day, start), parameters={"TZID": VN_ZONE})
    event.add("summary", nfc(it.title))
    if meeting.location:
        event.add("location", nfc(meeting.location))
    lines = [meeting_summary(meeting)]
    if meeting.org:
        lines.append(f"Đơn vị tổ chức: {meeting.org}")
    lines.append(f"Nguồn: {it.source_name}")
    lines.append(f"Bài viết: {it.link}")
    event.add("description", nfc("\n".join(lines)))
    event.add("url", it.link)
    event.add("categories", [nfc(KIND_LABELS[meeting.kind])])
    event.add("transp", "TRANSPARENT")
    return event


def unfolded(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


@given(
    title=texts,
    location=st.none() | texts,
    org=st.none() | texts,
    kind=st.sampled_from(sorted(KIND_LABELS)),
    held_text=st.sampled_from(["ngày 9/3", "7h30 ngày 9/3", "14 giờ chiều 9/3", "sáng 9/3"]),
    path=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-/", min_size=1, max_size=120),
)
def test_events_are_what_icalendar_writes_and_reads(
    title: str, location: str | None, org: str | None, kind: str, held_text: str, path: str
) -> None:
    # icalendar reads a literal "\N" in a TEXT value as a line end; ours keeps what was written.
    assume(not any("\\N" in t for t in (title, location or "", org or "")))
    it = item(title, location, org, kind, held_text, f"https://ldld.thanhhoa.gov.vn/{path}")
    written = meeting_event(it)
    assert written is not None
    key, text = written
    ours = unfolded(text)
    theirs = unfolded(icalendar_event(it).to_ical().decode("utf-8"))
    assert ours == theirs
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= FOLD_OCTETS
    parsed = Calendar.from_ical(f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{text}END:VCALENDAR\r\n").walk("VEVENT")[0]
    assert str(parsed["SUMMARY"]) == unicodedata.normalize("NFC", title)
    assert (str(parsed["LOCATION"]) if "LOCATION" in parsed else None) == (
        unicodedata.normalize("NFC", location) if location else None
    )
    assert str(parsed["UID"]) == it.guid and str(parsed["URL"]) == it.link
    start = parsed.decoded("DTSTART")
    assert key == f"{start.isoformat()} {it.guid}"


@given(st.text(alphabet=ALPHABET + "abc", max_size=400))
def test_folding_keeps_every_character_and_no_line_is_too_long(line: str) -> None:
    line = line.replace("\n", " ")
    folded = fold(line)
    assert folded.replace("\r\n ", "") == line
    assert all(len(part.encode("utf-8")) <= FOLD_OCTETS for part in folded.split("\r\n"))
    for part in folded.split("\r\n")[:-1]:  # an escape's backslash moves down with what it escapes
        assert not part.endswith(("\\", "^")) or len(part.removeprefix(" ")) == 1, folded


def char_by_char(line: str) -> str:
    """The folding calendar.fold did a character at a time before it cut on bytes (the oracle: same cuts)."""
    if len(line) < FOLD_OCTETS and line.isascii():
        return line
    lines: list[str] = []
    current: list[str] = []
    octets = 0
    for char in line:
        size = len(char.encode("utf-8"))
        if current and octets + size >= FOLD_OCTETS:
            carried = current.pop() if len(current) > 1 and current[-1] in "\\^" else ""
            lines.append("".join(current))
            current = [carried] if carried else []
            octets = len(carried)
        current.append(char)
        octets += size
    lines.append("".join(current))
    return "\r\n ".join(lines)


@given(st.text(alphabet=ALPHABET + "abc\U0001f600", max_size=400))
def test_folding_cuts_where_it_cut_a_character_at_a_time(line: str) -> None:
    line = line.replace("\n", " ")
    assert fold(line) == char_by_char(line)
    assert fold("\\" * 200) == char_by_char("\\" * 200) and fold("ữ" * 80 + "\\,") == char_by_char("ữ" * 80 + "\\,")


def icalendar_head(name: str, base_url: str, version: str) -> str:
    """The calendar's head as icalendar's Calendar wrote it before (the oracle)."""
    cal = Calendar()
    cal.add("prodid", f"-//unionfeed//unionfeed {version}//VI")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", unicodedata.normalize("NFC", name))
    cal.add("x-wr-timezone", VN_ZONE)
    nfc = unicodedata.normalize("NFC", f"{name}, theo tin tường thuật trên các trang công đoàn ({base_url})")
    cal.add("x-wr-caldesc", nfc)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    return str(cal.to_ical().decode("utf-8")).removesuffix("END:VCALENDAR\r\n")


@given(
    name=st.text(alphabet=ALPHABET.replace("\n", ""), min_size=1, max_size=120),
    version=st.sampled_from(["0.1.0", "1.2.3+local", "2,0;x\\y"]),
)
def test_the_calendar_head_and_timezone_are_what_icalendar_writes(name: str, version: str) -> None:
    assert calendar_head(name, "https://tin.example.vn/", version) == icalendar_head(
        name, "https://tin.example.vn/", version
    )
    tz = Timezone()
    tz.add("tzid", VN_ZONE)
    standard = TimezoneStandard()
    standard.add("dtstart", datetime(1970, 1, 1))
    standard.add("tzoffsetfrom", timedelta(hours=7))
    standard.add("tzoffsetto", timedelta(hours=7))
    standard.add("tzname", "+07")
    tz.add_component(standard)
    assert VN_TIMEZONE == tz.to_ical().decode("utf-8")
    parsed = Calendar.from_ical(calendar_head(name, "https://tin.example.vn/", version) + "END:VCALENDAR\r\n")
    assert str(parsed["X-WR-CALNAME"]) == unicodedata.normalize("NFC", name)
