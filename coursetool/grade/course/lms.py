"""Grades for the LMS: a Canvas gradebook import file and a Moodle grade import file.

Canvas (``canvas.csv``, with ``--roster``): the columns of Canvas's gradebook export (``Student``,
``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``) and one column named after the assignment
holding the total; ``Notes``, saying what is not final, only where the export has Canvas's own
Notes column (Canvas takes any other column it does not know for a new assignment). What is not
final is listed in ``canvas-not-final.txt`` in any case. Roster rows are matched by the Canvas
user number our Canvas intake reads from file names (``smithalice_123`` is user 123), else by
SIS login or SIS user id equal to the student id. A roster student without a submission gets
no score (Canvas keeps what it has), or 0 with ``missing="zero"``.

Moodle (``moodle.csv``): ``User ID`` (the number in Moodle's download folder names, which our
Moodle intake keeps in the id: ``Alice_Smith_123``), ``Email address`` and ``ID number`` where
the roster gives them, ``Grade`` and ``Feedback`` (the feedback page's summary). Map them in
Moodle's "Import grades, CSV file" page.
"""
from __future__ import annotations

import csv
import enum
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from coursetool.grade.atomic import write_atomically
from coursetool.grade.course.report import Row
from coursetool.grade.lab import AutograderLab

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_NOTES = "Notes"
MOODLE_HEADER = ["User ID", "Student", "Email address", "ID number", "Grade", "Feedback"]
TRAILING_NUMBER = re.compile(r"_(\d+)$")
NOT_STUDENTS = {"points possible", "muted"}  # the rows under the header of a Canvas export


class Missing(str, enum.Enum):
    """What a roster student without a submission gets."""

    BLANK = "blank"
    ZERO = "zero"


class RosterError(Exception):
    """The roster is not a Canvas gradebook export."""


@dataclass(frozen=True)
class Grade:
    """One student's total and what is not final about it, as the LMS files state it."""

    student: str
    total: float
    maximum: float
    pending: tuple[str, ...] = ()       # written answers awaiting hand grading
    passed: int = 0
    tests: int = 0
    late_penalty: float = 0.0
    status: str = "graded"

    def summary(self) -> str:
        """The feedback page's summary in one line: score, tests, what awaits a grader, penalty."""
        parts = [f"Score: {self.total:g} / {self.maximum:g}.", f"Tests passed: {self.passed} of {self.tests}."]
        if self.pending:
            parts.append(f"Awaiting hand grading: {', '.join(self.pending)} (this score is not final).")
        if self.late_penalty:
            parts.append(f"Late penalty: {self.late_penalty:g} point(s).")
        if self.status != "graded":
            parts.append(f"Status: {self.status}.")
        return " ".join(parts)

    def note(self) -> str:
        return f"not final: awaiting hand grading of {', '.join(self.pending)}" if self.pending else ""


@dataclass
class RosterStudent:
    """One row of a Canvas gradebook export."""

    fields: dict[str, str]

    def value(self, column: str) -> str:
        return (self.fields.get(column) or "").strip()


@dataclass
class Matching:
    """Which roster row each grade belongs to, and what matched nothing."""

    rows: dict[int, Grade] = field(default_factory=dict)  # roster index -> grade
    unmatched: list[str] = field(default_factory=list)    # submissions with no roster row
    missing: list[str] = field(default_factory=list)      # roster students without a submission


def format_points(value: float) -> str:
    return f"{value:g}"


def read_roster(path: Path) -> tuple[list[str], list[RosterStudent]]:
    """A Canvas gradebook export: its header and its student rows (the "Points Possible" row left out)."""
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    if not {"Student", "ID"} <= set(header):
        raise RosterError(f"{path}: not a Canvas gradebook export (no 'Student' and 'ID' columns; found {header[:6]})")
    students = [RosterStudent(row) for row in reader
                if (row.get("Student") or "").strip().lower() not in NOT_STUDENTS and (row.get("ID") or "").strip()]
    return header, students


def lms_number(student: str) -> str | None:
    """The LMS user number at the end of an id from a Canvas or Moodle name (``smithalice_123``: 123)."""
    found = TRAILING_NUMBER.search(student)
    return found.group(1) if found else None


def roster_index(students: list[RosterStudent], student: str) -> int | None:
    """The roster row of a student id: by SIS login or SIS user id, else by Canvas user number."""
    for index, row in enumerate(students):
        if student.casefold() in {row.value("SIS Login ID").casefold(), row.value("SIS User ID").casefold()} - {""}:
            return index
    number = lms_number(student)
    return next((index for index, row in enumerate(students) if number and row.value("ID") == number), None)


def match(students: list[RosterStudent], grades: list[Grade]) -> Matching:
    matching = Matching()
    for grade in grades:
        index = roster_index(students, grade.student)
        if index is None or index in matching.rows:
            matching.unmatched.append(grade.student)
        else:
            matching.rows[index] = grade
    matching.missing = [row.value("Student") or row.value("ID") for index, row in enumerate(students)
                        if index not in matching.rows]
    return matching


def assignment_column(header: list[str], lab: str) -> str:
    """The roster's column for this lab (``lab1_autoencoders (4567)``), else a new column named after the lab."""
    for column in header[len(CANVAS_IDENTITY):]:
        if column.casefold().startswith(lab.casefold()):
            return column
    return lab


def canvas_csv(header: list[str], students: list[RosterStudent], matching: Matching, lab: str,
               missing: Missing = Missing.BLANK) -> bytes:
    """Canvas's gradebook import: identity columns, the assignment's total, and what is not final where the
    export has Canvas's Notes column."""
    column = assignment_column(header, lab)
    notes = CANVAS_NOTES in header
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CANVAS_IDENTITY, column] + ([CANVAS_NOTES] if notes else []))
    for index, row in enumerate(students):
        grade = matching.rows.get(index)
        if grade is not None:
            score, note = format_points(grade.total), grade.note()
        else:
            score = "0" if missing is Missing.ZERO else ""
            note = "no submission" + (": 0 given (--missing zero)" if missing is Missing.ZERO else "")
        writer.writerow([*(row.value(name) for name in CANVAS_IDENTITY), score] + ([note] if notes else []))
    return buffer.getvalue().encode("utf-8")


def moodle_csv(grades: list[Grade], students: list[RosterStudent] | None = None) -> bytes:
    """Moodle's CSV grade import: an identity column to map, the grade and the feedback summary."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MOODLE_HEADER)
    for grade in sorted(grades, key=lambda g: g.student):
        row = None
        if students:
            index = roster_index(students, grade.student)
            row = students[index] if index is not None else None
        email = row.value("Email address") or row.value("Email") if row else ""
        id_number = row.value("ID number") or row.value("SIS User ID") if row else ""
        writer.writerow([lms_number(grade.student) or "", grade.student, email, id_number, format_points(grade.total),
                         grade.summary()])
    return buffer.getvalue().encode("utf-8")


def grade_of(lab: AutograderLab, student: str, scores: dict[str, float | None], total: float, late_penalty: float,
             status: str) -> Grade:
    """A student's Grade from the cells' scores (None: a written answer awaiting hand grading)."""
    maximum = sum(c.points for c in lab.tests + lab.answers)
    pending = tuple(a.grade_id for a in lab.answers if scores.get(a.grade_id) is None)
    passed = sum(1 for t in lab.tests if (scores.get(t.grade_id) or 0) >= t.points)
    return Grade(student, total, maximum, pending, passed, len(lab.tests), late_penalty, status)


@dataclass(frozen=True)
class LmsOptions:
    """``--roster`` (a Canvas gradebook export) and what roster students without a submission get."""

    roster: Path | None = None
    missing: Missing = Missing.BLANK


@dataclass
class LmsFiles:
    """What was written, and the students that did not match."""

    written: list[Path] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    not_final: list[str] = field(default_factory=list)


def not_final_lines(students: list[RosterStudent], matching: Matching) -> list[str]:
    """One line per roster student whose total awaits hand grading."""
    return [f"{students[index].value('Student')} ({grade.student}): {grade.note()}"
            for index, grade in sorted(matching.rows.items()) if grade.pending]


def unmatched_text(matching: Matching) -> bytes:
    lines = [f"submission without a roster row: {s}" for s in matching.unmatched]
    lines += [f"roster student without a submission: {s}" for s in matching.missing]
    return ("\n".join(lines) + "\n" if lines else "").encode("utf-8")


def write_files(lab: AutograderLab, rows: list[Row], results_dir: Path, options: LmsOptions) -> LmsFiles:
    """``moodle.csv`` always; ``canvas.csv``, ``canvas-unmatched.txt`` and ``canvas-not-final.txt`` with a roster."""
    grades = [grade_of(lab, r.student, r.scores, r.total, r.late_penalty, r.status.value) for r in rows]
    files = LmsFiles()
    students = None
    if options.roster is not None:
        header, students = read_roster(options.roster)
        matching = match(students, grades)
        write_atomically(results_dir / "canvas.csv", canvas_csv(header, students, matching, lab.name, options.missing))
        write_atomically(results_dir / "canvas-unmatched.txt", unmatched_text(matching))
        files.not_final = not_final_lines(students, matching)
        write_atomically(results_dir / "canvas-not-final.txt",
                         "".join(line + "\n" for line in files.not_final).encode("utf-8"))
        files.written.append(results_dir / "canvas.csv")
        files.unmatched, files.missing = matching.unmatched, matching.missing
    write_atomically(results_dir / "moodle.csv", moodle_csv(grades, students))
    files.written.append(results_dir / "moodle.csv")
    return files
