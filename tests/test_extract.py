"""The extractor on pages written for these tests, modelled on real Vietnamese portal and newspaper markup."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from feed.extract import decode_page, extract
from feed.noise import parse_author_line, parse_credit
from feed.sources import Selectors
from feed.text import nfc

from .conftest import run_cli

PAGES = Path(__file__).parent / "fixtures" / "pages"
FETCHED = datetime.fromisoformat("2026-02-01T00:00:00+07:00")
SHAREPOINT = Selectors(title="h1.title-news", published=".date-news", body=".ms-rtestate-field")


def read(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_site_selectors_path() -> None:
    art = extract(read("sharepoint_hoc_vien.html"), "https://hocvienmau.vn/tin-tuc/hoi-nghi.html",
                  selectors=SHAREPOINT, fetched_at=FETCHED)
    assert art.error is None
    assert art.method == "selectors"
    assert art.title == "Hội nghị tổng kết công tác công đoàn năm 2025, triển khai nhiệm vụ năm 2026"
    assert art.published_at == datetime.fromisoformat("2026-01-19T08:15:00+07:00")
    assert art.author == "Tin: Thu Hà; Ảnh: Minh Quân"
    assert art.syndicated_from == "hocvienmau.vn"
    assert art.body_text.startswith("hocvienmau.vn - Sáng ngày 16/01/2026")
    for noise in ("Toàn cảnh Hội nghị", "Đang truy cập", "Facebook", "Tin khác", "BBT dẫn tin", "Tác giả"):
        assert noise not in art.body_text
    assert art.image_urls == ["https://hocvienmau.vn/Images/hoi-nghi-1.jpg"]  # lazy data-src, not the placeholder
    assert "<script" not in art.body_html


def test_metadata_path_without_selectors() -> None:
    art = extract(read("bao_tinh_jsonld.html"), "https://baomau.vn/cong-doan/x-1234567.html?utm_source=zalo",
                  fetched_at=FETCHED)
    assert art.error is None
    assert art.title == "Công đoàn Viên chức tỉnh tổng kết năm 2025"
    assert art.canonical_url == "https://baomau.vn/cong-doan/cong-doan-vien-chuc-tinh-tong-ket-nam-2025-1234567.html"
    assert art.published_at == datetime.fromisoformat("2026-01-21T04:01:00+07:00")
    assert art.updated_at == datetime.fromisoformat("2026-01-21T09:30:00+07:00")
    assert art.author == "Minh Tâm"
    assert art.lead and art.lead.startswith("Ngày 20-1, Công đoàn Viên chức tỉnh")
    assert "48 công đoàn cơ sở" in art.body_text
    for noise in ("Tổng biên tập", "Tòa soạn", "Quang cảnh hội nghị", "Tin liên quan"):
        assert noise not in art.body_text


def test_published_time_keeps_a_stated_offset() -> None:
    page = read("bao_tinh_jsonld.html").replace(b"2026-01-21T04:01:00+07:00", b"2026-01-20T21:01:00Z")
    art = extract(page, "https://baomau.vn/a.html", fetched_at=FETCHED)
    assert art.published_at is not None and art.published_at.utcoffset() is not None
    assert art.published_at == datetime.fromisoformat("2026-01-21T04:01:00+07:00")


def test_mojibake_page_is_repaired() -> None:
    text = read("bao_tinh_jsonld.html").decode("utf-8")
    damaged = text.encode("utf-8").decode("cp1252", errors="ignore")
    art = extract(damaged, "https://baomau.vn/a.html", fetched_at=FETCHED)
    assert art.title == "Công đoàn Viên chức tỉnh tổng kết năm 2025"


def test_declared_charset_is_honoured() -> None:
    page = read("bao_tinh_jsonld.html").decode("utf-8")
    assert decode_page(page.encode("utf-8")) == page
    # "Hà Nội" in windows-1258: precomposed à and ô, then a combining dot below (0xF2).
    windows = b"<html><head><meta charset='windows-1258'></head><body><h1>H\xe0 N\xf4\xf2i</h1></body></html>"
    assert "<h1>Hà Nội</h1>" in nfc(decode_page(windows))


@pytest.mark.parametrize("page", [b"", b"   ", b"<html><body></body></html>", b"\x00\x01\x02\xff binary",
                                  b"<html><body><div class='x'>", b"<<<>>>"])
def test_broken_pages_give_an_error_not_an_exception(page: bytes) -> None:
    art = extract(page, "https://x.vn/a.html")
    assert art.error


@pytest.mark.parametrize(
    ("line", "credit"),
    [
        ("(BBT dẫn tin từ hcma.vn)", "hcma.vn"),
        ("BBT dẫn tin từ: congdoan.vn", "congdoan.vn"),
        ("Nguồn: Báo Lao Động", "Báo Lao Động"),
        ("(Theo Liên đoàn Lao động tỉnh Nam Định)", "Liên đoàn Lao động tỉnh Nam Định"),
        ("Nguồn bài viết rất dài không phải credit vì không có dấu hai chấm", None),
        ("Hội nghị đã thành công tốt đẹp.", None),
    ],
)
def test_credit_lines(line: str, credit: str | None) -> None:
    assert parse_credit(line) == credit


@pytest.mark.parametrize(
    ("line", "author"),
    [
        ("Tác giả: Tin: BT; Ảnh: Mạnh Thắng", "Tin: BT; Ảnh: Mạnh Thắng"),
        ("Bài và ảnh: Ngọc Lan", "Ngọc Lan"),
        ("Phóng viên: Hoàng Anh", "Hoàng Anh"),
        ("Ngày 23/7, tại Trường Đại học Y Dược Thái Bình", None),
    ],
)
def test_author_lines(line: str, author: str | None) -> None:
    assert parse_author_line(line) == author


def test_cli_prints_one_json_line_per_page_and_fails_on_a_bad_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_bytes(b"<html><body></body></html>")
    result = run_cli("extract", str(PAGES / "bao_tinh_jsonld.html"), str(broken), str(tmp_path / "missing.html"))
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert len(lines) == 3
    assert "Công đoàn Viên chức tỉnh" in lines[0]  # UTF-8, not \\u escapes
    import json

    records = [json.loads(line) for line in lines]
    assert records[0]["error"] is None and records[0]["published_at"] == "2026-01-21T04:01:00+07:00"
    assert records[1]["error"] and records[2]["error"]
    assert "Traceback" not in result.stderr
