"""The one HTTP client configuration for requests made outside Scrapy (`extract URL`, `sources check`, WebSub).

Every request names the operator's contact URL in its User-Agent (settings.yaml `politeness.contact_url`), as
the crawler's do, and has a timeout; bodies are read up to a cap.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping

from feed.config.settings import Politeness

MAX_BYTES = 10 * 1024 * 1024


def request(
    url: str,
    politeness: Politeness,
    *,
    data: bytes | None = None,
    method: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    max_bytes: int = MAX_BYTES,
) -> bytes:
    """The body of a 2xx answer (read up to max_bytes); urllib's HTTPError/URLError/OSError otherwise."""
    sent = {"User-Agent": politeness.user_agent, **(headers or {})}
    outgoing = urllib.request.Request(url, data=data, method=method, headers=sent)
    with urllib.request.urlopen(outgoing, timeout=timeout or politeness.download_timeout) as response:
        return bytes(response.read(max_bytes))
