"""The recipe for many readers: Debian's nginx with the project's own deploy/nginx.conf in front of a published
folder (publish_gzip on), on loopback. Skips without nginx on a developer's machine; fails under CI=true."""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from feed.publish.publisher import publish

from .support.feedworld import make_world
from .support.needs import program
from .support.nginx import run_nginx


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
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    sbin = Path("/usr/sbin/nginx")  # Debian's, off a non-root PATH
    binary = str(sbin) if sbin.is_file() else program("nginx")
    tmp_path = tmp_path_factory.mktemp("nginx-recipe")
    world = make_world(tmp_path)
    settings = replace(world.settings, publish_gzip=True)
    publish(world.store, settings, world.sources)
    world.store.close()
    (settings.public / ".publish.lock").touch()
    with run_nginx(binary, settings.public, tmp_path / "nginx") as port:
        yield port, settings.public


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
