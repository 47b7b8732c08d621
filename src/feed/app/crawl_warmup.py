"""Imported by the crawl forkserver: runs the extractor and classifier once, so every forked crawl starts warm.

Their first call loads vocabularies and compiles patterns (about 1.6 s); done once here, each child inherits it.
"""

from __future__ import annotations

import logging


def warm_up() -> None:
    """Extract and classify a tiny page; failures are only logged (a cold child still works)."""
    try:
        from feed.classify.classifier import classify
        from feed.extract.article import extract

        page = (
            "<html><head><title>Hội nghị tổng kết công đoàn</title></head><body><article><h1>Hội nghị tổng kết"
            "</h1><p>Sáng 5/1/2026, Công đoàn cơ sở tổ chức hội nghị tổng kết công tác năm với đông đảo đoàn viên "
            "tham dự và thảo luận nhiệm vụ năm mới.</p></article></body></html>"
        )
        article = extract(page, "http://127.0.0.1/tin/1.html")
        classify(article.title, article.body_text, published_at=article.published_at, lead=article.lead)
    except Exception:  # the forkserver must start even if warming fails
        logging.getLogger(__name__).exception("warm-up failed")


warm_up()
