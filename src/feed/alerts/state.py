"""What each channel was sent, in data/alerts-state.json: the meeting GUIDs it was told about (those still in the
meetings feed) and the newest health event it was told about. A channel's state moves only after its receiver
accepted the message, so a failure sends the same news again next time (nothing skipped) and a success never
does (nothing sent twice). Written whole and renamed into place: a crash leaves the old state or the new one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

STATE_FILE = "alerts-state.json"


def load_state(data: Path) -> dict[str, Any]:
    """The state of every channel; an unreadable file counts as none (the channels start from now again)."""
    try:
        doc = json.loads((data / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    channels = doc.get("channels") if isinstance(doc, dict) else None
    return channels if isinstance(channels, dict) else {}


def save_state(data: Path, channels: dict[str, Any]) -> None:
    data.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": 1, "channels": channels}, ensure_ascii=False, indent=1, sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=".alerts-state.", suffix=".tmp", dir=data)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, data / STATE_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
