"""End to end: a class of broken and hostile submissions graded in one parallel run."""
from __future__ import annotations

import shutil
import socket
import sqlite3
import zipfile
from pathlib import Path

import nbformat
import pytest

from tests.grader import corpus
from tests.grader.support import grade, read_grades

pytestmark = pytest.mark.kernels  # starts kernels

LAB = "gradelab"
FULL = {"t-square": "2", "t-mean": "1", "t-double": "1"}
ZERO = {"t-square": "0", "t-mean": "0", "t-double": "0"}
OPTIONS = ("--jobs", "2", "--cell-timeout", "4", "--memory", "1024")


def snooping_code(course: Path, submissions: Path, port: int, outside: Path) -> str:
    """Student code that breaks its own answer if the sandbox lets it read, write or connect."""
    secret_paths = [course / "autograder" / "source" / LAB / f"{LAB}.ipynb", course / "solutions" / f"{LAB}.ipynb",
                    submissions / "correct" / f"{LAB}.ipynb"]
    return f"""
import socket
escaped = []
for path in {[str(p) for p in secret_paths]!r}:
    try:
        open(path).read()
        escaped.append(path)
    except OSError:
        pass
try:
    open({str(outside)!r}, "w").write("x")
    escaped.append("write")
except OSError:
    pass
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    escaped.append("network")
except OSError:
    pass
if escaped:
    square = lambda x: 0
"""


def write_corpus(course: Path, submissions: Path, port: int, outside: Path) -> None:
    solved, write = corpus.solved, corpus.write
    target = lambda student: submissions / student / f"{LAB}.ipynb"  # noqa: E731
    write(solved(course, LAB), target("correct"))
    write(corpus.release(course, LAB), target("blank"))
    write(corpus.with_prefix(course, LAB, "solution-2", "while True:\n    pass"), target("endless-loop"))
    write(corpus.with_prefix(course, LAB, "solution-2", "hog = bytearray(6 * 1024**3)"), target("memory-bomb"))
    write(corpus.with_suffix(course, LAB, "solution-1", snooping_code(course, submissions, port, outside)), target("snooper"))
    write(corpus.with_suffix(course, LAB, "solution-1", "import sys\nsys.exit(0)"), target("sys-exit"))
    write(corpus.with_prefix(course, LAB, "solution-2", "import os\nos._exit(1)"), target("os-exit"))
    write(corpus.with_suffix(course, LAB, "solution-1", "print('x' * 5_000_000)"), target("huge-output"))
    write(solved(course, LAB, **{"solution-1": "def square(x) return x"}), target("syntax-error"))
    warn = "import sys, warnings\nwarnings.warn('deprecated')\nprint('noise', file=sys.stderr)\n"
    write(corpus.with_prefix(course, LAB, "solution-1", warn + "def square(x):\n    " + warn.replace("\n", "\n    ")
                             + "return x * x\n"), target("stderr-warnings"))
    cheat = ("def square(x):\n    return x * x if x > 0 else 0\nimport math\nmath.isclose = lambda *a, **k: True\n"
             "def abs(x):\n    return 0\n")
    write(solved(course, LAB, **{"solution-1": cheat, "solution-2": "def mean(values):\n    return 3\n"}), target("overrider"))
    write(corpus.stripped(solved(course, LAB)), target("stripped-metadata"))
    edited = corpus.release(course, LAB)
    for test in ("t-square", "t-mean", "t-double"):
        corpus.cell_by_grade_id(edited, test).source = "pass"
    write(edited, target("edited-tests"))
    deleted = solved(course, LAB)
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade") is not True]
    duplicated = solved(course, LAB)
    duplicated.cells += [corpus.cell_by_grade_id(duplicated, "t-square")] * 2
    write(deleted, target("deleted-tests"))
    write(duplicated, target("duplicated-tests"))
    corpus.write_raw(b'{"cells": [', target("invalid-json"))
    write(corpus.unrelated_notebook(), target("wrong-lab"))
    corpus.write(solved(course, LAB), submissions / "renamed" / "Untitled (1).ipynb")
    corpus.write_raw(b"my answers are in my head", submissions / "missing" / "answers.txt")
    (submissions / "empty-zip").mkdir()
    zipfile.ZipFile(submissions / "empty-zip" / f"{LAB}.zip", "w").close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, built_course: Path) -> dict:
    """The corpus graded once, two at a time, with short limits."""
    root = tmp_path_factory.mktemp("class")
    course, submissions, outside = root / "course", root / "submissions", root / "outside.txt"
    shutil.copytree(built_course, course)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        write_corpus(course, submissions, listener.getsockname()[1], outside)
        code = grade(submissions, course, LAB, *OPTIONS)
    results = course / "autograder" / "results" / LAB
    rows = read_grades(results / "grades.csv")
    return {"code": code, "rows": rows, "course": course, "submissions": submissions, "outside": outside}


def points(row: dict) -> dict:
    return {test: row[test] for test in FULL}


def test_the_run_succeeds_with_one_row_per_student(graded: dict) -> None:
    assert graded["code"] == 0
    assert len(graded["rows"]) == len(list(graded["submissions"].iterdir())) == 20


def test_correct_and_blank_get_full_and_zero_marks(graded: dict) -> None:
    rows = graded["rows"]
    assert points(rows["correct"]) == FULL and rows["correct"]["status"] == "graded" and rows["correct"]["reason"] == ""
    assert rows["correct"]["q-why"] == ""  # awaits manual grading
    assert points(rows["blank"]) == ZERO and rows["blank"]["q-why"] == "0" and rows["blank"]["total"] == "0"


def test_a_timed_out_cell_fails_every_test_after_it(graded: dict) -> None:
    row = graded["rows"]["endless-loop"]
    assert points(row) == {"t-square": "2", "t-mean": "0", "t-double": "0"}
    assert row["status"] == "timeout" and "longer than 4 s" in row["reason"]


def test_a_dead_kernel_fails_every_test_after_it(graded: dict) -> None:
    row = graded["rows"]["os-exit"]
    assert points(row) == {"t-square": "2", "t-mean": "0", "t-double": "0"}
    assert row["status"] == "kernel died"


def test_memory_bomb_exit_syntax_error_and_huge_output_cost_only_their_own_points(graded: dict) -> None:
    rows = graded["rows"]
    assert points(rows["memory-bomb"]) == {"t-square": "2", "t-mean": "0", "t-double": "1"}
    assert points(rows["sys-exit"]) == FULL
    assert points(rows["syntax-error"]) == {"t-square": "0", "t-mean": "1", "t-double": "1"}
    assert points(rows["huge-output"]) == FULL
    autograded = graded["course"] / "autograder" / "autograded" / "huge-output" / LAB / f"{LAB}.ipynb"
    assert autograded.stat().st_size < 500_000


def test_stderr_and_warnings_never_cost_points(graded: dict) -> None:
    assert points(graded["rows"]["stderr-warnings"]) == FULL


@pytest.mark.needs_sandbox(reason="bwrap cannot create its sandbox here")
def test_the_sandbox_blocks_reading_writing_and_network(graded: dict) -> None:
    assert points(graded["rows"]["snooper"]) == FULL
    assert not graded["outside"].exists()


def test_overriding_testing_functions_does_not_pass_hidden_tests(graded: dict) -> None:
    row = graded["rows"]["overrider"]
    assert points(row) == {"t-square": "0", "t-mean": "0", "t-double": "1"}
    assert "math.isclose" in row["reason"] and "global abs" in row["reason"]


def test_tampered_test_cells_are_restored(graded: dict) -> None:
    rows = graded["rows"]
    assert points(rows["edited-tests"]) == ZERO and "test cell t-square was edited" in rows["edited-tests"]["reason"]
    assert points(rows["deleted-tests"]) == FULL and "was missing: restored" in rows["deleted-tests"]["reason"]
    assert points(rows["duplicated-tests"]) == FULL
    assert points(rows["stripped-metadata"]) == FULL and "matched by content" in rows["stripped-metadata"]["reason"]


def test_unusable_submissions_get_a_zero_row_with_the_reason(graded: dict) -> None:
    rows = graded["rows"]
    expected = {"invalid-json": "invalid JSON", "wrong-lab": "does not look like gradelab",
                "missing": "no notebook in the submission (found: answers.txt)", "empty-zip": "empty zip archive"}
    for student, reason in expected.items():
        assert rows[student]["status"] == "rejected" and reason in rows[student]["reason"], student
        assert rows[student]["total"] == "0"
    assert points(rows["renamed"]) == FULL and "Untitled (1).ipynb" in rows["renamed"]["reason"]


def test_feedback_never_shows_hidden_tests(graded: dict) -> None:
    feedback = sorted((graded["course"] / "autograder" / "feedback").glob(f"*/{LAB}/{LAB}.html"))
    assert len(feedback) == 20
    for page in feedback:
        text = page.read_text(encoding="utf-8")
        assert "hidden_probe_square" not in text and "math.isclose" not in text, page
    overrider = graded["course"] / "autograder" / "feedback" / "overrider" / LAB / f"{LAB}.html"
    assert "ex 9.1: wrong for negative numbers" in overrider.read_text(encoding="utf-8")


def test_the_gradebook_has_each_student_once_with_every_grade(graded: dict) -> None:
    db = sqlite3.connect(graded["course"] / "autograder" / "gradebook.db")
    assert db.execute("select count(*), count(distinct student_id) from submitted_assignment").fetchone() == (20, 20)
    assert db.execute("select count(*) from grade").fetchone() == (20 * 4,)
    assert db.execute("select count(*) from grade where auto_score is null").fetchone()[0] >= 1


def test_the_report_is_written(graded: dict) -> None:
    results = graded["course"] / "autograder" / "results" / LAB
    assert (results / "report.png").read_bytes().startswith(b"\x89PNG")
    assert "t-square" in (results / "report.html").read_text()


def test_a_rerun_grades_only_what_changed_and_yields_the_same_grades(graded: dict, capsys) -> None:
    results = graded["course"] / "autograder" / "results" / LAB
    before = (results / "grades.csv").read_bytes()
    (results / "state" / "correct.json").unlink()       # as if the run had been killed before it
    capsys.readouterr()
    assert grade(graded["submissions"], graded["course"], LAB, *OPTIONS) == 0
    assert "1 to grade" in capsys.readouterr().out
    assert (results / "grades.csv").read_bytes() == before
    nb = nbformat.read(graded["course"] / "autograder" / "autograded" / "correct" / LAB / f"{LAB}.ipynb", as_version=4)
    assert any("hidden_probe_square" in c.source for c in nb.cells)
