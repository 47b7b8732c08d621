"""What a test needs from outside the repository: ../shared material and Debian programs.

On a developer's machine a missing need skips the test with its reason. Under CI (`CI=true`) it fails it:
`.ci/run` lays ../shared beside the clone and installs the programs, so a missing one there is a broken
CI, not a reason to pass quietly.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def in_ci() -> bool:
    """True when the run is CI's (`CI=true`, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(reason: str) -> NoReturn:
    """Skip the test, or fail it under CI, because `reason` is not here."""
    if in_ci():
        pytest.fail(
            f"{reason} (CI=true: a need that is missing under CI fails the test instead of skipping it)", pytrace=False
        )
    pytest.skip(reason)


def shared_path(*parts: str) -> Path:
    """A file or folder of ../shared, or skip (fail under CI) when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        missing(f"../shared/{'/'.join(parts)} is not here")
    return path


def program(name: str) -> str:
    """The path of a program on PATH, or skip (fail under CI) when it is not installed."""
    found = shutil.which(name)
    if found is None:
        missing(f"{name} is not installed")
    return found
