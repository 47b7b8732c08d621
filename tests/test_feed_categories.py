"""Categories that survive readers: a kind label with commas ("Hội nghị cán bộ, công chức, viên chức, người lao
động") is one tag, not four, in Atom, RSS and JSON Feed; the Atom term stays the kind's code."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import feedparser

from feed.publish.feed_writer import tag_label
from feed.publish.publisher import publish
from feed.records import KIND_LABELS

from .support.feedworld import VN, Art, add_article, make_world

LABEL = "Hội nghị cán bộ – công chức – viên chức – người lao động"
CAN_BO = Art(
    "hoi-nghi-can-bo",
    "cd-nganh-mau",
    "Trường THPT Mẫu tổ chức hội nghị cán bộ, công chức, viên chức năm học 2026 – 2027",
    "Ngày 20/9, Công đoàn Trường THPT Mẫu phối hợp với Ban Giám hiệu tổ chức hội nghị cán bộ, công chức, viên chức,"
    " người lao động năm học 2026 – 2027.\n\nHội nghị đã thông qua quy chế chi tiêu nội bộ và ký giao ước thi đua.",
    datetime(2026, 9, 20, 8, 0, tzinfo=VN),
    "hoi_nghi_can_bo",
    "Công đoàn Trường THPT Mẫu",
    held_on="2026-09-20",
)


def test_tag_label_joins_the_parts_with_a_dash() -> None:
    assert tag_label(KIND_LABELS["hoi_nghi_can_bo"]) == LABEL
    assert tag_label("Đại hội") == "Đại hội" and tag_label("Công đoàn A,, B ,") == "Công đoàn A – B"


def test_each_entry_has_one_category_per_kind_in_every_format(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    try:
        add_article(world.store, CAN_BO, datetime(2026, 9, 21, 9, 0, tzinfo=VN))
        publish(world.store, world.settings, world.sources)
    finally:
        world.store.close()
    feeds = world.settings.public / "feeds"
    for name in ("meetings", "kinds/hoi_nghi_can_bo", "sources/cd-nganh-mau", "all"):
        for ext in ("atom", "rss"):
            parsed = feedparser.parse((feeds / f"{name}.{ext}").read_bytes())
            assert not parsed.bozo, (name, ext)
            entry = next(e for e in parsed.entries if e.link.endswith("/hoi-nghi-can-bo.html"))
            labels = [t.label if ext == "atom" else t.term for t in entry.tags]
            assert labels.count(LABEL) == 1 and not [x for x in labels if "," in x], (name, ext, labels)
            assert len(entry.tags) == 2, (name, ext, entry.tags)  # the kind and the source, nothing split off
            if ext == "atom":
                assert {t.term for t in entry.tags} == {"hoi_nghi_can_bo", "cd-nganh-mau"}
        doc = json.loads((feeds / f"{name}.json").read_text(encoding="utf-8"))
        item = next(i for i in doc["items"] if i["url"].endswith("/hoi-nghi-can-bo.html"))
        assert item["tags"] == [LABEL, "Công đoàn ngành Mẫu"], (name, item["tags"])
