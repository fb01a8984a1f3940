"""Lab 1 graded end to end: its solution gets every automatic point, its blank notebook none."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from coursetool.build import build_files
from coursetool.write import replace_outputs
from tests.grader import corpus
from tests.grader.conftest import grade

REPO = Path(__file__).resolve().parents[2]
LAB = "lab1_autoencoders"


@pytest.mark.slow
@pytest.mark.skipif(not (REPO / "source" / f"{LAB}.md").exists(), reason="lab 1 is not written yet")
def test_lab1_solution_and_blank(tmp_path: Path) -> None:
    course = tmp_path / "course"
    replace_outputs(course, build_files(REPO / "source"))
    submissions = tmp_path / "submissions"
    corpus.write(corpus.solved(course, LAB), submissions / "solution" / f"{LAB}.ipynb")
    corpus.write(corpus.release(course, LAB), submissions / "blank" / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB, "--jobs", "2") == 0
    with open(course / "autograder" / "results" / LAB / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    tests = [name for name in rows["solution"] if name.startswith("ex")]
    assert rows["solution"]["status"] == "graded" and rows["blank"]["status"] == "graded"
    assert all(float(rows["solution"][t]) > 0 for t in tests), rows["solution"]
    assert all(rows["blank"][t] == "0" for t in tests), rows["blank"]
