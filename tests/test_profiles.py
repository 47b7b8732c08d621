"""Every CMS profile in feed/config/profiles.yaml against fixture pages modelled on its real markup.

One parametrised test over the whole registry: adding a profile and its fixture adds a case, no new code.
Expected output sits beside each page as readable JSON (scripts/regen_profile_fixtures.py writes it for review).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from feed.config.sources import load_profiles

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "profiles"


def regen() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "regen_profile_fixtures", ROOT / "scripts" / "regen_profile_fixtures.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["regen_profile_fixtures"] = module
    spec.loader.exec_module(module)
    return module


def cases() -> list[tuple[str, Path]]:
    return [
        (profile, page) for profile in sorted(load_profiles()) for page in sorted((FIXTURES / profile).glob("*.html"))
    ]


def test_every_profile_has_a_fixture() -> None:
    missing = [name for name in load_profiles() if not any((FIXTURES / name).glob("*.html"))]
    assert not missing, f"profiles without a fixture page in tests/fixtures/profiles/: {missing}"


@pytest.mark.parametrize(("profile", "page"), cases(), ids=lambda v: v if isinstance(v, str) else v.stem)
def test_profile_reads_its_fixture(profile: str, page: Path) -> None:
    expected = json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))
    found = regen().expected_for(profile, page)
    assert found == expected
    # Whatever the page, a profile must answer through its selectors and leave page chrome behind.
    assert found["method"] == "selectors" and found["error"] is None
    for chrome in ("Tin liên quan", "Cơ quan chủ quản", "Quang cảnh hội nghị tổng kết", "Facebook"):
        assert chrome not in found["body_text"]
