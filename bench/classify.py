"""Measure the meeting-report classifier on the labelled dev set.

    .venv/bin/python bench/classify.py [--data PATH] [--errors] [--no-headline]

Prints precision / recall / F1 for meeting reports, kind accuracy (on items that are reports by truth and by
prediction, and on every truth positive), a confusion table of kinds, facts agreement, and articles/s on one
core.  Skips with a message when ../shared is absent.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from feed.classify.evaluate import confusion_table, evaluate, load_labeled

# ../shared beside the repository holds the labelled set; it is read there, never copied into the project.
DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "labeled" / "dev.jsonl"


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEV_SET, help="labelled JSON Lines (default: dev set)")
    parser.add_argument("--errors", action="store_true", help="list misclassified ids with a short reason")
    parser.add_argument("--no-headline", action="store_true", help="give the classifier the text only, no headline")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"skipped: {args.data} not found (the labelled set lives in ../shared beside the repository)")
        return 0
    rows = load_labeled(args.data)
    ev = evaluate(rows, headline=not args.no_headline)
    print(f"data: {args.data} ({ev.n} items, {ev.tp + ev.fn} meeting reports) — {date.today().isoformat()}")
    print(f"headline given: {not args.no_headline}")
    print(
        f"meeting_report  precision {ev.precision:.3f}  recall {ev.recall:.3f}  F1 {ev.f1:.3f}"
        f"   (tp {ev.tp}, fp {ev.fp}, fn {ev.fn}, tn {ev.tn})"
    )
    print(
        f"kind accuracy   {ev.kind_accuracy:.3f} on {ev.tp} items that are reports by truth and prediction;"
        f" {ev.kind_accuracy_all:.3f} on all {ev.tp + ev.fn} truth positives"
    )
    facts = ev.facts
    agree = "  ".join(f"{k} {facts[k + '_agree']}/{facts[k + '_labelled']}" for k in ("org", "period", "held_on"))
    print(f"facts agreement (found reports, loose match): {agree}")
    print(f"speed           {ev.articles_per_s:,.0f} articles/s (one core)")
    print("\nconfusion of kinds (rows: truth, columns: prediction)")
    print(confusion_table(ev))
    if args.errors:
        print("\nmisclassified")
        for miss in ev.errors:
            print(f"  {miss.id}  truth {miss.truth:<16} predicted {miss.predicted:<16} {miss.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
