"""The per-page fast paths of extraction and the judge give what the plain code gave.

Each shortcut (lines cleaned in one pass, short texts folded once, noise lines matched by one pattern, metadata read
in one walk, lxml.html's element methods as functions, the judge reading the text extract() just prepared) is
checked here against the slow reading it replaces, on Vietnamese union-news text and on the awkward inputs that
could tell them apart.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from lxml import etree
from lxml import html as lxml_html

from feed.extract.article import extract, parser_text
from feed.extract.judge import SiteFacts, judge_page
from feed.extract.metadata import (
    META_AUTHOR,
    META_DESCRIPTION,
    META_IMAGE,
    META_MODIFIED,
    META_PUBLISHED,
    META_TITLE,
    META_URL,
    _first_values,
    css_xpath,
)
from feed.extract.page_noise import NOISE_LINES, is_noise_line
from feed.extract.tree import drop_tree, parse_document, text_content
from feed.lang.text import _fold_word, clean_line, clean_lines, fold
from feed.records import Extracted

# Body text as a page's blocks give it: blank lines, NBSP, zero-width spaces, entities (one of them a line break),
# decomposed tone marks, a bidi control and a NUL.
AWKWARD_TEXT = (
    "\n\n  Sáng 8/1/2026, Liên đoàn Lao động tỉnh\u00a0Nghệ An tổ chức hội nghị tổng kết  \n"
    "\u200bBan Chấp hành&nbsp;Công đoàn&#10;ngành Giáo dục\n \n\t\n"
    "Ho\u0300a Bi\u0300nh: tặng 200 suất quà &amp; 50 sổ tiết kiệm\u200e cho đoàn viên\x00 khó khăn\n"
    "\u2028Dịp này, 25 tập thể được tặng Bằng khen\u3000\n"
)


@pytest.mark.parametrize(
    "text",
    [
        AWKWARD_TEXT,
        AWKWARD_TEXT.replace("&#10;", " "),  # no entity that makes a line: the one-pass reading
        "",
        "\n \n\u200b\n",
        "Công đoàn cơ sở&NewLine;Công ty May 10",
        "Ban Thường vụ &lt;b&gt;khen thưởng&lt;/b&gt;\r\n12 tập thể",
    ],
)
def test_clean_lines_is_clean_line_on_every_line(text: str) -> None:
    expected = [line for line in (clean_line(x) for x in text.split("\n")) if line]
    assert clean_lines(text) == expected


def test_clean_lines_reads_the_awkward_body_as_written() -> None:
    assert clean_lines(AWKWARD_TEXT) == [
        "Sáng 8/1/2026, Liên đoàn Lao động tỉnh Nghệ An tổ chức hội nghị tổng kết",
        "Ban Chấp hành Công đoàn ngành Giáo dục",  # the line break an entity makes is a space inside one line
        "Hòa Bình: tặng 200 suất quà & 50 sổ tiết kiệm cho đoàn viên khó khăn",
        "Dịp này, 25 tập thể được tặng Bằng khen",
    ]


def _fold_by_regex(text: str) -> str:
    """fold() as first written: each \\w+ run of the NFC text folded in place."""
    return re.sub(r"\w+", lambda m: _fold_word(m.group(0)), unicodedata.normalize("NFC", text))


@pytest.mark.parametrize(
    "text",
    [
        "Chuyên mục 3",
        "Công đoàn Thừa Thiên Huế thăm hỏi, tặng quà công nhân bị tai nạn lao động (số 12)",
        "Ho\u0300a Bi\u0300nh",
        "x" * 159 + " Hòa",
        "Phát biểu tại hội nghị, đồng chí Chủ tịch Liên đoàn Lao động tỉnh đề nghị các cấp công đoàn tiếp tục "
        "lắng nghe tâm tư, nguyện vọng của đoàn viên và phản ánh kiến nghị chính đáng của người lao động.",
    ],
)
def test_fold_short_and_long_texts_as_before(text: str) -> None:
    assert fold(text) == _fold_by_regex(text)
    assert fold(text) == _fold_by_regex(text)  # the second time from the memo for short texts


@pytest.mark.parametrize(
    "line",
    [
        "Đang truy cập: 1.234",
        "Tổng biên tập: Nguyễn Văn An",
        "Chia sẻ bài viết của bạn về hoạt động công đoàn tại đây.",
        "facebook | zalo",
        "(12 bình chọn)",
        "Xem thêm: Công đoàn ngành Y tế tổ chức đại hội",
        "Báo Lao Động điện tử",
        "Sáng 8/1, Công đoàn ngành tổ chức hội nghị; xem thêm tại đây",
        "Hội nghị đã bầu Ban Chấp hành khóa mới gồm 15 đồng chí.",
        "  tin liên quan  ",
    ],
)
def test_noise_lines_by_one_pattern_as_by_ten(line: str) -> None:
    assert is_noise_line(line) == any(p.search(line) for p in NOISE_LINES)


def test_noise_lines_still_tell_noise_from_text() -> None:
    assert is_noise_line("Đang truy cập: 1.234") and is_noise_line("Tổng biên tập: Nguyễn Văn An")
    assert not is_noise_line("Hội nghị đã bầu Ban Chấp hành khóa mới gồm 15 đồng chí.")


AWKWARD_HEAD = (
    '<html><head><meta property="og:title"><meta property="og:title" content=" ">'
    '<meta property="og:title" content="Đại hội Công đoàn cơ sở lần thứ V">'
    '<META NAME="author" CONTENT="Minh Tân"><meta name="Author" content="Ngọc Ánh">'
    '<link rel="canonical nofollow" href="/a"><link rel="canonical" href="/tin/dai-hoi.html">'
    '<link rel="canonical" href="/c"></head><body>'
    '<time itemprop="datePublished" datetime="2026-03-20T08:00">20/3/2026</time>'
    '<meta property="og:image" content="/anh/dai-hoi.jpg"><svg><meta property="og:url" content="/u"/></svg>'
    "<h1>Đại hội Công đoàn cơ sở lần thứ V</h1></body></html>"
)


def test_metadata_walk_finds_what_each_query_finds() -> None:
    root = parse_document(AWKWARD_HEAD)
    values = _first_values(root)
    queries = (*META_TITLE, *META_DESCRIPTION, *META_PUBLISHED, *META_MODIFIED, *META_AUTHOR, *META_URL, *META_IMAGE)
    for query in queries:
        found = css_xpath(query)(root)
        assert values.get(query) == (str(found[0]) if found else None), query
    assert values['meta[property="og:title"]::attr(content)'] == " "  # the first one that has the attribute
    assert values['link[rel="canonical"]::attr(href)'] == "/tin/dai-hoi.html"


FRAGMENT = (
    "<div>Mở đầu<p>Sáng 25/1, <b>Liên đoàn</b> trao quà<!-- chú thích --> Tết</p>đuôi một"
    "<p>Đoàn viên<br>khó khăn</p>đuôi hai<span>ảnh</span></div>"
)


def test_tree_helpers_are_lxml_html_methods() -> None:
    plain, rich = parse_document(FRAGMENT), lxml_html.document_fromstring(FRAGMENT)
    elements = etree.Element  # comments have no text_content() in lxml.html either
    assert [text_content(e) for e in plain.iter(elements)] == [e.text_content() for e in rich.iter(elements)]
    assert text_content(rich) == rich.text_content()  # lxml.html elements are taken as well
    for doc, drop in ((plain, drop_tree), (rich, lambda e: e.drop_tree())):
        paragraphs = list(doc.iter("p"))
        drop(paragraphs[1])  # its tail joins the first paragraph's tail
        drop(paragraphs[0])  # and both join the text before it
    assert text_content(plain) == rich.text_content() == "Mở đầuđuôi mộtđuôi haiảnh"
    with pytest.raises(Exception, match="empty"):
        parse_document("<!-- chỉ có chú thích -->")


ARTICLE = (
    '<html><head><meta charset="utf-8"><title>Công đoàn Nghệ An trao 500 suất quà Tết</title>'
    '<meta property="article:published_time" content="2026-01-25T08:00:00+07:00"></head><body>'
    "<article><h1>Công đoàn Nghệ An trao 500 suất quà Tết</h1>"
    + "".join(
        f"<p>Chiều 25/1, Liên đoàn Lao động tỉnh Nghệ An trao {n} suất quà cho công nhân lao động có hoàn cảnh khó "
        "khăn tại các khu công nghiệp, mỗi suất trị giá một triệu đồng.</p>"
        for n in range(100, 106)
    )
    + "</article></body></html>"
)
LOGIN = (
    '<html><head><meta charset="utf-8"><title>Đăng nhập hệ thống</title></head><body><h1>Đăng nhập hệ thống</h1>'
    '<form><input name="u"><input type="password" name="p"></form></body></html>'
)


def test_judge_reads_its_own_page_not_the_last_extracted() -> None:
    article_bytes, login_bytes = ARTICLE.encode(), LOGIN.encode()
    article = extract(article_bytes, "https://congdoannghean.example/tin/qua-tet.html", encoding="utf-8")
    assert article.error is None and article.published_at is not None
    # The memo holds the article page; another page (even with equal bytes, in another object) is read afresh.
    assert parser_text(article_bytes, "utf-8") is parser_text(article_bytes, "utf-8")
    assert parser_text(login_bytes, "utf-8").count("password") == 1
    same_bytes = bytes(bytearray(article_bytes))
    assert same_bytes is not article_bytes and parser_text(same_bytes, "utf-8") == parser_text(article_bytes, "utf-8")
    # What extraction makes of the login page (no article text); the judge reads the rest off the page itself.
    login = Extracted(url="https://congdoannghean.example/dang-nhap.html", title="Đăng nhập hệ thống", error="no text")
    verdict = judge_page(login_bytes, login, SiteFacts(), encoding="utf-8")
    assert verdict.reason in ("login", "site_title"), verdict
    # The article, judged after the login page was extracted, is judged on its own page.
    assert judge_page(article_bytes, article, SiteFacts(), encoding="utf-8").is_article
