"""Meeting facts read from a report: organiser, period, date, place, officials and stated figures.

Vocabulary comes from the `facts:` section of cues.yaml, compiled by feed.classify; matching runs on the folded
text and every value is copied out of the original text as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone, timedelta
from typing import Any, Protocol

from feed.dates import find_vn_datetime, parse_day_month
from feed.models import Official

_VN = timezone(timedelta(hours=7))
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
_DASH = r"\s*[-–—]\s*"
# Periods are structural (numbers and a few words with no tone-placement variants), so they match the text itself.
_PERIODS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx, re.I))
    for name, rx in (
        ("term", rf"(giữa\s+)?nhiệm\s+k[ỳì]\s*\(?\s*(\d{{4}}){_DASH}(\d{{4}})"),
        ("months", r"(6|sáu|9|chín|3|ba)\s+tháng\s+(đầu|cuối)\s+năm(?:\s+(\d{4}))?"),
        ("quarter", r"quý\s+(IV|I{1,3}|[1-4])(?!\w)(?:\s+năm\s+(\d{4}))?"),
        ("semester", r"học\s+k[ỳì]\s+(II|I|[12])(?!\w)"),
        ("phase", r"đợt\s+thi\s+đua\s+(?:thứ\s+)?([IVX]+|\d+)(?!\w)"),
        ("school_year", rf"năm\s+học\s+(\d{{4}}){_DASH}(\d{{4}})"),
        ("year", r"năm\s+(\d{4})(?!\s*[-–—]\s*\d)"),
        ("bare_term", rf"\((\d{{4}}){_DASH}(\d{{4}})\)"),
        ("school_year_en", rf"(\d{{4}}){_DASH}(\d{{4}}) school year"),
    )
)
_TERM_FIRST = {"dai_hoi", "hoi_nghi_bch"}
_CLAUSE_END = re.compile(r"[,;.:\n]")


class Doc(Protocol):
    """Folded text that maps back to its original (feed.classify.Folded)."""

    text: str
    orig: str

    def to_orig(self, fpos: int) -> int: ...


class Finder(Protocol):
    """A compiled cue pattern (feed.classify.Pattern): a scanning regex, and every match in a Doc."""

    search: re.Pattern[str]
    at: re.Pattern[str]

    def spans(self, doc: Any) -> list[tuple[int, int]]: ...


@dataclass(frozen=True)
class FactsVocabulary:
    """The compiled `facts:` section of cues.yaml."""

    organise: Finder
    subject_tail: re.Pattern[str]
    when: Finder  # all date phrases, most specific first
    place: Finder
    place_skip: re.Pattern[str]
    place_stops: re.Pattern[str]
    held_at: Finder
    person_titles: Finder
    roles: re.Pattern[str]
    role_stops: re.Pattern[str]
    person_list: Finder
    figure: Finder
    figure_lead: re.Pattern[str]
    make_doc: Callable[[str], Doc]


def compile_facts(data: dict[str, Any], pattern: Callable[[str], Finder], make_doc: Callable[[str], Doc]) -> FactsVocabulary:
    """Compile the `facts:` vocabulary with the classifier's pattern compiler."""
    return FactsVocabulary(
        organise=pattern(data["organise"]),
        subject_tail=re.compile(f"(?:{pattern(data['subject_tail']).search.pattern})\\W*\\Z"),
        when=pattern("{" + "|".join(data["when"]) + "}"),
        place=pattern(data["place"]),
        place_skip=pattern(data["place_skip"]).search,
        place_stops=pattern(data["place_stops"]).search,
        held_at=pattern(data["held_at"]),
        person_titles=pattern(data["person_titles"]),
        roles=pattern(data["roles"]).search,
        role_stops=pattern(data["role_stops"]).search,
        person_list=pattern(data["person_list"]),
        figure=pattern(data["figure"]),
        figure_lead=re.compile(r"\A\W*" + pattern(data["figure_lead"]).search.pattern),
        make_doc=make_doc,
    )


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
    phrase: str  # original text of the primary meeting phrase
    lead: tuple[int, int]
    kind: str


def read_facts(report: Report, fv: FactsVocabulary, published_at: datetime | None) -> Facts:
    """Read every fact the report states."""
    facts = Facts()
    officials = read_officials(report.doc, report.body_at, fv)
    facts.officials = officials
    facts.org = read_org(report, fv) or _org_from_chair(officials)
    facts.period = read_period([report.phrase], report.kind)
    text = read_when(report, fv)
    if text:
        facts.held_on_text = text
        year = _YEAR.search(text)
        reference = published_at or (datetime(int(year.group()), 12, 31, tzinfo=_VN) if year else _page_date(report))
        found = parse_day_month(text, reference=reference) if reference else None
        facts.held_on = found.isoformat() if found else None
    facts.location = read_location(report, fv)
    facts.figures = read_figures(report.doc, report.lead[0], fv)
    return facts


def _orig(doc: Doc, start: int, end: int) -> str:
    return doc.orig[doc.to_orig(start) : doc.to_orig(end)]


def read_org(report: Report, fv: FactsVocabulary) -> str | None:
    """The organiser: the subject before "tổ chức" in the report sentence."""
    if report.sentence is None:
        return None
    body, (s, e) = report.doc, report.sentence
    limit = report.meeting_at if report.meeting_at is not None and s <= report.meeting_at < e else e
    verbs = [v for v in fv.organise.spans(body) if s <= v[0] and v[1] <= limit and limit - v[1] < 80]
    if not verbs:
        return None
    subject = body.text[s : verbs[-1][0]]
    pos = s
    parts = []
    for piece in subject.split(","):
        parts.append((pos, pos + len(piece)))
        pos += len(piece) + 1
    for a, b in reversed(parts):
        piece = body.text[a:b]
        while (tail := fv.subject_tail.search(piece)) and tail.start() > 0:
            piece = piece[: tail.start()]
        b = a + len(piece)
        head = _skip_when(piece, fv)
        a += head
        words = body.text[a:b].split()
        if not words or words[0] in ("tại", "at") or any(w[:1].isdigit() for w in words[:1]):
            continue
        org = _orig(body, a, b).strip(" ()-–")
        org = re.sub(r"^\([^)]*\)\s*", "", org)  # a credit like "(BTV)" before the date
        return org if 1 <= len(org.split()) <= 16 else None
    return None


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


def read_period(phrases: list[str], kind: str) -> str | None:
    """The reporting period or term named in the meeting phrase ("6 tháng đầu năm 2021", "nhiệm kỳ 2023-2028")."""
    for phrase in phrases:
        found = [(m.start(), name, m) for name, rx in _PERIODS for m in [rx.search(phrase)] if m]
        if not found:
            continue
        if kind in _TERM_FIRST and any(f[1] in ("term", "bare_term") for f in found):
            found = [f for f in found if f[1] in ("term", "bare_term")]
        _, name, m = min(found, key=lambda f: f[0])
        return _format_period(name, m, phrase)
    return None


def _format_period(name: str, m: re.Match[str], phrase: str) -> str:
    g = m.groups()
    if name in ("term", "bare_term"):
        prefix = "giữa nhiệm kỳ" if name == "term" and g[0] else "nhiệm kỳ"
        return f"{prefix} {g[-2]}-{g[-1]}"
    if name == "months":
        text = re.sub(r"\s+", " ", m.group(0))
        year = None if g[2] else next(iter(_YEAR.findall(phrase[m.end() :])), None)
        return f"{text} {year}" if year else text
    if name in ("school_year", "school_year_en"):
        return f"năm học {g[0]}-{g[1]}"
    if name == "year":
        return g[0]
    return re.sub(r"\s+", " ", m.group(0))


def read_when(report: Report, fv: FactsVocabulary) -> str | None:
    """The words that say when the meeting was held, as written."""
    body = report.doc
    spans = [report.sentence] if report.sentence else []
    spans.append((report.lead[0], min(report.lead[1], report.lead[0] + 500)))
    for s, e in spans:
        hits = [w for w in fv.when.spans(body) if s <= w[0] < e]
        if hits:
            a, b = body.to_orig(hits[0][0]), body.to_orig(hits[0][1])
            text = body.orig[a:b]
            if text.count("(") > text.count(")") and body.orig[b : b + 1] == ")":
                text += ")"
            return text[:1].upper() + text[1:]
    return None


def _page_date(report: Report) -> datetime | None:
    head = report.doc.orig[: report.doc.to_orig(report.body_at) + 300]
    return find_vn_datetime(head)


def read_location(report: Report, fv: FactsVocabulary) -> str | None:
    """Where it was held: "tại ..." in the report sentence, else in "Hội nghị được tổ chức ... tại ..."."""
    body = report.doc
    spans = [report.sentence] if report.sentence else []
    spans += [(a, b + 200) for a, b in fv.held_at.spans(body)][:1]
    for s, e in spans:
        for at, after in (p for p in fv.place.spans(body) if s <= p[0] < e):
            if fv.place_skip.match(body.text, at):
                continue
            end = _CLAUSE_END.search(body.text, after)
            stop = end.start() if end else len(body.text)
            cut = fv.place_stops.search(body.text, after, stop)
            place = _orig(body, at, cut.start() if cut else stop).strip()
            if 2 <= len(place.split()) <= 14:
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
        person = _read_person(body.orig, start, fv)
        if person and person.name not in found:
            found[person.name] = person
        if len(found) >= 20:
            break
    return list(found.values())


def _sentence_stop(text: str, pos: int) -> int:
    m = re.compile(r"\.\s|\n").search(text, pos)
    return m.start() if m else len(text)


def _read_person(text: str, start: int, fv: FactsVocabulary) -> Official | None:
    m = re.compile(r"[ \t]*((?:[^\W\d_][\w]*[ \t]+){1,4}[^\W\d_][\w]*)[ \t]*(?:,|[-–—]|\()[ \t]*").match(text, start)
    if not m:
        return None
    words = m.group(1).split()
    if not all(w[0].isupper() for w in words) or len(words) < 2:
        return None
    name = " ".join(words)
    if fv.roles.match(fv.make_doc(" ".join(words[:3])).text):
        return None  # "đồng chí Phó Chủ tịch ..." names a role, not a person
    role = _read_role(text, m.end(), fv)
    return Official(name=name, role=role) if role else None


def _read_role(text: str, start: int, fv: FactsVocabulary) -> str | None:
    end = re.compile(r"\.\s|\.$|[;\n)]").search(text, start)
    doc = fv.make_doc(text[start : end.start() if end else min(len(text), start + 300)])
    stop = fv.role_stops.search(doc.text)
    folded = doc.text[: stop.start()] if stop else doc.text
    keep, pos = 0, 0
    for piece in folded.split(","):
        if not fv.roles.match(piece.strip()):
            break
        keep = pos + len(piece)
        pos += len(piece) + 1
    role = doc.orig[: doc.to_orig(keep)].strip(" ,–-")
    return role or None


def read_figures(body: Doc, start: int, fv: FactsVocabulary) -> list[str]:
    """Stated figures, one clause each ("kết nạp mới trên 11 ngàn đoàn viên")."""
    figures: list[str] = []
    for f_start, f_end in (f for f in fv.figure.spans(body) if f[0] >= start):
        a = max(body.text.rfind(ch, 0, f_start) for ch in ",;.\n:") + 1
        end = _CLAUSE_END.search(body.text, f_end)
        b = end.start() if end else len(body.text)
        clause = body.text[a:b]
        while lead := fv.figure_lead.match(clause):
            if not lead.end():
                break
            a, clause = a + lead.end(), clause[lead.end() :]
        figure = _orig(body, a, b).strip()
        if 3 <= len(figure.split()) <= 16 and figure not in figures:
            figures.append(figure)
        if len(figures) >= 8:
            break
    return figures
