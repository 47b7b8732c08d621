"""Meeting facts read from a report: organiser, period, date, place, officials and stated figures.

Vocabulary comes from the `facts:` section of cues.yaml, compiled by feed.classify.classifier; matching runs on
the folded text (feed.lang.text.fold) and every value is copied out of the original text as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from feed.lang.dates import VN_TZ, find_vn_datetime, parse_day_month
from feed.records import Official

_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
_FULL_DATE = re.compile(r"(?<!\d)(?:\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*(?:19|20)\d\d|(?:19|20)\d\d-\d\d-\d\d)(?!\d)")
_DASH = r"\s*[-–—]\s*"
# Periods are structural (numbers and a few words with no tone-placement variants), so they match the text
# itself: each form is looked for (on the lower-cased phrase, same length in Vietnamese) only when its key word
# is there, then read again on the phrase as written.
_PERIOD_FORMS = (
    ("term", rf"(giữa\s+)?nhiệm\s+k[ỳì]\s*\(?\s*(\d{{4}}){_DASH}(\d{{4}})"),
    ("months", r"(6|sáu|9|chín|3|ba)\s+tháng\s+(đầu|cuối)\s+năm(?:\s+(\d{4}))?"),
    ("quarter", r"quý\s+([Ii][Vv]|[Ii]{1,3}|[1-4])(?!\w)(?:\s+năm\s+(\d{4})|\s*/\s*(\d{4}))?"),
    ("semester", r"học\s+k[ỳì]\s+([Ii]{1,2}|[12])(?!\w)"),
    ("phase", r"đợt\s+thi\s+đua\s+(?:thứ\s+)?([IVXivx]+|\d+)(?!\w)"),
    ("school_year", rf"năm\s+học\s+(\d{{4}}){_DASH}(\d{{4}})"),
    ("years", rf"năm\s+(\d{{4}}){_DASH}(\d{{4}})"),
    ("year", r"năm\s+(\d{4})(?!\s*[-–—]\s*\d)"),
    ("month", r"(?<![\d\s])\s*tháng\s+(\d{1,2})(?!\d)(?:\s*(?:năm|/)\s*(\d{4}))?"),
    ("bare_term", rf"\((\d{{4}}){_DASH}(\d{{4}})\)"),
    ("school_year_en", rf"(\d{{4}}){_DASH}(\d{{4}}) school year"),
)
_PERIODS = {name: re.compile(rx, re.I) for name, rx in _PERIOD_FORMS}
_LOWER_PERIODS = [(name, re.compile(rx)) for name, rx in _PERIOD_FORMS]
_PERIOD_KEYS = {
    "term": "nhiệm k",
    "months": "tháng",
    "quarter": "quý",
    "semester": "học k",
    "phase": "đợt",
    "school_year": "năm học",
    "years": "năm",
    "year": "năm",
    "month": "tháng",
    "bare_term": "(",
    "school_year_en": "school year",
}
_TERM_FIRST = {"dai_hoi", "hoi_nghi_bch"}
_CLAUSE_END = re.compile(r"[,;.:\n]")
_FIGURE_END = re.compile(r"[,;.:](?=\s)|[,;.:]$|\n")  # "3.942" and "2,9" stay whole
_NUMBER_GLUE = frozenset(".,/:-–_")
_DIGITS = re.compile(r"\d+")
_YEAR_FIRST = re.compile(r"năm (?:19|20)\d\d(?!\d)")
# Vietnamese marks tense before the verb, so the subject of "X đã tổ chức" ends at "đã" (folded forms).
_ORG_END = re.compile(r"[,;.:(\n]")
_NAME = re.compile(r"[ \t]*((?:[^\W\d_][\w]*[ \t]+){1,4}[^\W\d_][\w]*)[ \t]*(?:,|[-–—]|\()[ \t]*")
_ROLE_END = re.compile(r"\.\s|\.$|[;\n)]")
_AUXILIARY = re.compile(r"(?<!\w)(?:đa4|vưa2|se4|đang|mơi1)(?!\w)")


class Doc(Protocol):
    """Folded text that maps back to its original (feed.classify.classifier.Folded)."""

    text: str
    orig: str

    def to_orig(self, fpos: int) -> int: ...

    def to_folded(self, opos: int) -> int: ...


class Finder(Protocol):
    """A compiled cue pattern (feed.classify.classifier.Pattern): a scanning regex, and every match in a Doc."""

    @property
    def search(self) -> re.Pattern[str]: ...

    @property
    def at(self) -> re.Pattern[str]: ...

    def spans(self, doc: Any) -> list[tuple[int, int]]: ...

    def find(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None: ...

    def find_all(self, text: str, pos: int = 0, endpos: int | None = None) -> Iterator[re.Match[str]]: ...


@dataclass(frozen=True)
class FactsVocabulary:
    """The compiled `facts:` section of cues.yaml."""

    organise: Finder
    organised_by: Finder
    subject_tail: re.Pattern[str]
    subject_cut: Finder
    subject_skip: re.Pattern[str]
    subject_stop: re.Pattern[str]
    org_heads: Finder
    org_end: Finder
    when: Finder  # all date phrases, most specific first
    place: Finder
    place_skip: re.Pattern[str]
    place_stops: Finder
    held_at: Finder
    person_titles: Finder
    roles: re.Pattern[str]
    role_stops: Finder
    person_list: Finder
    figure_count: re.Pattern[str]
    figure_units: re.Pattern[str]  # matched right after a count
    figure_lead: re.Pattern[str]
    figure_skip: re.Pattern[str]


def compile_facts(data: dict[str, Any], pattern: Callable[[str], Finder]) -> FactsVocabulary:
    """Compile the `facts:` vocabulary with the classifier's pattern compiler."""
    return FactsVocabulary(
        organise=pattern(data["organise"]),
        organised_by=pattern(data["organised_by"]),
        subject_tail=re.compile(f"(?:{pattern(data['subject_tail']).search.pattern})\\W*\\Z"),
        subject_cut=pattern(data["subject_cut"]),
        subject_skip=re.compile(r"\W*" + pattern(data["subject_skip"]).at.pattern),
        subject_stop=re.compile(r"\W*" + pattern(data["subject_stop"]).at.pattern),
        org_heads=pattern(data["org_heads"]),
        org_end=pattern(data["org_end"]),
        when=pattern("{" + "|".join(data["when"]) + "}"),
        place=pattern(data["place"]),
        place_skip=pattern(data["place_skip"]).search,
        place_stops=pattern(data["place_stops"]),
        held_at=pattern(data["held_at"]),
        person_titles=pattern(data["person_titles"]),
        roles=pattern(data["roles"]).search,
        role_stops=pattern(data["role_stops"]),
        person_list=pattern(data["person_list"]),
        # folded words end in tone digits ("đông2"): a count starts where no letter or digit stands before it
        figure_count=pattern(data["figure_count"]).search,  # starts with a digit: the engine's fast scan
        figure_units=re.compile(r"[ \t\u00a0]+" + pattern(data["figure_units"]).at.pattern),
        figure_lead=re.compile(r"\W*" + pattern(data["figure_lead"]).search.pattern),
        figure_skip=re.compile(r"\W*" + pattern(data["figure_skip"]).search.pattern),
    )


def finders(fv: FactsVocabulary) -> list[Finder]:
    """The patterns facts look for all over the text (a scanner finds them in one pass); others are searched
    for only inside the sentence or span that reports the meeting."""
    return [fv.person_titles, fv.person_list]


@dataclass
class Facts:
    org: str | None = None
    period: str | None = None
    held_on: str | None = None
    held_on_text: str | None = None
    location: str | None = None
    officials: list[Official] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    """Where the classifier found the meeting: folded spans in the body (report) and in the primary's doc."""

    doc: Doc  # the title, a blank line, the body
    body_at: int
    sentence: tuple[int, int] | None  # the body sentence that reports the meeting
    meeting_at: int | None  # where its meeting word starts (body, folded)
    phrase: tuple[int, int]  # the primary meeting phrase (folded span)
    title_phrases: list[tuple[int, int]]  # meeting phrases of the title
    lead: tuple[int, int]
    kind: str
    meetings: list[int]  # where every meeting word starts (folded)


def read_facts(report: Report, fv: FactsVocabulary, published_at: datetime | None) -> Facts:
    """Read every fact the report states."""
    facts = Facts()
    officials = read_officials(report.doc, report.body_at, fv)
    facts.officials = officials
    facts.org = read_org(report, fv) or trim_org(_org_from_chair(officials))
    sentence = _orig(report.doc, *report.sentence) if report.sentence else ""
    phrases = [_orig(report.doc, *span) for span in (report.phrase, *report.title_phrases)]
    facts.period = read_period([*phrases, sentence], report.kind)
    text = read_when(report, fv)
    if text:
        facts.held_on_text = text
        year = _YEAR.search(text)
        reference = published_at or (datetime(int(year.group()), 12, 31, tzinfo=VN_TZ) if year else _page_date(report))
        found = parse_day_month(_first_day(text), reference=reference) if reference else None
        facts.held_on = found.isoformat() if found else None
    facts.location = read_location(report, fv)
    facts.figures = read_figures(report.doc, report.lead[0], fv)
    return _tidied(facts)


_RANGE = re.compile(
    r"(\d{1,2})\s*(?:[-–]|và|đến|tới|to)\s*(?:ngày\s*)?\d{1,2}(?=\s*(?:[/.]\s*\d|[-–]\s*\d|tháng|,?\s*(?:19|20)\d\d))",
    re.I,
)
_SPACED = re.compile(r"(?<![\d/.])(\d{1,2})\s+[-–]\s+(\d{1,2})(?![\d/])")


def _first_day(text: str) -> str:
    """The first day of a range, and "19 – 4" as "19/4", for the date parser: "ngày 24 - 26/9/2018" is read as
    24/9/2018, "Ngày 21 và 22 tháng 3 năm 2018" as 21 tháng 3 năm 2018."""
    return _SPACED.sub(r"\1/\2", _RANGE.sub(r"\1", text))


def _tidy(value: str | None) -> str | None:
    return " ".join(value.split()) or None if value else None


def _tidied(facts: Facts) -> Facts:
    """Values as written, with whitespace (non-breaking spaces, line breaks) folded to single spaces."""
    facts.org, facts.period, facts.location, facts.held_on_text = map(
        _tidy, (facts.org, facts.period, facts.location, facts.held_on_text)
    )
    facts.officials = [Official(name=" ".join(o.name.split()), role=_tidy(o.role)) for o in facts.officials]
    facts.figures = [" ".join(f.split()) for f in facts.figures]
    return facts


def _orig(doc: Doc, start: int, end: int) -> str:
    return doc.orig[doc.to_orig(start) : doc.to_orig(end)]


def read_org(report: Report, fv: FactsVocabulary) -> str | None:
    """The organiser: the subject before "tổ chức" in the report sentence, or the body after "do" ("Hội nghị
    ... do LĐLĐ tỉnh tổ chức"), else the body named in or right after a meeting phrase."""
    spans = (report.phrase, *report.title_phrases)
    foreign = _foreign_org(report)
    if foreign is not None:  # an English or French edition: its subject comes before "held" / "a tenu"
        return foreign
    return trim_org(
        _org_from_when_opening(report, fv)
        or _org_from_subject(report, fv)
        or _org_from_passive(report, fv)
        or next((org for span in spans if (org := _org_from_phrase(report.doc, span, fv))), None)
        # "Đại hội XII Công đoàn Việt Nam diễn ra ...": the body named after another mention of the meeting
        or next((org for at in report.meetings if (org := _org_from_phrase(report.doc, (at, at), fv))), None)
        or _org_from_opening(report, fv)
    )


# What may trail an organiser read off a sentence, and is not part of its name: the verb that follows it ("Đoàn
# Chủ tịch ... sẽ thảo luận ...", "BCH ... dự kiến tổ chức"), a list it heads ("UBND tỉnh X và các cơ quan ..."),
# or the name of the official who speaks for it ("Chủ tịch Quốc hội Trần Thanh Mẫn", "Bộ Xây dựng Nguyễn Văn Sinh").
_ORG_VERB_TAIL = re.compile(
    r"\s+(?:sẽ|dự kiến|tổ chức|chuẩn bị|cũng|đồng loạt|phát biểu|nhấn mạnh|thảo luận|cho biết|đồng chủ trì|chủ trì"
    r"|và các|và gần|và thông qua)(?!\w)"
)
_SURNAMES = (
    "Nguyễn|Trần|Lê|Phạm|Hoàng|Huỳnh|Phan|Vũ|Võ|Đặng|Bùi|Đỗ|Hồ|Ngô|Dương|Lý|Đào|Đinh|Trương|Lưu|Uông|Tô|Hà|"
    "Lương|Vương|Tạ|Quách|Kiều|Đàm|Triệu|Trịnh|Chu|Nông|Lò|Hứa"
)
# a full name (surname and two or three more capitalised words) after a body's name; not after the words that
# name a school, a street or a ward after a person ("Trường THCS Lê Quý Đôn", "phường Nguyễn Trãi")
_OFFICIAL_NAME = re.compile(
    rf"(?<!Trường)(?<!THPT)(?<!THCS)(?<!TH)(?<!học)(?<!non)(?<!giáo)(?<!phường)(?<!xã)(?<!đường)(?<!viện)(?<!sĩ)"
    rf"(?<!đẳng)(?!\s+Hồ Chí Minh)\s+(?:{_SURNAMES})(?:\s+[A-ZĐÀ-Ỹ][^\W\d_]*){{2,3}}(?!\w)"
)


def trim_org(org: str | None) -> str | None:
    """An organiser without what trails its name: a following verb or list, an official's name (a cut that would
    leave fewer than two words is not made); a bracket left open is closed ("Công đoàn Công an nhân dân (CAND" ->
    "... (CAND)")."""
    if not org:
        return org
    cut = org
    for rx in (_ORG_VERB_TAIL, _OFFICIAL_NAME):
        m = rx.search(cut)
        if m and len(cut[: m.start()].split()) >= 2:
            cut = cut[: m.start()]
    cut = cut.strip()
    if cut.count("(") > cut.count(")"):  # the reader stops at a bracket's inside: close it
        cut += ")"
    return cut or org


# "Sở Giao thông vận tải Bắc Giang đã tổ chức Hội nghị sơ kết ...": a headline-like line that opens with its subject
_OPENING = re.compile(
    r"(?:^|\n)[ \t]*(?P<org>[A-ZĐ][^,.;:!?\n]{3,100}?)\s+(?:đã\s+|vừa\s+|long trọng\s+)*(?:tổ chức|họp|tiến hành)\s+"
    r"(?:thành công\s+)?(?:[Hh]ội nghị|HỘI NGHỊ|[Đđ]ại hội|ĐẠI HỘI|[Ss]ơ kết|[Tt]ổng kết|[Hh]ọp|[Gg]iao ban"
    r"|[Kk]ý\s+(?:kết\s+)?giao ước)"
    r"|(?:^|\n)[ \t]*(?P<org2>[A-ZĐ][^,.;:!?\n]{3,100}?)\s+(?:đã\s+|vừa\s+)*"
    r"(?:giao ban|hội đàm với|[Hh]ội đàm với|làm việc với|sơ kết|tổng kết|khai mạc|bế mạc)\s"
)


# "Sáng 16/8, UBND tỉnh tổ chức họp ...", "(NLĐ)- Sáng 25-3, CĐ Tổng Công ty Liksin đã tổng kết ...", "Ngày 07 tháng
# 8 năm 2015, BCH Công đoàn cơ sở Nam Định mở Hội nghị ...", "..., Ban chấp hành Đảng ủy X đã có buổi làm việc với
# ...": a sentence of the title or lead that opens with a date (and a place), then its subject and a meeting verb
_WHEN_OPENING = re.compile(
    r"(?:^|\n|(?<=[.!?]\s))[ \t]*(?:[-–*•]\s*)?(?:\([^)\n]{1,40}\)\s*[-–]?\s*)?(?:[A-ZĐ]{2,10}\s*[-–]\s*)?"
    r"(?:(?:Sáng|Chiều|Tối|Trưa|Ngày|Hôm|Vào|Trong|Từ)\b[^,\n.;:]{0,40}?\d{1,2}"
    r"(?:\s*(?:[/.-]|tháng)\s*\d{1,2})?(?:\s*(?:[/.-]|năm)\s*(?:19|20)\d\d)?\)?"
    r"|(?:Sáng|Chiều|Tối|Trưa) (?:nay|qua)|Hôm (?:nay|qua)|Mới đây|Vừa qua)"
    r"\s*,\s*(?:tại\s+[^,\n]{1,80},\s*)?"
    r"(?P<org>[A-ZĐ][^,.;:!?\n]{3,100}?)(?:\s*,\s*nhiệm kỳ\s+[\d\s–-]{9,13},)?\s+"
    r"(?:đã\s+|vừa\s+|long trọng\s+|chính thức\s+)*"
    r"(?:(?:tổ chức|tiến hành|mở)\s+(?:thành công\s+|khai mạc\s+|bế mạc\s+)?"
    r"(?:[Hh]ội nghị|[Hh]ọc tập|[Qq]uán triệt|[Tt]riển khai|HỘI NGHỊ|[Đđ]ại hội|ĐẠI HỘI|[Hh]ọp|[Gg]iao ban|[Pp]hiên"
    r"|[Kk]ỳ họp|[Hh]ội thảo|[Tt]ọa đàm|[Tt]oạ đàm|[Đđ]ối thoại|[Ss]ơ kết|[Tt]ổng kết|[Bb]uổi|[Cc]uộc)"
    r"|họp\b|có buổi làm việc với|làm việc với|hội đàm với|tổng kết|sơ kết)"
)


_NOT_SUBJECT = re.compile(
    r"(?:^|\s)(?:đã|vừa|sẽ|đang|dự|tham dự|về dự)(?!\w)|[“”\"]"
    r"|^(?:[Kk]ỳ họp|[Hh]ội nghị|[Đđ]ại hội|[Pp]hiên|[Cc]uộc họp)\b"
    r"|^(?:Quang cảnh|Toàn cảnh|Ảnh|Các đại biểu|Đại biểu)\b"
)


def _org_from_when_opening(report: Report, fv: FactsVocabulary) -> str | None:
    """The subject of a title or lead sentence that opens with a date: "Sáng 16/8, <UBND tỉnh> tổ chức họp ..."."""
    end = report.doc.to_orig(report.lead[1]) if report.lead[1] else 800
    head = report.doc.orig[: min(end, 1500)]
    for m in _WHEN_OPENING.finditer(head):
        if _NOT_SUBJECT.search(m.group("org")) or m.group("org").count("(") != m.group("org").count(")"):
            continue  # "Ban chấp hành ... đã tham dự “Hội nghị sơ kết", "Kỳ họp thứ 13 (Kỳ họp ...": no subject
        start = report.doc.to_folded(m.start("org"))
        found = _as_org(report.doc, start, report.doc.to_folded(m.end("org")), fv)
        if found:
            return found
    return None


def _org_from_opening(report: Report, fv: FactsVocabulary) -> str | None:
    """Last resort: the subject of "tổ chức Hội nghị ..." at the start of a line of the title or the lead."""
    head = report.doc.orig[: report.doc.to_orig(report.lead[1])] if report.lead[1] else report.doc.orig[:800]
    for m in _OPENING.finditer(head[:1500]):
        group = "org" if m.group("org") else "org2"
        if _NOT_SUBJECT.search(m.group(group)):
            continue
        start = report.doc.to_folded(m.start(group))
        end = report.doc.to_folded(m.end(group))
        found = _as_org(report.doc, start, end, fv)
        if found:
            return found
    return None


_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_MOIS = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
# "On the morning of June 27th, [in Hanoi,] the Nghe An Provincial Federation of Labor held a conference ...",
# "Morning Dec 1st, Provincial Labor Federation held ...", "Dans l'après-midi du 25 juin, le Syndicat ... a tenu ...":
# the subject of the holding verb, after a date (and place) preamble; English and French pages only.
_FOREIGN_DATE = (
    rf"(?:(?:On|In|Dans)\s+(?:the\s+|l['’]|la\s+)?)?(?:(?:morning|afternoon|evening|après-midi|matinée|soirée)"
    rf"\s+(?:of\s+|du\s+|de\s+)?)?(?:(?:{_MONTHS}|[A-Z][a-z]{{2}})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:er)?"
    rf"\s+(?:{_MOIS}|{_MONTHS}))(?:,?\s+\d{{4}})?(?:\s*\([^)]*\))?"
)
_FOREIGN_SUBJECT = re.compile(
    rf"(?:^|(?<=[.!?]\s)|(?<=\n)|(?<=-\s)|(?<=\bthat\s))(?:[^,\n]{{0,40}}?{_FOREIGN_DATE}\s*,\s*(?:(?:in|at|à)\s+[^,\n]{{1,60}},\s*)?)?"
    r"(?P<org>(?:[Tt]he\s+|[Ll]e\s+|[Ll]a\s+|[Ll]['’])?[A-ZĐ][^,;.\n]{2,110}?)"
    r"\s+(?:has\s+|have\s+|had\s+|officially\s+|successfully\s+|solemnly\s+|jointly\s+)*"
    r"(?:held|organized|organised|convened|hosted|co-held|co-organized|opened\s+the|a\s+tenu|a\s+organis[ée]|ont\s+tenu|ont\s+organis[ée])\b"
)
_NOT_ORG = re.compile(
    r"^(?:The\s+)?(?:conference|congress|meeting|session|workshop|event|la\s+conférence|le\s+congrès)\b", re.I
)


def _foreign_org(report: Report) -> str | None:
    """The organiser of an English or French page (few Vietnamese letters): the subject of "held" / "a tenu" in
    the first sentences of the body, a date and place preamble skipped; None for a Vietnamese page."""
    body = report.doc.orig[report.doc.to_orig(report.body_at) :][:1500]
    if not _foreign_letters(body):
        return None
    for m in _FOREIGN_SUBJECT.finditer(body):
        # "the X Federation announced that the Y Union held": Y, unless Y is no name ("that the unit had held")
        parts = re.split(r"\s(?:announced|said|reported|informed)\s+that\s", m.group("org"))
        named = re.match(r"(?:[Tt]he\s+)?[A-ZĐ]", parts[-1])
        org = (parts[-1] if named else parts[0]).strip(" -–")
        if not _NOT_ORG.match(org) and len(org.split()) <= 18:
            return org
    # no holding verb: the body a congress or conference is named for ("Le 11e congrès national de la
    # Confédération générale du Travail du Vietnam ... s'est ouvert", "The 12th Congress of the VGCL closed")
    named = _FOREIGN_MEETING_OF.search(body)
    if named:
        return named.group("org").strip()
    # "Mr. X - Vice President of the Vietnam General Confederation of Labor - attended and chaired the workshop",
    # "vice-présidente permanente de la Confédération générale du travail du Vietnam": the body its chair leads
    chair = _FOREIGN_CHAIR.search(body)
    return chair.group("org").strip() if chair else None


_FOREIGN_CHAIR = re.compile(
    r"\b(?:(?:Standing\s+|Permanent\s+)?(?:Vice[- ])?(?:President|Chairman|Chairwoman|Chairperson)\s+of\s+(?:the\s+)?"
    r"|(?:[Vv]ice-)?[Pp]r[ée]sident(?:e)?(?:\s+permanent(?:e)?)?\s+(?:de\s+la\s+|du\s+|de\s+l['’]))"
    r"(?P<org>[A-ZĐ][^,.;:!?\n()–-]{3,90}?)(?=\s*(?:[,.;:()–-]|\s(?:a|ont|has|have|was|is|and|et|attended|chaired|presided)\b))"
)


_FOREIGN_MEETING_OF = re.compile(
    r"\b(?:[Cc]ongress|[Cc]ongrès|[Cc]onference|[Cc]onférence)\s+(?:national\s+|nationale\s+|syndical\s+)?"
    r"(?:of\s+the\s+|of\s+|de\s+la\s+|du\s+|des\s+|de\s+l['’])(?P<org>[A-ZĐ][^,.;:!?\n(]{3,90}?)"
    r"(?=\s*[(,.;:]|\s+(?:for|pour|in|à|opened|closed|s['’]est|a|was|has|term|mandat|tenure)\b)"
)


_VIETNAMESE_ONLY = frozenset("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĂÂĐÊÔƠƯ")
_VIETNAMESE_LETTER = re.compile(f"[{''.join(sorted(_VIETNAMESE_ONLY))}]")


def _foreign_letters(text: str) -> bool:
    """Whether text has letters and at most 2 % of them are Vietnamese-only ones (an English or French page).

    The Vietnamese-only letters are counted in C; a Vietnamese text has more of them than 2 % of all its characters,
    which settles it without counting its letters (there are no more letters than characters)."""
    vietnamese = len(_VIETNAMESE_LETTER.findall(text))
    if vietnamese > len(text) * 0.02:
        return False
    letters = sum(map(str.isalpha, text))
    return bool(letters) and not vietnamese > letters * 0.02


_PASSIVE_STOP = re.compile(r"[.;:!?](?:\s|$)|\n")  # the end of the sentence "do <organiser> tổ chức" must sit in
_PASSIVE_PIECE_END = re.compile(r"[,;.:\n]")


def _org_from_passive(report: Report, fv: FactsVocabulary) -> str | None:
    """ "Hội nghị tổng kết ... do Liên đoàn Lao động (LĐLĐ) tỉnh tổ chức sáng 2/10": the body between "do" and
    the verb, in the sentence of the reported meeting word first, then of the other meeting words."""
    text = report.doc.text
    starts = [report.meeting_at] if report.meeting_at is not None else []
    starts += [m for m in report.meetings if m >= report.body_at and m not in starts]
    for start in starts:
        stop = _PASSIVE_STOP.search(text, start)
        end = stop.start() if stop else len(text)
        for by in fv.organised_by.find_all(text, start, end):
            verb = fv.organise.find(text, by.end(), min(end, by.end() + 120))
            if verb is None or _PASSIVE_PIECE_END.search(text, by.end(), verb.start()):
                continue
            a, piece = by.end(), text[by.end() : verb.start()]
            while (tail := fv.subject_tail.search(piece)) and tail.start() > 0:
                piece = piece[: tail.start()]
            lead = len(piece) - len(piece.lstrip())
            org = _orig(report.doc, a, a + len(piece)).strip()
            if org[:1].isupper() or fv.org_heads.at.match(text, a + lead):
                found = _as_org(report.doc, a, a + len(piece), fv)
                if found:
                    return found
    return None


def _org_from_subject(report: Report, fv: FactsVocabulary) -> str | None:
    if report.sentence is None:
        return None
    body, (s, e) = report.doc, report.sentence
    limit = report.meeting_at if report.meeting_at is not None and s <= report.meeting_at < e else e
    verbs = [
        m.span()
        for m in fv.organise.find_all(body.text, s, min(e, limit + 40))
        if m.start() <= limit and limit - m.end() < 80
    ]
    if not verbs:
        return None
    subject = body.text[s : verbs[-1][0]]
    partner = fv.subject_cut.find(subject)
    subject = subject[: partner.start()] if partner else subject
    commas = [s + i for i, ch in enumerate(subject) if ch == ","]
    pieces = zip([s] + [c + 1 for c in commas], [*commas, s + len(subject)], strict=True)
    for a, b in reversed(list(pieces)):
        piece = body.text[a:b]
        if fv.subject_stop.match(piece):
            # "Được sự nhất trí của Phòng GD&ĐT ngày 22/10/2021 trường Tiểu học X tổ chức": after the date
            dates = list(fv.when.find_all(piece))
            if not dates:
                return None
            a += dates[-1].end()
            piece = body.text[a:b]
        verb = _AUXILIARY.search(piece)  # the subject ends where "đã", "vừa" ... announce its verb
        piece = piece[: verb.start()] if verb else piece
        while (tail := fv.subject_tail.search(piece)) and tail.start() > 0:
            piece = piece[: tail.start()]
        a, b = a + _skip_when(piece, fv), a + len(piece)
        a += len(body.text[a:b]) - len(body.text[a:b].lstrip())
        org = _orig(body, a, b).strip()
        named = org[:1].isupper() or fv.org_heads.search.match(body.text, a)
        if not org or fv.subject_skip.match(piece) or not named:
            continue
        found = _as_org(body, a, b, fv)
        if found is None and _PLACE_PIECE.match(org):
            continue  # "Công đoàn phường Tân Hiệp, TP HCM đã tổ chức": the place after a comma; the body is before it
        return found
    return None


# a piece of a subject that only places the body before it ("..., TP HCM", "..., tỉnh Bắc Ninh")
_PLACE_PIECE = re.compile(r"^(?:TP\.?|TPHCM|Thành phố|tỉnh|Tỉnh|huyện|Huyện|quận|Quận|Hà Nội|Hồ Chí Minh)\b")


def _as_org(doc: Doc, start: int, end: int, fv: FactsVocabulary) -> str | None:
    """The organiser's name as written, from a folded span; None when the span names a person or runs long."""
    org = re.sub(r"^\([^)]*\)\s*", "", _orig(doc, start, end).strip(" ()-–\n"))  # a credit like "(BTV)"
    if not 1 <= len(org.split()) <= 16 or fv.person_titles.find(doc.text, start, end):
        return None  # a person ("ông ..."), not a body
    if fv.when.at.match(doc.text, start + len(doc.text[start:end]) - len(doc.text[start:end].lstrip())):
        return None  # a date phrase ("Vào lúc 7h30 ngày 20/12"), not a body
    if not fv.org_heads.find(doc.text, start, end) and not (org[:1].isupper() and _PROPER.match(org)):
        return None  # neither a body's head word ("Công đoàn", "Trường", "Sở") nor a proper name
    return org


# a proper name without a head word: "Vinacomin", "Hội Thủy sản Việt Nam" - capitalised, and no verb or place only
_PROPER = re.compile(
    r"^(?!(?:Phát biểu|Tính đến|Theo|Tại|Trong|Sau|Với|Đến|TP|Thành phố|Hồ Chí Minh|Hà Nội)\b)\w+(?:\s+\S+)+$"
)


_PHRASE_REACH = 100  # "Hội nghị CBVC và người lao động <Bệnh viện X> năm 2024": the body may follow the phrase


def _org_from_phrase(doc: Doc, span: tuple[int, int], fv: FactsVocabulary) -> str | None:
    start, end = span
    clause = _PASSIVE_PIECE_END.search(doc.text, end, end + _PHRASE_REACH)
    end = clause.start() if clause else min(len(doc.text), end + _PHRASE_REACH)
    person = fv.person_titles.find(doc.text, start, end)  # "Hội nghị có đồng chí X, Bí thư Đảng ủy"
    heads: list[re.Match[str]] = []
    for head in fv.org_heads.find_all(doc.text, start + 1, person.start() if person else end):
        # a head word inside a common noun ("cán bộ") is not a name: the first head that starts a name wins
        stops = (fv.org_end.find(doc.text, head.end(), end), _ORG_END.search(doc.text, head.end(), end))
        ends = [m.start() for m in stops if m]
        cut = min(ends) if ends else end
        org = _orig(doc, head.start(), cut).strip()
        words = len(_orig(doc, head.start(), head.end()).split())
        bracket = doc.text.rfind("(", start, head.start())
        if bracket >= 0 and not doc.text[bracket + 1 : head.start()].strip():
            # "công đoàn cơ sở (CĐCS) Sở Khoa học": an abbreviation in brackets goes with the heads before it
            near = [h for h in heads if bracket - 30 <= h.start() and not _ORG_END.search(doc.text, h.end(), bracket)]
            found = _as_org(doc, near[0].start(), cut, fv) if near else None
            if found and found.count("(") == found.count(")"):
                return found
        # a head alone ("Công đoàn", "Trường") names no body: a name has a word after its head; a head written
        # in lower case names one when a capitalised name follows it ("của trường Mẫu giáo Sơn Ca")
        if len(org.split()) > words and (org[:1].isupper() or _lower_head(org, words)):
            return _as_org(doc, head.start(), cut, fv)
        heads.append(head)
    return None


_LOWER_HEADS = frozenset(
    ("trường", "công đoàn", "liên đoàn", "bệnh viện", "công ty", "tổng công ty", "học viện", "tập đoàn", "ngân hàng")
)


def _lower_head(org: str, words: int) -> bool:
    """A body's head word in lower case with a name of two words or more after it, capitalised and not another head:
    "trường Mẫu giáo Sơn Ca" (not "công đoàn Trường", not "Hội trường A")."""
    parts = org.split()
    name = parts[words:]
    return (
        " ".join(parts[:words]) in _LOWER_HEADS
        and len(name) >= 2
        and name[0][:1].isupper()
        and name[0].lower() not in _LOWER_HEADS
    )


def _skip_when(piece: str, fv: FactsVocabulary) -> int:
    """Length of a leading date phrase (and credit) in a folded subject."""
    lead = re.match(r"\s*(?:\([^)]*\)\s*)?(?:[-–*•]\s*)?", piece)
    pos = lead.end() if lead else 0
    m = fv.when.at.match(piece, pos)
    return m.end() if m else pos


def _org_from_chair(officials: list[Official]) -> str | None:
    for person in officials:
        role = person.role or ""
        m = re.match(r"Chủ tịch\s+((?:Công đoàn|Liên đoàn|CĐ|LĐLĐ)\b[^,;]*)", role)
        if m:
            return m.group(1).strip()
    return None


# a term written anywhere near the top of the page: "nhiệm kỳ 2023 - 2028", "mandat 2025-2030", "term 2023-2028",
# "the 2023-2028 term", "tenure 2018-2023"
_TERM = re.compile(
    r"(?:nhiệm kỳ|mandat|term|tenure)\s+(?:de\s+|of\s+)?(?:19|20)\d\d\s*[-–]\s*(?:19|20)\d\d(?!\d)"
    r"|(?<!\d)(?:19|20)\d\d\s*[-–]\s*(?:19|20)\d\d\s+(?:term|tenure)\b",
    re.I,
)


def read_term(report: Report) -> str | None:
    """The term of a congress or committee session when its phrase and sentence name none: the first term
    written in the title, lead or the first 1,500 characters of the body, as written."""
    if report.kind not in ("dai_hoi", "hoi_nghi_bch"):
        return None
    m = _TERM.search(report.doc.orig[: report.doc.to_orig(report.body_at) + 1500])
    return m.group() if m else None


def read_period(phrases: list[str], kind: str) -> str | None:
    """The reporting period or term named in the meeting phrase ("6 tháng đầu năm 2021", "nhiệm kỳ 2023-2028")."""
    for phrase in phrases:
        lower = phrase.lower()
        if len(lower) != len(phrase):
            continue
        found = [
            (m.start(), order, name)
            for order, (name, rx) in enumerate(_LOWER_PERIODS)
            if _PERIOD_KEYS[name] in lower
            for m in rx.finditer(lower)
        ]
        if not found:
            continue
        terms = [f for f in found if f[2] in ("term", "bare_term")]
        if kind in _TERM_FIRST and terms:
            # a congress reviews the old term and opens the new one: the latest term is its own
            read = [(name, m) for at, _, name in terms if (m := _PERIODS[name].match(phrase, at))]
            if read:
                name, term = max(read, key=lambda nm: nm[1].group(nm[1].lastindex or 0))
                return _format_period(name, term, phrase, kind)
        at, _, name = min(found)
        first = _PERIODS[name].match(phrase, at)
        if first:
            return _format_period(name, first, phrase, kind)
    return None


def _format_period(name: str, m: re.Match[str], phrase: str, kind: str) -> str:
    g = m.groups()
    if name == "term" or (name == "bare_term" and kind in _TERM_FIRST):
        prefix = "giữa nhiệm kỳ" if name == "term" and g[0] else "nhiệm kỳ"
        return f"{prefix} {g[-2]}-{g[-1]}"
    if name in ("bare_term", "years"):
        return f"{'năm ' if name == 'years' else ''}{g[0]}-{g[1]}"
    if name == "month":
        return re.sub(r"\s+", " ", m.group(0).strip())
    if name == "months":
        text = re.sub(r"\s+", " ", m.group(0))
        year = None if g[2] else next(iter(_YEAR.findall(phrase[m.end() :])), None)
        return f"{text} {year}" if year else text
    if name in ("school_year", "school_year_en"):
        return f"năm học {g[0]}-{g[1]}"
    if name == "year":
        return g[0]
    return re.sub(r"\s+", " ", m.group(0))


# On the folded text (tone digits: "tháng" is "thang1", "và" "va2", "đến" "đên1", "ngày" "ngay2").
_DAY_MONTH = r"\d{1,2}(?!\d)(?:\s*(?:[/.–-]|thang1)\s*\d{1,2}(?!\d))?"
_YEAR_REST = r"(?:\s*(?:[/.–-]|,?\s*năm)\s*(?:19|20)\d\d(?!\d))"
_DATE_REST = re.compile(
    rf"(?:\s*(?:[/.–-]|thang1)\s*\d{{1,2}}(?![\d:h])(?!\s*(?:giơ2|h|g)\b){_YEAR_REST}?"
    rf"|\s*(?:[-–]|va2|đên1|tơi1)\s*(?:ngay2\s*)?{_DAY_MONTH}{_YEAR_REST}?"
    rf"|{_YEAR_REST})*"
)
# right before the date: "số 4155/HD-SYT.CĐN [của ...]", "số 07-KH/ĐU", "số 11- QĐ/TW", "Nghị định 60/2013/NĐ-CP"
_CITED = re.compile(r"(?:sô1\s*\d+\s*[-–]?\s*\w*\s*/\S*|\d+/(?:19|20)\d\d/\S+)\s*(?:\S+\s*){0,4}\Z")


# a date that opens with the time of day ("sáng ngày 18/10/2023") is when something happened, never a document's date
_TIMED = re.compile(r"(?:sang1|chiêu2|tôi1|trưa|vao2 luc1|luc1)(?!\w)")


def _meeting_date(text: str, hit: re.Match[str]) -> bool:
    """Whether a date phrase found in the folded text may say when the meeting was held: not the date of a cited
    document ("Kế hoạch số 12/KH-LĐLĐ ngày 5/3/2024"), unless it gives the time of day ("Thực hiện Quyết định số
    73/QĐ-CT, sáng ngày 18/10/2023 Công ty tổ chức ...")."""
    return bool(_TIMED.match(text, hit.start())) or not _CITED.search(text, max(0, hit.start() - 80), hit.start())


_WHEN_REACH = 1000


def read_when(report: Report, fv: FactsVocabulary) -> str | None:
    """The words that say when the meeting was held, as written."""
    body = report.doc
    spans = [report.sentence] if report.sentence else []
    spans.append((report.lead[0], min(report.lead[1], report.lead[0] + _WHEN_REACH)))
    for s, e in spans:
        # leftmost, skipping the date of a cited document ("Hướng dẫn số 4155/HD ngày 18/12/2023"); at one place
        # the most specific form wins, then the rest of the date or range is taken ("ngày 24 - 26/9/2018")
        hits = fv.when.find_all(body.text, s, e)
        hit = next((h for h in hits if _meeting_date(body.text, h)), None)
        if hit:
            more = _DATE_REST.match(body.text, hit.end())
            end = more.end() if more and more.end() <= e else hit.end()
            a, b = body.to_orig(hit.start()), body.to_orig(end)
            text = body.orig[a:b]
            if text.count("(") > text.count(")") and body.orig[b : b + 1] == ")":
                text += ")"
            return text[:1].upper() + text[1:]
    return _foreign_when(report)


# "On the morning of June 27th[, 2024]", "On July 11th, 2013", "Dans l'après-midi du 25 juin", "Le 21 octobre"
_FOREIGN_WHEN = re.compile(
    rf"(?:(?:[Oo]n|[Ii]n|[Dd]ans|[Ll]e|[Mm]orning|[Aa]fternoon)\s+(?:the\s+|l['’])?"
    rf"(?:(?:morning|afternoon|evening|après-midi|matin|matinée|soir)\s+(?:of\s+|du\s+)?)?)"
    rf"(?:(?:{_MONTHS}|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?)\s+\d{{1,2}}(?:st|nd|rd|th)?"
    rf"|\d{{1,2}}(?:er)?\s+(?:{_MOIS}))(?:,?\s+(?:19|20)\d\d)?"
)


def _foreign_when(report: Report) -> str | None:
    """The date words of an English or French page (few Vietnamese letters), in the first 1,500 characters of
    its body, when the Vietnamese forms found none."""
    body = report.doc.orig[report.doc.to_orig(report.body_at) :][:1500]
    if not _foreign_letters(body):
        return None
    m = _FOREIGN_WHEN.search(body) or _FOREIGN_WEEKDAY.search(body)
    return m.group()[:1].upper() + m.group()[1:] if m else None


# "on Friday", "this Sunday morning", "Ce samedi matin", "mardi matin", "dimanche après-midi": a weekday, when the
# page gives no date
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_JOURS = "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
_FOREIGN_WEEKDAY = re.compile(
    rf"\b(?:(?:[Oo]n|[Tt]his|[Ll]ast)\s+(?:{_DAYS})(?:\s+(?:morning|afternoon|evening))?"
    rf"|(?:[Cc]e\s+)(?:{_JOURS})(?:\s+(?:matin|après-midi|soir))?"
    rf"|(?:{_JOURS})\s+(?:matin|après-midi|soir))\b"
)


def _page_date(report: Report) -> datetime | None:
    """The article's own date near the top (a date bar), when it carries a year; never today's date."""
    head = report.doc.orig[: report.doc.to_orig(report.body_at) + 300]
    full = _FULL_DATE.search(head)
    return find_vn_datetime(full.group()) if full else None


def read_location(report: Report, fv: FactsVocabulary) -> str | None:
    """Where it was held: "tại ..." in the report sentence, else in "Hội nghị được tổ chức ... tại ..."."""
    body = report.doc
    spans = [report.sentence] if report.sentence else []
    said = next((m for start in report.meetings if (m := fv.held_at.at.match(body.text, start))), None)
    if said:
        spans.append((said.start(), said.end() + 200))
    for s, e in spans:
        for at, after in (m.span() for m in fv.place.find_all(body.text, s, min(e, len(body.text)))):
            if fv.place_skip.match(body.text, at):
                continue
            end = _CLAUSE_END.search(body.text, after)
            stop = end.start() if end else len(body.text)
            cut = fv.place_stops.find(body.text, after, stop)
            place = _orig(body, at, cut.start() if cut else stop).strip()
            if 2 <= len(place.split()) <= 18:
                return place
    return None


def read_officials(body: Doc, start: int, fv: FactsVocabulary) -> list[Official]:
    """People named with a role: "đồng chí Nguyễn Văn A, Chủ tịch ..." and lists "các đồng chí: A, role; B, role"."""
    found: dict[str, Official] = {}
    starts = [body.to_orig(b) for a, b in fv.person_titles.spans(body) if a >= start]
    for _, end in (p for p in fv.person_list.spans(body) if p[0] >= start):
        colon = body.text.find(":", end, end + 3)
        if colon < 0:
            continue
        stop = _sentence_stop(body.text, colon)
        pos = body.to_orig(colon + 1)
        for item in body.orig[pos : body.to_orig(stop)].split(";"):
            starts.append(pos)
            pos += len(item) + 1
    for start in sorted(set(starts)):
        person = _read_person(body, start, fv)
        if person and person.name not in found:
            found[person.name] = person
        if len(found) >= 20:
            break
    return list(found.values())


def _sentence_stop(text: str, pos: int) -> int:
    m = re.compile(r"\.\s|\n").search(text, pos)
    return m.start() if m else len(text)


def _read_person(doc: Doc, start: int, fv: FactsVocabulary) -> Official | None:
    """ "Nguyễn Văn A, role" (or "- role") at an original offset."""
    m = _NAME.match(doc.orig, start)
    if not m:
        return None
    words = m.group(1).split()
    if not all(w[0].isupper() for w in words) or len(words) < 2:
        return None
    if fv.roles.match(doc.text, doc.to_folded(m.start(1))):
        return None  # "đồng chí Phó Chủ tịch ..." names a role, not a person
    role = _read_role(doc, m.end(), fv)
    return Official(name=" ".join(words), role=role) if role else None


def _read_role(doc: Doc, start: int, fv: FactsVocabulary) -> str | None:
    """Comma-separated titles ("Chủ tịch X, Bí thư Y"), up to what the person did ("phát biểu", "dự")."""
    end = _ROLE_END.search(doc.orig, start)
    f_start, f_end = doc.to_folded(start), doc.to_folded(end.start() if end else min(len(doc.orig), start + 300))
    stop = fv.role_stops.find(doc.text, f_start, f_end)
    f_end = stop.start() if stop else f_end
    keep = pos = f_start
    while pos < f_end:
        comma = doc.text.find(",", pos, f_end)
        piece_end = f_end if comma < 0 else comma
        lead = len(doc.text[pos:piece_end]) - len(doc.text[pos:piece_end].lstrip())
        if not fv.roles.match(doc.text, pos + lead, piece_end):
            break
        keep, pos = piece_end, piece_end + 1
    role = _orig(doc, f_start, keep).strip(" ,–-\t")
    return role or None


def read_figures(body: Doc, start: int, fv: FactsVocabulary) -> list[str]:
    """Stated figures, one clause each ("kết nạp mới trên 11 ngàn đoàn viên")."""
    figures: list[str] = []
    text = body.text
    orig = body.orig
    for digits in _DIGITS.finditer(orig, body.to_orig(start)):  # numbers, read where the text has no tone digits
        before = orig[digits.start() - 1 : digits.start()]
        if before and (before.isalnum() or before in _NUMBER_GLUE):
            continue  # "15/01" goes on a number already begun
        count = fv.figure_count.match(text, body.to_folded(digits.start()))
        if count is None:
            continue
        unit = fv.figure_units.match(text, count.end())  # what the number counts, right after it
        if unit is None:
            continue
        f_start, f_end = count.start(), unit.end()
        if _YEAR_FIRST.match(text, max(0, f_start - 4)):
            continue  # "Năm 2020 công đoàn ...": a year, not a count
        a = max(text.rfind(sep, 0, f_start) + len(sep) for sep in (", ", "; ", ". ", ": ", "\n"))
        end = _FIGURE_END.search(text, f_end)
        b = end.start() if end else len(text)
        while (lead := fv.figure_lead.match(text, a, b)) and lead.end() > a:
            a = lead.end()
        if fv.figure_skip.match(text, a, b):
            continue
        figure = _orig(body, a, b).strip()
        if 3 <= len(figure.split()) <= 20 and figure not in figures:
            figures.append(figure)
        if len(figures) >= 8:
            break
    return figures
