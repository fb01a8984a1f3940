"""Written answers graded by hand reach the students' feedback without running anything again."""
from __future__ import annotations

from pathlib import Path

import pytest

from nbgrader.api import Gradebook

from coursetool.grade.course.gradebook import course_id
from tests.grader import corpus
from tests.grader.support import grade, grade_rows

pytestmark = pytest.mark.kernels  # starts kernels

LAB = "gradelab"
OPTIONS = ("--jobs", "2", "--cell-timeout", "20")
COMMENT = "Right: a square is a product of two numbers of the same sign."


def grade_by_hand(course: Path, student: str, points: float) -> None:
    """What a grader does in formgrader: a manual score and a comment on the written answer."""
    autograder = course / "autograder"
    with Gradebook(f"sqlite:///{autograder / 'gradebook.db'}", course_id(autograder)) as gradebook:
        gradebook.find_grade("q-why", LAB, LAB, student).manual_score = points
        gradebook.find_comment("q-why", LAB, LAB, student).manual_comment = COMMENT
        gradebook.db.commit()


def test_refresh_puts_manual_scores_and_comments_into_feedback(course: Path, tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    corpus.write(corpus.solved(course, LAB), submissions / "ana" / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, *OPTIONS) == 0
    page = course / "autograder" / "feedback" / "ana" / LAB / f"{LAB}.html"
    graded_at_first = page.read_text(encoding="utf-8")
    assert COMMENT not in graded_at_first

    grade_by_hand(course, "ana", 1)
    assert grade(submissions, course, LAB, *OPTIONS, "--refresh-feedback") == 0
    refreshed = page.read_text(encoding="utf-8")
    assert COMMENT in refreshed
    assert "hidden_probe_square" not in refreshed and "math.isclose" not in refreshed
    row = next(iter(grade_rows(course, LAB).values()))
    assert row["q-why"] == "1" and float(row["total"]) == 5.0
