"""The feed server facing strangers, with real sockets on loopback: half-open connections, the worker pool, a
request body on GET, the byte-bounded cache, the `.gz` written at publish time, changes.json in pages."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feed.publish.precompressed import source_digest
from feed.publish.publisher import publish
from feed.serve.connections import ConnectionServer
from feed.serve.server import serve_in_thread

from .support.feedworld import VN, Art, World, add_article, make_world

HOST = "127.0.0.1"


def request(
    port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def read_until_closed(sock: socket.socket, limit: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection (a server that never closes fails the test)."""
    sock.settimeout(limit)
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def atom(title: str, filler: int) -> str:
    body = "Công đoàn cơ sở chăm lo Tết cho đoàn viên, người lao động có hoàn cảnh khó khăn. " * filler
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id>'
        f"<title>{title}</title><updated>2026-12-07T08:00:00+07:00</updated><entry><id>urn:e</id>"
        f"<title>{title}</title><updated>2026-12-07T08:00:00+07:00</updated><content>{body}</content>"
        "</entry></feed>\n"
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    public = tmp_path / "public"
    (public / "feeds" / "sources").mkdir(parents=True)
    (public / "index.html").write_text("<!doctype html><title>Tin công đoàn</title>", encoding="utf-8")
    (public / "feeds" / "meetings.atom").write_text(atom("Hội nghị tổng kết năm 2026", 3), encoding="utf-8")
    return public


@pytest.fixture
def strict(folder: Path) -> Iterator[tuple[ConnectionServer, int]]:
    server = serve_in_thread(folder, workers=4, header_timeout=0.5, idle_timeout=0.5, max_connections=400)
    yield server, server.server_address[1]
    server.shutdown()
    server.server_close()


def wait_for(predicate: Any, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.reliability("server-half-open")
def test_half_open_connections_time_out_and_the_threads_stay_bounded(strict: tuple[ConnectionServer, int]) -> None:
    server, port = strict
    threads_before = threading.active_count()
    silent = [socket.create_connection((HOST, port)) for _ in range(150)]
    trickle = [socket.create_connection((HOST, port)) for _ in range(150)]
    for sock in trickle:
        sock.sendall(b"GET /index.html HTTP/1.1\r\nHost: a\r\n")  # a head that never ends
    assert wait_for(lambda: server.open_connections == 300, 5), server.open_connections
    assert threading.active_count() == threads_before  # 300 connections, not one thread more
    status, _, body = request(port, "/feeds/meetings.atom")  # the others are still answered
    assert status == 200 and "Hội nghị tổng kết".encode() in body
    answers = [read_until_closed(sock) for sock in silent + trickle]  # each closed by the server
    assert all(a == b"" for a in answers[:150])
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers[150:])
    assert wait_for(lambda: server.open_connections == 0)
    for sock in silent + trickle:
        sock.close()


@pytest.mark.reliability("server-connection-limit")
def test_connections_past_the_limit_get_503_not_threads(folder: Path) -> None:
    server = serve_in_thread(folder, workers=2, max_connections=20, idle_timeout=30)
    try:
        port = server.server_address[1]
        threads_before = threading.active_count()
        held = [socket.create_connection((HOST, port)) for _ in range(20)]
        assert wait_for(lambda: server.open_connections == 20)
        extra = socket.create_connection((HOST, port))
        assert read_until_closed(extra).startswith(b"HTTP/1.1 503 ")
        assert threading.active_count() == threads_before
        for sock in held:
            sock.close()
        assert wait_for(lambda: server.open_connections == 0)
        assert request(port, "/index.html")[0] == 200
        extra.close()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.reliability("server-get-body")
@pytest.mark.parametrize(
    "announce", ["Content-Length: {n}", "Transfer-Encoding: chunked"], ids=["content-length", "chunked"]
)
def test_a_get_with_a_body_gets_one_answer_and_is_closed(strict: tuple[ConnectionServer, int], announce: str) -> None:
    _, port = strict
    hidden = b"GET /feeds/meetings.atom HTTP/1.1\r\nHost: a\r\n\r\n"  # the body, shaped like a second request
    body = hidden if "Content" in announce else b"%x\r\n%s\r\n0\r\n\r\n" % (len(hidden), hidden)
    head = f"GET /index.html HTTP/1.1\r\nHost: a\r\n{announce.format(n=len(body))}\r\n\r\n".encode()
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(head + body)
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 400 ") and answer.count(b"HTTP/1.1 ") == 1, answer
    assert b"connection: close" in answer.lower() and b"Atom" not in answer


def test_pipelined_requests_are_answered_in_order(strict: tuple[ConnectionServer, int]) -> None:
    _, port = strict
    one = b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n"
    last = b"GET /feeds/meetings.atom HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(one * 3 + last)
        answer = read_until_closed(sock)
    assert answer.count(b"HTTP/1.1 200 ") == 4 and answer.rstrip().endswith(b"</feed>")


@pytest.mark.reliability("server-cache-bytes")
def test_the_cache_stays_under_its_byte_bound_and_large_files_stream(folder: Path) -> None:
    sources = folder / "feeds" / "sources"
    texts = {f"cd-{n:02d}": atom(f"Tin Công đoàn số {n}", 60 + n) for n in range(24)}  # ~10 kB each
    for name, text in texts.items():
        (sources / f"{name}.atom").write_text(text, encoding="utf-8")
    big = atom("Báo cáo tổng kết công tác công đoàn", 4000)  # ~330 kB: past stream_over
    (folder / "feeds" / "all.atom").write_text(big, encoding="utf-8")
    server = serve_in_thread(folder, cache_bytes=40_000, stream_over=20_000)
    try:
        port, files = server.server_address[1], server.representations  # type: ignore[attr-defined]
        for _ in range(2):
            for name, text in texts.items():
                for encoding in ("identity", "gzip"):
                    status, headers, body = request(port, f"/feeds/sources/{name}.atom", {"Accept-Encoding": encoding})
                    plain = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
                    assert status == 200 and plain.decode("utf-8") == text
                    assert 0 < files.bytes <= 40_000, files.bytes
            status, headers, body = request(port, "/feeds/all.atom")
            assert status == 200 and body.decode("utf-8") == big and int(headers["content-length"]) == len(body)
            assert files.bytes <= 40_000
            status, headers, body = request(port, "/feeds/all.atom", {"Accept-Encoding": "gzip"})
            assert status == 200 and body.decode("utf-8") == big  # too big to compress per request: sent as is
            assert request(port, "/feeds/all.atom", {"If-None-Match": headers["etag"]})[0] == 304
    finally:
        server.shutdown()
        server.server_close()


# --- the .gz files written at publish time ---------------------------------------------------------------------
@pytest.fixture
def gz_world(tmp_path: Path) -> Iterator[World]:
    world = make_world(tmp_path)
    world.settings = replace(world.settings, publish_gzip=True)
    publish(world.store, world.settings, world.sources)
    yield world
    world.store.close()


@pytest.mark.reliability("server-gzip-static")
def test_publish_writes_gz_beside_and_the_server_sends_it_as_it_is(gz_world: World) -> None:
    public = gz_world.settings.public
    for name in ("feeds/all.atom", "feeds/meetings.rss", "feeds/all.json", "snapshots/latest.json", "index.html"):
        plain, packed = (public / name).read_bytes(), (public / f"{name}.gz").read_bytes()
        assert gzip.decompress(packed) == plain and source_digest(public / f"{name}.gz") == sha(plain), name
    manifest = json.loads((public / "snapshots" / "manifest.json").read_text(encoding="utf-8"))
    assert not [f for f in manifest["files"] if f["path"].endswith(".gz")]  # the manifest lists what publish serves
    server = serve_in_thread(public)
    try:
        port = server.server_address[1]
        status, plain_headers, plain = request(port, "/feeds/all.atom")
        status, headers, body = request(port, "/feeds/all.atom", {"Accept-Encoding": "gzip"})
        assert status == 200 and headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
        assert body == (public / "feeds" / "all.atom.gz").read_bytes()  # the file itself, not a new compression
        assert headers["etag"] == plain_headers["etag"][:-1] + '-gzip"'
        for tag in (headers["etag"], plain_headers["etag"]):
            assert request(port, "/feeds/all.atom", {"Accept-Encoding": "gzip", "If-None-Match": tag})[0] == 304
        assert request(port, "/feeds/all.atom.gz")[0] == 404  # never asked for by name
        # A .gz left from an older version is never sent for the newer one.
        newer = plain.replace("Công đoàn".encode(), "Tổ chức Công đoàn".encode(), 1)
        (public / "feeds" / "all.atom").write_bytes(newer)
        status, headers, body = request(port, "/feeds/all.atom", {"Accept-Encoding": "gzip"})
        assert status == 200 and gzip.decompress(body) == newer and headers["etag"] != plain_headers["etag"]
    finally:
        server.shutdown()
        server.server_close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_republish_rewrites_the_gz_with_its_feed(gz_world: World) -> None:
    public = gz_world.settings.public
    before = (public / "feeds" / "all.atom.gz").read_bytes()
    add_article(
        gz_world.store,
        Art(
            "mai-am",
            "bao-mau",
            "Công đoàn trao 50 mái ấm cho đoàn viên",
            "Công đoàn tỉnh Mẫu trao 50 mái ấm công đoàn cho đoàn viên khó khăn về nhà ở.",
            datetime(2026, 7, 21, 9, 0, tzinfo=VN),
        ),
        datetime(2026, 7, 21, 10, 0, tzinfo=VN),
    )
    publish(gz_world.store, gz_world.settings, gz_world.sources)
    after = (public / "feeds" / "all.atom.gz").read_bytes()
    assert after != before and gzip.decompress(after) == (public / "feeds" / "all.atom").read_bytes()
    assert not list(public.rglob(".*.tmp"))


# --- changes.json in pages ----------------------------------------------------------------------------------------
@pytest.mark.reliability("server-changes-bounded")
def test_changes_come_in_bounded_pages_and_every_change_once(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    publish(world.store, world.settings, world.sources)
    public = world.settings.public
    first = json.loads((public / "snapshots" / "latest.json").read_text(encoding="utf-8"))["cursor"]
    added: list[str] = []
    for n in range(5):  # five publishes, five change files
        added.append(
            add_article(
                world.store,
                Art(
                    f"tin-{n}",
                    "bao-mau",
                    f"Công đoàn phường {n + 1} tổ chức hội nghị cán bộ, công chức",
                    f"Sáng {n + 2}/12, Công đoàn phường {n + 1} tổ chức hội nghị cán bộ, công chức năm 2026. " * 20,
                    datetime(2026, 12, 1, 9, 0, tzinfo=VN) + timedelta(days=n),
                ),
                datetime(2026, 12, 1, 10, 0, tzinfo=VN) + timedelta(days=n),
            )
        )
        publish(world.store, world.settings, world.sources)
    index = json.loads((public / "snapshots" / "changes" / "index.json").read_text(encoding="utf-8"))
    assert len(index["changes"]) == 5
    biggest = max((public / c["path"]).stat().st_size for c in index["changes"])
    server = serve_in_thread(public, changes_page_bytes=biggest + 10)  # one change file a page
    try:
        port = server.server_address[1]
        status, headers, body = request(port, f"/snapshots/changes.json?since={first}")
        seen: list[str] = []
        pages = 0
        while True:
            assert status == 200
            doc = json.loads(body)
            pages += 1
            seen += [a["id"] for a in doc["new"]]
            if "link" not in headers:
                break
            following = headers["link"].split(">")[0].lstrip("<")
            assert following == f"/snapshots/changes.json?since={doc['cursor']}" and doc["cursor"] < index["cursor"]
            status, headers, body = request(port, following)
        assert pages == 5 and seen == added and doc["cursor"] == index["cursor"]
        # The same history unbounded, in one answer, for comparison (the default page holds it all).
        whole = serve_in_thread(public)
        try:
            status, headers, body = request(whole.server_address[1], f"/snapshots/changes.json?since={first}")
            assert "link" not in headers and sorted(a["id"] for a in json.loads(body)["new"]) == sorted(added)
        finally:
            whole.shutdown()
            whole.server_close()
        # A cursor older than the history kept is told to reload, as before.
        status, _, body = request(port, "/snapshots/changes.json?since=20200101T000000.000000Z")
        assert status == 410 and json.loads(body)["reload"] == "/snapshots/latest.json"
    finally:
        server.shutdown()
        server.server_close()
        world.store.close()


@pytest.mark.reliability("server-gzip-static")
def test_turning_publish_gzip_off_removes_the_gz_of_what_changes(gz_world: World) -> None:
    public = gz_world.settings.public
    assert (public / "feeds" / "all.atom.gz").is_file()
    add_article(
        gz_world.store,
        Art(
            "nha-o",
            "bao-mau",
            "Công đoàn hỗ trợ nhà ở cho công nhân khu công nghiệp",
            "Công đoàn khu công nghiệp Mẫu hỗ trợ 30 công nhân thuê nhà ở gần nơi làm việc.",
            datetime(2026, 7, 22, 9, 0, tzinfo=VN),
        ),
        datetime(2026, 7, 22, 10, 0, tzinfo=VN),
    )
    publish(gz_world.store, replace(gz_world.settings, publish_gzip=False), gz_world.sources)
    assert not (public / "feeds" / "all.atom.gz").exists()  # nginx would have sent it for the newer feed
    assert not (public / "snapshots" / "latest.json.gz").exists()
    assert (public / "feeds" / "all.atom").is_file() and not list(public.rglob(".*.tmp"))
