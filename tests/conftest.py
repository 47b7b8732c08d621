"""Shared fixtures: the bundled sample sites on loopback. Helpers live in tests/support/."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from .support.databases import database_url, postgres_url  # noqa: F401  (fixtures: the store on each engine)
from .support.demo_world import DemoWorld


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
