"""A re-run grades again exactly when a setting that can change a grade or what a kernel sees has changed."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from coursetool.grade.notebook.runspec import grading_key
from coursetool.grade.settings import Settings
from tests.grader import corpus
from tests.grader.support import grade

LAB = "gradelab"


def to_grade(capsys: pytest.CaptureFixture[str]) -> int:
    return int(re.search(r"(\d+) to grade", capsys.readouterr().out)[1])


def test_the_key_covers_sandbox_settings_but_not_where_the_class_was_handed_in(tmp_path: Path) -> None:
    autograder = tmp_path / "autograder"
    (autograder / "source" / LAB).mkdir(parents=True)
    (autograder / "source" / LAB / f"{LAB}.ipynb").write_text("{}")
    base = Settings(lab=LAB, autograder=autograder, submissions=tmp_path / "a.zip")
    key = grading_key(base)
    assert grading_key(Settings(lab=LAB, autograder=autograder, submissions=tmp_path / "b.zip")) == key
    # each run draws its own probe seed: the students an interrupted run graded keep their grades on resuming
    assert grading_key(Settings(lab=LAB, autograder=autograder, submissions=tmp_path / "a.zip", probe_seed=12345)) == key
    changed = [Settings(lab=LAB, autograder=autograder, sandbox=False),
               Settings(lab=LAB, autograder=autograder, hidden_paths=(tmp_path / "secret",)),
               Settings(lab=LAB, autograder=autograder, data_root=tmp_path / "data"),
               Settings(lab=LAB, autograder=autograder, quick=False)]
    assert all(grading_key(settings) != key for settings in changed)


@pytest.mark.kernels
def test_changing_hidden_paths_or_the_sandbox_grades_again(course: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    submissions = tmp_path / "submissions"
    corpus.write(corpus.solved(course, LAB), submissions / "ana" / f"{LAB}.ipynb")
    assert grade(submissions, course, LAB) == 0 and to_grade(capsys) == 1
    assert grade(submissions, course, LAB) == 0 and to_grade(capsys) == 0
    assert grade(submissions, course, LAB, "--hide", str(tmp_path / "elsewhere")) == 0 and to_grade(capsys) == 1
    assert grade(submissions, course, LAB, "--hide", str(tmp_path / "elsewhere"), "--no-sandbox") == 0
    assert to_grade(capsys) == 1
