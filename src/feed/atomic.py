"""Atomic file writes: readers see the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"  # every temporary file is a dotfile ending so: hidden from the server, found by the sweep


def stage_file(target: Path, data: bytes, *, suffix: str = TEMP_SUFFIX) -> Path:
    """Write data to a flushed, fsynced temporary file beside target (same folder, so a rename is atomic).

    A failed write (a full disk, a file size limit) removes the temporary file and names the file it was for:
    write() errors carry no file name of their own.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise
    return Path(tmp)


def write_atomic(path: Path, data: bytes | str, *, suffix: str = TEMP_SUFFIX) -> None:
    """Stage the new content beside path, then rename it over path."""
    tmp = stage_file(path, data.encode("utf-8") if isinstance(data, str) else data, suffix=suffix)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
