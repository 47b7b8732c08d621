"""A child never outlives its parent: crawl and publish children stop when the process that started them dies.

Children are forked by multiprocessing's forkserver, which exits as soon as the scheduler (or command) that
started it is gone, however it went (a signal it does not handle, kill -9, the OOM killer), once each child has
closed its copy of the server's keep-alive pipe (done here). Two things then stop the child: on Linux the kernel
sends it `signum` the moment its parent dies (prctl PR_SET_PDEATHSIG), and everywhere a watchdog thread notices
that its parent changed (it was re-parented), sends `signum` itself, and ends the process `grace` seconds later
if it has not finished by then. A crawl asked to stop this way closes the spider and records its run, as on
SIGTERM from the scheduler.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
import threading
from time import monotonic

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
WATCH_EVERY = 0.5  # seconds between the watchdog's looks at its parent
ORPHAN_EXIT = 70  # exit status of a child ended by the watchdog because its parent died


def _prctl_pdeathsig(signum: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _let_the_forkserver_go() -> None:
    """Close this child's copy of the forkserver's keep-alive pipe.

    The forkserver exits when every write end of that pipe is closed, and multiprocessing hands one to each child
    it forks: as long as a crawl child runs, the forkserver would outlive a dead scheduler, and so stay the
    child's living parent. Nothing in a child uses it (a child needing children of its own starts a new server).
    """
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if server is None or fd is None:
        return
    try:
        os.close(fd)
    except OSError:
        pass
    server._forkserver_alive_fd = None


def die_with_parent(signum: int, grace: float) -> None:
    """Arrange for this process to get `signum` when its parent dies, and to end `grace` seconds after that."""
    _let_the_forkserver_go()
    parent = os.getppid()
    armed = _prctl_pdeathsig(signum)
    if os.getppid() != parent or parent == 1:  # the parent died before the arrangement was made
        _orphaned(signum, grace, signalled=False)
    watch = threading.Thread(
        target=_watch, args=(parent, signum, grace, armed), name="unionfeed-orphan-watch", daemon=True
    )
    watch.start()


def _watch(parent: int, signum: int, grace: float, armed: bool) -> None:
    while os.getppid() == parent:
        threading.Event().wait(WATCH_EVERY)
    _orphaned(signum, grace, signalled=armed)


def _orphaned(signum: int, grace: float, *, signalled: bool) -> None:
    """Stop as asked by `signum` (unless the kernel sent it already: a second SIGTERM makes Scrapy stop uncleanly),
    and end the process if it is still here `grace` seconds later."""
    log.warning("the parent process died: stopping", extra={"event": "orphaned", "pid": os.getpid()})
    if not signalled:
        os.kill(os.getpid(), signum)
    deadline = monotonic() + grace
    while monotonic() < deadline:
        threading.Event().wait(0.1)
    os._exit(ORPHAN_EXIT)
