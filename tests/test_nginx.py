"""The recipe for many readers: Debian's nginx with the project's own deploy/nginx.conf in front of a published
folder (publish_gzip on), on loopback, passing the query feeds to a real `unionfeed serve` (on a thread, over the
same SQLite store). Skips without nginx on a developer's machine; fails under CI=true."""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest
from icalendar import Calendar

from feed.publish.publisher import publish
from feed.serve.query import query_feeds
from feed.serve.server import serve_in_thread

from .support.feedworld import make_world
from .support.needs import program
from .support.nginx import run_nginx

PROVINCES = {"ldld-mau": "Thanh Hóa", "bao-mau": "Thanh Hóa", "cd-nganh-mau": "Nghệ An"}


def request(
    port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, int]]:
    """nginx's port, the published folder, and the port of the unionfeed server nginx passes its answers to."""
    sbin = Path("/usr/sbin/nginx")  # Debian's, off a non-root PATH
    binary = str(sbin) if sbin.is_file() else program("nginx")
    tmp_path = tmp_path_factory.mktemp("nginx-recipe")
    world = make_world(tmp_path)
    sources = [
        s.model_copy(update={"province": PROVINCES[s.slug]}) if s.slug in PROVINCES else s for s in world.sources
    ]
    settings = replace(world.settings, publish_gzip=True)
    publish(world.store, settings, sources)
    world.store.close()
    (settings.public / ".publish.lock").touch()
    queries = query_feeds(f"sqlite:///{tmp_path / 'feeds.sqlite'}", sources, "https://unionfeed.example.vn/", None)
    server = serve_in_thread(settings.public, queries=queries)
    ours = server.server_address[1]
    try:
        with run_nginx(binary, settings.public, tmp_path / "nginx", upstream=f"127.0.0.1:{ours}") as port:
            yield port, settings.public, ours
    finally:
        server.shutdown()
        server.server_close()
        queries.close()


@pytest.fixture(scope="module")
def nginx(stack: tuple[int, Path, int]) -> tuple[int, Path]:
    return stack[0], stack[1]


@pytest.mark.reliability("server-nginx-recipe")
def test_nginx_with_the_shipped_config_serves_200_304_and_gzip_static(nginx: tuple[int, Path]) -> None:
    port, public = nginx
    status, headers, body = request(port, "/feeds/all.atom")
    assert status == 200 and body == (public / "feeds" / "all.atom").read_bytes()
    assert headers["content-type"] == "application/atom+xml; charset=utf-8" and "content-encoding" not in headers
    assert headers["etag"] and headers["last-modified"] and headers["x-content-type-options"] == "nosniff"
    assert request(port, "/feeds/all.atom", {"If-None-Match": headers["etag"]})[0] == 304
    assert request(port, "/feeds/all.atom", {"If-Modified-Since": headers["last-modified"]})[0] == 304
    # gzip_static: the .gz publish wrote beside the feed, sent as it is.
    status, zipped, packed = request(port, "/feeds/all.atom", {"Accept-Encoding": "gzip"})
    assert status == 200 and zipped["content-encoding"] == "gzip" and "accept-encoding" in zipped["vary"].lower()
    assert packed == (public / "feeds" / "all.atom.gz").read_bytes() and gzip.decompress(packed) == body
    assert request(port, "/feeds/all.atom", {"Accept-Encoding": "gzip", "If-None-Match": zipped["etag"]})[0] == 304
    status, _, snapshot = request(port, "/snapshots/latest.json", {"Accept-Encoding": "gzip"})
    assert status == 200 and gzip.decompress(snapshot) == (public / "snapshots" / "latest.json").read_bytes()
    status, headers, page = request(port, "/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8" and b"<html" in page.lower()


@pytest.mark.parametrize(
    "path",
    ["/.publish.lock", "/feeds/all.atom.gz", "/feeds/", "/unionfeed.sqlite", "/feeds/../../feeds.sqlite", "/x.atom"],
)
def test_nginx_serves_only_what_publish_writes(nginx: tuple[int, Path], path: str) -> None:
    port, _ = nginx
    assert request(port, path)[0] in (400, 404)


def test_nginx_refuses_other_methods(nginx: tuple[int, Path]) -> None:
    port, public = nginx
    before = (public / "feeds" / "all.atom").read_bytes()
    assert request(port, "/feeds/all.atom", method="HEAD")[0] == 200
    for method in ("POST", "PUT", "DELETE"):
        assert request(port, "/feeds/all.atom", method=method)[0] in (403, 405)
    assert (public / "feeds" / "all.atom").read_bytes() == before


QUERY = "/feeds/query.atom?q=h%E1%BB%99i+ngh%E1%BB%8B&province=thanh+hoa"  # "hội nghị" in Thanh Hóa


@pytest.mark.reliability("server-nginx-query-feeds")
def test_nginx_passes_query_feeds_to_unionfeed_with_its_etag_and_304(stack: tuple[int, Path, int]) -> None:
    port, _, ours = stack
    status, headers, body = request(port, QUERY)
    assert status == 200, body
    assert headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(body)
    assert not parsed.bozo and parsed.entries
    assert "Công đoàn tỉnh Mẫu tổng kết năm 2025, đặt mục tiêu 2026" in {e.title for e in parsed.entries}
    assert parsed.feed.links[0].href.endswith(QUERY)  # the query string reached unionfeed as the reader sent it
    # unionfeed's own answer, byte for byte, with its ETag (nginx makes none for a proxied answer).
    direct_status, direct, direct_body = request(ours, QUERY)
    assert (direct_status, direct_body, direct["etag"]) == (200, body, headers["etag"])
    assert headers["etag"].startswith('"q') and headers["cache-control"] == direct["cache-control"]
    again = request(port, QUERY, {"If-None-Match": headers["etag"]})
    assert again[0] == 304 and again[2] == b"" and again[1]["etag"] == headers["etag"]
    # Another query is another feed: its ETag does not match the first's.
    other = request(port, "/feeds/query.atom?q=dai+hoi", {"If-None-Match": headers["etag"]})
    assert other[0] == 200 and other[2] != body
    # nginx compresses nothing it passes on (no gzip here; unionfeed sends query feeds as they are), so a reader
    # asking for gzip gets the same bytes under the same strong ETag, and its 304.
    status, plain, same = request(port, QUERY, {"Accept-Encoding": "gzip"})
    assert status == 200 and "content-encoding" not in plain and same == body and plain["etag"] == headers["etag"]
    assert request(port, QUERY, {"Accept-Encoding": "gzip", "If-None-Match": plain["etag"]})[0] == 304
    for fmt, kind in (("rss", "application/rss+xml"), ("json", "application/feed+json")):
        status, headers, body = request(port, f"/feeds/query.{fmt}?q=dai+hoi")
        assert status == 200 and headers["content-type"] == f"{kind}; charset=utf-8" and body
    assert request(port, QUERY, method="HEAD")[0] == 200
    assert request(port, QUERY, method="POST")[0] in (403, 405)


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("kind=khong_co", "unknown kind 'khong_co'"),
        ("province=Atlantis", "unknown province 'Atlantis'"),
        ("limit=0", "limit must be a whole number from 1 to 50"),
        ("tinh=thanh+hoa", "unknown parameter 'tinh'"),
    ],
)
@pytest.mark.reliability("server-nginx-query-feeds")
def test_nginx_passes_a_bad_query_s_400_and_its_plain_line(stack: tuple[int, Path, int], query: str, said: str) -> None:
    port, _, _ = stack
    status, headers, body = request(port, f"/feeds/query.atom?{query}")
    assert status == 400 and headers["content-type"] == "text/plain; charset=utf-8"
    text = body.decode("utf-8")
    assert text.startswith(said) and text.endswith("\n") and text.count("\n") == 1, text


@pytest.mark.reliability("server-nginx-calendars")
def test_nginx_serves_the_calendars_and_every_opml(nginx: tuple[int, Path]) -> None:
    """What the index page links: the calendars (as text/calendar) and feeds-all.opml, not only feeds.opml."""
    port, public = nginx
    for path in ("/feeds/meetings.ics", "/feeds/kinds/tong_ket.ics", "/feeds/provinces/thanh-hoa.ics"):
        status, headers, body = request(port, path)
        assert status == 200 and body == (public / path.lstrip("/")).read_bytes(), path
        assert headers["content-type"] == "text/calendar; charset=utf-8"
        assert request(port, path, {"If-None-Match": headers["etag"]})[0] == 304
    assert Calendar.from_ical(request(port, "/feeds/provinces/thanh-hoa.ics")[2]).walk("VEVENT")
    for path in ("/feeds.opml", "/feeds-all.opml"):
        status, headers, body = request(port, path)
        assert status == 200 and headers["content-type"] == "text/x-opml; charset=utf-8" and b"<opml" in body
