"""Marking requests found on discovery pages with the pages' URLs, so a failed fetch can taint them
(conditional_get then keeps no validators for those pages)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from unionfeed_scrapers.keys import DISCOVERY, VIA


class DiscoveryTrailMiddleware:
    """Marks requests found on discovery pages with the pages' URLs, so a failed fetch can taint them."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> DiscoveryTrailMiddleware:
        return cls(crawler)

    @staticmethod
    def _mark(response: Response | None, output: Any) -> None:
        if response is None or not isinstance(output, Request) or not response.meta.get(DISCOVERY):
            return
        trail = (*response.meta.get(VIA, ()), response.request.url if response.request else response.url)
        output.meta.setdefault(VIA, trail)

    def process_spider_output(
        self, response: Response | None, result: Iterable[Any], spider: Any = None
    ) -> Iterator[Any]:
        for output in result:
            self._mark(response, output)
            yield output

    async def process_spider_output_async(
        self, response: Response | None, result: AsyncIterator[Any], spider: Any = None
    ) -> AsyncIterator[Any]:
        async for output in result:
            self._mark(response, output)
            yield output
