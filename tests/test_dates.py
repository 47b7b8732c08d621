"""Vietnamese date parsing: every format seen on union and news pages, relative stamps, meeting dates."""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feed.lang.dates import VN_TZ, find_vn_datetime, parse_day_month, parse_vn_datetime

from .support.needs import shared_path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
NOW = datetime(2025, 11, 1, 12, 0, tzinfo=VN_TZ)
ARCHIVE_NOW = datetime(2026, 1, 1, tzinfo=VN_TZ)  # later than every real page, so none is "future"


def iso(found: datetime | None) -> str | None:
    return found.isoformat() if found is not None else None


FORMATS = [
    # Bylines of union sites.
    ("18/01/2021 07:06 AM", "2021-01-18T07:06:00+07:00"),
    ("09:28 12/07/2021 | Lượt xem : 2202", "2021-07-12T09:28:00+07:00"),
    ("Ngày đăng: 05:20:07 - 24/ 07 /2020", "2020-07-24T05:20:07+07:00"),
    ("04:01, 22/01/2021", "2021-01-22T04:01:00+07:00"),
    # News sites, 2012-2025 templates.
    ("Thứ tư, 22/10/2025, 19:25 (GMT+7)", "2025-10-22T19:25:00+07:00"),
    ("21/12/2012 - 08:04", "2012-12-21T08:04:00+07:00"),
    ("Cập nhật thứ hai, ngày 24/12/12 11:05 tối", "2012-12-24T23:05:00+07:00"),
    ("24/12/2012, 03:04 AM (GMT+7)", "2012-12-24T03:04:00+07:00"),
    ("Chủ nhật, 23/12/2012 - 10:05", "2012-12-23T10:05:00+07:00"),
    ("Thứ Hai, 14/01/2013 | 08:10", "2013-01-14T08:10:00+07:00"),
    ("Thứ 2, 14/01/2013", "2013-01-14T00:00:00+07:00"),
    ("14-01-2013", "2013-01-14T00:00:00+07:00"),
    ("14.01.2013", "2013-01-14T00:00:00+07:00"),
    ("ngày 14 tháng 1 năm 2013", "2013-01-14T00:00:00+07:00"),
    ("14 tháng 01, 2013", "2013-01-14T00:00:00+07:00"),
    ("Ngày 14 tháng 01 năm 2013 lúc 9 giờ 15 phút", "2013-01-14T09:15:00+07:00"),
    ("02/08/2021 lúc 18:47", "2021-08-02T18:47:00+07:00"),
    ("17:39 | 28/12/2012", "2012-12-28T17:39:00+07:00"),
    ("(25/12/2012)", "2012-12-25T00:00:00+07:00"),
    ("Khoảng 10 giờ 10 phút ngày 19-5-2012", "2012-05-19T10:10:00+07:00"),
    # 12-hour clocks and day-part words.
    ("14/01/2013 09:15 PM", "2013-01-14T21:15:00+07:00"),
    ("14/01/2013 12:05 AM", "2013-01-14T00:05:00+07:00"),
    ("14/01/2013 12:05 PM", "2013-01-14T12:05:00+07:00"),
    ("14/01/2013 09:15 CH", "2013-01-14T21:15:00+07:00"),
    ("14/01/2013 09:15 SA", "2013-01-14T09:15:00+07:00"),
    ("14/01/2013 3:30 chiều", "2013-01-14T15:30:00+07:00"),
    ("8 giờ sáng ngày 14/1/2013", "2013-01-14T08:00:00+07:00"),
    ("1 giờ trưa 14/01/2013", "2013-01-14T13:00:00+07:00"),
    ("10 giờ đêm 14/01/2013", "2013-01-14T22:00:00+07:00"),
    ("2 giờ đêm 14/01/2013", "2013-01-14T02:00:00+07:00"),
    ("chiều ngày 14/1/2013 lúc 2:30", "2013-01-14T14:30:00+07:00"),
    ("10h30 ngày 14/01/2013", "2013-01-14T10:30:00+07:00"),
    ("10g30 14/01/2013", "2013-01-14T10:30:00+07:00"),
    ("14/01/2013, 10 giờ rưỡi", "2013-01-14T10:30:00+07:00"),
    # Two-digit years.
    ("24/12/12", "2012-12-24T00:00:00+07:00"),
    ("14/01/99 08:00", "1999-01-14T08:00:00+07:00"),
    ("01.02.03", "2003-02-01T00:00:00+07:00"),
    # Offsets.
    ("14/01/2013 08:10 GMT+07:00", "2013-01-14T08:10:00+07:00"),
    ("14/01/2013 08:10 UTC+7", "2013-01-14T08:10:00+07:00"),
    ("14/01/2013 08:10 (GMT+9)", "2013-01-14T08:10:00+09:00"),
    ("14/01/2013 08:10 GMT", "2013-01-14T08:10:00+00:00"),
    ("14/01/2013 08:10 GMT-05:30", "2013-01-14T08:10:00-05:30"),
    # ISO 8601 and RFC 822.
    ("2021-01-18T07:06:00+07:00", "2021-01-18T07:06:00+07:00"),
    ("2021-01-18T00:06:00Z", "2021-01-18T00:06:00+00:00"),
    ("2021-01-18T07:06:00", "2021-01-18T07:06:00+07:00"),
    ("2021-01-18 07:06", "2021-01-18T07:06:00+07:00"),
    ("2012-12-23T14:02+07:00", "2012-12-23T14:02:00+07:00"),
    ("2025-10-22T19:25:52.250+07:00", "2025-10-22T19:25:52.250000+07:00"),
    ("2012-12-25", "2012-12-25T00:00:00+07:00"),
    ("Mon, 18 Jan 2021 07:06:00 +0700", "2021-01-18T07:06:00+07:00"),
    ("Mon, 18 Jan 2021 00:06:00 GMT", "2021-01-18T00:06:00+00:00"),
    ("18 January 2021 07:06", "2021-01-18T07:06:00+07:00"),
    ("Jan 18, 2021", "2021-01-18T00:00:00+07:00"),
    # Entities, decomposed accents, odd whitespace.
    ("Th&#7913; Hai, 24/12/2012, 03:04 AM (GMT+7)", "2012-12-24T03:04:00+07:00"),
    ("Ng&agrave;y 14/01/2013&nbsp;08:10", "2013-01-14T08:10:00+07:00"),
    (unicodedata.normalize("NFD", "Thứ Hai, 14/01/2013 | 08:10 tối"), "2013-01-14T20:10:00+07:00"),
    ("\n\t 14/01/2013 \u200b\xa0 08:10 \n", "2013-01-14T08:10:00+07:00"),
]


@pytest.mark.parametrize(("text", "expected"), FORMATS)
def test_parses_every_known_format(text: str, expected: str) -> None:
    assert iso(parse_vn_datetime(text, now=NOW)) == expected


WEEKDAYS = [
    "Thứ hai",
    "Thứ Hai",
    "THỨ HAI",
    "thứ hai",
    "Thứ 2",
    "T2",
    "thứ ba",
    "Thứ Tư",
    "Thứ năm",
    "Thứ Sáu",
    "Thứ bảy",
    "Thứ Bẩy",
    "Chủ nhật",
    "CHỦ NHẬT",
    "CN",
    "Thu hai",
]


@pytest.mark.parametrize("weekday", WEEKDAYS)
def test_weekday_words_in_any_form_are_ignored(weekday: str) -> None:
    found = parse_vn_datetime(f"{weekday}, 14/01/2013 - 08:10", now=NOW)
    assert found == datetime(2013, 1, 14, 8, 10, tzinfo=VN_TZ)


RELATIVE = [
    ("(3 giờ trước)", NOW - timedelta(hours=3)),
    ("5 phút trước", NOW - timedelta(minutes=5)),
    ("2 giờ 43 phút trước", NOW - timedelta(hours=2, minutes=43)),
    ("2 ngày trước", NOW - timedelta(days=2)),
    ("1 tuần trước", NOW - timedelta(weeks=1)),
    ("cách đây 2 ngày", NOW - timedelta(days=2)),
    ("một giờ trước", NOW - timedelta(hours=1)),
    ("3 gio truoc", NOW - timedelta(hours=3)),
    ("30 giây trước", NOW - timedelta(seconds=30)),
    ("vừa xong", NOW),
    ("hôm qua", NOW - timedelta(days=1)),
    ("hôm kia", NOW - timedelta(days=2)),
    ("hôm qua lúc 10:30", datetime(2025, 10, 31, 10, 30, tzinfo=VN_TZ)),
    ("10:30 hôm qua", datetime(2025, 10, 31, 10, 30, tzinfo=VN_TZ)),
    ("tối qua lúc 9:30", datetime(2025, 10, 31, 21, 30, tzinfo=VN_TZ)),
    ("hôm nay 07:15", datetime(2025, 11, 1, 7, 15, tzinfo=VN_TZ)),
    ("sáng nay", datetime(2025, 11, 1, 8, 0, tzinfo=VN_TZ)),
]


@pytest.mark.parametrize(("text", "expected"), RELATIVE)
def test_relative_stamps_count_back_from_now(text: str, expected: datetime) -> None:
    assert parse_vn_datetime(text, now=NOW) == expected


def test_relative_stamps_follow_a_naive_or_foreign_now() -> None:
    naive = NOW.replace(tzinfo=None)
    utc = NOW.astimezone(UTC)
    assert parse_vn_datetime("3 giờ trước", now=naive) == NOW - timedelta(hours=3)
    assert parse_vn_datetime("3 giờ trước", now=utc) == NOW - timedelta(hours=3)
    assert iso(parse_vn_datetime("3 giờ trước", now=utc)) == "2025-11-01T09:00:00+07:00"


REJECTED = [
    "31/02/2021",
    "2021-02-29",
    "32/01/2021",
    "14/13/2013",
    "ngày 14 tháng 13 năm 2013",  # impossible
    "01/01/1985",
    "1/1/89",
    "ngày 1 tháng 1 năm 1",
    "ngày 5 tháng 3 năm 123",  # before the Vietnamese web
    "0001-01-01T00:00:00Z",
    "31/12/9999 23:59",
    "9999-12-31T23:59:59-12:00",  # CMS placeholders
    "01/01/2030",
    "02/11/2025 13:00",  # future, beyond a day of clock skew
    "",
    "   ",
    "không có ngày tháng",
    "Lượt xem: 2202",
    "tháng 4/2013",
    "mùng 8 tháng 1 năm Quý Tỵ",
    "9999999 năm trước",
    "99999 năm 99999 năm 99999 năm 99999 năm trước",
]


@pytest.mark.parametrize("text", REJECTED)
def test_impossible_absurd_future_and_dateless_text_gives_none(text: str) -> None:
    assert parse_vn_datetime(text, now=NOW) is None


def test_future_dates_pass_only_when_allowed_or_within_the_skew() -> None:
    assert parse_vn_datetime("01/01/2030", now=NOW, allow_future=True) == datetime(2030, 1, 1, tzinfo=VN_TZ)
    assert parse_vn_datetime("02/11/2025 10:00", now=NOW) == datetime(2025, 11, 2, 10, 0, tzinfo=VN_TZ)


def test_a_date_without_year_is_the_latest_one_not_in_the_future() -> None:
    assert parse_vn_datetime("ngày 24/10 lúc 10:00", now=NOW) == datetime(2025, 10, 24, 10, tzinfo=VN_TZ)
    assert parse_vn_datetime("ngày 24/12 lúc 10:00", now=NOW) == datetime(2024, 12, 24, 10, tzinfo=VN_TZ)


def test_default_tz_applies_only_when_the_text_has_no_offset() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert iso(parse_vn_datetime("14/01/2013 08:10", now=NOW, default_tz=tokyo)) == "2013-01-14T08:10:00+09:00"
    assert iso(parse_vn_datetime("14/01/2013 08:10 GMT+7", now=NOW, default_tz=tokyo)) == "2013-01-14T08:10:00+07:00"


BYLINES = [
    ("Tác giả: Minh An | 18/01/2021 07:06 AM | Lượt xem: 22", "2021-01-18T07:06:00+07:00"),
    ("Lượt xem: 1.411 | Cập nhật lúc 09:28 ngày 12/07/2021 | In bài", "2021-07-12T09:28:00+07:00"),
    ("Giấy phép số 17/GP-BTTTT | Đăng ngày 31/02/2021, sửa 14/01/2013 08:10", "2013-01-14T08:10:00+07:00"),
    ("Hội nghị sẽ diễn ra ngày 01/01/2030 - đăng 14/01/2013", "2013-01-14T00:00:00+07:00"),
    ("Thứ Tư, 26/12/2012 17:14 (LĐLĐ) - Sáng 25-12, công đoàn tỉnh họp", "2012-12-26T17:14:00+07:00"),
    ("Thu Trang - Báo Công đoàn (3 giờ trước) - Chia sẻ", "2025-11-01T09:00:00+07:00"),
    ("Lượt xem : 2202 | 12/07/2021", "2021-07-12T00:00:00+07:00"),
]


@pytest.mark.parametrize(("text", "expected"), BYLINES)
def test_find_picks_the_first_plausible_date_in_a_byline(text: str, expected: str) -> None:
    assert iso(find_vn_datetime(text, now=NOW)) == expected


def test_find_gives_none_without_a_date() -> None:
    assert find_vn_datetime("Nguồn: Ban Tuyên giáo | Bình luận (5) | Chia sẻ", now=NOW) is None


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=9, tzinfo=VN_TZ)


MEETINGS = [
    ("Sáng ngày 15/01/2021, Công đoàn Trường tổ chức hội nghị", "2021-01-18", date(2021, 1, 15)),
    ("Chiều ngày 09/7, tại hội trường Sở, Công đoàn ngành họp", "2021-07-12", date(2021, 7, 9)),
    ("Ngày 23/7, tại thành phố, Khối thi đua tổ chức sơ kết", "2020-07-24", date(2020, 7, 23)),
    ("Ngày 22-1, Công đoàn Viên chức tỉnh tổng kết năm", "2021-01-22", date(2021, 1, 22)),
    ("sáng 26/12, Liên đoàn Lao động huyện tổ chức đại hội", "2021-01-05", date(2020, 12, 26)),
    ("Ngày 28/12, Công đoàn cơ sở tổng kết năm", "2021-01-05", date(2020, 12, 28)),
    ("Sáng nay, Công đoàn ngành Giáo dục khai mạc hội nghị", "2021-01-05", date(2021, 1, 5)),
    ("hôm qua", "2021-01-05", date(2021, 1, 4)),
    ("Tối qua (4/1), hội nghị bế mạc", "2021-01-05", date(2021, 1, 4)),
    ("ngày 8/1 tới, Công đoàn sẽ tổ chức hội nghị", "2021-01-05", date(2021, 1, 8)),
    ("ngày 20/3", "2021-01-05", date(2020, 3, 20)),
    ("ngày 2/1 tới, đại hội sẽ khai mạc", "2021-12-30", date(2022, 1, 2)),
    ("Có 1/3 đại biểu là nữ; chiều ngày 14/1, hội nghị bế mạc", "2021-01-15", date(2021, 1, 14)),
    ("ngày 14 tháng 1, hội nghị khai mạc", "2021-01-15", date(2021, 1, 14)),
    ("Sáng 19.12, Công đoàn tổ chức hội nghị", "2012-12-20", date(2012, 12, 19)),
    ("ngày 29/2", "2021-03-05", date(2020, 2, 29)),
    ("Ngày 2/1/2022, đại hội khai mạc", "2021-12-30", date(2022, 1, 2)),
]


@pytest.mark.parametrize(("text", "published", "expected"), MEETINGS)
def test_meeting_dates_resolve_against_the_publication_day(text: str, published: str, expected: date) -> None:
    assert parse_day_month(text, reference=at(published)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hội nghị tổng kết công tác năm 2020",
        "ngày 31/2",
        "ngày 15/01/1985",
        "mùng 8 tháng 1 năm Quý Tỵ",
        "hiện nay Công đoàn quản lý 52 công đoàn cơ sở",
        "hội nghị thông qua nghị quyết",
        "",
    ],
)
def test_meeting_date_is_none_when_prose_names_no_possible_day(text: str) -> None:
    assert parse_day_month(text, reference=at("2021-01-05")) is None


def test_meeting_reference_is_read_in_vietnam_time() -> None:
    # 20:00 UTC on the 4th is already the 5th in Hanoi: "hôm qua" is the 4th.
    assert parse_day_month("hôm qua", reference=datetime(2021, 1, 4, 20, tzinfo=UTC)) == date(2021, 1, 4)


TOKENS = [
    "14",
    "01",
    "2013",
    "/",
    "-",
    ".",
    ":",
    " ",
    ",",
    "|",
    "(",
    ")",
    "+",
    "gmt",
    "utc",
    "z",
    "t",
    "am",
    "pm",
    "sa",
    "ch",
    "h",
    "g",
    "giờ",
    "phút",
    "trước",
    "ngày",
    "tháng",
    "năm",
    "hôm",
    "qua",
    "nay",
    "sáng",
    "tối",
    "thứ",
    "hai",
    "cn",
    "&nbsp;",
    "&#7857;",
    "99999",
    "0",
    "31",
    "12",
    "24",
    "60",
    "jan",
    "mon",
    "rưỡi",
    "vừa xong",
    "cách đây",
    "lúc",
    "1990",
    "9999",
]
datey_text = st.lists(st.sampled_from(TOKENS), max_size=14).map("".join) | st.text(max_size=60)
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2025, 10, 31), timezones=st.just(VN_TZ))


@pytest.mark.reliability("property-dates")
@settings(max_examples=300, deadline=None)
@given(datey_text)
def test_never_raises_and_never_returns_a_naive_or_future_datetime(text: str) -> None:
    for found in (parse_vn_datetime(text, now=NOW), find_vn_datetime(text, now=NOW)):
        if found is not None:
            assert found.utcoffset() is not None
            assert datetime(1990, 1, 1, tzinfo=VN_TZ) - timedelta(days=1) <= found <= NOW + timedelta(days=1)
    parse_day_month(text, reference=NOW)
    parse_vn_datetime(text, now=NOW, allow_future=True)


@pytest.mark.reliability("property-dates")
@settings(max_examples=100, deadline=None)
@given(datey_text)
def test_results_are_deterministic_for_a_fixed_now(text: str) -> None:
    assert parse_vn_datetime(text, now=NOW) == parse_vn_datetime(text, now=NOW)
    assert find_vn_datetime(text, now=NOW) == find_vn_datetime(text, now=NOW)
    assert parse_day_month(text, reference=NOW) == parse_day_month(text, reference=NOW)


@pytest.mark.reliability("property-dates")
@settings(max_examples=200, deadline=None)
@given(
    moments,
    st.sampled_from(["Thứ Hai, ", "Cập nhật: ", "", "Ngày đăng: "]),
    st.sampled_from(["{d} {t}", "{t} {d}", "{d} - {t}", "{t}, {d}", "{d} | {t}", "{d} lúc {t}"]),
    st.sampled_from(["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]),
)
def test_written_dates_round_trip(moment: datetime, prefix: str, layout: str, day_format: str) -> None:
    text = prefix + layout.format(d=moment.strftime(day_format), t=moment.strftime("%H:%M"))
    assert parse_vn_datetime(text, now=NOW) == moment.replace(second=0, microsecond=0)


@pytest.mark.reliability("property-dates")
@settings(max_examples=100, deadline=None)
@given(moments)
def test_twelve_hour_and_iso_stamps_round_trip(moment: datetime) -> None:
    minute = moment.replace(second=0, microsecond=0)
    assert parse_vn_datetime(minute.strftime("%d/%m/%Y %I:%M %p"), now=NOW) == minute
    assert parse_vn_datetime(moment.isoformat(), now=NOW) == moment


ZONES = st.one_of(
    st.none(),
    st.just(UTC),
    st.just(VN_TZ),
    st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-14 * 60, 14 * 60)),
)
ANY_CLOCK = st.datetimes(timezones=ZONES)  # year 1 to 9999: a machine with a broken clock too


@pytest.mark.reliability("property-dates")
@settings(max_examples=200, deadline=None)
@given(datey_text, ANY_CLOCK)
def test_any_clock_never_raises_and_bounds_the_result(text: str, now: datetime) -> None:
    local = now.replace(tzinfo=VN_TZ) if now.tzinfo is None else now
    for found in (parse_vn_datetime(text, now=now), find_vn_datetime(text, now=now)):
        if found is not None:
            assert found.utcoffset() is not None
            assert 1990 <= found.year <= 2100 and found <= local + timedelta(days=1)
            found.astimezone(UTC)  # every result can be stored as UTC
    held = parse_day_month(text, reference=now)
    assert held is None or 1990 <= held.year <= 2100 or abs(held - local.date()) <= timedelta(days=400)


ABSURD_YEARS = st.one_of(st.integers(1, 1989), st.integers(2101, 9999))
ABSURD_LAYOUTS = [
    "{y:04d}-{m:02d}-{d:02d}T{h:02d}:{i:02d}:00+07:00",
    "{y:04d}-{m:02d}-{d:02d}T{h:02d}:{i:02d}:00Z",
    "{y:04d}-{m:02d}-{d:02d}T{h:02d}:{i:02d}:59-12:00",
    "{h:02d}:{i:02d}, {d:02d}/{m:02d}/{y:04d}",
    "Thứ Hai, ngày {d} tháng {m} năm {y:04d}",
    "Cập nhật: {d}/{m}/{y:04d} {h}:{i:02d}",
]


@pytest.mark.reliability("property-dates", "date-absurd-past")
@settings(max_examples=150, deadline=None)
@given(
    ABSURD_YEARS,
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(ABSURD_LAYOUTS),
)
def test_years_before_the_web_or_past_2100_are_never_dates(
    year: int, month: int, day: int, hour: int, minute: int, layout: str
) -> None:
    text = layout.format(y=year, m=month, d=day, h=hour, i=minute)
    assert parse_vn_datetime(text, now=NOW) is None
    assert parse_vn_datetime(text, now=NOW, allow_future=True) is None
    assert find_vn_datetime(text, now=NOW) is None
    assert parse_day_month(text, reference=NOW) is None


@pytest.mark.reliability("property-dates", "date-future")
@settings(max_examples=150, deadline=None)
@given(
    st.integers(24 * 60 + 1, 20 * 365 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes)),
    st.sampled_from(["%d/%m/%Y %H:%M", "%H:%M, %d/%m/%Y", "%Y-%m-%dT%H:%M:%S%z", "ngày %d tháng %m năm %Y %H:%M"]),
)
def test_dates_past_a_day_of_skew_are_never_publication_dates(ahead: timedelta, layout: str) -> None:
    moment = NOW + ahead
    text = moment.strftime(layout)
    assert parse_vn_datetime(text, now=NOW) is None
    assert find_vn_datetime(text, now=NOW) is None
    assert parse_vn_datetime(text, now=NOW, allow_future=True) == moment


@pytest.mark.reliability("property-dates")
@settings(max_examples=150, deadline=None)
@given(
    st.datetimes(min_value=datetime(1990, 1, 2), max_value=datetime(2025, 10, 30), timezones=ZONES.filter(bool)),
    st.sampled_from(["", "Ngày đăng: ", "Cập nhật lúc "]),
)
def test_iso_stamps_in_any_offset_round_trip(moment: datetime, prefix: str) -> None:
    assert parse_vn_datetime(prefix + moment.isoformat(), now=NOW) == moment
    assert find_vn_datetime(f"Lượt xem: 12 | {prefix}{moment.isoformat()}", now=NOW) == moment
    assert parse_vn_datetime(moment.isoformat(), now=NOW) == parse_vn_datetime(moment.isoformat(), now=NOW)


@pytest.mark.reliability("property-dates")
@settings(max_examples=100, deadline=None)
@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2025, 10, 31)),
    st.sampled_from(["NFC", "NFD"]),
    st.sampled_from([str.lower, str.upper, str.title]),
)
def test_long_vietnamese_dates_round_trip_in_any_form_and_case(day: date, form: str, case: object) -> None:
    text = case(unicodedata.normalize(form, f"Thứ Sáu, ngày {day.day} tháng {day.month} năm {day.year}"))  # type: ignore[operator]
    assert parse_vn_datetime(text, now=NOW) == datetime.combine(day, datetime.min.time(), tzinfo=VN_TZ)


def shared_text(name: str) -> str:
    return shared_path("realpages", name).read_text("utf-8", errors="replace")


REALPAGE_DATES = [
    (
        "24h.com.vn__lo-luyen-thi-cong-chuc-han-quoc.html",
        r'class="publication_date">([^<]+)',
        "2012-12-24T03:04:00+07:00",
    ),
    (
        "24h.com.vn__lo-luyen-thi-cong-chuc-han-quoc.html",
        r'content="([^"]+)" itemprop="datePublished"',
        "2012-12-23T14:02:00+07:00",
    ),
    (
        "dantri.com.vn__chot-lich-nghi-le-tet-2013.html",
        r'itemprop="datePublished" content="[^"]*"/>([^<]+)',
        "2012-12-25T10:03:00+07:00",
    ),
    (
        "dantri.com.vn__chot-lich-nghi-le-tet-2013.html",
        r'itemprop="datePublished" content="([^"]+)"',
        "2012-12-25T00:00:00+07:00",
    ),
    ("genk.vn__amazon-chien-luoc.html", r'lblDattime">([^<]+)', "2012-12-21T08:04:00+07:00"),
    ("news.zing.vn__nha-tho-giang-sinh.html", r'class="timestamp">([^<]+)', "2012-12-24T23:05:00+07:00"),
    ("nld.com.vn__thieu-tien-hui-xach-dao.html", r'<p class="time">([^<]+)', "2012-12-26T17:14:00+07:00"),
    ("soha.vn__can-lo-lo-khan-tam.html", r'itemprop="datePublished">([^<]+)', "2012-12-25T10:25:00+07:00"),
    ("thanhnien.com.vn__5-bong-hong-buon-ma-tuy.html", r'class="date-line">([^<]+)', "2012-12-19T17:41:00+07:00"),
    ("vnexpress.net__dau-bung-keo-dai-lymphoma-ruot-non.html", r'class="date">([^<]+)', "2025-10-22T19:25:00+07:00"),
    (
        "vnexpress.net__dau-bung-keo-dai-lymphoma-ruot-non.html",
        r'"datePublished":"([^"]+)"',
        "2025-10-22T19:25:52+07:00",
    ),
    ("vnexpress.net__dong-nuoc-doc-ha-noi.html", r'class="spanTime">([^<]+)', "2012-12-28T14:46:00+07:00"),
    ("vnexpress.net__vo-ngoai-tinh-bi-danh-dap.html", r'class="spanTime">([^<]+)', "2012-12-20T10:18:00+07:00"),
    (
        "vnexpress.net__dong-nuoc-doc-ha-noi.html",
        r'class="time"><span>([^<]+</span>[^<]+)',
        "2012-12-28T17:39:00+07:00",
    ),
    ("vnexpress.net__rss-tin-moi-nhat-2017.xml", r"<pubDate>([^<]+)", "2017-07-26T19:55:20+07:00"),
    ("vnexpress.net__rss-the-gioi-2025-excerpt.xml", r"<pubDate>([^<]+)", "2025-02-06T20:45:46+07:00"),
    ("danviet.vn__homepage-mojibake.html", r'need-get-timeago" title="([^"]+)"', "2021-08-02T19:35:00+07:00"),
    ("tintaynguyen.com__homepage-mojibake.html", r'class="timeago" datetime="([^"]+)"', "2021-08-02T18:47:47+07:00"),
]


@pytest.mark.shared
@pytest.mark.parametrize(("name", "pattern", "expected"), REALPAGE_DATES)
def test_real_page_dates_parse(name: str, pattern: str, expected: str) -> None:
    found = re.search(pattern, shared_text(name))
    assert found is not None, f"{pattern} not in {name}"
    assert iso(parse_vn_datetime(found[1], now=ARCHIVE_NOW)) == expected


# Every date-like element of the real pages, list items and comments included.
SWEEP = [
    r"<pubDate>([^<]+)",
    r'datetime="([^"]+)"',
    r'title="(\d{4}-[^"]+)"',
    r'class="mytime">([^<]+)',
    r'class="date">([^<]+)',
    r'CommDate">([^<]+)',
    r'class="time"><span>([^<]+</span>[^<]+)',
]


@pytest.mark.shared
def test_every_date_element_of_the_real_pages_parses() -> None:
    folder = shared_path("realpages")
    seen = 0
    for path in sorted(folder.glob("*.*ml")):
        page = path.read_text("utf-8", errors="replace")
        for pattern in SWEEP:
            for raw in re.findall(pattern, page):
                seen += 1
                assert parse_vn_datetime(raw, now=ARCHIVE_NOW) is not None, f"{raw!r} in {path.name}"
    assert seen >= 60


@pytest.mark.shared
def test_mojibake_timeago_text_agrees_with_its_datetime_attribute() -> None:
    page = shared_text("tintaynguyen.com__homepage-mojibake.html")
    stamps = re.findall(r'class="timeago" datetime="([^"]+)">([^<]+)', page)
    assert len(stamps) >= 10
    for attribute, text in stamps:
        repaired = html.unescape(text).encode("latin-1").decode("utf-8")  # the page was decoded as Latin-1
        expected = parse_vn_datetime(attribute, now=ARCHIVE_NOW)
        assert expected is not None
        assert parse_vn_datetime(repaired, now=ARCHIVE_NOW) == expected.replace(second=0)


SEEDS = [
    ("000_cf20c1fc9069134d.txt", "2021-01-18T07:06:00+07:00", date(2021, 1, 15)),
    ("001_12169cab9aa25596.txt", "2021-07-12T09:28:00+07:00", date(2021, 7, 9)),
    ("002_40e33d869cdb113d.txt", "2020-07-24T05:20:07+07:00", date(2020, 7, 23)),
    ("003_6e9aab993e067198.txt", "2021-01-22T04:01:00+07:00", date(2021, 1, 22)),
]


@pytest.mark.shared
@pytest.mark.parametrize(("name", "published", "held_on"), SEEDS)
def test_seed_articles_give_publication_and_meeting_dates(name: str, published: str, held_on: date) -> None:
    path = shared_path("seeds", name)
    lines = [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]
    stamp = parse_vn_datetime(lines[1], now=ARCHIVE_NOW)
    assert iso(stamp) == published
    assert stamp is not None and parse_day_month(lines[2], reference=stamp) == held_on
