"""The main-text finder without selectors (feed.extract.main_text): pruning in one pass, and the rules that read an
article cut into several blocks whole. Real lxml trees of small Vietnamese pages, in process."""

from __future__ import annotations

import random

from lxml import etree
from lxml import html as lxml_html

from feed.extract import main_text
from feed.extract.main_text import find_main_text, prune
from feed.extract.page_noise import BODY_HINT, NOISE_HINT, NOISE_TAGS, WEAK_NOISE_HINT

PROSE = (
    "Sáng 12/3, Liên đoàn Lao động tỉnh Hòa Bình tổ chức hội nghị tổng kết công tác công đoàn năm 2025 và triển khai "
    "nhiệm vụ năm 2026, với sự tham dự của hơn 200 đại biểu là cán bộ công đoàn chuyên trách các cấp."
)
PROSE_2 = (
    "Năm qua, các cấp công đoàn đã thăm hỏi, tặng quà cho 12.500 đoàn viên có hoàn cảnh khó khăn, hỗ trợ xây mới "
    "và sửa chữa 45 Mái ấm Công đoàn, ký kết 320 thỏa ước lao động tập thể tại doanh nghiệp ngoài nhà nước."
)
PROSE_3 = (
    "Phát biểu chỉ đạo, đồng chí Chủ tịch Liên đoàn Lao động tỉnh đề nghị các cấp công đoàn tiếp tục đổi mới nội "
    "dung, phương thức hoạt động, hướng mạnh về cơ sở, lấy đoàn viên, người lao động làm trung tâm."
)


def _reference_prune(root: etree._Element) -> None:
    """The one-element-at-a-time prune this project used before the one-pass version: the oracle."""
    doomed = []
    for el in root.iter():
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if not tag:
            if el.getparent() is not None:
                doomed.append(el)
            continue
        if tag in NOISE_TAGS:
            doomed.append(el)
            continue
        if tag in ("html", "body"):
            continue
        style = (el.get("style") or "").replace(" ", "").lower()
        hints = f"{el.get('class', '')} {el.get('id', '')} {el.get('type', '')}".lower()
        if "display:none" in style or el.get("hidden") is not None:
            doomed.append(el)
        elif BODY_HINT.search(hints):
            continue
        elif NOISE_HINT.search(hints) or (WEAK_NOISE_HINT.search(hints) and not main_text._reads_as_prose(el)):
            doomed.append(el)
    for el in doomed:
        main_text._remove(el)


def _random_page(rng: random.Random) -> str:
    classes = ("", "content", "detail-content", "share-bar", "sidebar", "tin-khac", "noi-dung", "box tags", "menu")
    tags = ("div", "p", "span", "section", "ul", "li", "a", "nav", "aside", "table", "td", "b")
    texts = ("", " ", "Công đoàn", PROSE, "đoàn viên, người lao động ", "\n")

    def node(depth: int) -> str:
        tag = rng.choice(tags)
        attrs = []
        if rng.random() < 0.6:
            attrs.append(f'class="{rng.choice(classes)}"')
        if rng.random() < 0.1:
            attrs.append('style="display: none"')
        if rng.random() < 0.1:
            attrs.append(f'id="{rng.choice(classes)}"')
        inner = rng.choice(texts)
        if depth < 4:
            for _ in range(rng.randrange(4)):
                inner += node(depth + 1) if rng.random() < 0.85 else f"<!-- ghi chú -->{rng.choice(texts)}"
        return f"<{tag} {' '.join(attrs)}>{inner}</{tag}>{rng.choice(texts)}"

    return "<html><body>" + "".join(node(0) for _ in range(5)) + "</body></html>"


def test_one_pass_prune_leaves_the_same_tree_as_testing_every_element() -> None:
    rng = random.Random(20261207)
    for _ in range(80):
        page = _random_page(rng)
        ours, theirs = lxml_html.document_fromstring(page), lxml_html.document_fromstring(page)
        prune(ours)
        _reference_prune(theirs)
        assert etree.tostring(ours, encoding="unicode") == etree.tostring(theirs, encoding="unicode"), page


def test_prune_keeps_body_wrappers_and_prose_under_weak_words_and_drops_chrome_with_its_inside() -> None:
    page = lxml_html.document_fromstring(
        f'<html><body><div class="sidebar"><p>{PROSE}</p></div>'
        '<div class="sidebar"><a href="/a">Tin mới</a> <a href="/b">Xem nhiều</a></div>'
        f'<div class="share-bar detail-content"><p>{PROSE_2}</p></div>'
        '<div class="share-bar"><div class="share-bar"><span>Chia sẻ</span></div></div>sau hộp chia sẻ'
        "</body></html>"
    )
    body = page.find("body")
    prune(body)
    text = body.text_content()
    assert PROSE in text and PROSE_2 in text  # prose under a weak word, a body wrapper's words win
    assert "Tin mới" not in text and "Chia sẻ" not in text
    assert "sau hộp chia sẻ" in text  # the tail of a removed box stays


def test_a_block_alone_in_its_wrapper_is_read_with_the_wrapped_blocks_beside_it() -> None:
    # Each part of the story sits alone in its own wrapper, as templates that wrap every text block do.
    page = lxml_html.document_fromstring(
        "<html><body><h1>Hội nghị tổng kết công tác công đoàn năm 2025</h1><div class='article'>"
        f"<div class='article__block'><div class='block-text'><p>{PROSE}</p><p>{PROSE_2}</p><p>{PROSE}</p></div></div>"
        f"<div class='article__block'><div class='block-text'><p>{PROSE_3}</p><p>{PROSE_2}</p></div></div>"
        "</div><div class='footer-links'><a href='/'>Trang chủ</a></div></body></html>"
    )
    found = find_main_text(page, title="Hội nghị tổng kết công tác công đoàn năm 2025")
    assert found.confident and PROSE_3 in found.paragraphs and PROSE in found.paragraphs


def test_a_paragraph_written_as_a_div_beside_the_body_joins_it_but_a_sapo_or_a_date_does_not() -> None:
    page = lxml_html.document_fromstring(
        "<html><body><div class='khung'>"
        "<div class='date'>Thứ năm, 12/03/2026 08:30</div>"
        "<div class='sapo'>Hội nghị đánh giá kết quả một năm hoạt động của các cấp công đoàn trong toàn tỉnh.</div>"
        f"<div class='para'>{PROSE}</div>"
        f"<div class='read-all'>{f'<p>{PROSE_2}</p><p>{PROSE_3}</p>' * 3}</div>"
        "</div></body></html>"
    )
    found = find_main_text(page)
    assert found.paragraphs[0] == PROSE and PROSE_3 in found.paragraphs
    assert not any("12/03/2026" in p or p.startswith("Hội nghị đánh giá") for p in found.paragraphs)


def test_a_list_of_links_inside_the_body_is_left_out_and_a_list_of_prose_is_kept() -> None:
    page = lxml_html.document_fromstring(
        f"<html><body><div class='content'><p>{PROSE}</p><p>{PROSE_2}</p>"
        "<ul><li>Hỗ trợ 12.500 đoàn viên có hoàn cảnh khó khăn;</li><li>Xây mới 45 Mái ấm Công đoàn;</li></ul>"
        f"<p>{PROSE_3}</p><h3>Tin cùng chuyên mục</h3>"
        "<ul><li><a href='/1'>Công đoàn ngành Giáo dục trao 300 suất quà Tết</a></li>"
        "<li><a href='/2'>Khánh thành Mái ấm Công đoàn tại huyện Mai Châu</a></li></ul>"
        "</div></body></html>"
    )
    found = find_main_text(page)
    assert "Xây mới 45 Mái ấm Công đoàn;" in found.paragraphs
    assert not any("300 suất quà" in p or "chuyên mục" in p for p in found.paragraphs)  # the list and its heading
