"""Issue 14, fifth round: the report model fits its cue, grammar and structure features at a smaller scale than
the n-grams (stronger L2 on them), and folds the scale back into the artifact's weights, so that inference and
`classify --explain` read the features unscaled."""

from __future__ import annotations

import math

import pytest

from feed.classify.classifier import analyse
from feed.classify.features import Features, block_value
from feed.classify.model import from_json, shipped
from feed.classify.train import SCALAR_SCALE, Item, fit, report_scale

TONG_KET = (
    "Công đoàn Trường THPT Nguyễn Du tổng kết năm học 2024-2025",
    "Chiều ngày 28/5/2025, Công đoàn Trường THPT Nguyễn Du tổ chức Hội nghị tổng kết công tác công đoàn năm học "
    "2024-2025. Dự hội nghị có đồng chí Lê Văn Hùng, Chủ tịch Công đoàn ngành Giáo dục huyện. Hội nghị đã đánh "
    "giá kết quả hoạt động và khen thưởng 9 đoàn viên có thành tích xuất sắc.",
)
THONG_BAO = (
    "Thông báo tổ chức Hội nghị đại biểu người lao động năm 2026",
    "Công ty trân trọng kính mời toàn thể người lao động dự Hội nghị vào lúc 7h30 ngày 14/3. Chương trình hội "
    "nghị gồm: báo cáo kết quả sản xuất kinh doanh năm 2025, thảo luận và biểu quyết thỏa ước lao động tập thể.",
)


def test_the_shipped_model_records_its_scale_and_still_reads_reports_and_notices() -> None:
    model = shipped()
    assert model.meta["training"]["scalar_scale"] == SCALAR_SCALE < 1
    assert report_scale("cue|lead|held: tổ chức $MEETING") == report_scale("s|no_title") == SCALAR_SCALE
    assert report_scale("w|lead|hôi5 nghi5") == report_scale("c|title|ôi5") == 1.0
    meeting, why = analyse(*TONG_KET)
    assert meeting.is_report and meeting.kind == "tong_ket"
    for top in why["model"]:  # the explanation shows the artifact's own weights
        assert top["weight"] == model.weights[top["feature"]]
    notice, _ = analyse(*THONG_BAO)
    assert not notice.is_report, notice.cues  # a programme invitation (at scale 0.25 one such was read as a report)


def _item(key: str, positive: bool, kind: str | None, words: list[str], cue: bool) -> Item:
    article = Features(
        scalars={"cue|lead|held: tổ chức $MEETING": 1.0} if cue else {},
        blocks={"w|lead": frozenset(words)},
    )
    assert article.flat()[f"w|lead|{words[0]}"] == block_value(frozenset(words)) == 1 / math.sqrt(len(words))
    return Item(key, article.flat(), positive, kind, kind, True, f"site{key}", article)


def test_scaled_fitting_stores_the_weights_of_the_unscaled_features() -> None:
    sklearn = pytest.importorskip("sklearn")
    import numpy

    items = [
        _item(f"r{i}", True, ("tong_ket", "dai_hoi")[i % 2], [("tông3", "đai5")[i % 2], "hôi5", f"x{i % 3}"], True)
        for i in range(12)
    ] + [_item(f"o{i}", False, None, ["lê5", "hôi5", f"x{i % 3}"], i % 3 == 0) for i in range(12)]
    for scale in (0.5, 0.25):
        model = from_json(fit(items, min_df=1, scalar_scale=scale, kind_method="rules"))
        # the same fit by hand on the scaled matrix: its decision function must be the artifact's logit on the
        # unscaled features (weights rounded to 4 decimals)
        names = sorted({n for it in items for n in it.features or {}})
        x = numpy.array([[(it.features or {}).get(n, 0.0) * report_scale(n, scale) for n in names] for it in items])
        lr = sklearn.linear_model.LogisticRegression(C=4.0, solver="liblinear", random_state=0, max_iter=1000)
        want = lr.fit(x, [int(it.positive) for it in items]).decision_function(x)
        cue = model.weights["cue|lead|held: tổ chức $MEETING"]
        assert cue == pytest.approx(lr.coef_[0][names.index("cue|lead|held: tổ chức $MEETING")] * scale, abs=1e-4)
        for it, w in zip(items, want, strict=True):
            assert it.article is not None
            assert model.logit(it.article) == pytest.approx(w, abs=2e-3)
