"""docs/reliability.md maps every RELIABILITY case to tests that exist.

Each case 1..40 has exactly one row; every `path::function` it names is a file of this
repository that defines that test function (read with `ast`, so nothing is imported);
`path::prefix*` must match at least one function. A renamed or deleted test fails here, so the
map cannot quietly point at nothing.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAP = REPO / "docs" / "reliability.md"
CASES = range(1, 41)
ROW = re.compile(r"^\|\s*(\d+)\s*\|")
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)(?:::([\w*]+))?`")


def _rows() -> dict[int, list[str]]:
    rows: dict[int, list[str]] = {}
    for line in MAP.read_text().splitlines():
        match = ROW.match(line)
        if match:
            number = int(match.group(1))
            assert number not in rows, f"case {number} has two rows"
            rows[number] = [line]
    return rows


@cache
def _test_functions(path: str) -> frozenset[str]:
    tree = ast.parse((REPO / path).read_text(), filename=path)
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    )


def _references(line: str) -> list[tuple[str, str | None]]:
    return [(path, function or None) for path, function in REFERENCE.findall(line)]


def test_every_case_has_one_row_with_a_test() -> None:
    rows = _rows()
    assert sorted(rows) == list(CASES)
    for number, (line,) in rows.items():
        assert _references(line), f"case {number} names no test"


def test_every_reference_names_an_existing_test() -> None:
    missing = []
    for number, (line,) in _rows().items():
        for path, function in _references(line):
            if not (REPO / path).is_file():
                missing.append(f"case {number}: {path} does not exist")
            elif function is not None and not fnmatch.filter(_test_functions(path), function):
                missing.append(f"case {number}: {path} defines no {function}")
    assert missing == []


def test_the_reliability_tests_are_all_in_the_map() -> None:
    """Every case file of tests/reliability/ is named in the row of its own case."""
    rows = _rows()
    for path in sorted((REPO / "tests" / "reliability").glob("test_case_*.py")):
        number = int(path.name.split("_")[2])
        assert f"tests/reliability/{path.name}" in rows[number][0], f"{path.name} is missing from row {number}"


def test_the_parser_sees_what_it_should() -> None:
    line = "| 7 | x | `tests/a.py::test_b`<br>`tests/c/d.py::test_e_*`<br>`tests/f.py` | y |"
    assert ROW.match(line) is not None
    assert _references(line) == [("tests/a.py", "test_b"), ("tests/c/d.py", "test_e_*"), ("tests/f.py", None)]
