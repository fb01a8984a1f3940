"""What the build writes: golden outputs, determinism, gaps that fail where they stand, no leaks."""
import json
import os
from pathlib import Path

import nbformat
import pytest

from coursetool.build import build_files
from coursetool.gaps import parses
from coursetool.render import ANSWER_STUB

from tests.toolchain.helpers import write_lab

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOLDEN = FIXTURES / "golden"


def notebook(files: dict[str, bytes], name: str) -> nbformat.NotebookNode:
    return nbformat.reads(files[name].decode(), as_version=4)


def test_fixture_course_matches_golden_outputs():
    """Set UPDATE_GOLDEN=1 to rewrite the golden files after an intended change."""
    files = build_files(FIXTURES / "course")
    if os.environ.get("UPDATE_GOLDEN"):
        for name, data in files.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    golden = {p.relative_to(GOLDEN).as_posix(): p.read_bytes() for p in GOLDEN.rglob("*") if p.is_file()}
    assert sorted(files) == sorted(golden)
    for name in files:
        assert files[name] == golden[name], f"{name} differs from tests/fixtures/golden/{name}"


def test_build_is_byte_identical_for_identical_input(tmp_path):
    first = build_files(FIXTURES / "course")
    copy = tmp_path / "course"
    copy.mkdir()
    for source in (FIXTURES / "course").iterdir():
        (copy / source.name).write_bytes(source.read_bytes())
    assert build_files(copy) == first


GAP_CASES = {
    "statements": ("def f(x):\n    #!TAG HWBEGIN\n    #!MSG double it\n    return 2 * x\n    #!TAG HWEND\n"
                   "\nvalue = f(1)\n", "    # double it\n    raise NotImplementedError"),
    "expression in brackets": ("criterion = (\n    #!TAG HWBEGIN\n    #!MSG the loss\n    abs\n    #!TAG HWEND\n)\n"
                               "value = criterion(-1)\n", '    # the loss\n    todo("Exercise 1.1")\n)'),
    "items of a call": ("items = list((\n    1,\n    #!TAG HWBEGIN\n    2,\n    3,\n    #!TAG HWEND\n    4,\n))\n"
                        "value = items\n", '    todo("Exercise 1.1"),\n    4,'),
    "middle of a cell": ("a = 1\n#!TAG HWBEGIN\nb = a + 1\n#!TAG HWEND\nvalue = a + b\n",
                         'raise NotImplementedError("Exercise 1.1: replace this line with your code")\nvalue = a + b'),
}


@pytest.mark.parametrize("code, expected", GAP_CASES.values(), ids=GAP_CASES.keys())
def test_gap_parses_and_fails_where_it_stands(tmp_path, code, expected):
    write_lab(tmp_path, f"```python\n{code}```\n")
    files = build_files(tmp_path)
    student = notebook(files, "release/lab.ipynb")
    setup, gap = student.cells[1].source, student.cells[3].source
    assert expected in gap
    assert parses(gap)
    namespace: dict = {}
    exec(setup, namespace)
    with pytest.raises(NotImplementedError, match="Exercise 1.1"):
        exec(gap, namespace)
    solution = notebook(files, "solutions/lab.ipynb").cells[3].source
    exec(solution, namespace)
    assert "value" in namespace


def test_release_has_colab_setup_link_and_nbgrader_metadata():
    files = build_files(FIXTURES / "course")
    student = notebook(files, "release/tiny.ipynb")
    link, setup = student.cells[0], student.cells[1]
    assert "colab.research.google.com/github/" in link.source and link.source.endswith("release/tiny.ipynb)")
    assert '"google.colab" in sys.modules' in setup.source and "pip" in setup.source
    assert setup.metadata.nbgrader["locked"] and not setup.metadata["editable"]
    tests = {c.id: c.metadata.nbgrader for c in student.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert tests["ex0-1-square"] | {"checksum": None} == {
        "grade": True, "grade_id": "ex0-1-square", "locked": True, "points": 2.0, "schema_version": 3,
        "solution": False, "task": False, "checksum": None, "cell_type": "code"}
    answer = next(c for c in student.cells if c.id == "q0-3-why")
    assert answer.cell_type == "markdown" and answer.source == ANSWER_STUB
    assert answer.metadata.nbgrader["solution"] and answer.metadata.nbgrader["points"] == 1.5


def test_exercise_headings_and_points_table_are_computed():
    student = notebook(build_files(FIXTURES / "course"), "release/tiny.ipynb")
    text = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
    assert "## Exercise 0.1: Squares (2 points)" in text
    assert "## Exercise 0.2: A list of layers (1 point)" in text
    assert "### Question 0.3: Why squares? (1.5 points)" in text
    assert "| **Total** | **4.5** |" in text


def test_no_tag_lines_reach_any_output():
    for name, data in build_files(FIXTURES / "course").items():
        for cell in json.loads(data).get("cells", []) if name.endswith(".ipynb") else []:
            assert "#!TAG" not in "".join(cell["source"]) and "#!MSG" not in "".join(cell["source"]), name


def test_solution_and_hidden_lines_stay_where_they_belong():
    files = build_files(FIXTURES / "course")
    release = files["release/tiny.ipynb"].decode()
    solution = files["solutions/tiny.ipynb"].decode()
    autograder = files["autograder/source/tiny/tiny.ipynb"].decode()
    hidden = "square(-2) == 4"
    assert hidden not in release and hidden not in solution and hidden in autograder
    assert "return x * x" not in release and "return x * x" in solution
    assert "absolute value" not in release and "absolute value" in solution
    assert "### BEGIN HIDDEN TESTS" in autograder and "### BEGIN SOLUTION" in autograder
