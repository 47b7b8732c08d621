"""The walls import-linter cannot express (its contracts, in pyproject.toml, run in .ci/run), and the floor plan.

- publish and health never do network I/O: import-linter names external packages only whole, and urllib.parse
  is fine where urllib.request is not, so the modules are read here.
- every box of src/feed is a package whose docstring says what it may import (docs/architecture.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "feed"
NETWORK = ("urllib.request", "urllib.error", "http", "socket", "ssl", "smtplib", "scrapy", "twisted", "requests")
BOXES = ("config", "lang", "extract", "discover", "store", "classify", "dedup", "publish", "health", "serve", "app")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (function-level imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("box", ["publish", "health"])
def test_publish_and_health_do_no_network_io(box: str) -> None:
    for path in sorted((SRC / box).rglob("*.py")):
        reached = {
            name for name in imported_modules(path) if any(name == net or name.startswith(net + ".") for net in NETWORK)
        }
        assert not reached, f"{path.relative_to(SRC)} imports {sorted(reached)}: network I/O belongs in feed.app"


def test_the_scanner_sees_a_network_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def ping():\n    import urllib.request\n    from http import client\n", encoding="utf-8")
    assert {"urllib.request", "http", "http.client"} <= imported_modules(sample)


@pytest.mark.parametrize("box", BOXES)
def test_every_box_says_what_it_owns_and_may_import(box: str) -> None:
    init = SRC / box / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
    assert "import" in doc.lower() and len(doc.split()) > 12, f"{init}: say what the box owns and may import"


def test_no_flat_modules_left_beside_the_boxes() -> None:
    flat = sorted(p.name for p in SRC.glob("*.py"))
    assert flat == ["__init__.py", "__main__.py", "ingest.py", "records.py"], flat
