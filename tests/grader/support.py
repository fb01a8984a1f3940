"""What the grader's tests share: running the command in this process, reading what it wrote."""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pytest

from coursetool.grade.command import register
from tests.conditions import sandbox_missing

FIXTURES = Path(__file__).parent / "fixtures"
needs_sandbox = pytest.mark.needs_sandbox  # checked when the test runs (tests/conditions.py)


def grade(submissions: Path, course: Path, lab: str, *options: str) -> int:
    """Run ``python -m coursetool grade`` in this process; skip the test where it would refuse for want of a sandbox."""
    if "--no-sandbox" not in options and "--scheduler" not in options:
        missing = sandbox_missing()
        if missing:
            pytest.skip(missing)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["grade", str(submissions), "--lab", lab, "--autograder", str(course / "autograder"), *options])
    return args.func(args)


def results_of(course: Path, lab: str) -> Path:
    """The folder of a lab's class outputs in a course folder."""
    return course / "autograder" / "results" / lab


def grade_rows(course: Path, lab: str) -> dict[str, dict[str, str]]:
    """The rows of a lab's ``grades.csv``, by student id, each as its columns' text."""
    return read_grades(results_of(course, lab) / "grades.csv")


def read_grades(path: Path) -> dict[str, dict[str, str]]:
    """The rows of a ``grades.csv``, by student id, in the file's order."""
    with open(path, newline="") as table:
        return {row["student_id"]: row for row in csv.DictReader(table)}
