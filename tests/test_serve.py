"""The feed server with real HTTP clients on loopback: validators, 304, gzip, methods, traversal."""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from feed.serve import serve_in_thread

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
