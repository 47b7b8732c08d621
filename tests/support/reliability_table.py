"""docs/reliability.md from the fault catalogue (tests/reliability/*.yaml) and the tests that prove each case.

Every case in the catalogue must be proved by at least one test marked `@pytest.mark.reliability("case-id")`
(or a `pytest.param(..., marks=...)` / module `pytestmark` carrying it); tests/test_reliability_table.py fails
when a case has no test, a mark names no case, or the document is not what this module renders.

    python -m tests.support.reliability_table          # print the document
    python -m tests.support.reliability_table --write  # rewrite docs/reliability.md
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "tests" / "reliability"
DOC = ROOT / "docs" / "reliability.md"
FIELDS = ("id", "fault", "done", "did", "lost")


@dataclass(frozen=True)
class Case:
    id: str
    fault: str
    done: str
    did: str
    lost: str


@dataclass(frozen=True)
class Area:
    title: str
    intro: str
    cases: tuple[Case, ...]


class CatalogueError(ValueError):
    """A catalogue file that does not follow the format."""


def load_catalogue(folder: Path = CATALOGUE) -> list[Area]:
    """The areas in file-name order, each with its cases; CatalogueError names the file and case."""
    areas = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not isinstance(data.get("cases"), list) or not data.get("area"):
            raise CatalogueError(f"{path.name}: expected 'area', optional 'intro' and a 'cases' list")
        cases = []
        for index, raw in enumerate(data["cases"], 1):
            missing = [f for f in FIELDS if not isinstance(raw, dict) or not str(raw.get(f) or "").strip()]
            if missing:
                raise CatalogueError(f"{path.name}: case #{index}: missing {', '.join(missing)}")
            cases.append(Case(**{f: " ".join(str(raw[f]).split()) for f in FIELDS}))
        areas.append(Area(str(data["area"]), " ".join(str(data.get("intro") or "").split()), tuple(cases)))
    return areas


def _mark_ids(node: ast.AST) -> list[str]:
    """Case ids of every `….mark.reliability("a", "b")` call inside node."""
    ids: list[str] = []
    for call in ast.walk(node):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "reliability"
            and isinstance(call.func.value, ast.Attribute)
            and call.func.value.attr == "mark"
        ):
            ids.extend(a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return ids


def marked_tests(folder: Path = ROOT / "tests") -> dict[str, list[str]]:
    """Case id -> the tests ("file.py::name") that carry its mark, found by reading the test files."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(folder.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        module_ids: list[str] = []
        for statement in tree.body:
            if isinstance(statement, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in statement.targets
            ):
                module_ids.extend(_mark_ids(statement))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                ids = [i for d in node.decorator_list for i in _mark_ids(d)] + module_ids
                for case_id in dict.fromkeys(ids):
                    found[case_id].append(f"{path.name}::{node.name}")
    return dict(found)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(areas: list[Area] | None = None, tests: dict[str, list[str]] | None = None) -> str:
    """The whole of docs/reliability.md."""
    areas = load_catalogue() if areas is None else areas
    tests = marked_tests() if tests is None else tests
    total = sum(len(a.cases) for a in areas)
    lines = [
        "# Reliability: faults tried on purpose",
        "",
        "Every fault below is caused on purpose by a test that runs in CI (`python -m pytest -q`): real processes",
        "killed with SIGKILL, a real full file system, real HTTP servers on 127.0.0.1 that misbehave, real SQLite",
        "files checked afterwards. The *Tests* column names the tests that cause the fault and assert the state",
        'afterwards; "Lost" is what a user would miss.',
        "",
        "This file is generated: edit the catalogue in `tests/reliability/*.yaml`, then run",
        "`python -m tests.support.reliability_table --write`. `tests/test_reliability_table.py` fails when a case",
        "has no test, a test names an unknown case, or this file is out of date.",
        "",
        f"{total} cases in {len(areas)} areas.",
        "",
    ]
    for area in areas:
        lines += [f"## {area.title}", ""]
        if area.intro:
            lines += [area.intro, ""]
        lines += ["| Fault | What was done | What the product did | Lost | Tests |", "|---|---|---|---|---|"]
        for case in area.cases:
            proof = "<br>".join(f"`{t}`" for t in tests.get(case.id, [])) or "**none**"
            lines.append(
                f"| **{_cell(case.fault)}** <br>`{case.id}` | {_cell(case.done)} | {_cell(case.did)} "
                f"| {_cell(case.lost)} | {proof} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    text = render()
    if "--write" in argv:
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC.relative_to(ROOT)}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
