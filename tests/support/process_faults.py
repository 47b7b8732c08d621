"""Helpers of tests/test_faults_process.py: real `unionfeed` subprocesses to kill, a store of invented articles
to publish, checks of every published file, a small real disk."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest

from feed.lang.urls import article_id
from feed.publish.transaction import JOURNAL, finish_interrupted
from feed.records import MEETING_KINDS, Extracted, Meeting
from feed.serve.server import serve_in_thread
from feed.store.api import ArticleRow, Store, content_hash

from .snapshot_schema import validator

CLI = [sys.executable, "-m", "feed.app.cli"]
FIELDS = "id, canonical_url, url, title, body_text, published_at, content_hash, first_seen_at"


# --- running and killing `unionfeed` ------------------------------------------------------------------------
def start(
    args: list[str], log: Path, *, prefix: list[str] = CLI, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`unionfeed ARGS` in its own process group (Scrapy's and multiprocessing's children die with it)."""
    handle = log.open("ab")  # a file, not a pipe: a crawl logs every item and would block on a full pipe
    try:
        return subprocess.Popen(
            [*prefix, *args], stdout=handle, stderr=handle, start_new_session=True, env={**os.environ, **(env or {})}
        )
    finally:
        handle.close()


def kill_group(process: subprocess.Popen[bytes]) -> int:
    """SIGKILL the whole process group; returns the exit status."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return process.wait(timeout=30)


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the process ended before the moment it was to be killed at"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# --- reading the store as an outsider ---------------------------------------------------------------------------
def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of a read-only query, in a connection closed at once (no long read transaction); [] before the
    store exists."""
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return []
    try:
        return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:  # the tables are not created yet
        return []
    finally:
        connection.close()


def articles(db: Path) -> dict[str, tuple[object, ...]]:
    return {str(row[0]): row for row in query(db, f"SELECT {FIELDS} FROM articles")}


def runs(db: Path) -> list[tuple[object, ...]]:
    return query(db, "SELECT id, finished_at, finish_reason, new FROM crawl_runs ORDER BY id")


def assert_store_sound(db: Path, before: dict[str, tuple[object, ...]]) -> dict[str, tuple[object, ...]]:
    """Intact, every row counted before the kill unchanged, every row complete, nothing holding a lock."""
    connection = sqlite3.connect(db, timeout=0)  # opening after a kill replays the WAL
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        connection.execute("BEGIN IMMEDIATE")  # the write lock is free at once: no stray lock
        connection.rollback()
    finally:
        connection.close()
    after = articles(db)
    assert {k: after.get(k) for k in before} == before
    for row in after.values():
        assert all(row), row  # title, body, date, hash: no half-written article
    return after


# --- 1. kill -9 during a crawl ----------------------------------------------------------------------------------


# --- a store of invented articles for the publishing faults ----------------------------------------------------
PHRASES = (
    "Công đoàn cơ sở",
    "người lao động",
    "đoàn viên",
    "hội nghị",
    "chăm lo",
    "việc làm",
    "thu nhập",
    "phong trào thi đua",
    "doanh nghiệp",
    "thỏa ước lao động tập thể",
    "an toàn vệ sinh lao động",
    "Ban Chấp hành",
    "năm 2026",
    "khu công nghiệp",
    "nhà trọ công nhân",
    "quà Tết",
    "bữa ăn ca",
)
SOURCE_COUNT = 6


def sentence(rng: random.Random) -> str:
    words = " ".join(rng.choices(PHRASES, k=rng.randint(8, 14)))
    return words[0].upper() + words[1:] + "."


@dataclass
class Published:
    """A data folder with a store, its sources file, and everything published once."""

    config: Path
    data: Path
    public: Path
    rng: random.Random
    next_number: int = 0

    @property
    def db(self) -> Path:
        return self.data / "unionfeed.sqlite"

    def args(self, *more: str) -> list[str]:
        return ["--config", str(self.config), "--data", str(self.data), *more]

    def add(self, count: int, source: int) -> None:
        """Store more articles the way a crawl does (Store.upsert)."""
        store = Store(f"sqlite:///{self.db}")
        try:
            for _ in range(count):
                number, self.next_number = self.next_number, self.next_number + 1
                body = "\n\n".join(" ".join(sentence(self.rng) for _ in range(3)) for _ in range(3))
                art = Extracted(
                    url=f"http://127.0.0.1:9/nguon-{source}/bai-{number}.html",
                    body_text=body,
                    title=f"{sentence(self.rng)[:70]} (bài {number})",
                    lead=sentence(self.rng),
                    published_at=datetime(2026, 7, 20, tzinfo=UTC) + timedelta(minutes=number),
                )
                store.upsert(f"nguon-{source}", art)
        finally:
            store.close()


def build_store(db: Path, count: int, rng: random.Random) -> None:
    """`count` articles inserted in one transaction (a crawl would take minutes); a third are meeting reports."""
    bodies = ["\n\n".join(" ".join(sentence(rng) for _ in range(4)) for _ in range(4)) for _ in range(30)]
    hashes = [content_hash(None, body) for body in bodies]
    first = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    rows = []
    for n in range(count):
        kind = MEETING_KINDS[n % len(MEETING_KINDS)] if n % 3 == 0 else None
        meeting = Meeting(is_report=kind is not None, score=0.9 if kind else 0.1, kind=kind)
        url, at = f"http://127.0.0.1:9/nguon-{n % SOURCE_COUNT}/bai-{n}.html", first + timedelta(hours=n)
        rows.append(
            ArticleRow(
                id=article_id(url),
                canonical_url=url,
                url=url,
                source_slug=f"nguon-{n % SOURCE_COUNT}",
                title=f"{sentence(rng)[:70]} ({n})",
                lead=sentence(rng),
                body_text=bodies[n % 30],
                published_at=at,
                fetched_at=at,
                first_seen_at=at,
                changed_at=at,
                content_hash=hashes[n % 30],
                meeting=meeting.to_json(),
                image_urls=[],
                is_meeting_report=meeting.is_report,
                meeting_kind=kind,
            )
        )
    store = Store(f"sqlite:///{db}")
    with store.session() as s:
        s.add_all(rows)
    store.close()


def make_published(root: Path, count: int, public: Path | None = None) -> Published:
    config = root / "config" / "sources.yaml"
    config.parent.mkdir(parents=True)
    entries = "".join(
        f"  - slug: nguon-{n}\n    name: 'Liên đoàn Lao động mẫu số {n}'\n    kind: labour_federation\n"
        f"    homepage: http://127.0.0.1:9/nguon-{n}/\n"
        f"    discovery:\n      feeds: ['http://127.0.0.1:9/nguon-{n}/rss.xml']\n"
        for n in range(SOURCE_COUNT)
    )
    config.write_text(f"version: 1\nsources:\n{entries}", encoding="utf-8")
    settings = "feed_limit: 20\n" + (f"public_dir: {public}\n" if public else "")
    (config.parent / "settings.yaml").write_text(settings, encoding="utf-8")
    world = Published(config, root / "data", public or root / "data" / "public", random.Random(11), count)
    world.data.mkdir(parents=True)
    build_store(world.db, count, world.rng)
    result = subprocess.run([*CLI, *world.args("publish")], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return world


# --- what a published folder must always be ---------------------------------------------------------------------
def visible(public: Path) -> dict[str, bytes]:
    """Every file a reader can fetch (the server hides dotfiles: the lock, journal, state, staged files)."""
    return {
        p.relative_to(public).as_posix(): p.read_bytes()
        for p in public.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(public).parts)
    }


VALID: set[str] = set()  # snapshot article records already validated, as canonical JSON


def assert_complete(path: str, data: bytes) -> None:
    """A whole file of its kind: feeds parse without error, snapshots validate against snapshot.schema.json,
    JSON loads, the page and the OPML end properly."""
    if path.endswith((".atom", ".rss")):
        parsed = feedparser.parse(data)
        assert not parsed.bozo and parsed.entries is not None, (path, parsed.get("bozo_exception"))
    elif path.endswith(".jsonl"):  # snapshots/articles.jsonl: every line a whole article record
        article = validator("article")
        for line in data.decode("utf-8").splitlines():
            article.validate(json.loads(line))
    elif path.startswith("snapshots/") and path != "snapshots/schema.json":
        name = path.removeprefix("snapshots/")
        definition = {"manifest.json": "manifest", "changes/index.json": "change_index"}.get(name)
        definition = definition or ("changes" if name.startswith("changes/") else None)
        doc = json.loads(data)
        if definition is None:  # a whole snapshot: each article record is validated the first time it is seen
            records = {json.dumps(a, sort_keys=True): a for a in doc["articles"]}
            doc = {**doc, "articles": [a for key, a in records.items() if key not in VALID]}
            VALID.update(records)
        validator(definition).validate(doc)
    elif path.endswith(".json"):
        json.loads(data)
    elif path.endswith(".opml"):
        ElementTree.fromstring(data)
    elif path.endswith(".html"):
        assert data.rstrip().endswith(b"</html>"), path


def assert_manifest_matches(public: Path) -> dict[str, bytes]:
    """The manifest lists every visible file with its size and sha256."""
    files = visible(public)
    manifest = json.loads(files.pop("snapshots/manifest.json"))
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(files)
    for path, data in files.items():
        assert (listed[path]["bytes"], listed[path]["sha256"]) == (len(data), hashlib.sha256(data).hexdigest()), path
    return files


def assert_published_state(public: Path, before: dict[str, bytes]) -> bool:
    """Each file there before is byte-identical or complete; feeds and snapshots valid; the manifest matches
    (after the journal is finished when the kill came past the commit point); returns whether it had to be."""
    now = visible(public)
    assert set(before) <= set(now)
    for path, data in now.items():
        if before.get(path) != data:  # new or rewritten (the rest was checked when it was written)
            assert_complete(path, data)
    committed = (public / JOURNAL).is_file()
    if committed:  # finish it on a copy: the next publish must find the journal and finish it itself
        copy = public.parent / f"{public.name}-recovered"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(public, copy)
        assert finish_interrupted(copy)[0] > 0
        public = copy
    assert_manifest_matches(public)
    return committed


def assert_not_served(public: Path, leftovers: list[Path]) -> None:
    server = serve_in_thread(public)
    try:
        for path in leftovers:
            url = f"http://127.0.0.1:{server.server_address[1]}/{path.relative_to(public).as_posix()}"
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url, timeout=5)
            assert refused.value.code == 404, url
    finally:
        server.shutdown()
        server.server_close()


# --- 2. kill -9 during a publish --------------------------------------------------------------------------------
# A real `unionfeed publish` that SIGKILLs itself at a chosen file-system step (an audit hook counts them):
# `write:N` at the N-th file opened for writing in the public folder, `step:N` at the N-th rename, link or delete
# after the journal's rename (step:0 is that rename, just before the commit point), `manifest` at the manifest's
# rename (every other file renamed). With no KILL_AT it only logs the steps, for choosing the points.
KILLER = r"""
import os, signal, sys, threading, time
began = time.monotonic()
public, spec, log = os.environ["KILL_PUBLIC"] + os.sep, os.environ.get("KILL_AT", ""), os.environ["KILL_LOG"]
kind, _, number = spec.partition(":")
state = {"writes": 0, "steps": -1}
lock = threading.Lock()
out = open(log, "a", encoding="utf-8")
def mine(path):
    return isinstance(path, str) and path.startswith(public)
def hook(event, args):
    if event == "open" and mine(args[0]) and args[2] is not None and args[2] & (os.O_WRONLY | os.O_RDWR):
        what = "write"
    elif event in ("os.rename", "os.link", "os.remove") and mine(args[1] if event != "os.remove" else args[0]):
        what = event
    else:
        return
    target = args[1] if event in ("os.rename", "os.link") else args[0]
    with lock:
        if what == "write":
            state["writes"] += 1
            hit = kind == "write" and state["writes"] == int(number)
        else:
            if target.endswith(".publish-journal.json") and event == "os.rename":
                state["steps"] = 0
            elif state["steps"] >= 0:
                state["steps"] += 1
            hit = (kind == "step" and state["steps"] == int(number)) or (
                kind == "manifest" and state["steps"] > 0 and target.endswith("snapshots/manifest.json"))
        out.write(f"{what} {state['writes']} {state['steps']} {time.monotonic() - began:.3f} {target}\n")
        out.flush()
        if hit:
            os.kill(os.getpid(), signal.SIGKILL)
sys.addaudithook(hook)
from feed.app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def kill_points(log: Path) -> list[str | float]:
    """Six points over one publish's steps (two while staging, either side of the commit point, halfway
    through the renames, just before the manifest) and two by the clock, at 30% and 60% of its work."""
    lines = [line.split(" ", 4) for line in log.read_text(encoding="utf-8").splitlines()]
    writes = max(int(w) for _, w, s, _, _ in lines if s == "-1")
    steps = max(int(s) for _, _, s, _, _ in lines)
    work = float(lines[-1][3]) - float(lines[0][3])  # from taking the lock to the last rename
    assert writes >= 10 and steps >= 10, (writes, steps)
    return [
        f"write:{writes // 3}",
        f"write:{writes * 3 // 4}",
        "step:0",
        "step:1",
        f"step:{steps // 2}",
        "manifest",
        work * 0.3,
        work * 0.6,
    ]


def wait_until_locked(process: subprocess.Popen[bytes], lock: Path) -> None:
    """Wait until the process holds the publish lock open: its imports are done and the publish has begun."""
    folder = Path(f"/proc/{process.pid}/fd")
    while True:
        try:
            if any(os.readlink(folder / fd) == str(lock) for fd in os.listdir(folder)):
                return
        except OSError:  # a descriptor closed while we looked
            pass
        assert process.poll() is None, "the publish ended before it took its lock"
        time.sleep(0.005)


# --- 3. a full disk while publishing ----------------------------------------------------------------------------
RLIMITED = r"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG instead
limit = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from feed.app.cli import main
sys.exit(main(sys.argv[1:]))
"""


@dataclass
class Disk:
    """A small file system for the public folder (tmpfs), or, where mounting is not allowed, a file size limit
    on the publishing process: either way the kernel refuses a write midway."""

    root: Path
    mounted: bool
    limit: int = 0

    def fill(self, leave: int) -> None:
        """Leave about `leave` bytes free (tmpfs) or let no file grow past `leave` bytes."""
        if not self.mounted:
            self.limit = leave
            return
        free = os.statvfs(self.root).f_bavail * os.statvfs(self.root).f_frsize
        with (self.root / "filler").open("wb") as handle:
            handle.write(b"\0" * max(0, free - leave))

    def free(self) -> None:
        (self.root / "filler").unlink(missing_ok=True)
        self.limit = 0

    def prefix(self) -> list[str]:
        return [sys.executable, "-c", RLIMITED, str(self.limit)] if self.limit else CLI


@contextmanager
def small_disk(mount_point: Path, size: str) -> Iterator[Disk]:
    mount_point.mkdir(parents=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)], capture_output=True, check=False
        ).returncode
        == 0
    )
    try:
        yield Disk(mount_point, mounted)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mount_point)], check=False)


# --- 4. a crawl and publishes at the same time ------------------------------------------------------------------
