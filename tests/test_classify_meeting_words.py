"""Meeting words that reach the model since issue 14's third round (cues.yaml: $MEETING and verb_mention): French
and English editions ("congrès", "séance", "session"), working sessions without "buổi làm việc" ("đã làm việc
với"), committees that "đã họp". Before, such pages stopped at "no meeting word" whatever the text said. In-process,
the shipped model; texts written for these tests."""

from __future__ import annotations

from feed.classify.classifier import classify


def test_a_french_edition_of_a_congress_report_is_a_report() -> None:
    meeting = classify(
        "293 délégués au 1er Congrès du syndicat de la province de Đồng Tháp",
        "Le 26 décembre, le 1er Congrès du syndicat de la province de Đồng Tháp pour le mandat 2025-2030 s'est "
        "ouvert avec 293 délégués représentant plus de 200 000 syndiqués. Le congrès a examiné le rapport du "
        "comité exécutif sortant et a élu le nouveau comité exécutif de 35 membres.",
    )
    assert meeting.is_report
    assert meeting.kind == "dai_hoi"


def test_a_working_session_named_by_its_verb_is_a_report() -> None:
    meeting = classify(
        "Bí thư Tỉnh ủy làm việc với Ban Thường vụ Huyện ủy Thiệu Hóa",
        "Sáng ngày 9/9, đồng chí Bí thư Tỉnh ủy và đoàn công tác đã làm việc với Ban Thường vụ Huyện ủy Thiệu Hóa "
        "về kết quả thực hiện nhiệm vụ phát triển kinh tế - xã hội 8 tháng đầu năm. Lãnh đạo "
        "huyện đã báo cáo kết quả và kiến nghị một số nội dung.",
    )
    assert meeting.is_report


def test_the_word_alone_decides_nothing() -> None:
    # "session" now reaches the model, and the model still reads a sports session as no meeting report
    meeting = classify(
        "Workers enjoy a football session after the shift",
        "Young workers of the industrial park played a friendly football session on Sunday afternoon; the "
        "company's union gave prizes to the best teams.",
    )
    assert not meeting.is_report
