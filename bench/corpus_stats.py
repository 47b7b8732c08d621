"""Counts of the labelled meeting corpus (corpus/meetings), as Markdown tables for its README.

    .venv/bin/python bench/corpus_stats.py [--corpus DIR]

Read as `unionfeed train` reads the corpus (one row per URL). Prints: items per label and kind, hard negatives
and borderline items, union-related share, languages, the years the texts name, and the sites.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

from feed.classify.train import group_of, load_corpus
from feed.records import MEETING_KINDS

ROOT = Path(__file__).resolve().parents[1]
_VI_LETTERS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]")
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
_FRENCH = re.compile(r"\b(?:le|la|les|des|du|et|une|pour|dans|avec)\b")
_YEAR = re.compile(r"(?<!\d)(20[012]\d)(?!\d)")


def language(text: str) -> str:
    """vi, en, fr or cjk, by letters and function words (good enough for counting)."""
    if len(_CJK.findall(text)) > 20:
        return "cjk"
    if len(_VI_LETTERS.findall(text.lower())) > 20:
        return "vi"
    return "fr" if len(_FRENCH.findall(text.lower())) > 10 else "en"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus" / "meetings")
    args = parser.parse_args(argv)
    rows, report = load_corpus(args.corpus)
    labels = Counter(r["label"] for r in rows)
    kinds = Counter(r["kind"] for r in rows if r["label"] == "meeting_report")
    notes = Counter(
        "hard negative" if (r.get("note") or "").startswith("Hard negative") else "borderline"
        for r in rows
        if (r.get("note") or "").startswith(("Hard negative", "Borderline"))
    )
    print(f"{len(rows)} items from {len(report.files)} files, {len({group_of(r) for r in rows})} sites")
    print(f"({report.duplicates} duplicate URLs, {report.malformed} malformed lines)\n")
    print("| label | items |\n| --- | --- |")
    for label, n in labels.most_common():
        print(f"| {label} | {n} |")
    print("\n| kind | reports |\n| --- | --- |")
    for kind in MEETING_KINDS:
        print(f"| {kind} | {kinds[kind]} |")
    union = sum(bool(r.get("union_related")) for r in rows)
    print(f"\nhard negatives {notes['hard negative']}, borderline {notes['borderline']}, union_related {union}")
    langs = Counter(language(r["text"]) for r in rows)
    print("languages: " + ", ".join(f"{k} {v}" for k, v in langs.most_common()))
    years = Counter(max(_YEAR.findall(r["text"]), default="none") for r in rows)
    print("latest year named in the text: " + ", ".join(f"{k} {years[k]}" for k in sorted(years)))
    sites = Counter(group_of(r) for r in rows)
    print("largest sites: " + ", ".join(f"{k} {v}" for k, v in sites.most_common(12)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
