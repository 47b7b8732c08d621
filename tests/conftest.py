"""Shared fixtures: the bundled sample sites on loopback. Helpers live in tests/support/."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from .support.databases import database_url, postgres_url  # noqa: F401  (fixtures: the store on each engine)
from .support.demo_world import DemoWorld
from .support.devtools import browser  # noqa: F401  (fixture: headless Chromium for page tests)
from .support.feedworld import world  # noqa: F401  (fixture: feedworld's store on each engine, for publish tests)

# Property tests replay the same examples on every run ("repeatable", the default: a CI run fails only for a
# change in code or dependencies); HYPOTHESIS_PROFILE=explore searches fresh examples, ten times as many.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorld]:
    """The sample sites served on 127.0.0.1 and a sources file pointing at them."""
    from feed.app.demo import serve_sites, sites_root, write_sources

    root = sites_root()
    data = tmp_path_factory.mktemp("demo-data")
    by_site = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    expected = {f"{site}{path}": truth for site, pages in by_site.items() for path, truth in pages.items()}
    with serve_sites(root) as bases:
        sources_file = write_sources(root / "sources.yaml", bases, data / "sources.yaml")
        (data / "settings.yaml").write_text(
            "politeness:\n  download_delay: 0\n  autothrottle_start_delay: 0.01\n  retry_times: 1\n"
            "  download_timeout: 10\ncrawl_time_limit: 120\n",
            encoding="utf-8",
        )
        yield DemoWorld(bases, sources_file, data, expected)
