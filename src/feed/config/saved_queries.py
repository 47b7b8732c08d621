"""Saved queries of config/settings.yaml: each a name and the parameters of a query feed, published as
feeds/query-<name>.atom / .rss / .json (feed.publish.query_feeds; docs/search.md).

    saved_queries:
      dai-hoi-thanh-hoa: {q: "đại hội", province: "Thanh Hóa"}
      cong-doan-giao-duc: {org: "Công đoàn Giáo dục"}
"""

from __future__ import annotations

import re
from typing import Any

QUERY_KEYS = ("q", "kind", "province", "source", "org")  # what a saved query may say (as /feeds/query.atom?…)
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}\Z")


def check_saved_queries(value: Any) -> dict[str, dict[str, str]]:
    """The saved queries as name -> {key: text}; ValueError naming the first mistake."""
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping of name: {{q: …, kind: …, province: …}}, got {type(value).__name__}")
    out: dict[str, dict[str, str]] = {}
    for name, query in value.items():
        if not isinstance(name, str) or not NAME.match(name):
            raise ValueError(f"{name!r} is not a feed name (lower-case letters, digits and -, at most 48)")
        if not isinstance(query, dict) or not query:
            raise ValueError(f"{name}: expected a mapping with some of {', '.join(QUERY_KEYS)}")
        unknown = sorted(str(k) for k in query if k not in QUERY_KEYS)
        if unknown:
            raise ValueError(f"{name}: unknown keys {unknown} (known: {', '.join(QUERY_KEYS)})")
        for key, text in query.items():
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{name}.{key}: expected text, got {text!r}")
        out[name] = {str(k): str(v).strip() for k, v in query.items()}
    return out
