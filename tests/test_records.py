"""The record types' JSON forms (feed.records)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields

from hypothesis import given
from hypothesis import strategies as st

from feed.records import Meeting, Official

text = st.none() | st.text(max_size=20)
officials = st.lists(st.builds(Official, name=st.text(min_size=1, max_size=20), role=text), max_size=3)
meetings = st.builds(
    Meeting,
    is_report=st.booleans(),
    score=st.floats(allow_nan=False, allow_infinity=False),
    kind=text,
    org=text,
    period=text,
    held_on=text,
    held_on_text=text,
    location=text,
    officials=officials,
    figures=st.lists(st.text(max_size=10), max_size=3),
    cues=st.lists(st.text(max_size=10), max_size=3),
)


@given(meetings)
def test_meeting_to_json_is_asdict_written_out(meeting: Meeting) -> None:
    """to_json is hand-written for speed: same keys in the same order and the same values as asdict, so a field
    added to Meeting and forgotten there fails here."""
    out = meeting.to_json()
    assert out == asdict(meeting)
    assert list(out) == [f.name for f in fields(Meeting)]
    assert json.dumps(out) == json.dumps(asdict(meeting))
    assert Meeting.from_json(out) == meeting


def test_meeting_to_json_copies_its_lists() -> None:
    meeting = Meeting(is_report=True, kind="dai_hoi", officials=[Official("Nguyễn Văn A", "Chủ tịch")], cues=["x"])
    out = meeting.to_json()
    out["cues"].append("y")
    out["officials"][0]["role"] = "khác"
    assert meeting.cues == ["x"] and meeting.officials[0].role == "Chủ tịch"
