"""Regenerate the expected JSON beside each profile fixture page, for a person to review as a diff.

    python scripts/regen_profile_fixtures.py            # every profile
    python scripts/regen_profile_fixtures.py nukeviet   # one profile

Each tests/fixtures/profiles/<profile>/<name>.html is extracted with that profile's selectors and the fields
tests/test_profiles.py compares are written to <name>.expected.json (UTF-8, Vietnamese kept literal).
Review `git diff tests/fixtures/profiles` before committing: the test trusts these files.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from feed.config.sources import get_profile
from feed.extract.article import extract

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "profiles"
FETCHED = datetime.fromisoformat("2026-02-01T00:00:00+07:00")
FIELDS = ("method", "title", "published_at", "author", "lead", "body_text", "syndicated_from", "image_urls", "error")
_CANONICAL = re.compile(r'<link rel="canonical" href="([^"]+)"')


def page_url(html: str) -> str:
    """The fixture's own URL: its canonical link (fixtures are pages as saved from their site)."""
    match = _CANONICAL.search(html)
    return match.group(1) if match else "https://example.vn/"


def expected_for(profile: str, page: Path) -> dict[str, Any]:
    """The fields a profile's selectors read off one fixture page."""
    html = page.read_text(encoding="utf-8")
    art = extract(html.encode("utf-8"), page_url(html), selectors=get_profile(profile).selectors, fetched_at=FETCHED)
    record = art.to_json()
    return {name: record[name] for name in FIELDS}


def main(argv: list[str]) -> int:
    """Write <name>.expected.json for every fixture of the named profiles (all when none is named)."""
    profiles = argv or sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
    for profile in profiles:
        for page in sorted((FIXTURES / profile).glob("*.html")):
            out = page.with_suffix(".expected.json")
            out.write_text(
                json.dumps(expected_for(profile, page), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
