"""Train the meeting-report model (`unionfeed train`): read the labelled corpus (corpus/meetings/*.jsonl), compute
every article's features (feed.classify.features, through the cue grammar of feed.classify.classifier), fit a
logistic regression (scikit-learn's liblinear, fixed seed) and write the artifact feed.classify.model reads.

scikit-learn is needed here only (`pip install 'unionfeed[train]'`); inference is a dot product over the artifact.
The artifact is written deterministically (sorted keys, rounded weights, no timestamps): the same corpus gives
the same bytes, and tests/test_classify_train.py checks that the shipped artifact is the one the corpus gives.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feed.classify.classifier import read
from feed.classify.features import Features
from feed.classify.model import FORMAT, LEARNED_KINDS, feature_spec
from feed.lang.urls import identity_key
from feed.records import MEETING_KINDS

POSITIVE = "meeting_report"
LABELS = (POSITIVE, "other")
SEED = 0
# Chosen by the grouped cross-validation on the corpus (bench/classify.py --cv), never on the dev set.
C_REPORT = 4.0
C_KIND = 4.0
THRESHOLD = 0.5
MIN_DF = 2  # a feature must occur in this many training articles to get a weight
KIND_METHOD = "model"  # "rules", "model" or "hybrid": what measured best under cross-validation (docs/classify.md)
VETOES: tuple[str, ...] = ("ceremony",)
# the feature families the kind model reads (char n-grams left out: they add 38k weights a kind, and nothing
# measurable to the kind under cross-validation; docs/classify.md)
KIND_FEATURES = ("cue|", "g|", "s|", "w|")  # likewise: the meeting reported is a ceremony -> not a report
DIGITS = 4  # weights are rounded to this many decimals
# Fitting scales (issue 14, fifth round; docs/classify.md). Under L2 a feature scaled by s is penalised as if by
# 1/s^2: the fit sees value x s, and the artifact stores weight x s, so inference reads the unscaled features.
# The report model's cue, grammar and structure features at half scale (the n-grams at 1). Grouped cross-validation
# prefers 0.25 (F1 0.869 against 0.861 at 0.5 and 0.852 at 1, same folds; 0.8675 by nested selection), but at 0.25
# a programme invitation ("Thông báo tổ chức Hội nghị …, trân trọng kính mời") reads as a report
# (tests/test_classify.py), so 0.5.
SCALAR_SCALE = 0.5


class TrainingUnavailable(RuntimeError):
    """scikit-learn is not installed."""


def require_sklearn() -> Any:
    """scikit-learn, imported here only (inference must not need it), or a plain error saying how to get it."""
    try:
        import sklearn.linear_model
        import sklearn.model_selection
    except ImportError as exc:
        raise TrainingUnavailable(
            "training needs scikit-learn: pip install 'unionfeed[train]' (inference does not)"
        ) from exc
    import sklearn

    return sklearn


def library_versions() -> dict[str, str]:
    """The versions of the libraries that fit the model."""
    from importlib.metadata import version

    return {name: version(name) for name in ("scikit-learn", "scipy", "numpy")}


# --- the corpus ---------------------------------------------------------------------------------------------


@dataclass
class CorpusReport:
    """What reading the corpus found."""

    files: list[str]
    lines: int = 0
    malformed: int = 0
    duplicates: int = 0
    held_out: int = 0  # rows whose URL is in the held-out test set, dropped


def _valid(row: Any) -> bool:
    return (
        isinstance(row, dict)
        and row.get("label") in LABELS
        and isinstance(row.get("text"), str)
        and bool(row["text"].strip())
        and isinstance(row.get("url"), str)
        and (row["label"] != POSITIVE or row.get("kind") in MEETING_KINDS)
    )


def url_key(url: str) -> str:
    return identity_key(url.strip())


def held_out_urls(path: Path | None) -> set[str]:
    """URL keys of a labelled test set (JSON Lines with `url`), never trained on; empty when absent."""
    if path is None or not path.exists():
        return set()
    keys = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("url"), str):
            keys.add(url_key(row["url"]))
    return keys


def load_corpus(folder: Path, holdout: set[str] | None = None) -> tuple[list[dict[str, Any]], CorpusReport]:
    """Every labelled row of folder/*.jsonl: malformed lines skipped, one row per URL (the first, in file-name
    and line order), URLs of the held-out set dropped; sorted by URL key so that file order never matters."""
    files = sorted(folder.glob("*.jsonl"))
    report = CorpusReport(files=[f.name for f in files])
    seen: dict[str, dict[str, Any]] = {}
    holdout = holdout or set()
    for path in files:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            report.lines += 1
            try:
                row = json.loads(line)
            except ValueError:
                report.malformed += 1
                continue
            if not _valid(row):
                report.malformed += 1
                continue
            key = url_key(row["url"])
            if key in holdout:
                report.held_out += 1
            elif key in seen:
                report.duplicates += 1
            else:
                seen[key] = row
    return [seen[k] for k in sorted(seen)], report


def group_of(row: dict[str, Any]) -> str:
    """The site an article comes from (cross-validation folds never split a site)."""
    domain = str(row.get("domain") or "").lower().strip()
    if not domain:
        domain = url_key(str(row.get("url", ""))).split("/")[0]
    return domain.removeprefix("www.")


# --- features ------------------------------------------------------------------------------------------------


@dataclass
class Item:
    """One training article: its features (None: no meeting word, never a report), label, kind, site."""

    key: str
    features: dict[str, float] | None  # by name (features.Features.flat)
    positive: bool
    kind: str | None
    rule_kind: str | None
    rule_fired: bool  # a kind rule fired (else the rules fall back to other_meeting)
    group: str
    article: Features | None = None  # the same features, as the model reads them


def items_of(rows: Sequence[dict[str, Any]], progress: Callable[[int], None] | None = None) -> list[Item]:
    """Read every row with the cue grammar and compute its features (the headline is the title)."""
    out = []
    for i, row in enumerate(rows):
        reading = read(row.get("headline"), row.get("text") or "")
        positive = row["label"] == POSITIVE
        out.append(
            Item(
                url_key(row["url"]),
                reading.features.flat() if reading.features is not None else None,
                positive,
                row.get("kind") if positive else None,
                reading.kind if reading.features is not None else None,
                bool(reading.rule),
                group_of(row),
                reading.features,
            )
        )
        if progress:
            progress(i + 1)
    return out


def _vocabulary(features: Iterable[dict[str, float]], min_df: int) -> list[str]:
    df: Counter[str] = Counter()
    for f in features:
        df.update(f.keys())
    return sorted(name for name, n in df.items() if n >= min_df)


def _matrix(features: Sequence[dict[str, float]], index: dict[str, int]) -> Any:
    from scipy.sparse import csr_matrix  # scikit-learn's own dependency

    data: list[float] = []
    cols: list[int] = []
    indptr = [0]
    for f in features:
        row = sorted((index[n], v) for n, v in f.items() if n in index)
        cols.extend(c for c, _ in row)
        data.extend(v for _, v in row)
        indptr.append(len(cols))
    return csr_matrix((data, cols, indptr), shape=(len(features), len(index)), dtype="float64")


def _scaling(vocab: Sequence[str], scale: Callable[[str], float]) -> Any:
    """The per-column scales of a vocabulary (a numpy vector)."""
    import numpy  # scikit-learn's own dependency

    return numpy.array([scale(name) for name in vocab], dtype="float64")


def _scaled(x: Any, scales: Any) -> Any:
    from scipy.sparse import diags

    return x @ diags(scales)


def report_scale(name: str, scalar_scale: float = SCALAR_SCALE) -> float:
    """How the report model's fit scales a feature: n-gram blocks 1, the cue, grammar and structure scalars less."""
    return 1.0 if name.startswith(("w|", "c|")) else scalar_scale


def _r(x: float) -> float:
    value = round(float(x), DIGITS)
    return 0.0 if value == 0 else value  # no "-0.0"


def fit(
    items: Sequence[Item],
    *,
    c_report: float = C_REPORT,
    c_kind: float = C_KIND,
    kind_method: str = KIND_METHOD,
    min_df: int = MIN_DF,
    vetoes: tuple[str, ...] = VETOES,
    kind_features: tuple[str, ...] = KIND_FEATURES,
    scalar_scale: float = SCALAR_SCALE,
) -> dict[str, Any]:
    """Fit the report model (and the kind model when kind_method is "model"); the artifact as a JSON object."""
    sklearn = require_sklearn()
    logistic = sklearn.linear_model.LogisticRegression
    usable = [it for it in items if it.features is not None]
    if len({it.positive for it in usable}) < 2:
        raise ValueError("the corpus needs both meeting reports and other articles that name a meeting")
    feats = [it.features for it in usable if it.features is not None]
    vocab = _vocabulary(feats, min_df)
    index = {name: i for i, name in enumerate(vocab)}
    scales = _scaling(vocab, lambda name: report_scale(name, scalar_scale))
    x = _scaled(_matrix(feats, index), scales)
    y = [1 if it.positive else 0 for it in usable]
    report = logistic(C=c_report, solver="liblinear", random_state=SEED, max_iter=1000)
    report.fit(x, y)
    weights = {name: w for name, coef in zip(vocab, report.coef_[0] * scales, strict=True) if (w := _r(coef))}
    kind: dict[str, Any] = {"method": kind_method}
    if kind_method in LEARNED_KINDS:
        kind.update(_fit_kind(usable, c_kind, min_df, kind_features, logistic))
    return {
        "format": FORMAT,
        "about": "Meeting-report model of unionfeed (docs/classify.md); written by `unionfeed train`, read by "
        "feed.classify.model. Weights are per feature name (feed.classify.features).",
        "features": feature_spec(),
        "report": {
            "intercept": _r(report.intercept_[0]),
            "threshold": THRESHOLD,
            "vetoes": list(vetoes),
            "weights": weights,
        },
        "kind": kind,
        "training": {
            "items": len(items),
            "items_with_a_meeting_word": len(usable),
            "positives": sum(it.positive for it in items),
            "sites": len({it.group for it in items}),
            "vocabulary": len(vocab),
            "min_df": min_df,
            "solver": "liblinear",
            "C_report": c_report,
            "C_kind": c_kind if kind_method in LEARNED_KINDS else None,
            "scalar_scale": scalar_scale,
            "seed": SEED,
            # the same corpus gives the same bytes with these versions (tests/test_classify_model.py)
            "libraries": library_versions(),
            "corpus_digest": corpus_digest(items),
        },
    }


def _fit_kind(
    usable: Sequence[Item], c_kind: float, min_df: int, prefixes: tuple[str, ...], logistic: Any
) -> dict[str, Any]:
    """A multinomial model of the kind, over the reports only and the feature families in `prefixes`."""
    reports = [it for it in usable if it.positive and it.kind]
    classes = sorted({str(it.kind) for it in reports})
    if len(classes) < 2:
        raise ValueError("the kind model needs reports of at least two kinds")
    feats = [{k: v for k, v in it.features.items() if k.startswith(prefixes)} for it in reports if it.features]
    vocab = _vocabulary(feats, min_df)
    index = {name: i for i, name in enumerate(vocab)}
    x = _matrix(feats, index)
    y = [classes.index(str(it.kind)) for it in reports]
    model = logistic(C=c_kind, solver="saga", random_state=SEED, max_iter=3000, tol=1e-4)
    model.fit(x, y)
    coef = model.coef_
    if len(classes) == 2:  # a binary model has one row: the second class against the first
        coef = [[-w for w in coef[0]], list(coef[0])]
        intercepts = [-model.intercept_[0], model.intercept_[0]]
    else:
        intercepts = list(model.intercept_)
    kind_weights = {}
    for j, name in enumerate(vocab):
        ws = [_r(coef[i][j]) for i in range(len(classes))]
        if any(ws):
            kind_weights[name] = ws
    return {"classes": classes, "intercepts": [_r(b) for b in intercepts], "weights": kind_weights}


def corpus_digest(items: Sequence[Item]) -> str:
    """What was trained on: a hash of every URL key with its label and kind, in order."""
    text = "\n".join(f"{it.key}\t{int(it.positive)}\t{it.kind or ''}" for it in items)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dumps(artifact: dict[str, Any]) -> str:
    """The artifact's one spelling: sorted keys, one weight a line, no timestamps."""
    return json.dumps(artifact, ensure_ascii=False, sort_keys=True, indent=1) + "\n"


@dataclass
class Trained:
    out: Path
    sha256: str
    corpus: CorpusReport
    items: int
    positives: int
    weights: int


def train(
    corpus: Path,
    out: Path,
    *,
    holdout: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> Trained:
    """Read the corpus, fit, write the artifact; the held-out set's URLs are never trained on."""
    require_sklearn()
    if not corpus.is_dir():
        raise FileNotFoundError(f"no corpus folder: {corpus}")
    rows, report = load_corpus(corpus, held_out_urls(holdout))
    if not rows:
        raise ValueError(f"no labelled rows in {corpus}/*.jsonl")
    items = items_of(rows, progress)
    artifact = fit(items)
    text = dumps(artifact)
    data = text.encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return Trained(
        out=out,
        sha256=hashlib.sha256(data).hexdigest(),
        corpus=report,
        items=len(items),
        positives=sum(it.positive for it in items),
        weights=len(artifact["report"]["weights"]),
    )
