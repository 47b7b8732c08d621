"""Store faults, tried on purpose: a store that is read-only, locked by another writer, deleted or replaced under
a running crawl, damaged, truncated, or on a full disk. Real `unionfeed` subprocesses on real SQLite files (a
small tmpfs for the read-only and full file systems), real loopback sites; every command must end non-zero with
one plain line naming the file and the fix, and nothing published may be lost."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from feed.store.api import BUSY_TIMEOUT_ENV, Store
from feed.store.faults import EXIT_STATUS, StoreError

from .support.loopback_sites import Site, serve, source_entry, write_config
from .support.process_faults import CLI, articles, kill_group, make_published, runs, start, visible, wait_for


def unionfeed(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False, env={**os.environ, **(env or {})}
    )


def assert_one_line(result: subprocess.CompletedProcess[str], command: str, db: Path, *words: str) -> str:
    """Exit 5, and stderr's last line names the command, the file and the cause; no traceback anywhere."""
    assert result.returncode == EXIT_STATUS, (result.returncode, result.stderr[-3000:])
    assert "Traceback" not in result.stderr and "sqlalchemy" not in result.stderr.lower(), result.stderr[-3000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"unionfeed {command}: the store {db} "), line
    for word in words:
        assert word in line, line
    return line


@contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[bool]:
    """A small tmpfs at `folder` (True), or the folder as it is where mounting is not allowed (False)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, check=False
        ).returncode
        == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def one_site(tmp_path: Path, site: Site, bases: dict[str, str]) -> tuple[list[str], Path]:
    config = write_config(tmp_path / "config", [source_entry(site.name, bases[site.name])])
    data = tmp_path / "data"
    return ["--config", str(config), "--data", str(data)], data / "unionfeed.sqlite"


@pytest.mark.reliability("store-read-only")
def test_a_crawl_on_a_read_only_store_fails_loudly_and_fetches_nothing(tmp_path: Path) -> None:
    site = Site("chi-doc", articles=4)
    with serve([site]) as bases, tmpfs(tmp_path / "data", "4m") as mounted:
        args, db = one_site(tmp_path, site, bases)
        Store(f"sqlite:///{db}").close()
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(db.parent)], check=True)
        elif os.geteuid() != 0:
            db.chmod(0o444)
            db.parent.chmod(0o555)
        else:
            pytest.skip("root without permission to mount: nothing can make the store read-only")
        crawl = unionfeed(*args, "crawl")
        assert_one_line(crawl, "crawl", db, "is read-only", "writable")
        assert not site.hits, "pages were fetched for a store that cannot keep them"
        for command in ("status", "publish"):
            assert_one_line(unionfeed(*args, command), command, db, "is read-only", "writable")
        if mounted:
            subprocess.run(["mount", "-o", "remount,rw", str(db.parent)], check=True)
        else:
            db.parent.chmod(0o755)
            db.chmod(0o644)
        again = unionfeed(*args, "crawl")
        assert again.returncode == 0, again.stderr[-3000:]
        assert len(articles(db)) == 4


@pytest.mark.reliability("store-locked")
def test_a_crawl_on_a_store_locked_by_another_writer_fails_loudly_and_fetches_nothing(tmp_path: Path) -> None:
    site = Site("bi-khoa", articles=4)
    with serve([site]) as bases:
        args, db = one_site(tmp_path, site, bases)
        Store(f"sqlite:///{db}").close()
        holder = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another writer, holding the write lock past the busy timeout
            crawl = unionfeed(*args, "crawl", env={BUSY_TIMEOUT_ENV: "0.5"})
        finally:
            holder.close()
        assert_one_line(crawl, "crawl", db, "is locked by another writer past the 0.5 s busy timeout")
        assert not site.hits
        again = unionfeed(*args, "crawl", env={BUSY_TIMEOUT_ENV: "0.5"})
        assert again.returncode == 0, again.stderr[-3000:]
        assert len(articles(db)) == 4 and [r[2] for r in runs(db)] == ["finished"]


@pytest.mark.reliability("store-deleted-under-crawl")
@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_store_deleted_or_replaced_under_a_crawl_stops_it_and_publish_keeps_the_feeds(
    tmp_path: Path, how: str
) -> None:
    now = datetime.now(UTC)
    site = Site("mat-kho", articles=10, start=now - timedelta(days=1), gap=timedelta(hours=1), delay=0.3)
    with serve([site]) as bases:
        args, db = one_site(tmp_path, site, bases)
        public = db.parent / "public"
        first = unionfeed(*args, "crawl")
        assert first.returncode == 0, first.stderr[-3000:]
        published = unionfeed(*args, "publish")
        assert published.returncode == 0, published.stderr[-3000:]
        before = visible(public)
        shown = len(feedparser.parse(before["feeds/all.atom"]).entries)  # one entry per story
        assert shown >= 5
        site.add(10)  # ten more to fetch: the crawl is busy when its store goes
        log = tmp_path / "crawl.log"
        crawl = start([*args, "crawl", "--refetch"], log)
        try:
            wait_for(lambda: len(articles(db)) >= 12, crawl)
            if how == "deleted":
                for path in db.parent.glob("unionfeed.sqlite*"):
                    path.unlink()
            else:  # another (empty) store put in its place, as a restore from the wrong backup would
                copy = db.with_name("copy.sqlite")
                Store(f"sqlite:///{copy}").close()
                os.replace(copy, db)
                for path in db.parent.glob("unionfeed.sqlite-*"):
                    path.unlink()  # the running crawl's journal would otherwise be replayed into the new file
            status = crawl.wait(timeout=60)
        finally:
            if crawl.poll() is None:
                kill_group(crawl)
        text = log.read_text(encoding="utf-8", errors="replace")
        assert status == EXIT_STATUS, text[-3000:]
        assert "Traceback" not in text, text[-3000:]
        last = text.strip().splitlines()[-1]
        assert last.startswith(f"unionfeed crawl: the store {db} was {how} "), last
        # The next publish sees a store with no article: it refuses to empty the public feeds.
        refused = unionfeed(*args, "publish")
        assert refused.returncode == 1, refused.stderr[-3000:]
        line = refused.stderr.strip().splitlines()[-1]
        assert line.startswith(f"unionfeed publish: not publishing to {public}: the store {db} has no article"), line
        assert f"{shown} entries" in line and "--allow-empty" in line, line
        assert visible(public) == before  # every public file as it was
        emptied = unionfeed(*args, "publish", "--allow-empty")
        assert emptied.returncode == 0, emptied.stderr[-3000:]
        assert feedparser.parse((public / "feeds/all.atom").read_bytes()).entries == []


def damage(db: Path, how: str) -> None:
    if how == "corrupted":
        with db.open("r+b") as handle:
            handle.write(os.urandom(4096))  # the header page overwritten
    else:
        with db.open("r+b") as handle:
            handle.truncate(db.stat().st_size // 3)


@pytest.mark.reliability("store-damaged")
@pytest.mark.parametrize("how", ["corrupted", "truncated"])
def test_a_damaged_store_gives_one_line_from_every_command(tmp_path: Path, how: str) -> None:
    world = make_published(tmp_path, 60)
    store = Store(f"sqlite:///{world.db}")
    store.close()  # checkpointed: the whole store is in its file
    before = visible(world.public)
    damage(world.db, how)
    for command in ("crawl", "publish", "status", "run"):
        result = unionfeed(*world.args(command), timeout=60)
        assert_one_line(result, command, world.db, "is damaged", "restore it from a backup", "move it aside")
    assert visible(world.public) == before


@pytest.mark.reliability("store-disk-full")
def test_a_store_on_a_full_disk_gives_one_line_from_every_command(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "3m") as mounted:
        if not mounted:
            pytest.skip("no permission to mount a small file system: a full disk cannot be made here")
        world = make_published(tmp_path / "world", 40, public=tmp_path / "public")
        db = tmp_path / "disk" / "unionfeed.sqlite"
        shutil.copy(world.db, db)
        settings = world.config.parent / "settings.yaml"
        settings.write_text(settings.read_text() + f"database_url: sqlite:///{db}\n", encoding="utf-8")
        before = visible(world.public)
        stat = os.statvfs(db.parent)
        with (db.parent / "filler").open("wb") as handle:
            handle.write(b"\0" * (stat.f_bavail * stat.f_frsize))
        for command in ("crawl", "publish", "status"):
            result = unionfeed(*world.args(command), timeout=60)
            assert_one_line(result, command, db, "the disk holding it is full", "free some space")
        assert visible(world.public) == before
        (db.parent / "filler").unlink()
        again = unionfeed(*world.args("status"))
        assert again.returncode == 0 and "40 articles stored" in again.stdout, again.stderr[-2000:]


def test_the_busy_timeout_setting_is_checked(tmp_path: Path) -> None:
    result = unionfeed("--data", str(tmp_path), "status", env={BUSY_TIMEOUT_ENV: "soon"})
    assert result.returncode == EXIT_STATUS and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith(f"{BUSY_TIMEOUT_ENV}='soon' is not a number of seconds")


# --- the same, in-process and fast -------------------------------------------------------------------------------
@pytest.mark.reliability("store-deleted-under-crawl")
def test_a_store_checks_its_file_before_every_transaction(tmp_path: Path) -> None:
    db = tmp_path / "unionfeed.sqlite"
    store = Store(f"sqlite:///{db}")
    try:
        store.start_run("cong-doan")
        for path in tmp_path.glob("unionfeed.sqlite*"):
            path.unlink()
        with pytest.raises(StoreError, match="was deleted while this process was using it") as deleted:
            store.start_run("cong-doan")
        assert deleted.value.kind == "gone" and not db.exists()  # nothing recreated, nothing written elsewhere
    finally:
        store.close()


@pytest.mark.reliability("store-damaged")
def test_a_truncated_store_is_found_from_its_header_before_it_is_opened(tmp_path: Path) -> None:
    db = tmp_path / "unionfeed.sqlite"
    store = Store(f"sqlite:///{db}")
    for n in range(40):
        store.record_error("cong-doan", f"http://127.0.0.1/tin-tuc/bai-{n}.html", "Lỗi máy chủ " * 200)
    store.close()
    size = db.stat().st_size
    with db.open("r+b") as handle:
        handle.truncate(size - 4096)
    with pytest.raises(StoreError, match=f"truncated to {size - 4096} bytes where its header says {size}"):
        Store(f"sqlite:///{db}")
