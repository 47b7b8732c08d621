"""A second Store on a file this process already has open must not cost the first one its SQLite locks.

Store() first reads the file's header with a plain open()/close() (feed.store.faults.check_file). POSIX drops
every lock a process holds on a file when any descriptor of it is closed, so on a file already open here that
read took the first Store's locks away. Another process closing its connection then believed it was the last
one, checkpointed and removed the WAL, and the first Store went on reading a snapshot of its own: the scheduler
(one Store for its life, a second one opened to plan the first polls) no longer saw the crawl runs its children
wrote ("crawl left no run record" after every crawl but the first), and SQLite's documentation counts this among
the ways to corrupt a database.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

from feed.records import Extracted
from feed.store.api import Store

WRITER = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA journal_mode=WAL")
c.execute("INSERT INTO crawl_runs (source_slug, started_at, finished_at, pages, new, updated, errors,"
          " finish_reason, stats) VALUES (?, '2026-03-09 08:00:00', '2026-03-09 08:00:09', 3, 0, 0, 1,"
          " 'finished', '{}')", (sys.argv[2],))
c.commit()
c.close()  # the last connection this process knows of: SQLite checkpoints, and removes the WAL if it may
"""


def test_a_second_store_leaves_the_first_one_seeing_other_processes_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'unionfeed.sqlite'}"
    first = Store(url)
    first.upsert(
        "ldld-th",
        Extracted(url="https://ldld.thanhhoa.gov.vn/tin/1.html", title="Hội nghị", body_text="Sáng 9/3, hội nghị."),
        fetched_at=datetime.fromisoformat("2026-03-09T08:00:00+07:00"),
    )
    assert first.runs("ldld-th") == []  # its connection is open, in WAL
    second = Store(url)  # as the scheduler does to plan its first polls
    second.close()
    # Two crawls, each in its own process, one after the other; the first Store reads after each (the scheduler).
    for slug in ("ldld-th", "ldld-na"):
        subprocess.run([sys.executable, "-c", WRITER, str(tmp_path / "unionfeed.sqlite"), slug], check=True)
        assert [r.source_slug for r in first.runs(slug)] == [slug]
    first.close()
