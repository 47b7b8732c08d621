"""Meeting-report classifier: the Vietnamese cue grammar (src/feed/classify/cues.yaml) reads an article, a learned
model (feed.classify.model, over the grammar's cues, n-grams and structure: feed.classify.features) decides whether it
reports a held meeting, the kind rules or the model its kind; src/feed/classify/facts.py then reads who met, when,
where and who attended."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any, cast

import yaml

from feed.classify.cue_patterns import Folded, Pattern, Scanner, compile_pattern
from feed.classify.facts import FactsVocabulary, Report, compile_facts, finders, read_facts, read_period, read_term
from feed.classify.features import BODY_CHARS, Features, Grammar, Layout, featurize
from feed.classify.model import Model, shipped, sigmoid
from feed.lang.text import clean, nfc
from feed.records import Meeting

ZONES = ("title", "lead", "body")
_SENTENCE_END = re.compile(r"[.!?;:]\s|\n")


# --- the vocabulary --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    stage: str
    pattern: Pattern
    weights: dict[str, float]  # per zone

    @property
    def name(self) -> str:
        return f"{self.stage}: {self.pattern.source}"


@dataclass(frozen=True)
class KindRule:
    kind: str
    phrase: tuple[Pattern, ...]
    sentence: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]


@dataclass(frozen=True)
class Vocabulary:
    """The loaded cue file: cues, kind rules, how the primary meeting is chosen, and tuning numbers."""

    cues: tuple[Cue, ...]
    kinds: tuple[KindRule, ...]
    threshold: float
    lead_min_words: int
    lead_max_chars: int
    neutral: tuple[Pattern, ...]
    mentions: tuple[Pattern, Pattern]  # meeting nouns; verbs that head a meeting phrase
    ceremonial: Pattern
    primary: dict[str, re.Pattern[str]]
    facts: FactsVocabulary
    scanner: Scanner  # every cue and mention pattern, found in one pass
    facts_scanner: Scanner  # the facts vocabulary, scanned for reports only
    neutral_scanner: Scanner


def build_vocabulary(data: dict[str, Any]) -> Vocabulary:
    """Compile a parsed cue file (see cues.yaml) into a Vocabulary."""
    macros = {k: str(v) for k, v in data["macros"].items()}
    factors = {z: float(data["zone_factor"][z]) for z in ZONES}

    def pat(src: str) -> Pattern:
        return compile_pattern(src, macros)

    cues = [
        Cue(stage, pat(e["p"]), {z: float(e["w"]) * factors[z] if "w" in e else float(e.get(z, 0.0)) for z in ZONES})
        for stage, entries in data["report"].items()
        for e in entries
    ]
    kinds = tuple(
        KindRule(r["kind"], *(tuple(map(pat, r.get(k, ()))) for k in ("phrase", "sentence", "unless")))
        for r in data["kinds"]
    )
    words = {k: v for k, v in data["primary"].items() if k.endswith(("_before", "_after"))}
    # "..._before" patterns must end where the meeting word starts; the word start is checked by _finds.
    primary = {
        k: re.compile((pat(v).loose or pat(v).search).pattern + (r"\W*\Z" if k.endswith("_before") else ""))
        for k, v in words.items()
    }
    meeting, verbs = pat("$MEETING"), pat(data["primary"]["verb_mention"])
    leaves = [leaf for p in (*(c.pattern for c in cues), meeting, verbs) for leaf in p.leaves()]
    facts = compile_facts(data["facts"], pat)
    neutral = tuple(map(pat, data.get("neutral", ())))
    return Vocabulary(
        cues=tuple(cues),
        kinds=kinds,
        threshold=float(data["threshold"]),
        lead_min_words=int(data["lead"]["min_words"]),
        lead_max_chars=int(data["lead"]["max_chars"]),
        neutral=neutral,
        mentions=(meeting, verbs),
        ceremonial=pat(data["primary"]["ceremonial"]),
        primary=primary,
        facts=facts,
        scanner=Scanner(leaves),
        facts_scanner=Scanner([leaf for p in finders(facts) for leaf in cast(Pattern, p).leaves()]),
        neutral_scanner=Scanner([leaf for p in neutral for leaf in p.leaves()]),
    )


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The packaged cue vocabulary, loaded and folded once."""
    raw = resources.files("feed.classify").joinpath("cues.yaml").read_text(encoding="utf-8")
    return build_vocabulary(yaml.safe_load(raw))


# --- mentions of meetings and the primary one --------------------------------------------------------------


@dataclass
class Mention:
    """A meeting word in the text and the phrase it heads."""

    zone: str
    start: int
    phrase: str
    sentence: str
    strength: int  # 2: organised ("tổ chức Hội nghị"), 1: held (attended, spoken at), 0: only named
    sentence_span: tuple[int, int]
    ceremonial: bool = False  # "hội nghị tuyên dương", "hội nghị kỷ niệm": a ceremony named as a meeting


_RANK = {
    ("lead", 2): 0,
    ("title", 2): 1,
    ("lead", 1): 2,
    ("title", 1): 3,
    ("title", 0): 3,
    ("body", 2): 4,
    ("body", 1): 5,
    ("lead", 0): 6,
}


def _rank(m: Mention) -> tuple[int, int]:
    return _RANK.get((m.zone, m.strength), 7), m.start


def _zone(pos: int, lead: tuple[int, int, int]) -> str:
    """The title runs up to the lead's search start; the lead is its span; the body is the rest."""
    return "lead" if lead[0] <= pos < lead[1] else ("title" if pos < lead[2] else "body")


def _lead_span(text: str, body_at: int, min_words: int, max_chars: int) -> tuple[int, int, int]:
    """(start, end) of the lead, the first line of the body long enough to be prose; then where the body starts."""
    pos = body_at
    for line in text[body_at:].split("\n"):
        if len(line.split()) >= min_words:
            stop = _SENTENCE_END.search(text, pos + max_chars)
            return pos, stop.end() if stop else len(text), body_at
        pos += len(line) + 1
    return body_at, body_at, body_at


def _sentence_bounds(text: str, pos: int) -> tuple[int, int]:
    start = max(text.rfind(". ", 0, pos), text.rfind("\n", 0, pos), text.rfind("; ", 0, pos))
    stop = _SENTENCE_END.search(text, pos)
    return start + 1, (stop.start() + (stop.group()[0] in ".!?")) if stop else len(text)


def _strength(text: str, start: int, end: int, sentence: tuple[int, int], voc: Vocabulary) -> int:
    before = text[max(sentence[0], start - 60) : start]
    after = text[end : min(sentence[1], end + 160)]
    words = voc.primary
    if _finds(words["planned_before"], before):
        return 0
    if _finds(words["organised_before"], before) or _finds(words["organised_after"], after):
        return 2
    return 1 if _finds(words["held_before"], before) or _finds(words["held_after"], after[:100]) else 0


def _finds(rx: re.Pattern[str], window: str) -> bool:
    """Whether rx matches in the window at the start of a word."""
    pos = 0
    while (m := rx.search(window, pos)) is not None:
        at = m.start()
        if at == 0 or not (window[at - 1].isalnum() or window[at - 1] == "_"):
            return True
        pos = at + 1
    return False


def _mentions(doc: Folded, voc: Vocabulary, lead: tuple[int, int, int]) -> list[Mention]:
    nouns, verbs = voc.mentions
    hits = sorted([(*span, 0) for span in nouns.spans(doc)] + [(*span, 2) for span in verbs.spans(doc)])
    found = []
    for start, end, floor in hits:
        s_start, s_end = _sentence_bounds(doc.text, start)
        strength = max(floor, _strength(doc.text, start, end, (s_start, s_end), voc))
        found.append(
            Mention(
                _zone(start, lead),
                start,
                doc.text[start : min(s_end, start + 240)],
                doc.text[s_start:s_end],
                strength,
                (s_start, s_end),
                bool(voc.ceremonial.at.match(doc.text, start)),
            )
        )
    return found


def decide_kind(mention: Mention, voc: Vocabulary) -> tuple[str, str]:
    """First kind rule whose pattern fits the meeting phrase; returns (kind, the pattern that fired)."""
    for rule in voc.kinds:
        if any(u.find(mention.phrase) for u in rule.unless):
            continue
        for p in rule.phrase:
            if p.find(mention.phrase):
                return rule.kind, p.source
        for p in rule.sentence:
            if p.find(mention.sentence):
                return rule.kind, p.source
    return "other_meeting", ""


def _kind_of(primary: Mention, mentions: list[Mention], voc: Vocabulary) -> tuple[str, str, Mention]:
    kind, rule = decide_kind(primary, voc)
    if kind != "other_meeting":
        return kind, rule, primary
    # A headline that starts with the meeting's name says what the lead may leave implicit; a bare
    # "Hội nghị." in the lead takes its name from another mention in the lead or title.
    named = [m for m in mentions if m.zone == "title" and m.start <= 2]  # the title opens the document
    if len(primary.phrase.split()) <= 4:
        named += sorted((m for m in mentions if m.zone in ("lead", "title") and not m.ceremonial), key=_rank)
    for other in named:
        better, why = decide_kind(other, voc)
        if other is not primary and better != "other_meeting":
            return better, why, other
    return kind, rule, primary


# --- scoring -------------------------------------------------------------------------------------------------

Fired = dict[str, dict[str, tuple[float, str]]]  # stage -> cue pattern -> (weight, the words it matched)


def fired_cues(doc: Folded, voc: Vocabulary) -> list[tuple[Cue, list[tuple[int, int]]]]:
    """Every cue that fires in the document, with every place it fires (folded spans), in cues.yaml order."""
    found = []
    words, matches, scanned = doc.words, doc.matches, doc.scanned
    for cue in voc.cues:
        source = cue.pattern.source
        if source in scanned and source not in matches:  # the scan looked for it and it is not there
            continue
        if any(need.isdisjoint(words) for need in cue.pattern.needs):  # two-part cues are not scanned whole
            continue
        spans = cue.pattern.spans(doc)
        if spans:
            found.append((cue, spans))
    return found


def _score(doc: Folded, lead: tuple[int, int, int], voc: Vocabulary) -> tuple[float, Fired, list[tuple[str, str]]]:
    """The sum of the cues that fired (each counted once, at its best zone), the cues by stage, and every
    (zone, cue name) a cue fired in within the part of the document the model reads."""
    fired: Fired = {}
    total = 0.0
    places: set[tuple[str, str]] = set()
    limit = lead[2] + BODY_CHARS
    for cue, spans in fired_cues(doc, voc):
        places.update((_zone(start, lead), cue.name) for start, _ in spans if start < limit)
        best, span = _best_weight(cue, spans, doc, lead)
        if best:
            fired.setdefault(cue.stage, {})[cue.pattern.source] = (round(best, 2), span)
            total += best
    return round(total, 2), fired, sorted(places)


def _best_weight(cue: Cue, spans: list[tuple[int, int]], doc: Folded, lead: tuple[int, int, int]) -> tuple[float, str]:
    """The cue's weight where it weighs most (by size) among the places it fires, and the words there."""
    best, where = 0.0, (0, 0)
    for start, end in spans:
        w = cue.weights[_zone(start, lead)]
        if abs(w) > abs(best):
            best, where = w, (start, end)
    return best, (doc.orig[doc.to_orig(where[0]) : doc.to_orig(where[1])] if best else "")


def _tidy(text: str | None) -> str:
    """NFC and entities; the full clean() only when the text needs it (it costs more than classifying)."""
    if not text:
        return ""
    if "&" in text or "\r" in text:
        return clean(text)
    # Only NFC here, never clean() for being NFD: clean() also collapses spaces, and the NFC and NFD spellings
    # of one text must tidy alike (a headline found in its body in one spelling must be found in the other).
    return nfc(text).strip()


def _is_word_char(ch: str) -> bool:
    """What `\\w` matches in a str pattern: str.isalnum() or "_"."""
    return ch.isalnum() or ch == "_"


def _whole_words_at(text: str, phrase: str, end: int) -> int:
    r"""Where phrase first stands in text[:end] as whole words (no word character just before or after it), or -1:
    what re.search(r"(?<!\w)<phrase>(?!\w)", text, 0, end) finds, without compiling a pattern for each article's
    headline (that compile was most of what preparing a document cost)."""
    end = min(end, len(text))
    at = text.find(phrase, 0, end)
    while at >= 0:
        after = at + len(phrase)
        if (at == 0 or not _is_word_char(text[at - 1])) and (after >= end or not _is_word_char(text[after])):
            return at
        at = text.find(phrase, at + 1, end)
    return -1


def _prepare(title: str | None, text: str, lead: str | None, voc: Vocabulary) -> tuple[Folded, int]:
    """One folded document: the title, a blank line, then the body; returns it and where the body starts."""
    title, body = " ".join(_tidy(title).split()), _tidy(text)
    if lead and _tidy(lead) not in body:
        body = f"{_tidy(lead)}\n{body}"
    if title:
        # The headline repeated as the first line of the body counts once, in the title zone; only as whole words
        # (a one-letter headline must not blank the "h" of "Đại học").
        at = _whole_words_at(body, title, len(title) + 400)
        if at >= 0:
            body = body[:at] + " " * len(title) + body[at + len(title) :]
    doc = Folded(f"{title}\n\n{body}")
    bang = doc.text.find("!")
    while bang >= 0:  # banner slogans ("... tổ chức thành công Đại hội ...!") are chrome
        start = max(doc.text.rfind(ch, 0, bang) for ch in ".!?\n") + 1
        doc.blank(start, bang + 1)
        bang = doc.text.find("!", bang + 1)
    if not all(any(need.isdisjoint(doc.words) for need in p.needs) for p in voc.neutral):
        voc.neutral_scanner.scan(doc)
        for start, end in [span for p in voc.neutral for span in p.spans(doc)]:
            doc.blank(start, end)
    return doc, len(title) + 2


def _names_a_meeting(doc: Folded, voc: Vocabulary) -> bool:
    """Whether a meeting word stands in the text; scans for every cue when one does."""
    if all(p.firsts.isdisjoint(doc.words) for p in voc.mentions):
        return False
    voc.scanner.scan(doc)
    return any(p.spans(doc) for p in voc.mentions)


@dataclass
class Reading:
    """What the cue grammar reads off one article, and the model's features (None: no meeting word)."""

    doc: Folded
    lead_span: tuple[int, int, int]
    score: float  # the hand-weighted cue score
    fired: Fired
    mentions: list[Mention]  # the meeting words, ceremonies left out when another remains
    primary: Mention | None  # the meeting the page reports
    ceremonial: bool  # ... and it is a ceremony
    kind: str  # what the kind rules say of it
    rule: str
    named: Mention | None  # the mention the kind was read from
    features: Features | None


def read(title: str | None, text: str, *, lead: str | None = None) -> Reading:
    """Run the cue grammar over an article and compute the model's features."""
    voc = vocabulary()
    doc, body_at = _prepare(title, text or "", lead, voc)
    if not _names_a_meeting(doc, voc):  # no meeting word at all: nothing else can make it a report
        return Reading(doc, (body_at, body_at, body_at), 0.0, {}, [], None, False, "", "", None, None)
    lead_span = _lead_span(doc.text, body_at, voc.lead_min_words, voc.lead_max_chars)
    score, fired, places = _score(doc, lead_span, voc)
    mentions = _mentions(doc, voc, lead_span)
    primary = min(mentions, key=_rank) if mentions else None
    ceremonial = bool(primary and primary.ceremonial)
    kind, rule, named = "other_meeting", "", primary
    if primary is not None:
        plain = [m for m in mentions if not m.ceremonial]
        if ceremonial and plain:  # should the page be a report all the same, it reports another meeting
            primary = min(plain, key=_rank)
        mentions = plain or mentions
        kind, rule, named = _kind_of(primary, mentions, voc)
    grammar = Grammar(
        cues=frozenset(places),
        score=score,
        threshold=voc.threshold,
        primary=f"{primary.zone}{primary.strength}" if primary else None,
        ceremonial=ceremonial,
        rule_kind=kind if primary else None,
        mentions=len(mentions),
    )
    layout = Layout(
        text=doc.text,
        words=doc.fwords,
        starts=doc.word_starts(),
        body_at=body_at,
        lead=lead_span[:2],
        title_given=bool(title and title.strip()),
    )
    return Reading(
        doc, lead_span, score, fired, mentions, primary, ceremonial, kind, rule, named, featurize(layout, grammar)
    )


def analyse(
    title: str | None,
    text: str,
    *,
    published_at: datetime | None = None,
    lead: str | None = None,
    model: Model | None = None,
    explain: bool = True,
) -> tuple[Meeting, dict[str, Any]]:
    """Classify and explain: the Meeting, plus why (the model's top features, the cues that fired, the kind).
    With explain=False the per-feature contributions are not computed (classify: the crawler's path).

    The learned model (feed.classify.model; the shipped one unless another is given) decides whether the page
    is a report and, when its artifact says so, the kind; else the kind rules of cues.yaml give the kind.
    """
    model = model or shipped()
    r = read(title, text, lead=lead)
    if r.features is None or r.primary is None:
        return Meeting(cues=["no meeting word"]), {
            "report": {},
            "score": 0.0,
            "threshold": model.threshold,
            "note": "no meeting word ($MEETING) in title or text",
        }
    doc, fired = r.doc, r.fired
    parts = model.parts(r.features)
    probability = sigmoid(model.intercept + math.fsum(parts.values()))
    top = model.contributions(r.features) if explain else []
    why: dict[str, Any] = {
        "report": {stage: {cue: w for cue, (w, _) in cues.items()} for stage, cues in fired.items()},
        "matched": {cue: words for cues in fired.values() for cue, (_, words) in cues.items()},
        "score": round(probability, 4),
        "threshold": model.threshold,
        "cue_score": r.score,
        "model": [{"feature": c.feature, "value": round(c.value, 4), "weight": c.weight} for c in top],
        "families": {family: round(amount, 4) for family, amount in sorted(parts.items())},
    }
    meeting = Meeting(
        score=round(probability, 4),
        cues=[
            f"{stage} {w:+g}: «{' '.join(words.split())[:80]}»"
            for stage, cues in fired.items()
            for _, (w, words) in cues.items()
        ],
    )
    meeting.cues.append(
        f"model: p {probability:.3f} ({'≥' if probability >= model.threshold else '<'} {model.threshold:g});"
        f" bias {model.intercept:+.2f}, "
        + ", ".join(f"{family} {amount:+.2f}" for family, amount in sorted(parts.items(), key=lambda p: -abs(p[1])))
    )
    if r.ceremonial:
        meeting.cues.append(f"ceremony: the meeting reported is a ceremony («{_orig_of(doc, r.primary)[:60]}»)")
        why["ceremony"] = True
        if "ceremony" in model.vetoes:
            meeting.cues.append("veto: a ceremony is not a report")
            why["veto"] = "ceremony"
            return meeting, why
    if probability < model.threshold:
        return meeting, why
    kind, how = r.kind, f"rule {r.rule or 'no kind cue'}"
    learned = model.kind(r.features, rule_fired=bool(r.rule))
    if learned is not None:
        kind, how = learned, "model"
        if explain:
            why["kind_model"] = [
                {"feature": c.feature, "value": round(c.value, 4), "weight": c.weight}
                for c in model.kind_contributions(r.features, learned)
            ]
    named = r.named or r.primary
    why["kind"] = {
        "kind": kind,
        "rule": r.rule,
        "rule_kind": r.kind,
        "by": how,
        "phrase": _orig_of(doc, named)[:200],
    }
    meeting.is_report, meeting.kind = True, kind
    meeting.cues.append(f"kind: {kind} ({how})")
    _fill_facts(meeting, doc, r.mentions, r.primary, r.lead_span, vocabulary(), published_at)
    return meeting, why


def _fill_facts(
    meeting: Meeting,
    doc: Folded,
    mentions: list[Mention],
    primary: Mention,
    lead_span: tuple[int, int, int],
    voc: Vocabulary,
    published_at: datetime | None,
) -> None:
    said = primary if primary.zone != "title" else next((m for m in mentions if m.zone != "title" and m.strength), None)
    report = Report(
        doc=doc,
        body_at=lead_span[2],
        sentence=said.sentence_span if said else None,
        meeting_at=said.start if said else None,
        phrase=_span_of(primary),
        title_phrases=[_span_of(m) for m in mentions if m.zone == "title"],
        lead=lead_span[:2],
        kind=meeting.kind or "",
        meetings=[m.start for m in mentions],
    )
    voc.facts_scanner.scan(doc)
    facts = read_facts(report, voc.facts, published_at)
    if facts.period is None:  # "Hội nghị tổng kết có ...": another mention of the same meeting names the period
        same = [_orig_of(doc, m) for m in mentions if m is not primary and decide_kind(m, voc)[0] == meeting.kind]
        facts.period = read_period(same, report.kind) or read_term(report)
    meeting.org, meeting.period, meeting.location = facts.org, facts.period, facts.location
    meeting.held_on, meeting.held_on_text = facts.held_on, facts.held_on_text
    meeting.officials, meeting.figures = facts.officials, facts.figures


def _span_of(m: Mention) -> tuple[int, int]:
    return m.start, m.start + len(m.phrase)


def _orig_of(doc: Folded, m: Mention) -> str:
    return doc.orig[doc.to_orig(m.start) : doc.to_orig(m.start + len(m.phrase))]


def classify(
    title: str | None,
    text: str,
    *,
    published_at: datetime | None = None,
    lead: str | None = None,
    model: Model | None = None,
) -> Meeting:
    """Decide whether an article reports a held meeting, which kind, and read its facts."""
    return analyse(title, text, published_at=published_at, lead=lead, model=model, explain=False)[0]


def _published(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _text_or_none(value: Any) -> str | None:
    return None if value is None else nfc(str(value))


def classify_record(record: dict, *, explain: bool = False) -> dict:
    """For the CLI: add record["meeting"] (and record["explain"] when asked) to a copy of an article record."""
    out = dict(record)
    title, text, lead = (record.get(k) for k in ("title", "text", "lead"))
    text = text or record.get("body_text") or ""
    meeting, why = analyse(
        _text_or_none(title),
        nfc(str(text)),
        published_at=_published(record.get("published_at")),
        lead=_text_or_none(lead),
    )
    out["meeting"] = meeting.to_json()
    if explain:
        out["explain"] = why
    return out
