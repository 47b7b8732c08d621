"""Shared fixtures: the repository root, ../shared (optional), and the bundled sample sites on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .support.needs import shared_path

ROOT = Path(__file__).resolve().parents[1]


def shared_dir(name: str) -> Path:
    """A folder of ../shared, or skip the test when it is absent (fail it under CI)."""
    return shared_path(name)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `unionfeed` in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "feed.cli", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})}, input=stdin, check=False,
    )


@dataclass
class DemoWorld:
    bases: dict[str, str]
    sources_file: Path
    data: Path
    expected: dict[str, Any]

    def url(self, key: str) -> str:
        """The loopback URL of an expected page, keyed 'site-slug/path'."""
        slug, _, path = key.partition("/")
        return f"{self.bases[slug]}/{path}"


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorld]:
    """The sample sites served on 127.0.0.1 and a sources file pointing at them."""
    from feed.demo import serve_sites, sites_root, write_sources

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
