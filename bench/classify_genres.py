"""Which genres the classifier still gets wrong: the out-of-fold errors of the grouped cross-validation on the
corpus (bench/classify.py's first part), counted per genre.

    .venv/bin/python bench/classify_genres.py [--corpus DIR] [--folds 10]

(bench/classify.py --genres prints the same table from its own cross-validation.)

A genre is read off the labeller's note (English), the headline and the text by the plain rules of `GENRES`
below; an item may belong to several genres (a French tag page is both), and one that fits none is "plain". For each
genre: items, reports among them, missed reports (truth report, predicted other), false reports (truth other,
predicted report), and the share of its items that are wrong. Only the corpus is read: the dev set (the test set)
is never looked at here.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from feed.classify.evaluate import Miss, cross_validate
from feed.classify.train import load_corpus

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "meetings"

Row = dict[str, Any]


def _low(row: Row, field: str) -> str:
    return unicodedata.normalize("NFC", str(row.get(field) or "")).lower()


def _note(*words: str, others: bool = False) -> Callable[[Row], bool]:
    """The note names the genre (others=True: only for items labelled `other`, whose notes say what the page is;
    a report's note names documents, speeches or previews only in passing)."""
    pattern = re.compile("|".join(words))
    return lambda row: (not others or row.get("label") == "other") and bool(pattern.search(_low(row, "note")))


def _text(*words: str) -> Callable[[Row], bool]:
    pattern = re.compile("|".join(words))
    return lambda row: bool(pattern.search(_low(row, "headline") + "\n" + _low(row, "text")[:2000]))


def _foreign(row: Row) -> bool:
    note = _low(row, "note")
    if re.search(r"\benglish\b|\bfrench\b|\ben\b edition|\bfr\b edition", note):
        return True
    words = re.findall(r"\w+", _low(row, "text")[:1500])
    common = {"the", "of", "and", "to", "in", "le", "la", "les", "des", "du", "et"}
    return bool(words) and sum(w in common for w in words) / len(words) > 0.08


_MID = re.compile(r"mid-body|starts mid|mid body|mid-text|mid-article")
_MID_START = re.compile(r"(?:tham dự|tại (?:hội nghị|đại hội|buổi)|phát biểu|theo đó|đồng thời|cũng tại)\b")


def _mid_body(row: Row) -> bool:
    """The excerpt starts in the middle of an article: the note says so, or the text opens with a continuation."""
    first = unicodedata.normalize("NFC", str(row.get("text") or "")).lstrip(" \n\"'“-–•*")
    return bool(_MID.search(_low(row, "note"))) or bool(_MID_START.match(first.lower())) or first[:1].islower()


def _no_hoi_nghi(row: Row) -> bool:
    return row.get("label") == "meeting_report" and "hội nghị" not in _low(row, "headline") + _low(row, "text")


# (genre, test): the genres the issue names, plus the other large groups of look-alikes
GENRES: list[tuple[str, Callable[[Row], bool]]] = [
    ("tag / listing / round-up pages", _note(r"\btag\b", "listing", "splic", "round-up", "roundup", "category page")),
    ("history pages", _note("histor", r"các kỳ đại hội", "anniversary outline", others=True)),
    (
        "guides, plans, procedures, notices",
        _note("guid", "procedure", "how to", "how-to", r"\bplan\b", "notice", others=True),
    ),
    (
        "previews (future meeting)",
        _note("preview", "future", "coming", "countdown", "briefing", "upcoming", others=True),
    ),
    ("opinion, features, interviews", _note("opinion", "feature", "interview", "commentary", "column", others=True)),
    (
        "documents, resolutions, speeches",
        _note("document", "resolution", "circular", "full text", "speech", others=True),
    ),
    (
        "ceremonies, commendations, announcements",
        _note("ceremon", "commendation", "emulation congress", "announc", "founding", "gặp mặt", "award", others=True),
    ),
    ("working sessions", _note("working session", "buổi làm việc", "work visit")),
    ("workshops, seminars, dialogues", _note("workshop", "seminar", "hội thảo", "tọa đàm", "dialogue", "forum")),
    ("mid-body excerpts", _mid_body),
    ("reports without «hội nghị»", _no_hoi_nghi),
    ("English / French editions", _foreign),
    ("Party, council, government (not union)", lambda row: row.get("union_related") is False),
    ("marked Hard negative / Borderline", _note(r"^hard negative", r"^borderline")),
]


def genres_of(row: Row) -> list[str]:
    found = [name for name, test in GENRES if test(row)]
    return found or ["plain"]


def genre_table(rows: list[Row], errors: list[Miss]) -> list[str]:
    """The table (markdown lines) of out-of-fold report errors per genre; `errors` as Evaluation.errors lists them."""
    wrong = {m.id for m in errors if m.predicted == "none" or m.truth == "other"}  # not the kind errors
    table: dict[str, list[int]] = {}
    for row in rows:
        miss = str(row.get("id")) in wrong
        report = row["label"] == "meeting_report"
        for genre in genres_of(row):
            counts = table.setdefault(genre, [0, 0, 0, 0])
            counts[0] += 1
            counts[1] += report
            counts[2] += miss and report
            counts[3] += miss and not report
    lines = [
        "| genre | items | reports | missed reports | false reports | wrong |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for genre in [name for name, _ in GENRES] + ["plain"]:
        if genre in table:
            n, reports, missed, false = table[genre]
            lines.append(f"| {genre} | {n} | {reports} | {missed} | {false} | {(missed + false) / n:.0%} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--folds", type=int, default=10)
    args = parser.parse_args(argv)
    rows, _ = load_corpus(args.corpus)
    cv = cross_validate(rows, folds=args.folds, methods=("model",))
    ev = cv.by_kind_method["model"]
    print(f"out-of-fold errors by genre: {len(rows)} items, {args.folds} folds grouped by site; F1 {ev.f1:.3f}")
    print("\n".join(genre_table(rows, ev.errors)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
