"""The class-level outputs of a real grading run of the fixture lab: Canvas and Moodle files, the
similarity analysis, ``--student`` and nbgrader's collect folder as intake."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from tests.grader import corpus
from tests.grader.support import grade, grade_rows, read_grades
from tests.grader.exchange_class import collect

pytestmark = pytest.mark.kernels  # starts kernels

LAB = "gradelab"
OPTIONS = ("--jobs", "2", "--cell-timeout", "10", "--memory", "1024", "--no-sandbox")  # no bwrap needed here
ROSTER = f"""Student,ID,SIS User ID,SIS Login ID,Section,{LAB} (4567)
    Points Possible,,,,,5
"Smith, Alice",123,S001,asmith,Section A,
"Lima, Ana",456,S002,alima,Section A,
"Okafor, Bo",789,S003,bokafor,Section B,
"""


def table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def canvas_class(course: Path, folder: Path) -> None:
    """Canvas's download names: Alice solved it, Ana handed in the blank notebook, one file has no roster row."""
    corpus.write(corpus.solved(course, LAB), folder / f"smithalice_123_9001_{LAB}.ipynb")
    corpus.write(corpus.release(course, LAB), folder / f"limaana_456_9002_{LAB}.ipynb")
    corpus.write(corpus.solved(course, LAB), folder / f"guest_999_9003_{LAB}.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, built_course: Path) -> dict:
    root = tmp_path_factory.mktemp("lms")
    course, submissions = root / "course", root / "submissions"
    shutil.copytree(built_course, course)
    canvas_class(course, submissions)
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    code = grade(submissions, course, LAB, *OPTIONS, "--roster", str(root / "roster.csv"))
    return {"code": code, "root": root, "course": course, "submissions": submissions,
            "results": course / "autograder" / "results" / LAB}


def test_canvas_file_has_the_totals_blank_for_the_missing_and_says_what_is_not_final(graded: dict):
    assert graded["code"] == 0
    rows = table(graded["results"] / "canvas.csv")
    assert list(rows[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{LAB} (4567)"]
    by_id = {row["ID"]: row for row in rows}
    assert by_id["123"][f"{LAB} (4567)"] == "4" and by_id["456"][f"{LAB} (4567)"] == "0"
    assert by_id["789"][f"{LAB} (4567)"] == ""
    not_final = (graded["results"] / "canvas-not-final.txt").read_text()
    assert "Smith, Alice (smithalice_123): not final: awaiting hand grading of q-why" in not_final
    assert "Lima" not in not_final  # the blank notebook answered nothing, so its 0 is final
    unmatched = (graded["results"] / "canvas-unmatched.txt").read_text()
    assert "guest_999" in unmatched and "Okafor, Bo" in unmatched


def test_moodle_file_has_grade_and_the_feedback_summary(graded: dict):
    rows = {row["Student"]: row for row in table(graded["results"] / "moodle.csv")}
    assert rows["smithalice_123"]["User ID"] == "123" and rows["smithalice_123"]["Grade"] == "4"
    assert "Awaiting hand grading: q-why (this score is not final)" in rows["smithalice_123"]["Feedback"]
    assert rows["limaana_456"]["Feedback"].startswith("Score: 0 / 5. Tests passed: 0 of 3.")


def test_similarity_runs_at_the_end_of_grading(graded: dict):
    text = (graded["results"] / "similarity.csv").read_text()
    # the fixture lab's solutions are three one-line formulas: too little code to pair anyone on
    assert text == "student_a,student_b,similarity,flagged,cells\n"
    assert "<h2>Similar submissions</h2>" in (graded["results"] / "report.html").read_text()


def test_missing_zero_gives_the_missing_zero(graded: dict):
    code = grade(graded["submissions"], graded["course"], LAB, *OPTIONS, "--roster", str(graded["root"] / "roster.csv"),
                 "--missing", "zero")
    assert code == 0
    by_id = {row["ID"]: row for row in table(graded["results"] / "canvas.csv")}
    assert by_id["789"][f"{LAB} (4567)"] == "0"


def test_one_student_regraded_alone_updates_every_output(graded: dict, capsys: pytest.CaptureFixture[str]):
    before = read_grades(graded["results"] / "grades.csv")
    corpus.write(corpus.solved(graded["course"], LAB), graded["submissions"] / f"limaana_456_9002_{LAB}.ipynb")
    capsys.readouterr()
    code = grade(graded["submissions"], graded["course"], LAB, *OPTIONS, "--student", "limaana_456",
                 "--roster", str(graded["root"] / "roster.csv"))
    assert code == 0 and "1 graded now, 2 from an earlier run" in capsys.readouterr().out
    after = read_grades(graded["results"] / "grades.csv")
    assert after["limaana_456"]["total"] == "4" and after["smithalice_123"] == before["smithalice_123"]
    assert {row["ID"]: row for row in table(graded["results"] / "canvas.csv")}["456"][f"{LAB} (4567)"] == "4"


def test_an_unknown_student_is_refused(graded: dict, capsys: pytest.CaptureFixture[str]):
    assert grade(graded["submissions"], graded["course"], LAB, *OPTIONS, "--student", "nobody") == 2
    assert "no submission for --student nobody" in capsys.readouterr().err


def test_nbgrader_collect_output_is_graded_with_its_timestamps(tmp_path: Path, course: Path):
    submitted = collect(tmp_path / "nbgrader", LAB, {"alice": corpus.solved(course, LAB),
                                                      "bob": corpus.release(course, LAB)})
    assert grade(submitted, course, LAB, *OPTIONS) == 0
    rows = grade_rows(course, LAB)
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"]["total"] == "4" and rows["bob"]["total"] == "0"
    stamp = (submitted / "alice" / LAB / "timestamp.txt").read_text()[:19]
    assert rows["alice"]["submitted"].startswith(stamp)
