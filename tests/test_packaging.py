"""What `pip install .` (the container image's install) puts in site-packages is the whole tree.

The image is built with a plain, non-editable install: a package missing from pyproject's list, or a data file no
package-data pattern names, is absent there while every test (run from the tree) passes. The image built on
2026-12-07 lacked feed.alerts this way, and `unionfeed run` ended with ModuleNotFoundError at start.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUP = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _folder(package: str) -> Path:
    top, _, rest = package.partition(".")
    base = ROOT / SETUP["package-dir"][top]
    return base.joinpath(*rest.split(".")) if rest else base


def _tree_packages() -> set[str]:
    found = set()
    for top, where in SETUP["package-dir"].items():
        base = ROOT / where
        for init in base.rglob("__init__.py"):
            if "__pycache__" not in init.parts:
                found.add(".".join([top, *init.parent.relative_to(base).parts]))
    return found


def test_every_package_of_the_tree_is_installed() -> None:
    listed = set(SETUP["packages"])
    assert _tree_packages() - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - _tree_packages() == set(), "listed packages that are not in the tree"


def _owner(path: Path, packages: set[str]) -> str:
    """The nearest package folder holding path (what setuptools matches package-data patterns against)."""
    best = ""
    for package in packages:
        folder = _folder(package)
        if path.is_relative_to(folder) and len(folder.parts) > len(_folder(best).parts if best else ()):
            best = package
    return best


def test_every_data_file_of_a_package_is_installed() -> None:
    packages = set(SETUP["packages"])
    patterns: dict[str, list[str]] = SETUP.get("package-data", {})
    missing = []
    for package in packages:
        for path in _folder(package).rglob("*"):
            if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
                continue
            owner = _owner(path, packages)
            if owner != package:
                continue
            relative = path.relative_to(_folder(owner)).as_posix()
            globs = patterns.get(owner, [])
            # setuptools' "**" crosses folders; fnmatch's "*" does too, so "demo_sites/**/*" matches deep files.
            if not any(fnmatch.fnmatch(relative, g) or fnmatch.fnmatch(relative, g.replace("**/", "")) for g in globs):
                missing.append(f"{owner}: {relative}")
    assert missing == [], "add package-data patterns in pyproject.toml for these"
