"""Extraction benchmark: unionfeed's extractor beside trafilatura alone, on the same pages in the same run.

    python bench/extract.py                      # ../shared/realpages (article pages) and ../shared/aeb
    python bench/extract.py --set realpages      # one set; --aeb-limit N for a quick look; --json FILE for figures
    python bench/extract.py --set aeb --rounds 0 # aeb quality only, without the interleaved speed rounds

Real pages: the manifest's article pages only (home pages and RSS files are not articles), scored against
bench/truth/realpages.json, a truth written by reading each page. Two runs of unionfeed: "generic" (no site
selectors, as for a source with no profile) and "selectors" (the selectors an operator would write for the site,
kept beside the truth). External benchmark (aeb): body only, with that benchmark's metric: 4-gram word shingles
with counts, per-page precision/recall normalised per page, means over pages, F1 of the means. Then the aeb speed
line: both extractors timed page by page in turn (bytes in, parse included), in three rounds; the ratio printed is
trafilatura's time over ours, the median of the rounds (CPU-time ratio beside it: the machine is shared).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import trafilatura
from lxml import html as lxml_html
from parsel import Selector

from feed.config.sources import Selectors
from feed.extract.article import decode_page, extract
from feed.lang.dates import parse_vn_datetime

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TRUTH = ROOT / "bench" / "truth" / "realpages.json"
FIELDS = ("title", "published", "author", "lead")
_WORD = re.compile(r"\w+")
# Block elements that break lines when a truth body is read off its page.
TRUTH_BLOCKS = frozenset(
    {
        "p",
        "div",
        "br",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "blockquote",
        "tr",
        "td",
        "section",
        "article",
        "figure",
        "table",
        "ul",
        "ol",
        "pre",
        "center",
        "dd",
        "dt",
        "figcaption",
    }
)


@dataclass
class Page:
    """One benchmark page: raw bytes, its URL and what a person marked as its fields."""

    name: str
    data: bytes
    url: str
    truth: dict[str, Any]
    selectors: Selectors | None = None


@dataclass
class Result:
    """What one extractor returned for one page, and how long it took."""

    fields: dict[str, Any]
    seconds: float
    method: str = ""


@dataclass
class Run:
    """One extractor over one set of pages."""

    name: str
    results: list[Result] = field(default_factory=list)


# --- the benchmark's body metric -------------------------------------------------------------------------------


def shingles(text: str | None, n: int = 4) -> Counter[tuple[str, ...]]:
    """Word n-grams of a text with their counts (a text shorter than n gives one short shingle)."""
    words = _WORD.findall(text or "")
    return Counter(tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1)) if words[i : i + n])


def tp_fp_fn(truth: str | None, predicted: str | None) -> tuple[float, float, float]:
    """Shingle matches between truth and prediction, normalised so that every page weighs the same."""
    want, got = shingles(truth), shingles(predicted)
    tp = sum((want & got).values())
    fp = sum(got.values()) - tp
    fn = sum(want.values()) - tp
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def body_scores(counts: list[tuple[float, float, float]]) -> dict[str, float]:
    """Mean precision over pages with a prediction, mean recall over pages with a truth, F1 of the two means."""

    def ratio(hit: float, miss: float, other: float) -> float:
        if miss == other == 0:
            return 1.0
        return hit / (hit + miss) if hit + miss else 0.0

    precision = [ratio(tp, fp, fn) for tp, fp, fn in counts if tp + fp > 0]
    recall = [ratio(tp, fn, fp) for tp, fp, fn in counts if tp + fn > 0]
    p = statistics.mean(precision) if precision else 0.0
    r = statistics.mean(recall) if recall else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


# --- field comparison --------------------------------------------------------------------------------------------


def norm(text: Any) -> str:
    """Comparable form of a field: NFC, case folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", str(text or "")).casefold().split())


def text_key(text: Any) -> str | None:
    """The short hash the truth file keeps instead of a page's own text (leads, dropped lines)."""
    return hashlib.sha1(norm(text).encode("utf-8")).hexdigest()[:16] if text else None


def same_minute(truth: str | None, found: datetime | str | None) -> bool:
    """Equal to the minute with the same UTC offset (a right wall clock in the wrong zone is wrong)."""
    if not truth or not found:
        return not truth and not found
    want = datetime.fromisoformat(truth)
    got = found if isinstance(found, datetime) else parse_vn_datetime(str(found))
    if got is None or got.utcoffset() is None:
        return False
    return (
        want.replace(second=0, microsecond=0) == got.replace(second=0, microsecond=0)
        and want.utcoffset() == got.utcoffset()
    )


def field_hits(truth: dict[str, Any], found: dict[str, Any]) -> dict[str, bool]:
    """Which of title, published, author and lead came out exactly right."""
    return {
        "title": norm(truth.get("title")) == norm(found.get("title")),
        "published": same_minute(truth.get("published"), found.get("published")),
        "author": norm(truth.get("author")) == norm(found.get("author")),
        "lead": (
            text_key(found.get("lead")) == truth["lead_sha1"]
            if "lead_sha1" in truth
            else norm(truth.get("lead")) == norm(found.get("lead"))
        ),
    }


# --- extractors --------------------------------------------------------------------------------------------------


def run_unionfeed(page: Page, with_selectors: bool) -> Result:
    """unionfeed's extract() on one page."""
    start = time.perf_counter()
    art = extract(page.data, page.url, selectors=page.selectors if with_selectors else None)
    seconds = time.perf_counter() - start
    found = {
        "title": art.title,
        "published": art.published_at,
        "author": art.author,
        "lead": art.lead,
        "body": art.body_text,
    }
    return Result(found, seconds, art.method)


def run_trafilatura(page: Page) -> Result:
    """trafilatura alone: one bare_extraction call with metadata, as a caller with no site knowledge would make."""
    start = time.perf_counter()
    doc = trafilatura.bare_extraction(page.data, url=page.url, with_metadata=True, include_comments=False)
    seconds = time.perf_counter() - start
    data = (doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)) if doc is not None else {}
    found = {
        "title": data.get("title"),
        "published": data.get("date"),
        "author": data.get("author"),
        "lead": data.get("description"),
        "body": data.get("text") or "",
    }
    return Result(found, seconds, "trafilatura")


def run_all(name: str, pages: list[Page], extractor: Callable[[Page], Result]) -> Run:
    """One extractor over every page, timing each call."""
    run = Run(name)
    for page in pages:
        run.results.append(extractor(page))
    return run


# --- loading the sets --------------------------------------------------------------------------------------------


def load_realpages(folder: Path, truth_file: Path = TRUTH) -> list[Page]:
    """The manifest's article pages that the truth file covers (home pages and feeds are skipped)."""
    manifest = {item["file"]: item for item in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))}
    truth = json.loads(truth_file.read_text(encoding="utf-8"))["pages"]
    pages = []
    for entry in truth:
        item = manifest[entry["file"]]
        if item["type"] != "article":
            continue
        url = item.get("url") or f"http://{item['domain']}/"
        data = (folder / entry["file"]).read_bytes()
        body = derive_body(data, entry)
        selectors = Selectors(**entry["selectors"]) if entry.get("selectors") else None
        pages.append(Page(entry["file"], data, url, {**entry, "body": body}, selectors))
    return pages


def block_lines(data: bytes, container: str) -> list[str]:
    """The text lines of the container's block elements, read plainly (no extraction logic)."""
    doc = lxml_html.document_fromstring(decode_page(data))
    parts: list[str] = []

    def walk(node: Any) -> None:
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag in ("script", "style", "noscript"):
            return
        if tag in TRUTH_BLOCKS:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in TRUTH_BLOCKS:
            parts.append("\n")

    for match in Selector(root=doc).css(container):
        walk(match.root)
        parts.append("\n")
    return [line for line in (" ".join(x.split()) for x in "".join(parts).split("\n")) if line]


def derive_body(data: bytes, entry: dict[str, Any]) -> str:
    """A truth body from its recipe (the page's own lines, minus dropped ones), checked against the reviewed hash."""
    recipe = entry["body_from"]
    drop = set(recipe["drop"])
    lines = [line for line in block_lines(data, recipe["container"]) if text_key(line) not in drop]
    if hashlib.sha1("\n".join(norm(line) for line in lines).encode("utf-8")).hexdigest() != entry["body_sha1"]:
        raise ValueError(f"{entry['file']}: the page no longer gives the reviewed truth body")
    return "\n\n".join(lines)


def load_aeb(folder: Path, limit: int | None = None) -> list[Page]:
    """The external benchmark's pages in id order (the first `limit` when given)."""
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth)[:limit]:
        data = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
        pages.append(
            Page(key, data, truth[key].get("url") or "http://example.com/", {"body": truth[key].get("articleBody", "")})
        )
    return pages


# --- scoring and printing ----------------------------------------------------------------------------------------


def score(pages: list[Page], run: Run, with_fields: bool) -> dict[str, Any]:
    """Per-field exact rates, body P/R/F1 and pages per second for one run."""
    counts = [tp_fp_fn(page.truth["body"], res.fields["body"]) for page, res in zip(pages, run.results, strict=True)]
    out: dict[str, Any] = {"pages": len(pages), "body": body_scores(counts)}
    seconds = sum(r.seconds for r in run.results)
    out["pages_per_s"] = len(pages) / seconds if seconds else 0.0
    if with_fields:
        hits = [field_hits(page.truth, res.fields) for page, res in zip(pages, run.results, strict=True)]
        out["fields"] = {f: sum(h[f] for h in hits) / len(hits) for f in FIELDS}
        out["overall"] = statistics.mean([*out["fields"].values(), out["body"]["f1"]])
    return out


def speed_by_path(pages: list[Page], ours: Run, theirs: Run) -> dict[str, dict[str, float]]:
    """Pages per second of both extractors on the pages each of our paths answered."""
    groups: dict[str, list[int]] = {}
    for i, res in enumerate(ours.results):
        groups.setdefault(res.method, []).append(i)
    out = {}
    for method, idx in sorted(groups.items()):
        mine = sum(ours.results[i].seconds for i in idx)
        other = sum(theirs.results[i].seconds for i in idx)
        out[method] = {
            "pages": len(idx),
            "unionfeed": len(idx) / mine if mine else 0.0,
            "trafilatura": len(idx) / other if other else 0.0,
        }
    return out


def page_rows(pages: list[Page], runs: Iterable[Run]) -> list[dict[str, Any]]:
    """Per-page body F1 and field hits for every run (for reading failures)."""
    rows = []
    for i, page in enumerate(pages):
        row: dict[str, Any] = {"page": page.name}
        for run in runs:
            res = run.results[i]
            scores = body_scores([tp_fp_fn(page.truth["body"], res.fields["body"])])
            row[run.name] = {
                "f1": round(scores["f1"], 3),
                "method": res.method,
                "misses": [f for f, ok in field_hits(page.truth, res.fields).items() if not ok],
            }
        rows.append(row)
    return rows


def print_table(title: str, figures: dict[str, dict[str, Any]]) -> None:
    """One line per extractor: fields, body and speed."""
    print(f"\n{title}")
    head = f"{'extractor':<22}" + "".join(f"{f:>10}" for f in FIELDS) + f"{'body P':>9}{'body R':>9}{'body F1':>9}"
    print(head + f"{'overall':>9}{'pages/s':>10}")
    for name, fig in figures.items():
        cells = "".join(f"{fig['fields'][f]:>10.3f}" for f in FIELDS) if "fields" in fig else " " * 10 * len(FIELDS)
        body = fig["body"]
        overall = f"{fig['overall']:>9.3f}" if "overall" in fig else " " * 9
        print(
            f"{name:<22}{cells}{body['precision']:>9.3f}{body['recall']:>9.3f}{body['f1']:>9.3f}{overall}"
            f"{fig['pages_per_s']:>10.1f}"
        )


def print_speed(speed: dict[str, dict[str, float]]) -> None:
    """Pages per second by the path that answered the body."""
    for method, fig in speed.items():
        ratio = fig["unionfeed"] / fig["trafilatura"] if fig["trafilatura"] else 0.0
        print(
            f"  path {method:<10} {fig['pages']:>4} pages: unionfeed {fig['unionfeed']:>7.1f}/s, "
            f"trafilatura {fig['trafilatura']:>7.1f}/s ({ratio:.1f}x)"
        )


def bench_realpages(folder: Path) -> dict[str, Any]:
    """Both unionfeed runs and trafilatura on the real article pages."""
    pages = load_realpages(folder)
    runs = [
        run_all("unionfeed generic", pages, lambda p: run_unionfeed(p, False)),
        run_all("unionfeed selectors", pages, lambda p: run_unionfeed(p, True)),
        run_all("trafilatura alone", pages, run_trafilatura),
    ]
    figures = {run.name: score(pages, run, True) for run in runs}
    print_table(f"realpages: {len(pages)} article pages (of the manifest's home, RSS and article files)", figures)
    for run in runs[:2]:
        print(f" {run.name}:")
        speed = speed_by_path(pages, run, runs[2])
        print_speed(speed)
        figures[run.name]["speed_by_path"] = speed
    return {"figures": figures, "pages": page_rows(pages, runs)}


def interleaved_speed(pages: list[Page], rounds: int) -> dict[str, Any]:
    """Pages per second of unionfeed and trafilatura timed page by page in turn (the first of the two alternates
    from page to page), over `rounds` rounds; the ratio is the median of the rounds' ratios."""
    per_round = []
    if pages:  # first calls fill caches and imports on both sides: not timed
        run_unionfeed(pages[0], False)
        run_trafilatura(pages[0])
    for _ in range(rounds):
        ours = theirs = ours_cpu = theirs_cpu = 0.0
        for index, page in enumerate(pages):
            order = ("u", "t") if index % 2 == 0 else ("t", "u")
            for who in order:
                wall, cpu = time.perf_counter(), time.process_time()
                run_unionfeed(page, False) if who == "u" else run_trafilatura(page)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                if who == "u":
                    ours, ours_cpu = ours + wall, ours_cpu + cpu
                else:
                    theirs, theirs_cpu = theirs + wall, theirs_cpu + cpu
        per_round.append(
            {
                "unionfeed": len(pages) / ours,
                "trafilatura": len(pages) / theirs,
                "ratio": theirs / ours,
                "ratio_cpu": theirs_cpu / ours_cpu if ours_cpu else 0.0,
            }
        )
    middle = sorted(per_round, key=lambda r: r["ratio"])[len(per_round) // 2]
    return {
        "rounds": per_round,
        "unionfeed": middle["unionfeed"],
        "trafilatura": middle["trafilatura"],
        "ratio": middle["ratio"],
        "ratio_cpu": statistics.median(r["ratio_cpu"] for r in per_round),
    }


def bench_aeb(folder: Path, limit: int | None, rounds: int = 3) -> dict[str, Any]:
    """unionfeed and trafilatura on the external benchmark (body only), then their speed side by side."""
    pages = load_aeb(folder, limit)
    runs = [
        run_all("unionfeed", pages, lambda p: run_unionfeed(p, False)),
        run_all("trafilatura alone", pages, run_trafilatura),
    ]
    figures = {run.name: score(pages, run, False) for run in runs}
    print_table(f"aeb: {len(pages)} pages, body only (the benchmark's shingle metric)", figures)
    speed = speed_by_path(pages, runs[0], runs[1])
    print_speed(speed)
    figures["unionfeed"]["speed_by_path"] = speed
    if rounds:
        side = interleaved_speed(pages, rounds)
        figures["unionfeed"]["speed_interleaved"] = side
        print(
            f"  speed, bytes in (parse included), interleaved page by page, median of {rounds} rounds: "
            f"unionfeed {side['unionfeed']:.1f}/s, trafilatura {side['trafilatura']:.1f}/s = "
            f"{side['ratio']:.2f}x trafilatura (CPU time {side['ratio_cpu']:.2f}x; rounds "
            + ", ".join(f"{r['ratio']:.2f}x" for r in side["rounds"])
            + ")"
        )
    return {"figures": figures, "pages": page_rows(pages, runs)}


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sets and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=("realpages", "aeb", "all"), default="all")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the folder holding realpages/ and aeb/")
    parser.add_argument("--aeb-limit", type=int, default=None, help="only the first N aeb pages")
    parser.add_argument("--json", type=Path, help="write figures and per-page rows here")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved aeb speed rounds (0: none)")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "trafilatura": trafilatura.__version__,
    }
    if args.set in ("realpages", "all"):
        if not (args.shared / "realpages").is_dir():
            print(f"no {args.shared / 'realpages'}", file=sys.stderr)
            return 2
        report["realpages"] = bench_realpages(args.shared / "realpages")
    if args.set in ("aeb", "all"):
        if not (args.shared / "aeb").is_dir():
            print(f"no {args.shared / 'aeb'}", file=sys.stderr)
            return 2
        report["aeb"] = bench_aeb(args.shared / "aeb", args.aeb_limit, args.rounds)
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
