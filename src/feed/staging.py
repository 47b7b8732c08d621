"""Writing the published files in two phases: stage every changed file beside its target, then rename them
all into place, so that readers see the old set or the new one and a failed publish changes nothing.

Staging is feed.atomic.write_atomic cut in two (a temporary file in the same folder, flushed, fsynced, then
renamed over the target): the hashing and writing run on worker threads while the publisher renders.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feed.atomic import stage_file

WRITERS = 4


@dataclass
class Output:
    """One file to publish: its text (None: unchanged, keep it) or another output it is a second name of."""

    text: str | bytes | None
    count: int | None
    max_age: int
    link_from: str | None = None


def _link_atomic(source: Path, target: Path) -> None:
    """Make target a second name of source's bytes, atomically (a copy where hard links are not allowed)."""
    tmp = target.with_name(f".{target.name}.link.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def manifest_entry(output: Output, data: bytes) -> dict[str, Any]:
    """What the manifest says of one file."""
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "count": output.count,
            "max_age": output.max_age}


def _advance_mtime(target: Path, old_second: int | None) -> None:
    """Last-Modified has one-second resolution: a file rewritten within the second it was last written would
    look unchanged to a reader that sends only If-Modified-Since, so its mtime moves to the next second."""
    if old_second is not None and int(target.stat().st_mtime) <= old_second:
        os.utime(target, (old_second + 1, old_second + 1))


class Stager:
    """Writes files in two phases: every changed file is staged (hashed, written to a temporary file, fsynced)
    on worker threads, which release the GIL, while the publisher goes on rendering; commit() then renames
    them all into place. Until commit nothing a reader sees has changed, so a failure anywhere before it
    leaves every published file as it was (abort() removes the temporary files)."""

    def __init__(self, out: Path, previous: dict[str, dict[str, Any]]) -> None:
        self.out = out
        self.previous = previous
        self.pool = ThreadPoolExecutor(WRITERS)
        self.staged: dict[str, Future[tuple[dict[str, Any], Path | None]]] = {}

    def _stage(self, path: str, output: Output) -> tuple[dict[str, Any], Path | None]:
        assert output.text is not None
        target = self.out / path
        data = output.text if isinstance(output.text, bytes) else output.text.encode("utf-8")
        entry = manifest_entry(output, data)
        before = self.previous.get(path)
        if before and before.get("sha256") == entry["sha256"] and target.is_file() \
                and target.stat().st_size == len(data):
            return entry, None
        return entry, stage_file(target, data)

    def stage(self, outputs: dict[str, Output]) -> None:
        """Start staging every rendered output."""
        for path, output in outputs.items():
            if output.text is not None and path not in self.staged:
                self.staged[path] = self.pool.submit(self._stage, path, output)

    def commit(self, outputs: dict[str, Output]) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """Rename every staged file into place; returns manifest entries and the changed paths."""
        self.stage(outputs)
        results = {path: future.result() for path, future in self.staged.items()}
        self.pool.shutdown()
        entries: dict[str, dict[str, Any]] = {}
        changed: list[str] = []
        try:
            for path, (entry, tmp) in results.items():
                entries[path] = entry
                if tmp is not None:
                    target = self.out / path
                    old_second = int(target.stat().st_mtime) if target.is_file() else None
                    os.replace(tmp, target)
                    _advance_mtime(target, old_second)
                    changed.append(path)
        finally:  # a rename that failed (disk gone) leaves no temporary files behind
            for _, tmp in results.values():
                if tmp is not None:
                    tmp.unlink(missing_ok=True)
        for path, output in outputs.items():
            target, before = self.out / path, self.previous.get(path)
            if output.link_from is not None:
                entries[path] = {**entries[output.link_from], "max_age": output.max_age}
                if not (before and before.get("sha256") == entries[path]["sha256"] and target.is_file()):
                    _link_atomic(self.out / output.link_from, target)  # today's dated snapshot: latest.json too
                    changed.append(path)
            elif output.text is None:  # unchanged: the file on disk is what this run would write
                known = before if before and "sha256" in before else manifest_entry(output, target.read_bytes())
                entries[path] = {**known, "count": output.count, "max_age": output.max_age}
        return entries, changed

    def abort(self) -> None:
        """Drop every staged file (after a failure: the published ones stay as they were)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        for future in self.staged.values():
            if future.done() and not future.cancelled() and future.exception() is None:
                tmp = future.result()[1]
                if tmp is not None:
                    tmp.unlink(missing_ok=True)
