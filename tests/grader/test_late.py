"""Submission times from nbgrader's timestamp.txt and LMS names; due dates and late penalties as nbgrader's."""
from __future__ import annotations

import argparse
import os
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from coursetool.grade.course.gradebook import course_id
from coursetool.grade.intake.late import Lateness, parse_due, penalty
from coursetool.grade.intake.discovery import discover
from tests.grader import corpus
from tests.grader.support import grade, grade_rows

LAB = "gradelab"
DUE = "2025-03-01 17:00 UTC"


def stamp(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timestamp.txt").write_text(text)


def notebook(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


def test_times_come_from_timestamp_files_and_lms_names_never_from_file_times(tmp_path: Path) -> None:
    root = tmp_path / "class"
    notebook(root / "ann" / "lab1.ipynb")
    stamp(root / "ann", "2025-03-01 18:30:00.000000 UTC")
    notebook(root / "ben" / "lab1" / "lab1.ipynb")  # nbgrader's submitted/<student>/<lab>/ layout
    stamp(root / "ben" / "lab1", "2025-03-01 19:00:00 Europe/Paris")
    with zipfile.ZipFile(notebook(root / "cat" / "x.txt").parent / "cat.zip", "w") as z:
        z.writestr("lab1.ipynb", "{}")
        z.writestr("timestamp.txt", "2025-02-28 09:15:00.5 UTC")
    notebook(root / "doejane_late_4411_9876_lab1.ipynb")
    notebook(root / "eve" / "lab1.ipynb")
    os.utime(root / "eve" / "lab1.ipynb", (2e9, 2e9))
    notebook(root / "fay" / "lab1.ipynb")
    stamp(root / "fay", "last tuesday, I think")
    found = {s.student: s for s in discover(root, "lab1", tmp_path / "staging")}
    assert found["ann"].submitted == datetime(2025, 3, 1, 18, 30)
    assert found["ben"].submitted == datetime(2025, 3, 1, 18, 0)
    assert found["cat"].submitted == datetime(2025, 2, 28, 9, 15, 0, 500000)
    assert found["doejane_4411"].late_per_lms and found["doejane_4411"].submitted is None
    assert found["eve"].submitted is None and not found["eve"].late_per_lms
    assert found["fay"].submitted is None and "timestamp.txt not understood" in found["fay"].note


def test_a_due_date_needs_its_time_zone() -> None:
    assert parse_due("2025-03-01 17:00 Europe/Paris") == datetime(2025, 3, 1, 16, 0)
    assert parse_due("2025-03-01T17:00+02:00") == datetime(2025, 3, 1, 15, 0)
    assert parse_due(DUE) == datetime(2025, 3, 1, 17, 0)
    for text in ("2025-03-01 17:00", "2025-03-01 17:00 Mars/Olympus", "soon"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_due(text)


def test_penalties_follow_nbgraders_methods() -> None:
    late, on_time = Lateness(seconds=60), Lateness()
    assert penalty("zero", 3.5, late) == 3.5 and penalty("zero", 3.5, on_time) is None
    assert penalty("none", 3.5, late) is None
    assert penalty("zero", 2.0, Lateness(per_lms=True)) == 2.0


def rows(course: Path) -> dict[str, dict[str, str]]:
    return grade_rows(course, LAB)


@pytest.mark.kernels
def test_late_submissions_lose_their_points_in_grades_csv_and_the_gradebook(course: Path, tmp_path: Path, capsys) -> None:
    submissions = tmp_path / "submissions"
    solved = corpus.solved(course, LAB)
    for student, time in {"early": "2025-03-01 16:59:59 UTC", "late": "2025-03-01 18:30:00 UTC"}.items():
        corpus.write(solved, submissions / student / f"{LAB}.ipynb")
        stamp(submissions / student, time)
    corpus.write(solved, submissions / "unknown" / f"{LAB}.ipynb")
    corpus.write(solved, submissions / f"doejane_late_4411_9876_{LAB}.ipynb")
    config = course / "autograder" / "nbgrader_config.py"
    config.write_text(config.read_text() + '\nc.LateSubmissionPlugin.penalty_method = "zero"\n')

    assert grade(submissions, course, LAB, "--due", DUE, "--jobs", "2") == 0
    found = rows(course)
    assert {s: (r["late_penalty"], r["total"]) for s, r in found.items()} == {
        "early": ("0", "4"), "late": ("4", "0"), "unknown": ("0", "4"), "doejane_4411": ("4", "0")}
    assert found["late"]["submitted"] == "2025-03-01 18:30:00 UTC" and found["unknown"]["submitted"] == ""
    assert found["late"]["reason"] == "submitted 1 h 30 min late: late penalty 4 point(s)"
    assert found["doejane_4411"]["reason"] == "marked late by the LMS (no time given): late penalty 4 point(s)"
    assert "due 2025-03-01 17:00:00 UTC; late penalty: zero" in capsys.readouterr().out
    autograder = course / "autograder"
    with Gradebook(f"sqlite:///{autograder / 'gradebook.db'}", course_id(autograder)) as gradebook:
        assert gradebook.find_assignment(LAB).duedate == datetime(2025, 3, 1, 17, 0)
        assert gradebook.find_submission(LAB, "late").total_seconds_late == 5400
        assert gradebook.find_submission_notebook(LAB, LAB, "late").late_submission_penalty == 4
        assert gradebook.find_submission_notebook(LAB, LAB, "early").late_submission_penalty is None

    assert grade(submissions, course, LAB, "--late-penalty", "none", "--jobs", "2") == 0
    assert "0 to grade" in capsys.readouterr().out
    found = rows(course)
    assert (found["late"]["late_penalty"], found["late"]["total"]) == ("0", "4")
    assert found["late"]["reason"] == "submitted 1 h 30 min late (no late penalty)"
