"""Running the `unionfeed` command as a user would: a fresh interpreter, the real console script's module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `unionfeed` in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "feed.app.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        input=stdin,
        check=False,
    )
