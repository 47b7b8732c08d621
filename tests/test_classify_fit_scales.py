"""Issue 14, fifth round: the meeting-phrase block the kind model reads, and the fitting scales (the report model's
cue, grammar and structure features fitted at half scale; the phrase block at three times) folded back into the
artifact's weights, so that inference reads the features unscaled."""

from __future__ import annotations

import math

import pytest

from feed.classify.classifier import analyse, read
from feed.classify.features import PHRASE_BLOCK, Features, block_value
from feed.classify.model import from_json, shipped
from feed.classify.train import Item, fit, kind_scale, report_scale

TONG_KET = (
    "Công đoàn Trường THPT Nguyễn Du tổng kết năm học 2024-2025",
    "Chiều ngày 28/5/2025, Công đoàn Trường THPT Nguyễn Du tổ chức Hội nghị tổng kết công tác công đoàn năm học "
    "2024-2025. Dự hội nghị có đồng chí Lê Văn Hùng, Chủ tịch Công đoàn ngành Giáo dục huyện. Hội nghị đã đánh "
    "giá kết quả hoạt động và khen thưởng 9 đoàn viên có thành tích xuất sắc.",
)
DAI_HOI = (
    "Đại hội Công đoàn xã Tân Phú lần thứ III, nhiệm kỳ 2023-2028",
    "Ngày 12/4/2023, Công đoàn xã Tân Phú long trọng tổ chức Đại hội Công đoàn xã lần thứ III, nhiệm kỳ 2023-2028. "
    "Đại hội đã bầu Ban Chấp hành gồm 7 đồng chí và bầu đoàn đại biểu đi dự Đại hội Công đoàn huyện.",
)


def test_the_meeting_phrase_is_a_block_of_its_own() -> None:
    features = read(*TONG_KET).features
    assert features is not None
    grams = features.blocks[PHRASE_BLOCK]
    assert {"hôi5 nghi5", "nghi5 tông3", "tông3 kêt1", "năm hoc5"} <= grams  # "Hội nghị tổng kết … năm học …"
    assert not any(g.startswith(("khen", "dư5", "chiêu")) for g in grams)  # the phrase only, not the page
    assert len([g for g in grams if " " not in g]) <= 12  # its first 12 words
    congress = read(*DAI_HOI).features
    assert congress is not None and {"đai5 hôi5", "nhiêm5 ky2"} <= congress.blocks[PHRASE_BLOCK]
    assert read("Giá vàng hôm nay", "Giá vàng trong nước tăng nhẹ.").features is None  # no meeting word


def test_the_report_model_never_reads_the_phrase_block_and_the_kind_model_does() -> None:
    model = shipped()
    assert not any(name.startswith(PHRASE_BLOCK + "|") for name in model.weights)
    assert any(name.startswith(PHRASE_BLOCK + "|") for name in model.kind_weights)
    meeting, _ = analyse(*TONG_KET)
    assert meeting.is_report and meeting.kind == "tong_ket"
    congress, _ = analyse(*DAI_HOI)
    assert congress.is_report and congress.kind == "dai_hoi"
    training = model.meta["training"]
    assert training["scalar_scale"] == report_scale("cue|lead|held: x") and report_scale("w|lead|hôi5") == 1.0
    assert training["phrase_scale"] == kind_scale(PHRASE_BLOCK + "|hôi5 nghi5") and kind_scale("w|lead|x") == 1.0


def _item(key: str, positive: bool, kind: str | None, words: list[str], cue: bool) -> Item:
    article = Features(
        scalars={"cue|lead|held: tổ chức $MEETING": 1.0} if cue else {},
        blocks={"w|lead": frozenset(words), PHRASE_BLOCK: frozenset(words[:1])},
    )
    assert article.flat()[f"w|lead|{words[0]}"] == block_value(frozenset(words)) == 1 / math.sqrt(len(words))
    return Item(key, article.flat(), positive, kind, kind, True, f"site{key}", article)


def test_scaled_fitting_stores_the_weights_of_the_unscaled_features() -> None:
    sklearn = pytest.importorskip("sklearn")
    import numpy

    items = [
        _item(f"r{i}", True, ("tong_ket", "dai_hoi")[i % 2], [("tông2", "đai5")[i % 2], "hôi5", f"x{i % 3}"], True)
        for i in range(12)
    ] + [_item(f"o{i}", False, None, ["lê5", "hôi5", f"x{i % 3}"], i % 3 == 0) for i in range(12)]
    artifact = fit(items, min_df=1, scalar_scale=0.5, phrase_scale=3.0)
    model = from_json(artifact)
    # the same fit by hand: the scalar column at half scale, no phrase block; its decision function on the
    # scaled matrix must be the artifact's logit on the unscaled features
    names = sorted({n for it in items for n in it.features or {} if not n.startswith(PHRASE_BLOCK)})
    x = numpy.array([[(it.features or {}).get(n, 0.0) * report_scale(n, 0.5) for n in names] for it in items])
    y = [int(it.positive) for it in items]
    lr = sklearn.linear_model.LogisticRegression(C=4.0, solver="liblinear", random_state=0, max_iter=1000)
    want = lr.fit(x, y).decision_function(x)
    for it, w in zip(items, want, strict=True):
        assert it.article is not None
        assert model.logit(it.article) == pytest.approx(w, abs=5e-3)
    assert not any(n.startswith(PHRASE_BLOCK) for n in model.weights)
    assert any(n.startswith(PHRASE_BLOCK) for n in model.kind_weights)
