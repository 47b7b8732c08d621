"""Quality gate: the classifier's figures on the labelled dev set never fall below the pinned floors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from feed.classify.evaluate import evaluate, load_labeled

from .support.needs import shared_path

BASELINE = json.loads((Path(__file__).resolve().parent / "classify_baseline.json").read_text(encoding="utf-8"))
# The targets: a floor may rise above them, never sit below them.
TARGETS = {"f1": 0.97, "kind_accuracy": 0.90}


@pytest.mark.shared
def test_dev_set_figures_hold_their_floors() -> None:
    measured = evaluate(load_labeled(shared_path("labeled", "dev.jsonl")), speed=False).summary()
    below = {k: (measured[k], floor) for k, floor in BASELINE["floors"].items() if measured[k] < floor}
    assert not below, f"below the pinned floor (measured, floor): {below}; run bench/classify.py --errors"


def test_floors_only_rise() -> None:
    history = [entry["floors"] for entry in BASELINE["history"]]
    assert history and history[-1] == BASELINE["floors"]
    for before, after in itertools.pairwise(history):
        assert all(after[k] >= before[k] for k in before), (before, after)
    assert all(BASELINE["floors"][k] >= target for k, target in TARGETS.items())
