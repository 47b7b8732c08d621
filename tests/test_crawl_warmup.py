"""The crawl forkserver's warm-up: its pages go through extraction and classification without an error, and read
as what they were written to be (a year-end review, a congress, a gift visit that is not a meeting)."""

from __future__ import annotations

import logging

import pytest

from feed.classify.classifier import classify
from feed.extract.article import extract


def test_the_warm_up_pages_read_as_written(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="feed.app.crawl_warmup"):
        from feed.app import crawl_warmup

        crawl_warmup.warm_up()
    assert not [r for r in caplog.records if r.name == "feed.app.crawl_warmup"], caplog.text
    verdicts = []
    for title, body in crawl_warmup.WARM_TEXTS:
        article = extract(crawl_warmup.warm_page(title, body), crawl_warmup.WARM_URL)
        assert article.title == title and "công đoàn" in article.body_text.lower()
        meeting = classify(article.title, article.body_text, published_at=article.published_at, lead=article.lead)
        verdicts.append((meeting.is_report, meeting.kind if meeting.is_report else None))
    assert verdicts == [(True, "tong_ket"), (True, "dai_hoi"), (False, None)]
