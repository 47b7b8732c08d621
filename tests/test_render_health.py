"""The index page's source table shows the health verdict (feed.health.verdict), with its reasons."""

from __future__ import annotations

from datetime import UTC, datetime

from feed.config.sources import parse_sources
from feed.health.verdict import Reason, SourceHealth
from feed.publish.index_page import source_row

SOURCE = parse_sources(
    {
        "sources": [
            {
                "slug": "ldld-mau",
                "name": "Liên đoàn Lao động tỉnh Mẫu",
                "kind": "labour_federation",
                "homepage": "https://ldld.example.vn/",
                "discovery": {"feeds": ["https://ldld.example.vn/rss"]},
            }
        ]
    }
)[0]
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_broken_by_health_shows_its_reason() -> None:
    health = SourceHealth(
        "ldld-mau",
        SOURCE.name,
        SOURCE.homepage,
        state="broken",
        reasons=[Reason("empty", "no articles", "3 lần liền không lấy được bài nào")],
    )
    row = source_row(SOURCE, health, None, NOW)
    assert "state-broken" in row and "3 lần liền không lấy được bài nào" in row


def test_no_run_yet_is_never_crawled() -> None:
    assert "state-never" in source_row(
        SOURCE, SourceHealth("ldld-mau", SOURCE.name, SOURCE.homepage, "pending"), None, NOW
    )
    assert "state-never" in source_row(SOURCE, None, None, NOW)
