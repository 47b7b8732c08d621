"""WebSub publishing: tell the configured hub which feed URLs changed, so subscribers get them pushed.

Called by the app after a publish (publish itself never goes on the network): announce() pings the hub for
every feed file whose bytes changed.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from feed.config.settings import Politeness, Settings

log = logging.getLogger(__name__)
PING_TIMEOUT = 5.0
PARALLEL_PINGS = 4


def ping_one(hub: str, url: str, timeout: float = PING_TIMEOUT, user_agent: str | None = None) -> int | str:
    """POST hub.mode=publish for one topic URL; returns the HTTP status or the error's text."""
    body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": url}).encode("ascii")
    request = urllib.request.Request(
        hub,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": user_agent or Politeness().user_agent,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def ping_hub(
    hub: str, urls: list[str], timeout: float = PING_TIMEOUT, user_agent: str | None = None
) -> dict[str, int | str]:
    """Ping the hub for every changed feed (one request a topic, as every hub accepts); never raises."""
    if not urls:
        return {}
    with ThreadPoolExecutor(min(PARALLEL_PINGS, len(urls))) as pool:
        results = dict(zip(urls, pool.map(lambda u: ping_one(hub, u, timeout, user_agent), urls), strict=True))
    failed = {u: r for u, r in results.items() if not (isinstance(r, int) and 200 <= r < 300)}
    if failed:
        log.warning(
            "WebSub hub %s refused or missed %d of %d pings: %s",
            hub,
            len(failed),
            len(urls),
            sorted(failed.items())[:3],
        )
    return results


def announce(settings: Settings, changed_paths: Iterable[str]) -> dict[str, int | str]:
    """Ping the settings' hub (if any) for the feeds among the published paths that changed, as the operator's
    User-Agent; returns each topic's answer. Never raises."""
    if not settings.websub_hub:
        return {}
    base = settings.site_url.rstrip("/") + "/"
    # Feeds only: a calendar (feeds/*.ics) names no hub, so it is no WebSub topic.
    urls = [base + p for p in changed_paths if p.startswith("feeds/") and not p.endswith(".ics")]
    return ping_hub(settings.websub_hub, urls, user_agent=settings.politeness.user_agent)
