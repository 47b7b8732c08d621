"""docs/reliability.md is the fault catalogue, every case is proved by a marked test, and the file is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.reliability_table import DOC, Area, Case, CatalogueError, load_catalogue, marked_tests, render


def test_every_case_is_proved_by_a_marked_test() -> None:
    tests = marked_tests()
    missing = [c.id for a in load_catalogue() for c in a.cases if not tests.get(c.id)]
    assert not missing, f"cases with no test marked @pytest.mark.reliability(...): {missing}"


def test_every_mark_names_a_catalogued_case_and_ids_are_unique() -> None:
    ids = [c.id for a in load_catalogue() for c in a.cases]
    assert len(ids) == len(set(ids)), "a case id appears twice in tests/reliability/*.yaml"
    unknown = sorted(set(marked_tests()) - set(ids))
    assert not unknown, f"tests marked with case ids the catalogue does not have: {unknown}"


def test_nothing_is_lost_unless_the_catalogue_says_what() -> None:
    for area in load_catalogue():
        for case in area.cases:
            assert case.lost.lower().startswith(("nothing", "no ")) or len(case.lost) > 20, case.id


def test_document_is_generated_from_the_catalogue() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/reliability.md is stale: run `python -m tests.support.reliability_table --write`"
    )


def test_marks_are_found_in_decorators_params_and_module_marks(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(
        "import pytest\n"
        "pytestmark = pytest.mark.reliability('m')\n"
        "@pytest.mark.reliability('a', 'b')\n"
        "def test_one(): pass\n"
        "@pytest.mark.parametrize('x', [pytest.param(1, marks=pytest.mark.reliability('c'))])\n"
        "def test_two(x): pass\n"
        "def helper(): pass\n",
        encoding="utf-8",
    )
    found = marked_tests(tmp_path)
    assert found == {
        "a": ["test_x.py::test_one"],
        "b": ["test_x.py::test_one"],
        "c": ["test_x.py::test_two"],
        "m": ["test_x.py::test_one", "test_x.py::test_two"],
    }


def test_a_case_without_a_test_shows_in_the_table_and_bad_catalogues_are_refused(tmp_path: Path) -> None:
    areas = [Area("Demo", "", (Case("x-1", "A fault | with a pipe", "done", "did", "nothing"),))]
    text = render(areas, {})
    assert "**none**" in text and "A fault \\| with a pipe" in text
    (tmp_path / "10-bad.yaml").write_text("area: Bad\ncases:\n  - id: y\n    fault: f\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"10-bad\.yaml: case #1: missing done, did, lost"):
        load_catalogue(tmp_path)
