"""`sources check` against sites served on loopback: a healthy one and broken ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from feed.app.sources_check import Fetcher, check_source, check_sources
from feed.config.settings import Politeness, Settings
from feed.config.sources import Source

ARTICLE = """<html><head><title>{title} | Báo Mẫu</title>
<meta property="article:published_time" content="2026-01-{day}T08:30:00+07:00"></head>
<body><div class="menu"><a href="/">Trang chủ</a></div>
<h1 class="tieu-de">{title}</h1><div class="sapo">Sáng nay, công đoàn cơ sở tổ chức hội nghị tổng kết năm với
nhiều đoàn viên tham dự.</div>
<div class="noi-dung"><p>Hội nghị đánh giá kết quả hoạt động năm qua, biểu dương các tập thể và cá nhân có thành tích
xuất sắc trong phong trào thi đua lao động giỏi.</p><p>Năm tới, công đoàn tiếp tục chăm lo đời sống đoàn viên, phát
triển đoàn viên mới và tổ chức các hoạt động văn hóa, thể thao.</p><p>Thu Trang</p></div></body></html>"""
FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Tin</title>
<item><title>A</title><link>{base}/tin/hoi-nghi-1.html</link></item>
<item><title>B</title><link>{base}/tin/hoi-nghi-2.html</link></item>
<item><title>C</title><link>https://elsewhere.example/tin/x.html</link></item></channel></rss>"""
LISTING = """<html><body><ul class="list"><li><a href="/tin/hoi-nghi-1.html">A</a></li>
<li><a href="/tin/hoi-nghi-2.html">B</a></li></ul></body></html>"""


def site(base: str) -> dict[str, tuple[int, bytes]]:
    pages = {
        "/rss.xml": (200, FEED.format(base=base).encode()),
        "/chuyen-muc.html": (200, LISTING.encode()),
        "/tin/hoi-nghi-1.html": (200, ARTICLE.format(title="Công đoàn tổng kết năm 2025", day="10").encode()),
        "/tin/hoi-nghi-2.html": (200, ARTICLE.format(title="Hội nghị cán bộ công chức", day="12").encode()),
        "/trang-trong.html": (200, b"<html><body><p>no links here</p></body></html>"),
        "/rong/rss.xml": (200, FEED.format(base=base).replace("/tin/", "/mat/").encode()),
    }
    return pages


@pytest.fixture
def server() -> Iterator[str]:
    routes: dict[str, tuple[int, bytes]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = routes.get(self.path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    routes.update(site(base))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base
    httpd.shutdown()
    httpd.server_close()


def settings() -> Settings:
    return replace(Settings(), politeness=replace(Politeness(), download_delay=0.0, download_timeout=5))


def source(base: str, **overrides: object) -> Source:
    data: dict[str, object] = {
        "slug": "bao-mau",
        "name": "Báo Mẫu",
        "kind": "provincial_paper",
        "homepage": f"{base}/",
        "discovery": {
            "feeds": [f"{base}/rss.xml"],
            "listings": [{"url": f"{base}/chuyen-muc.html", "links": "ul.list a"}],
        },
        "selectors": {"title": "h1.tieu-de", "lead": ".sapo", "body": ".noi-dung"},
    }
    data.update(overrides)
    return Source(**data)  # type: ignore[arg-type]


def test_healthy_source_reports_articles_and_full_coverage(server: str) -> None:
    report = check_source(source(server), Fetcher(settings()))
    assert report.ok, report.problems
    assert report.discovery_ok == report.discovery_total == 2
    assert report.articles == [f"{server}/tin/hoi-nghi-1.html", f"{server}/tin/hoi-nghi-2.html"]  # off-site link gone
    assert report.sampled == 2
    assert report.coverage == {"title": 2, "published": 2, "author": 2, "lead": 2, "body": 2}
    assert report.methods == {"selectors": 2}


def test_broken_discovery_is_named(server: str) -> None:
    broken = source(
        server,
        discovery={
            "feeds": [f"{server}/mat-rss.xml"],
            "listings": [{"url": f"{server}/trang-trong.html", "links": "ul.list a"}],
        },
    )
    report = check_source(broken, Fetcher(settings()))
    assert not report.ok
    assert any("mat-rss.xml: HTTP 404" in p for p in report.problems)
    assert any("trang-trong.html: no links match 'ul.list a'" in p for p in report.problems)
    assert "no article URLs found" in report.problems
    assert report.sampled == 0


def test_dead_articles_and_wrong_selectors_are_reported(server: str) -> None:
    dead = source(server, discovery={"feeds": [f"{server}/rong/rss.xml"]})
    report = check_source(dead, Fetcher(settings()))
    assert report.discovery_ok == 1
    assert any(p.endswith("hoi-nghi-1.html: HTTP 404") for p in report.problems)

    wrong = source(server, selectors={"body": ".khong-co"})
    report = check_source(wrong, Fetcher(settings()))
    assert report.sampled == 2
    assert any("body selector '.khong-co' matched on 0/2" in p for p in report.problems)


def test_unreachable_host_and_exit_status(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    gone = source("http://127.0.0.1:9", slug="tat-may")  # port 9 (discard) refuses connections on loopback
    assert check_sources(settings(), [source(server)]) == 0
    assert check_sources(settings(), [source(server), gone]) == 1
    out = capsys.readouterr().out
    assert "bao-mau" in out and "tat-may" in out and "unreachable" in out
