"""Measure the meeting-report classifier: grouped cross-validation on the training corpus, and the held-out dev set.

    .venv/bin/python bench/classify.py [--corpus DIR] [--data PATH] [--folds 10] [--no-cv] [--errors] [--genres]
        [--no-headline]
    .venv/bin/python bench/classify.py --facts-split [--facts-errors]

1. Cross-validation on the corpus (corpus/meetings, read as `unionfeed train` reads it: malformed lines skipped,
   one row per URL, the dev set's URLs dropped): k folds grouped by site (GroupKFold over `domain`), each fold's
   model trained on the other folds and applied as the shipped model is. P / R / F1, kind accuracy by the kind
   rules and by the kind model, the confusion of kinds, facts agreement.
2. The dev set (../shared/labeled/dev.jsonl) as a pure test set: the model trained on the whole corpus (the
   shipped artifact; the bench checks it is the corpus's), never on dev. Same figures, plus speed (articles/s on
   one core, CPU time) and the model's load time.

Skips a part with a message when its data is absent.

The facts split (evaluate.facts_half: the corpus's sites in two halves by a fixed seed): the cross-validation
prints org / period / held_on on the "development" half (whose misses the facts rules were written from: in-sample)
and on the "held_out" half (never read item by item: the honest figure). `--facts-split` prints only those two,
quickly, with the shipped model deciding which items are reports (its report decision is in-sample, the facts
are rules); `--facts-errors` adds the facts misses of the development half, and never lists a held-out item.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from datetime import date
from pathlib import Path

from feed.classify.evaluate import (
    FACTS_HALVES,
    FACTS_SPLIT_SEED,
    Evaluation,
    confusion_table,
    cross_validate,
    evaluate,
    fact_agrees,
    facts_half,
    load_labeled,
    measure_speed,
)
from feed.classify.model import from_json, shipped_path
from feed.classify.train import corpus_digest, group_of, held_out_urls, items_of, load_corpus

ROOT = Path(__file__).resolve().parents[1]
# ../shared beside the repository holds the labelled set; it is read there, never copied into the project.
DEV_SET = ROOT.parent / "shared" / "labeled" / "dev.jsonl"
SEEDS = ROOT.parent / "shared" / "seeds"  # five full articles (5-12 kB): the speed of whole pages
CORPUS = ROOT / "corpus" / "meetings"


def _figures(ev: Evaluation, *, errors: bool) -> None:
    print(
        f"  meeting_report  precision {ev.precision:.3f}  recall {ev.recall:.3f}  F1 {ev.f1:.3f}"
        f"   (tp {ev.tp}, fp {ev.fp}, fn {ev.fn}, tn {ev.tn})"
    )
    print(
        f"  kind accuracy   {ev.kind_accuracy:.3f} on {ev.tp} items that are reports by truth and prediction;"
        f" {ev.kind_accuracy_all:.3f} on all {ev.tp + ev.fn} truth positives"
    )
    facts = ev.facts
    agree = "  ".join(
        f"{k} {facts[k + '_agree']}/{facts[k + '_labelled']} ({ev.fact_accuracy(k):.3f})"
        for k in ("org", "period", "held_on")
    )
    print(f"  facts (found reports, evaluate.fact_agrees): {agree}")
    print("  confusion of kinds (rows: truth, columns: prediction)")
    print("    " + confusion_table(ev).replace("\n", "\n    "))
    if errors:
        print("  misclassified")
        for miss in ev.errors:
            print(f"    {miss.id}  truth {miss.truth:<16} predicted {miss.predicted:<16} {miss.reason}")


def _halves(ev: Evaluation, rows: list[dict]) -> None:
    """Facts agreement on each half of the facts split."""
    sites = {h: len({group_of(r) for r in rows if facts_half(r) == h}) for h in FACTS_HALVES}
    for h in FACTS_HALVES:
        agree = "  ".join(
            f"{k} {ev.facts[f'{h}:{k}_agree']}/{ev.facts[f'{h}:{k}_labelled']} ({ev.fact_accuracy(f'{h}:{k}'):.3f})"
            for k in ("org", "period", "held_on")
        )
        said = "in-sample: the facts rules were read on it" if h == "development" else "never read: the honest figure"
        print(f"  facts, {h} half ({sites[h]} sites; {said}): {agree}")


def _facts_split(rows: list[dict], *, errors: bool) -> int:
    """Facts of the truth reports the shipped model finds, per half of the facts split; with errors, the misses
    of the development half only."""
    from feed.classify.classifier import classify

    print(f"\n== facts split (seed {FACTS_SPLIT_SEED!r}, sites hashed in two halves); shipped model")
    ev = evaluate(rows, speed=False, half=facts_half)
    _halves(ev, rows)
    if errors:
        print("  facts misses, development half only")
        for row in rows:
            if row["label"] != "meeting_report" or facts_half(row) != "development":
                continue
            got = classify(row.get("headline"), row.get("text") or "").to_json()
            if not got.get("is_report"):
                continue
            for name, key in (("org", "org"), ("period", "period"), ("held_on", "held_on_text")):
                want = row.get(name)
                if want and not fact_agrees(name, want, got.get(key)) and re.sub(r"\([^)]*\)", "", want).strip():
                    print(f"    {row['id']}  {name:<8} want «{want}»  got «{got.get(key)}»")
    return 0


def _load_time() -> float:
    """Seconds to read and parse the shipped artifact (best of 3)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        from_json(json.loads(shipped_path().read_text(encoding="utf-8")))
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEV_SET, help="held-out labelled JSON Lines (default: dev set)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="training corpus folder (default corpus/meetings)")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validation")
    parser.add_argument("--errors", action="store_true", help="list misclassified ids with a short reason")
    parser.add_argument("--no-headline", action="store_true", help="give the classifier the text only, no headline")
    parser.add_argument("--facts-split", action="store_true", help="only the facts on the two halves of the split")
    parser.add_argument("--facts-errors", action="store_true", help="with --facts-split: the development half's misses")
    parser.add_argument("--genres", action="store_true", help="the out-of-fold errors per genre (classify_genres.py)")
    args = parser.parse_args(argv)
    headline = not args.no_headline
    print(f"{date.today().isoformat()}; headline given: {headline}")
    rows, report = load_corpus(args.corpus, held_out_urls(args.data))
    if args.facts_split:
        return _facts_split(rows, errors=args.facts_errors)
    if not args.no_cv and rows:
        cv = cross_validate(
            rows, folds=args.folds, headline=headline, methods=("rules", "model", "hybrid"), half=facts_half
        )
        positives = sum(r["label"] == "meeting_report" for r in rows)
        print(
            f"\n== {args.folds}-fold cross-validation, grouped by site: {args.corpus} ({len(rows)} items, {positives}"
            f" reports, {cv.sites} sites; {report.duplicates} duplicate URLs, {report.malformed} malformed lines,"
            f" {report.held_out} dev URLs dropped)"
        )
        for method, ev in cv.by_kind_method.items():
            right, total = cv.kind_all[method]
            print(
                f"kind by {method:<6}: {ev.kind_accuracy:.3f} of found reports; {right}/{total} ="
                f" {right / max(1, total):.3f} of every truth report, whatever the report model said"
            )
        shipped = json.loads(shipped_path().read_text(encoding="utf-8"))
        method = shipped["kind"]["method"]
        print(f"-- with the shipped kind method ({method}):")
        _figures(cv.by_kind_method[method], errors=args.errors)
        _halves(cv.by_kind_method[method], rows)
        if args.genres:
            from classify_genres import genre_table  # beside this script

            print("  out-of-fold report errors by genre (an item can be in several genres):")
            print("    " + "\n    ".join(genre_table(rows, cv.by_kind_method[method].errors)))
    elif not rows:
        print(f"\nskipped cross-validation: no corpus in {args.corpus}")
    if not args.data.exists():
        print(f"\nskipped dev set: {args.data} not found (the labelled set lives in ../shared beside the repository)")
        return 0
    data = shipped_path().read_bytes()
    trained_on = json.loads(data)["training"]["corpus_digest"]
    fresh = bool(rows) and trained_on == corpus_digest(items_of(rows))
    dev = load_labeled(args.data)
    ev = evaluate(dev, headline=headline)
    print(
        f"\n== held-out dev set: {args.data} ({ev.n} items, {ev.tp + ev.fn} reports); shipped model"
        f" sha256 {hashlib.sha256(data).hexdigest()[:16]}…, trained on "
        + ("this corpus" if fresh else "ANOTHER corpus state: run `unionfeed train` first")
    )
    _figures(ev, errors=args.errors)
    print(f"speed           {ev.articles_per_s:,.0f} excerpts/s (dev excerpts, one core, CPU time, best of 5)")
    seeds = sorted(SEEDS.glob("*.txt"))
    if seeds:
        full = []
        for path in seeds:
            title, _, text = path.read_text(encoding="utf-8").partition("\n")
            full.append({"headline": title.strip(), "text": text})
        print(
            f"                {measure_speed(full):,.0f} full articles/s (the {len(full)} seed articles, 5-12 kB each)"
        )
    print(f"model load      {_load_time() * 1000:.0f} ms ({len(data) / 1e6:.2f} MB artifact)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
