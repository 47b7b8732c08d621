"""The bundled sample sites served on loopback, as the `demo_world` fixture (tests/conftest.py) hands them out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
