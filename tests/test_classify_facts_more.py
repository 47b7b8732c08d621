"""The facts readers added in issue 14's second round: the organiser and date of English and French editions,
a subject whose last comma piece only places the body, and the subject of a headline-like line as a last resort.
In-process, the real classifier; texts written for these tests."""

from __future__ import annotations

import pytest

from feed.classify.classifier import classify
from feed.classify.evaluate import fact_agrees

CASES = [
    (
        "Nghe An Federation of Labor reviews the Workers' Month",
        "On the morning of June 27th, in Vinh City, the Nghe An Provincial Federation of Labor held a conference "
        "to review the 2024 Workers' Month and the union's work in the first six months of the year. Attending "
        "the conference were leaders of the province and 150 delegates.",
        "the Nghe An Provincial Federation of Labor",
        "On the morning of June 27th",
    ),
    (
        "Ward union holds its first Executive Committee conference",
        "On January 19, the Thanh Hoa Provincial Labor Federation said that the Dong Quang Ward Trade Union had "
        "just organized the 5th Conference of the Executive Committee, term 2025-2030, to review its work.",
        "the Dong Quang Ward Trade Union",
        "On January 19",
    ),
    (
        "Le syndicat de la zone économique tient sa conférence",
        # since "conférence" is a meeting word (third round) the model reads this French text itself; an
        # announcement alone ("pour annoncer le transfert ...") was below its threshold, a review is above it
        "Dans l'après-midi du 25 juin, le Syndicat de la Zone Economique du Sud-Est a tenu une conférence pour "
        "faire le bilan de ses 13 années d'activité. Ont assisté à la conférence les dirigeants de la Fédération "
        "provinciale du travail et 120 délégués.\n\nToàn cảnh Hội nghị.",
        "le Syndicat de la Zone Economique du Sud-Est",
        "Dans l'après-midi du 25 juin",
    ),
    (
        None,
        "Ngày 22-10, Công đoàn phường Tân Hiệp, TP HCM đã tổ chức thành công hội nghị đại biểu lần thứ I, nhiệm kỳ "
        "2025 - 2030. Tại hội nghị, các đại biểu đã thông qua báo cáo hoạt động của Ban Chấp hành lâm thời.",
        "Công đoàn phường Tân Hiệp",
        "Ngày 22-10",
    ),
    (
        None,
        "Sở Giao thông vận tải Bắc Giang đã tổ chức Hội nghị sơ kết công tác 6 tháng đầu năm 2016, triển khai "
        "nhiệm vụ 6 tháng cuối năm 2016\n\nLượt xem: 79\n\nHội nghị đã được nghe đồng chí Chánh Văn phòng Sở trình "
        "bày báo cáo sơ kết; các đại biểu đã thảo luận và thống nhất các giải pháp trọng tâm.",
        "Sở Giao thông vận tải Bắc Giang",
        None,
    ),
]


@pytest.mark.parametrize(
    ("title", "text", "org", "held"), CASES, ids=["en", "en-said-that", "fr", "vi-place", "vi-line"]
)
def test_the_organiser_and_date_are_read(title: str | None, text: str, org: str, held: str | None) -> None:
    meeting = classify(title, text)
    assert meeting.is_report
    assert fact_agrees("org", org, meeting.org), meeting.org
    if held is not None:
        assert fact_agrees("held_on", held, meeting.held_on_text), meeting.held_on_text


def test_a_vietnamese_page_is_not_read_with_the_english_reader() -> None:
    meeting = classify(
        "Công đoàn Giáo dục huyện tổ chức Đại hội",
        "Ngày 14/4, tại Hội trường UBND huyện, Công đoàn Giáo dục huyện Yên Sơn đã tổ chức Đại hội lần thứ V, "
        "nhiệm kỳ 2023-2028. Đại hội đã bầu Ban Chấp hành gồm 11 đồng chí. On the morning of June 27th, the "
        "Trade Union held a meeting.",
    )
    assert meeting.is_report
    assert fact_agrees("org", "Công đoàn Giáo dục huyện Yên Sơn", meeting.org), meeting.org
    assert fact_agrees("held_on", "Ngày 14/4", meeting.held_on_text), meeting.held_on_text
