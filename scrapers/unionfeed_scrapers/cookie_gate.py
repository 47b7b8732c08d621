"""Passing a cookie gate: a tiny page whose only content is a script that sets a cookie and reloads.

Sites behind some web application firewalls (laodong.vn, gov.vn portals) answer a client without the cookie with
a page of about 177 bytes:

    <html><body><script>document.cookie="D1N=<hex>"+"; expires=…; path=/";window.location.reload(true);</script>
    </body></html>

A browser runs the script, stores the cookie and asks again; a crawler with cookies off gets no links at all.
This middleware reads the cookie out of the script, keeps it for that host in its own jar (one middleware per
crawler, so one jar per source and run: nothing is shared across sources) and asks the page once more with it;
every later request of the source to that host carries the cookie, so the gate is passed once per host, not once
per request. A gate that answers again after its cookie was sent, or whose cookie the script computes instead of
spelling it out, drops the request with "cookie gate: …" (the spider's errback records it as the page's error)
and the run's stats name the URL, from which `feed.health.verdict` words the cause.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

log = logging.getLogger(__name__)

GATE_TRIED = "unionfeed_cookie_gate_tried"  # meta flag: this request is the retry after a gate
PASSED = "unionfeed/cookie_gate_passed"  # stats: gates answered with their cookie
BLOCKED = "unionfeed/cookie_gate"  # stats: requests dropped because the gate stayed
BLOCKED_URL = "unionfeed/cookie_gate_url"  # stats: the first URL a gate kept us from (health names it)
MAX_GATE_BYTES = 4096  # a gate is a few hundred bytes; a real page with a cookie script is far larger

_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.S | re.I)
_NOSCRIPT = re.compile(r"<noscript\b[^>]*>.*?</noscript\s*>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&(?:nbsp|#160|#xa0);", re.I)
_LITERAL = r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
_COOKIE_SET = re.compile(rf"document\s*\.\s*cookie\s*=\s*({_LITERAL}(?:\s*\+\s*{_LITERAL})*)\s*(?=[;,\n}}<]|$)")
_COOKIE_ANY = re.compile(r"document\s*\.\s*cookie\s*=[^=]")
_STRING = re.compile(_LITERAL)
_RELOAD = re.compile(
    r"location\s*\.\s*(?:reload|replace|assign)\s*\(|location\s*\.\s*href\s*=[^=]|location\s*=[^=]", re.I
)
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


@dataclass(frozen=True)
class Gate:
    """A cookie gate page: the cookies its script sets (empty when the script computes them)."""

    cookies: dict[str, str]


def read_gate(body: bytes, content_type: str | None = None) -> Gate | None:
    """The gate a page is, or None: a small HTML page with no content but scripts that set document.cookie and
    reload (or go to another location)."""
    if not body or len(body) > MAX_GATE_BYTES:
        return None
    if content_type and not content_type.split(";", 1)[0].strip().lower().startswith(
        ("text/html", "application/xhtml")
    ):
        return None
    text = body.decode("utf-8", "replace")
    scripts = " ".join(_SCRIPT.findall(text))
    if not _COOKIE_ANY.search(scripts) or not _RELOAD.search(scripts):
        return None
    rest = _TAG.sub(" ", _NOSCRIPT.sub(" ", _COMMENT.sub(" ", _SCRIPT.sub(" ", text))))
    if _ENTITY.sub(" ", rest).strip():
        return None  # the page shows something of its own: not just a gate
    cookies: dict[str, str] = {}
    for match in _COOKIE_SET.finditer(scripts):
        joined = "".join(_unquote(s) for s in _STRING.findall(match.group(1)))
        name, eq, value = joined.split(";", 1)[0].partition("=")
        name, value = name.strip(), value.strip()
        if eq and _TOKEN.match(name) and not any(c in value for c in ' ,;"\\'):
            cookies[name] = value
    return Gate(cookies)


def _unquote(literal: str) -> str:
    inner = literal[1:-1]
    return re.sub(r"\\(.)", r"\1", inner)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _is_robots(request: Request) -> bool:
    return urlsplit(request.url).path == "/robots.txt"


class CookieGateMiddleware:
    """Answers cookie gates once per host with the cookie their script sets; drops requests a gate still stops."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.jar: dict[str, dict[str, str]] = {}  # host -> cookie name -> value, for this crawler's source only

    @classmethod
    def from_crawler(cls, crawler: Any) -> CookieGateMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        cookies = self.jar.get(_host(request.url))
        if not cookies:
            return None
        sent = request.headers.get(b"Cookie")
        pairs = [p.strip() for p in sent.decode("latin-1").split(";") if p.strip()] if sent else []
        names = {p.split("=", 1)[0] for p in pairs}
        pairs += [f"{name}={value}" for name, value in cookies.items() if name not in names]
        request.headers[b"Cookie"] = "; ".join(pairs).encode("latin-1")
        return None

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if _is_robots(request):
            return response
        content_type = response.headers.get(b"Content-Type")
        gate = read_gate(response.body, content_type.decode("latin-1") if content_type else None)
        if gate is None:
            return response
        stats = self.crawler.stats
        if request.meta.get(GATE_TRIED) or not gate.cookies:
            stats.inc_value(BLOCKED)
            if not stats.get_value(BLOCKED_URL):
                stats.set_value(BLOCKED_URL, request.url)
            why = "still there after its cookie was sent" if gate.cookies else "its script computes the cookie"
            log.warning("cookie gate at %s: %s", request.url, why)
            raise IgnoreRequest(f"cookie gate: {request.url} answers only a script that sets a cookie ({why})")
        self.jar.setdefault(_host(request.url), {}).update(gate.cookies)
        stats.inc_value(PASSED)
        log.info("cookie gate at %s: asking again with %s", request.url, ", ".join(gate.cookies))
        retry = request.replace(dont_filter=True)
        retry.meta[GATE_TRIED] = True
        retry.headers.pop(b"Cookie", None)  # process_request sets it afresh from the jar
        return retry
