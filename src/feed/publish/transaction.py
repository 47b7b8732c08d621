"""Writing the published files as one transaction: stage every changed file beside its target, write a journal
of the renames that put them in place (the commit point), carry it out, then remove it.

A publish killed before its journal is on disk changed nothing that readers see; its staged files are removed
by the next publish (or the scheduler's sweep). A publish killed after it is rolled forward by the next one (or
the sweep), which carries out the rest of the journal, so every file ends up as the new version and the
manifest, renamed last, describes the files on disk. One publisher at a time holds the folder's lock, an flock
the kernel releases when its holder dies, kill -9 included, so a killed publisher never blocks the next.

Staging is write_atomic cut in two (a temporary file in the same folder, flushed, then renamed over the target):
the hashing and writing run on worker threads while the publisher renders. Nothing is fsynced while staging:
once every file is written, all of them are fsynced in one pass, then the journal, then the folder once (the
commit point). write_atomic itself serves files written alone (status.json, feeds/health.atom).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

WRITERS = 4
JOURNAL = ".publish-journal.json"
LOCK = ".publish.lock"
STAGED_SUFFIX = ".publish.tmp"  # only a publisher holding the lock writes these, so they are safe to sweep
Step = list[str]  # ["rename", staged, target] | ["link", existing, second name] | ["delete", path]; relative
TEMP_SUFFIX = ".tmp"  # every temporary file is a dotfile ending so: hidden from the server, found by the sweep


def stage_file(target: Path, data: bytes, *, suffix: str = TEMP_SUFFIX, sync: bool = True) -> Path:
    """Write data to a flushed, fsynced temporary file beside target (same folder, so a rename is atomic).
    With `sync` off the fsync is left to the caller (Stager fsyncs all its files together before its commit).
    """
    return stage_with(target, lambda handle: handle.write(data), suffix=suffix, sync=sync)


def stage_with(
    target: Path, write: Callable[[BinaryIO], object], *, suffix: str = TEMP_SUFFIX, sync: bool = True
) -> Path:
    """The staged write every published file goes through: `write` fills a new temporary file beside target
    (same folder, so a rename is atomic), which is flushed, fsynced unless `sync` is off, made readable (0644)
    and returned for the caller to rename (stage_file for bytes in memory, precompressed.compress_file streams).

    A failed write (a full disk, a file size limit) removes the temporary file and names the file it was for:
    write() errors carry no file name of their own.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise
    return Path(tmp)


def write_atomic(path: Path, data: bytes | str, *, suffix: str = TEMP_SUFFIX) -> None:
    """Stage the new content beside path, then rename it over path: readers see the old file or the new one."""
    tmp = stage_file(path, data.encode("utf-8") if isinstance(data, str) else data, suffix=suffix)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass
class Output:
    """One file to publish: its text (None: unchanged, keep it) or another output it is a second name of."""

    text: str | bytes | None
    count: int | None
    max_age: int
    link_from: str | None = None


@contextmanager
def publish_lock(out: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the folder's publish lock while the block runs; yields False when `wait` is off and it is taken."""
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def _link_atomic(source: Path, target: Path) -> None:
    """Make target a second name of source's bytes, atomically (a copy where hard links are not allowed)."""
    tmp = target.with_name(f".{target.name}.link{STAGED_SUFFIX}")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def manifest_entry(output: Output, data: bytes) -> dict[str, Any]:
    """What the manifest says of one file."""
    return {
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "count": output.count,
        "max_age": output.max_age,
    }


def _advance_mtime(target: Path, old_second: int | None) -> None:
    """Last-Modified has one-second resolution: a file rewritten within the second it was last written would
    look unchanged to a reader that sends only If-Modified-Since, so its mtime moves to the next second."""
    if old_second is not None and int(target.stat().st_mtime) <= old_second:
        os.utime(target, (old_second + 1, old_second + 1))


def apply_steps(out: Path, steps: list[Step]) -> None:
    """Carry out a journal's steps in order; steps done before an interruption are skipped or redone harmlessly."""
    for op, *paths in steps:
        if op == "rename":
            staged, target = out / paths[0], out / paths[1]
            if not staged.exists():  # renamed before the interruption
                continue
            old_second = int(target.stat().st_mtime) if target.is_file() else None
            os.replace(staged, target)
            _advance_mtime(target, old_second)
        elif op == "link":
            _link_atomic(out / paths[0], out / paths[1])
        elif op == "delete":
            (out / paths[0]).unlink(missing_ok=True)


def _sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_files(paths: Iterable[Path]) -> None:
    """fsync files written without it, together: one pass after every file is written instead of one fsync per
    write, so the file system flushes them in one go (several at a time: its journal commits them together)."""
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(_sync_file, paths))


def sync_folders(folders: Iterable[Path]) -> None:
    """fsync folders, so renames and new names in them are durable (a no-op where folders cannot be opened)."""
    for folder in folders:
        try:
            fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            continue
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def recover(out: Path) -> int:
    """Finish the journal of a publish killed after its commit point; returns how many steps it had.
    Call with the publish lock held."""
    journal = out / JOURNAL
    try:
        steps = json.loads(journal.read_text(encoding="utf-8"))["steps"]
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, KeyError, TypeError) as exc:  # written atomically, so not expected
        log.warning("unreadable publish journal %s dropped: %s", journal, exc)
        journal.unlink(missing_ok=True)
        return 0
    apply_steps(out, steps)
    journal.unlink()
    log.warning(
        "finished the renames of an interrupted publish", extra={"event": "publish_recovered", "steps": len(steps)}
    )
    return len(steps)


def remove_staged(out: Path) -> int:
    """Remove the files staged by publishes killed before their commit point; call with the lock held."""
    removed = 0
    for path in out.rglob(f".*{STAGED_SUFFIX}"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def finish_interrupted(out: Path) -> tuple[int, int]:
    """Roll forward a committed publish, drop an uncommitted one's files: (journal steps, files removed)."""
    return recover(out), remove_staged(out)


class Stager:
    """Writes files as one transaction: every changed file is staged (hashed, written to a temporary file,
    fsynced) on worker threads, which release the GIL, while the publisher goes on rendering; commit() then
    writes the journal and renames them all into place. Until the journal is written nothing a reader sees has
    changed, so a failure before it leaves every published file as it was (abort() removes the staged files)."""

    def __init__(self, out: Path, previous: dict[str, dict[str, Any]]) -> None:
        self.out = out
        self.previous = previous
        self.pool = ThreadPoolExecutor(WRITERS)
        self.staged: dict[str, Future[tuple[dict[str, Any], Path | None]]] = {}
        self.last: list[Step] = []  # the publisher's state and the manifest, renamed after everything else
        self.committed = False

    @staticmethod
    def _beside(path: str, staged: Path) -> str:
        """The staged file's path relative to the folder: it sits beside its target (mkstemp makes it absolute)."""
        return (PurePosixPath(path).parent / staged.name).as_posix()

    def _stage(self, path: str, output: Output, text: str | bytes) -> tuple[dict[str, Any], Path | None]:
        target = self.out / path
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        entry = manifest_entry(output, data)
        before = self.previous.get(path)
        if (
            before
            and before.get("sha256") == entry["sha256"]
            and target.is_file()
            and target.stat().st_size == len(data)
        ):
            return entry, None
        return entry, stage_file(target, data, suffix=STAGED_SUFFIX, sync=False)

    def stage(self, outputs: dict[str, Output], *, release: bool = False) -> None:
        """Start staging every rendered output. With `release` the outputs let go of their text once handed to
        the writers (output.text becomes None; settle knows them as staged), so a publish holds each file's text
        only until it is written, not every file at once."""
        for path, output in outputs.items():
            if output.text is not None and path not in self.staged:
                self.staged[path] = self.pool.submit(self._stage, path, output, output.text)
                if release:
                    output.text = None

    def stage_last(self, path: str, text: str) -> None:
        """Stage a file that is renamed after every other one (the publisher's state, the manifest)."""
        tmp = stage_file(self.out / path, text.encode("utf-8"), suffix=STAGED_SUFFIX, sync=False)
        self.last.append(["rename", self._beside(path, tmp), path])

    def settle(self, outputs: dict[str, Output]) -> tuple[dict[str, dict[str, Any]], list[Step]]:
        """Wait until every output is staged; returns the manifest entries and the steps that publish them."""
        self.stage(outputs)
        results = {path: future.result() for path, future in self.staged.items()}
        self.pool.shutdown()
        entries: dict[str, dict[str, Any]] = {}
        steps: list[Step] = []
        for path, (entry, tmp) in results.items():
            entries[path] = entry
            if tmp is not None:
                steps.append(["rename", self._beside(path, tmp), path])
        for path, output in outputs.items():
            target, before = self.out / path, self.previous.get(path)
            if output.link_from is not None:
                entries[path] = {**entries[output.link_from], "max_age": output.max_age}
                if not (before and before.get("sha256") == entries[path]["sha256"] and target.is_file()):
                    steps.append(["link", output.link_from, path])  # today's dated snapshot: latest.json too
            elif output.text is None and path not in results:  # unchanged: the file on disk is what this run
                # would write (a staged output whose text was released is in `results`)
                known = before if before and "sha256" in before else manifest_entry(output, target.read_bytes())
                entries[path] = {**known, "count": output.count, "max_age": output.max_age}
        return entries, steps

    def commit(self, steps: list[Step]) -> list[str]:
        """Write the journal (the commit point), carry it out, remove it; returns the paths that changed."""
        steps = [*steps, *self.last]
        if not steps:  # nothing changed: nothing is written, not even the journal
            return []
        sync_files(self.out / step[1] for step in steps if step[0] == "rename")  # all at once, then the journal
        journal = stage_file(self.out / JOURNAL, json.dumps({"steps": steps}).encode("utf-8"), suffix=STAGED_SUFFIX)
        os.replace(journal, self.out / JOURNAL)
        sync_folders([self.out])  # the commit point survives a power cut, not only a killed process
        self.committed = True  # from here on an interruption is rolled forward, never back
        apply_steps(self.out, steps)
        sync_folders({(self.out / step[-1]).parent for step in steps})  # the renames are on disk before the
        (self.out / JOURNAL).unlink()  # journal that would redo them goes
        return [step[2] for step in steps if step[0] in ("rename", "link") and step not in self.last]

    def abort(self) -> None:
        """Drop every staged file (after a failure before the commit point: the published ones stay as they were)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.committed:
            return  # the journal is on disk: the next publish finishes it
        for future in self.staged.values():
            if future.done() and not future.cancelled() and future.exception() is None:
                tmp = future.result()[1]
                if tmp is not None:
                    tmp.unlink(missing_ok=True)
        for _, staged, _ in self.last:
            (self.out / staged).unlink(missing_ok=True)
