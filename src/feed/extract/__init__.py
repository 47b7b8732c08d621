"""Extraction: one page in, one article out (site selectors ▸ JSON-LD/OpenGraph/meta ▸ generic main text ▸
trafilatura), with the page-noise vocabulary that tells body text from chrome.

Public: `extract(page, url, selectors=...)`, the one extractor the spiders, the CLI and the tests use.
May import: feed.config, feed.lang, feed.records. Never the store, classify, dedup, publish or the app.
"""

from feed.extract.article import extract

__all__ = ["extract"]
