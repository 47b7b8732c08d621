"""The organiser without what trails its name (feed.classify.facts.trim_org, issue 14's third round): a verb or a
list after the body, an official's name after it, a bracket the reader left open. In-process; texts written for
these tests."""

from __future__ import annotations

import pytest

from feed.classify.classifier import analyse, classify
from feed.classify.facts import trim_org
from feed.classify.model import Model

# the facts readers apart from the model's verdict: a model that calls every page with a meeting word a report,
# the kind by the kind rules
ALWAYS = Model(intercept=100.0, threshold=0.5, weights={}, kind_method="rules")


@pytest.mark.parametrize(
    ("read", "trimmed"),
    [
        ("Đoàn Chủ tịch Tổng LĐLĐVN sẽ thảo luận và thông qua 7 nội dung", "Đoàn Chủ tịch Tổng LĐLĐVN"),
        ("UBND tỉnh Bắc Kạn và các cơ quan chức năng", "UBND tỉnh Bắc Kạn"),
        ("Ủy ban Kinh tế Quốc hội Vũ Hồng Thanh", "Ủy ban Kinh tế Quốc hội"),
        ("Công đoàn Công an nhân dân (CAND", "Công đoàn Công an nhân dân (CAND)"),
        # names that hold a person's name or a place stay whole
        ("Công đoàn Trường THCS Lê Quý Đôn", "Công đoàn Trường THCS Lê Quý Đôn"),
        ("Đoàn TNCS Hồ Chí Minh tỉnh Nghệ An", "Đoàn TNCS Hồ Chí Minh tỉnh Nghệ An"),
        ("BCH Lâm thời Đoàn Khối Cơ quan và Doanh nghiệp tỉnh", "BCH Lâm thời Đoàn Khối Cơ quan và Doanh nghiệp tỉnh"),
        ("Ban Tổ chức Tỉnh ủy", "Ban Tổ chức Tỉnh ủy"),
        # a cut that would leave one word is not made
        ("BCH cũng", "BCH cũng"),
        (None, None),
    ],
)
def test_trim_org(read: str | None, trimmed: str | None) -> None:
    assert trim_org(read) == trimmed


def test_the_classifier_reads_the_body_not_the_official() -> None:
    meeting = classify(
        "Hội nghị giao ban công tác quý III",
        "Sáng 12/10, tại Hà Nội, Ủy ban Kinh tế Quốc hội Vũ Hồng Thanh tổ chức phiên họp giao ban quý III năm 2024 "
        "với các bộ, ngành. Tại phiên họp, các đại biểu đã thảo luận kết quả 9 tháng đầu năm.",
    )
    assert meeting.is_report
    assert meeting.org == "Ủy ban Kinh tế Quốc hội"


def test_the_date_of_a_cited_document_is_not_the_meeting_date() -> None:
    meeting = classify(
        "Đảng bộ trường quán triệt Nghị quyết",
        "Thực hiện Kế hoạch số 07-KH/ĐU ngày 10/02/2020 của Đảng ủy, sáng ngày 9/3/2020, Đảng bộ Trường Trung học "
        "phổ thông Hữu Nghị tổ chức hội nghị quán triệt Nghị quyết số 33-NQ/TW ngày 9/6/2014 của Ban Chấp hành "
        "Trung ương cho 60 đảng viên.",
    )
    assert meeting.is_report
    assert meeting.held_on_text is not None and meeting.held_on_text.lower().startswith("sáng ngày 9/3")


def test_the_organiser_stops_before_the_one_who_chairs() -> None:
    assert trim_org("Tổ trưởng Tổ xây dựng Đề án chủ trì Cuộc") == "Tổ trưởng Tổ xây dựng Đề án"


def test_a_congress_term_is_read_from_the_page_when_its_phrase_has_none() -> None:
    meeting, _ = analyse(
        "Le 12e congrès syndical national du Vietnam tient sa grande séance",
        "Hanoï (VNA) - La grande séance du 12e congrès syndical national du Vietnam pour le mandat 2018-2023 a "
        "été organisée mardi matin à Hanoï. Le congrès a élu le nouveau comité exécutif.",
        model=ALWAYS,
    )
    assert meeting.is_report
    assert meeting.period is not None and "2018-2023" in meeting.period


def test_a_foreign_congress_is_organised_by_the_body_it_is_named_for() -> None:
    meeting, _ = analyse(
        "Le congrès de la CGTV s'ouvre à Hanoï",
        "Le 11e congrès national de la Confédération générale du Travail du Vietnam (CGTV) pour le mandat "
        "2013-2018 s'est ouvert ce dimanche à Hanoï. Il réunit près de 950 délégués, qui ont examiné le rapport "
        "du comité exécutif et élu la nouvelle direction.",
        model=ALWAYS,
    )
    assert meeting.is_report
    assert meeting.org == "Confédération générale du Travail du Vietnam"
