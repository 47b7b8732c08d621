"""Per-province meetings calendars (feeds/provinces/<slug>.ics beside the province feeds of
feed.publish.query_static), written by a real publish from a real SQLite store and parsed back with `icalendar`."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from icalendar import Calendar

from feed.config.sources import Source
from feed.publish.calendar import feed_calendar
from feed.publish.publisher import publish
from feed.records import Meeting
from feed.serve.server import serve_in_thread

from .support.feedworld import World, make_world

TONG_KET = "Công đoàn tỉnh Mẫu tổng kết năm 2025, đặt mục tiêu 2026"
SO_KET = "Sơ kết 6 tháng: chăm lo <việc làm> cho người lao động"
DAI_HOI = "Đại hội Công đoàn ngành Mẫu lần thứ V, nhiệm kỳ 2026–2031"
# The LĐLĐ is in Thanh Hóa, the newspaper and the sector union in Nghệ An; the silent source has no province. The
# sơ kết is one story reported by the LĐLĐ and copied by the newspaper: it belongs to both provinces.
PROVINCES = {"ldld-mau": "Thanh Hóa", "bao-mau": "Nghệ An", "cd-nganh-mau": "Nghệ An"}


def dai_hoi(location: str) -> Meeting:
    return Meeting(
        is_report=True,
        score=0.9,
        kind="dai_hoi",
        org="Công đoàn ngành Mẫu",
        period="2026–2031",
        held_on="2026-05-20",
        held_on_text="8 giờ sáng ngày 20/5",
        location=location,
    )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[World, list[Source]]]:
    world = make_world(tmp_path)
    world.store.save_meeting(world.ids["dai-hoi"], dai_hoi("Hội trường Công đoàn ngành Mẫu, TP Vinh"))
    sources = [
        s.model_copy(update={"province": PROVINCES[s.slug]}) if s.slug in PROVINCES else s for s in world.sources
    ]
    yield world, sources
    world.store.close()


def parse(path: Path) -> Calendar:
    cal = Calendar.from_ical(path.read_bytes())
    assert str(cal["version"]) == "2.0"
    for event in cal.walk("VEVENT"):  # what RFC 5545 requires of every event a client imports
        assert event.get("uid") and event.get("dtstamp") and event.get("dtstart"), event.to_ical()
    return cal


def by_uid(cal: Calendar) -> dict[str, bytes]:
    return {str(e["uid"]): e.to_ical() for e in cal.walk("VEVENT")}


def summaries(cal: Calendar) -> set[str]:
    return {str(e["summary"]) for e in cal.walk("VEVENT")}


def test_each_province_calendar_holds_its_own_held_meetings_under_the_meetings_uids(
    world: tuple[World, list[Source]],
) -> None:
    w, sources = world
    publish(w.store, w.settings, sources)
    public = w.settings.public
    everything = by_uid(parse(public / "feeds/meetings.ics"))
    thanh_hoa = parse(public / "feeds/provinces/thanh-hoa.ics")
    nghe_an = parse(public / "feeds/provinces/nghe-an.ics")
    # Exactly the province's meetings held on a known day: the BCH meeting (Nghệ An) and the hội thảo (Thanh Hóa)
    # have no day; the sơ kết is in both, once each, under one UID.
    assert summaries(thanh_hoa) == {TONG_KET, SO_KET}
    assert summaries(nghe_an) == {SO_KET, DAI_HOI}
    assert len(thanh_hoa.walk("VEVENT")) == 2 and len(nghe_an.walk("VEVENT")) == 2
    # The same events as meetings.ics: same UIDs, same rendered text.
    for cal in (thanh_hoa, nghe_an):
        for uid, text in by_uid(cal).items():
            assert everything[uid] == text
    assert set(by_uid(thanh_hoa)) | set(by_uid(nghe_an)) == set(everything)
    assert str(thanh_hoa["x-wr-calname"]) == "Lịch hội nghị công đoàn Thanh Hóa"
    assert str(nghe_an["x-wr-calname"]) == "Lịch hội nghị công đoàn Nghệ An"
    # The timed đại hội names its zone, whose VTIMEZONE is in that calendar only.
    assert [str(tz["tzid"]) for tz in nghe_an.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    assert thanh_hoa.walk("VTIMEZONE") == []
    # The same slugs as the province feeds; no calendar for a source without a province.
    feeds = {p.name for p in (public / "feeds/provinces").iterdir()}
    assert {n.rsplit(".", 1)[0] for n in feeds} == {"thanh-hoa", "nghe-an"}
    assert {"thanh-hoa.ics", "thanh-hoa.atom", "nghe-an.ics", "nghe-an.json"} <= feeds
    manifest = {f["path"]: f for f in json.loads((public / "snapshots/manifest.json").read_text("utf-8"))["files"]}
    assert manifest["feeds/provinces/thanh-hoa.ics"]["count"] == 2
    assert manifest["feeds/provinces/nghe-an.ics"]["count"] == 2
    # Linked from the index page: the province's feed row and the province filter's option.
    index = (public / "index.html").read_text(encoding="utf-8")
    assert 'href="feeds/provinces/thanh-hoa.ics"' in index and 'href="feeds/kinds/dai_hoi.ics"' in index
    assert '<option value="Thanh Hóa" data-lich="feeds/provinces/thanh-hoa.ics">' in index
    assert "provinces/thanh-hoa.ics" not in (public / "feeds-all.opml").read_text(encoding="utf-8")


def test_a_province_calendar_is_rewritten_only_when_its_province_changes(world: tuple[World, list[Source]]) -> None:
    w, sources = world
    publish(w.store, w.settings, sources)
    public = w.settings.public
    files = {p: public / "feeds" / p for p in ("meetings.ics", "provinces/thanh-hoa.ics", "provinces/nghe-an.ics")}
    before = {p: (f.read_bytes(), f.stat().st_mtime_ns) for p, f in files.items()}
    nghe_an_uids = set(by_uid(parse(files["provinces/nghe-an.ics"])))
    # A later fact about the Nghệ An đại hội (its place is learnt): Thanh Hóa's calendar is not touched.
    w.store.save_meeting(w.ids["dai-hoi"], dai_hoi("Trung tâm Hội nghị tỉnh Nghệ An"))
    publish(w.store, w.settings, sources)
    after = {p: (f.read_bytes(), f.stat().st_mtime_ns) for p, f in files.items()}
    assert after["provinces/thanh-hoa.ics"] == before["provinces/thanh-hoa.ics"]
    assert after["provinces/nghe-an.ics"][0] != before["provinces/nghe-an.ics"][0]
    assert after["meetings.ics"][0] != before["meetings.ics"][0]
    changed = parse(files["provinces/nghe-an.ics"])
    assert set(by_uid(changed)) == nghe_an_uids  # the event is updated, never added a second time
    places = {str(e["summary"]): str(e.get("location")) for e in changed.walk("VEVENT")}
    assert places[DAI_HOI] == "Trung tâm Hội nghị tỉnh Nghệ An"
    # And a publish with no change at all writes none of them.
    publish(w.store, w.settings, sources)
    assert {p: (f.read_bytes(), f.stat().st_mtime_ns) for p, f in files.items()} == after


def test_a_renamed_province_renames_its_calendar(world: tuple[World, list[Source]]) -> None:
    """The calendar's name comes from the configuration, not from a story: a respelt province still shows."""
    w, sources = world
    publish(w.store, w.settings, sources)
    path = w.settings.public / "feeds/provinces/thanh-hoa.ics"
    respelt = [s.model_copy(update={"province": "Thanh Hoá"}) if s.province == "Thanh Hóa" else s for s in sources]
    publish(w.store, w.settings, respelt)
    assert str(parse(path)["x-wr-calname"]) == "Lịch hội nghị công đoàn Thanh Hoá"


def test_bounded_and_fed_by_the_aggregate_stories_too(world: tuple[World, list[Source]]) -> None:
    """feed_limit 1: each province calendar holds one event though two are eligible; Nghệ An's feed holds only its
    newest story (the undated Hỏi đáp, no meeting), yet its calendar shows the meeting meetings.ics shows for it."""
    w, sources = world
    settings = replace(w.settings, feed_limit=1)
    publish(w.store, settings, sources)
    public = settings.public

    def titles(feed: str) -> list[str]:
        return [i["title"] for i in json.loads((public / feed).read_text(encoding="utf-8"))["items"]]

    assert titles("feeds/provinces/nghe-an.json") == ["Hỏi đáp: quyền lợi khi nghỉ thai sản"]
    meetings = by_uid(parse(public / "feeds/meetings.ics"))
    for slug in ("thanh-hoa", "nghe-an"):
        cal = parse(public / f"feeds/provinces/{slug}.ics")
        assert summaries(cal) == {SO_KET} and by_uid(cal) == meetings
    server = serve_in_thread(public, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/feeds/provinces/nghe-an.ics"
        with urllib.request.urlopen(url, timeout=10) as reply:
            assert reply.headers["Content-Type"] == "text/calendar; charset=utf-8"
            assert summaries(Calendar.from_ical(reply.read())) == {SO_KET}
    finally:
        server.shutdown()


def test_feed_calendar_names_the_calendar_beside_a_feed() -> None:
    assert feed_calendar("meetings") == "feeds/meetings.ics"
    assert feed_calendar("kinds/dai_hoi") == "feeds/kinds/dai_hoi.ics"
    assert feed_calendar("provinces/thanh-hoa") == "feeds/provinces/thanh-hoa.ics"
    for path in ("all", "other", "kinds/khong-co", "sources/ldld-mau", "query-dai-hoi", "provinces/a/b"):
        assert feed_calendar(path) is None
