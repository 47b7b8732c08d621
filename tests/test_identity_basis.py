"""The 5-gram sample a feed identity keeps of a body (feed.publish.guids.body_basis, from
feed.dedup.fingerprints.shingle_set) is the same whichever way the words are read: shingle_set reads them without
the line-break markers and sentence flags that fingerprint() works out, and must give the very hash and shingles
fingerprint()'s own reading gives, or every stored identity would judge its next edit against another basis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from feed.dedup.fingerprints import MIN_WORDS, _shingles, _words, shingle_set
from feed.publish.guids import body_basis

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "meetings"
AWKWARD = [
    "",
    "   \n\n  ",
    "Một dòng ngắn.",
    "(LĐLĐ) - Sáng 10/1, Liên đoàn Lao động tỉnh tổ chức hội nghị tổng kết năm 2025.\n\nẢnh: Minh Châu\n\n"
    + "Hội nghị đề ra 5 nhiệm vụ trọng tâm cho năm 2026, trong đó có việc phát triển 4.210 đoàn viên mới. " * 6,
    "Công đoàn \x00 cơ sở trao 300 suất quà \x00\n\x00 cho công nhân — 15/01/2021; 0015 đoàn viên ... " * 8,
    "Người lao động\r\nnữ được nghỉ\u2028thai sản 6 tháng\x0btheo quy định của Bộ luật Lao động, hoà/hòa. " * 5,
]


def old_reading(body: str) -> tuple[str, np.ndarray]:
    """shingle_set as it read the words before: through fingerprint()'s flagged tokens."""
    _, words, digest = _words(body)
    return digest, _shingles(words) if len(words) >= MIN_WORDS else np.empty(0, dtype=np.uint64)


def test_the_sample_is_what_the_flagged_reading_gives() -> None:
    texts = list(AWKWARD)
    for shard in sorted(CORPUS.glob("shard-*.jsonl")):
        texts += [json.loads(line)["text"] or "" for line in shard.read_text(encoding="utf-8").splitlines()[::3]]
    assert len(texts) > 600
    for text in texts:
        digest, shingles = shingle_set(text)
        old_digest, old_shingles = old_reading(text)
        assert digest == old_digest and np.array_equal(shingles, old_shingles), text[:80]
    assert body_basis(AWKWARD[3])[0] and body_basis(AWKWARD[4])[0]  # long enough to be sampled
