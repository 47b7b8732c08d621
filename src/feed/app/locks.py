"""Who may work on a data folder: one scheduler at a time, and one crawl of each source at a time.

Both are flock(2) locks on files in the data folder, so the kernel releases them when their holder dies, however
it dies (kill -9 included): a stale lock file is never in the way. The holder writes its pid, host and start
time into the file, so whoever is refused can say who holds it.

- `data/.scheduler.lock`: held by `unionfeed run` for its whole life; a second one on the same folder is refused.
- `data/locks/<slug>.lock`: held by whichever process crawls that source (the scheduler's crawl child, or
  `unionfeed crawl`); a crawl finding a source's lock held leaves that source out (it is being fetched already)
  and crawls the rest, so no article is fetched twice.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from feed.config.sources import Source

SCHEDULER_LOCK = ".scheduler.lock"
SOURCE_LOCKS = "locks"
BUSY_EXIT = 5  # exit status: a scheduler already runs on the data folder, or sources were being crawled already


class LockHeld(Exception):
    """Another live process holds the lock; `holder` says who (pid, host, since), as it wrote it."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is held by {holder}")
        self.path = path
        self.holder = holder


def _holder_line() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"


def try_lock(path: Path) -> IO[str]:
    """Take the flock on `path` without waiting and write who holds it; LockHeld naming the holder when taken.

    The returned file keeps the lock while open (close it, or end the process, to release it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process (it has not written its name yet)"
        handle.close()
        raise LockHeld(path, holder) from None
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    handle.truncate()
    handle.write(_holder_line() + "\n")
    handle.flush()
    return handle


@contextmanager
def scheduler_lock(data: Path) -> Iterator[None]:
    """Hold the data folder's scheduler lock for the block; LockHeld when another scheduler runs on it."""
    handle = try_lock(data / SCHEDULER_LOCK)
    try:
        yield
    finally:
        handle.close()


def source_lock_path(data: Path, slug: str) -> Path:
    return data / SOURCE_LOCKS / f"{slug}.lock"


@dataclass
class Claim:
    """The sources this process may crawl now, and those another process is crawling (slug -> holder)."""

    sources: list[Source] = field(default_factory=list)
    busy: dict[str, str] = field(default_factory=dict)
    handles: list[IO[str]] = field(default_factory=list)

    def release(self) -> None:
        for handle in self.handles:
            handle.close()
        self.handles.clear()


@contextmanager
def claim_sources(data: Path, sources: Iterable[Source]) -> Iterator[Claim]:
    """Take each source's crawl lock for the block; the sources whose lock is held elsewhere are left out."""
    claim = Claim()
    try:
        for source in sources:
            try:
                claim.handles.append(try_lock(source_lock_path(data, source.slug)))
            except LockHeld as held:
                claim.busy[source.slug] = held.holder
            else:
                claim.sources.append(source)
        yield claim
    finally:
        claim.release()
