"""Without bwrap the grader still runs, says so, and keeps its time limits."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.grader import corpus
from tests.grader.support import grade, grade_rows

pytestmark = pytest.mark.kernels  # starts kernels

LAB = "gradelab"


def test_grading_without_the_sandbox(course: Path, tmp_path: Path, capsys) -> None:
    submissions = tmp_path / "submissions"
    corpus.write(corpus.solved(course, LAB), submissions / "correct" / f"{LAB}.ipynb")
    corpus.write(corpus.with_prefix(course, LAB, "solution-1", "while True:\n    pass"), submissions / "loop" / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--no-sandbox", "--cell-timeout", "3", "--jobs", "2") == 0
    assert "WITHOUT the bwrap sandbox" in capsys.readouterr().err
    rows = grade_rows(course, LAB)
    assert rows["correct"]["total"] == "4" and rows["loop"]["status"] == "timeout" and rows["loop"]["total"] == "0"
