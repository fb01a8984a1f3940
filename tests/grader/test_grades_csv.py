"""grades.csv as the report writes it: columns, numbers, blanks, order, quoting (no kernel)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from coursetool.grade.course.report import Row, grades_csv
from coursetool.grade.lab import AutograderLab
from coursetool.grade.result import Status
from tests.grader.support import read_grades

LAB = "gradelab"  # tests t-square (2), t-mean (1), t-double (1); written answer q-why (1)


@pytest.fixture
def lab(built_course: Path) -> AutograderLab:
    return AutograderLab(LAB, built_course / "autograder" / "source" / LAB)


def written(lab: AutograderLab, rows: list[Row], tmp_path: Path) -> dict[str, dict[str, str]]:
    path = tmp_path / "grades.csv"
    path.write_bytes(grades_csv(lab, rows))
    return read_grades(path)


def test_the_header_names_every_graded_cell_in_the_labs_order(lab: AutograderLab, tmp_path: Path):
    path = tmp_path / "grades.csv"
    path.write_bytes(grades_csv(lab, []))
    assert path.read_text().splitlines() == [
        "student_id,t-square,t-mean,t-double,q-why,submitted,late_penalty,total,max,status,reason"]


def test_a_row_holds_points_total_after_the_penalty_and_the_maximum(lab: AutograderLab, tmp_path: Path):
    moment = datetime(2025, 3, 1, 18, 30, tzinfo=timezone.utc)
    row = Row("ana", {"t-square": 2.0, "t-mean": 0.5, "t-double": 0.0, "q-why": 1.0}, Status.GRADED, "",
              submitted=moment, late_penalty=1.0)
    found = written(lab, [row], tmp_path)["ana"]
    assert (found["t-square"], found["t-mean"], found["t-double"], found["q-why"]) == ("2", "0.5", "0", "1")
    assert (found["late_penalty"], found["total"], found["max"]) == ("1", "2.5", "5")
    assert found["submitted"] == "2025-03-01 18:30:00 UTC" and found["status"] == "graded"


def test_a_written_answer_awaiting_a_grader_is_blank_not_zero(lab: AutograderLab, tmp_path: Path):
    row = Row("ben", {"t-square": 2.0, "t-mean": 1.0, "t-double": 1.0, "q-why": None}, Status.GRADED, "")
    found = written(lab, [row], tmp_path)["ben"]
    assert found["q-why"] == "" and found["total"] == "4" and found["submitted"] == ""


def test_rows_come_sorted_by_student_whatever_order_they_arrive_in(lab: AutograderLab, tmp_path: Path):
    rows = [Row(student, {}, Status.REJECTED, "no notebook") for student in ("zoe", "ana", "Mia")]
    assert list(written(lab, rows, tmp_path)) == ["Mia", "ana", "zoe"]


def test_a_reason_with_commas_quotes_and_newlines_stays_in_its_column(lab: AutograderLab, tmp_path: Path):
    reason = 'restored "t-mean", the cell\nwas edited; late, 1 h'
    row = Row("ana", {"t-square": 0.0}, Status.TIMEOUT, reason)
    found = written(lab, [row], tmp_path)["ana"]
    assert found["reason"] == reason and found["status"] == "timeout" and found["t-mean"] == ""
