"""One plain line instead of a traceback for what an operator's setup gets wrong: a port already taken, a data
folder this process may not write, a `serve --data` folder that does not exist; and the version.

Each message names the thing (the port, the path, the uid the process runs as: the image runs as uid 10001, see
the Dockerfile) and the fix. `unionfeed` prints it after "unionfeed COMMAND: " and exits with the code below.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

IMAGE_UID = 10001  # the Dockerfile's `unionfeed` user: a /data volume must be writable by it
SERVE_FAILED_EXIT = 9  # serve / run --serve: the port cannot be listened on (in use, or privileged)
NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


def version() -> str:
    """The installed package's version (its metadata), or the source tree's when it is not installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("unionfeed")
    except PackageNotFoundError:
        from feed import __version__

        return f"{__version__} (not installed)"


def runs_as() -> str:
    """'uid 10001 (the image's unionfeed user)', or 'uid N' elsewhere."""
    uid = os.getuid()
    return f"uid {uid}" + (" (the image's unionfeed user)" if uid == IMAGE_UID else "")


def ownership_fix(folder: Path | str) -> str:
    """How to give a folder to the user this process runs as (on a host, and for a container's volume)."""
    uid, gid = os.getuid(), os.getgid()
    return (
        f"give it to that user (chown -R {uid}:{gid} {folder}); for a container, the volume mounted on /data must be"
        f" writable by uid {IMAGE_UID} (chown -R {IMAGE_UID}:{IMAGE_UID} on the host folder, or a named volume)"
    )


def data_folder_problem(exc: BaseException, data: Path | None) -> str | None:
    """The line for an OSError meaning the data folder (or a file in it) may not be written; None otherwise."""
    if not isinstance(exc, OSError) or exc.errno not in NOT_WRITABLE:
        return None
    where = exc.filename or data or "the data folder"
    folder = data if data is not None else Path(str(where)).parent
    if exc.errno == errno.EROFS:
        return (
            f"cannot write {where}: the data folder {folder} is on a read-only file system (this process runs as"
            f" {runs_as()}): mount it read-write (docker run -v …:/data without :ro) or point --data elsewhere"
        )
    return (
        f"cannot write {where}: permission denied to this process, which runs as {runs_as()}: "
        f"{ownership_fix(folder)}; or point --data elsewhere"
    )


def store_hint(kind: str) -> str:
    """What a read-only or unopenable store's line adds: the uid the process runs as, and the chown fix."""
    if kind not in ("read_only", "cannot_open"):
        return ""
    return f" (this process runs as {runs_as()}; a container's /data volume must be writable by uid {IMAGE_UID})"


def port_problem(exc: BaseException, host: str, port: int) -> str | None:
    """The line for an OSError of binding the server's port; None for any other error."""
    if not isinstance(exc, OSError):
        return None
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use by another process (another `unionfeed serve` or"
            f" `run --serve`?): stop it (`ss -ltnp 'sport = :{port}'` names it) or choose another port with --port"
        )
    if exc.errno == errno.EACCES:
        return (
            f"port {port} on {host} may not be listened on by {runs_as()}: ports below 1024 need privileges;"
            f" use --port 8080 and map it (docker run -p {port}:8080)"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"address {host} is not one of this machine's: use --host 127.0.0.1, or 0.0.0.0 for every interface"
    return None


def missing_folder(folder: Path, *, explicit: bool) -> str:
    """The line refusing to serve a folder that does not exist (nothing is created)."""
    given = "--data" if explicit else "the data folder (UNIONFEED_DATA or data/)"
    return (
        f"{given} {folder} does not exist: nothing to serve and nothing was created; check the path, or run"
        " `unionfeed publish` (or `run`) on it first"
    )
