"""How Vietnamese news pages write dates: words, units, offsets, limits, and the patterns built from them.

Every word is lower-case NFC, as `feed.lang.dates` matches against lower-cased NFC text. No word here
contains the diphthongs oa/oe/uy, so old- and new-style tone placement (hoà/hòa) cannot differ.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import NamedTuple

# Oldest publication date accepted: Vietnamese news sites start in the late 1990s.
MIN_YEAR = 1990
# Latest year a date may name even when the future is allowed: past it a stamp is a placeholder ("9999"),
# and years near 9999 cannot even be moved to UTC.
MAX_YEAR = 2100
# How far past `now` a date may lie and still count as published: servers and pages disagree on clocks
# and time zones, and a page dated "today" at midnight in +07:00 is ahead of a UTC clock.
FUTURE_SKEW = timedelta(days=1)
# A meeting date without a year may lie this far after the article that reports it (an announcement a
# few days ahead); further ahead, it is taken to be last year's date ("ngày 28/12" in a January report).
MEETING_AHEAD_GRACE = timedelta(days=7)

# Weekday words are noise before a date ("Thứ Hai, 14/01/2013"): they are dropped before matching,
# with the ISO weekday number each one names. Accentless forms appear on older templates.
WEEKDAYS: dict[str, int] = {
    "thứ hai": 1,
    "thứ 2": 1,
    "t2": 1,
    "thu hai": 1,
    "thứ ba": 2,
    "thứ 3": 2,
    "t3": 2,
    "thu ba": 2,
    "thứ tư": 3,
    "thứ 4": 3,
    "t4": 3,
    "thu tu": 3,
    "thứ năm": 4,
    "thứ 5": 4,
    "t5": 4,
    "thu nam": 4,
    "thứ sáu": 5,
    "thứ 6": 5,
    "t6": 5,
    "thu sau": 5,
    "thứ bảy": 6,
    "thứ bẩy": 6,
    "thứ 7": 6,
    "t7": 6,
    "thu bay": 6,
    "chủ nhật": 7,
    "chủ nhựt": 7,
    "cn": 7,
    "chu nhat": 7,
}


class DayPart(NamedTuple):
    """How a day-part word after a clock shifts its hour, and the hour it stands for alone."""

    pm_hours: range  # clock hours that mean hour + 12 in this part of the day
    twelve_is_midnight: bool  # "12:30 AM", "12 giờ đêm"
    nominal_hour: int  # used when the word stands without a clock ("sáng nay")


_MORNING = DayPart(range(0), True, 8)
_NOON = DayPart(range(1, 5), False, 12)  # "1 giờ trưa" is 13:00
_AFTERNOON = DayPart(range(1, 12), False, 15)
_EVENING = DayPart(range(1, 12), False, 20)  # "11:05 tối" is 23:05
_NIGHT = DayPart(range(6, 12), True, 23)  # "10 giờ đêm" is 22:00 but "2 giờ đêm" is 02:00

# Words that mark the part of the day; Vietnamese words may also stand before a clock ("sáng 8:30").
DAY_PARTS: dict[str, DayPart] = {
    "sáng": _MORNING,
    "trưa": _NOON,
    "chiều": _AFTERNOON,
    "tối": _EVENING,
    "đêm": _NIGHT,
    "khuya": _NIGHT,
}
# 12-hour clock markers, only ever written after the clock: English and the Vietnamese SA/CH.
MERIDIEM_MARKERS: dict[str, DayPart] = {
    "am": _MORNING,
    "a.m.": _MORNING,
    "sa": _MORNING,
    "pm": _AFTERNOON,
    "p.m.": _AFTERNOON,
    "ch": _AFTERNOON,
}

# Units of "3 giờ trước" (3 hours ago). Months and years are approximate: such coarse stamps only
# ever order old items, and a calendar month would make "1 tháng trước" depend on the month.
RELATIVE_UNITS: dict[str, timedelta] = {
    "giây": timedelta(seconds=1),
    "giay": timedelta(seconds=1),
    "phút": timedelta(minutes=1),
    "phut": timedelta(minutes=1),
    "giờ": timedelta(hours=1),
    "gio": timedelta(hours=1),
    "tiếng": timedelta(hours=1),
    "ngày": timedelta(days=1),
    "ngay": timedelta(days=1),
    "tuần": timedelta(weeks=1),
    "tuan": timedelta(weeks=1),
    "tháng": timedelta(days=30),
    "thang": timedelta(days=30),
    "năm": timedelta(days=365),
    "nam": timedelta(days=365),
}
# Words that end a relative duration ("3 giờ trước"), or start one ("cách đây 3 giờ").
AGO_WORDS: tuple[str, ...] = ("trước", "truoc")
AGO_PREFIXES: tuple[str, ...] = ("cách đây", "cach day")
# Small numbers spelled out in relative stamps ("một giờ trước").
NUMBER_WORDS: dict[str, int] = {
    "một": 1,
    "hai": 2,
    "ba": 3,
    "bốn": 4,
    "năm": 5,
    "sáu": 6,
    "bảy": 7,
    "bẩy": 7,
    "tám": 8,
    "chín": 9,
    "mười": 10,
}
# Phrases meaning "just now".
JUST_NOW_PHRASES: tuple[str, ...] = (
    "vừa xong",
    "vừa mới đăng",
    "vừa đăng",
    "mới đăng",
    "vài giây trước",
    "vừa cập nhật",
    "just now",
)
# Day words relative to today: "hôm qua", "sáng nay", "tối qua", "chiều hôm kia".
RELATIVE_DAY_OFFSETS: dict[str, int] = {"nay": 0, "qua": -1, "kia": -2}
# Day words that stand alone, without "hôm" or a day-part word before them.
STANDALONE_DAY_OFFSETS: dict[str, int] = {"ngày mai": 1}

# Words that may stand between a clock and its date: "02/08/2021 lúc 18:47", "10 giờ ngày 19-5-2012".
CLOCK_DATE_JOINERS: tuple[str, ...] = ("vào lúc", "lúc", "vào", "ngày", "hồi", "t")
# Words before a day-month with '-' or '.' that show it is a date ("ngày 22-1", "sáng 19.12") and
# not a score or a decimal number.
DATE_PREFIXES: tuple[str, ...] = ("ngày", "hôm", "mùng", "mồng", *DAY_PARTS)

# English month names of RFC 822 stamps and English-language templates.
MONTHS: dict[str, int] = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
# Named zones, in hours east of UTC: RFC 822's, plus Indochina Time.
ZONE_OFFSETS: dict[str, int] = {
    "gmt": 0,
    "utc": 0,
    "ut": 0,
    "z": 0,
    "ict": 7,
    "est": -5,
    "edt": -4,
    "cst": -6,
    "cdt": -5,
    "mst": -7,
    "mdt": -6,
    "pst": -8,
    "pdt": -7,
}
# Largest UTC offset in use (Kiribati), to reject nonsense like "GMT+30".
MAX_OFFSET = timedelta(hours=14)


# The written forms of dates, built from the words above. Patterns match lower-case NFC text.


def alternation(words: Iterable[str]) -> str:
    """Regex alternation of words, longest first so that 'january' wins over 'jan'."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


class FormUnion:
    """Several regex forms scanned as one pattern, tried in order at each position, in a single pass.

    Forms that start with a digit sit behind one digit lookahead, so the scan skips other positions fast.
    Each form names its groups freely; `scan` yields with each match the group numbers of its form.
    """

    def __init__(self, digit_led: Sequence[str], word_led: Sequence[str] = ()) -> None:
        forms = [
            re.sub(r"[(][?]P([<=])([a-z]+)", rf"(?P\1\2_{i}", form) for i, form in enumerate([*digit_led, *word_led])
        ]
        branches = [f"(?P<b_{i}>{form})" for i, form in enumerate(forms)]
        lead = f"(?=[0-9])(?:{'|'.join(branches[: len(digit_led)])})"
        self.pattern = re.compile("|".join([lead, *branches[len(digit_led) :]]))
        self.groups: dict[str, dict[str, int]] = {f"b_{i}": {} for i in range(len(forms))}
        for name, number in self.pattern.groupindex.items():
            group, form = name.split("_")
            if group != "b":
                self.groups[f"b_{form}"][group] = number

    def scan(self, s: str) -> Iterator[tuple[re.Match[str], dict[str, int]]]:
        """Each match with the group numbers of the form that matched, by group name."""
        for m in self.pattern.finditer(s):
            yield m, self.groups[m.lastgroup or ""]


def group_text(m: re.Match[str], groups: dict[str, int], name: str) -> str | None:
    """Text of group `name` in a `FormUnion` match; None when absent or unmatched."""
    return m.group(groups[name]) if name in groups else None


TAG_RE = re.compile(r"<[^<>]{0,500}>")
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\xad"))
WEEKDAY_RE = re.compile(rf"(?<!\w)(?:{alternation(WEEKDAYS)})(?!\w)")
_SEP = r"[\s,;|()\[\]\-–—/.:]*"
JOINER_RE = re.compile(rf"{_SEP}(?:(?:{alternation(CLOCK_DATE_JOINERS)}){_SEP})?")

# Dates, with named groups d, m and y.
_END = r"(?![0-9]|[/.-][0-9])"  # not part of a longer run such as a version or a phone number
_DM_END = r"(?![0-9]|\s*/\s*[0-9]|[.-][0-9])"  # nor the start of a spaced "24/ 07 /2020"
_D, _M, _Y, _MONTH = r"(?P<d>[0-9]{1,2})", r"(?P<m>[0-9]{1,2})", r"(?P<y>[0-9]{4}|[0-9]{2})", alternation(MONTHS)
_DIGIT_LED_DATES = (
    rf"(?<![0-9/]){_D}\s*/\s*{_M}\s*/\s*{_Y}{_END}",
    rf"(?<![0-9.-]){_D}(?P<sep>[.-]){_M}(?P=sep){_Y}{_END}",
    r"(?<![0-9./-])(?P<y>[0-9]{4})(?P<sep>[/.-])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})(?![0-9])",
    # After "năm" any number is the year, so "tháng 1 năm 1" is year 1 (refused), not a year-less 1 January.
    rf"(?<![0-9]){_D}\s+tháng\s+{_M}(?![0-9])"
    rf"(?:\s*(?:(?:,|/)\s*(?=[0-9]{{4}}(?![0-9]))|năm\s*)(?P<y>[0-9]+)(?![0-9]))?",
    rf"(?<![0-9]){_D}\s+(?P<m>{_MONTH})\.?,?\s+{_Y}(?![0-9])",
    rf"(?<![0-9/]){_D}\s*/\s*{_M}{_DM_END}",  # last: a year-less "1/3" is as often a fraction as a date
)
_WORD_LED_DATES = (
    rf"(?<!\w)(?P<m>{_MONTH})\.?\s+{_D}(?:st|nd|rd|th)?,?\s+(?P<y>[0-9]{{4}})(?![0-9])",
    # A prefix word makes a year-less date strong; it starts left of the bare form, so it wins their overlap.
    rf"(?<!\w)(?:{alternation(DATE_PREFIXES)})\s+{_D}\s*[/.-]\s*{_M}{_DM_END}",
)
DATES = FormUnion(_DIGIT_LED_DATES, _WORD_LED_DATES)
WEAK_DATE_FORM = f"b_{len(_DIGIT_LED_DATES) - 1}"
# A day and month followed by a lunar year name ("mùng 8 tháng 1 năm Quý Tỵ") is a lunar date.
LUNAR_TAIL_RE = re.compile(r"\s*(?:năm\s+[^\W\d]|\(?\s*âm lịch)")

# Clocks: "07:06", "05:20:07", "10h30", "10g30", "10h", "10 giờ 10 phút", "10 giờ rưỡi".
CLOCKS = FormUnion(
    (
        r"(?<![0-9:+])(?<!gmt-)(?<!utc-)(?P<h>[0-9]{1,2})\s*[:hg]\s*(?P<m>[0-9]{2})"
        r"(?:\s*:\s*(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,6}))?)?(?![0-9])",
        r"(?<![0-9:+])(?P<h>[0-9]{1,2})\s?h(?![^\W_])",
        r"(?<![0-9])(?P<h>[0-9]{1,2})\s*giờ(?:\s*(?P<m>[0-9]{1,2})(?:\s*phút)?|\s*(?P<half>rưỡi))?(?![0-9])",
    )
)
# A "3 giờ" that is a duration ("3 giờ trước", "24 giờ qua"), not a time of day.
DURATION_TAIL_RE = re.compile(r"\s*(?:[0-9]+\s*phút\s*)?(?:trước|truoc|qua|nữa|sau|tới|đồng hồ|liền)(?!\w)")
MARKERS = DAY_PARTS | MERIDIEM_MARKERS
MERIDIEM_RE = re.compile(rf"\s*({alternation(MARKERS)})(?!\w)")
ZONE_RE = re.compile(
    r"\s*\(?\s*(?:(?:(?:gmt|utc|ut)\s*|(?=[+\-−][0-9]{2}:?[0-9]{2}(?![0-9])))"
    r"(?P<sign>[+\-−])\s*(?P<hh>[0-9]{1,2})(?::?(?P<mm>[0-9]{2}))?"
    rf"|(?P<name>{alternation(ZONE_OFFSETS)}))(?!\w)\s*\)?"
)

# Relative stamps: "3 giờ trước", "2 giờ 43 phút trước", "cách đây 2 ngày", "vừa xong", "tối qua".
_NUMBER = rf"[0-9]{{1,6}}|{alternation(NUMBER_WORDS)}"
_DURATION = rf"(?:(?:{_NUMBER})\s*(?:{alternation(RELATIVE_UNITS)})(?!\w)\s*){{1,4}}+"  # bounded: linear scans
AGO_RE = re.compile(
    rf"(?<!\w)(?P<d>{_DURATION})(?:{alternation(AGO_WORDS)})(?!\w)|(?<!\w)(?:{alternation(AGO_PREFIXES)})\s+(?P<p>{_DURATION})"
)
DURATION_PART_RE = re.compile(rf"({_NUMBER})\s*({alternation(RELATIVE_UNITS)})(?!\w)")
JUST_NOW_RE = re.compile(rf"(?<!\w)(?:{alternation(JUST_NOW_PHRASES)})(?!\w)")
_PARTS = alternation(DAY_PARTS)
_OFFSETS = alternation(RELATIVE_DAY_OFFSETS)
RELATIVE_DAY_RE = re.compile(
    rf"(?<!\w)(?:(?:(?P<p1>{_PARTS})\s+)?(?:ngày\s+)?hôm\s+(?P<o1>{_OFFSETS})"
    rf"|(?P<p2>{_PARTS})\s+(?P<o2>{_OFFSETS})|(?P<alone>{alternation(STANDALONE_DAY_OFFSETS)}))(?!\w)"
)
