"""Extraction quality gate: scores on ../shared material must not fall below the floors pinned in
tests/extract_baseline.json (raise a floor when a change earns it; never lower one silently)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from feed.extract.article import extract
from feed.lang.text import looks_mojibake

from .support.needs import shared_path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BASELINE = json.loads((Path(__file__).parent / "extract_baseline.json").read_text(encoding="utf-8"))
AEB_SUBSET = 40  # the first pages by id: enough to catch a regression, quick enough for every run

pytestmark = pytest.mark.shared


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_extract", ROOT / "bench" / "extract.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_extract"] = module
    spec.loader.exec_module(module)
    return module


def need(name: str) -> Path:
    return shared_path(name)


@pytest.mark.parametrize("mode", ["generic", "selectors"])
def test_real_article_pages_hold_their_floors(mode: str) -> None:
    bench = load_bench()
    pages = bench.load_realpages(need("realpages"))
    run = bench.run_all(mode, pages, lambda p: bench.run_unionfeed(p, mode == "selectors"))
    figures = bench.score(pages, run, True)
    floors = BASELINE["realpages"][mode]
    for name in ("title", "published", "author", "lead"):
        assert figures["fields"][name] >= floors[name], (name, figures["fields"][name])
    assert figures["body"]["f1"] >= floors["body_f1"], figures["body"]


def test_external_benchmark_subset_holds_its_floor() -> None:
    bench = load_bench()
    pages = bench.load_aeb(need("aeb"), AEB_SUBSET)
    run = bench.run_all("unionfeed", pages, lambda p: bench.run_unionfeed(p, False))
    assert bench.score(pages, run, False)["body"]["f1"] >= BASELINE["aeb_first_40"]["body_f1"]


def test_metric_matches_the_benchmark_definition() -> None:
    bench = load_bench()
    assert bench.tp_fp_fn("a b c d e", "a b c d e") == (1.0, 0.0, 0.0)
    tp, fp, fn = bench.tp_fp_fn("a b c d e", "a b c d x")  # shingles: truth {abcd, bcde}, found {abcd, bcdx}
    assert (tp, fp, fn) == (1 / 3, 1 / 3, 1 / 3)
    # Precision is averaged only over pages with a prediction, recall only over pages with a truth.
    scores = bench.body_scores([(1.0, 0.0, 0.0), (0.0, 0.0, 1.0)])
    assert scores["precision"] == 1.0 and scores["recall"] == 0.5


@pytest.mark.parametrize(
    "name",
    [
        "laodong.vn__homepage-mojibake.html",
        "baotintuc.vn__homepage-mojibake.html",
        "danviet.vn__homepage-mojibake.html",
        "tintaynguyen.com__homepage-mojibake.html",
    ],
)
def test_mojibake_home_pages_are_repaired(name: str) -> None:
    page = (need("realpages") / name).read_bytes()
    art = extract(page, "https://example.vn/")
    assert art.title and not looks_mojibake(art.title)
    assert any(ch in art.title for ch in "ạảãáàâầấậẩẫăằắặẳẵêềếệểễôồốộổỗơờớợởỡưừứựửữđĐ"), art.title
