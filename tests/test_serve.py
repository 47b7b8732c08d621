"""The feed server with real HTTP clients on loopback: validators, 304, gzip, methods, traversal."""

from __future__ import annotations

import gzip
import http.client
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feed.publish import publish
from feed.serve import serve_in_thread
from feed.store import ArticleRow

from .feedworld import VN, Art, World, add_article, make_world

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


def request(host: str, port: int, method: str, path: str, headers: dict[str, str] | None = None
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


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head(server: tuple[str, int, Path], method: str) -> None:
    host, port, _ = server
    status, headers, _ = request(host, port, method, "/feeds/meetings.atom")
    assert status == 405 and headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/../unionfeed.sqlite", "/%2e%2e/unionfeed.sqlite", "/feeds/", "/feeds",
                                  "/feeds/.meetings.atom.123.tmp", "/feeds/..%2f..%2fetc/passwd", "/nope.atom"])
def test_no_traversal_listing_or_hidden_files(server: tuple[str, int, Path], path: str) -> None:
    host, port, _ = server
    status, _, body = request(host, port, "GET", path)
    assert status == 404 and b"secret" not in body and b"half" not in body


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
    assert status == 200 and json.loads(body)["counts"] == {"new": 0, "updated": 0, "removed_from_cluster": 0,
                                                            "deleted": 0}
    assert headers["cache-control"] == "no-cache"
    add_article(world.store, Art("moi", "bao-mau", "Công đoàn trao 50 mái ấm cho đoàn viên",
                                 "Công đoàn tỉnh Mẫu trao 50 mái ấm công đoàn cho đoàn viên khó khăn về nhà ở.",
                                 datetime(2026, 7, 21, 9, 0, tzinfo=VN)), datetime(2026, 7, 21, 10, 0, tzinfo=VN))
    publish(world.store, world.settings, world.sources)
    status, headers, body = request(host, port, "GET", f"/snapshots/changes.json?since={cursor}",
                                    {"Accept-Encoding": "gzip"})
    changes = json.loads(gzip.decompress(body))
    assert status == 200 and [a["title"] for a in changes["new"]] == ["Công đoàn trao 50 mái ấm cho đoàn viên"]
    assert changes["cursor"] > cursor
    assert request(host, port, "GET", f"/snapshots/changes.json?since={cursor}",
                   {"If-None-Match": headers["etag"]})[0] == 304
    status, _, body = request(host, port, "GET", "/snapshots/changes.json?since=20200101T000000.000000Z")
    assert status == 410 and json.loads(body)["reload"] == "/snapshots/latest.json"
    assert request(host, port, "GET", "/snapshots/changes.json?since=29990101T000000.000000Z")[0] == 400


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


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_sees_a_good_feed_host(published: tuple[str, int, World]) -> None:
    host, port, _ = published
    url = f"http://{host}:{port}/feeds/meetings.atom"
    head = subprocess.run(["curl", "-sS", "--compressed", "-D", "-", "-o", "/dev/null", url], capture_output=True,
                          text=True, timeout=20, check=True).stdout.lower()
    assert "200 ok" in head and "content-encoding: gzip" in head and "etag:" in head and "last-modified:" in head
    etag = next(line.split(":", 1)[1].strip() for line in head.splitlines() if line.startswith("etag:"))
    code = subprocess.run(["curl", "-sS", "--compressed", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                           f"If-None-Match: {etag}", url], capture_output=True, text=True, timeout=20, check=True)
    assert code.stdout == "304"
    listing = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--path-as-is",
                              f"http://{host}:{port}/feeds/../../feeds.sqlite"], capture_output=True, text=True,
                             timeout=20, check=True)
    assert listing.stdout == "404"
    post = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", url],
                          capture_output=True, text=True, timeout=20, check=True)
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
    add_article(world.store, Art("them", "cd-nganh-mau", "Công đoàn ngành Mẫu ký thỏa ước lao động tập thể",
                                 "Công đoàn ngành Mẫu và doanh nghiệp ký thỏa ước lao động tập thể mới.",
                                 datetime(2026, 7, 23, 9, 0, tzinfo=VN)), datetime(2026, 7, 23, 10, 0, tzinfo=VN))
    with world.store.session() as s:
        s.delete(s.get(ArticleRow, world.ids["khong-ngay"]))
    publish(world.store, world.settings, world.sources)
    second = namespace["pull"](db)
    assert second > first and local() == site() and len(local()) == 8
    assert namespace["pull"](db) == second
    db.close()
