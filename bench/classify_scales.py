"""Choose the report model's scalar scale (train.SCALAR_SCALE) by grouped cross-validation, flat and nested.

    .venv/bin/python bench/classify_scales.py [--corpus DIR] [--folds 10] [--inner 3] [--grid 0.25 0.5 1]

Flat: for each scale of the grid, the 10-fold grouped CV F1 of the report decision (folds by site, as
bench/classify.py). Nested: in each outer fold the scale is chosen by an inner grouped CV over the outer training
folds only (`--inner` groups of them), fitted on all of them and applied to the held-out fold; the pooled figure is
the honest estimate of "choose the scale by CV". The fits are train.fit's report model (liblinear, C, min_df, the
scale folded into the weights) on one shared matrix whose columns keep train's sorted-name order, and the decision
is the classifier's (no meeting word or a ceremony: not a report; else p >= 0.5). Only the corpus is read.
The fifth round's figures (docs/classify.md): flat 2 0.850, 1 0.852, 0.5 0.861, 0.25 0.869, 0.125 0.856; nested
(grid 0.25 / 0.5 / 1, 3 inner folds) 0.8675.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from feed.classify.train import C_REPORT, MIN_DF, SEED, _matrix, items_of, load_corpus, report_scale, require_sklearn

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "meetings"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--inner", type=int, default=3)
    parser.add_argument("--grid", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    args = parser.parse_args(argv)
    sklearn = require_sklearn()
    import numpy
    from scipy.sparse import diags

    rows, _ = load_corpus(args.corpus)
    items = items_of(rows)
    groups = [it.group for it in items]
    usable = [i for i, it in enumerate(items) if it.features is not None]
    at = {i: r for r, i in enumerate(usable)}
    vocab = sorted({n for i in usable for n in items[i].features or {}})
    x_all = _matrix([items[i].features or {} for i in usable], {n: j for j, n in enumerate(vocab)}).tocsr()
    seen = x_all.copy()
    seen.data[:] = 1.0
    y_all = numpy.array([int(items[i].positive) for i in usable])
    folds = list(sklearn.model_selection.GroupKFold(n_splits=args.folds).split(items, groups=groups))
    fold_of = {i: k for k, (_, test) in enumerate(folds) for i in test}

    def probabilities(scale: float, split: list[tuple[list[int], list[int]]]) -> dict[int, float]:
        out: dict[int, float] = {}
        for train, test in split:
            r_train, r_test = [at[i] for i in train if i in at], [at[i] for i in test if i in at]
            cols = numpy.flatnonzero(numpy.asarray(seen[r_train].sum(axis=0)).ravel() >= MIN_DF)
            scales = diags(numpy.array([report_scale(vocab[c], scale) for c in cols]))
            model = sklearn.linear_model.LogisticRegression(
                C=C_REPORT, solver="liblinear", random_state=SEED, max_iter=1000
            )
            model.fit(x_all[r_train][:, cols] @ scales, y_all[r_train])
            p = model.predict_proba(x_all[r_test][:, cols] @ scales)[:, 1]
            out.update(zip([usable[r] for r in r_test], p, strict=True))
        return out

    def f1(prob: dict[int, float], subset: Any) -> tuple[float, float, float]:
        tp = fp = fn = 0
        for i in subset:
            it = items[i]
            f = it.features or {}
            said = i in prob and "g|primary|none" not in f and not f.get("g|ceremonial") and prob[i] >= 0.5
            tp += said and it.positive
            fp += said and not it.positive
            fn += (not said) and it.positive
        p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
        return p, r, 2 * p * r / (p + r) if p + r else 0.0

    everything = range(len(items))
    for scale in args.grid:
        p, r, f = f1(probabilities(scale, [(list(a), list(b)) for a, b in folds]), everything)
        print(f"flat   scale {scale:g}: P {p:.4f} R {r:.4f} F1 {f:.4f}", flush=True)
    nested: dict[int, float] = {}
    chosen = []
    for k, (train, test) in enumerate(folds):
        others = [j for j in range(args.folds) if j != k]
        inner = []
        for a in range(args.inner):
            hold = set(others[a :: args.inner])
            inner.append(([i for i in train if fold_of[i] not in hold], [i for i in train if fold_of[i] in hold]))
        best = max(args.grid, key=lambda s: (f1(probabilities(s, inner), train)[2], -abs(s - 1)))
        chosen.append(best)
        nested.update(probabilities(best, [(list(train), list(test))]))
    p, r, f = f1(nested, everything)
    print(f"nested (inner {args.inner}-fold, grid {args.grid}): P {p:.4f} R {r:.4f} F1 {f:.4f}; chosen {chosen}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
