"""Canvas and Moodle import files from grades (no kernel runs)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from coursetool.grade.course import lms

ROSTER = """Student,ID,SIS User ID,SIS Login ID,Section,lab1_autoencoders (4567),Other lab (4568)
    Points Possible,,,,,20,10
"Smith, Alice",123,S001,asmith,Section A,,7
"Lima, Ana",456,S002,alima,Section A,,8
"Okafor, Bo",789,S003,bokafor,Section B,,
"""


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


GRADES = [lms.Grade("smithalice_123", 14.5, 20, ("q1-1",), 5, 6),
          lms.Grade("alima", 18, 20, (), 6, 6),
          lms.Grade("stranger_999", 3, 20, (), 1, 6)]


def test_canvas_file_matches_by_user_number_and_login_and_leaves_the_missing_blank(roster: Path):
    header, students = lms.read_roster(roster)
    matching = lms.match(students, GRADES)
    assert matching.unmatched == ["stranger_999"] and matching.missing == ["Okafor, Bo"]
    table = rows(lms.canvas_csv(header, students, matching, "lab1_autoencoders"))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "lab1_autoencoders (4567)"]
    assert table[1] == ["Smith, Alice", "123", "S001", "asmith", "Section A", "14.5"]
    assert table[2][5:] == ["18"] and table[3][5:] == [""]
    assert lms.not_final_lines(students, matching) == ["Smith, Alice (smithalice_123): not final: awaiting hand grading of q1-1"]


def test_canvas_notes_column_is_written_only_where_the_export_has_it(tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_text(ROSTER.replace("Other lab (4568)", "Other lab (4568),Notes").replace(",7\n", ",7,\n"), encoding="utf-8")
    header, students = lms.read_roster(path)
    table = rows(lms.canvas_csv(header, students, lms.match(students, GRADES), "lab1_autoencoders"))
    assert table[0][5:] == ["lab1_autoencoders (4567)", "Notes"]
    assert table[1][5:] == ["14.5", "not final: awaiting hand grading of q1-1"]
    assert table[2][5:] == ["18", ""] and table[3][5:] == ["", "no submission"]


def test_canvas_missing_zero_gives_zero(roster: Path):
    header, students = lms.read_roster(roster)
    table = rows(lms.canvas_csv(header, students, lms.match(students, GRADES), "lab1_autoencoders", lms.Missing.ZERO))
    assert table[3][5] == "0"


def test_a_new_assignment_column_is_named_after_the_lab(roster: Path):
    header, students = lms.read_roster(roster)
    assert rows(lms.canvas_csv(header, students, lms.match(students, GRADES), "lab4_elbo"))[0][5] == "lab4_elbo"


def test_a_file_that_is_not_a_canvas_export_is_refused(tmp_path: Path):
    (tmp_path / "x.csv").write_text("name,score\nalice,3\n")
    with pytest.raises(lms.RosterError):
        lms.read_roster(tmp_path / "x.csv")


def test_moodle_file_has_the_user_id_grade_and_the_feedback_summary():
    table = rows(lms.moodle_csv([lms.Grade("Alice_Smith_123", 14.5, 20, ("q1-1", "q1-3"), 5, 6, 2.0)]))
    assert table[0] == ["User ID", "Student", "Email address", "ID number", "Grade", "Feedback"]
    assert table[1][:5] == ["123", "Alice_Smith_123", "", "", "14.5"]
    assert table[1][5] == ("Score: 14.5 / 20. Tests passed: 5 of 6. Awaiting hand grading: q1-1, q1-3 "
                           "(this score is not final). Late penalty: 2 point(s).")
