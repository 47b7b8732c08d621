"""Extraction: one page in, one article out (site selectors ▸ JSON-LD/OpenGraph/meta ▸ generic main text ▸
trafilatura), with the page-noise vocabulary that tells body text from chrome.

Public: `extract(page, url, selectors=...)`, the one extractor the spiders, the CLI and the tests use.
May import: feed.config, feed.lang, feed.records. Never the store, classify, dedup, publish or the app.
`extract` is imported on first use: a module that needs only the vocabulary (feed.dedup.fingerprints reads
page_noise's credit lines, and publish imports it) does not load the parsers (parsel, lxml) with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feed.extract.article import extract

__all__ = ["extract"]


def __getattr__(name: str) -> Any:
    if name == "extract":
        from feed.extract.article import extract

        return extract
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
