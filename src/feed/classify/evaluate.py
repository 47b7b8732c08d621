"""Score the meeting-report classifier on a labelled set: P/R/F1, kind accuracy, a confusion table of kinds,
facts agreement and speed. The one home of the scoring rules: bench/classify.py prints these figures and
tests/test_classify_gate.py pins their floors; where the labelled set lives is theirs to say."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feed.classify.classifier import analyse, classify
from feed.classify.model import Model
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

    def fact_accuracy(self, name: str) -> float:
        """Share of the labelled `name` facts (org, period, held_on) of found reports read right (fact_agrees);
        `name` may carry a half of the facts split ("held_out:org", see facts_half)."""
        labelled = self.facts[f"{name}_labelled"]
        return self.facts[f"{name}_agree"] / labelled if labelled else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "kind_accuracy": round(self.kind_accuracy, 4),
            "kind_accuracy_all": round(self.kind_accuracy_all, 4),
            **{name: round(self.fact_accuracy(name), 4) for name in ("org", "period", "held_on")},
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


def evaluate(
    rows: list[dict[str, Any]],
    *,
    headline: bool = True,
    speed: bool = True,
    model: Model | None = None,
    ev: Evaluation | None = None,
    half: Callable[[dict[str, Any]], str] | None = None,
) -> Evaluation:
    """Run the classifier (with the shipped model, or the one given) over labelled rows and count (into ev).
    With `half` (facts_half), the facts are also counted per half ("development:org_agree", ...)."""
    ev = ev or Evaluation()
    ev.n += len(rows)
    for row in rows:
        title, text = article_of(row, headline=headline)
        meeting, why = analyse(title, text, model=model)
        truth = row["label"] == POSITIVE
        predicted_kind = str(meeting.kind) if meeting.is_report else "none"
        ev.confusion[(str(row.get("kind") or "other"), predicted_kind)] += 1
        if truth and meeting.is_report:
            ev.tp += 1
            ev.kind_right += meeting.kind == row.get("kind")
            _count_facts(ev.facts, row, meeting.to_json(), prefix=f"{half(row)}:" if half else "")
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
        ev.articles_per_s = measure_speed(rows, headline=headline, model=model)
    return ev


def measure_speed(
    rows: list[dict[str, Any]],
    *,
    headline: bool = True,
    rounds: int = 5,
    seconds: float = 0.6,
    model: Model | None = None,
) -> float:
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
        classify(title, text, model=model)
    best = 0.0
    for _ in range(rounds):
        done, start = 0, time.process_time()
        while time.process_time() - start < seconds:
            for title, text in articles:
                classify(title, text, model=model)
            done += len(articles)
        best = max(best, done / (time.process_time() - start))
    return best


# --- facts: the matching rule --------------------------------------------------------------------------------
#
# A labelled fact (org, period, held_on of a report found as a report) agrees with the one read when, both
# normalised (NFC, lower case, the annotator's parenthesised additions dropped, punctuation dropped, single
# spaces):
#   * org: one contains the other as whole words, and the shorter has at least half the words of the longer,
#     a label naming the meeting for its body compared as the body ("Đại hội XII Công đoàn Việt Nam" as
#     "Công đoàn Việt Nam");
#     ("Công đoàn" read for "Công đoàn Trường Đại học X" is a miss; "LĐLĐ tỉnh" for "LĐLĐ tỉnh Bắc Ninh" agrees);
#   * period: when the label has numbers, the same numbers in the same order ("2023-2028" and "nhiệm kỳ
#     2023 - 2028" agree, "2023" and "2023-2028" do not); else as org;
#   * held_on (against held_on_text): when the label has numbers, the same day and month (a year given on both
#     sides must be the same too: "Chiều 26/12" and "Chiều ngày 26/12/2023" agree; a clock time "13g30" is not
#     a day and is left out); else as org ("Sáng nay").
# A labelled fact with nothing read is a miss; a label that is only the annotator's addition in parentheses
# (taken from the URL or site, not written in the text) is not counted.


def _norm(text: str | None) -> str:
    text = unicodedata.normalize("NFC", (text or "").lower())
    text = re.sub(r"\([^)]*\)", " ", text)  # the annotator's additions from the URL
    return " ".join(re.findall(r"\w+", text))


def _contains(want: str, have: str) -> bool:
    w, h = f" {want} ", f" {have} "
    if not want.strip() or not have.strip():
        return False
    short, long_ = sorted((want.split(), have.split()), key=len)
    return (w in h or h in w) and 2 * len(short) >= len(long_)


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


_CLOCK = re.compile(r"\b\d{1,2}\s*(?:g|h|giờ|:)\s*\d{0,2}(?:\s*phút)?\b")


def _same_day(want: str, have: str) -> bool:
    w, h = _numbers(_CLOCK.sub(" ", want)), _numbers(_CLOCK.sub(" ", have))
    wy, hy = [n for n in w if n >= 1900], [n for n in h if n >= 1900]
    w, h = [n for n in w if n < 1900], [n for n in h if n < 1900]
    return bool(w) and w[:2] == h[:2] and (not wy or not hy or wy[:1] == hy[:1])


# "Đại hội XII Công đoàn Việt Nam", "Đại hội đại biểu Đoàn TNCS ... lần thứ XII": the meeting named for its body
_MEETING_NAME = re.compile(
    r"^(?:đại hội|hội nghị)(?: đại biểu)?(?: toàn quốc)?(?: [ivxlc]+)?\s+|\s+lần thứ [ivxlc\d]+$|\s+nhiệm kỳ [\d ]+$"
)


def fact_agrees(name: str, want: str | None, have: str | None) -> bool:
    """The matching rule above, for one fact."""
    w, h = _norm(want), _norm(have)
    if name == "org":
        w, h = _MEETING_NAME.sub("", w), _MEETING_NAME.sub("", h)
    if not w or not h:
        return False
    if name == "period" and re.search(r"\d", w):
        return _numbers(w) == _numbers(h)
    if name == "held_on" and re.search(r"\d", w):
        return _same_day(w, h)
    return _contains(w, h)


def _count_facts(counter: Counter[str], row: dict[str, Any], got: dict[str, Any], prefix: str = "") -> None:
    """Agreement of org / period / held_on_text with the labels (fact_agrees); with a prefix (a half of the
    facts split), counted both overall and under the prefix."""
    pairs = {
        "org": (row.get("org"), got.get("org")),
        "period": (row.get("period"), got.get("period")),
        "held_on": (row.get("held_on"), got.get("held_on_text")),
    }
    for name, (want, have) in pairs.items():
        if not _norm(want):  # unlabelled, or only the annotator's additions "(Trường X)": nothing to read
            continue
        agrees = fact_agrees(name, want, have)
        for key in {name, f"{prefix}{name}"}:
            counter[f"{key}_labelled"] += 1
            counter[f"{key}_agree"] += agrees


# --- the facts split: a development half of the sites and a held-out half ----------------------------------------
#
# The facts readers are rules written while reading labelled items, so figures on the items read are in-sample.
# The corpus's sites are split in two with a fixed seed: facts rules are written only from the misses of the
# "development" half; the "held_out" half is never printed or read item by item, and its figure is the honest
# one. A site's half depends on the seed and its own name only (a hash), so adding items or sites moves no site.

FACTS_SPLIT_SEED = "unionfeed-facts-split-2026-12-08"
FACTS_HALVES = ("development", "held_out")


def facts_half(row: dict[str, Any]) -> str:
    """ "development" or "held_out": the half of the facts split the row's site falls in (see above)."""
    from feed.classify.train import group_of

    digest = hashlib.sha256(f"{FACTS_SPLIT_SEED}:{group_of(row)}".encode()).digest()
    return FACTS_HALVES[digest[0] & 1]


# --- cross-validation on the training corpus ------------------------------------------------------------------


@dataclass
class CrossValidation:
    """Grouped k-fold figures: per kind method ("rules", "model"), one Evaluation summed over the folds."""

    folds: int
    sites: int
    by_kind_method: dict[str, Evaluation]
    kind_all: dict[str, tuple[int, int]]  # kind method -> (right, truth positives) over every truth report


def cross_validate(
    rows: list[dict[str, Any]],
    *,
    folds: int = 10,
    headline: bool = True,
    methods: tuple[str, ...] = ("rules", "model"),
    fit_options: dict[str, Any] | None = None,
    half: Callable[[dict[str, Any]], str] | None = None,
) -> CrossValidation:
    """k-fold cross-validation with folds grouped by site (sklearn GroupKFold over `domain`): each fold's model
    is trained on the other folds only, then exported and applied as the shipped model is. The kind is measured
    by each of `methods`: the kind rules ("rules") and the kind model ("model"), also over every truth report
    whatever the report model said."""
    from feed.classify.model import from_json
    from feed.classify.train import fit, items_of, require_sklearn

    group_k_fold = require_sklearn().model_selection.GroupKFold

    items = items_of(rows)
    groups = [it.group for it in items]
    evs = {m: Evaluation() for m in methods}
    kind_all = {m: [0, 0] for m in methods}
    options = {"kind_method": "model" if {"model", "hybrid"} & set(methods) else "rules", **(fit_options or {})}
    for train_at, test_at in group_k_fold(n_splits=folds).split(items, groups=groups):
        learned = from_json(fit([items[i] for i in train_at], **options))
        models = {
            "model": learned,
            "rules": from_json(fit_as_rules(learned, "rules")),
            "hybrid": from_json(fit_as_rules(learned, "hybrid")),
        }
        test = [rows[i] for i in test_at]
        for method in methods:
            evaluate(test, headline=headline, speed=False, model=models[method], ev=evs[method], half=half)
        for i in test_at:
            it = items[i]
            if not it.positive:
                continue
            for method in methods:
                kind_all[method][1] += 1
                if it.article is None:
                    continue
                if method == "rules" or (method == "hybrid" and it.rule_fired):
                    guess = it.rule_kind
                else:
                    guess = learned.kind(it.article)
                kind_all[method][0] += guess == it.kind
    return CrossValidation(folds, len(set(groups)), evs, {k: (v[0], v[1]) for k, v in kind_all.items()})


def fit_as_rules(model: Model, method: str = "rules") -> dict[str, Any]:
    """The artifact of a model (whose kind model was fitted) with its kind decided by `method` instead."""
    return {
        **model.meta,
        "report": {
            "intercept": model.intercept,
            "threshold": model.threshold,
            "vetoes": list(model.vetoes),
            "weights": model.weights,
        },
        "kind": {"method": "rules"}
        if method == "rules"
        else {
            "method": method,
            "classes": list(model.kinds),
            "intercepts": list(model.kind_intercepts),
            "weights": model.kind_weights,
        },
    }


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
