"""The classifier's verdicts are exactly what they were before the crawl was made faster (issue 15, part 3).

The speed work on the crawl path (no pattern compiled per article, each text folded once, verdicts filed with the
article's INSERT) must not move a single verdict. The digests below were computed with the main branch at
afd4e45, before that work, over the same rows and the same call the crawl makes (`classify`): every field of the
Meeting (report or not, kind, score, organiser, period, date, place, officials, figures, the cues that fired).
Only the "model: ..." explanation line is left out: it prints the per-family sums to two decimals, and those sums
add set members in hash order, so their last digit can change with PYTHONHASHSEED on any code.

When a deliberate change of the classifier moves verdicts, recompute the digests with `_digest` and say so in
the commit; a speed change must never need to. Recomputed once since: for the organiser and held-on readers of
issue 14's second round (branch m14), whose own tree, without the speed work, gives the same two digests; and
for issue 14's third round (branch m14c: three relabels, wider meeting words, organiser trims, cited-document
dates, the retrained model); and for issue 14's fourth round (branch c14d: shard-m, 77 new items of the hard
genres, and the model retrained on them); and for issue 14's fifth round, once for the merge of its two branches:
f14e, the facts readers only (organisers of date-opening sentences, lower-case heads, the chairs of English and
French pages, timed dates after cited documents, the whole lead for the date, weekday forms, slashed quarters) and
m14f, the report model's cue, grammar and structure features fitted at half scale.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from feed.classify.classifier import classify
from feed.classify.evaluate import load_labeled
from feed.classify.train import load_corpus

from .support.cli import ROOT
from .support.needs import shared_path

PUBLISHED = datetime(2025, 6, 1, tzinfo=UTC)
# Every fourth row of the project's corpus (sorted by URL key, as load_corpus returns it): 501 texts.
CORPUS_DIGEST = "29f6037629150f06de863efba20ebc48a3f4545f29d9b417b4d2655baa3602af"
# The 203 labelled excerpts of ../shared/labeled/dev.jsonl.
DEV_DIGEST = "f44a9a26701b2b439af181bd22e8e39d82047fd6bcdbdea49f641d5ecd2a1d5d"


def _digest(rows: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        verdict = classify(row.get("headline"), row["text"], published_at=PUBLISHED).to_json()
        verdict["cues"] = [cue for cue in verdict["cues"] if not cue.startswith("model:")]
        line = json.dumps([row.get("id"), verdict], ensure_ascii=False, sort_keys=True, default=str)
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def test_corpus_verdicts_are_unchanged() -> None:
    rows, _ = load_corpus(ROOT / "corpus" / "meetings")
    sample = rows[::4]
    assert len(sample) == 501, "the corpus changed: recompute CORPUS_DIGEST on the main branch first"
    assert _digest(sample) == CORPUS_DIGEST


@pytest.mark.shared
def test_dev_set_verdicts_are_unchanged() -> None:
    rows = load_labeled(shared_path("labeled", "dev.jsonl"))
    assert len(rows) == 203
    assert _digest(rows) == DEV_DIGEST


def test_the_digest_sees_a_changed_verdict() -> None:
    """The digest is not blind: one headline changed moves it (a verdict the test could not see would pass)."""
    rows, _ = load_corpus(ROOT / "corpus" / "meetings")
    sample = [dict(row) for row in rows[::4][:20]]
    first_report = next(i for i, row in enumerate(sample) if row.get("label") == "meeting_report")
    changed = [dict(row) for row in sample]
    changed[first_report]["text"] = "Thông báo lịch cắt điện khu vực phường Bến Nghé từ ngày 3 đến ngày 5/6."
    assert _digest(changed) != _digest(sample)
