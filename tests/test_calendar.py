"""The meetings calendar (feed.publish.calendar): feeds/meetings.ics and one per kind, written by a real publish
from a real store, parsed back with the `icalendar` package, served by the real server as text/calendar."""

from __future__ import annotations

import json
import unicodedata
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
from icalendar import Calendar

from feed.publish.calendar import held_time
from feed.publish.publisher import publish
from feed.records import Meeting, Official
from feed.serve.server import serve_in_thread

from .support.feedworld import World, make_world

TIMED = "7h30 ngày 20/5"  # the words the date of the đại hội was read from


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = make_world(tmp_path)
    # The đại hội states its hour: a timed event in Asia/Ho_Chi_Minh.
    world.store.save_meeting(
        world.ids["dai-hoi"],
        Meeting(
            is_report=True,
            score=0.9,
            kind="dai_hoi",
            org="Công đoàn ngành Mẫu",
            period="2026–2031",
            held_on="2026-05-20",
            held_on_text=TIMED,
            location="Cung Văn hóa Lao động, Hà Nội; tầng 2",
            officials=[Official("Trần Thị Mẫu", "Chủ tịch")],
        ),
    )
    yield world
    world.store.close()


def parse(path: Path) -> Calendar:
    return Calendar.from_ical(path.read_bytes())


def events(cal: Calendar) -> dict[str, object]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_held_time_reads_the_hour_only_when_stated() -> None:
    assert held_time("7h30 ngày 20/12") == time(7, 30)
    assert held_time("Vào lúc 8 giờ sáng 10/1") == time(8, 0)
    assert held_time("2 giờ chiều ngày 3/4") == time(14, 0)
    assert held_time("14:00 ngày 3/4") == time(14, 0)
    assert held_time("Sáng 10/1") is None
    assert held_time("ngày 20/12/2025") is None
    assert held_time("10 học viên, ngày 5/6") is None
    assert held_time(None) is None


def test_one_event_per_held_meeting_parsed_back(world: World) -> None:
    publish(world.store, world.settings, world.sources)
    public = world.settings.public
    raw = (public / "feeds/meetings.ics").read_bytes()
    cal = parse(public / "feeds/meetings.ics")
    assert str(cal["version"]) == "2.0" and str(cal["prodid"]).startswith("-//unionfeed//")
    # The meetings feed's stories with a resolved day, under their feed GUIDs.
    feed = json.loads((public / "feeds/meetings.json").read_text(encoding="utf-8"))
    guids = {i["id"]: i for i in feed["items"]}
    found = events(cal)
    assert set(found) <= set(guids)
    by_title = {str(e["summary"]): e for e in found.values()}
    assert set(by_title) == {
        "Công đoàn tỉnh Mẫu tổng kết năm 2025, đặt mục tiêu 2026",
        "Sơ kết 6 tháng: chăm lo <việc làm> cho người lao động",
        "Đại hội Công đoàn ngành Mẫu lần thứ V, nhiệm kỳ 2026–2031",
    }  # the BCH meeting and the hội thảo have no resolved day: a calendar cannot place them
    tong_ket = by_title["Công đoàn tỉnh Mẫu tổng kết năm 2025, đặt mục tiêu 2026"]
    assert tong_ket.decoded("dtstart") == date(2026, 1, 10) and tong_ket.decoded("dtend") == date(2026, 1, 11)
    assert str(tong_ket["location"]) == "Hội trường tỉnh Mẫu"
    assert "Đơn vị tổ chức: Liên đoàn Lao động tỉnh Mẫu" in str(tong_ket["description"])
    assert str(tong_ket["url"]) == guids[str(tong_ket["uid"])]["url"]
    assert isinstance(tong_ket.decoded("dtstamp"), datetime)
    dai_hoi = by_title["Đại hội Công đoàn ngành Mẫu lần thứ V, nhiệm kỳ 2026–2031"]
    start = dai_hoi.decoded("dtstart")
    assert isinstance(start, datetime) and start.utcoffset() is not None
    assert (start.hour, start.minute, start.utcoffset().total_seconds()) == (7, 30, 7 * 3600)
    assert dai_hoi["dtstart"].params["TZID"] == "Asia/Ho_Chi_Minh"
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    # Text escaped (the comma and semicolon of the place), lines folded at 75 octets, CRLF, NFC.
    assert str(dai_hoi["location"]) == "Cung Văn hóa Lao động, Hà Nội; tầng 2"
    assert b"LOCATION:Cung V\xc4\x83n h\xc3\xb3a Lao \xc4\x91\xe1\xbb\x99ng\\, H\xc3\xa0 N\xe1\xbb\x99i\\; t" in raw
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75 and any(line.startswith(b" ") for line in lines)
    text = raw.decode("utf-8")
    assert unicodedata.normalize("NFC", text) == text
    # One calendar per kind; the manifest lists them with their event counts.
    assert [str(e["summary"]) for e in parse(public / "feeds/kinds/dai_hoi.ics").walk("VEVENT")] == [
        "Đại hội Công đoàn ngành Mẫu lần thứ V, nhiệm kỳ 2026–2031"
    ]
    assert parse(public / "feeds/kinds/hoi_nghi_bch.ics").walk("VEVENT") == []
    manifest = {f["path"]: f for f in json.loads((public / "snapshots/manifest.json").read_text("utf-8"))["files"]}
    assert manifest["feeds/meetings.ics"]["count"] == 3 and manifest["feeds/kinds/tong_ket.ics"]["count"] == 1


def test_uids_and_bytes_stay_across_publishes(world: World) -> None:
    publish(world.store, world.settings, world.sources)
    path = world.settings.public / "feeds/meetings.ics"
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    uids = set(events(parse(path)))
    publish(world.store, world.settings, world.sources)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime  # ETag and 304 keep working
    # A later fact (the place is learnt) changes the event, never its UID.
    world.store.save_meeting(
        world.ids["tong-ket"],
        Meeting(
            is_report=True,
            score=0.9,
            kind="tong_ket",
            org="Liên đoàn Lao động tỉnh Mẫu",
            held_on="2026-01-10",
            location="Nhà Văn hóa Lao động tỉnh Mẫu",
        ),
    )
    publish(world.store, world.settings, world.sources)
    after = events(parse(path))
    assert set(after) == uids
    assert "Nhà Văn hóa Lao động tỉnh Mẫu" in {str(e.get("location")) for e in after.values()}


def test_served_as_text_calendar(world: World) -> None:
    publish(world.store, world.settings, world.sources)
    server = serve_in_thread(world.settings.public, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/feeds/meetings.ics"
        with urllib.request.urlopen(url, timeout=10) as reply:
            assert reply.headers["Content-Type"] == "text/calendar; charset=utf-8"
            assert Calendar.from_ical(reply.read()).walk("VEVENT")
    finally:
        server.shutdown()
    index = (world.settings.public / "index.html").read_text(encoding="utf-8")
    opml = (world.settings.public / "feeds.opml").read_text(encoding="utf-8")
    # Linked from the index only: a reader importing the OPML would subscribe to it as a feed (newsboat does).
    assert 'href="feeds/meetings.ics"' in index and "meetings.ics" not in opml
