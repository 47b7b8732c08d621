"""Saving pages that look wrong, so a broken source leaves a test fixture behind.

CaptureMiddleware (spider) keeps the latest body of each discovery page and the pages of this run that
failed (HTTP errors, articles without title, date or body, articles the source's selectors missed) under
UNIONFEED_CAPTURE_DIR/<slug>.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.http import Response

from feed.store.api import now_utc
from unionfeed_scrapers.keys import DISCOVERY, header


def capture_dir(crawler: Any, slug: str) -> Path | None:
    root = crawler.settings.get("UNIONFEED_CAPTURE_DIR")
    return Path(root) / slug if root else None


def capture_stem(kind: str, url: str) -> str:
    """The file name (without suffix) a page of this kind and URL is saved under: one file per URL."""
    return f"{kind}-{hashlib.sha1(url.encode('utf-8')).hexdigest()[:12]}"


def save_capture(folder: Path, response: Response, kind: str, reason: str) -> Path:
    """A gzipped page with a meta file beside it (URL, status, capture time, why), ready to become a fixture."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = capture_stem(kind, response.url)
    page = folder / f"{stem}.html.gz"
    tmp = page.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(response.body, mtime=0))
    tmp.replace(page)
    meta = {
        "url": response.url,
        "status": response.status,
        "kind": kind,
        "reason": reason,
        "captured_at": now_utc().isoformat(),
        "content_type": header(response, "Content-Type"),
    }
    (folder / f"{stem}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return page


def missing_fields(item: dict[str, Any]) -> list[str]:
    """Which of title, date and body an extracted article lacks."""
    article = item.get("article")
    if article is None:
        return ["title", "date", "body"]
    return [
        name
        for name, value in (("title", article.title), ("date", article.published_at), ("body", article.body_text))
        if not value
    ]


class CaptureMiddleware:
    """Keeps discovery pages (latest body each) and this run's failed pages under the capture folder."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.folder: Path | None = None
        self.discovery_seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> CaptureMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Any) -> None:
        source = getattr(spider, "source", None)
        self.folder = capture_dir(self.crawler, source.slug) if source is not None else None
        if self.folder is not None:
            shutil.rmtree(self.folder / "last", ignore_errors=True)  # only the latest run's failures are kept

    def spider_closed(self, spider: Any, reason: str) -> None:
        """Drop saved discovery pages this run did not ask for (an old page 2 is no longer the site's state)."""
        folder = self.folder / "discovery" if self.folder is not None else None
        if folder is None or not folder.is_dir() or reason != "finished":
            return
        for path in folder.iterdir():
            if path.name.split(".", 1)[0] not in self.discovery_seen:
                path.unlink(missing_ok=True)

    def process_spider_input(self, response: Response, spider: Any = None) -> None:
        if self.folder is None:
            return None
        if response.meta.get(DISCOVERY):
            self.discovery_seen.add(capture_stem("discovery", response.url))
        if response.status == 304:
            return None
        if response.meta.get(DISCOVERY) and response.status == 200:
            save_capture(self.folder / "discovery", response, "discovery", f"HTTP {response.status}")
        if response.status >= 400 and response.body:
            save_capture(self.folder / "last", response, "error", f"HTTP {response.status}")
        return None

    def _check(self, response: Response | None, output: Any) -> None:
        if self.folder is None or response is None or not isinstance(output, dict) or "source" not in output:
            return
        missing = missing_fields(output)
        article = output.get("article")
        missed = getattr(article, "selectors_missed", None)
        if output.get("error") or missing or missed:
            reasons = [f"the {missed} selectors missed"] if missed else []
            reasons.append(output.get("error") or ("missing " + ", ".join(missing) if missing else ""))
            reason = "; ".join(r for r in reasons if r)
            save_capture(self.folder / "last", response, "article", reason)

    def process_spider_output(
        self, response: Response | None, result: Iterable[Any], spider: Any = None
    ) -> Iterator[Any]:
        for output in result:
            self._check(response, output)
            yield output

    async def process_spider_output_async(
        self, response: Response | None, result: AsyncIterator[Any], spider: Any = None
    ) -> AsyncIterator[Any]:
        async for output in result:
            self._check(response, output)
            yield output
