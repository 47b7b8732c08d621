"""The shapes stages pass to each other: the extracted article (extract ▸ ingest) and the meeting verdict
with its facts (classify ▸ store ▸ publish). The stored article is the store's row (feed.store.schema)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

MEETING_KINDS = (
    "tong_ket",
    "so_ket",
    "trien_khai",
    "dai_hoi",
    "hoi_nghi_can_bo",
    "hoi_nghi_bch",
    "other_meeting",
)

# Vietnamese labels for the kinds, used in feeds and the index page.
KIND_LABELS = {
    "tong_ket": "Hội nghị tổng kết",
    "so_ket": "Hội nghị sơ kết",
    "trien_khai": "Hội nghị triển khai nhiệm vụ",
    "dai_hoi": "Đại hội",
    "hoi_nghi_can_bo": "Hội nghị cán bộ, công chức, viên chức, người lao động",
    "hoi_nghi_bch": "Hội nghị Ban Chấp hành",
    "other_meeting": "Hội nghị, hội thảo khác",
}


@dataclass
class Extracted:
    """What the extractor reads off one page; no store or classification state."""

    url: str
    # The URL the page names as its own (rel=canonical, og:url) when trustworthy (feed.lang.urls.pick_canonical):
    # a hint for dedup and display, never the key a page is stored under (that is its own URL).
    canonical_url: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    author: str | None = None
    lead: str | None = None
    body_text: str = ""
    body_html: str = ""
    image_urls: list[str] = field(default_factory=list)
    syndicated_from: str | None = None
    language: str = "vi"
    method: str = "generic"  # which path answered the body: selectors | metadata | density | generic
    error: str | None = None
    # The configured selectors that found nothing on this page ("title", "body" or "title, body"): the page was
    # read by the metadata or main-text layers instead. Selectors are a hint; a miss flags them as stale.
    selectors_missed: str | None = None
    # The first http(s) URL the page declares as canonical (rel=canonical, else og:url), as written, trusted or not:
    # the crawl counts a declaration on another host as ignored. Not part of the record (to_json leaves it out).
    declared_canonical: str | None = None
    # The body's whole length when it was longer than feed.extract.bounds.BODY_MAX_CHARS and cut there (at a
    # paragraph or sentence end): the page is kept, and the crawl counts and names it.
    body_cut_from: int | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("declared_canonical", None)
        for key in ("published_at", "updated_at"):
            value = out[key]
            out[key] = value.isoformat() if value else None
        return out


@dataclass
class Official:
    name: str
    role: str | None = None


@dataclass
class Meeting:
    """The classifier's verdict and the facts of the meeting a report describes."""

    is_report: bool = False
    score: float = 0.0
    kind: str | None = None
    org: str | None = None
    period: str | None = None
    held_on: str | None = None  # ISO date (YYYY-MM-DD) when it resolves, else None
    held_on_text: str | None = None  # the words the date was read from, as written
    location: str | None = None
    officials: list[Official] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    cues: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Every field in order, officials as name/role: what asdict gives, written out (asdict's recursive copy was
        a third of the snapshot's encoding time; tests/test_records.py keeps the two equal)."""
        return {
            "is_report": self.is_report,
            "score": self.score,
            "kind": self.kind,
            "org": self.org,
            "period": self.period,
            "held_on": self.held_on,
            "held_on_text": self.held_on_text,
            "location": self.location,
            "officials": [{"name": o.name, "role": o.role} for o in self.officials],
            "figures": list(self.figures),
            "cues": list(self.cues),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Meeting:
        """The one reading of a stored verdict: unknown keys dropped, missing ones defaulted, lists as lists.

        An official that is not a name and a role is a TypeError: a verdict no classifier wrote is not guessed at.
        """
        if not data:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["officials"] = [o if isinstance(o, Official) else Official(**o) for o in known.get("officials") or []]
        for key in ("figures", "cues"):
            known[key] = list(known.get(key) or [])
        return cls(**known)
