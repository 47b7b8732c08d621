"""A downloader middleware that stops a redirect loop at its first repeat and says so.

Scrapy's RedirectMiddleware follows up to REDIRECT_MAX_TIMES hops and then drops the request with "max
redirections reached"; a site whose page redirects back to itself would be asked that many times for nothing.
This middleware sees each redirected request before it is sent and refuses one whose URL is already in its own
chain, so the errback records "redirect loop: A → B → A" after one round.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.exceptions import IgnoreRequest


class RedirectLoopMiddleware:
    """Refuse a redirected request that returns to a URL of its own redirect chain."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedirectLoopMiddleware:
        return cls()

    def process_request(self, request: Request, spider: Any = None) -> None:
        chain = request.meta.get("redirect_urls") or []
        if request.url in chain:
            raise IgnoreRequest("redirect loop: " + " → ".join([*chain, request.url]))
        return None
