"""A store that cannot be opened or written, told in one plain line naming the file and the fix.

SQLite's own words ("disk I/O error", "file is not a database") reach the operator through a SQLAlchemy
traceback otherwise, from every command. `explain` turns a driver error into a StoreError (locked, read-only,
damaged, full disk, cannot open); `check_file` finds a damaged or truncated SQLite file before it is opened; a
store's file identity (device and inode) is taken when it is opened and compared before each transaction, so
a file deleted or replaced under a running process stops it instead of writes going to an unlinked file.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError

EXIT_STATUS = 6  # exit status of a command stopped by its store (the line printed says why and what to do)
LOW_SPACE = 256 * 1024  # a disk I/O error with less free space than this is a full disk
HEADER = b"SQLite format 3\x00"


class StoreError(RuntimeError):
    """The store cannot be opened or written. `kind`: locked, read_only, damaged, full, cannot_open, io, gone,
    replaced. Every kind stops the crawl of the process meeting it: the next write would fail the same way."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def _read_only(path: Path) -> bool:
    folder = path.parent if path.parent.exists() else Path(".")
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    if os.geteuid() == 0:  # root writes regardless of permission bits
        return False
    return not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK))


def _low_space(path: Path) -> bool:
    folder = path.parent if path.parent.exists() else Path(".")
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < LOW_SPACE


def _driver_error(exc: BaseException) -> BaseException | None:
    """The sqlite3 error inside a SQLAlchemy one (or the error itself)."""
    if isinstance(exc, DBAPIError):
        return exc.orig if isinstance(exc.orig, BaseException) else None
    return exc if isinstance(exc, sqlite3.Error) else None


def explain(exc: BaseException, database: str, busy_seconds: float) -> StoreError | None:
    """A StoreError for a driver error that means the store cannot be used; None for any other error (an
    integrity error, a bug): those keep their own message and traceback."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, IntegrityError) or isinstance(exc, sqlite3.IntegrityError):
        return None
    driver = _driver_error(exc)
    if driver is None:
        return None
    name = str(getattr(driver, "sqlite_errorname", "") or "")
    text = str(driver).lower()
    path = Path(database)
    where = f"the store {database}"
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED") or "locked" in text:
        return StoreError(
            f"{where} is locked by another writer past the {busy_seconds:g} s busy timeout: stop the other"
            " process writing it (another crawl or scheduler, a sqlite3 shell, a backup) and run again",
            "locked",
        )
    if name.startswith("SQLITE_READONLY") or "readonly" in text or (_read_only(path) and "open" in text):
        return StoreError(
            f"{where} is read-only (the file, its folder or its file system): make them writable by this user"
            " (chmod u+w, or mount the volume read-write) and run again",
            "read_only",
        )
    if (
        name.startswith("SQLITE_FULL")
        or "disk is full" in text
        or (name.startswith("SQLITE_IOERR") and _low_space(path))
    ):
        return StoreError(
            f"{where} cannot be written: the disk holding it is full (SQLite said: {driver}); free some space on"
            f" {path.parent} and run again: nothing stored before is lost",
            "full",
        )
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in text or "not a database" in text:
        return StoreError(
            f"{where} is damaged (SQLite said: {driver}): restore it from a backup, or move it aside and a new"
            " store is created on the next run (every article is then fetched again)",
            "damaged",
        )
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return StoreError(
            f"{where} cannot be opened (SQLite said: {driver}): check that its folder {path.parent} exists and is"
            " writable by this user",
            "cannot_open",
        )
    if name.startswith("SQLITE_IOERR") or "i/o error" in text:
        return StoreError(
            f"{where} could not be read or written (SQLite said: {driver}): check the disk holding it (free space,"
            " `dmesg` for device errors) and run again",
            "io",
        )
    return None


CREATION_WAITS = 20  # pauses of CREATION_PAUSE s for a store another process is creating (check_file)
CREATION_PAUSE = 0.05


def _head(path: Path) -> tuple[bytes, int]:
    with path.open("rb") as handle:
        head = handle.read(100)
    return head, path.stat().st_size


def check_file(database: str) -> None:
    """Raise StoreError for a file that is not a whole SQLite database: another kind of file (or garbage) where
    the store should be, or one shorter than its header says (truncated by a copy or a full disk)."""
    path = Path(database)
    try:
        head, size = _head(path)
        # Another process may be creating this store this very moment: its first page is not written yet (a file
        # grown but still short or zero-filled). Give it a moment before calling it damaged.
        for _ in range(CREATION_WAITS):
            if size == 0 or (len(head) == 100 and head.strip(b"\0")):
                break
            time.sleep(CREATION_PAUSE)
            head, size = _head(path)
    except FileNotFoundError:
        return  # a new store
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise StoreError(
                f"the store {database} cannot be read ({exc.strerror}): make it readable by this user", "cannot_open"
            ) from exc
        raise StoreError(f"the store {database} cannot be read ({exc}): check the disk holding it", "io") from exc
    if size == 0:
        return  # created empty by an earlier open: SQLite makes it a database
    if len(head) < 100 or not head.startswith(HEADER):
        raise StoreError(
            f"the store {database} is damaged: it is not a SQLite database (its first bytes are not SQLite's"
            " header): restore it from a backup, or move it aside and a new store is created on the next run"
            " (every article is then fetched again)",
            "damaged",
        )
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    header_size_valid = pages and head[24:28] == head[92:96]
    if header_size_valid and size < pages * page_size:
        raise StoreError(
            f"the store {database} is damaged: truncated to {size} bytes where its header says"
            f" {pages * page_size}: restore it from a backup, or move it aside and a new store is created on the"
            " next run (every article is then fetched again)",
            "damaged",
        )


def file_identity(database: str) -> tuple[int, int] | None:
    """The store file's device and inode (None when it does not exist)."""
    try:
        st = os.stat(database)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def check_identity(database: str, opened: tuple[int, int]) -> None:
    """Raise StoreError when the file opened is no longer the one at its path (deleted, or replaced)."""
    now = file_identity(database)
    if now == opened:
        return
    if now is None:
        raise StoreError(
            f"the store {database} was deleted while this process was using it: nothing more is written (it would"
            " go to the deleted file); restore the file, or run again to start a new store",
            "gone",
        )
    raise StoreError(
        f"the store {database} was replaced by another file while this process was using it: nothing more is"
        " written to either; run again to use the new file",
        "replaced",
    )


def describe(url: Any) -> str:
    """A store's name for messages: the SQLite file, else its URL without the password."""
    if url.get_backend_name() == "sqlite" and url.database:
        return str(url.database)
    return str(url.render_as_string(hide_password=True))
