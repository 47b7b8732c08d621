"""The feed server with real HTTP clients on loopback: validators, 304, gzip, methods, traversal."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
import yaml

from feed.publish.publisher import publish
from feed.serve.server import serve_in_thread
from feed.store.api import ArticleRow

from .support.cli import run_cli
from .support.feedworld import SOURCES, VN, Art, World, add_article, make_world
from .support.needs import program

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title>Tin hội nghị</title>
<updated>2026-01-01T00:00:00+07:00</updated>
<entry><id>urn:unionfeed:1</id><title>Hội nghị tổng kết</title><updated>2026-01-01T00:00:00+07:00</updated>
</entry></feed>
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    public = tmp_path / "public"
    (public / "feeds").mkdir(parents=True)
    (public / "feeds" / "meetings.atom").write_text(ATOM, encoding="utf-8")
    (public / "index.html").write_text("<!doctype html><title>x</title>", encoding="utf-8")
    (public / "feeds" / ".meetings.atom.123.tmp").write_text("half", encoding="utf-8")
    (tmp_path / "unionfeed.sqlite").write_text("secret", encoding="utf-8")
    srv = serve_in_thread(public)
    yield "127.0.0.1", srv.server_address[1], public
    srv.shutdown()
    srv.server_close()


def request(
    host: str, port: int, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_get_with_content_type_and_validators(server: tuple[str, int, Path]) -> None:
    host, port, _ = server
    status, headers, body = request(host, port, "GET", "/feeds/meetings.atom")
    assert status == 200
    assert headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert headers["etag"] and headers["last-modified"] and "max-age" in headers["cache-control"]
    assert headers["server"] == "unionfeed"  # no trailing space (the base class's "name version" with no version)
    assert body.decode("utf-8") == ATOM


def test_conditional_requests_get_304(server: tuple[str, int, Path]) -> None:
    host, port, _ = server
    _, headers, _ = request(host, port, "GET", "/feeds/meetings.atom")
    status, _, body = request(host, port, "GET", "/feeds/meetings.atom", {"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    status, _, _ = request(host, port, "GET", "/feeds/meetings.atom", {"If-Modified-Since": headers["last-modified"]})
    assert status == 304
    status, _, _ = request(host, port, "GET", "/feeds/meetings.atom", {"If-None-Match": '"other"'})
    assert status == 200


def test_feedparser_uses_etag_and_gets_304(server: tuple[str, int, Path]) -> None:
    host, port, _ = server
    url = f"http://{host}:{port}/feeds/meetings.atom"
    first = feedparser.parse(url)
    assert not first.bozo and first.entries[0].title == "Hội nghị tổng kết"
    second = feedparser.parse(url, etag=first.etag, modified=first.modified)
    assert second.status == 304


def test_gzip_when_asked(server: tuple[str, int, Path]) -> None:
    host, port, _ = server
    status, headers, body = request(host, port, "GET", "/feeds/meetings.atom", {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(body).decode("utf-8") == ATOM


def test_head_has_headers_and_no_body(server: tuple[str, int, Path]) -> None:
    host, port, _ = server
    status, headers, body = request(host, port, "HEAD", "/feeds/meetings.atom")
    assert status == 200 and body == b"" and int(headers["content-length"]) == len(ATOM.encode("utf-8"))


@pytest.mark.reliability("server-methods")
@pytest.mark.parametrize(
    "method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "BREW", "get"]
)
def test_only_get_and_head(server: tuple[str, int, Path], method: str) -> None:
    host, port, public = server
    before = sorted((p, p.stat().st_mtime_ns) for p in public.rglob("*"))
    status, headers, body = request(host, port, method, "/feeds/meetings.atom")
    assert status == 405 and headers["allow"] == "GET, HEAD" and body == b""
    assert headers["connection"] == "close", "an unread request body must not be taken for the next request"
    assert sorted((p, p.stat().st_mtime_ns) for p in public.rglob("*")) == before
    assert (public / "feeds" / "meetings.atom").read_text(encoding="utf-8") == ATOM


@pytest.mark.reliability("server-traversal", "server-no-listing")
@pytest.mark.parametrize(
    "path",
    [
        "/../unionfeed.sqlite",
        "/%2e%2e/unionfeed.sqlite",
        "/feeds/",
        "/feeds",
        "/feeds/.meetings.atom.123.tmp",
        "/feeds/..%2f..%2fetc/passwd",
        "/nope.atom",
        "/feeds/..%5c..%5cunionfeed.sqlite",
        "/%252e%252e/unionfeed.sqlite",
        "/index.html%00.sqlite",
        "//unionfeed.sqlite",
        "/unionfeed.sqlite",
        "/feeds/" + "a" * 300 + ".atom",
        "/" + "feeds/" * 300 + "x.atom",
    ],
)
def test_no_traversal_listing_or_hidden_files(server: tuple[str, int, Path], path: str) -> None:
    host, port, _ = server
    status, _, body = request(host, port, "GET", path)
    assert status == 404 and b"secret" not in body and b"half" not in body


@pytest.mark.reliability("server-no-store-exposure")
def test_only_what_publish_writes_is_served(server: tuple[str, int, Path]) -> None:
    host, port, public = server
    # What an operator might leave in the folder: a store copy, its journal, a config, a log, captures.
    planted = [
        "feeds/backup.sqlite",
        "feeds/unionfeed.sqlite-wal",
        "feeds/sources.yaml",
        "feeds/crawl.log",
        "captures/ldld/last/article-1.json",
        "config/settings.json",
        "notes.html",
        "feeds/meetings.atom.gz",
    ]
    for name in planted:
        (public / name).parent.mkdir(parents=True, exist_ok=True)
        (public / name).write_text("secret", encoding="utf-8")
    for name in planted:
        status, _, body = request(host, port, "GET", "/" + name)
        assert status == 404 and b"secret" not in body, name
    assert request(host, port, "GET", "/feeds/meetings.atom")[0] == 200


def test_index_and_healthz(server: tuple[str, int, Path]) -> None:
    host, port, _ = server
    assert request(host, port, "GET", "/")[0] == 200
    status, headers, body = request(host, port, "GET", "/healthz")
    assert status == 200 and b'"ok"' in body and headers["cache-control"] == "no-store"


# --- a real published folder ---------------------------------------------------------------------------------
@pytest.fixture
def published(tmp_path: Path) -> Iterator[tuple[str, int, World]]:
    world = make_world(tmp_path)
    publish(world.store, world.settings, world.sources)
    srv = serve_in_thread(world.settings.public)
    yield "127.0.0.1", srv.server_address[1], world
    srv.shutdown()
    srv.server_close()
    world.store.close()


def test_cache_control_follows_the_manifest(published: tuple[str, int, World]) -> None:
    host, port, _ = published
    assert request(host, port, "GET", "/feeds/sources/ldld-mau.atom")[1]["cache-control"] == "public, max-age=1800"
    assert request(host, port, "GET", "/feeds/sources/cd-nganh-mau.rss")[1]["cache-control"] == "public, max-age=3600"
    status, headers, _ = request(host, port, "GET", "/feeds/all.json")
    assert status == 200 and headers["content-type"] == "application/feed+json; charset=utf-8"
    assert request(host, port, "GET", "/feeds.opml")[1]["content-type"] == "text/x-opml; charset=utf-8"
    assert request(host, port, "GET", "/snapshots/latest.json")[1]["content-type"] == "application/json; charset=utf-8"


def test_gzip_has_its_own_etag_and_both_revalidate(published: tuple[str, int, World]) -> None:
    host, port, _ = published
    _, plain, body = request(host, port, "GET", "/feeds/all.atom")
    _, zipped, zbody = request(host, port, "GET", "/feeds/all.atom", {"Accept-Encoding": "gzip, deflate"})
    assert zipped["etag"] != plain["etag"] and gzip.decompress(zbody) == body and len(zbody) < len(body) / 2
    assert request(host, port, "GET", "/feeds/all.atom", {"Accept-Encoding": "gzip;q=0"})[2] == body
    for tag in (plain["etag"], zipped["etag"], "W/" + plain["etag"]):
        conditional = {"If-None-Match": tag, "Accept-Encoding": "gzip"}
        assert request(host, port, "GET", "/feeds/all.atom", conditional)[0] == 304
    status, head, empty = request(host, port, "HEAD", "/feeds/all.atom", {"Accept-Encoding": "gzip"})
    assert status == 200 and empty == b"" and int(head["content-length"]) == len(zbody)


def test_republish_with_nothing_new_answers_304(published: tuple[str, int, World]) -> None:
    host, port, world = published
    url = f"http://{host}:{port}/feeds/meetings.rss"
    first = feedparser.parse(url)
    assert first.status == 200 and len(first.entries) == 5
    publish(world.store, world.settings, world.sources)
    again = feedparser.parse(url, etag=first.etag, modified=first.modified)
    assert again.status == 304 and not again.entries
    only_modified = feedparser.parse(url, modified=first.modified)
    assert only_modified.status == 304


def test_changes_since_through_the_server(published: tuple[str, int, World]) -> None:
    host, port, world = published
    latest = json.loads(request(host, port, "GET", "/snapshots/latest.json")[2])
    cursor = latest["cursor"]
    assert request(host, port, "GET", "/snapshots/changes.json")[0] == 400
    assert request(host, port, "GET", "/snapshots/changes.json?since=yesterday")[0] == 400
    status, headers, body = request(host, port, "GET", f"/snapshots/changes.json?since={cursor}")
    assert status == 200 and json.loads(body)["counts"] == {
        "new": 0,
        "updated": 0,
        "removed_from_cluster": 0,
        "deleted": 0,
    }
    assert headers["cache-control"] == "no-cache"
    add_article(
        world.store,
        Art(
            "moi",
            "bao-mau",
            "Công đoàn trao 50 mái ấm cho đoàn viên",
            "Công đoàn tỉnh Mẫu trao 50 mái ấm công đoàn cho đoàn viên khó khăn về nhà ở.",
            datetime(2026, 7, 21, 9, 0, tzinfo=VN),
        ),
        datetime(2026, 7, 21, 10, 0, tzinfo=VN),
    )
    publish(world.store, world.settings, world.sources)
    status, headers, body = request(
        host, port, "GET", f"/snapshots/changes.json?since={cursor}", {"Accept-Encoding": "gzip"}
    )
    changes = json.loads(gzip.decompress(body))
    assert status == 200 and [a["title"] for a in changes["new"]] == ["Công đoàn trao 50 mái ấm cho đoàn viên"]
    assert changes["cursor"] > cursor
    assert (
        request(host, port, "GET", f"/snapshots/changes.json?since={cursor}", {"If-None-Match": headers["etag"]})[0]
        == 304
    )
    status, _, body = request(host, port, "GET", "/snapshots/changes.json?since=20200101T000000.000000Z")
    assert status == 410 and json.loads(body)["reload"] == "/snapshots/latest.json"
    assert request(host, port, "GET", "/snapshots/changes.json?since=29990101T000000.000000Z")[0] == 400


@pytest.mark.reliability("server-traversal", "server-no-store-exposure")
def test_symlink_out_of_the_folder_is_refused(published: tuple[str, int, World], tmp_path: Path) -> None:
    host, port, world = published
    (world.settings.public / "feeds" / "escape.atom").symlink_to(tmp_path / "feeds.sqlite")
    assert request(host, port, "GET", "/feeds/escape.atom")[0] == 404
    assert request(host, port, "GET", "/snapshots/.state.json")[0] == 404
    assert request(host, port, "GET", "/.publish-state.json")[0] == 404


def test_healthz_says_what_is_published(published: tuple[str, int, World], tmp_path: Path) -> None:
    host, port, _ = published
    status, _, body = request(host, port, "GET", "/healthz")
    doc = json.loads(body)
    assert status == 200 and doc["status"] == "ok" and doc["cursor"] and doc["files"] > 40
    empty = serve_in_thread(tmp_path / "nothing-yet")
    try:
        assert request("127.0.0.1", empty.server_address[1], "GET", "/healthz")[0] == 503
    finally:
        empty.shutdown()
        empty.server_close()


def test_curl_sees_a_good_feed_host(published: tuple[str, int, World]) -> None:
    program("curl")
    host, port, _ = published
    url = f"http://{host}:{port}/feeds/meetings.atom"
    head = subprocess.run(
        ["curl", "-sS", "--compressed", "-D", "-", "-o", "/dev/null", url],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    ).stdout.lower()
    assert "200 ok" in head and "content-encoding: gzip" in head and "etag:" in head and "last-modified:" in head
    etag = next(line.split(":", 1)[1].strip() for line in head.splitlines() if line.startswith("etag:"))
    code = subprocess.run(
        ["curl", "-sS", "--compressed", "-o", "/dev/null", "-w", "%{http_code}", "-H", f"If-None-Match: {etag}", url],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    assert code.stdout == "304"
    listing = subprocess.run(
        [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--path-as-is",
            f"http://{host}:{port}/feeds/../../feeds.sqlite",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    assert listing.stdout == "404"
    post = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", url],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    assert post.stdout == "405"


def test_docs_consumer_example(published: tuple[str, int, World], tmp_path: Path) -> None:
    host, port, world = published
    doc = (Path(__file__).resolve().parents[1] / "docs" / "snapshots.md").read_text(encoding="utf-8")
    code = doc.split("## A consumer in 20 lines", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 22
    namespace: dict[str, Any] = {}
    exec(compile(code.replace("http://localhost:8080", f"http://{host}:{port}"), "snapshots.md", "exec"), namespace)
    db = sqlite3.connect(tmp_path / "consumer.db")

    def local() -> set[str]:
        return {row[0] for row in db.execute("SELECT id FROM article")}

    def site() -> set[str]:
        latest = json.loads(request(host, port, "GET", "/snapshots/latest.json")[2])
        return {a["id"] for a in latest["articles"]}

    first = namespace["pull"](db)
    assert local() == site() and len(local()) == 8
    add_article(
        world.store,
        Art(
            "them",
            "cd-nganh-mau",
            "Công đoàn ngành Mẫu ký thỏa ước lao động tập thể",
            "Công đoàn ngành Mẫu và doanh nghiệp ký thỏa ước lao động tập thể mới.",
            datetime(2026, 7, 23, 9, 0, tzinfo=VN),
        ),
        datetime(2026, 7, 23, 10, 0, tzinfo=VN),
    )
    with world.store.session() as s:
        s.delete(s.get(ArticleRow, world.ids["khong-ngay"]))
    publish(world.store, world.settings, world.sources)
    second = namespace["pull"](db)
    assert second > first and local() == site() and len(local()) == 8
    assert namespace["pull"](db) == second
    db.close()


# --- attacks on the real layout: `unionfeed publish` and `unionfeed serve` as an operator runs them -------------
SECRET = "unionfeed-secret-4b1d"  # in every planted file: no answer of the server may contain it


@dataclass
class Layout:
    """An operator's data folder (store, config, captures, logs beside public/) served two ways: as designed
    (data/public) and misconfigured (the public folder pointed at the data folder itself)."""

    data: Path
    beside: int  # port of the server of data/public
    inside: int  # port of the server of data/

    @property
    def public(self) -> Path:
        return self.data / "public"


def start_serve(args: tuple[str, ...], env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    """`unionfeed serve --port 0` in a child process; its first line says where it listens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "feed.app.cli", *args, "serve", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **env},
    )
    assert proc.stdout is not None
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", proc.stdout.readline())
    if found is None:
        proc.kill()
        pytest.fail("unionfeed serve did not start")
    return proc, int(found.group(1))


def plant_private(data: Path) -> None:
    """What sits in a data folder besides public/: captures, broken-page notes, logs, secrets; and symlinks inside
    public/ that point out of it."""
    files = {
        "captures/ldld-mau/last/article-0a1b2c.json": f'{{"url": "{SECRET}", "captured_at": "2026-07-16"}}',
        "captures/ldld-mau/discovery/discovery-3d4e.json": f'{{"captured_at": "{SECRET}"}}',
        "broken/bao-mau/20260716-090000/broken.json": f'{{"captured_at": "{SECRET}"}}',
        "unionfeed.log": SECRET,
        ".env": SECRET,
        "secret.txt": SECRET,
        "secret.json": SECRET,
        "secret.atom": SECRET,
        "../outside.json": SECRET,
    }
    for name, text in files.items():
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_text(text, encoding="utf-8")
    (data / "captures/ldld-mau/last/article-0a1b2c.html.gz").write_bytes(gzip.compress(SECRET.encode()))
    (data / "public/feeds/leak.atom").symlink_to(data / "secret.atom")
    (data / "public/feeds/passwd.rss").symlink_to("/etc/passwd")
    (data / "public/snapshots/up").symlink_to(data, target_is_directory=True)


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layout]:
    data = tmp_path_factory.mktemp("operator") / "data"
    data.mkdir()
    make_world(data, db_name="unionfeed.sqlite").store.close()
    (data / "config").mkdir()
    (data / "config" / "sources.yaml").write_text(yaml.safe_dump(SOURCES, allow_unicode=True), encoding="utf-8")
    (data / "config" / "settings.yaml").write_text("politeness:\n  download_delay: 2\n", encoding="utf-8")
    args = ("--config", str(data / "config" / "sources.yaml"), "--data", str(data))
    for env in ({}, {"UNIONFEED_PUBLIC_DIR": str(data)}):
        done = run_cli(*args, "publish", env=env, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
    plant_private(data)
    (beside, beside_port), (inside, inside_port) = (
        start_serve(args, {}),
        start_serve(args, {"UNIONFEED_PUBLIC_DIR": str(data)}),
    )
    yield Layout(data, beside_port, inside_port)
    for proc in (beside, inside):
        proc.terminate()
        proc.wait(timeout=10)


def raw(port: int, target: str | bytes, method: str = "GET", body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send the request line as it is (no client normalises the path) and read the whole answer."""
    target = target.encode("latin-1") if isinstance(target, str) else target
    length = f"Content-Length: {len(body)}\r\n".encode() if body else b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            method.encode()
            + b" "
            + target
            + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + length
            + b"Connection: close\r\n\r\n"
            + body
        )
        answer = b"".join(iter(lambda: conn.recv(65536), b""))
    if not answer:
        return 0, {}, b""  # the server dropped the connection without an answer
    head, _, content = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return (
        int(lines[0].split()[1]),
        {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])},
        content,
    )


def leaked(body: bytes) -> list[str]:
    """What of the private material an answer carries."""
    needles = {
        SECRET: SECRET.encode(),
        "store": b"SQLite format 3",
        "passwd": b"root:x:0:0",
        "sources.yaml": b"discovery:",
        "settings.yaml": b"politeness",
    }
    return [name for name, needle in needles.items() if needle in body]


def tree_state(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        p.relative_to(folder).as_posix(): (
            p.lstat().st_mtime_ns,
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else "",
        )
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.reliability("server-methods")
def test_refused_methods_change_nothing_on_disk(layout: Layout) -> None:
    before = tree_state(layout.data)
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "MKCOL", "BREW", "get"):
        for target in ("/feeds/all.atom", "/feeds/new.atom", "/index.html", "/"):
            status, headers, body = raw(layout.beside, target, method, b"<feed>ghi de</feed>")
            assert (status, headers["allow"], headers["connection"], body) == (405, "GET, HEAD", "close", b""), (
                method,
                target,
            )
    status, headers, _ = raw(layout.beside, "127.0.0.1:22", "CONNECT")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert tree_state(layout.data) == before, "a refused request changed the data folder"
    status, headers, body = raw(layout.beside, "/feeds/all.atom", "HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 1000


TRAVERSALS = [
    "/../unionfeed.sqlite",
    "/../../outside.json",
    "/feeds/../../unionfeed.sqlite",
    "/feeds/../../secret.json",
    "/%2e%2e/unionfeed.sqlite",
    "/%2E%2E/%2E%2E/etc/passwd",
    "/feeds/%2e%2e/%2e%2e/secret.json",
    "/..%2funionfeed.sqlite",
    "/feeds/..%2f..%2fsecret.json",
    "/%2f..%2fsecret.json",
    "/feeds%2f..%2f..%2fsecret.atom",
    "/..\\unionfeed.sqlite",
    "/feeds\\..\\..\\secret.json",
    "/feeds/%5c..%5c..%5csecret.json",
    "/%252e%252e/unionfeed.sqlite",
    "/feeds/%252e%252e%252f%252e%252e%252fsecret.json",
    "/%c0%ae%c0%ae/secret.json",
    "/feeds/%e0%80%ae%e0%80%ae/secret.json",
    "//etc/passwd",
    "/%2Fetc%2Fpasswd",
    "/etc/passwd",
    "http://127.0.0.1/../secret.json",
    "file:///etc/passwd",
    "/feeds/all.atom%00.sqlite",
    "/index.html%00",
    "/feeds/leak.atom",
    "/feeds/passwd.rss",
    "/snapshots/up/secret.json",
    "/snapshots/up/unionfeed.sqlite",
    "/snapshots/up/config/sources.yaml",
    "/snapshots/up/../secret.json",
    "/" + "a/" * 3000 + "x.atom",
    "/feeds/" + "a" * 300 + ".atom",
    "/%2e%2e/" * 400 + "etc/passwd",
]


@pytest.mark.reliability("server-traversal")
@pytest.mark.parametrize("where", ["beside", "inside"])
def test_no_path_leaves_the_published_folder(layout: Layout, where: str) -> None:
    port = getattr(layout, where)
    answers = {target: raw(port, target) for target in TRAVERSALS}
    answers["raw NUL"] = raw(port, b"/index.html\x00/../../secret.json")
    for target, (status, _, body) in answers.items():
        assert status == 404 and not leaked(body), (target[:80], status, leaked(body))
    assert raw(port, "/feeds/all.atom")[0] == 200, "the published feeds are still served"


@pytest.mark.reliability("server-no-listing")
def test_no_folder_is_listed(layout: Layout) -> None:
    assert raw(layout.beside, "/")[2] == (layout.public / "index.html").read_bytes(), "/ is the index page"
    for target in (
        "/feeds/",
        "/feeds",
        "/feeds/sources/",
        "/feeds/kinds",
        "/snapshots/",
        "/snapshots",
        "/snapshots/changes/",
        "/feeds//",
        "/./",
        "/feeds/./",
        "/index.html/",
    ):
        for port in (layout.beside, layout.inside):
            assert raw(port, target)[:3:2] == (404, b"not found\n"), target
    for target in ("/captures/", "/captures/ldld-mau/last/", "/config/", "/public/"):
        assert raw(layout.inside, target)[:3:2] == (404, b"not found\n"), target
    assert raw(layout.beside, "/feeds/", "HEAD")[:3:2] == (404, b"")


def private_files(data: Path) -> list[str]:
    """Every file of the data folder but what publish wrote (in public/, and in data/ for the second layout);
    dotfiles, publish's own state included, are private wherever they are."""
    published = {"public", "feeds", "snapshots", "index.html", "feeds.opml", "feeds-all.opml"}
    names = (p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file() and not p.is_symlink())
    return sorted(n for n in names if n.split("/")[0] not in published or "/." in "/" + n)


@pytest.mark.reliability("server-no-store-exposure")
def test_store_config_captures_and_logs_stay_private(layout: Layout) -> None:
    data = layout.data
    reader = sqlite3.connect(data / "unionfeed.sqlite")  # an open WAL database keeps its -wal and -shm files
    try:
        assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 8
        assert {"unionfeed.sqlite-wal", "unionfeed.sqlite-shm"} <= {p.name for p in data.iterdir()}
        private = private_files(data)
        assert {
            "unionfeed.sqlite",
            "unionfeed.sqlite-wal",
            "config/sources.yaml",
            "public/.publish.lock",  # publish's own state lives in the store since issue 15; its lock stays here
            "captures/ldld-mau/last/article-0a1b2c.html.gz",
        } <= set(private)
        assert len(private) >= 16, private  # 18 before publish kept its state in the store (issue 15)
        for port, prefixes in ((layout.beside, ("", "public/", "../")), (layout.inside, ("", "public/", "feeds/../"))):
            for name in private:
                for prefix in prefixes:
                    status, _, body = raw(port, "/" + prefix + name)
                    assert status == 404 and not leaked(body), (prefix + name, status)
    finally:
        reader.close()
    for port in (layout.beside, layout.inside):  # what publish wrote is still served in both layouts
        for target in ("/index.html", "/feeds/all.atom", "/feeds.opml", "/snapshots/latest.json"):
            assert raw(port, target)[0] == 200, target
