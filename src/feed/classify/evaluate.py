"""Score the meeting-report classifier on a labelled set: P/R/F1, kind accuracy, a confusion table of kinds,
facts agreement and speed. The one home of the scoring rules: bench/classify.py prints these figures and
tests/test_classify_gate.py pins their floors; where the labelled set lives is theirs to say."""

from __future__ import annotations

import json
import os
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feed.classify.classifier import analyse, classify
from feed.records import MEETING_KINDS

POSITIVE = "meeting_report"


def load_labeled(path: Path) -> list[dict[str, Any]]:
    """One labelled excerpt a line (see labeled/README.md)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@dataclass
class Miss:
    id: str
    truth: str
    predicted: str
    reason: str


@dataclass
class Evaluation:
    """Figures of one run over a labelled set."""

    n: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    kind_right: int = 0  # truth positive, predicted positive, same kind
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[Miss] = field(default_factory=list)
    facts: Counter[str] = field(default_factory=Counter)
    articles_per_s: float = 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def kind_accuracy(self) -> float:
        """Kind accuracy on items that are reports by truth AND by prediction."""
        return self.kind_right / self.tp if self.tp else 0.0

    @property
    def kind_accuracy_all(self) -> float:
        """Kind accuracy on every truth positive (a missed report counts as a wrong kind)."""
        return self.kind_right / (self.tp + self.fn) if self.tp + self.fn else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "kind_accuracy": round(self.kind_accuracy, 4),
            "kind_accuracy_all": round(self.kind_accuracy_all, 4),
        }


def article_of(row: dict[str, Any], *, headline: bool = True) -> tuple[str | None, str]:
    """(title, text) as the pipeline would see them: the headline when the excerpt has one, and the text."""
    return (row.get("headline") if headline else None), row.get("text") or ""


def _reason(why: dict[str, Any], top: int = 3) -> str:
    """The cues that weighed most, with the words they matched."""
    flat = [(stage, cue, w) for stage, cues in why["report"].items() for cue, w in cues.items()]
    ranked = sorted(flat, key=lambda f: -abs(f[2]))[:top]
    words = why.get("matched", {})
    return "; ".join(
        f"{stage} {w:+g} «{_short(' '.join(words.get(cue, cue).split()))}»" for stage, cue, w in ranked
    ) or why.get("note", "no cue fired")


def _short(cue: str) -> str:
    return cue if len(cue) <= 48 else cue[:45] + "…"


def evaluate(rows: list[dict[str, Any]], *, headline: bool = True, speed: bool = True) -> Evaluation:
    """Run the classifier over labelled rows and count."""
    ev = Evaluation(n=len(rows))
    for row in rows:
        title, text = article_of(row, headline=headline)
        meeting, why = analyse(title, text)
        truth = row["label"] == POSITIVE
        predicted_kind = str(meeting.kind) if meeting.is_report else "none"
        ev.confusion[(str(row.get("kind") or "other"), predicted_kind)] += 1
        if truth and meeting.is_report:
            ev.tp += 1
            ev.kind_right += meeting.kind == row.get("kind")
            _count_facts(ev.facts, row, meeting.to_json())
            if meeting.kind != row.get("kind"):
                kind = why.get("kind", {})
                rule, phrase = kind.get("rule") or "none matched", kind.get("phrase", "")[:70]
                ev.errors.append(Miss(row["id"], row["kind"], predicted_kind, f"kind rule «{rule}» on «{phrase}»"))
        elif truth:
            ev.fn += 1
            ev.errors.append(Miss(row["id"], row["kind"], "none", f"score {why['score']}: {_reason(why)}"))
        elif meeting.is_report:
            ev.fp += 1
            reason = why.get("veto") or _reason(why)
            ev.errors.append(Miss(row["id"], "other", predicted_kind, f"score {why['score']}: {reason}"))
        else:
            ev.tn += 1
    if speed:
        ev.articles_per_s = measure_speed(rows, headline=headline)
    return ev


def measure_speed(rows: list[dict[str, Any]], *, headline: bool = True, rounds: int = 5, seconds: float = 0.6) -> float:
    """Articles classified per second of CPU time on one core: the best of a few rounds, as timeit reports.

    The process is pinned to one CPU where the OS allows; CPU time (not wall time) keeps other work on a shared
    machine from counting against the classifier, and the best round is the one least disturbed by it.
    """
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        except OSError:
            pass
    articles = [article_of(r, headline=headline) for r in rows]
    for title, text in articles:  # warm the fold cache, as a running crawler has
        classify(title, text)
    best = 0.0
    for _ in range(rounds):
        done, start = 0, time.process_time()
        while time.process_time() - start < seconds:
            for title, text in articles:
                classify(title, text)
            done += len(articles)
        best = max(best, done / (time.process_time() - start))
    return best


def _norm(text: str | None) -> str:
    text = unicodedata.normalize("NFC", (text or "").lower())
    text = re.sub(r"\([^)]*\)", " ", text)  # the annotator's additions from the URL
    return " ".join(re.findall(r"\w+", text))


def _count_facts(counter: Counter[str], row: dict[str, Any], got: dict[str, Any]) -> None:
    """Agreement of org / period / held_on_text with the labels (loose: one contains the other)."""
    pairs = {
        "org": (row.get("org"), got.get("org")),
        "period": (row.get("period"), got.get("period")),
        "held_on": (row.get("held_on"), got.get("held_on_text")),
    }
    for name, (want, have) in pairs.items():
        if not want:
            continue
        counter[f"{name}_labelled"] += 1
        w, h = _norm(want), _norm(have)
        if name == "period" and re.search(r"\d", w):  # "2020 - 2021" and "năm học 2020-2021" agree
            w, h = " ".join(re.findall(r"\d+", w)), " ".join(re.findall(r"\d+", h))
        if h and w and (w in h or h in w):
            counter[f"{name}_agree"] += 1


def confusion_table(ev: Evaluation) -> str:
    """Truth kinds down, predicted kinds across ("none": not predicted a report)."""
    truth = [*MEETING_KINDS, "other"]
    cols = [*MEETING_KINDS, "none"]
    short = {k: k.replace("hoi_nghi_", "hn_")[:10] for k in cols}
    lines = ["truth \\ pred".ljust(16) + "".join(short[c].rjust(11) for c in cols)]
    for t in truth:
        cells = "".join(str(ev.confusion.get((t, c), 0) or ".").rjust(11) for c in cols)
        lines.append(t.replace("hoi_nghi_", "hn_").ljust(16) + cells)
    return "\n".join(lines)
