"""The learned meeting-report model: the labelled corpus it is trained on, `unionfeed train` reproducing the
shipped artifact byte for byte, the artifact refusing what it was not made for, and the explanations."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from feed.classify.classifier import analyse
from feed.classify.model import ModelError, from_json, load, shipped, shipped_path
from feed.classify.train import LABELS, POSITIVE, dumps, load_corpus, url_key
from feed.records import MEETING_KINDS

from .support.cli import ROOT, run_cli
from .support.needs import shared_path

CORPUS = ROOT / "corpus" / "meetings"
FIELDS = {
    "id",
    "url",
    "domain",
    "headline",
    "text",
    "label",
    "kind",
    "org",
    "period",
    "held_on",
    "union_related",
    "note",
}


def corpus_rows() -> list[dict]:
    rows = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            row = json.loads(line)
            row["_at"] = f"{path.name}:{number}"
            rows.append(row)
    return rows


def test_the_corpus_is_large_well_formed_and_has_one_item_per_url() -> None:
    rows = corpus_rows()
    assert len(rows) >= 1500
    for row in rows:
        at = row.pop("_at")
        assert set(row) == FIELDS, at
        assert row["label"] in LABELS, at
        assert isinstance(row["text"], str) and 0 < len(row["text"]) <= 2000, at
        assert row["url"].startswith(("http://", "https://")), at
        if row["label"] == POSITIVE:
            assert row["kind"] in MEETING_KINDS, at
        else:
            assert row["kind"] is None and row["org"] is None and row["held_on"] is None, at
        assert isinstance(row["union_related"], bool) and isinstance(row["note"], str) and row["note"], at
    urls = Counter(url_key(r["url"]) for r in rows)
    assert [u for u, n in urls.items() if n > 1] == []
    ids = Counter(r["id"] for r in rows)
    assert [i for i, n in ids.items() if n > 1] == []
    labels = Counter(r["label"] for r in rows)
    kinds = Counter(r["kind"] for r in rows if r["kind"])
    assert min(labels.values()) >= 0.3 * len(rows)
    assert set(kinds) == set(MEETING_KINDS) and min(kinds.values()) >= 30, kinds


@pytest.mark.shared
def test_no_corpus_item_is_a_dev_set_item() -> None:
    dev = shared_path("labeled", "dev.jsonl").read_text(encoding="utf-8").splitlines()
    held_out = {url_key(json.loads(line)["url"]) for line in dev if line.strip()}
    assert held_out
    assert [r["_at"] for r in corpus_rows() if url_key(r["url"]) in held_out] == []


def test_training_reproduces_the_shipped_artifact_byte_for_byte(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from feed.classify.train import library_versions

    out = tmp_path / "model.json"
    result = run_cli("train", "--corpus", str(CORPUS), "--out", str(out))
    assert result.returncode == 0, result.stderr
    shipped_bytes = shipped_path().read_bytes()
    shipped_data, fresh = json.loads(shipped_bytes), json.loads(out.read_bytes())
    assert f"sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}" in result.stdout
    rows, report = load_corpus(CORPUS)
    assert (report.malformed, report.duplicates) == (0, 0)
    assert shipped_data["training"]["items"] == len(rows)
    assert fresh["training"]["corpus_digest"] == shipped_data["training"]["corpus_digest"], "run `unionfeed train`"
    if shipped_data["training"]["libraries"] == library_versions():
        assert out.read_bytes() == shipped_bytes, "the shipped model is not the corpus's: run `unionfeed train`"
    else:  # other library versions may move a weight in its 4th decimal: the same model within rounding
        for part in ("report",):
            want, got = shipped_data[part]["weights"], fresh[part]["weights"]
            assert set(want) ^ set(got) <= {
                k for k in set(want) | set(got) if abs(want.get(k, 0) - got.get(k, 0)) < 2e-3
            }
            assert max(abs(want.get(k, 0) - got.get(k, 0)) for k in set(want) | set(got)) < 2e-3


def test_train_refuses_a_missing_corpus_plainly(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    result = run_cli("train", "--corpus", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.json"))
    assert result.returncode == 2
    assert "cannot train" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m.json").exists()


def test_the_artifact_loads_fast_and_is_one_spelling() -> None:
    data = json.loads(shipped_path().read_text(encoding="utf-8"))
    assert dumps(data) == shipped_path().read_text(encoding="utf-8")  # sorted keys, no timestamp: one spelling
    start = time.perf_counter()
    from_json(data)
    assert time.perf_counter() - start < 5  # generous here; bench/classify.py measures it (< 0.5 s)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(format=99),
        lambda d: d["features"].update(version=0),
        lambda d: d["features"].update(char_ngrams=[1, 3]),
        lambda d: d.pop("report"),
        lambda d: d["kind"].update(method="oracle"),
        lambda d: d["report"].update(weights=[1, 2]),
    ],
    ids=["format", "feature-version", "char-ngrams", "no-report", "kind-method", "weights-not-a-map"],
)
def test_an_artifact_made_for_other_features_or_malformed_is_refused(tmp_path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(shipped_path().read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError):
        load(path)


REPORT = (
    "Công đoàn Bệnh viện Đa khoa tỉnh tổng kết công tác năm 2025",
    "Sáng ngày 9/1/2026, Công đoàn Bệnh viện Đa khoa tỉnh tổ chức Hội nghị tổng kết công tác công đoàn năm 2025, "
    "triển khai nhiệm vụ năm 2026. Dự hội nghị có đồng chí Trần Thị Lan, Phó Chủ tịch Công đoàn ngành Y tế tỉnh. "
    "Hội nghị đã thảo luận, thống nhất phương hướng và khen thưởng 12 tập thể, cá nhân xuất sắc.",
)


def test_the_explanation_names_the_features_that_weighed_most() -> None:
    meeting, why = analyse(*REPORT)
    model = shipped()
    assert meeting.is_report and meeting.kind == "tong_ket"
    assert why["score"] == meeting.score and 0.5 <= meeting.score <= 1  # the model's probability
    top = why["model"]
    assert 1 <= len(top) <= 12
    amounts = [abs(t["value"] * t["weight"]) for t in top]
    assert amounts == sorted(amounts, reverse=True)
    for t in top:  # every weight shown is the artifact's
        assert t["weight"] == model.weights[t["feature"]]
    assert any(t["feature"].startswith("cue|") for t in top) or any(c.startswith("held") for c in meeting.cues)
    assert any(c.startswith("model: p ") for c in meeting.cues)


def test_classify_explain_on_the_command_line_prints_model_weights() -> None:
    line = json.dumps({"title": REPORT[0], "text": REPORT[1]}, ensure_ascii=False)
    result = run_cli("classify", "--explain", stdin=line + "\n")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["meeting"]["is_report"] is True
    assert {"feature", "value", "weight"} <= set(record["explain"]["model"][0])
    assert record["explain"]["kind"]["kind"] == "tong_ket"
