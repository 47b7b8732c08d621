"""Canonical URLs and the stable identity key derived from them."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url as w3_canonicalize
from w3lib.url import safe_url_string

# Query parameters that only track a click; they never change which article a URL names.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl",
        "zarsrc", "zaloid", "utm_zalo", "gidzl", "ref", "refsrc", "src", "source", "cmpid", "itm_source",
        "itm_medium", "itm_campaign", "share", "sharetype", "from", "vnexpress_ref", "ito",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "__")
# Host prefixes that serve the same article as the bare host (mobile and AMP editions).
EDITION_PREFIXES = ("www.", "m.", "amp.", "mobile.", "wap.")
_AMP_PATH = re.compile(r"(/amp/?$|\.amp(?=\.html?$)|/amp(?=/))", re.I)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonicalize_url(url: str) -> str:
    """A clean, stable spelling of url: lower-case scheme and host, no default port, no fragment,
    no tracking parameters, sorted query, normalised percent-encoding, no trailing slash on paths."""
    url = safe_url_string(url.strip())
    parts = urlsplit(url)
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)])
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    cleaned = urlunsplit((scheme, netloc, path, query, ""))
    return w3_canonicalize(cleaned, keep_fragments=False)


def identity_key(url: str) -> str:
    """What two URLs of the same article share: no scheme, no www./m./amp. host prefix, no AMP path."""
    parts = urlsplit(canonicalize_url(url))
    host = parts.netloc
    for prefix in EDITION_PREFIXES:
        if host.startswith(prefix):
            host = host[len(prefix) :]
            break
    path = _AMP_PATH.sub("", parts.path) or "/"
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")


def article_id(url: str) -> str:
    """The stable article id: a short hash of the identity key."""
    return hashlib.sha256(identity_key(url).encode("utf-8")).hexdigest()[:20]


def host_of(url: str) -> str:
    """The host of url without edition prefixes (used to match syndication credits to sources)."""
    host = (urlsplit(url).hostname or "").lower()
    for prefix in EDITION_PREFIXES:
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host
