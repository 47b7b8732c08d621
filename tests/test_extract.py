"""The extractor on pages written for these tests, modelled on real Vietnamese portal and newspaper markup."""

from __future__ import annotations

import dataclasses
import html
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feed.config.sources import Selectors
from feed.extract.article import decode_page, extract
from feed.extract.page_noise import parse_author_line, parse_credit
from feed.lang.text import nfc, strip_xml_illegal

from .support.cli import run_cli

PAGES = Path(__file__).parent / "fixtures" / "pages"
FETCHED = datetime.fromisoformat("2026-02-01T00:00:00+07:00")
SHAREPOINT = Selectors(title="h1.title-news", published=".date-news", body=".ms-rtestate-field")


def read(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_site_selectors_path() -> None:
    art = extract(
        read("sharepoint_hoc_vien.html"),
        "https://hocvienmau.vn/tin-tuc/hoi-nghi.html",
        selectors=SHAREPOINT,
        fetched_at=FETCHED,
    )
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
    art = extract(
        read("bao_tinh_jsonld.html"), "https://baomau.vn/cong-doan/x-1234567.html?utm_source=zalo", fetched_at=FETCHED
    )
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


@pytest.mark.parametrize(
    "page",
    [b"", b"   ", b"<html><body></body></html>", b"\x00\x01\x02\xff binary", b"<html><body><div class='x'>", b"<<<>>>"],
)
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


# --- pages that lie about themselves ----------------------------------------------------------------------------
ARTICLE = (
    "<html><head><title>Công đoàn xã Tân Lập sơ kết công tác sáu tháng</title></head><body><article>"
    "<h1>Công đoàn xã Tân Lập sơ kết công tác sáu tháng</h1><p>Chiều 14/7, Công đoàn xã Tân Lập tổ chức hội "
    "nghị sơ kết công tác sáu tháng đầu năm, đánh giá việc chăm lo đời sống cho đoàn viên, người lao động "
    "tại các trường học và trạm y tế trên địa bàn.</p></article></body></html>"
)


@pytest.mark.reliability("site-wrong-charset")
@pytest.mark.parametrize("declared", ["iso-8859-1", "windows-1252", "latin-1"])
def test_utf8_bytes_win_over_a_legacy_charset_header(declared: str) -> None:
    art = extract(ARTICLE.encode("utf-8"), "https://xamau.vn/a.html", encoding=declared)
    assert art.title == "Công đoàn xã Tân Lập sơ kết công tác sáu tháng"
    assert "trạm y tế" in art.body_text and "\ufffd" not in art.body_text


@pytest.mark.reliability("site-wrong-charset")
def test_a_utf8_header_over_a_windows_1258_page_yields_to_the_pages_meta() -> None:
    page = b"<html><head><meta charset='windows-1258'></head><body><h1>H\xe0 N\xf4\xf2i</h1></body></html>"
    assert "<h1>Hà Nội</h1>" in nfc(decode_page(page, "utf-8"))


@pytest.mark.reliability("site-missing-charset")
def test_an_undeclared_page_that_is_not_utf8_is_read_as_windows_1258() -> None:
    assert "<h1>Hà Nội</h1>" in nfc(decode_page(b"<html><body><h1>H\xe0 N\xf4\xf2i</h1></body></html>"))
    assert decode_page(ARTICLE.encode()) == ARTICLE  # UTF-8 first


@pytest.mark.reliability("site-malformed-html")
def test_text_after_a_stray_closing_html_tag_and_nul_bytes_is_kept() -> None:
    page = ARTICLE.replace("</h1>", "</h1></html>").replace("đánh giá", "đánh\x00 giá")
    art = extract(page, "https://xamau.vn/a.html")
    assert "đánh giá việc chăm lo đời sống" in art.body_text and "trạm y tế" in art.body_text


@pytest.mark.reliability("site-malformed-html")
@pytest.mark.parametrize("page", [ARTICLE, ARTICLE.encode()])
def test_an_xhtml_page_opening_with_an_xml_declaration_is_read(page: str | bytes) -> None:
    declared = b'<?xml version="1.0" encoding="utf-8"?>\n' if isinstance(page, bytes) else '<?xml version="1.0"?>\n'
    art = extract(declared + page, "https://xamau.vn/a.html")  # type: ignore[operator]
    assert art.error is None and art.title == "Công đoàn xã Tân Lập sơ kết công tác sáu tháng"


@pytest.mark.reliability("site-binary")
def test_binary_bytes_labelled_html_are_not_an_article() -> None:
    noise = bytes(range(256)) * 40
    assert extract(noise, "https://xamau.vn/a.html").error == "binary content, not a text page"
    assert extract(b"<!-- only a comment -->", "https://xamau.vn/b.html").error == "empty page"


# --- property: the extractor on random HTML ---------------------------------------------------------------------
SECRET = "MaKichBan"  # only ever inside <script> or <style>: it must never reach the article text
KNOWN_ERRORS = {None, "empty page", "binary content, not a text page", "no title found", "no article text found"}
WORDS = (
    "Công đoàn",
    "hội nghị tổng kết",
    "người lao động",
    "Hòa Bình",
    "Hoà Bình",
    "thuỷ lợi",
    "đoàn viên",
    "năm 2026",
    "12/03/2026",
    "08:30",
    "Theo Báo Lao Động",
    "Ảnh:",
    "Tin, ảnh: Minh Thu",
    "&amp;",
    "&#x1EA1;",
    "&nbsp;",
    "&bogus;",
    "<",
    ">",
    "\u200b",
    "\u202e",
    "\x0c",
    "\x00",
    "\ufeff",
    "e\u0301",
    "Ã´ng",
    "Há»™i",
)
TAGS = (
    "p",
    "div",
    "span",
    "a",
    "b",
    "i",
    "h1",
    "h2",
    "table",
    "tr",
    "td",
    "ul",
    "li",
    "article",
    "section",
    "header",
    "footer",
    "nav",
    "figure",
    "figcaption",
    "time",
    "noscript",
    "aside",
    "form",
    "font",
    "center",
)
CLASSES = (
    "content",
    "detail-content",
    "sapo",
    "date",
    "author",
    "title",
    "share",
    "related",
    "hidden",
    "news",
    "ms-rtestate-field",
    "entry-content",
    "caption",
    "tin-lien-quan",
    "comment",
)
SCRIPT_SAFE = st.text(st.characters(blacklist_characters="<"), max_size=20)
# Any code point but "<" and "&" (those come from WORDS), lone surrogates included.
texts = st.lists(
    st.one_of(st.sampled_from(WORDS), st.text(st.characters(blacklist_characters="<&"), max_size=8)), max_size=10
).map(" ".join)
attributes = st.one_of(
    st.sampled_from(CLASSES).map(lambda c: f'class="{c}"'),
    st.sampled_from(("content", "main", "date")).map(lambda i: f"id={i}"),
    st.sampled_from(
        (
            'style="display:none"',
            "hidden",
            'href="javascript:void(0)"',
            'href="/tin/1.html"',
            'src="/anh/1.jpg"',
            'datetime="2026-03-12T08:30:00+07:00"',
            'x="\x01"',
            "noquote=a&b",
        )
    ),
    texts.map(lambda t: f'title="{html.escape(t)}"'),
)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def render(tag: str, attrs: list[str], inner: list[str], close: str) -> str:
        opened = f"<{tag}{''.join(' ' + a for a in attrs)}>{''.join(inner)}"
        return opened + {"proper": f"</{tag}>", "missing": "", "wrong": "</div></span>"}[close]

    return st.builds(
        render,
        st.sampled_from(TAGS),
        st.lists(attributes, max_size=2),
        st.lists(children, max_size=3),
        st.sampled_from(("proper", "proper", "missing", "wrong")),
    )


SENTENCES = (
    "Sáng 12/3, Công đoàn cơ sở tổ chức hội nghị người lao động năm 2026, thu hút đông đảo đoàn viên tham dự.",
    "Phát biểu tại hội nghị, đồng chí Chủ tịch Công đoàn đề nghị các tổ công đoàn lắng nghe tâm tư người lao "
    "động, kịp thời phản ánh kiến nghị chính đáng của họ.",
)
prose = st.sampled_from(SENTENCES).map(lambda t: f"<p>{t}</p>")
hidden_code = st.builds(
    lambda kind, code, closed: f"<{kind}>{code} {SECRET}{f'</{kind}>' if closed else ''}",
    st.sampled_from(("script", "style")),
    SCRIPT_SAFE,
    st.booleans(),
)
nodes = st.recursive(st.one_of(texts, prose, hidden_code), _element, max_leaves=12)
og_titles = texts.map(lambda t: f'<meta property="og:title" content="{html.escape(t)}">')
heads = st.builds(
    lambda charset, title, metas: f"<head>{charset}<title>{html.escape(title)}</title>{metas}</head>",
    st.sampled_from(("", '<meta charset="utf-8">', '<meta charset="windows-1258">', '<meta charset="x-bogus">')),
    texts,
    st.lists(st.one_of(hidden_code, og_titles), max_size=2).map("".join),
)
# An article skeleton (headline, date, sapo, body box) with random nodes inside, so every reading path is taken.
skeletons = st.builds(
    lambda title, inner, prose_: (
        f'<h1>{html.escape(title)}</h1><div class="date">12/03/2026 08:30</div>'
        f'<div class="sapo">{inner[0]}</div><div class="content">{"".join(prose_)}'
        f"{''.join(inner[1:])}</div>"
    ),
    texts,
    st.lists(nodes, min_size=1, max_size=3),
    st.lists(prose, max_size=4),
)
documents = st.builds(
    lambda doctype, head, body, tail: f"{doctype}<html>{head}<body>{''.join(body)}{tail}",
    st.sampled_from(("", "<!doctype html>", '<?xml version="1.0" encoding="utf-8"?>\n')),
    heads,
    st.lists(st.one_of(nodes, skeletons), max_size=4),
    st.sampled_from(("</body></html>", "", "</html>trailing", "</body>")),
)


@st.composite
def pages(draw: st.DrawFn) -> str | bytes:
    """A document as text, as UTF-8 bytes, or as bytes with garbage spliced in."""
    document = draw(documents)
    form = draw(st.sampled_from(("text", "utf-8", "garbage")))
    if form == "text":
        return document
    data = document.encode("utf-8", "surrogatepass")  # a lone surrogate becomes bytes no decoder accepts
    if form == "garbage":
        # Between tags and without "<": garbage may spoil text and encodings, not turn a <script> into text.
        at = draw(st.sampled_from([0, len(data), *(i + 1 for i, byte in enumerate(data) if byte == ord(">"))]))
        data = data[:at] + draw(st.binary(max_size=64)).replace(b"<", b"") + data[at:]
    return data


def _texts(art: object) -> list[str]:
    return [v for v in dataclasses.asdict(art).values() if isinstance(v, str)]  # type: ignore[call-overload]


RULES = Selectors(
    title="h1", published=".date, time", author=".author", lead=".sapo", body=".content", remove=(".share", ".related")
)


@pytest.mark.reliability("property-extractor")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=pages(), rules=st.sampled_from((None, RULES)))
def test_extract_on_random_html_never_crashes_and_keeps_its_promises(
    page: str | bytes, rules: Selectors | None
) -> None:
    url = "https://xamau.vn/tin-tuc/bai-1.html"
    first = extract(page, url, selectors=rules, fetched_at=FETCHED)
    # extract() turns any exception into an error; one escaping a reader would show as "TypeError: …".
    assert first.error in KNOWN_ERRORS | {"the source's title and body selectors match nothing on this page"}, (
        first.error
    )
    again = extract(page, url, selectors=rules, fetched_at=FETCHED)
    assert dataclasses.asdict(first) == dataclasses.asdict(again)
    for text in _texts(first):
        if text in (first.url, first.canonical_url):
            continue
        assert text == unicodedata.normalize("NFC", text), text
        assert text == strip_xml_illegal(text), text
    for text in (first.body_text, first.lead or "", first.body_html):
        assert SECRET not in text


# --- selectors are a hint ------------------------------------------------------------------------------------
STALE = Selectors(title="h1.tieu-de-cu", published=".ngay-cu", body=".noi-dung-cu")  # an old layout's selectors


def test_selectors_that_miss_fall_back_to_metadata_and_mark_the_miss() -> None:
    url = "https://baomau.vn/cong-doan/x-1234567.html"
    plain = extract(read("bao_tinh_jsonld.html"), url, fetched_at=FETCHED)
    art = extract(read("bao_tinh_jsonld.html"), url, selectors=STALE, fetched_at=FETCHED)
    assert art.error is None and art.selectors_missed == "title, body"
    assert art.method == plain.method != "selectors"
    # Every field as the page reads with no selectors at all.
    for name in ("title", "published_at", "author", "lead", "body_text"):
        assert getattr(art, name) == getattr(plain, name), name
    assert plain.selectors_missed is None  # no selectors configured: nothing to miss


def test_selectors_that_miss_fall_back_to_the_main_text_finder() -> None:
    page, url = read("sharepoint_hoc_vien.html"), "https://hocvienmau.vn/tin-tuc/hoi-nghi.html"
    art = extract(page, url, selectors=STALE, fetched_at=FETCHED)
    assert art.error is None and art.selectors_missed == "title, body" and art.method != "selectors"
    assert art.title == extract(page, url, fetched_at=FETCHED).title  # the page's own headline, as with no selectors
    assert art.title and art.title.startswith("Hội nghị tổng kết công tác công đoàn năm 2025")
    assert art.published_at == datetime.fromisoformat("2026-01-19T08:15:00+07:00")
    assert "Sáng ngày 16/01/2026" in art.body_text
    assert art.to_json()["selectors_missed"] == "title, body"  # `unionfeed extract` shows it


def test_a_body_selector_alone_missing_is_marked_and_matching_selectors_are_not() -> None:
    page, url = read("sharepoint_hoc_vien.html"), "https://hocvienmau.vn/tin-tuc/hoi-nghi.html"
    half = extract(page, url, selectors=SHAREPOINT.model_copy(update={"body": ".noi-dung-cu"}), fetched_at=FETCHED)
    assert half.error is None and half.selectors_missed == "body" and half.method != "selectors"
    assert half.title == "Hội nghị tổng kết công tác công đoàn năm 2025, triển khai nhiệm vụ năm 2026"
    whole = extract(page, url, selectors=SHAREPOINT, fetched_at=FETCHED)
    assert whole.error is None and whole.selectors_missed is None and whole.method == "selectors"


def test_a_page_no_layer_reads_is_still_an_error_when_the_selectors_miss() -> None:
    page = "<html><head><title>Lỗi</title></head><body><nav><a href='/'>Trang chủ</a></nav></body></html>"
    art = extract(page, "https://baomau.vn/tin/loi.html", selectors=STALE, fetched_at=FETCHED)
    assert art.error == "the source's title and body selectors match nothing on this page"
    assert art.selectors_missed == "title, body"


def test_when_both_selectors_miss_trafilatura_alone_is_not_trusted() -> None:
    # A page cut off before its article (the demo's loi-trang-99): trafilatura would read the site's menus.
    menus = "".join(
        f"<p><a href='/m{i}'>Mục {i}</a> Tin tức sự kiện chính sách pháp luật văn bản</p>" for i in range(9)
    )
    page = f"<html><head><title>Liên đoàn Lao động tỉnh</title></head><body><div class=menu>{menus}</div><img sr"
    art = extract(page, "https://baomau.vn/tin/loi-trang.html", selectors=STALE, fetched_at=FETCHED)
    assert art.error == "the source's title and body selectors match nothing on this page"
