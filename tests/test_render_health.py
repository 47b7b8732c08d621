"""The index page's source table follows the health judgement in status.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from feed.render import read_health, source_row
from feed.sources import parse_sources

SOURCE = parse_sources({"sources": [{
    "slug": "ldld-mau", "name": "Liên đoàn Lao động tỉnh Mẫu", "kind": "labour_federation",
    "homepage": "https://ldld.example.vn/", "discovery": {"feeds": ["https://ldld.example.vn/rss"]},
}]})[0]
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_broken_by_health_shows_its_reason(tmp_path: Path) -> None:
    (tmp_path / "status.json").write_text(json.dumps({"sources": [{
        "slug": "ldld-mau", "state": "broken",
        "reasons": [{"code": "empty", "text": "no articles", "text_vi": "3 lần liền không lấy được bài nào"}],
    }]}, ensure_ascii=False), encoding="utf-8")
    health = read_health(tmp_path)
    row = source_row(SOURCE, None, None, NOW, health.get("ldld-mau"))
    assert "state-broken" in row and "3 lần liền không lấy được bài nào" in row


def test_no_or_unreadable_status_file_changes_nothing(tmp_path: Path) -> None:
    assert read_health(tmp_path) == {}
    (tmp_path / "status.json").write_text("{not json", encoding="utf-8")
    assert read_health(tmp_path) == {}
    assert "state-never" in source_row(SOURCE, None, None, NOW, None)
